-- A client's revenue of a month may be below zero: a credit memo larger than the
-- month's billing (QuickBooks' sales by customer). Every other client metric counts
-- tickets, hours, devices or agreement amounts, never negative.
ALTER TABLE client_metric_values
    DROP CONSTRAINT client_metric_values_value_check,
    ADD CONSTRAINT client_metric_values_value_check CHECK (value >= 0 OR metric = 'revenue');
ALTER TABLE client_manual_values
    DROP CONSTRAINT client_manual_values_value_check,
    ADD CONSTRAINT client_manual_values_value_check CHECK (value >= 0 OR metric = 'revenue');
