//! Insight on an organization's numbers: anomalies against each series' own history,
//! the forecast of the quarter in progress, the business health score, goals and the
//! written summary of a period.
//!
//! The statistics are the `insight` crate's and the words and scores `qbr_shared::insight`'s
//! (both pure); this module loads what they need — monthly inputs, stored SmartNumbers,
//! bands, weights, goals — and turns their results into the API's answers.
pub mod anomalies;
pub mod client_anomalies;
pub mod forecast;
pub mod goals;
pub mod health;
pub mod summary;

use crate::error::AppResult;
use crate::service::smartnumbers::load_rows;
use crate::store::org::Org;
use crate::store::smartnumbers::SmartNumberRow;
use crate::store::{metrics, recompute};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::catalogue::{is_input, metric_def, METRICS};
use qbr_shared::expr::Values;
use qbr_shared::values::average_monthly_expenses;
use qbr_shared::{Month, Period};
use std::collections::BTreeMap;

/// How many months of history a series is scored or forecast against.
pub const HISTORY_MONTHS: i32 = 24;
/// The month in progress counts (at its run rate) once this share of it has passed:
/// earlier, a few days of tickets say little about the month.
pub const RUN_RATE_FROM: f64 = 0.5;

/// The monthly inputs of `from..=to` (months without any value are absent).
pub async fn inputs(
    conn: &mut AsyncPgConnection,
    org: i32,
    from: Month,
    to: Month,
) -> AppResult<BTreeMap<Month, Values>> {
    let months = Month::range(from, to, 1200).unwrap_or_default();
    let rows = metrics::rows_for_months(conn, org, &months).await?;
    Ok(metrics::inputs_by_month(&rows))
}

/// The month in progress (in the organization's zone), and how much of it has passed.
pub fn in_progress(org: &Org, now: DateTime<Utc>) -> (Month, f64) {
    let month = org.current_month(now);
    let today = now.with_timezone(&org.timezone).date_naive();
    (month, insight::anomaly::elapsed_fraction(month, today))
}

/// A partial month's inputs at their run rate (flows scaled up to the whole month,
/// levels kept).
pub fn run_rate_inputs(partial: &Values, elapsed: f64) -> Values {
    partial
        .iter()
        .filter_map(|(key, v)| {
            let def = metric_def(key).filter(|d| is_input(d))?;
            insight::run_rate(*v, elapsed, def.aggregation).map(|r| (key.clone(), r))
        })
        .collect()
}

/// Every metric of `period` from its months' inputs: aggregated, derived recomputed
/// (the previous calendar year's inputs give its average monthly expenses).
pub fn period_values(period: &Period, inputs: &BTreeMap<Month, Values>) -> Values {
    let months: Vec<&Values> = period
        .months()
        .iter()
        .filter_map(|m| inputs.get(m))
        .collect();
    let year = period.first_month().year() - 1;
    let prior: Vec<&Values> = Period::Year(year)
        .months()
        .iter()
        .filter_map(|m| inputs.get(m))
        .collect();
    recompute::period_values(&months, average_monthly_expenses(&prior))
}

/// The months of `period` that have data.
pub fn months_with_data(period: &Period, inputs: &BTreeMap<Month, Values>) -> u32 {
    let n = period
        .months()
        .iter()
        .filter(|m| inputs.contains_key(m))
        .count();
    u32::try_from(n).unwrap_or(0)
}

/// The stored SmartNumbers of `periods` as values by key, per period.
pub async fn smartnumber_values(
    conn: &mut AsyncPgConnection,
    org: &Org,
    periods: &[Period],
) -> AppResult<BTreeMap<String, Values>> {
    let rows = load_rows(conn, org, periods).await?;
    Ok(by_period(&rows))
}

fn by_period(rows: &[SmartNumberRow]) -> BTreeMap<String, Values> {
    let mut out: BTreeMap<String, Values> = BTreeMap::new();
    for r in rows {
        if let Some(v) = r.value() {
            out.entry(r.period.clone())
                .or_default()
                .insert(r.kpi_name.clone(), v);
        }
    }
    out
}

/// The catalogue's monthly inputs (what anomalies are looked for in).
pub fn input_keys() -> impl Iterator<Item = &'static str> {
    METRICS.iter().filter(|d| is_input(d)).map(|d| d.key)
}
