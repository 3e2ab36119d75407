//! Server-side sessions: only the SHA-256 hash of the cookie's random id is stored.
use super::org::{Org, OrgRow, OrgSqlType, ORG_COLUMNS_OF_O};
use super::static_query::static_query;
use crate::schema::sessions;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Bytea, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored session.
#[derive(Debug, Clone, Queryable)]
pub struct SessionRow {
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A session to create.
pub struct NewSession<'a> {
    pub id_hash: &'a [u8],
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn create(conn: &mut AsyncPgConnection, s: NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(s.id_hash),
            sessions::email.eq(s.email),
            sessions::name.eq(s.name),
            sessions::expires_at.eq(s.expires_at),
            sessions::ip.eq(s.ip),
            sessions::user_agent.eq(s.user_agent),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A live session and organization `org`, in static SQL text (see `static_query`).
struct LiveSessionWithOrg<'a> {
    id_hash: &'a [u8],
    org: i32,
}

static_query!(
    LiveSessionWithOrg,
    (
        (Text, Nullable<Text>, Timestamptz, Timestamptz, Timestamptz),
        Nullable<OrgSqlType>
    )
);

impl QueryFragment<Pg> for LiveSessionWithOrg<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT s.email, s.name, s.created_at, s.expires_at, s.last_seen_at, ");
        out.push_sql(ORG_COLUMNS_OF_O);
        out.push_sql(" FROM sessions s LEFT JOIN organization o ON o.id = ");
        out.push_bind_param::<Integer, _>(&self.org)?;
        out.push_sql(" WHERE s.id_hash = ");
        out.push_bind_param::<Bytea, _>(&self.id_hash)?;
        out.push_sql(" AND s.expires_at > now()");
        Ok(())
    }
}

/// The session with this id hash, unless it has expired, and organization `org` (`None`
/// if there is no such organization): every signed-in request needs both, so they are
/// read in one round trip.
pub async fn find_live_with_org(
    conn: &mut AsyncPgConnection,
    id_hash: &[u8],
    org: i32,
) -> QueryResult<Option<(SessionRow, Option<Org>)>> {
    let row: Option<(SessionRow, Option<OrgRow>)> = LiveSessionWithOrg { id_hash, org }
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|(session, org)| (session, org.map(Org::from))))
}

/// Whether a record of activity at `last` is old enough to be refreshed: callers skip
/// the round trip to `touch` for a session seen within the last minute.
pub fn stale(last: DateTime<Utc>) -> bool {
    Utc::now() - last >= chrono::Duration::minutes(1)
}

/// Records activity, at most once a minute per session (a write per request would
/// cost more than the information is worth).
pub async fn touch(conn: &mut AsyncPgConnection, id_hash: &[u8]) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE sessions SET last_seen_at = now() \
         WHERE id_hash = $1 AND last_seen_at < now() - interval '1 minute'",
    )
    .bind::<diesel::sql_types::Bytea, _>(id_hash)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Deletes the session; its email when there was one.
pub async fn delete(conn: &mut AsyncPgConnection, id_hash: &[u8]) -> QueryResult<Option<String>> {
    diesel::delete(sessions::table.filter(sessions::id_hash.eq(id_hash)))
        .returning(sessions::email)
        .get_result(conn)
        .await
        .optional()
}

/// Deletes every expired session; the emails of the sessions removed.
pub async fn delete_expired(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(diesel::dsl::now)))
        .returning(sessions::email)
        .get_results(conn)
        .await
}
