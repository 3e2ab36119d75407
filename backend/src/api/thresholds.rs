//! Threshold bands: read all, create or update one or many.
use crate::error::AppResult;
use crate::http::context::{conn, organization, reader, Who};
use crate::http::{ok, params, ApiOk, Cached};
use crate::service::thresholds as service;
use qbr_shared::api::{ThresholdsResponse, ThresholdsUpdateRequest};
use salvo::prelude::*;

/// Every SmartNumber's bands (open ends and numbers without a threshold are null).
#[endpoint(tags("thresholds"), parameters(("organization_id" = Option<i32>, Query, description = "Organization (default 1)")))]
pub async fn get_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<ThresholdsResponse>> {
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::cached(&mut r.conn, &r.caches, &r.org).await?,
    ))
}

/// Creates or updates thresholds (`{"thresholds": [...]}` or one threshold object);
/// all are validated (green inside yellow) before any is written, and every change is
/// audited.
#[endpoint(tags("thresholds"), request_body = ThresholdsUpdateRequest)]
pub async fn post_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ThresholdsResponse>> {
    let body: serde_json::Value = params::json_body(req).await?;
    let items = service::parse_update(body)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(
        service::update(&mut conn, &org, who.actor(), &items).await?
    ))
}
