//! API keys for other programs: `qbr_` + 32 random bytes (base64url), stored as a
//! SHA-256 hash, shown once at creation; one active key per name. Used by the admin
//! endpoints and `qbr apikey`; checking a presented key is the auth guard's job.
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::secrets;
use crate::store::api_keys::{self as store, ApiKeyRow, NewApiKey};
use crate::store::audit::{self, AuditEvent};
use diesel_async::AsyncPgConnection;
use qbr_shared::access::{ApiKeyScope, AuditAction};
use qbr_shared::api::{ApiKeyCreated, ApiKeyInfo};
use qbr_shared::text;

pub const KEY_PREFIX: &str = "qbr_";

/// A new random key.
fn generate() -> String {
    format!("{KEY_PREFIX}{}", secrets::random_token())
}

pub fn info(r: ApiKeyRow) -> ApiKeyInfo {
    ApiKeyInfo {
        scopes: r.scopes(),
        id: r.id,
        name: r.name,
        key_prefix: r.key_prefix,
        organization_id: r.organization_id,
        created_by: r.created_by,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    }
}

/// Every key of the organization (revoked ones too), or of all organizations.
pub async fn list(
    conn: &mut AsyncPgConnection,
    organization_id: Option<i32>,
) -> AppResult<Vec<ApiKeyInfo>> {
    Ok(store::list(conn, organization_id)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

/// Creates a key and records it in the audit log; returns the key (shown once).
pub async fn create(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    name: &str,
    scope: ApiKeyScope,
    creator_user_id: Option<i64>,
    actor: Actor<'_>,
) -> AppResult<ApiKeyCreated> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid_body("name must not be empty"));
    }
    // The name is shown in lists and written to the audit log and the text log.
    text::check_field("name", name, text::NAME).map_err(AppError::invalid_body)?;
    let scopes: Vec<String> = scope
        .granted()
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    // Names tell keys apart in the list and the audit log (`apikey:<name>`): one active key per name.
    let taken = store::list(conn, Some(organization_id))
        .await?
        .iter()
        .any(|k| k.revoked_at.is_none() && k.name.eq_ignore_ascii_case(name));
    if taken {
        return Err(AppError::conflict(format!(
            "An active API key named '{name}' already exists; revoke it or choose another name"
        )));
    }
    let key = generate();
    let row = store::create(
        conn,
        NewApiKey {
            organization_id,
            name,
            key_prefix: &key[..12],
            key_hash: &secrets::hash(&key),
            scopes: &scopes,
            created_by: actor.name,
            creator_user_id,
        },
    )
    .await?;
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(organization_id),
            actor: actor.name,
            action: AuditAction::ApiKeyCreate,
            target: Some(name),
            details: serde_json::json!({"id": row.id, "scopes": scopes}),
            ip: actor.ip,
        },
    )
    .await?;
    Ok(ApiKeyCreated {
        key,
        info: info(row),
    })
}

/// Revokes a key of `organization_id` (any organization's with `None`, for the CLI)
/// and records it; `None` when no such active key exists.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    organization_id: Option<i32>,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<Option<ApiKeyInfo>> {
    if let Some(org) = organization_id {
        let belongs = store::list(conn, Some(org))
            .await?
            .iter()
            .any(|k| k.id == id);
        if !belongs {
            return Ok(None);
        }
    }
    let Some(row) = store::revoke(conn, id).await? else {
        return Ok(None);
    };
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(row.organization_id),
            actor: actor.name,
            action: AuditAction::ApiKeyRevoke,
            target: Some(&row.name),
            details: serde_json::json!({"id": row.id}),
            ip: actor.ip,
        },
    )
    .await?;
    Ok(Some(info(row)))
}
