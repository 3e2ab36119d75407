//! Insight: `GET /api/qbr/anomalies`, `/clients/anomalies`, `/clients/{id}/anomalies`,
//! `/forecast`, `/health-score`, `/summary`, and `GET/PUT /api/qbr/goals`.
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, organization, reader, Reader, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk, Cached};
use crate::service::clients as client_service;
use crate::service::insight::{anomalies, client_anomalies, forecast, goals, health, summary};
use crate::service::periods;
use crate::store::org::Org;
use chrono::Utc;
use qbr_shared::insight::api::{
    AnomaliesResponse, ClientAnomaliesResponse, ForecastResponse, GoalUpdate, GoalsResponse,
    HealthScoreResponse, SummaryResponse,
};
use qbr_shared::{Month, Period, Quarter};
use salvo::prelude::*;

/// The months `from..=to` asked, or by default the `back` months up to the latest with
/// data (or the month in progress).
async fn months(r: &mut Reader, req: &Request, back: i32) -> AppResult<(Month, Month)> {
    let from = params::month(req, "from")?;
    let to = params::month(req, "to")?;
    let to = match to {
        Some(t) => t,
        None => periods::latest_month(&mut r.conn, &r.caches, &r.org)
            .await?
            .unwrap_or_else(|| r.org.current_month(Utc::now())),
    };
    let from = from.unwrap_or_else(|| to.add_months(1 - back));
    if from > to {
        return Err(AppError::invalid_parameter(format!(
            "from ({from}) is after to ({to})"
        )));
    }
    Ok((from, to))
}

/// The months of the range that are unusual for their series (inputs and SmartNumbers),
/// strongest first, each with its typical range and an explanation. The month in
/// progress is judged on its run rate once half of it has passed.
#[endpoint(
    tags("insight"),
    parameters(
        ("from" = Option<Month>, Query, description = "First month (YYYY-MM); default: two months before `to`"),
        ("to" = Option<Month>, Query, description = "Last month (YYYY-MM); default: the latest month with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_anomalies(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<AnomaliesResponse>> {
    let mut r = reader(req, depot).await?;
    let (from, to) = months(&mut r, req, 3).await?;
    Ok(ok(anomalies::anomalies(
        &mut r.conn,
        &r.org,
        from,
        to,
        Utc::now(),
    )
    .await?))
}

/// Every client's unusual months of the range (each client's inputs and numbers against
/// that client's own history, chance noise of small counts allowed for), strongest
/// first.
#[endpoint(
    tags("insight"),
    parameters(
        ("from" = Option<Month>, Query, description = "First month (YYYY-MM); default: two months before `to`"),
        ("to" = Option<Month>, Query, description = "Last month (YYYY-MM); default: the latest month with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_clients_anomalies(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientAnomaliesResponse>> {
    let mut r = reader(req, depot).await?;
    let (from, to) = months(&mut r, req, 3).await?;
    Ok(ok(client_anomalies::client_anomalies(
        &mut r.conn,
        &r.org,
        None,
        from,
        to,
        Utc::now(),
    )
    .await?))
}

/// One client's unusual months of the range.
#[endpoint(
    tags("insight"),
    parameters(
        ("id" = i64, Path, description = "Client id"),
        ("from" = Option<Month>, Query, description = "First month (YYYY-MM); default: 11 months before `to`"),
        ("to" = Option<Month>, Query, description = "Last month (YYYY-MM); default: the latest month with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_client_anomalies(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientAnomaliesResponse>> {
    let id = super::clients::client_id(req)?;
    let mut r = reader(req, depot).await?;
    // Another organization's client (or none) is not found, whatever the query says.
    client_service::one(&mut r.conn, r.org.id, id).await?;
    let (from, to) = months(&mut r, req, 12).await?;
    Ok(ok(client_anomalies::client_anomalies(
        &mut r.conn,
        &r.org,
        Some(id),
        from,
        to,
        Utc::now(),
    )
    .await?))
}

/// Where each SmartNumber is expected to end the quarter, with an 80 % interval and the
/// status it would land in; a quarter that has ended is its actual values.
#[endpoint(
    tags("insight"),
    parameters(
        ("period" = Option<Quarter>, Query, description = "YYYY-Qn; default: the quarter in progress"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_forecast(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<ForecastResponse>> {
    let asked = params::period(req, "period")?;
    let mut r = reader(req, depot).await?;
    let now = Utc::now();
    let quarter = match asked {
        None => r.org.current_month(now).quarter(),
        Some(Period::Quarter(q)) => q,
        Some(other) => {
            return Err(AppError::invalid_parameter(format!(
                "period: a forecast is of a quarter (YYYY-Qn), got {other}"
            )))
        }
    };
    Ok(Cached(
        forecast::cached(&mut r.conn, &r.caches, &r.org, quarter, now).await?,
    ))
}

/// The business health score (0–100) of every month and quarter of the range, with the
/// sections that pull it down and its definition.
#[endpoint(
    tags("insight"),
    parameters(
        ("from" = Option<Month>, Query, description = "First month (YYYY-MM); default: 11 months before `to`"),
        ("to" = Option<Month>, Query, description = "Last month (YYYY-MM); default: the latest month with data"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_health_score(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<HealthScoreResponse>> {
    let mut r = reader(req, depot).await?;
    let (from, to) = months(&mut r, req, 12).await?;
    Ok(ok(health::range(&mut r.conn, &r.org, from, to).await?))
}

/// A period's summary in words (the score and its change, numbers that changed status,
/// the largest movers and their causes, anomalies, the forecast, goals) and its score.
#[endpoint(
    tags("insight"),
    parameters(
        ("period" = Option<Period>, Query, description = "YYYY-Qn, YYYY-MM or YYYY; default as for smartnumbers"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_summary(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<SummaryResponse>> {
    let asked = params::period(req, "period")?;
    let mut r = reader(req, depot).await?;
    let period = periods::default_period(&mut r.conn, &r.caches, &r.org, asked).await?;
    let Reader { conn, caches, org } = &mut r;
    Ok(ok(summary::summary(
        conn,
        Some(caches),
        org,
        period,
        Utc::now(),
    )
    .await?))
}

/// The organization's goals (a target for a SmartNumber over a quarter or a year) with
/// where each number stands.
#[endpoint(
    tags("insight"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_goals(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<GoalsResponse>> {
    let mut r = reader(req, depot).await?;
    Ok(ok(goals::list(&mut r.conn, &r.org).await?))
}

/// Sets a goal, or removes it with `target: null` (admins); checked, then audited.
#[endpoint(
    tags("insight"),
    request_body = GoalUpdate,
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::JsonBody, errors::BadParameter, errors::NotFound)
)]
pub async fn put_goals(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<GoalsResponse>> {
    let body: GoalUpdate = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org: Org = organization(req, depot, &mut conn).await?;
    crate::http::context::organization_id(depot, body.organization_id)?;
    Ok(ok(goals::update(&mut conn, &org, &body, who.actor()).await?))
}
