//! The 18 SmartNumbers of a period, and their trends.
use super::metrics::default_period;
use super::response::{ok, ApiOk};
use super::{conn, organization, params};
use crate::error::{AppError, AppResult};
use crate::store::org::Org;
use crate::store::smartnumbers::{self as store, SmartNumberRow};
use crate::store::{metrics, recompute, thresholds};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::*;
use qbr_shared::smartnumbers::{smartnumber_def, Better, SmartNumberDef, SMARTNUMBERS};
use qbr_shared::thresholds::{Bands, Status};
use qbr_shared::{ErrorCode, Month, Period, PeriodKind, Quarter};
use salvo::prelude::*;
use std::collections::BTreeMap;

/// Most periods one trend request may cover.
const MAX_TREND_PERIODS: usize = 120;

/// Status of a number in a period: #14–#16 are judged for quarters and years only.
pub(crate) fn judge(
    def: &SmartNumberDef,
    period: &Period,
    bands: Option<&Bands>,
    value: Option<f64>,
) -> Status {
    if def.quarters_only && period.kind() == PeriodKind::Month {
        return Status::None;
    }
    bands.map_or(Status::None, |b| b.status(value))
}

/// Whether moving from `before` to `after` is better, by the number's direction.
pub(crate) fn improved(
    def: &SmartNumberDef,
    bands: Option<&Bands>,
    before: f64,
    after: f64,
) -> Option<bool> {
    if (after - before).abs() < 1e-12 {
        return None;
    }
    match def.better {
        Better::Higher => Some(after > before),
        Better::Lower => Some(after < before),
        Better::Range => bands
            .and_then(Bands::green_target)
            .map(|t| (after - t).abs() < (before - t).abs()),
    }
}

/// Stored rows of `periods`; periods with monthly data but no stored numbers (data
/// loaded behind the API's back) are computed and stored first.
pub(crate) async fn load_rows(
    conn: &mut AsyncPgConnection,
    org: &Org,
    periods: &[Period],
) -> AppResult<Vec<SmartNumberRow>> {
    let names: Vec<String> = periods.iter().map(Period::to_string).collect();
    let rows = store::load(conn, org.id, &names).await?;
    let missing: Vec<Period> = periods
        .iter()
        .filter(|p| !rows.iter().any(|r| r.period == p.to_string()))
        .copied()
        .collect();
    if missing.is_empty() {
        return Ok(rows);
    }
    let months: Vec<Month> = missing.iter().flat_map(Period::months).collect();
    if metrics::rows_for_months(conn, org.id, &months)
        .await?
        .is_empty()
    {
        return Ok(rows);
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        crate::store::lock_organization_writes(conn, org.id).await?;
        recompute::refresh_periods(conn, org, &missing, Utc::now()).await?;
        Ok(())
    })
    .await?;
    Ok(store::load(conn, org.id, &names).await?)
}

fn value_of(rows: &[SmartNumberRow], period: &str, key: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.period == period && r.kpi_name == key)
        .and_then(SmartNumberRow::value)
}

pub(crate) fn build_number(
    def: &SmartNumberDef,
    period: &Period,
    rows: &[SmartNumberRow],
    bands: Option<&Bands>,
) -> SmartNumber {
    let p = period.to_string();
    let prev_period = period.previous();
    let row = rows.iter().find(|r| r.period == p && r.kpi_name == def.key);
    let value = row.and_then(SmartNumberRow::value);
    let previous_value = value_of(rows, &prev_period.to_string(), def.key);
    let change = value.zip(previous_value).map(|(v, pv)| v - pv);
    SmartNumber {
        key: def.key.to_string(),
        label: def.label.to_string(),
        category: def.category,
        value,
        unit: def.unit,
        status: judge(def, period, bands, value),
        better: def.better,
        previous: PreviousValue {
            period: prev_period.to_string(),
            value: previous_value,
            status: judge(def, &prev_period, bands, previous_value),
        },
        change,
        improved: value
            .zip(previous_value)
            .and_then(|(v, pv)| improved(def, bands, pv, v)),
        missing_inputs: row.map(|r| r.missing_inputs.clone()).unwrap_or_default(),
        null_reason: if value.is_none() {
            row.and_then(|r| r.null_reason.clone())
                .or_else(|| Some("no data for the period".into()))
        } else {
            None
        },
        threshold: bands.copied(),
        formula: def.formula.to_text(&|k| k.to_string()),
    }
}

