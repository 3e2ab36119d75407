//! Connecting a company (Intuit's authorization code flow): a signed-in user starts it
//! (`start`: a random state, kept hashed for 10 minutes, and the consent page's URL);
//! Intuit sends the browser back with the state, a code and the company's `realmId`
//! (`finish`: the state is taken once, the code exchanged, the tokens sealed and stored,
//! audited). `disconnect` forgets the company and its tokens. Codes and tokens are never
//! logged.
use super::client::{Intuit, IntuitError, Tokens};
use super::OnlineSettings;
use crate::db::{tenant, DbPool};
use crate::secrets::sealing::{CryptoError, SecretKey};
use crate::secrets::{hash, random_token};
use crate::store::audit::{self, AuditEvent};
use crate::store::quickbooks_online::{self as store, Connection, SealedTokens};
use chrono::{TimeDelta, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;

/// How long a started connect may take at Intuit.
const STATE_TTL: TimeDelta = TimeDelta::minutes(10);

/// What a sealed token is for: another token's column or another organization's row
/// does not open it.
fn purpose(token: &str, org: i32) -> String {
    format!("quickbooks-online/{token}/{org}")
}

/// Seals `tokens` of organization `org` for storage.
pub fn seal(key: &SecretKey, org: i32, tokens: &Tokens) -> Result<SealedTokens, CryptoError> {
    Ok(SealedTokens {
        access_token: key.seal(&tokens.access_token, &purpose("access", org))?,
        access_expires_at: tokens.access_expires_at,
        refresh_token: key.seal(&tokens.refresh_token, &purpose("refresh", org))?,
        refresh_expires_at: tokens.refresh_expires_at,
    })
}

/// The tokens of a stored connection.
pub fn open(key: &SecretKey, stored: &Connection) -> Result<Tokens, CryptoError> {
    let org = stored.organization_id;
    Ok(Tokens {
        access_token: key.open(&stored.access_token, &purpose("access", org))?,
        access_expires_at: stored.access_expires_at,
        refresh_token: key.open(&stored.refresh_token, &purpose("refresh", org))?,
        refresh_expires_at: stored.refresh_expires_at,
    })
}

/// Starts a connect for organization `org` by `by`: the URL of Intuit's consent page.
pub async fn start(
    conn: &mut AsyncPgConnection,
    settings: &OnlineSettings,
    org: i32,
    by: &str,
) -> anyhow::Result<String> {
    let state = random_token();
    let url = Intuit::new(settings)?.authorize_url(&state)?;
    store::insert_state(conn, &hash(&state), org, by, Utc::now() + STATE_TTL).await?;
    Ok(url)
}

/// The callback's query parameters.
#[derive(Debug, Default, Clone)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub realm_id: Option<String>,
    /// Set when Intuit did not connect (`access_denied` when the user declined).
    pub error: Option<String>,
}

/// A company connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub organization_id: i32,
    pub realm_id: String,
    pub by: String,
}

/// Why a connect did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Intuit's `error` (already reduced to letters, digits and `_`).
    #[error("Intuit did not connect the company ({0})")]
    Denied(String),
    #[error("the answer from Intuit was incomplete")]
    Incomplete,
    #[error("the connect link is expired, was used already, or did not start here")]
    UnknownState,
    #[error("Intuit named no valid company (realmId)")]
    BadRealm,
    #[error(transparent)]
    Intuit(#[from] IntuitError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("{0:#}")]
    Other(anyhow::Error),
}

fn other(e: impl Into<anyhow::Error>) -> ConnectError {
    ConnectError::Other(e.into())
}

/// A realm id is digits (it goes into every API path).
fn valid_realm(realm: &str) -> bool {
    (1..=32).contains(&realm.len()) && realm.bytes().all(|b| b.is_ascii_digit())
}

