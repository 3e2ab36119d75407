-- Bands of the per-client numbers set by the organization: for every client
-- (client_id NULL) or for one client, over the built-in defaults
-- (`ClientNumber::default_bands`). A client's number is judged by its own row, else
-- the organization's, else the default.
CREATE TABLE client_thresholds (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL,
    client_id        BIGINT,
    number           VARCHAR(40) NOT NULL,
    green_min        NUMERIC(30, 10),
    green_max        NUMERIC(30, 10),
    yellow_min       NUMERIC(30, 10),
    yellow_max       NUMERIC(30, 10),
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id)
);
CREATE UNIQUE INDEX client_thresholds_one ON client_thresholds
    (organization_id, COALESCE(client_id, 0), number);

ALTER TABLE client_thresholds ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON client_thresholds
    USING (organization_id = qbr_current_organization())
    WITH CHECK (organization_id = qbr_current_organization());
