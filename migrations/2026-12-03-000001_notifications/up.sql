-- Notifications and scheduled report delivery (issue 15). Every table is an
-- organization's: row-level security like the migration `row_level_security`, keys
-- that lead with organization_id (docs/MULTITENANCY.md).

-- Who is told what: an email address, or a Teams or Slack incoming webhook whose URL
-- is sealed with QBR_SECRET_KEY (AES-256-GCM, the purpose names the organization and
-- the recipient) and shown only by its hint.
CREATE TABLE notification_recipients (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL NOT NULL,
    channel          VARCHAR(8) NOT NULL CHECK (channel IN ('email', 'teams', 'slack')),
    name             TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    email            TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    webhook_sealed   BYTEA CHECK (webhook_sealed IS NULL OR octet_length(webhook_sealed) > 29),
    webhook_hint     TEXT CHECK (webhook_hint IS NULL OR length(webhook_hint) <= 200),
    events           TEXT[] NOT NULL DEFAULT '{}' CHECK (events <@ ARRAY[
                         'collection_failed', 'collection_flags', 'drift',
                         'smartnumber_red', 'smartnumber_recovered', 'quickbooks_stale']::text[]),
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    CHECK ((channel = 'email') = (email IS NOT NULL)),
    CHECK ((channel = 'email') = (webhook_sealed IS NULL)),
    CHECK ((webhook_sealed IS NULL) = (webhook_hint IS NULL))
);

-- An organization's notification settings besides its recipients.
CREATE TABLE notification_settings (
    organization_id         INTEGER NOT NULL REFERENCES organization (id),
    quickbooks_stale_hours  INTEGER NOT NULL DEFAULT 48 CHECK (quickbooks_stale_hours BETWEEN 24 AND 720),
    updated_by              TEXT NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id)
);

-- The outbox: events raised where they happen (a collection run's end, the status
-- watch), delivered by the server's notification worker, never on the raiser's path.
CREATE TABLE notification_events (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL NOT NULL,
    event            VARCHAR(32) NOT NULL CHECK (event IN (
                         'collection_failed', 'collection_flags', 'drift',
                         'smartnumber_red', 'smartnumber_recovered', 'quickbooks_stale')),
    raised_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The organization's calendar day it was raised on (one message per type and day).
    day              DATE NOT NULL,
    summary          TEXT NOT NULL,
    details          JSONB NOT NULL DEFAULT '[]',
    -- A worker took it (another may take it again if this one died: after 10 minutes).
    claimed_at       TIMESTAMPTZ,
    processed_at     TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX notification_events_pending ON notification_events (organization_id, id)
    WHERE processed_at IS NULL;
CREATE INDEX notification_events_day ON notification_events (organization_id, event, day);

-- The sent-log: one row per recipient, event type and day (the once-a-day rule), with
-- how the message went; a failed one may be sent again by a later event that day.
CREATE TABLE notification_log (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL NOT NULL,
    recipient_id     BIGINT NOT NULL,
    event            VARCHAR(32) NOT NULL CHECK (event IN (
                         'collection_failed', 'collection_flags', 'drift',
                         'smartnumber_red', 'smartnumber_recovered', 'quickbooks_stale')),
    day              DATE NOT NULL,
    channel          VARCHAR(8) NOT NULL CHECK (channel IN ('email', 'teams', 'slack')),
    destination      TEXT NOT NULL,
    subject          TEXT NOT NULL,
    status           VARCHAR(8) NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    suppressed       INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, recipient_id, event, day)
);

-- The last status each SmartNumber was seen with, per granularity (the last closed
-- month, the last closed quarter): a change to or from red is an event.
CREATE TABLE notification_statuses (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    granularity      VARCHAR(8) NOT NULL CHECK (granularity IN ('month', 'quarter')),
    kpi_name         VARCHAR(64) NOT NULL,
    period           VARCHAR(7) NOT NULL,
    status           VARCHAR(8) NOT NULL CHECK (status IN ('green', 'yellow', 'red')),
    evaluated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, granularity, kpi_name)
);

-- The printable QBR report mailed on a day after each quarter closes (and monthly,
-- the quarter to date).
CREATE TABLE report_delivery_settings (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    enabled          BOOLEAN NOT NULL DEFAULT false,
    day              SMALLINT NOT NULL DEFAULT 5 CHECK (day BETWEEN 1 AND 28),
    hour             SMALLINT NOT NULL DEFAULT 7 CHECK (hour BETWEEN 0 AND 23),
    monthly          BOOLEAN NOT NULL DEFAULT false,
    recipients       TEXT[] NOT NULL DEFAULT '{}',
    paper            VARCHAR(8) NOT NULL DEFAULT 'letter' CHECK (paper IN ('letter', 'a4')),
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id)
);

-- Each scheduled report to each address, once: what was sent, and what failed.
CREATE TABLE report_deliveries (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL NOT NULL,
    kind             VARCHAR(10) NOT NULL CHECK (kind IN ('quarterly', 'monthly')),
    period           VARCHAR(7) NOT NULL,
    quarter          VARCHAR(7) NOT NULL,
    email            TEXT NOT NULL,
    status           VARCHAR(8) NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, kind, period, email)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'notification_recipients', 'notification_settings', 'notification_events',
        'notification_log', 'notification_statuses', 'report_delivery_settings',
        'report_deliveries'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (organization_id = qbr_current_organization()) '
            'WITH CHECK (organization_id = qbr_current_organization())', t);
    END LOOP;
END
$$;
