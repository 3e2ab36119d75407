-- QuickBooks: the accounts its profit-and-loss reports name, where each one goes, the
-- reports as received (so a mapping change is replayed without QuickBooks), the Web
-- Connector's sessions, and a pending request for more history.

-- Syncs from the Web Connector and mapping changes are collection runs too.
ALTER TABLE qbr_collection_log DROP CONSTRAINT qbr_collection_log_trigger_check;
ALTER TABLE qbr_collection_log ADD CONSTRAINT qbr_collection_log_trigger_check
    CHECK (trigger IN ('schedule', 'cli', 'api', 'web_connector', 'remap'));

-- Every account a report showed, with the section it appeared in.
CREATE TABLE quickbooks_accounts (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    full_name        TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 1000),
    section          VARCHAR(16) NOT NULL
                     CHECK (section IN ('income', 'cogs', 'expense', 'other_income', 'other_expense')),
    first_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, full_name)
);

-- An account (and its sub-accounts without a mapping of their own) → a metric, or
-- ignored with a reason. Accounts without one follow the default rules.
CREATE TABLE quickbooks_mappings (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    account          TEXT NOT NULL CHECK (length(account) BETWEEN 1 AND 1000),
    target           VARCHAR(32) NOT NULL CHECK (target IN (
                         'nrr', 'mrr', 'orr', 'product_sales', 'misc_revenue',
                         'employee_expense', 'owner_comp_taxes', 'owner_comp',
                         'product_cogs', 'other_expenses', 'ignore')),
    reason           TEXT CHECK (reason IS NULL OR length(reason) <= 500),
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, account)
);

-- Every report received, parsed (`report`: months, accounts' own amounts, section
-- totals) and as it came (`raw`).
CREATE TABLE quickbooks_sync_history (
    id                 BIGSERIAL PRIMARY KEY,
    organization_id    INTEGER NOT NULL REFERENCES organization (id),
    source             VARCHAR(16) NOT NULL CHECK (source IN ('desktop', 'online')),
    received_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    from_month         VARCHAR(7) NOT NULL CHECK (from_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    to_month           VARCHAR(7) NOT NULL CHECK (to_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    report             JSONB NOT NULL,
    raw                TEXT NOT NULL,
    active_employees   INTEGER,
    closing_date       DATE,
    -- Months whose mapped and ignored accounts did not add up to the report's totals.
    unreconciled       JSONB NOT NULL DEFAULT '[]',
    collection_run_id  BIGINT REFERENCES qbr_collection_log (id)
);
CREATE INDEX quickbooks_sync_history_org ON quickbooks_sync_history (organization_id, id DESC);

-- A Web Connector session: the ticket's hash, the requests planned at authenticate,
-- the answers received so far (nothing is stored as data until the last one arrived).
CREATE TABLE qbwc_sessions (
    ticket_hash      BYTEA PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    username         TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at        TIMESTAMPTZ,
    company_file     TEXT,
    requests         JSONB NOT NULL,
    answers          JSONB NOT NULL DEFAULT '[]',
    last_error       TEXT
);
CREATE INDEX qbwc_sessions_org ON qbwc_sessions (organization_id, created_at DESC);

-- More history asked for (CLI or Settings): the next Web Connector run reads from
-- this month, then the request is cleared.
CREATE TABLE quickbooks_backfill (
    organization_id  INTEGER PRIMARY KEY REFERENCES organization (id),
    from_month       VARCHAR(7) NOT NULL CHECK (from_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    requested_by     TEXT NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
