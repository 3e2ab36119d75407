DROP TABLE client_thresholds;
