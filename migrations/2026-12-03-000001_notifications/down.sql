DROP TABLE report_deliveries;
DROP TABLE report_delivery_settings;
DROP TABLE notification_statuses;
DROP TABLE notification_log;
DROP TABLE notification_events;
DROP TABLE notification_settings;
DROP TABLE notification_recipients;
