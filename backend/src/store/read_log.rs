//! The read access log: who read which of an organization's data, when, how (session
//! or API key), kept 90 days.
use crate::schema::read_access_log as log;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One read, as written.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = log)]
pub struct NewRead {
    pub organization_id: i32,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub via: String,
    pub endpoint: String,
    pub period: Option<String>,
    pub status: i16,
    pub ip: Option<String>,
}

/// A stored read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = log)]
pub struct ReadRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub via: String,
    pub endpoint: String,
    pub period: Option<String>,
    pub status: i16,
    pub ip: Option<String>,
}

/// Writes reads of one organization (the connection's) in one statement.
pub async fn insert(conn: &mut AsyncPgConnection, reads: &[NewRead]) -> QueryResult<usize> {
    diesel::insert_into(log::table)
        .values(reads)
        .execute(conn)
        .await
}

/// The newest reads of `org`.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    org: i32,
    limit: i64,
) -> QueryResult<Vec<ReadRow>> {
    log::table
        .filter(log::organization_id.eq(org))
        .order((log::occurred_at.desc(), log::id.desc()))
        .limit(limit)
        .select(ReadRow::as_select())
        .load(conn)
        .await
}

/// Deletes `org`'s reads older than `before`; how many.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    org: i32,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        log::table
            .filter(log::organization_id.eq(org))
            .filter(log::occurred_at.lt(before)),
    )
    .execute(conn)
    .await
}
