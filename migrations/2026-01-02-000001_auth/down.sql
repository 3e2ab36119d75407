DROP INDEX IF EXISTS sessions_email;
DROP TABLE IF EXISTS login_states;
