//! `/api/admin/api-keys`: API keys of the organization, for signed-in users only (a key
//! can't manage keys).
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, identity, tenant, Who};
use crate::http::response::{errors, Created};
use crate::http::Identity;
use crate::http::{ok, params, ApiOk};
use crate::service::api_keys as service;
use qbr_shared::api::{ApiKeyCreateRequest, ApiKeyCreated, ApiKeyInfo, ApiKeyList};
use salvo::prelude::*;

/// Every API key of the organization (never the keys themselves).
#[endpoint(tags("admin"))]
pub async fn list_api_keys(depot: &mut Depot) -> AppResult<ApiOk<ApiKeyList>> {
    let org = tenant(depot)?.org.id;
    let mut conn = conn(depot).await?;
    let keys = service::list(&mut conn, Some(org)).await?;
    Ok(ok(ApiKeyList { keys }))
}

/// Creates an API key; the answer holds the key, shown this once.
#[endpoint(
    tags("admin"),
    request_body = ApiKeyCreateRequest,
    responses(errors::JsonBody, errors::Conflict)
)]
pub async fn create_api_key(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Created<ApiKeyCreated>> {
    let body: ApiKeyCreateRequest = params::json_body(req).await?;
    let org = tenant(depot)?.org.id;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let creator = match identity(depot) {
        Some(Identity::Session { user_id, .. }) => Some(*user_id),
        _ => None,
    };
    let created =
        service::create(&mut conn, org, &body.name, body.scope, creator, who.actor()).await?;
    Ok(Created(created))
}

/// Revokes an API key: it stops working at once.
#[endpoint(
    tags("admin"),
    parameters(("id" = i64, Path, description = "API key id")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn revoke_api_key(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<ApiKeyInfo>> {
    let id: i64 = req
        .param::<String>("id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::invalid_parameter("id must be a number"))?;
    let org = tenant(depot)?.org.id;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    service::revoke(&mut conn, Some(org), id, who.actor())
        .await?
        .map(ok)
        .ok_or_else(|| AppError::not_found(format!("No active API key with id {id}")))
}
