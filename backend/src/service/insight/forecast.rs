//! `GET /api/qbr/forecast`: where each SmartNumber is expected to end a quarter, with
//! an 80 % interval and the status it would land in (the `insight` crate's forecast of
//! the remaining months' inputs and a seeded simulation of the quarter).
//!
//! A quarter that has ended is its actual values (a zero-width interval); the quarter
//! in progress counts its whole months, and the month in progress at its run rate once
//! half of it has passed; a quarter that has not started is refused.
use super::{in_progress, inputs, run_rate_inputs, smartnumber_values, RUN_RATE_FROM};
use crate::cache::Caches;
use crate::error::{AppError, AppResult};
use crate::service::{encode, Answer};
use crate::store::org::Org;
use crate::store::thresholds;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use insight::ForecastOptions;
use qbr_shared::insight::api::{ForecastResponse, NumberForecast};
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::thresholds::Status;
use qbr_shared::{Month, Period, Quarter};

/// Simulated quarters per forecast: the 10th and 90th percentiles settle within a
/// point or two, at half the cost of the benchmark's 2,000.
const DRAWS: usize = 1000;

/// The method, in words, for the answer.
const METHOD: &str = "Each input's remaining months are forecast from its last 24 months \
    (exponential smoothing with its own intervals, or the mean of the last six months when \
    fewer than 12 exist); 1,000 simulated quarters give each SmartNumber its expected value \
    and the range 8 in 10 of them end in.";

/// The forecast of `quarter` (cached per organization data version and day).
pub async fn cached(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    quarter: Quarter,
    now: DateTime<Utc>,
) -> AppResult<Answer<ForecastResponse>> {
    let day = now.with_timezone(&org.timezone).date_naive();
    caches
        .forecast
        .get_or_build((org.id, quarter, day), org.data_version, || async {
            encode(forecast(conn, org, quarter, now).await?)
        })
        .await
}

/// The forecast of `quarter`.
pub async fn forecast(
    conn: &mut AsyncPgConnection,
    org: &Org,
    quarter: Quarter,
    now: DateTime<Utc>,
) -> AppResult<ForecastResponse> {
    let (current, elapsed_share) = in_progress(org, now);
    if quarter > current.quarter() {
        return Err(AppError::invalid_parameter(format!(
            "{quarter} has not started: a forecast is made for the quarter in progress \
             ({}) or an earlier one",
            current.quarter()
        )));
    }
    let first = quarter.months()[0];
    let mut inputs = inputs(
        conn,
        org.id,
        first.add_months(-super::HISTORY_MONTHS),
        quarter.months()[2],
    )
    .await?;
    let (elapsed, run_rate_month) = elapsed_months(quarter, current, elapsed_share);
    if let Some(m) = run_rate_month {
        if let Some(partial) = inputs.get(&m) {
            let rated = run_rate_inputs(partial, elapsed_share);
            inputs.insert(m, rated);
        }
    }
    let bands = thresholds::bands_by_key(conn, org.id).await?;
    let options = ForecastOptions {
        working_hours: org.working_hours,
        draws: DRAWS,
        ..ForecastOptions::default()
    };
    let result = insight::forecast_quarter(
        &inputs,
        quarter,
        elapsed,
        &|key| bands.get(key).copied(),
        &options,
    )
    .map_err(AppError::internal)?;
    let period = Period::Quarter(quarter);
    let so_far = smartnumber_values(conn, org, &[period]).await?;
    let so_far = so_far.get(&period.to_string());
    let numbers = SMARTNUMBERS
        .iter()
        .map(|def| {
            let f = result.numbers.iter().find(|n| n.key == def.key);
            NumberForecast {
                key: def.key.to_string(),
                label: def.label.to_string(),
                unit: def.unit,
                expected: f.map(|f| f.point),
                low: f.map(|f| f.low),
                high: f.map(|f| f.high),
                status: f.map_or(Status::None, |f| f.status),
                so_far: so_far.and_then(|v| v.get(def.key)).copied(),
            }
        })
        .collect();
    Ok(ForecastResponse {
        organization_id: org.id,
        period: quarter.to_string(),
        months_elapsed: u32::try_from(elapsed).unwrap_or(3),
        run_rate_month: run_rate_month.map(|m| m.to_string()),
        method: METHOD.to_string(),
        numbers,
    })
}

/// The quarter's months taken as known, and the month in progress among them (at its
/// run rate) when it counts.
fn elapsed_months(quarter: Quarter, current: Month, share: f64) -> (usize, Option<Month>) {
    if quarter < current.quarter() {
        return (3, None);
    }
    let whole = quarter.months().iter().filter(|m| **m < current).count();
    if share >= RUN_RATE_FROM && whole < 3 {
        (whole + 1, Some(current))
    } else {
        (whole, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn the_month_in_progress_counts_from_half_way() {
        let q = month("2026-11").quarter();
        assert_eq!(elapsed_months(q, month("2026-11"), 0.2), (1, None));
        assert_eq!(
            elapsed_months(q, month("2026-11"), 0.6),
            (2, Some(month("2026-11")))
        );
        assert_eq!(elapsed_months(q, month("2026-10"), 0.1), (0, None));
        assert_eq!(
            elapsed_months(month("2026-07").quarter(), month("2026-11"), 0.1),
            (3, None)
        );
    }
}
