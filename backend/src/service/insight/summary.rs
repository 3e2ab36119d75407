//! `GET /api/qbr/summary`: a period's written summary (`qbr_shared::insight::summary`)
//! and health score, from its SmartNumbers and the period before, its inputs, its
//! months' anomalies, the forecast of the quarter in progress and the goals that cover
//! it. Deterministic: the same data gives the same words.
use super::health::Scorer;
use super::smartnumber_values;
use super::{anomalies, forecast, goals, inputs, months_with_data, period_values};
use crate::cache::Caches;
use crate::error::AppResult;
use crate::store::goals as goal_store;
use crate::store::org::Org;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::insight::api::SummaryResponse;
use qbr_shared::insight::summary::{
    summarize, AnomalyNote, ForecastNote, GoalNote, NumberChange, SummaryInput,
};
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::{Month, Period};

/// The summary of `period` (`caches`: the server's, when it has them: the forecast is
/// kept there).
pub async fn summary(
    conn: &mut AsyncPgConnection,
    caches: Option<&Caches>,
    org: &Org,
    period: Period,
    now: DateTime<Utc>,
) -> AppResult<SummaryResponse> {
    let previous = period.previous();
    let values = smartnumber_values(conn, org, &[period, previous]).await?;
    let after = values.get(&period.to_string());
    let before = values.get(&previous.to_string());
    let scorer = Scorer::load(conn, org.id).await?;
    let health = scorer.score(&period, after);
    let previous_health = scorer.score(&previous, before);
    let monthly = inputs(
        conn,
        org.id,
        previous.first_month().add_months(-12),
        period.last_month(),
    )
    .await?;
    let mut input = SummaryInput::new(period);
    input.score = health.score;
    input.previous_score = previous_health.score;
    input.numbers = SMARTNUMBERS
        .iter()
        .map(|d| {
            let a = after.and_then(|v| v.get(d.key)).copied();
            let b = before.and_then(|v| v.get(d.key)).copied();
            NumberChange {
                key: d.key.to_string(),
                before: b,
                after: a,
                status_before: d.judge(&previous, scorer.bands.get(d.key), b),
                status_after: d.judge(&period, scorer.bands.get(d.key), a),
            }
        })
        .collect();
    input.months_before = months_with_data(&previous, &monthly).max(1);
    input.months_after = months_with_data(&period, &monthly).max(1);
    input.inputs_before = period_values(&previous, &monthly);
    input.inputs_after = period_values(&period, &monthly);
    input.anomalies = anomaly_notes(conn, org, &period, now).await?;
    input.forecast = forecast_notes(conn, caches, org, &period, now).await?;
    input.goals = goal_notes(conn, org, &period, now).await?;
    Ok(SummaryResponse {
        organization_id: org.id,
        period: period.to_string(),
        summary: summarize(&input),
        health,
        previous_score: previous_health.score,
    })
}

async fn anomaly_notes(
    conn: &mut AsyncPgConnection,
    org: &Org,
    period: &Period,
    now: DateTime<Utc>,
) -> AppResult<Vec<AnomalyNote>> {
    let months = period.months();
    let (Some(from), Some(to)) = (months.first(), months.last()) else {
        return Ok(Vec::new());
    };
    let found = anomalies::anomalies(conn, org, *from, *to, now).await?;
    Ok(found
        .anomalies
        .into_iter()
        .filter_map(|a| {
            Some(AnomalyNote {
                key: a.key,
                month: a.month.parse::<Month>().ok()?,
                value: a.value,
                typical_low: a.typical_low,
                typical_high: a.typical_high,
            })
        })
        .collect())
}

/// The forecast of the quarter in progress, when `period` is it or one of its months.
async fn forecast_notes(
    conn: &mut AsyncPgConnection,
    caches: Option<&Caches>,
    org: &Org,
    period: &Period,
    now: DateTime<Utc>,
) -> AppResult<Vec<ForecastNote>> {
    let current = org.current_month(now).quarter();
    if !Period::Quarter(current)
        .months()
        .iter()
        .any(|m| period.contains(*m))
        || matches!(period, Period::Year(_))
    {
        return Ok(Vec::new());
    }
    let forecast = match caches {
        Some(caches) => forecast::cached(conn, caches, org, current, now)
            .await?
            .value()
            .clone(),
        None => forecast::forecast(conn, org, current, now).await?,
    };
    if forecast.months_elapsed >= 3 {
        return Ok(Vec::new());
    }
    Ok(forecast
        .numbers
        .iter()
        .filter_map(|n| {
            Some(ForecastNote {
                key: n.key.clone(),
                expected: n.expected?,
                low: n.low?,
                high: n.high?,
                status: n.status,
            })
        })
        .collect())
}

/// The goals of `period`, or of the year or quarter it falls in.
async fn goal_notes(
    conn: &mut AsyncPgConnection,
    org: &Org,
    period: &Period,
    now: DateTime<Utc>,
) -> AppResult<Vec<GoalNote>> {
    let rows = goal_store::all(conn, org.id).await?;
    let covering: Vec<_> = rows
        .into_iter()
        .filter(|r| {
            r.period
                .parse::<Period>()
                .is_ok_and(|p| p == *period || p.months().iter().any(|m| period.contains(*m)))
        })
        .collect();
    if covering.is_empty() {
        return Ok(Vec::new());
    }
    let mut periods: Vec<Period> = Vec::new();
    for r in &covering {
        if let Ok(p) = r.period.parse::<Period>() {
            periods.extend([p, p.previous()]);
        }
    }
    let values = smartnumber_values(conn, org, &periods).await?;
    let current = org.current_month(now);
    Ok(covering
        .iter()
        .filter_map(|r| goals::standing(r, &values))
        .map(|g| GoalNote {
            settled: g
                .period
                .parse::<Period>()
                .is_ok_and(|p| p.last_month() < current),
            key: g.key,
            target: g.target,
            value: g.value,
        })
        .collect())
}
