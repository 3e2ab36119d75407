//! What the printable QBR report of a quarter shows, gathered from the same sources as
//! the JSON reads: the quarter's SmartNumbers, its Monthly Business Review columns and
//! eight quarters of trends. `crate::report` draws it.
use super::insight::{anomalies, client_anomalies, forecast, goals, summary};
use super::metrics::QuarterInputs;
use super::smartnumbers::{build_number, load_rows, trend_series};
use crate::error::{AppError, AppResult};
use crate::report::{ReportData, ReviewRow};
use crate::store::org::Org;
use crate::store::thresholds;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use qbr_shared::catalogue::METRICS;
use qbr_shared::insight::api::{by_client_month, ClientAnomaliesResponse, ForecastResponse};
use qbr_shared::smartnumbers::{SmartNumberDef, SMARTNUMBERS};
use qbr_shared::thresholds::Status;
use qbr_shared::{ErrorCode, Period, Quarter};

/// Quarters shown in the trend charts, the report's quarter last.
const TREND_QUARTERS: usize = 8;

/// The quarter a report covers; a month or year is refused (400 `INVALID_PERIOD`).
pub fn report_quarter(period: Option<Period>) -> AppResult<Option<Quarter>> {
    match period {
        None => Ok(None),
        Some(Period::Quarter(q)) => Ok(Some(q)),
        Some(other) => Err(AppError::new(
            ErrorCode::InvalidPeriod,
            format!("A report covers a quarter (YYYY-Qn), not '{other}'"),
        )),
    }
}

/// The report's quarter and the seven before it, oldest first.
fn trend_quarters(quarter: Quarter) -> Vec<Period> {
    let mut quarters = vec![quarter];
    while quarters.len() < TREND_QUARTERS {
        let earlier = quarters[quarters.len() - 1].prev();
        quarters.push(earlier);
    }
    quarters.into_iter().rev().map(Period::Quarter).collect()
}

/// Gathers what the report shows; 404 `NO_DATA` if the quarter has no numbers. `tz` is
/// the zone of the generation time printed on it.
pub async fn gather(
    conn: &mut AsyncPgConnection,
    org: &Org,
    quarter: Quarter,
    tz: chrono_tz::Tz,
) -> AppResult<ReportData> {
    let periods = trend_quarters(quarter);
    let rows = load_rows(conn, org, &periods).await?;
    let name = quarter.to_string();
    let Some(row) = rows.iter().find(|r| r.period == name) else {
        return Err(AppError::no_data(format!("No data for {name}")));
    };
    let months_counted = row.months_counted as u32;
    let bands = thresholds::bands_by_key(conn, org.id).await?;
    let period = Period::Quarter(quarter);
    let numbers = SMARTNUMBERS
        .iter()
        .map(|d| build_number(d, &period, &rows, bands.get(d.key)))
        .collect();
    let defs: Vec<&SmartNumberDef> = SMARTNUMBERS.iter().collect();
    let trends = trend_series(&defs, &periods, &rows, &bands);
    let inputs = QuarterInputs::load(conn, org.id, quarter).await?;
    let words = summary::summary(conn, None, org, period, Utc::now()).await?;
    let goals = goals::list(conn, org)
        .await?
        .goals
        .into_iter()
        .filter(|g| g.period == period.to_string() || g.period == quarter.year().to_string())
        .filter_map(|g| g.sentence)
        .collect();
    let now = Utc::now();
    let [first, _, last] = quarter.months();
    let unusual = anomalies::anomalies(conn, org, first, last, now)
        .await?
        .anomalies
        .into_iter()
        .take(MAX_UNUSUAL)
        .map(|a| a.explanation)
        .collect();
    let client_unusual = client_unusual(
        &client_anomalies::client_anomalies(conn, org, None, first, last, now).await?,
    );
    let forecast = if org.current_month(now).quarter() == quarter {
        heading(&forecast::forecast(conn, org, quarter, now).await?)
    } else {
        Vec::new()
    };
    Ok(ReportData {
        organization: org.name.clone(),
        quarter,
        generated_at: Utc::now()
            .with_timezone(&tz)
            .format("%-d %b %Y, %H:%M %Z")
            .to_string(),
        months_counted,
        numbers,
        months: inputs.months.to_vec(),
        review: review_rows(&inputs),
        trend_periods: periods.iter().map(Period::to_string).collect(),
        trends,
        summary: words.summary.sentences,
        health_score: words.health.score,
        goals,
        unusual,
        client_unusual,
        forecast,
    })
}

/// How many unusual values (and clients' unusual months) the report lists.
const MAX_UNUSUAL: usize = 5;

/// "Acme Dental: Reactive hours in Mar 2026: 64.0 h, typical … Also unusual: RHEM." —
/// one line per client and month, as the clients' page lists them.
fn client_unusual(found: &ClientAnomaliesResponse) -> Vec<String> {
    by_client_month(&found.anomalies)
        .iter()
        .take(MAX_UNUSUAL)
        .map(|g| {
            let also = g.also_text().map(|t| format!(" {t}")).unwrap_or_default();
            format!(
                "{}: {}{also}",
                g.first.client_name, g.first.anomaly.explanation
            )
        })
        .collect()
}

/// "Tickets / Endpoint / Month: on track for 0.31 (0.28 – 0.34), yellow" per number
/// with a forecast.
fn heading(f: &ForecastResponse) -> Vec<String> {
    f.numbers
        .iter()
        .filter_map(|n| {
            let fmt = |v: f64| qbr_shared::format::value(n.unit, Some(v));
            let (mid, low, high) = (n.expected?, n.low?, n.high?);
            let status = match n.status {
                Status::None => String::new(),
                s => format!(", {}", s.label()),
            };
            Some(format!(
                "{}: on track for {} ({} – {}){status}",
                n.label,
                fmt(mid),
                fmt(low),
                fmt(high)
            ))
        })
        .collect()
}

/// Every catalogue metric's three months and quarter value.
fn review_rows(inputs: &QuarterInputs) -> Vec<ReviewRow> {
    let month_values: Vec<_> = inputs
        .months
        .iter()
        .map(|m| inputs.month_values(*m))
        .collect();
    let quarter_values = inputs.quarter_values();
    METRICS
        .iter()
        .map(|def| ReviewRow {
            def,
            months: month_values
                .iter()
                .map(|v| v.as_ref().and_then(|v| v.get(def.key).copied()))
                .collect(),
            quarter: quarter_values.get(def.key).copied(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_for_a_quarter() {
        let q: Quarter = "2025-Q1".parse().unwrap_or_else(|_| unreachable!());
        assert!(matches!(report_quarter(Some(Period::Quarter(q))), Ok(Some(x)) if x == q));
        assert!(matches!(report_quarter(None), Ok(None)));
        let month = "2025-01"
            .parse::<Period>()
            .unwrap_or_else(|_| unreachable!());
        let err = report_quarter(Some(month)).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("quarter")));
    }

    #[test]
    fn trends_cover_eight_quarters_ending_with_the_report() {
        let q: Quarter = "2025-Q1".parse().unwrap_or_else(|_| unreachable!());
        let periods = trend_quarters(q);
        assert_eq!(periods.len(), TREND_QUARTERS);
        assert_eq!(
            periods.first().map(Period::to_string).as_deref(),
            Some("2023-Q2")
        );
        assert_eq!(periods.last(), Some(&Period::Quarter(q)));
    }
}
