//! The audit log: who did what, when, from where.
use crate::schema::audit_log;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::access::AuditAction;

/// One event to record.
pub struct AuditEvent<'a> {
    pub organization_id: Option<i32>,
    pub actor: &'a str,
    pub action: AuditAction,
    pub target: Option<&'a str>,
    pub details: serde_json::Value,
    pub ip: Option<&'a str>,
}

pub async fn record(conn: &mut AsyncPgConnection, e: AuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::organization_id.eq(e.organization_id),
            audit_log::actor.eq(e.actor),
            audit_log::action.eq(e.action.as_str()),
            audit_log::target.eq(e.target),
            audit_log::details.eq(e.details),
            audit_log::ip.eq(e.ip),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A stored audit event.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub ip: Option<String>,
}

/// The newest events of `organization_id`, and those of no organization (the server's
/// own: sign-ins) when `with_server`.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    with_server: bool,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .filter(audit_log::organization_id.eq(organization_id))
        .into_boxed();
    if with_server {
        query = query.or_filter(audit_log::organization_id.is_null());
    }
    query
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::occurred_at,
            audit_log::actor,
            audit_log::action,
            audit_log::target,
            audit_log::details,
            audit_log::ip,
        ))
        .load(conn)
        .await
}

/// When `organization_id` first recorded `action`, if it ever did.
pub async fn first_at(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    action: AuditAction,
) -> QueryResult<Option<DateTime<Utc>>> {
    audit_log::table
        .filter(audit_log::organization_id.eq(organization_id))
        .filter(audit_log::action.eq(action.as_str()))
        .order(audit_log::id.asc())
        .select(audit_log::occurred_at)
        .first(conn)
        .await
        .optional()
}
