-- Microsoft sign-ins in progress: the state (hashed), PKCE verifier and nonce of a
-- login, kept in the database so any replica can finish it; single use, short-lived.
CREATE TABLE login_states (
    state_hash     BYTEA PRIMARY KEY,
    pkce_verifier  TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_states_expires ON login_states (expires_at);
CREATE INDEX sessions_email ON sessions (lower(email));
