-- QuickBooks Online: the connected company of an organization (its tokens sealed with
-- QBR_SECRET_KEY, never in clear) and the connections started at Intuit's consent page
-- and not yet back.

CREATE TABLE quickbooks_online_connections (
    organization_id     INTEGER PRIMARY KEY REFERENCES organization (id),
    -- The company's id at Intuit (digits), in every API path.
    realm_id            VARCHAR(32) NOT NULL CHECK (realm_id ~ '^[0-9]{1,32}$'),
    -- AES-256-GCM: version byte, nonce, ciphertext and tag (`online::crypto`).
    access_token        BYTEA NOT NULL CHECK (octet_length(access_token) > 29),
    access_expires_at   TIMESTAMPTZ NOT NULL,
    refresh_token       BYTEA NOT NULL CHECK (octet_length(refresh_token) > 29),
    refresh_expires_at  TIMESTAMPTZ NOT NULL,
    connected_by        TEXT NOT NULL,
    connected_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When Intuit last issued tokens (connect or refresh).
    tokens_issued_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sync_at        TIMESTAMPTZ,
    -- Why the last sync failed; cleared by the next one that succeeds.
    last_error          TEXT
);

-- A connect started by a signed-in user: the state's hash (the state itself went to
-- Intuit and comes back once), good for 10 minutes, deleted when used.
CREATE TABLE quickbooks_online_states (
    state_hash       BYTEA PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    requested_by     TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX quickbooks_online_states_expiry ON quickbooks_online_states (expires_at);
