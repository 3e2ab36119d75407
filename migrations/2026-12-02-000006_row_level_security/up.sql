-- Row-level security (docs/MULTITENANCY.md): a tenant table shows and accepts only the
-- rows of the organization the connection has entered (`app.organization_id`, set by
-- the server per request, per transaction and per background job); none when it has
-- entered none. The server's queries filter by organization anyway: this is the second
-- wall, for the query that forgets to.
--
-- Owners and superusers are not subject to row-level security, and the login user that
-- runs these migrations is one or the other. So the server does not query as that user:
-- every pooled connection switches to the role `qbr_app` (`SET ROLE qbr_app`), which
-- owns nothing and has only the privileges granted here. Migrations, psql sessions of
-- the owner and the SECURITY DEFINER look-ups below still see every row.

-- The application role. Roles belong to the whole cluster: it may exist already (another
-- database of the cluster, or created by an administrator beforehand). Creating it needs
-- CREATEROLE, granting it to the owner needs CREATEROLE or ADMIN OPTION on it; an owner
-- made with plain `createuser` has neither, and an administrator runs, once:
--     CREATE ROLE qbr_app NOLOGIN;
--     GRANT qbr_app TO <owner>;
DO $$
DECLARE
    app record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qbr_app') THEN
        BEGIN
            CREATE ROLE qbr_app NOLOGIN;
        EXCEPTION
            -- Created meanwhile by a migration of another database of the cluster.
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'the role qbr_app does not exist and % may not create it: as a superuser, run once: CREATE ROLE qbr_app NOLOGIN; GRANT qbr_app TO %; then start qbr again (README, Production)',
                    current_user, quote_ident(current_user);
        END;
    END IF;
    SELECT rolsuper, rolbypassrls INTO app FROM pg_roles WHERE rolname = 'qbr_app';
    IF app.rolsuper OR app.rolbypassrls THEN
        RAISE EXCEPTION 'the role qbr_app must not be a superuser nor bypass row-level security: as a superuser, run: ALTER ROLE qbr_app NOSUPERUSER NOBYPASSRLS';
    END IF;
    -- A superuser may SET ROLE to any role; anyone else must be a member.
    IF NOT pg_has_role(current_user, 'qbr_app', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT qbr_app TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION '% is not a member of the role qbr_app and may not grant it: as a superuser, run once: GRANT qbr_app TO %; then start qbr again (README, Production)',
                current_user, quote_ident(current_user);
        END;
    END IF;
END
$$;

-- What the role may do: read and write the tables, not change them. The audit log is
-- append-only; vendors are read-only; the migrations' own table is not the server's.
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO qbr_app', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO qbr_app', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO qbr_app', current_schema());
    -- Tables of later migrations (run by the same user) get the same grants.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO qbr_app', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO qbr_app', current_schema());
END
$$;
REVOKE ALL ON __diesel_schema_migrations FROM qbr_app;
REVOKE INSERT, UPDATE, DELETE ON vendor FROM qbr_app;
REVOKE UPDATE, DELETE ON audit_log FROM qbr_app;

-- The organization the connection has entered; NULL when none (never set, or reset:
-- then the setting is '').
CREATE FUNCTION qbr_current_organization() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.organization_id', true), '')::integer $$;

-- Every tenant table but the audit log: its rows are the entered organization's. The
-- platform tables the auth guard reads before it knows the organization (organization,
-- vendor, sessions, login_states) have no policy.
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
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (organization_id = qbr_current_organization()) '
            'WITH CHECK (organization_id = qbr_current_organization())', t);
    END LOOP;
END
$$;

-- The audit log also holds the server's own events (sign-ins, sign-outs, expired
-- sessions), which belong to no organization: anyone may record one, and a signed-in
-- user's audit page lists them (`Events::OrganizationAndServer`). Nothing changes or
-- deletes an entry.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_or_server_read ON audit_log FOR SELECT
    USING (organization_id IS NULL OR organization_id = qbr_current_organization());
CREATE POLICY tenant_or_server_write ON audit_log FOR INSERT
    WITH CHECK (organization_id IS NULL OR organization_id = qbr_current_organization());

-- Look-ups by a secret's hash, before the organization is known: each answers only the
-- row of that hash (as the functions' owner, whom row-level security does not apply
-- to), so the caller can enter its organization. PL/pgSQL, which keeps its plan across
-- calls (an SQL function that is not inlined, as a SECURITY DEFINER one never is, plans
-- its query at every call: twice the database's time of an API-key request). Every name
-- in them is schema-qualified, operators included, so a caller's search_path can't
-- reroute them (a `SET search_path` clause would do the same at a cost on every call).
DO $do$
BEGIN
    -- An API key, with its organization (the auth guard, every request of a program).
    EXECUTE format($f$
        CREATE FUNCTION qbr_api_key_by_hash(bytea) RETURNS SETOF %1$I.api_keys
            LANGUAGE plpgsql STABLE SECURITY DEFINER
            AS $b$ BEGIN
                RETURN QUERY SELECT * FROM %1$I.api_keys WHERE key_hash OPERATOR(pg_catalog.=) $1;
            END $b$
        $f$, current_schema());
    -- The organization of a Web Connector session (every SOAP call carries its ticket).
    EXECUTE format($f$
        CREATE FUNCTION qbr_qbwc_session_organization(bytea) RETURNS integer
            LANGUAGE plpgsql STABLE SECURITY DEFINER
            AS $b$ BEGIN
                RETURN (SELECT organization_id FROM %1$I.qbwc_sessions
                         WHERE ticket_hash OPERATOR(pg_catalog.=) $1);
            END $b$
        $f$, current_schema());
    -- The organization of a started QuickBooks Online connect (Intuit's redirect back).
    EXECUTE format($f$
        CREATE FUNCTION qbr_quickbooks_online_state_organization(bytea) RETURNS integer
            LANGUAGE plpgsql STABLE SECURITY DEFINER
            AS $b$ BEGIN
                RETURN (SELECT organization_id FROM %1$I.quickbooks_online_states
                         WHERE state_hash OPERATOR(pg_catalog.=) $1);
            END $b$
        $f$, current_schema());
END
$do$;
REVOKE ALL ON FUNCTION qbr_api_key_by_hash(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION qbr_qbwc_session_organization(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION qbr_quickbooks_online_state_organization(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION qbr_api_key_by_hash(bytea) TO qbr_app;
GRANT EXECUTE ON FUNCTION qbr_qbwc_session_organization(bytea) TO qbr_app;
GRANT EXECUTE ON FUNCTION qbr_quickbooks_online_state_organization(bytea) TO qbr_app;
