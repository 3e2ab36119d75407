-- The MSP's logo (issue: per-client QBR, "the MSP's name and logo, uploaded on
-- Settings"), drawn in the header of the client report. One per organization, kept
-- as uploaded: a PNG or JPEG the server decoded in full before storing it, so a
-- report never meets an image it can't read. `sha256` (hex) is the download's ETag.
CREATE TABLE organization_logos (
    organization_id  INTEGER PRIMARY KEY REFERENCES organization (id),
    content_type     VARCHAR(16) NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    image            BYTEA NOT NULL CHECK (octet_length(image) BETWEEN 1 AND 524288),
    width            INTEGER NOT NULL CHECK (width BETWEEN 1 AND 4000),
    height           INTEGER NOT NULL CHECK (height BETWEEN 1 AND 4000),
    sha256           TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by      TEXT NOT NULL,
    uploaded_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A tenant table: its rows are the entered organization's (not forced: the owner,
-- as for every tenant table, sees every row).
ALTER TABLE organization_logos ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organization_logos
    USING (organization_id = qbr_current_organization())
    WITH CHECK (organization_id = qbr_current_organization());
