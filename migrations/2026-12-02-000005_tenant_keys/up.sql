-- Keys ready for sharding by organization (docs/MULTITENANCY.md): every tenant table's
-- primary key leads with organization_id, the column Citus distributes the tables by,
-- and so does the one foreign key between tenant tables. A shard then holds whole
-- organizations, and each key is checked on the shard that holds its rows. Unique
-- constraints already include organization_id. audit_log keeps its key: its sign-in
-- rows have no organization (it stays on the coordinator).

ALTER TABLE quickbooks_sync_history
    DROP CONSTRAINT quickbooks_sync_history_collection_run_id_fkey;

ALTER TABLE qbr_metrics_monthly DROP CONSTRAINT qbr_metrics_monthly_pkey,
    ADD CONSTRAINT qbr_metrics_monthly_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE qbr_metric_history DROP CONSTRAINT qbr_metric_history_pkey,
    ADD CONSTRAINT qbr_metric_history_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE qbr_smartnumbers DROP CONSTRAINT qbr_smartnumbers_pkey,
    ADD CONSTRAINT qbr_smartnumbers_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE qbr_thresholds DROP CONSTRAINT qbr_thresholds_pkey,
    ADD CONSTRAINT qbr_thresholds_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_pkey,
    ADD CONSTRAINT qbr_collection_log_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE qbr_device_snapshots DROP CONSTRAINT qbr_device_snapshots_pkey,
    ADD CONSTRAINT qbr_device_snapshots_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey,
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (organization_id, id);
ALTER TABLE quickbooks_sync_history DROP CONSTRAINT quickbooks_sync_history_pkey,
    ADD CONSTRAINT quickbooks_sync_history_pkey PRIMARY KEY (organization_id, id);

-- Looked up by their secret's hash before the organization is known: the hash keeps
-- an index of its own (not unique: a unique index must include the distribution
-- column; 256 random bits do not collide).
ALTER TABLE qbwc_sessions DROP CONSTRAINT qbwc_sessions_pkey,
    ADD CONSTRAINT qbwc_sessions_pkey PRIMARY KEY (organization_id, ticket_hash);
CREATE INDEX qbwc_sessions_ticket ON qbwc_sessions (ticket_hash);
ALTER TABLE quickbooks_online_states DROP CONSTRAINT quickbooks_online_states_pkey,
    ADD CONSTRAINT quickbooks_online_states_pkey PRIMARY KEY (organization_id, state_hash);
CREATE INDEX quickbooks_online_states_state ON quickbooks_online_states (state_hash);

ALTER TABLE quickbooks_sync_history
    ADD CONSTRAINT quickbooks_sync_history_collection_run_fkey
    FOREIGN KEY (organization_id, collection_run_id)
    REFERENCES qbr_collection_log (organization_id, id);
