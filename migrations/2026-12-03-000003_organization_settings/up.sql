-- An organization's settings, changed on its Settings page (no SQL, no restart):
-- the NinjaOne organizations that are not clients (they were NINJA_EXCLUDED_ORGS, one
-- list for the whole server), and the nightly collection's on/off, time and zone. A
-- NULL time keeps the server's COLLECTOR_CRON; a NULL zone is the organization's.
ALTER TABLE organization
    ADD COLUMN excluded_device_orgs TEXT[] NOT NULL
        DEFAULT ARRAY['Ener Systems', 'Ener Systems, LLC', 'Internal Infrastructure', 'z_Terese Ashley'],
    ADD COLUMN collection_enabled BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN collection_time TEXT
        CONSTRAINT organization_collection_time_format
        CHECK (collection_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    ADD COLUMN collection_timezone TEXT;
