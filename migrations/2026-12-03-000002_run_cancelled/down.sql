UPDATE qbr_collection_log SET status = 'failed' WHERE status = 'cancelled';
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_status_check;
ALTER TABLE qbr_collection_log ADD CONSTRAINT qbr_collection_log_status_check
    CHECK (status IN ('running', 'success', 'failed', 'refused'));
