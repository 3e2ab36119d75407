//! Server-side sessions: only the SHA-256 hash of the cookie's random id is stored.
use super::org::{Org, OrgRow, OrgSqlType, ORG_COLUMNS_OF_O};
use super::static_query::static_query;
use crate::schema::sessions;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{BigInt, Bool, Bytea, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::access::Role;

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

/// A live session, its user and the membership it acts through, in static SQL text
/// (see `static_query`).
struct LiveSession<'a> {
    id_hash: &'a [u8],
    org: Option<i32>,
}

static_query!(
    LiveSession,
    (
        (Text, Nullable<Text>, Timestamptz, Timestamptz, Timestamptz),
        Nullable<BigInt>,
        Nullable<Bool>,
        Nullable<Text>,
        Nullable<OrgSqlType>
    )
);

impl QueryFragment<Pg> for LiveSession<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT s.email, s.name, s.created_at, s.expires_at, s.last_seen_at, \
             u.id, u.platform_admin, m.role, ",
        );
        out.push_sql(ORG_COLUMNS_OF_O);
        out.push_sql(
            " FROM sessions s \
             LEFT JOIN users u ON u.email = lower(s.email) \
             LEFT JOIN LATERAL (SELECT m.role, m.organization_id FROM memberships m \
               JOIN organization mo ON mo.id = m.organization_id AND mo.archived_at IS NULL \
               WHERE m.user_id = u.id AND (",
        );
        out.push_bind_param::<Nullable<Integer>, _>(&self.org)?;
        out.push_sql("::int IS NULL OR m.organization_id = ");
        out.push_bind_param::<Nullable<Integer>, _>(&self.org)?;
        out.push_sql(
            ") ORDER BY m.organization_id LIMIT 1) m ON true \
             LEFT JOIN organization o ON o.id = m.organization_id \
             WHERE s.id_hash = ",
        );
        out.push_bind_param::<Bytea, _>(&self.id_hash)?;
        out.push_sql(" AND s.expires_at > now()");
        Ok(())
    }
}

/// A live session as the guard sees it.
#[derive(Debug, Clone)]
pub struct LiveSessionRow {
    pub session: SessionRow,
    /// The user and whether it administers the platform (`None`: no user row).
    pub user: Option<(i64, bool)>,
    /// The membership the request acts through: in `org`, or (without one) the
    /// user's first organization; `None` when there is none.
    pub membership: Option<(Role, Org)>,
}

/// The session with this id hash, unless it has expired, with its user and membership
/// of organization `org` (or the user's first): every signed-in request needs them
/// all, so they are read in one round trip.
pub async fn find_live(
    conn: &mut AsyncPgConnection,
    id_hash: &[u8],
    org: Option<i32>,
) -> QueryResult<Option<LiveSessionRow>> {
    type Row = (
        SessionRow,
        Option<i64>,
        Option<bool>,
        Option<String>,
        Option<OrgRow>,
    );
    let row: Option<Row> = LiveSession { id_hash, org }
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|(session, user_id, platform_admin, role, org)| {
        let membership = match (role.as_deref().and_then(Role::parse), org) {
            (Some(role), Some(org)) => Some((role, Org::from(org))),
            _ => None,
        };
        LiveSessionRow {
            session,
            user: user_id.map(|id| (id, platform_admin.unwrap_or(false))),
            membership,
        }
    }))
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
