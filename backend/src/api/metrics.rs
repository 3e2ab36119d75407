//! Monthly values: read one month, a quarter or a range; manual entry; hand-back to
//! the collector; history.
use super::response::{ok, ApiOk};
use super::{actor, client_ip, conn, organization, organization_by_id, organization_id, params};
use crate::cache::RangeKey;
use crate::error::{AppError, AppResult};
use crate::store::metrics::{self as store, MetricRow, ValueWrite, WriteOutcome};
use crate::store::numeric::opt_to_f64;
use crate::store::{audit, lock_organization_writes, recompute};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::*;
use qbr_shared::catalogue::{metric_def, MetricDef, METRICS};
use qbr_shared::expr::Values;
use qbr_shared::values::{aggregate_inputs, average_monthly_expenses, PRIOR_YEAR_AVG_EXPENSES};
use qbr_shared::{ErrorCode, Month, Period, Quarter};
use salvo::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Most values one manual entry may carry.
const MAX_ITEMS: usize = 200;
/// Longest note kept with a value.
const MAX_NOTES: usize = 2000;
/// Longest range of the months × metrics matrix.
const MAX_RANGE_MONTHS: usize = 60;

pub(crate) fn vendor_name(id: i32) -> &'static str {
    match id {
        2 => "NinjaOne",
        3 => "ConnectWise",
        4 => "QuickBooks",
        _ => "manual",
    }
}

fn known_metric(key: &str) -> AppResult<&'static MetricDef> {
    metric_def(key)
        .ok_or_else(|| AppError::new(ErrorCode::UnknownMetric, format!("Unknown metric '{key}'")))
}

impl From<&MetricRow> for MetricValue {
    fn from(r: &MetricRow) -> Self {
        let def = metric_def(&r.metric_name);
        MetricValue {
            metric_name: r.metric_name.clone(),
            label: def.map_or_else(|| r.metric_name.clone(), |d| d.label.to_string()),
            category: def.map_or(qbr_shared::catalogue::Category::Operations, |d| d.category),
            unit: def.map_or(qbr_shared::catalogue::Unit::Count, |d| d.unit),
            value: Some(r.value()),
            vendor_id: r.vendor_id,
            vendor: vendor_name(r.vendor_id).to_string(),
            data_source: r.source(),
            flags: r.flags.clone(),
            notes: r.notes.clone(),
            entered_by: r.entered_by.clone(),
            collected_at: r.collected_at,
            updated_at: r.updated_at,
        }
    }
}

/// One month's stored values (inputs and calculated), with who/when/how.
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-MM; defaults to the latest month with data"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
        ("vendor_id" = Option<i32>, Query, description = "Only values of this vendor (1 manual, 2 NinjaOne, 3 ConnectWise, 4 QuickBooks)"),
        ("metric_name" = Option<String>, Query, description = "Only this metric"),
    )
)]
pub async fn get_monthly(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<MonthlyMetricsResponse>> {
    let month = params::month(req, "period")?;
    let vendor = params::int(req, "vendor_id", 1, 4)?;
    let metric = params::raw(req, "metric_name")
        .map(|k| known_metric(&k))
        .transpose()?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let month = match month {
        Some(m) => m,
        None => store::latest_month(&mut conn, org.id)
            .await?
            .ok_or_else(|| AppError::no_data("No data has been stored yet"))?,
    };
    let rows = store::rows_for_months(&mut conn, org.id, &[month]).await?;
    if rows.is_empty() {
        return Err(AppError::no_data(format!("No data for {month}")));
    }
    let metrics = rows
        .iter()
        .filter(|r| vendor.is_none_or(|v| i64::from(r.vendor_id) == v))
        .filter(|r| metric.is_none_or(|d| d.key == r.metric_name))
        .map(MetricValue::from)
        .collect();
    Ok(ok(MonthlyMetricsResponse {
        period: month.to_string(),
        organization_id: org.id,
        metrics,
    }))
}

/// A quarter's values aggregated by the catalogue's rules (sum, average, last;
/// derived metrics recomputed from the aggregated inputs).
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-Qn; defaults to the latest quarter with data"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    )
)]
pub async fn get_quarterly(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<QuarterlyMetricsResponse>> {
    let quarter = params::raw(req, "period")
        .map(|v| {
            v.parse::<Quarter>()
                .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("period: {e}")))
        })
        .transpose()?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let quarter = match quarter {
        Some(q) => q,
        None => store::latest_month(&mut conn, org.id)
            .await?
            .ok_or_else(|| AppError::no_data("No data has been stored yet"))?
            .quarter(),
    };
    let q = quarter_inputs(&mut conn, org.id, quarter).await?;
    let month_inputs = q.month_inputs();
    if month_inputs.is_empty() {
        return Err(AppError::no_data(format!("No data for {quarter}")));
    }
    let values = q.quarter_values();
    let aggregated = aggregate_inputs(&month_inputs);
    let months = q.months;
    let metrics = METRICS
        .iter()
        .map(|d| AggregatedValue {
            metric_name: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            aggregation: d.aggregation,
            value: values.get(d.key).copied(),
            months_with_data: if aggregated.contains_key(d.key) {
                month_inputs
                    .iter()
                    .filter(|m| m.contains_key(d.key))
                    .count() as u32
            } else {
                0
            },
        })
        .collect();
    Ok(ok(QuarterlyMetricsResponse {
        period: quarter.to_string(),
        organization_id: org.id,
        monthly_periods: months.iter().map(Month::to_string).collect(),
        metrics,
    }))
}

