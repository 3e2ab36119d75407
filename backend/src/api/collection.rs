//! Collection status, the collection log and per-client devices (read-only: runs are
//! started by the schedule or the CLI, never by the API).
use crate::error::AppResult;
use crate::http::context::{conn, organization};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk};
use crate::service::collection as service;
use qbr_shared::api::*;
use qbr_shared::Month;
use salvo::prelude::*;

/// Per vendor: last success, last failure and freshness; the running run's progress.
#[endpoint(
    tags("collection"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_status(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionStatusResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::status(&mut conn, &org).await?))
}

/// The latest collection runs, newest first.
#[endpoint(
    tags("collection"),
    parameters(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Runs to list, default 20"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_log(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionLogResponse>> {
    let limit = params::int(req, "limit", 1, 200)?.unwrap_or(20);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::log(&mut conn, &org, limit).await?))
}

/// Endpoints and seats per client organization, from the month's last device snapshot.
#[endpoint(
    tags("collection"),
    parameters(
        ("period" = Option<Month>, Query, description = "YYYY-MM; default: the month in progress"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_devices_by_client(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<DevicesByClientResponse>> {
    let month = params::month(req, "period")?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::devices_by_client(&mut conn, &org, month).await?))
}
