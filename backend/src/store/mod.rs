//! Queries, one module per table family. Every function takes a connection (not the
//! pool), so callers can run several of them in one transaction.
pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod collection;
pub mod devices;
pub mod goals;
pub mod login_states;
pub mod members;
pub mod metrics;
pub mod notifications;
pub mod numeric;
pub mod org;
pub mod quickbooks;
pub mod quickbooks_online;
pub mod read_log;
pub mod recompute;
pub mod report_delivery;
pub mod sessions;
pub mod smartnumbers;
mod static_query;
pub mod thresholds;
pub mod vendor_settings;

/// Serializes changes to one organization's inputs: derived values and SmartNumbers
/// are recomputed from a consistent set of inputs even when two writes race. Also
/// enters the organization for the rest of the transaction (`db::tenant::enter_local`),
/// in the same round trip: every transaction that takes the lock writes as that tenant.
pub async fn lock_organization_writes(
    conn: &mut diesel_async::AsyncPgConnection,
    org_id: i32,
) -> diesel::QueryResult<()> {
    use diesel_async::SimpleAsyncConnection;
    // Integers only in the text; two statements, one round trip.
    let key = 0x5142_0000_i64 + i64::from(org_id);
    conn.batch_execute(&format!(
        "SELECT pg_advisory_xact_lock({key}); {}",
        crate::db::tenant::set_statement(org_id, true)
    ))
    .await
}
