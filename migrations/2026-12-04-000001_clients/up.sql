-- The MSP's clients across vendors (issue: per-client QBR).
--
-- A client is one row of `clients`. What collection sees of a vendor (a ConnectWise
-- company, a NinjaOne organization, a QuickBooks customer) is one row of
-- `client_vendor_entities`, linked to a client or not: linked by name when first seen
-- (`proposed`), by a person on the matching page (`confirmed`), `unmatched` (listed,
-- never dropped) or `internal` (on the organization's exclusion list).
--
-- Collected values are kept per vendor entity (`client_metric_values`): a client's
-- value is the sum over its linked entities, so linking again (a company merge, a
-- correction) needs no re-collection. Values typed in or imported for a client
-- (`client_manual_values`) win over collected ones and are never overwritten.
ALTER TABLE organization
    ADD COLUMN loaded_cost_per_hour NUMERIC(12, 2)
        CONSTRAINT organization_loaded_cost_positive CHECK (loaded_cost_per_hour > 0);

CREATE TABLE clients (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    id               BIGSERIAL,
    name             TEXT NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX clients_name ON clients (organization_id, lower(btrim(name)));

CREATE TABLE client_vendor_entities (
    organization_id  INTEGER NOT NULL REFERENCES organization (id),
    vendor_id        INTEGER NOT NULL REFERENCES vendor (id),
    external_id      TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 100),
    name             TEXT NOT NULL,
    client_id        BIGINT,
    status           VARCHAR(16) NOT NULL
                     CHECK (status IN ('proposed', 'confirmed', 'unmatched', 'internal')),
    confirmed_by     TEXT,
    confirmed_at     TIMESTAMPTZ,
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, vendor_id, external_id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id),
    -- A proposed link names its client; unmatched and internal entities have none; a
    -- person's confirmation may be either (linked, or "not a client of ours").
    CHECK ((status = 'proposed' AND client_id IS NOT NULL)
        OR (status IN ('unmatched', 'internal') AND client_id IS NULL)
        OR status = 'confirmed')
);
CREATE INDEX client_vendor_entities_client ON client_vendor_entities (organization_id, client_id);

CREATE TABLE client_metric_values (
    organization_id  INTEGER NOT NULL,
    vendor_id        INTEGER NOT NULL,
    external_id      TEXT NOT NULL,
    month            DATE NOT NULL CHECK (extract(day FROM month) = 1),
    metric           VARCHAR(40) NOT NULL,
    value            NUMERIC(20, 6) NOT NULL CHECK (value >= 0),
    collected_at     TIMESTAMPTZ NOT NULL,
    run_id           BIGINT,
    -- A closed month's value the vendor now reports differently (kept, not written).
    drift_value      NUMERIC(20, 6),
    drift_seen_at    TIMESTAMPTZ,
    PRIMARY KEY (organization_id, vendor_id, external_id, month, metric),
    FOREIGN KEY (organization_id, vendor_id, external_id)
        REFERENCES client_vendor_entities (organization_id, vendor_id, external_id)
);
CREATE INDEX client_metric_values_month ON client_metric_values (organization_id, month);

-- Tickets of a month by board, type and priority (the client report's categories).
CREATE TABLE client_ticket_breakdown (
    organization_id  INTEGER NOT NULL,
    vendor_id        INTEGER NOT NULL,
    external_id      TEXT NOT NULL,
    month            DATE NOT NULL CHECK (extract(day FROM month) = 1),
    dimension        VARCHAR(16) NOT NULL CHECK (dimension IN ('board', 'type', 'priority')),
    label            TEXT NOT NULL,
    tickets          INTEGER NOT NULL CHECK (tickets >= 0),
    PRIMARY KEY (organization_id, vendor_id, external_id, month, dimension, label),
    FOREIGN KEY (organization_id, vendor_id, external_id)
        REFERENCES client_vendor_entities (organization_id, vendor_id, external_id)
);

CREATE TABLE client_manual_values (
    organization_id  INTEGER NOT NULL,
    client_id        BIGINT NOT NULL,
    month            DATE NOT NULL CHECK (extract(day FROM month) = 1),
    metric           VARCHAR(40) NOT NULL,
    value            NUMERIC(20, 6) NOT NULL CHECK (value >= 0),
    source           VARCHAR(16) NOT NULL CHECK (source IN ('manual', 'imported')),
    entered_by       TEXT NOT NULL,
    entered_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, client_id, month, metric),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clients', 'client_vendor_entities', 'client_metric_values',
                             'client_ticket_breakdown', 'client_manual_values'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I
            USING (organization_id = qbr_current_organization())
            WITH CHECK (organization_id = qbr_current_organization())', t);
    END LOOP;
END
$$;