/// The 18 SmartNumbers of a month, quarter or year with status, previous period,
/// change and, for nulls, the missing inputs. `shape=flat` gives `{key: value}`.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-Qn, YYYY-MM or YYYY; default: the quarter in progress, else the latest with data"),
        ("shape" = Option<String>, Query, description = "`flat` for the seed's {key: value} shape"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    ),
    responses(
        (status_code = 200, description = "The envelope's `data`: SmartNumbersResponse, or FlatSmartNumbersResponse with shape=flat", body = SmartNumbersResponse),
    )
)]
pub async fn get_smartnumbers(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<()> {
    let period = params::period(req, "period")?;
    let flat = params::choice(req, "shape", &["flat", "object"])? == Some("flat");
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let period = default_period(&mut conn, &org, period).await?;
    let cache = &super::state(depot)?.caches.smartnumbers;
    let key = (org.id, period.to_string());
    if !flat {
        if let Some(hit) = cache.get(&key, org.data_version) {
            res.render(Json(qbr_shared::error::Envelope::ok((*hit).clone())));
            return Ok(());
        }
    }
    let rows = load_rows(&mut conn, &org, &[period, period.previous()]).await?;
    let p = period.to_string();
    if !rows.iter().any(|r| r.period == p) {
        return Err(AppError::no_data(format!("No data for {p}")));
    }
    if flat {
        let numbers = SMARTNUMBERS
            .iter()
            .map(|d| (d.key.to_string(), value_of(&rows, &p, d.key)))
            .collect();
        res.render(Json(qbr_shared::error::Envelope::ok(
            FlatSmartNumbersResponse {
                period: p,
                organization_id: org.id,
                smartnumbers: numbers,
            },
        )));
        return Ok(());
    }
    let bands = thresholds::bands_by_key(&mut conn, org.id).await?;
    let smartnumbers = SMARTNUMBERS
        .iter()
        .map(|d| build_number(d, &period, &rows, bands.get(d.key)))
        .collect();
    let months_counted = rows
        .iter()
        .find(|r| r.period == p)
        .map_or(0, |r| r.months_counted as u32);
    let answer = SmartNumbersResponse {
        period: p.clone(),
        organization_id: org.id,
        monthly_periods: period.months().iter().map(Month::to_string).collect(),
        months_counted,
        working_hours_per_tech: org.working_hours,
        calculated_at: store::calculated_at(&rows, &p),
        smartnumbers,
    };
    cache.put(key, org.data_version, std::sync::Arc::new(answer.clone()));
    res.render(Json(qbr_shared::error::Envelope::ok(answer)));
    Ok(())
}

/// The values and statuses of `defs` over `periods`, from stored rows.
pub(crate) fn trend_series(
    defs: &[&SmartNumberDef],
    periods: &[Period],
    rows: &[SmartNumberRow],
    bands: &BTreeMap<String, Bands>,
) -> Vec<TrendSeries> {
    let names: Vec<String> = periods.iter().map(Period::to_string).collect();
    let index: BTreeMap<(&str, &str), Option<f64>> = rows
        .iter()
        .map(|r| ((r.period.as_str(), r.kpi_name.as_str()), r.value()))
        .collect();
    defs.iter()
        .map(|d| {
            let values: Vec<Option<f64>> = names
                .iter()
                .map(|p| index.get(&(p.as_str(), d.key)).copied().flatten())
                .collect();
            let statuses = periods
                .iter()
                .zip(&values)
                .map(|(p, v)| judge(d, p, bands.get(d.key), *v))
                .collect();
            TrendSeries {
                key: d.key.to_string(),
                label: d.label.to_string(),
                unit: d.unit,
                values,
                statuses,
                threshold: bands.get(d.key).copied(),
            }
        })
        .collect()
}

fn trend_periods(req: &Request) -> AppResult<(Granularity, Vec<Period>)> {
    let from = params::required(params::period(req, "from")?, "from")?;
    let to = params::required(params::period(req, "to")?, "to")?;
    let granularity = match params::choice(req, "granularity", &["month", "quarter"])? {
        Some("month") => Granularity::Month,
        Some(_) => Granularity::Quarter,
        None if from.kind() == PeriodKind::Month => Granularity::Month,
        None => Granularity::Quarter,
    };
    let months = Month::range(from.first_month(), to.last_month(), MAX_TREND_PERIODS * 3)
        .map_err(|e| AppError::invalid_parameter(e.to_string()))?;
    let periods: Vec<Period> = match granularity {
        Granularity::Month => months.into_iter().map(Period::Month).collect(),
        Granularity::Quarter => {
            let mut qs: Vec<Quarter> = months.iter().map(|m| m.quarter()).collect();
            qs.dedup();
            qs.into_iter().map(Period::Quarter).collect()
        }
    };
    if periods.len() > MAX_TREND_PERIODS {
        return Err(AppError::invalid_parameter(format!(
            "A trend covers at most {MAX_TREND_PERIODS} periods, got {}",
            periods.len()
        )));
    }
    Ok((granularity, periods))
}

/// SmartNumbers over time, month or quarter by month or quarter, for charts.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("from" = String, Query, description = "First period, YYYY-MM or YYYY-Qn"),
        ("to" = String, Query, description = "Last period, YYYY-MM or YYYY-Qn"),
        ("granularity" = Option<String>, Query, description = "`month` or `quarter` (default: the kind of `from`)"),
        ("keys" = Option<String>, Query, description = "Comma-separated SmartNumber keys (default: all 18)"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    )
)]
pub async fn get_trend(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<TrendResponse>> {
    let (granularity, periods) = trend_periods(req)?;
    let keys = params::list(req, "keys");
    let defs: Vec<&SmartNumberDef> = if keys.is_empty() {
        SMARTNUMBERS.iter().collect()
    } else {
        keys.iter()
            .map(|k| {
                smartnumber_def(k).ok_or_else(|| {
                    AppError::new(
                        ErrorCode::UnknownMetric,
                        format!("Unknown SmartNumber '{k}'"),
                    )
                })
            })
            .collect::<AppResult<_>>()?
    };
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let rows = load_rows(&mut conn, &org, &periods).await?;
    let bands = thresholds::bands_by_key(&mut conn, org.id).await?;
    let names: Vec<String> = periods.iter().map(Period::to_string).collect();
    let series = trend_series(&defs, &periods, &rows, &bands);
    Ok(ok(TrendResponse {
        granularity,
        from: names.first().cloned().unwrap_or_default(),
        to: names.last().cloned().unwrap_or_default(),
        periods: names,
        series,
    }))
}
