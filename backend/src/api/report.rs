//! The printable QBR report: gathers a quarter's SmartNumbers, review columns and
//! trends from the same sources as the JSON endpoints, and has `crate::report` draw it.
use super::metrics::{default_period, quarter_inputs};
use super::smartnumbers::{build_number, load_rows, trend_series};
use super::{conn, organization, params};
use crate::error::{AppError, AppResult};
use crate::report::{self, Paper, ReportData, ReviewRow};
use crate::store::org::Org;
use crate::store::thresholds;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use qbr_shared::catalogue::METRICS;
use qbr_shared::smartnumbers::{SmartNumberDef, SMARTNUMBERS};
use qbr_shared::{ErrorCode, Period, Quarter};
use salvo::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use salvo::http::HeaderValue;
use salvo::prelude::*;

/// Quarters shown in the trend charts, the report's quarter last.
const TREND_QUARTERS: usize = 8;

fn report_quarter(period: Option<Period>) -> AppResult<Option<Quarter>> {
    match period {
        None => Ok(None),
        Some(Period::Quarter(q)) => Ok(Some(q)),
        Some(other) => Err(AppError::new(
            ErrorCode::InvalidPeriod,
            format!("A report covers a quarter (YYYY-Qn), not '{other}'"),
        )),
    }
}

fn time_zone(req: &Request, org: &Org) -> AppResult<chrono_tz::Tz> {
    match params::raw(req, "tz") {
        None => Ok(org.timezone),
        Some(name) => name.parse().map_err(|_| {
            AppError::invalid_parameter(format!(
                "tz: '{name}' is not an IANA time zone such as America/Chicago"
            ))
        }),
    }
}

/// The dashboard's default: the quarter in progress if it has data, else the latest
/// quarter with data.
pub async fn default_quarter(conn: &mut AsyncPgConnection, org: &Org) -> AppResult<Quarter> {
    Ok(default_period(conn, org, None)
        .await?
        .last_month()
        .quarter())
}

/// Gathers what the report shows; 404 `NO_DATA` if the quarter has no numbers.
pub async fn gather(
    conn: &mut AsyncPgConnection,
    org: &Org,
    quarter: Quarter,
    tz: chrono_tz::Tz,
) -> AppResult<ReportData> {
    let mut trend = vec![quarter];
    while trend.len() < TREND_QUARTERS {
        let earlier = trend[trend.len() - 1].prev();
        trend.push(earlier);
    }
    trend.reverse();
    let periods: Vec<Period> = trend.iter().copied().map(Period::Quarter).collect();
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
    let inputs = quarter_inputs(conn, org.id, quarter).await?;
    let month_values: Vec<_> = inputs
        .months
        .iter()
        .map(|m| inputs.month_values(*m))
        .collect();
    let quarter_values = inputs.quarter_values();
    let review = METRICS
        .iter()
        .map(|def| ReviewRow {
            def,
            months: month_values
                .iter()
                .map(|v| v.as_ref().and_then(|v| v.get(def.key).copied()))
                .collect(),
            quarter: quarter_values.get(def.key).copied(),
        })
        .collect();
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
        review,
        trend_periods: periods.iter().map(Period::to_string).collect(),
        trends,
    })
}

/// The printable Quarterly Business Review of a quarter as a PDF: the 18 SmartNumbers
/// with statuses and changes, the quarter's Monthly Business Review columns, and a
/// trend chart per SmartNumber over the last eight quarters.
#[endpoint(
    tags("io"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-Qn; default: the quarter in progress if it has data, else the latest with data"),
        ("format" = Option<String>, Query, description = "pdf (the default and only format)"),
        ("paper" = Option<String>, Query, description = "letter (default) or a4"),
        ("tz" = Option<String>, Query, description = "IANA time zone for the generation time (default: the organization's)"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    ),
    responses(
        (status_code = 200, description = "The report (application/pdf)"),
    )
)]
pub async fn get_report(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    params::choice(req, "format", &["pdf"])?;
    let paper = match params::choice(req, "paper", &["letter", "a4"])? {
        Some("a4") => Paper::A4,
        _ => Paper::Letter,
    };
    let quarter = report_quarter(params::period(req, "period")?)?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let tz = time_zone(req, &org)?;
    let quarter = match quarter {
        Some(q) => q,
        None => default_quarter(&mut conn, &org).await?,
    };
    let data = gather(&mut conn, &org, quarter, tz).await?;
    drop(conn);
    // Layout and PDF writing are CPU work: keep them off the async workers.
    let pdf = tokio::task::spawn_blocking(move || report::render(&data, paper))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("report task: {e}")))?
        .map_err(AppError::internal)?;
    res.status_code(StatusCode::OK);
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"qbr-{quarter}.pdf\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    res.write_body(pdf)
        .map_err(|e| AppError::internal(anyhow::anyhow!("body: {e}")))?;
    Ok(())
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
}
