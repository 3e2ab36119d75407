DROP FUNCTION qbr_vendor_last_success();
