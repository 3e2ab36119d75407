-- The role qbr_app stays: it belongs to the cluster, and other databases may use it.
DROP FUNCTION qbr_quickbooks_online_state_organization(bytea);
DROP FUNCTION qbr_qbwc_session_organization(bytea);
DROP FUNCTION qbr_api_key_by_hash(bytea);

DROP POLICY tenant_or_server_write ON audit_log;
DROP POLICY tenant_or_server_read ON audit_log;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'qbr_metrics_monthly', 'qbr_metric_history', 'qbr_smartnumbers', 'qbr_thresholds',
        'qbr_collection_log', 'qbr_device_snapshots', 'api_keys',
        'quickbooks_accounts', 'quickbooks_mappings', 'quickbooks_sync_history',
        'qbwc_sessions', 'quickbooks_backfill',
        'quickbooks_online_connections', 'quickbooks_online_states',
        'organization_vendor_settings'
    ] LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %I', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
DROP FUNCTION qbr_current_organization();

DO $$
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM qbr_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM qbr_app', current_schema());
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM qbr_app', current_schema());
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM qbr_app', current_schema());
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM qbr_app', current_schema());
END
$$;
