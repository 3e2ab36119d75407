-- The health check's vendor freshness (GET /api/health, public): per vendor, the newest
-- successful collection run that read it, in any organization that is not archived.
-- Health enters no organization, so row-level security shows it no run; this answers
-- the one aggregate it needs (a time per vendor, nothing of any organization's own),
-- as the owner, like the look-ups of `row_level_security` and written the same way:
-- PL/pgSQL, every name schema-qualified, operators included.
DO $do$
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION qbr_vendor_last_success()
            RETURNS TABLE (vendor_key text, last_success timestamptz)
            LANGUAGE plpgsql STABLE SECURITY DEFINER
            AS $b$ BEGIN
                RETURN QUERY
                SELECT v.key, pg_catalog.max(l.finished_at)
                  FROM %1$I.qbr_collection_log l
                  JOIN %1$I.organization o ON o.id OPERATOR(pg_catalog.=) l.organization_id
                 CROSS JOIN LATERAL pg_catalog.unnest(l.vendors) AS v(key)
                 WHERE l.status OPERATOR(pg_catalog.=) 'success'::pg_catalog.text
                   AND l.finished_at IS NOT NULL
                   AND o.archived_at IS NULL
                 GROUP BY v.key;
            END $b$
    $f$, current_schema());
END
$do$;
REVOKE ALL ON FUNCTION qbr_vendor_last_success() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION qbr_vendor_last_success() TO qbr_app;
