//! The audit log as the API shows it.
use crate::error::AppResult;
use crate::store::{audit, read_log};
use diesel_async::AsyncPgConnection;
use qbr_shared::api::{AuditEntry, AuditResponse};

/// Which events a reader of the audit log sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Events {
    /// The organization's own (what an API key sees).
    Organization,
    /// The organization's and the server's (sign-ins, sign-outs, expired sessions),
    /// which belong to no organization (what a signed-in user sees).
    OrganizationAndServer,
}

/// Data changes, threshold edits, key changes (and sign-ins), newest first.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    events: Events,
    limit: i64,
) -> AppResult<AuditResponse> {
    let with_server = events == Events::OrganizationAndServer;
    let entries = audit::latest(conn, organization_id, with_server, limit)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
            ip: r.ip,
        })
        .collect();
    Ok(AuditResponse { entries })
}

/// The newest reads of the organization's data (the read access log), as audit entries:
/// `action` is `read`, `target` the endpoint, `details` the period, status and how
/// (`session` or `api_key`).
pub async fn reads(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    limit: i64,
) -> AppResult<AuditResponse> {
    let entries = read_log::latest(conn, organization_id, limit)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor,
            action: "read".into(),
            target: Some(r.endpoint),
            details: serde_json::json!({"period": r.period, "status": r.status, "via": r.via}),
            ip: r.ip,
        })
        .collect();
    Ok(AuditResponse { entries })
}
