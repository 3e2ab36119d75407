//! Monthly values: read one month, a quarter or a range; manual entry; hand-back to
//! the collector; history.
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, organization_by_id, organization_id, reader, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk, Cached};
use crate::service::entry::{self, ManualEntry, Recollect};
use crate::service::metrics::{self as service, known_metric, MonthlyQuery};
use qbr_shared::api::*;
use qbr_shared::catalogue::MetricDef;
use qbr_shared::openapi::MetricKey;
use qbr_shared::{ErrorCode, Month, Quarter};
use salvo::prelude::*;

/// One month's stored values (inputs and calculated), with who/when/how.
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<Month>, Query, description = "YYYY-MM; defaults to the latest month with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
        ("vendor_id" = Option<i32>, Query, minimum = 1, maximum = 4, description = "Only values of this vendor (1 manual, 2 NinjaOne, 3 ConnectWise, 4 QuickBooks)"),
        ("metric_name" = Option<MetricKey>, Query, description = "Only this metric"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_monthly(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<MonthlyMetricsResponse>> {
    let query = MonthlyQuery {
        month: params::month(req, "period")?,
        vendor_id: params::int(req, "vendor_id", 1, 4)?.map(|v| v as i32),
        metric: params::raw(req, "metric_name")
            .map(|k| known_metric(&k))
            .transpose()?,
    };
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::monthly(&mut r.conn, &r.caches, &r.org, query).await?,
    ))
}

/// A quarter's values aggregated by the catalogue's rules (sum, average, last;
/// derived metrics recomputed from the aggregated inputs).
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<Quarter>, Query, description = "YYYY-Qn; defaults to the latest quarter with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_quarterly(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<QuarterlyMetricsResponse>> {
    let quarter = params::raw(req, "period")
        .map(|v| {
            v.parse::<Quarter>()
                .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("period: {e}")))
        })
        .transpose()?;
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::quarterly(&mut r.conn, &r.caches, &r.org, quarter).await?,
    ))
}

/// A months × metrics matrix (at most 60 months, `from` not after `to`), for the
/// Monthly Business Review table and charts. Months without a value hold null.
#[endpoint(
    tags("metrics"),
    parameters(
        ("from" = Month, Query, description = "First month"),
        ("to" = Month, Query, description = "Last month (at most 60 months from `from`, not before it)"),
        ("metric_name" = Option<Vec<MetricKey>>, Query, style = Form, explode = false, description = "Comma-separated metric keys (default: all)"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_range(req: &mut Request, depot: &mut Depot) -> AppResult<Cached<RangeResponse>> {
    let from = params::required(params::month(req, "from")?, "from")?;
    let to = params::required(params::month(req, "to")?, "to")?;
    let wanted: Vec<&MetricDef> = params::list(req, "metric_name")
        .iter()
        .map(|k| known_metric(k))
        .collect::<AppResult<_>>()?;
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::range(&mut r.conn, &r.caches, &r.org, from, to, wanted).await?,
    ))
}

/// Enters manual values for one month: validates every item first, then writes all or
/// none, keeps history, and recomputes derived values and SmartNumbers.
#[endpoint(
    tags("metrics"),
    request_body = ManualEntryRequest,
    responses(errors::JsonBody, errors::NotFound, errors::Conflict)
)]
pub async fn post_manual(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ManualEntryResponse>> {
    let body: ManualEntryRequest = params::json_body(req).await?;
    let validated = ManualEntry::validate(&body)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org_id = organization_id(depot, body.organization_id)?;
    let org = organization_by_id(depot, &mut conn, org_id).await?;
    Ok(ok(
        entry::enter(&mut conn, &org, who.actor(), &validated).await?
    ))
}

/// Hands manual values of collected metrics back to the collector, so the next
/// collection may replace them.
#[endpoint(
    tags("metrics"),
    request_body = RecollectRequest,
    responses(errors::JsonBody, errors::NotFound, errors::Conflict)
)]
pub async fn post_recollect(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<RecollectResponse>> {
    let body: RecollectRequest = params::json_body(req).await?;
    let validated = Recollect::validate(&body)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org_id = organization_id(depot, body.organization_id)?;
    let org = organization_by_id(depot, &mut conn, org_id).await?;
    Ok(ok(entry::recollect(
        &mut conn,
        &org,
        who.actor(),
        &validated,
    )
    .await?))
}

/// Every change of a month's and/or a metric's values, newest first.
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<Month>, Query, description = "Only this month"),
        ("metric_name" = Option<MetricKey>, Query, description = "Only this metric"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Changes to list, default 200"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_history(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<HistoryResponse>> {
    let month = params::month(req, "period")?;
    let metric = params::raw(req, "metric_name")
        .map(|k| known_metric(&k))
        .transpose()?;
    let limit = params::int(req, "limit", 1, 1000)?.unwrap_or(200);
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::history(&mut r.conn, &r.caches, &r.org, month, metric, limit).await?,
    ))
}
