DROP TABLE quickbooks_backfill;
DROP TABLE qbwc_sessions;
DROP TABLE quickbooks_sync_history;
DROP TABLE quickbooks_mappings;
DROP TABLE quickbooks_accounts;
DELETE FROM qbr_collection_log WHERE trigger IN ('web_connector', 'remap');
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_trigger_check;
ALTER TABLE qbr_collection_log ADD CONSTRAINT qbr_collection_log_trigger_check
    CHECK (trigger IN ('schedule', 'cli', 'api'));
