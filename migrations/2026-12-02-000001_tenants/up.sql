-- Several organizations, their users and roles (issue 14).

-- Organizations get a URL name (/o/{slug}/...), can be archived, and are numbered by a
-- sequence (the first one was inserted with id 1 by the foundation migration).
CREATE SEQUENCE organization_id_seq OWNED BY organization.id;
SELECT setval('organization_id_seq', (SELECT COALESCE(max(id), 0) + 1 FROM organization), false);
ALTER TABLE organization ALTER COLUMN id SET DEFAULT nextval('organization_id_seq');
ALTER TABLE organization
    ADD COLUMN slug        TEXT,
    ADD COLUMN archived_at TIMESTAMPTZ;
-- 'Enersystems, LLC' → 'enersystems-llc'; a clash gets the id appended.
UPDATE organization SET slug = trim(BOTH '-' FROM lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g')));
UPDATE organization SET slug = 'org-' || id WHERE slug = '';
UPDATE organization o SET slug = slug || '-' || id
 WHERE EXISTS (SELECT 1 FROM organization p WHERE p.slug = o.slug AND p.id < o.id);
UPDATE organization SET slug = left(slug, 40);
ALTER TABLE organization
    ALTER COLUMN slug SET NOT NULL,
    ADD CONSTRAINT organization_slug_key UNIQUE (slug),
    ADD CONSTRAINT organization_slug_format CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$');

-- People who may sign in: one row per email (lower case). Platform administrators
-- create, rename and archive organizations; what anyone sees inside an organization
-- comes from a membership.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
    name            TEXT,
    platform_admin  BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A user's role in an organization.
CREATE TABLE memberships (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    user_id          BIGINT NOT NULL REFERENCES users (id),
    role             VARCHAR(16) NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- The user who made an API key: the key works only while that user keeps a role in
-- the key's organization that allows what the key may do. NULL: made with the CLI by
-- whoever runs the server (or before users existed).
ALTER TABLE api_keys ADD COLUMN creator_user_id BIGINT REFERENCES users (id);
