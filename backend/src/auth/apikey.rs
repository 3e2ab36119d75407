//! API keys presented by other programs: `Authorization: Bearer qbr_...` or
//! `X-API-Key: qbr_...`. A key must be known and not revoked (401), carry the scope the
//! method needs (403) and stay within its rate limit (429). Creating and revoking keys
//! is `service::api_keys`.
use super::{is_write, Auth, Identity, Rejection};
use crate::error::AppError;
use crate::http::context::Tenant;
use crate::secrets;
use crate::store::api_keys;
use diesel_async::AsyncPgConnection;
use qbr_shared::access::{ApiKeyScope, Role};
use qbr_shared::ErrorCode;
use salvo::prelude::*;

/// The key sent with the request, if any (a blank header is no key).
pub fn presented_key(req: &Request) -> Option<String> {
    presented_key_text(req).filter(|k| !k.is_empty())
}

fn presented_key_text(req: &Request) -> Option<String> {
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

/// Checks a presented key: known, not revoked, of an organization that is not archived,
/// and its creator (when a person made it) still has a role there that allows what the
/// key does (else 401); scope (403), rate (429). Its organization is read with it.
pub(super) async fn authenticate(
    req: &Request,
    conn: &mut AsyncPgConnection,
    auth: &Auth,
    key: &str,
) -> Result<(Identity, Tenant), Rejection> {
    let Some(found) = api_keys::find_active_with_org(conn, &secrets::hash(key)).await? else {
        return Err(stopped("The API key is unknown or revoked"));
    };
    let row = found.key;
    let may_write = row.scopes().contains(&ApiKeyScope::Write);
    let role = Role::of_key(if may_write {
        ApiKeyScope::Write
    } else {
        ApiKeyScope::Read
    });
    let Some(org) = found.org else {
        return Err(stopped("The API key's organization is archived"));
    };
    if let Some((_, creator_role)) = found.creator {
        if !creator_role.is_some_and(|r| r.allows(role)) {
            return Err(stopped(
                "The API key stopped working: the user who made it no longer has the role it needs",
            ));
        }
    }
    let write = is_write(req.method());
    if write && !may_write {
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
        // The key's row is its organization's: enter it to write there.
        crate::db::tenant::enter(conn, row.organization_id).await?;
        api_keys::touch(conn, row.organization_id, row.id).await?;
    }
    let identity = Identity::ApiKey {
        id: row.id,
        name: row.name,
        organization_id: row.organization_id,
        write: may_write,
    };
    Ok((identity, Tenant { org, role }))
}

fn stopped(message: &str) -> Rejection {
    AppError::new(ErrorCode::Unauthenticated, message).into()
}
