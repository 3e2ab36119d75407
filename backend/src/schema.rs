//! Diesel table definitions, kept in step with `migrations/` by hand (and checked by
//! the test suite, which runs every query against the migrated schema, and compares
//! the primary keys here with the database's: `schema_agrees`). Every tenant table's
//! key leads with `organization_id` (docs/MULTITENANCY.md).
diesel::table! {
    organization (id) {
        id -> Int4,
        name -> Text,
        timezone -> Text,
        working_hours_per_tech -> Numeric,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        data_version -> Int8,
        slug -> Text,
        archived_at -> Nullable<Timestamptz>,
        excluded_device_orgs -> Array<Text>,
        collection_enabled -> Bool,
        collection_time -> Nullable<Text>,
        collection_timezone -> Nullable<Text>,
        loaded_cost_per_hour -> Nullable<Numeric>,
        health_weights -> Nullable<Jsonb>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Nullable<Text>,
        platform_admin -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (organization_id, user_id) {
        organization_id -> Int4,
        user_id -> Int8,
        role -> Varchar,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    vendor (id) {
        id -> Int4,
        name -> Text,
    }
}

diesel::table! {
    qbr_metrics_monthly (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        period -> Varchar,
        metric_name -> Varchar,
        metric_value -> Numeric,
        vendor_id -> Int4,
        data_source -> Varchar,
        flags -> Array<Text>,
        notes -> Nullable<Text>,
        entered_by -> Nullable<Text>,
        collected_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    qbr_metric_history (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        period -> Varchar,
        metric_name -> Varchar,
        old_value -> Nullable<Numeric>,
        new_value -> Nullable<Numeric>,
        old_data_source -> Nullable<Varchar>,
        new_data_source -> Nullable<Varchar>,
        changed_by -> Text,
        changed_at -> Timestamptz,
        notes -> Nullable<Text>,
    }
}

diesel::table! {
    qbr_smartnumbers (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        period -> Varchar,
        kpi_name -> Varchar,
        kpi_value -> Nullable<Numeric>,
        missing_inputs -> Array<Text>,
        null_reason -> Nullable<Text>,
        months_counted -> Int4,
        calculated_at -> Timestamptz,
    }
}

diesel::table! {
    qbr_thresholds (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        metric_name -> Varchar,
        green_min -> Nullable<Numeric>,
        green_max -> Nullable<Numeric>,
        yellow_min -> Nullable<Numeric>,
        yellow_max -> Nullable<Numeric>,
        updated_by -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    qbr_collection_log (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        trigger -> Varchar,
        status -> Varchar,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        months -> Array<Text>,
        vendors -> Array<Text>,
        error -> Nullable<Text>,
        duration_ms -> Nullable<Int8>,
        request_count -> Int4,
        values_written -> Int4,
        flags -> Jsonb,
        drift -> Jsonb,
        progress_done -> Int4,
        progress_total -> Int4,
    }
}

diesel::table! {
    qbr_device_snapshots (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        snapshot_date -> Date,
        vendor_id -> Int4,
        endpoints -> Int4,
        seats -> Int4,
        per_client -> Jsonb,
        per_node_class -> Jsonb,
        collected_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Bytea,
        email -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        name -> Text,
        key_prefix -> Varchar,
        key_hash -> Bytea,
        scopes -> Array<Text>,
        created_by -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        creator_user_id -> Nullable<Int8>,
    }
}

diesel::table! {
    login_states (state_hash) {
        state_hash -> Bytea,
        pkce_verifier -> Text,
        nonce -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        organization_id -> Nullable<Int4>,
        occurred_at -> Timestamptz,
        actor -> Text,
        action -> Varchar,
        target -> Nullable<Text>,
        details -> Jsonb,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    quickbooks_accounts (organization_id, full_name) {
        organization_id -> Int4,
        full_name -> Text,
        section -> Varchar,
        first_seen_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    quickbooks_mappings (organization_id, account) {
        organization_id -> Int4,
        account -> Text,
        target -> Varchar,
        reason -> Nullable<Text>,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    quickbooks_sync_history (organization_id, id) {
        id -> Int8,
        organization_id -> Int4,
        source -> Varchar,
        received_at -> Timestamptz,
        from_month -> Varchar,
        to_month -> Varchar,
        report -> Jsonb,
        raw -> Text,
        active_employees -> Nullable<Int4>,
        closing_date -> Nullable<Date>,
        unreconciled -> Jsonb,
        collection_run_id -> Nullable<Int8>,
    }
}

diesel::table! {
    qbwc_sessions (organization_id, ticket_hash) {
        ticket_hash -> Bytea,
        organization_id -> Int4,
        username -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        company_file -> Nullable<Text>,
        requests -> Jsonb,
        answers -> Jsonb,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    quickbooks_backfill (organization_id) {
        organization_id -> Int4,
        from_month -> Varchar,
        requested_by -> Text,
        requested_at -> Timestamptz,
    }
}

diesel::joinable!(qbr_metrics_monthly -> vendor (vendor_id));
diesel::allow_tables_to_appear_in_same_query!(
    organization,
    vendor,
    qbr_metrics_monthly,
    qbr_metric_history,
    qbr_smartnumbers,
    qbr_thresholds
);

diesel::table! {
    quickbooks_online_connections (organization_id) {
        organization_id -> Int4,
        realm_id -> Varchar,
        access_token -> Bytea,
        access_expires_at -> Timestamptz,
        refresh_token -> Bytea,
        refresh_expires_at -> Timestamptz,
        connected_by -> Text,
        connected_at -> Timestamptz,
        tokens_issued_at -> Timestamptz,
        last_sync_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    quickbooks_online_states (organization_id, state_hash) {
        state_hash -> Bytea,
        organization_id -> Int4,
        requested_by -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> organization (organization_id));
diesel::allow_tables_to_appear_in_same_query!(users, memberships, organization);

diesel::table! {
    organization_vendor_settings (organization_id, vendor) {
        organization_id -> Int4,
        vendor -> Varchar,
        sealed -> Bytea,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    read_access_log (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        via -> Varchar,
        endpoint -> Text,
        period -> Nullable<Text>,
        status -> Int2,
        ip -> Nullable<Text>,
    }
}

// Notifications and scheduled report delivery (migration `notifications`).
diesel::table! {
    notification_recipients (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        channel -> Varchar,
        name -> Text,
        email -> Nullable<Text>,
        webhook_sealed -> Nullable<Bytea>,
        webhook_hint -> Nullable<Text>,
        events -> Array<Text>,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notification_settings (organization_id) {
        organization_id -> Int4,
        quickbooks_stale_hours -> Int4,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notification_events (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        event -> Varchar,
        raised_at -> Timestamptz,
        day -> Date,
        summary -> Text,
        details -> Jsonb,
        claimed_at -> Nullable<Timestamptz>,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_log (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        recipient_id -> Int8,
        event -> Varchar,
        day -> Date,
        channel -> Varchar,
        destination -> Text,
        subject -> Text,
        status -> Varchar,
        attempts -> Int4,
        error -> Nullable<Text>,
        suppressed -> Int4,
        created_at -> Timestamptz,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_statuses (organization_id, granularity, kpi_name) {
        organization_id -> Int4,
        granularity -> Varchar,
        kpi_name -> Varchar,
        period -> Varchar,
        status -> Varchar,
        evaluated_at -> Timestamptz,
    }
}

diesel::table! {
    report_delivery_settings (organization_id) {
        organization_id -> Int4,
        enabled -> Bool,
        day -> Int2,
        hour -> Int2,
        monthly -> Bool,
        recipients -> Array<Text>,
        paper -> Varchar,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    report_deliveries (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        kind -> Varchar,
        period -> Varchar,
        quarter -> Varchar,
        email -> Text,
        status -> Varchar,
        attempts -> Int4,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

// Clients across vendors (migration `clients`).
diesel::table! {
    clients (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        name -> Text,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    client_vendor_entities (organization_id, vendor_id, external_id) {
        organization_id -> Int4,
        vendor_id -> Int4,
        external_id -> Text,
        name -> Text,
        client_id -> Nullable<Int8>,
        status -> Varchar,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamptz>,
        first_seen -> Timestamptz,
        last_seen -> Timestamptz,
    }
}

diesel::table! {
    client_metric_values (organization_id, vendor_id, external_id, month, metric) {
        organization_id -> Int4,
        vendor_id -> Int4,
        external_id -> Text,
        month -> Date,
        metric -> Varchar,
        value -> Numeric,
        collected_at -> Timestamptz,
        run_id -> Nullable<Int8>,
        drift_value -> Nullable<Numeric>,
        drift_seen_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    client_ticket_breakdown (organization_id, vendor_id, external_id, month, dimension, label) {
        organization_id -> Int4,
        vendor_id -> Int4,
        external_id -> Text,
        month -> Date,
        dimension -> Varchar,
        label -> Text,
        tickets -> Int4,
    }
}

diesel::table! {
    client_manual_values (organization_id, client_id, month, metric) {
        organization_id -> Int4,
        client_id -> Int8,
        month -> Date,
        metric -> Varchar,
        value -> Numeric,
        source -> Varchar,
        entered_by -> Text,
        entered_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    client_vendor_entities,
    client_metric_values,
    client_ticket_breakdown,
    client_manual_values,
);

diesel::table! {
    client_thresholds (organization_id, id) {
        organization_id -> Int4,
        id -> Int8,
        client_id -> Nullable<Int8>,
        number -> Varchar,
        green_min -> Nullable<Numeric>,
        green_max -> Nullable<Numeric>,
        yellow_min -> Nullable<Numeric>,
        yellow_max -> Nullable<Numeric>,
        updated_by -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    goals (organization_id, smartnumber, period) {
        organization_id -> Int4,
        smartnumber -> Varchar,
        period -> Varchar,
        target -> Numeric,
        set_by -> Text,
        set_at -> Timestamptz,
    }
}
