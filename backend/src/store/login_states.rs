//! Microsoft sign-ins in progress (state, PKCE verifier, nonce), kept in PostgreSQL so
//! any replica can finish a sign-in another one started. Single use.
use crate::schema::login_states;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub async fn insert(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
    pkce_verifier: &str,
    nonce: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(login_states::table)
        .values((
            login_states::state_hash.eq(state_hash),
            login_states::pkce_verifier.eq(pkce_verifier),
            login_states::nonce.eq(nonce),
            login_states::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes the login with this state hash and returns its `(pkce_verifier, nonce)`,
/// unless it is unknown, used already or expired.
pub async fn take(
    conn: &mut AsyncPgConnection,
    state_hash: &[u8],
) -> QueryResult<Option<(String, String)>> {
    let row: Option<(String, String, DateTime<Utc>)> =
        diesel::delete(login_states::table.filter(login_states::state_hash.eq(state_hash)))
            .returning((
                login_states::pkce_verifier,
                login_states::nonce,
                login_states::expires_at,
            ))
            .get_result(conn)
            .await
            .optional()?;
    Ok(row
        .filter(|(_, _, expires)| *expires > Utc::now())
        .map(|(v, n, _)| (v, n)))
}

pub async fn delete_expired(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(login_states::table.filter(login_states::expires_at.le(diesel::dsl::now)))
        .execute(conn)
        .await
}
