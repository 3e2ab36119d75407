ALTER TABLE organization
    DROP COLUMN collection_timezone,
    DROP COLUMN collection_time,
    DROP COLUMN collection_enabled,
    DROP COLUMN excluded_device_orgs;
