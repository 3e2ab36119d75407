//! Threshold bands: read all, create or update one or many.
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, organization, reader, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk, Cached};
use crate::service::thresholds as service;
use qbr_shared::api::{ThresholdInput, ThresholdsResponse, ThresholdsUpdate};
use salvo::prelude::*;

/// Bands are stored as `NUMERIC(30, 10)`: an end of 10^20 or more either way would fail
/// in the database as a server error, so it is refused as a bad body (the schema of
/// `Bands` states the same bounds).
fn storable(items: &[ThresholdInput]) -> AppResult<()> {
    const LIMIT: f64 = 1e20;
    for (i, t) in items.iter().enumerate() {
        let b = &t.bands;
        let ends = [b.green_min, b.green_max, b.yellow_min, b.yellow_max];
        if ends.iter().flatten().any(|v| v.abs() >= LIMIT) {
            return Err(AppError::invalid_body(format!(
                "thresholds[{i}] ({}): band ends must be within ±10^20",
                t.metric_name
            )));
        }
    }
    Ok(())
}

/// Every SmartNumber's bands (open ends and numbers without a threshold are null).
#[endpoint(
    tags("thresholds"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
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
#[endpoint(
    tags("thresholds"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    request_body = ThresholdsUpdate,
    responses(errors::JsonBody, errors::NotFound, errors::Conflict)
)]
pub async fn post_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ThresholdsResponse>> {
    let body: serde_json::Value = params::json_body(req).await?;
    let items = service::parse_update(body)?;
    storable(&items)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(
        service::update(&mut conn, &org, who.actor(), &items).await?
    ))
}
