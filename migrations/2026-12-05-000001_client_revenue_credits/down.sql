DELETE FROM client_metric_values WHERE value < 0;
DELETE FROM client_manual_values WHERE value < 0;
ALTER TABLE client_metric_values
    DROP CONSTRAINT client_metric_values_value_check,
    ADD CONSTRAINT client_metric_values_value_check CHECK (value >= 0);
ALTER TABLE client_manual_values
    DROP CONSTRAINT client_manual_values_value_check,
    ADD CONSTRAINT client_manual_values_value_check CHECK (value >= 0);