/// A quarter's monthly inputs and the previous year's average monthly expenses, which
/// some derived metrics need.
pub(crate) struct QuarterInputs {
    pub months: [Month; 3],
    pub inputs: BTreeMap<Month, Values>,
    pub prior_year_average: Option<f64>,
}

impl QuarterInputs {
    /// The inputs of the quarter's months that have any.
    pub fn month_inputs(&self) -> Vec<&Values> {
        self.months
            .iter()
            .filter_map(|m| self.inputs.get(m))
            .collect()
    }

    /// Every metric of the quarter: inputs aggregated, derived ones recomputed.
    pub fn quarter_values(&self) -> Values {
        recompute::period_values(&self.month_inputs(), self.prior_year_average)
    }

    /// Every metric of one month (`None` if the month has no value).
    pub fn month_values(&self, month: Month) -> Option<Values> {
        self.inputs
            .get(&month)
            .map(|v| recompute::period_values(&[v], self.prior_year_average))
    }
}

/// Loads the inputs of `quarter` and of the previous year.
pub(crate) async fn quarter_inputs(
    conn: &mut AsyncPgConnection,
    org: i32,
    quarter: Quarter,
) -> AppResult<QuarterInputs> {
    let months = quarter.months();
    let prior_year: Vec<Month> = (1..=12)
        .filter_map(|m| Month::new(quarter.year() - 1, m).ok())
        .collect();
    let all: Vec<Month> = months.iter().chain(prior_year.iter()).copied().collect();
    let rows = store::rows_for_months(conn, org, &all).await?;
    let inputs = store::inputs_by_month(&rows);
    let prior: Vec<&Values> = prior_year.iter().filter_map(|m| inputs.get(m)).collect();
    let prior_year_average = average_monthly_expenses(&prior);
    Ok(QuarterInputs {
        months,
        inputs,
        prior_year_average,
    })
}

fn month_range(req: &Request) -> AppResult<Vec<Month>> {
    let from = params::required(params::month(req, "from")?, "from")?;
    let to = params::required(params::month(req, "to")?, "to")?;
    Month::range(from, to, MAX_RANGE_MONTHS).map_err(|e| AppError::invalid_parameter(e.to_string()))
}

