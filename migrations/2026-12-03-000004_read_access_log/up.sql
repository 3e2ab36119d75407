-- Who read what: every authorized read of an organization's data (endpoint, period,
-- user or API key), kept 90 days, as compliance asks of the reference system. Written
-- in batches by the server (`http::read_log`); append-only for the server's role.
CREATE TABLE read_access_log (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    actor            TEXT NOT NULL,
    via              VARCHAR(16) NOT NULL CHECK (via IN ('session', 'api_key')),
    endpoint         TEXT NOT NULL,
    period           TEXT,
    status           SMALLINT NOT NULL,
    ip               TEXT,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX read_access_log_newest ON read_access_log (organization_id, occurred_at DESC);

ALTER TABLE read_access_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON read_access_log
    USING (organization_id = qbr_current_organization())
    WITH CHECK (organization_id = qbr_current_organization());
-- Rows are added and, past 90 days, deleted; never changed.
REVOKE UPDATE ON read_access_log FROM qbr_app;