/// Finishes a connect from the callback's parameters (from `ip`).
pub async fn finish(
    pool: &DbPool,
    settings: &OnlineSettings,
    callback: Callback,
    ip: Option<&str>,
) -> Result<Connected, ConnectError> {
    let pending = {
        let mut conn = tenant::checkout_platform(pool).await.map_err(other)?;
        match &callback.state {
            // The started connect is over either way: its state is used up. The state
            // names the organization (row-level security shows its row to that one only).
            Some(state) => match store::state_organization(&mut conn, &hash(state)).await? {
                Some(org) => {
                    tenant::enter(&mut conn, org).await?;
                    store::take_state(&mut conn, &hash(state)).await?
                }
                None => None,
            },
            None => None,
        }
    };
    if let Some(error) = &callback.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(ConnectError::Denied(error));
    }
    let (Some(code), Some(realm_id)) = (&callback.code, &callback.realm_id) else {
        return Err(ConnectError::Incomplete);
    };
    let Some(pending) = pending else {
        return Err(ConnectError::UnknownState);
    };
    if !valid_realm(realm_id) {
        return Err(ConnectError::BadRealm);
    }
    let tokens = Intuit::new(settings)
        .map_err(other)?
        .exchange_code(code)
        .await?;
    let org = pending.organization_id;
    let sealed = seal(&settings.key, org, &tokens).map_err(other)?;
    let mut conn = tenant::checkout(pool, org).await.map_err(other)?;
    let by = pending.requested_by.as_str();
    conn.transaction::<_, diesel::result::Error, _>(async |tx| {
        tenant::enter_local(tx, org).await?;
        store::connect(tx, org, realm_id, &sealed, by).await?;
        let event = AuditEvent {
            organization_id: Some(org),
            actor: by,
            action: AuditAction::QuickBooksOnlineConnect,
            target: Some(realm_id),
            details: serde_json::json!({ "realm_id": realm_id }),
            ip,
        };
        audit::record(tx, event).await
    })
    .await?;
    tracing::info!(organization = org, realm_id = %realm_id, by = %by, "QuickBooks Online connected");
    Ok(Connected {
        organization_id: org,
        realm_id: realm_id.clone(),
        by: pending.requested_by,
    })
}

/// Forgets organization `org`'s company and tokens (audited); false when none was
/// connected. Intuit keeps the app listed under the company's connected apps until the
/// company's admin removes it there.
pub async fn disconnect(
    conn: &mut AsyncPgConnection,
    org: i32,
    by: &str,
    ip: Option<&str>,
) -> diesel::QueryResult<bool> {
    conn.transaction::<_, diesel::result::Error, _>(async |tx| {
        tenant::enter_local(tx, org).await?;
        let Some(was) = store::summary(tx, org).await? else {
            return Ok(false);
        };
        store::disconnect(tx, org).await?;
        let event = AuditEvent {
            organization_id: Some(org),
            actor: by,
            action: AuditAction::QuickBooksOnlineDisconnect,
            target: Some(&was.realm_id),
            details: serde_json::json!({ "realm_id": was.realm_id }),
            ip,
        };
        audit::record(tx, event).await?;
        Ok(true)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_ids_are_digits() {
        assert!(valid_realm("4620816365031658760"));
        assert!(!valid_realm(""));
        assert!(!valid_realm("123/../456"));
        assert!(!valid_realm(&"9".repeat(33)));
    }

    #[test]
    fn sealed_tokens_open_only_for_their_organization() {
        let key =
            SecretKey::from_base64(&SecretKey::random_base64()).unwrap_or_else(|e| panic!("{e}"));
        let tokens = Tokens {
            access_token: "access-1".into(),
            access_expires_at: Utc::now(),
            refresh_token: "refresh-1".into(),
            refresh_expires_at: Utc::now(),
        };
        let sealed = seal(&key, 1, &tokens).unwrap_or_else(|e| panic!("{e}"));
        let stored = |org: i32, sealed: &SealedTokens| Connection {
            organization_id: org,
            realm_id: "1".into(),
            access_token: sealed.access_token.clone(),
            access_expires_at: sealed.access_expires_at,
            refresh_token: sealed.refresh_token.clone(),
            refresh_expires_at: sealed.refresh_expires_at,
            connected_by: "x".into(),
            connected_at: Utc::now(),
            last_sync_at: None,
            last_error: None,
        };
        assert_eq!(open(&key, &stored(1, &sealed)), Ok(tokens));
        assert_eq!(
            open(&key, &stored(2, &sealed)),
            Err(CryptoError::Unreadable)
        );
        let mut swapped = sealed.clone();
        std::mem::swap(&mut swapped.access_token, &mut swapped.refresh_token);
        assert_eq!(
            open(&key, &stored(1, &swapped)),
            Err(CryptoError::Unreadable)
        );
    }
}