/// A months × metrics matrix (at most 60 months), for the Monthly Business Review
/// table and charts. Months without a value hold null.
#[endpoint(
    tags("metrics"),
    parameters(
        ("from" = String, Query, description = "First month, YYYY-MM"),
        ("to" = String, Query, description = "Last month, YYYY-MM (at most 60 months after from)"),
        ("metric_name" = Option<String>, Query, description = "Comma-separated metric keys (default: all)"),
        ("organization_id" = Option<i32>, Query, description = "Organization (default 1)"),
    )
)]
pub async fn get_range(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<RangeResponse>> {
    let months = month_range(req)?;
    let wanted: Vec<&MetricDef> = params::list(req, "metric_name")
        .iter()
        .map(|k| known_metric(k))
        .collect::<AppResult<_>>()?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let cache = &super::state(depot)?.caches.range;
    let (Some(&from), Some(&to)) = (months.first(), months.last()) else {
        return Err(AppError::invalid_parameter("The range has no month"));
    };
    let key = RangeKey {
        org: org.id,
        from,
        to,
        metrics: wanted.iter().map(|d| d.key.to_string()).collect(),
    };
    if let Some(hit) = cache.get(&key, org.data_version) {
        return Ok(ok((*hit).clone()));
    }
    let answer = build_range(&mut conn, org.id, &months, wanted).await?;
    cache.put(key, org.data_version, Arc::new(answer.clone()));
    Ok(ok(answer))
}

/// The matrix of `months` × `wanted` (all metrics if empty) from the stored cells.
async fn build_range(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
    wanted: Vec<&'static MetricDef>,
) -> AppResult<RangeResponse> {
    let cells = store::cells_for_months(conn, org, months).await?;
    let defs: Vec<&MetricDef> = if wanted.is_empty() {
        METRICS.iter().collect()
    } else {
        wanted
    };
    let index: std::collections::HashMap<(&str, &str), (f64, Option<DataSource>)> = cells
        .iter()
        .map(|(p, m, v, src)| {
            (
                (p.as_str(), m.as_str()),
                (crate::store::numeric::to_f64(v), DataSource::parse(src)),
            )
        })
        .collect();
    let periods: Vec<String> = months.iter().map(Month::to_string).collect();
    let metrics = defs
        .iter()
        .map(|d| {
            let cells: Vec<Option<&(f64, Option<DataSource>)>> = periods
                .iter()
                .map(|p| index.get(&(p.as_str(), d.key)))
                .collect();
            RangeRow {
                metric_name: d.key.to_string(),
                values: cells.iter().map(|c| c.map(|c| c.0)).collect(),
                sources: cells.iter().map(|c| c.and_then(|c| c.1)).collect(),
            }
        })
        .collect();
    Ok(RangeResponse {
        from: months.first().map(Month::to_string).unwrap_or_default(),
        to: months.last().map(Month::to_string).unwrap_or_default(),
        organization_id: org,
        months: months.iter().map(Month::to_string).collect(),
        metrics,
    })
}

/// A validated manual value.
struct ManualItem<'a> {
    def: &'static MetricDef,
    value: Option<f64>,
    notes: Option<&'a str>,
}

/// Checks every item before anything is written: the first problem is the answer.
fn validate_items(items: &[ManualMetricInput]) -> AppResult<Vec<ManualItem<'_>>> {
    if items.is_empty() {
        return Err(AppError::invalid_body(
            "metrics must contain at least one value",
        ));
    }
    if items.len() > MAX_ITEMS {
        return Err(AppError::invalid_body(format!(
            "metrics may contain at most {MAX_ITEMS} values"
        )));
    }
    let mut seen = BTreeSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |msg: String| format!("metrics[{i}] ({}): {msg}", item.metric_name);
            let def = known_metric(&item.metric_name)
                .map_err(|e| AppError::new(e.code, at(e.message)))?;
            if def.is_derived() {
                return Err(AppError::new(
                    ErrorCode::DerivedMetric,
                    at(format!(
                        "{} is computed from other metrics and can't be entered",
                        def.label
                    )),
                ));
            }
            if !seen.insert(def.key) {
                return Err(AppError::invalid_body(
                    at("the metric appears twice".into()),
                ));
            }
            if let Some(v) = item.metric_value {
                if !v.is_finite() || v.abs() >= 1e14 {
                    return Err(AppError::invalid_body(at(format!(
                        "{v} is not a usable number"
                    ))));
                }
                if v < 0.0 && !def.allows_negative() {
                    return Err(AppError::new(
                        ErrorCode::NegativeValue,
                        at(format!("{} can't be negative (got {v})", def.label)),
                    ));
                }
            }
            let notes = item
                .notes
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty());
            if notes.is_some_and(|n| n.chars().count() > MAX_NOTES) {
                return Err(AppError::invalid_body(at(format!(
                    "notes may be at most {MAX_NOTES} characters"
                ))));
            }
            Ok(ManualItem {
                def,
                value: item.metric_value,
                notes,
            })
        })
        .collect()
}

