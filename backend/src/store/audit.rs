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

pub async fn latest(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
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
