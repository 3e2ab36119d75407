DROP TRIGGER qbr_metrics_monthly_deleted ON qbr_metrics_monthly;
DROP TRIGGER qbr_metrics_monthly_updated ON qbr_metrics_monthly;
DROP TRIGGER qbr_metrics_monthly_inserted ON qbr_metrics_monthly;
DROP FUNCTION qbr_bump_data_version();
ALTER TABLE organization DROP COLUMN data_version;