/// The prior-year average can be typed in only where the previous year is not stored.
async fn check_prior_year_average(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    items: &[ManualItem<'_>],
) -> AppResult<()> {
    if !items
        .iter()
        .any(|i| i.def.key == PRIOR_YEAR_AVG_EXPENSES && i.value.is_some())
    {
        return Ok(());
    }
    let prior: Vec<Month> = (1..=12)
        .filter_map(|m| Month::new(month.year() - 1, m).ok())
        .collect();
    let rows = store::rows_for_months(conn, org, &prior).await?;
    let inputs = store::inputs_by_month(&rows);
    if average_monthly_expenses(&inputs.values().collect::<Vec<_>>()).is_some() {
        return Err(AppError::new(
            ErrorCode::DerivedMetric,
            format!(
                "{PRIOR_YEAR_AVG_EXPENSES} is computed from the stored expenses of {}",
                month.year() - 1
            ),
        ));
    }
    Ok(())
}

/// Enters manual values for one month: validates every item first, then writes all or
/// none, keeps history, and recomputes derived values and SmartNumbers.
#[endpoint(tags("metrics"), request_body = ManualEntryRequest)]
pub async fn post_manual(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ManualEntryResponse>> {
    let body: ManualEntryRequest = params::json_body(req).await?;
    let month: Month = body
        .period
        .parse()
        .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("period: {e}")))?;
    let items = validate_items(&body.metrics)?;
    let actor = actor(depot);
    let mut conn = conn(depot).await?;
    let org = organization_by_id(&mut conn, organization_id(depot, body.organization_id)?).await?;
    let ip = client_ip(req);
    let (updated, unchanged, periods) = conn
        .transaction::<_, AppError, _>(async |conn| {
            lock_organization_writes(conn, org.id).await?;
            check_prior_year_average(conn, org.id, month, &items).await?;
            let (mut updated, mut unchanged) = (0u32, 0u32);
            for item in &items {
                let changed = match item.value {
                    Some(value) => {
                        let w = ValueWrite {
                            metric: item.def.key,
                            value,
                            vendor_id: 1,
                            source: DataSource::Manual,
                            flags: Vec::new(),
                            notes: item.notes,
                            actor: &actor,
                            collected_at: None,
                        };
                        store::write_value(conn, org.id, month, &w).await? != WriteOutcome::Unchanged
                    }
                    None => store::delete_value(conn, org.id, month, item.def.key, &actor, item.notes).await?,
                };
                if changed { updated += 1 } else { unchanged += 1 }
            }
            let periods = if updated > 0 { recompute::after_inputs_changed(conn, &org, &BTreeSet::from([month]), Utc::now()).await? } else { Vec::new() };
            let keys: Vec<&str> = items.iter().map(|i| i.def.key).collect();
            audit::record(conn, audit::AuditEvent {
                organization_id: Some(org.id),
                actor: &actor,
                action: "metrics.manual_entry",
                target: Some(&month.to_string()),
                details: serde_json::json!({"metrics": keys, "updated": updated, "unchanged": unchanged}),
                ip: ip.as_deref(),
            })
            .await?;
            Ok((updated, unchanged, periods))
        })
        .await?;
    Ok(ok(ManualEntryResponse {
        period: month.to_string(),
        organization_id: org.id,
        updated_count: updated,
        unchanged_count: unchanged,
        recomputed_periods: periods,
    }))
}

