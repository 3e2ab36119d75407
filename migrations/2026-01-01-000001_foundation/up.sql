-- Foundation schema of the QBR Dashboard.
-- Periods are strings ('2025-01', '2025-Q1', '2025'); timestamps are UTC (timestamptz).

CREATE TABLE organization (
    id                        INTEGER PRIMARY KEY,
    name                      TEXT NOT NULL,
    timezone                  TEXT NOT NULL DEFAULT 'America/Chicago',
    working_hours_per_tech    NUMERIC(8, 2) NOT NULL DEFAULT 167 CHECK (working_hours_per_tech > 0),
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO organization (id, name, timezone, working_hours_per_tech)
VALUES (1, 'Enersystems, LLC', 'America/Chicago', 167);

CREATE TABLE vendor (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO vendor (id, name) VALUES (1, 'manual'), (2, 'NinjaOne'), (3, 'ConnectWise'), (4, 'QuickBooks');

-- One value per organization, month and metric.
CREATE TABLE qbr_metrics_monthly (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    period           VARCHAR(7) NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    metric_name      VARCHAR(64) NOT NULL,
    metric_value     NUMERIC(20, 6) NOT NULL,
    vendor_id        INTEGER NOT NULL REFERENCES vendor (id),
    data_source      VARCHAR(12) NOT NULL CHECK (data_source IN ('collected', 'manual', 'imported', 'calculated')),
    flags            TEXT[] NOT NULL DEFAULT '{}',
    notes            TEXT,
    entered_by       TEXT,
    collected_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT qbr_metrics_monthly_unique UNIQUE (organization_id, period, metric_name)
);
CREATE INDEX qbr_metrics_monthly_period_metric ON qbr_metrics_monthly (period, metric_name);
CREATE INDEX qbr_metrics_monthly_vendor_period ON qbr_metrics_monthly (vendor_id, period);

-- Every change of a monthly value: nothing is silently lost.
CREATE TABLE qbr_metric_history (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    period           VARCHAR(7) NOT NULL,
    metric_name      VARCHAR(64) NOT NULL,
    old_value        NUMERIC(20, 6),
    new_value        NUMERIC(20, 6),
    old_data_source  VARCHAR(12),
    new_data_source  VARCHAR(12),
    changed_by       TEXT NOT NULL,
    changed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    notes            TEXT
);
CREATE INDEX qbr_metric_history_lookup ON qbr_metric_history (organization_id, period, metric_name, changed_at DESC);

-- SmartNumbers per month, quarter and year, recomputed whenever an input changes.
CREATE TABLE qbr_smartnumbers (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    period           VARCHAR(7) NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
    kpi_name         VARCHAR(64) NOT NULL,
    kpi_value        NUMERIC(30, 10),
    missing_inputs   TEXT[] NOT NULL DEFAULT '{}',
    null_reason      TEXT,
    months_counted   INTEGER NOT NULL,
    calculated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT qbr_smartnumbers_unique UNIQUE (period, kpi_name, organization_id)
);
CREATE INDEX qbr_smartnumbers_org_period ON qbr_smartnumbers (organization_id, period);

-- Green/yellow bands per SmartNumber and organization (null = open end).
CREATE TABLE qbr_thresholds (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    metric_name      VARCHAR(64) NOT NULL,
    green_min        NUMERIC(30, 10),
    green_max        NUMERIC(30, 10),
    yellow_min       NUMERIC(30, 10),
    yellow_max       NUMERIC(30, 10),
    updated_by       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT qbr_thresholds_unique UNIQUE (organization_id, metric_name)
);
CREATE INDEX qbr_thresholds_metric ON qbr_thresholds (metric_name);
INSERT INTO qbr_thresholds (organization_id, metric_name, green_min, green_max, yellow_min, yellow_max, updated_by) VALUES
    (1, 'tickets_per_tech_per_month',      40,     60,   30,     70,   'seed'),
    (1, 'total_close_pct',                 0.95,   1.05, 0.90,   1.10, 'seed'),
    (1, 'tickets_per_endpoint_per_month',  NULL,   0.30, NULL,   0.45, 'seed'),
    (1, 'rhem',                            NULL,   0.20, NULL,   0.30, 'seed'),
    (1, 'avg_resolution_time',             NULL,   1.0,  NULL,   1.5,  'seed'),
    (1, 'reactive_service_pct',            NULL,   0.15, NULL,   0.25, 'seed'),
    (1, 'net_profit_pct',                  0.20,   NULL, 0.10,   NULL, 'seed'),
    (1, 'revenue_from_services_pct',       0.70,   NULL, 0.60,   NULL, 'seed'),
    (1, 'services_from_mrr_pct',           0.80,   NULL, 0.70,   NULL, 'seed'),
    (1, 'annual_service_rev_per_employee', 150000, NULL, 120000, NULL, 'seed'),
    (1, 'annual_service_rev_per_tech',     200000, NULL, 160000, NULL, 'seed'),
    (1, 'avg_aisp',                        125,    NULL, 100,    NULL, 'seed'),
    (1, 'avg_mrr_per_agreement',           1500,   NULL, 1000,   NULL, 'seed'),
    (1, 'net_mrr_gain',                    0,      NULL, -2000,  NULL, 'seed'),
    (1, 'dials_per_appointment',           NULL,   25,   NULL,   40,   'seed'),
    (1, 'sales_call_close_pct',            0.30,   NULL, 0.20,   NULL, 'seed');

-- One row per collection run (filled by the collectors).
CREATE TABLE qbr_collection_log (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    trigger          VARCHAR(16) NOT NULL CHECK (trigger IN ('schedule', 'cli', 'api')),
    status           VARCHAR(16) NOT NULL CHECK (status IN ('running', 'success', 'failed', 'refused')),
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    months           TEXT[] NOT NULL DEFAULT '{}',
    vendors          TEXT[] NOT NULL DEFAULT '{}',
    error            TEXT,
    duration_ms      BIGINT,
    request_count    INTEGER NOT NULL DEFAULT 0,
    values_written   INTEGER NOT NULL DEFAULT 0,
    flags            JSONB NOT NULL DEFAULT '[]',
    drift            JSONB NOT NULL DEFAULT '[]',
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX qbr_collection_log_started ON qbr_collection_log (organization_id, started_at DESC);

-- NinjaOne only knows the present: one snapshot a day, a month's value is its last one.
CREATE TABLE qbr_device_snapshots (
    id                BIGSERIAL PRIMARY KEY,
    organization_id   INTEGER NOT NULL REFERENCES organization (id),
    snapshot_date     DATE NOT NULL,
    vendor_id         INTEGER NOT NULL REFERENCES vendor (id) DEFAULT 2,
    endpoints         INTEGER NOT NULL,
    seats             INTEGER NOT NULL,
    per_client        JSONB NOT NULL DEFAULT '[]',
    per_node_class    JSONB NOT NULL DEFAULT '{}',
    collected_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT qbr_device_snapshots_unique UNIQUE (organization_id, snapshot_date)
);

-- Server-side sessions: only the hash of the random id is stored.
CREATE TABLE sessions (
    id_hash       BYTEA PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_keys (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    name             TEXT NOT NULL,
    key_prefix       VARCHAR(16) NOT NULL,
    key_hash         BYTEA NOT NULL UNIQUE,
    scopes           TEXT[] NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at     TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  INTEGER REFERENCES organization (id),
    occurred_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor            TEXT NOT NULL,
    action           VARCHAR(64) NOT NULL,
    target           TEXT,
    details          JSONB NOT NULL DEFAULT '{}',
    ip               TEXT
);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at DESC);
