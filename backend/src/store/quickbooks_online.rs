//! QuickBooks Online's tables: the connected company (tokens sealed by the caller, never
//! in clear) and the pending connects (state hashes, single use).
use crate::schema::{quickbooks_online_connections as qoc, quickbooks_online_states as qos};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Remembers a started connect; expired ones are dropped on the way.
pub async fn insert_state(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
    org: i32,
    requested_by: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(qos::table.filter(qos::expires_at.lt(diesel::dsl::now)))
        .execute(conn)
        .await?;
    diesel::insert_into(qos::table)
        .values((
            qos::state_hash.eq(state_hash),
            qos::organization_id.eq(org),
            qos::requested_by.eq(requested_by),
            qos::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A pending connect, taken back from its state.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PendingConnect {
    pub organization_id: i32,
    pub requested_by: String,
}

/// The organization that started the connect of `state_hash`, found before any
/// organization is entered (a SECURITY DEFINER function: row-level security would hide
/// the row); `None` when unknown or used.
pub async fn state_organization(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
) -> QueryResult<Option<i32>> {
    diesel::select(qbr_quickbooks_online_state_organization(state_hash))
        .get_result(conn)
        .await
}

diesel::define_sql_function! {
    /// The migration `row_level_security`'s look-up of a connect's organization.
    fn qbr_quickbooks_online_state_organization(state_hash: diesel::sql_types::Bytea) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

/// Takes (deletes) the connect of `state_hash`: `None` when unknown, used or expired.
pub async fn take_state(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
) -> QueryResult<Option<PendingConnect>> {
    let taken: Option<(i32, String, DateTime<Utc>)> =
        diesel::delete(qos::table.filter(qos::state_hash.eq(state_hash)))
            .returning((qos::organization_id, qos::requested_by, qos::expires_at))
            .get_result(conn)
            .await
            .optional()?;
    Ok(taken
        .filter(|(_, _, expires_at)| *expires_at > Utc::now())
        .map(|(organization_id, requested_by, _)| PendingConnect {
            organization_id,
            requested_by,
        }))
}

/// Tokens as stored: sealed bytes and their expiry times.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedTokens {
    pub access_token: Vec<u8>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: Vec<u8>,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Connects (or connects again) an organization to a company, with its first tokens;
/// any earlier error is cleared.
pub async fn connect(
    conn: &mut AsyncPgConnection,
    org: i32,
    realm_id: &str,
    tokens: &SealedTokens,
    by: &str,
) -> QueryResult<()> {
    let values = (
        qoc::organization_id.eq(org),
        qoc::realm_id.eq(realm_id),
        qoc::access_token.eq(&tokens.access_token),
        qoc::access_expires_at.eq(tokens.access_expires_at),
        qoc::refresh_token.eq(&tokens.refresh_token),
        qoc::refresh_expires_at.eq(tokens.refresh_expires_at),
        qoc::connected_by.eq(by),
    );
    diesel::insert_into(qoc::table)
        .values(values)
        .on_conflict(qoc::organization_id)
        .do_update()
        .set((
            qoc::realm_id.eq(realm_id),
            qoc::access_token.eq(&tokens.access_token),
            qoc::access_expires_at.eq(tokens.access_expires_at),
            qoc::refresh_token.eq(&tokens.refresh_token),
            qoc::refresh_expires_at.eq(tokens.refresh_expires_at),
            qoc::connected_by.eq(by),
            qoc::connected_at.eq(diesel::dsl::now),
            qoc::tokens_issued_at.eq(diesel::dsl::now),
            qoc::last_sync_at.eq(None::<DateTime<Utc>>),
            qoc::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A connection as stored.
#[derive(Clone, Queryable)]
pub struct Connection {
    pub organization_id: i32,
    pub realm_id: String,
    pub access_token: Vec<u8>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: Vec<u8>,
    pub refresh_expires_at: DateTime<Utc>,
    pub connected_by: String,
    pub connected_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("organization_id", &self.organization_id)
            .field("realm_id", &self.realm_id)
            .field("connected_by", &self.connected_by)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

pub async fn connection(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<Connection>> {
    qoc::table
        .filter(qoc::organization_id.eq(org))
        .select((
            qoc::organization_id,
            qoc::realm_id,
            qoc::access_token,
            qoc::access_expires_at,
            qoc::refresh_token,
            qoc::refresh_expires_at,
            qoc::connected_by,
            qoc::connected_at,
            qoc::last_sync_at,
            qoc::last_error,
        ))
        .first(conn)
        .await
        .optional()
}

/// What the status page shows of a connection (no tokens).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Summary {
    pub realm_id: String,
    pub connected_by: String,
    pub connected_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn summary(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<Summary>> {
    qoc::table
        .filter(qoc::organization_id.eq(org))
        .select((
            qoc::realm_id,
            qoc::connected_by,
            qoc::connected_at,
            qoc::last_sync_at,
            qoc::last_error,
        ))
        .first(conn)
        .await
        .optional()
}

/// Replaces the tokens after a refresh; false when the organization is no longer
/// connected (disconnected meanwhile).
pub async fn save_tokens(
    conn: &mut AsyncPgConnection,
    org: i32,
    tokens: &SealedTokens,
) -> QueryResult<bool> {
    diesel::update(qoc::table.filter(qoc::organization_id.eq(org)))
        .set((
            qoc::access_token.eq(&tokens.access_token),
            qoc::access_expires_at.eq(tokens.access_expires_at),
            qoc::refresh_token.eq(&tokens.refresh_token),
            qoc::refresh_expires_at.eq(tokens.refresh_expires_at),
            qoc::tokens_issued_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Records how a sync ended: `None` = it succeeded (now), else why it failed.
pub async fn record_sync(
    conn: &mut AsyncPgConnection,
    org: i32,
    error: Option<&str>,
) -> QueryResult<()> {
    let this = qoc::table.filter(qoc::organization_id.eq(org));
    match error {
        None => {
            diesel::update(this)
                .set((
                    qoc::last_sync_at.eq(diesel::dsl::now),
                    qoc::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await
        }
        Some(why) => {
            diesel::update(this)
                .set(qoc::last_error.eq(why))
                .execute(conn)
                .await
        }
    }
    .map(|_| ())
}

/// Forgets the company and its tokens; false when none was connected.
pub async fn disconnect(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<bool> {
    diesel::delete(qoc::table.filter(qoc::organization_id.eq(org)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}
