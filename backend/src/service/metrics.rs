//! Monthly values: one month, a quarter aggregated, a months × metrics range, and the
//! history of changes.
use super::{encode, periods, Answer};
use crate::cache::{Caches, HistoryKey, MonthlyKey, RangeKey};
use crate::error::{AppError, AppResult};
use crate::store::metrics::{self as store, MetricRow};
use crate::store::numeric::{opt_to_f64, to_f64};
use crate::store::org::Org;
use crate::store::recompute;
use diesel_async::AsyncPgConnection;
use qbr_shared::api::*;
use qbr_shared::catalogue::{metric_def, Category, MetricDef, Unit, METRICS};
use qbr_shared::collection::parse_flags;
use qbr_shared::expr::Values;
use qbr_shared::values::{aggregate_inputs, average_monthly_expenses};
use qbr_shared::vendor::vendor_label;
use qbr_shared::{ErrorCode, Month, Period, Quarter};
use std::collections::{BTreeMap, HashMap};

/// Longest range of the months × metrics matrix.
pub const MAX_RANGE_MONTHS: usize = 60;

/// The catalogue entry of `key`, or 400 `UNKNOWN_METRIC`.
pub fn known_metric(key: &str) -> AppResult<&'static MetricDef> {
    metric_def(key)
        .ok_or_else(|| AppError::new(ErrorCode::UnknownMetric, format!("Unknown metric '{key}'")))
}

impl From<&MetricRow> for MetricValue {
    fn from(r: &MetricRow) -> Self {
        let def = metric_def(&r.metric_name);
        MetricValue {
            metric_name: r.metric_name.clone(),
            label: def.map_or_else(|| r.metric_name.clone(), |d| d.label.to_string()),
            category: def.map_or(Category::Operations, |d| d.category),
            unit: def.map_or(Unit::Count, |d| d.unit),
            value: Some(r.value()),
            vendor_id: r.vendor_id,
            vendor: vendor_label(r.vendor_id).to_string(),
            data_source: r.source(),
            flags: parse_flags(&r.flags),
            notes: r.notes.clone(),
            entered_by: r.entered_by.clone(),
            collected_at: r.collected_at,
            updated_at: r.updated_at,
        }
    }
}

/// What a one-month read asks for.
pub struct MonthlyQuery {
    /// Default: the latest month with data.
    pub month: Option<Month>,
    pub vendor_id: Option<i32>,
    pub metric: Option<&'static MetricDef>,
}

/// One month's stored values (inputs and calculated), with who/when/how.
pub async fn monthly(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    query: MonthlyQuery,
) -> AppResult<Answer<MonthlyMetricsResponse>> {
    let month = match query.month {
        Some(m) => m,
        None => periods::latest_month_or_no_data(conn, caches, org).await?,
    };
    let key = MonthlyKey {
        org: org.id,
        month,
        vendor_id: query.vendor_id,
        metric: query.metric.map(|d| d.key),
    };
    caches
        .monthly
        .get_or_build(key, org.data_version, || async {
            let rows = store::rows_for_months(conn, org.id, &[month]).await?;
            if rows.is_empty() {
                return Err(AppError::no_data(format!("No data for {month}")));
            }
            let metrics = rows
                .iter()
                .filter(|r| query.vendor_id.is_none_or(|v| r.vendor_id == v))
                .filter(|r| query.metric.is_none_or(|d| d.key == r.metric_name))
                .map(MetricValue::from)
                .collect();
            encode(MonthlyMetricsResponse {
                period: month.to_string(),
                organization_id: org.id,
                metrics,
            })
        })
        .await
}

/// A quarter's monthly inputs and the previous year's average monthly expenses, which
/// some derived metrics need.
pub struct QuarterInputs {
    pub months: [Month; 3],
    pub inputs: BTreeMap<Month, Values>,
    pub prior_year_average: Option<f64>,
}

