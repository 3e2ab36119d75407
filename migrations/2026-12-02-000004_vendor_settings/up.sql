-- Each organization's vendor credentials (issue 14): the variables of one vendor
-- (CONNECTWISE_URL, ..., as `qbr collect` reads them from the environment) as one JSON
-- object sealed with QBR_SECRET_KEY (AES-256-GCM; the purpose names the organization
-- and vendor, so a value copied to another row does not open).
CREATE TABLE organization_vendor_settings (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    vendor           VARCHAR(32) NOT NULL,
    sealed           BYTEA NOT NULL,
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, vendor)
);
