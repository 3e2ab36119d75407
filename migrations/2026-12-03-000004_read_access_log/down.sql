DROP TABLE read_access_log;
