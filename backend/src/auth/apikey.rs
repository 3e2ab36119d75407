//! API keys for other programs: `qbr_` + 32 random bytes (base64url), stored as a
//! SHA-256 hash; sent as `Authorization: Bearer qbr_...` or `X-API-Key: qbr_...`.
//! Scopes: `read` (GET) and `write` (also POST/PUT/DELETE). Managed by signed-in users
//! at `/api/admin/api-keys` and by `qbr apikey` on the server.
use super::{is_write, Auth, Identity, Rejection};
use crate::api::response::{ok, ApiOk};
use crate::api::{actor, conn, params, state};
use crate::error::{AppError, AppResult};
use crate::store::api_keys::{self, ApiKeyRow, NewApiKey};
use crate::store::audit::{self, AuditEvent};
use diesel_async::AsyncPgConnection;
use qbr_shared::api::{ApiKeyCreateRequest, ApiKeyCreated, ApiKeyInfo, ApiKeyList};
use qbr_shared::ErrorCode;
use salvo::http::StatusCode;
use salvo::prelude::*;

pub const KEY_PREFIX: &str = "qbr_";

/// A new random key.
pub fn generate() -> String {
    format!("{KEY_PREFIX}{}", super::session::random_token())
}

/// The key sent with the request, if any.
pub fn presented_key(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(v) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
    {
        return Some(v.trim().to_string());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// Checks a presented key: known and not revoked (else 401), scope (403), rate (429).
pub(super) async fn authenticate(
    req: &Request,
    depot: &Depot,
    auth: &Auth,
    key: &str,
) -> Result<Identity, Rejection> {
    let mut conn = conn(depot).await?;
    let Some(row) = api_keys::find_active(&mut conn, &super::session::hash(key)).await? else {
        return Err(AppError::new(
            ErrorCode::Unauthenticated,
            "The API key is unknown or revoked",
        )
        .into());
    };
    let write = is_write(req.method());
    if write && !row.scopes.iter().any(|s| s == "write") {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "This API key is read-only: the write scope is needed",
        )
        .into());
    }
    if let Err(wait) = auth.limiters.api_key(row.id, write) {
        return Err(Rejection {
            error: AppError::new(
                ErrorCode::RateLimited,
                format!("Rate limit of this API key reached; retry in {wait} s"),
            ),
            retry_after: Some(wait),
        });
    }
    if row.last_used_at.is_none_or(crate::store::sessions::stale) {
        api_keys::touch(&mut conn, row.id).await?;
    }
    Ok(Identity::ApiKey {
        id: row.id,
        name: row.name,
        organization_id: row.organization_id,
        write: row.scopes.iter().any(|s| s == "write"),
    })
}

/// The scopes a `read` or `write` key gets.
pub fn scopes_for(scope: &str) -> Option<Vec<String>> {
    match scope {
        "read" => Some(vec!["read".into()]),
        "write" => Some(vec!["read".into(), "write".into()]),
        _ => None,
    }
}

pub fn info(r: ApiKeyRow) -> ApiKeyInfo {
    ApiKeyInfo {
        id: r.id,
        name: r.name,
        key_prefix: r.key_prefix,
        scopes: r.scopes,
        organization_id: r.organization_id,
        created_by: r.created_by,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    }
}

/// Creates a key and records it in the audit log; returns the key (shown once).
pub async fn create(
    conn: &mut AsyncPgConnection,
    organization_id: i32,
    name: &str,
    scope: &str,
    created_by: &str,
    ip: Option<&str>,
) -> AppResult<ApiKeyCreated> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AppError::invalid_body(
            "name must be 1 to 100 characters long",
        ));
    }
    let scopes = scopes_for(scope)
        .ok_or_else(|| AppError::invalid_body("scope must be 'read' or 'write'"))?;
    // Names tell keys apart in the list and the audit log (`apikey:<name>`): one active key per name.
    let taken = api_keys::list(conn, Some(organization_id))
        .await?
        .iter()
        .any(|k| k.revoked_at.is_none() && k.name.eq_ignore_ascii_case(name));
    if taken {
        return Err(AppError::conflict(format!(
            "An active API key named '{name}' already exists; revoke it or choose another name"
        )));
    }
    let key = generate();
    let row = api_keys::create(
        conn,
        NewApiKey {
            organization_id,
            name,
            key_prefix: &key[..12],
            key_hash: &super::session::hash(&key),
            scopes: &scopes,
            created_by,
        },
    )
    .await?;
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(organization_id),
            actor: created_by,
            action: "api_key.create",
            target: Some(name),
            details: serde_json::json!({"id": row.id, "scopes": scopes}),
            ip,
        },
    )
    .await?;
    Ok(ApiKeyCreated {
        key,
        info: info(row),
    })
}

/// Revokes a key and records it; `None` when no active key has this id.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    id: i64,
    actor: &str,
    ip: Option<&str>,
) -> AppResult<Option<ApiKeyInfo>> {
    let Some(row) = api_keys::revoke(conn, id).await? else {
        return Ok(None);
    };
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(row.organization_id),
            actor,
            action: "api_key.revoke",
            target: Some(&row.name),
            details: serde_json::json!({"id": row.id}),
            ip,
        },
    )
    .await?;
    Ok(Some(info(row)))
}

/// Every API key of the organization (never the keys themselves).
#[endpoint(tags("admin"))]
pub async fn list_api_keys(depot: &mut Depot) -> AppResult<ApiOk<ApiKeyList>> {
    let org = state(depot)?.org_id;
    let mut conn = conn(depot).await?;
    let keys = api_keys::list(&mut conn, Some(org))
        .await?
        .into_iter()
        .map(info)
        .collect();
    Ok(ok(ApiKeyList { keys }))
}

/// Creates an API key; the answer holds the key, shown this once.
#[endpoint(tags("admin"), request_body = ApiKeyCreateRequest)]
pub async fn create_api_key(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ApiKeyCreated>> {
    let body: ApiKeyCreateRequest = params::json_body(req).await?;
    let org = state(depot)?.org_id;
    let who = actor(depot);
    let ip = super::client_ip(req);
    let mut conn = conn(depot).await?;
    let created = create(&mut conn, org, &body.name, &body.scope, &who, ip.as_deref()).await?;
    Ok(ApiOk(created, StatusCode::CREATED))
}

/// Revokes an API key: it stops working at once.
#[endpoint(tags("admin"), parameters(("id" = i64, Path, description = "API key id")))]
pub async fn revoke_api_key(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<ApiKeyInfo>> {
    let id: i64 = req
        .param::<String>("id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::invalid_parameter("id must be a number"))?;
    let org = state(depot)?.org_id;
    let who = actor(depot);
    let ip = super::client_ip(req);
    let mut conn = conn(depot).await?;
    let belongs = api_keys::list(&mut conn, Some(org))
        .await?
        .iter()
        .any(|k| k.id == id);
    let revoked = if belongs {
        revoke(&mut conn, id, &who, ip.as_deref()).await?
    } else {
        None
    };
    revoked
        .map(ok)
        .ok_or_else(|| AppError::not_found(format!("No active API key with id {id}")))
}