/// Hands manual values of collected metrics back to the collector, so the next
/// collection may replace them.
#[endpoint(tags("metrics"), request_body = RecollectRequest)]
pub async fn post_recollect(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<RecollectResponse>> {
    let body: RecollectRequest = params::json_body(req).await?;
    let month: Month = body
        .period
        .parse()
        .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("period: {e}")))?;
    if body.metric_names.is_empty() {
        return Err(AppError::invalid_body(
            "metric_names must name at least one metric",
        ));
    }
    let defs: Vec<&MetricDef> = body
        .metric_names
        .iter()
        .map(|k| known_metric(k))
        .collect::<AppResult<_>>()?;
    if let Some(d) = defs.iter().find(|d| !d.source.is_collected()) {
        return Err(AppError::invalid_body(format!(
            "{} ({}) is not collected by any collector",
            d.key, d.label
        )));
    }
    let actor = actor(depot);
    let mut conn = conn(depot).await?;
    let org = organization_by_id(&mut conn, organization_id(depot, body.organization_id)?).await?;
    let ip = client_ip(req);
    let released = conn
        .transaction::<_, AppError, _>(async |conn| {
            lock_organization_writes(conn, org.id).await?;
            let mut released = 0u32;
            for d in &defs {
                if store::release_to_collector(conn, org.id, month, d.key, &actor).await? {
                    released += 1;
                }
            }
            let keys: Vec<&str> = defs.iter().map(|d| d.key).collect();
            audit::record(
                conn,
                audit::AuditEvent {
                    organization_id: Some(org.id),
                    actor: &actor,
                    action: "metrics.recollect",
                    target: Some(&month.to_string()),
                    details: serde_json::json!({"metrics": keys, "released": released}),
                    ip: ip.as_deref(),
                },
            )
            .await?;
            Ok(released)
        })
        .await?;
    Ok(ok(RecollectResponse {
        period: month.to_string(),
        released_count: released,
    }))
}

/// Every change of a month's and/or a metric's values, newest first.
#[endpoint(
    tags("metrics"),
    parameters(
        ("period" = Option<String>, Query, description = "YYYY-MM"),
        ("metric_name" = Option<String>, Query, description = "Metric key"),
        ("limit" = Option<i64>, Query, description = "1–1000, default 200"),
    )
)]
pub async fn get_history(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<HistoryResponse>> {
    let month = params::month(req, "period")?;
    let metric = params::raw(req, "metric_name")
        .map(|k| known_metric(&k))
        .transpose()?;
    let limit = params::int(req, "limit", 1, 1000)?.unwrap_or(200);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let rows = store::history(&mut conn, org.id, month, metric.map(|d| d.key), limit).await?;
    let entries = rows
        .into_iter()
        .map(|r| HistoryEntry {
            id: r.id,
            period: r.period,
            metric_name: r.metric_name,
            old_value: opt_to_f64(&r.old_value),
            new_value: opt_to_f64(&r.new_value),
            old_data_source: r.old_data_source.as_deref().and_then(DataSource::parse),
            new_data_source: r.new_data_source.as_deref().and_then(DataSource::parse),
            changed_by: r.changed_by,
            changed_at: r.changed_at,
            notes: r.notes,
        })
        .collect();
    Ok(ok(HistoryResponse { entries }))
}

/// The period a SmartNumber-style request is about: the `period` parameter, else the
/// quarter in progress if it has data, else the latest quarter with data.
pub(crate) async fn default_period(
    conn: &mut AsyncPgConnection,
    org: &crate::store::org::Org,
    given: Option<Period>,
) -> AppResult<Period> {
    if let Some(p) = given {
        return Ok(p);
    }
    let current = org.current_month(Utc::now()).quarter();
    let latest = store::latest_month(conn, org.id)
        .await?
        .ok_or_else(|| AppError::no_data("No data has been stored yet"))?;
    Ok(Period::Quarter(if latest.quarter() >= current {
        current
    } else {
        latest.quarter()
    }))
}
