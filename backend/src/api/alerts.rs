//! `GET /api/qbr/alerts`.
use crate::error::AppResult;
use crate::http::context::reader;
use crate::http::response::errors;
use crate::http::{params, Cached};
use crate::service::alerts as service;
use qbr_shared::api::AlertsResponse;
use qbr_shared::Period;
use salvo::prelude::*;

/// The alerts of `smartnumbers.md` for a period, plus data-quality flags of its inputs.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("period" = Option<Period>, Query, description = "YYYY-Qn, YYYY-MM or YYYY; default as for smartnumbers"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_alerts(req: &mut Request, depot: &mut Depot) -> AppResult<Cached<AlertsResponse>> {
    let period = params::period(req, "period")?;
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::for_period(&mut r.conn, &r.caches, &r.org, period).await?,
    ))
}
