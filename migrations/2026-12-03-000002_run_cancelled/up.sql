-- A run started from the API (Collect now) can be cancelled while it reads the vendors:
-- it then ends as `cancelled`, having written nothing.
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_status_check;
ALTER TABLE qbr_collection_log ADD CONSTRAINT qbr_collection_log_status_check
    CHECK (status IN ('running', 'success', 'failed', 'refused', 'cancelled'));
