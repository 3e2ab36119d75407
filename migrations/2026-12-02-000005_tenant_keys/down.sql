ALTER TABLE quickbooks_sync_history DROP CONSTRAINT quickbooks_sync_history_collection_run_fkey;

DROP INDEX quickbooks_online_states_state;
ALTER TABLE quickbooks_online_states DROP CONSTRAINT quickbooks_online_states_pkey,
    ADD CONSTRAINT quickbooks_online_states_pkey PRIMARY KEY (state_hash);
DROP INDEX qbwc_sessions_ticket;
ALTER TABLE qbwc_sessions DROP CONSTRAINT qbwc_sessions_pkey,
    ADD CONSTRAINT qbwc_sessions_pkey PRIMARY KEY (ticket_hash);

ALTER TABLE quickbooks_sync_history DROP CONSTRAINT quickbooks_sync_history_pkey,
    ADD CONSTRAINT quickbooks_sync_history_pkey PRIMARY KEY (id);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey,
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);
ALTER TABLE qbr_device_snapshots DROP CONSTRAINT qbr_device_snapshots_pkey,
    ADD CONSTRAINT qbr_device_snapshots_pkey PRIMARY KEY (id);
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_pkey,
    ADD CONSTRAINT qbr_collection_log_pkey PRIMARY KEY (id);
ALTER TABLE qbr_thresholds DROP CONSTRAINT qbr_thresholds_pkey,
    ADD CONSTRAINT qbr_thresholds_pkey PRIMARY KEY (id);
ALTER TABLE qbr_smartnumbers DROP CONSTRAINT qbr_smartnumbers_pkey,
    ADD CONSTRAINT qbr_smartnumbers_pkey PRIMARY KEY (id);
ALTER TABLE qbr_metric_history DROP CONSTRAINT qbr_metric_history_pkey,
    ADD CONSTRAINT qbr_metric_history_pkey PRIMARY KEY (id);
ALTER TABLE qbr_metrics_monthly DROP CONSTRAINT qbr_metrics_monthly_pkey,
    ADD CONSTRAINT qbr_metrics_monthly_pkey PRIMARY KEY (id);

ALTER TABLE quickbooks_sync_history
    ADD CONSTRAINT quickbooks_sync_history_collection_run_id_fkey
    FOREIGN KEY (collection_run_id) REFERENCES qbr_collection_log (id);
