-- A counter per organization that moves with every change of its monthly values,
-- SmartNumbers or thresholds, so a server can keep answers built from them (the
-- months × metrics matrix, a period's SmartNumbers) in memory and know from the
-- organization row, which every request reads anyway, whether they are still current.
-- Bumped by statement-level triggers: every writer (API, import, collection, demo,
-- refresh job, SQL by hand) is covered, and a rolled-back write rolls the bump back.
ALTER TABLE organization ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION qbr_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization SET data_version = data_version + 1
     WHERE id IN (SELECT DISTINCT organization_id FROM changed_rows);
    RETURN NULL;
END
$$;

CREATE TRIGGER qbr_metrics_monthly_inserted AFTER INSERT ON qbr_metrics_monthly
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_metrics_monthly_updated AFTER UPDATE ON qbr_metrics_monthly
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_metrics_monthly_deleted AFTER DELETE ON qbr_metrics_monthly
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_smartnumbers_inserted AFTER INSERT ON qbr_smartnumbers
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_smartnumbers_updated AFTER UPDATE ON qbr_smartnumbers
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_smartnumbers_deleted AFTER DELETE ON qbr_smartnumbers
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_thresholds_inserted AFTER INSERT ON qbr_thresholds
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_thresholds_updated AFTER UPDATE ON qbr_thresholds
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER qbr_thresholds_deleted AFTER DELETE ON qbr_thresholds
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
