//! The 18 SmartNumbers of a period, judged against the organization's thresholds, and
//! their trends.
use super::{encode, periods, Answer};
use crate::cache::{Caches, TrendKey};
use crate::error::{AppError, AppResult};
use crate::store::org::Org;
use crate::store::smartnumbers::{self as store, SmartNumberRow};
use crate::store::{lock_organization_writes, metrics, recompute, thresholds};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::*;
use qbr_shared::smartnumbers::{smartnumber_def, SmartNumberDef, SMARTNUMBERS};
use qbr_shared::thresholds::Bands;
use qbr_shared::{ErrorCode, Month, Period, PeriodKind, Quarter};
use std::collections::BTreeMap;

/// Most periods one trend may cover.
pub const MAX_TREND_PERIODS: usize = 120;

/// Stored rows of `periods`; periods with monthly data but no stored numbers (data
/// loaded behind the API's back) are computed and stored first.
pub async fn load_rows(
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
        lock_organization_writes(conn, org.id).await?;
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

/// One number of `period` with its status, the previous period's value and the change.
pub fn build_number(
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
    SmartNumber {
        key: def.key.to_string(),
        label: def.label.to_string(),
        category: def.category,
        value,
        unit: def.unit,
        status: def.judge(period, bands, value),
        better: def.better,
        previous: PreviousValue {
            period: prev_period.to_string(),
            value: previous_value,
            status: def.judge(&prev_period, bands, previous_value),
        },
        change: value.zip(previous_value).map(|(v, pv)| v - pv),
        improved: value
            .zip(previous_value)
            .and_then(|(v, pv)| def.improved(bands, pv, v)),
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

/// Rows of `period` and the period before; 404 `NO_DATA` if `period` has none.
async fn rows_with_previous(
    conn: &mut AsyncPgConnection,
    org: &Org,
    period: Period,
) -> AppResult<Vec<SmartNumberRow>> {
    let rows = load_rows(conn, org, &[period, period.previous()]).await?;
    let p = period.to_string();
    if !rows.iter().any(|r| r.period == p) {
        return Err(AppError::no_data(format!("No data for {p}")));
    }
    Ok(rows)
}

/// The 18 numbers of a month, quarter or year (default: see
/// [`periods::default_period`]) with statuses, previous values and changes.
pub async fn for_period(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    period: Option<Period>,
) -> AppResult<Answer<SmartNumbersResponse>> {
    let period = periods::default_period(conn, caches, org, period).await?;
    caches
        .smartnumbers
        .get_or_build((org.id, period), org.data_version, || async {
            let rows = rows_with_previous(conn, org, period).await?;
            let bands = thresholds::bands_by_key(conn, org.id).await?;
            encode(numbers_response(org, period, &rows, &bands))
        })
        .await
}

fn numbers_response(
    org: &Org,
    period: Period,
    rows: &[SmartNumberRow],
    bands: &BTreeMap<String, Bands>,
) -> SmartNumbersResponse {
    let p = period.to_string();
    SmartNumbersResponse {
        period: p.clone(),
        organization_id: org.id,
        monthly_periods: period.months().iter().map(Month::to_string).collect(),
        months_counted: rows
            .iter()
            .find(|r| r.period == p)
            .map_or(0, |r| r.months_counted as u32),
        working_hours_per_tech: org.working_hours,
        calculated_at: store::calculated_at(rows, &p),
        smartnumbers: SMARTNUMBERS
            .iter()
            .map(|d| build_number(d, &period, rows, bands.get(d.key)))
            .collect(),
    }
}

/// The seed's `{key: value}` shape of a period's numbers.
pub async fn flat_for_period(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    period: Option<Period>,
) -> AppResult<Answer<FlatSmartNumbersResponse>> {
    let period = periods::default_period(conn, caches, org, period).await?;
    caches
        .flat_smartnumbers
        .get_or_build((org.id, period), org.data_version, || async {
            let rows = rows_with_previous(conn, org, period).await?;
            let p = period.to_string();
            encode(FlatSmartNumbersResponse {
                smartnumbers: SMARTNUMBERS
                    .iter()
                    .map(|d| (d.key.to_string(), value_of(&rows, &p, d.key)))
                    .collect(),
                period: p,
                organization_id: org.id,
            })
        })
        .await
}

/// The values and statuses of `defs` over `periods`, from stored rows.
pub fn trend_series(
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
                .map(|(p, v)| d.judge(p, bands.get(d.key), *v))
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

/// What a trend covers: its periods and the numbers asked for.
pub struct TrendQuery {
    pub granularity: Granularity,
    pub periods: Vec<Period>,
    pub defs: Vec<&'static SmartNumberDef>,
}

impl TrendQuery {
    /// From `from`..`to` by month or quarter (default: the kind of `from`), at most
    /// [`MAX_TREND_PERIODS`] periods; `keys` empty means all 18 numbers.
    pub fn new(
        from: Period,
        to: Period,
        granularity: Option<Granularity>,
        keys: &[String],
    ) -> AppResult<TrendQuery> {
        let granularity = granularity.unwrap_or(match from.kind() {
            PeriodKind::Month => Granularity::Month,
            _ => Granularity::Quarter,
        });
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
        let defs = if keys.is_empty() {
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
        Ok(TrendQuery {
            granularity,
            periods,
            defs,
        })
    }
}

/// SmartNumbers over time, for charts.
pub async fn trend(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    query: TrendQuery,
) -> AppResult<Answer<TrendResponse>> {
    let key = TrendKey {
        org: org.id,
        periods: query.periods.clone(),
        keys: query.defs.iter().map(|d| d.key).collect(),
    };
    caches
        .trend
        .get_or_build(key, org.data_version, || async {
            let rows = load_rows(conn, org, &query.periods).await?;
            let bands = thresholds::bands_by_key(conn, org.id).await?;
            let names: Vec<String> = query.periods.iter().map(Period::to_string).collect();
            encode(TrendResponse {
                granularity: query.granularity,
                from: names.first().cloned().unwrap_or_default(),
                to: names.last().cloned().unwrap_or_default(),
                series: trend_series(&query.defs, &query.periods, &rows, &bands),
                periods: names,
            })
        })
        .await
}
