ALTER TABLE api_keys DROP COLUMN creator_user_id;
DROP TABLE memberships;
DROP TABLE users;
ALTER TABLE organization DROP CONSTRAINT organization_slug_format,
    DROP CONSTRAINT organization_slug_key, DROP COLUMN slug, DROP COLUMN archived_at;
ALTER TABLE organization ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE organization_id_seq;