impl QuarterInputs {
    /// Loads the inputs of `quarter` and of the previous year.
    pub async fn load(
        conn: &mut AsyncPgConnection,
        org: i32,
        quarter: Quarter,
    ) -> AppResult<QuarterInputs> {
        let months = quarter.months();
        let prior_year = Period::Year(quarter.year() - 1).months();
        let all: Vec<Month> = months.iter().chain(prior_year.iter()).copied().collect();
        let rows = store::rows_for_months(conn, org, &all).await?;
        let inputs = store::inputs_by_month(&rows);
        let prior: Vec<&Values> = prior_year.iter().filter_map(|m| inputs.get(m)).collect();
        Ok(QuarterInputs {
            months,
            prior_year_average: average_monthly_expenses(&prior),
            inputs,
        })
    }

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

/// A quarter's values (default: the latest quarter with data) aggregated by the
/// catalogue's rules: sum, average, last; derived metrics recomputed.
pub async fn quarterly(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    quarter: Option<Quarter>,
) -> AppResult<Answer<QuarterlyMetricsResponse>> {
    let quarter = match quarter {
        Some(q) => q,
        None => periods::latest_month_or_no_data(conn, caches, org)
            .await?
            .quarter(),
    };
    caches
        .quarterly
        .get_or_build((org.id, quarter), org.data_version, || async {
            let inputs = QuarterInputs::load(conn, org.id, quarter).await?;
            encode(quarterly_response(org, quarter, &inputs)?)
        })
        .await
}

fn quarterly_response(
    org: &Org,
    quarter: Quarter,
    q: &QuarterInputs,
) -> AppResult<QuarterlyMetricsResponse> {
    let month_inputs = q.month_inputs();
    if month_inputs.is_empty() {
        return Err(AppError::no_data(format!("No data for {quarter}")));
    }
    let values = q.quarter_values();
    let aggregated = aggregate_inputs(&month_inputs);
    let months_with = |key: &str| {
        if aggregated.contains_key(key) {
            month_inputs.iter().filter(|m| m.contains_key(key)).count() as u32
        } else {
            0
        }
    };
    let metrics = METRICS
        .iter()
        .map(|d| AggregatedValue {
            metric_name: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            aggregation: d.aggregation,
            value: values.get(d.key).copied(),
            months_with_data: months_with(d.key),
        })
        .collect();
    Ok(QuarterlyMetricsResponse {
        period: quarter.to_string(),
        organization_id: org.id,
        monthly_periods: q.months.iter().map(Month::to_string).collect(),
        metrics,
    })
}

/// A months × metrics matrix (at most [`MAX_RANGE_MONTHS`] months) for the Monthly
/// Business Review table and charts; `wanted` empty means every metric. Months
/// without a value hold null.
pub async fn range(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    from: Month,
    to: Month,
    wanted: Vec<&'static MetricDef>,
) -> AppResult<Answer<RangeResponse>> {
    let months = Month::range(from, to, MAX_RANGE_MONTHS)
        .map_err(|e| AppError::invalid_parameter(e.to_string()))?;
    let key = RangeKey {
        org: org.id,
        from,
        to,
        metrics: wanted.iter().map(|d| d.key.to_string()).collect(),
    };
    caches
        .range
        .get_or_build(key, org.data_version, || async {
            let cells = store::cells_for_months(conn, org.id, &months).await?;
            encode(range_response(org.id, &months, wanted, &cells))
        })
        .await
}

fn range_response(
    org: i32,
    months: &[Month],
    wanted: Vec<&'static MetricDef>,
    cells: &[store::Cell],
) -> RangeResponse {
    let defs: Vec<&MetricDef> = if wanted.is_empty() {
        METRICS.iter().collect()
    } else {
        wanted
    };
    let index: HashMap<(&str, &str), (f64, Option<DataSource>)> = cells
        .iter()
        .map(|(p, m, v, src)| {
            (
                (p.as_str(), m.as_str()),
                (to_f64(v), DataSource::parse(src)),
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
    RangeResponse {
        from: periods.first().cloned().unwrap_or_default(),
        to: periods.last().cloned().unwrap_or_default(),
        organization_id: org,
        months: periods,
        metrics,
    }
}

/// Every change of a month's and/or a metric's values, newest first (at most `limit`).
pub async fn history(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    month: Option<Month>,
    metric: Option<&'static MetricDef>,
    limit: i64,
) -> AppResult<Answer<HistoryResponse>> {
    let key = HistoryKey {
        org: org.id,
        month,
        metric: metric.map(|d| d.key),
        limit,
    };
    caches
        .history
        .get_or_build(key, org.data_version, || async {
            encode(load_history(conn, org, month, metric, limit).await?)
        })
        .await
}

async fn load_history(
    conn: &mut AsyncPgConnection,
    org: &Org,
    month: Option<Month>,
    metric: Option<&MetricDef>,
    limit: i64,
) -> AppResult<HistoryResponse> {
    let rows = store::history(conn, org.id, month, metric.map(|d| d.key), limit).await?;
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
    Ok(HistoryResponse { entries })
}
