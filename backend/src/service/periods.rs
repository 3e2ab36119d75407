//! Which periods have data, and the period a request means when it names none.
use super::{encode, Answer};
use crate::cache::{Caches, PeriodsKey};
use crate::error::{AppError, AppResult};
use crate::store::metrics;
use crate::store::org::Org;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use qbr_shared::api::PeriodsResponse;
use qbr_shared::{Month, Period, Quarter};

/// The latest month with any value.
pub async fn latest_month(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
) -> AppResult<Option<Month>> {
    let latest = caches
        .latest_month
        .get_or_build(org.id, org.data_version, || async {
            metrics::latest_month(conn, org.id).await
        })
        .await?;
    Ok(*latest)
}

/// The latest month with data, or 404 `NO_DATA`.
pub async fn latest_month_or_no_data(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
) -> AppResult<Month> {
    latest_month(conn, caches, org)
        .await?
        .ok_or_else(|| AppError::no_data("No data has been stored yet"))
}

/// The period a SmartNumber-style request is about: `given`, else the quarter in
/// progress if it has data, else the latest quarter with data.
pub async fn default_period(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    given: Option<Period>,
) -> AppResult<Period> {
    if let Some(p) = given {
        return Ok(p);
    }
    let current = org.current_month(Utc::now()).quarter();
    let latest = latest_month_or_no_data(conn, caches, org).await?.quarter();
    Ok(Period::Quarter(latest.min(current)))
}

/// The dashboard's default quarter (as [`default_period`] with nothing given).
pub async fn default_quarter(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
) -> AppResult<Quarter> {
    Ok(default_period(conn, caches, org, None)
        .await?
        .last_month()
        .quarter())
}

/// The months, quarters and years that have data, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
) -> AppResult<Answer<PeriodsResponse>> {
    let current = org.current_month(Utc::now());
    let key = PeriodsKey {
        org: org.id,
        current,
        name: org.name.clone(),
    };
    caches
        .periods
        .get_or_build(key, org.data_version, || async {
            let months = metrics::months_with_data(conn, org.id).await?;
            encode(periods_response(org, current, &months))
        })
        .await
}

fn periods_response(org: &Org, current: Month, months: &[Month]) -> PeriodsResponse {
    let mut quarters: Vec<String> = months.iter().map(|m| m.quarter().to_string()).collect();
    quarters.dedup();
    let mut years: Vec<String> = months.iter().map(|m| m.year().to_string()).collect();
    years.dedup();
    PeriodsResponse {
        organization_id: org.id,
        organization_name: org.name.clone(),
        current_month: current.to_string(),
        current_quarter: current.quarter().to_string(),
        months: months.iter().rev().map(Month::to_string).collect(),
        quarters: quarters.into_iter().rev().collect(),
        years: years.into_iter().rev().collect(),
    }
}
