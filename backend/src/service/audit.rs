//! The audit log as the API shows it.
use crate::error::AppResult;
use crate::store::audit;
use diesel_async::AsyncPgConnection;
use qbr_shared::api::{AuditEntry, AuditResponse};

/// Sign-ins, data changes and threshold edits, newest first.
pub async fn latest(conn: &mut AsyncPgConnection, limit: i64) -> AppResult<AuditResponse> {
    let entries = audit::latest(conn, limit)
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
