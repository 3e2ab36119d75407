ALTER FUNCTION qbr_api_key_by_hash(bytea) RESET enable_seqscan;
