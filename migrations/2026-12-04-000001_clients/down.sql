DROP TABLE client_manual_values;
DROP TABLE client_ticket_breakdown;
DROP TABLE client_metric_values;
DROP TABLE client_vendor_entities;
DROP TABLE clients;
ALTER TABLE organization DROP COLUMN loaded_cost_per_hour;
