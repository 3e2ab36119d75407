-- Insight (issue: anomalies, forecast, health score, goals, summary).
--
-- The health score's section weights are an organization setting: NULL is the
-- documented defaults (Profit 30, Operations 25, Revenue 20, Leverage 15, Sales 10),
-- else an object of the five weights (checked by the server, 0–100 each).
ALTER TABLE organization
    ADD COLUMN health_weights JSONB
        CONSTRAINT organization_health_weights_object
        CHECK (health_weights IS NULL OR jsonb_typeof(health_weights) = 'object');

-- A target for a SmartNumber over a quarter (`2026-Q3`) or a year (`2026`), set by the
-- owners; every change is audited.
CREATE TABLE goals (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    smartnumber      VARCHAR(64) NOT NULL,
    period           VARCHAR(7) NOT NULL CHECK (period ~ '^[0-9]{4}(-Q[1-4])?$'),
    target           NUMERIC(30, 10) NOT NULL,
    set_by           TEXT NOT NULL,
    set_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, smartnumber, period)
);

ALTER TABLE goals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON goals
    USING (organization_id = qbr_current_organization())
    WITH CHECK (organization_id = qbr_current_organization());

-- Answers built from goals (the summary, the cards' progress) are cached by the
-- organization's data version, as those built from thresholds are.
CREATE TRIGGER goals_inserted AFTER INSERT ON goals
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER goals_updated AFTER UPDATE ON goals
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
CREATE TRIGGER goals_deleted AFTER DELETE ON goals
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION qbr_bump_data_version();
