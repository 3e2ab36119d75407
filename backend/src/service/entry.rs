//! Typed-in values: manual entry of a month's values (all or none, with history,
//! recomputation and audit) and handing values back to the collector.
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::metrics::{self as store, ValueWrite, WriteOutcome};
use crate::store::org::Org;
use crate::store::{lock_organization_writes, recompute};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::*;
use qbr_shared::catalogue::MetricDef;
use qbr_shared::text;
use qbr_shared::values::{average_monthly_expenses, PRIOR_YEAR_AVG_EXPENSES};
use qbr_shared::vendor::MANUAL_VENDOR_ID;
use qbr_shared::{ErrorCode, Month, Period};
use std::collections::BTreeSet;

/// Most values one manual entry may carry.
const MAX_ITEMS: usize = 200;

/// A validated manual value.
pub struct ManualItem {
    def: &'static MetricDef,
    value: Option<f64>,
    notes: Option<String>,
}

/// A validated manual entry: one month, its values.
pub struct ManualEntry {
    month: Month,
    items: Vec<ManualItem>,
}

fn month_of(period: &str) -> AppResult<Month> {
    period
        .parse()
        .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("period: {e}")))
}

impl ManualEntry {
    /// Checks every item before anything is written: the first problem is the answer.
    pub fn validate(body: &ManualEntryRequest) -> AppResult<ManualEntry> {
        let month = month_of(&body.period)?;
        let items = &body.metrics;
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
        let items = items
            .iter()
            .enumerate()
            .map(|(i, item)| validate_item(i, item, &mut seen))
            .collect::<AppResult<_>>()?;
        Ok(ManualEntry { month, items })
    }
}

fn validate_item(
    i: usize,
    item: &ManualMetricInput,
    seen: &mut BTreeSet<&'static str>,
) -> AppResult<ManualItem> {
    let at = |msg: String| format!("metrics[{i}] ({}): {msg}", item.metric_name);
    let def = super::metrics::known_metric(&item.metric_name)
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
    if let Some(problem) = notes.and_then(|n| text::check(n, text::NOTES).err()) {
        return Err(AppError::invalid_body(at(format!("notes {problem}"))));
    }
    Ok(ManualItem {
        def,
        value: item.metric_value,
        notes: notes.map(str::to_string),
    })
}

/// The prior-year average can be typed in only where the previous year is not stored.
async fn check_prior_year_average(
    conn: &mut AsyncPgConnection,
    org: i32,
    entry: &ManualEntry,
) -> AppResult<()> {
    if !entry
        .items
        .iter()
        .any(|i| i.def.key == PRIOR_YEAR_AVG_EXPENSES && i.value.is_some())
    {
        return Ok(());
    }
    let year = entry.month.year() - 1;
    let rows = store::rows_for_months(conn, org, &Period::Year(year).months()).await?;
    let inputs = store::inputs_by_month(&rows);
    if average_monthly_expenses(&inputs.values().collect::<Vec<_>>()).is_some() {
        return Err(AppError::new(
            ErrorCode::DerivedMetric,
            format!("{PRIOR_YEAR_AVG_EXPENSES} is computed from the stored expenses of {year}"),
        ));
    }
    Ok(())
}

/// Writes (or, for `null`, removes) one value; whether anything changed.
async fn apply_item(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    item: &ManualItem,
    actor: &str,
) -> AppResult<bool> {
    let notes = item.notes.as_deref();
    Ok(match item.value {
        Some(value) => {
            let w = ValueWrite {
                metric: item.def.key,
                value,
                vendor_id: MANUAL_VENDOR_ID,
                source: DataSource::Manual,
                flags: Vec::new(),
                notes,
                actor,
                collected_at: None,
            };
            store::write_value(conn, org, month, &w).await? != WriteOutcome::Unchanged
        }
        None => store::delete_value(conn, org, month, item.def.key, actor, notes).await?,
    })
}

/// Enters manual values for one month: writes all or none, keeps history, recomputes
/// derived values and SmartNumbers, and records the entry in the audit log.
pub async fn enter(
    conn: &mut AsyncPgConnection,
    org: &Org,
    actor: Actor<'_>,
    entry: &ManualEntry,
) -> AppResult<ManualEntryResponse> {
    let month = entry.month;
    let (updated, unchanged, periods) = conn
        .transaction::<_, AppError, _>(async |conn| {
            lock_organization_writes(conn, org.id).await?;
            check_prior_year_average(conn, org.id, entry).await?;
            let (mut updated, mut unchanged) = (0u32, 0u32);
            for item in &entry.items {
                if apply_item(conn, org.id, month, item, actor.name).await? {
                    updated += 1;
                } else {
                    unchanged += 1;
                }
            }
            let periods = if updated > 0 {
                recompute::after_inputs_changed(conn, org, &BTreeSet::from([month]), Utc::now())
                    .await?
            } else {
                Vec::new()
            };
            let keys: Vec<&str> = entry.items.iter().map(|i| i.def.key).collect();
            let details =
                serde_json::json!({"metrics": keys, "updated": updated, "unchanged": unchanged});
            record(conn, org, actor, AuditAction::ManualEntry, month, details).await?;
            Ok((updated, unchanged, periods))
        })
        .await?;
    Ok(ManualEntryResponse {
        period: month.to_string(),
        organization_id: org.id,
        updated_count: updated,
        unchanged_count: unchanged,
        recomputed_periods: periods,
    })
}

async fn record(
    conn: &mut AsyncPgConnection,
    org: &Org,
    actor: Actor<'_>,
    action: AuditAction,
    month: Month,
    details: serde_json::Value,
) -> AppResult<()> {
    let target = month.to_string();
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(org.id),
            actor: actor.name,
            action,
            target: Some(&target),
            details,
            ip: actor.ip,
        },
    )
    .await?;
    Ok(())
}

/// A validated hand-back: the month and the collected metrics to release.
pub struct Recollect {
    month: Month,
    defs: Vec<&'static MetricDef>,
}

impl Recollect {
    pub fn validate(body: &RecollectRequest) -> AppResult<Recollect> {
        let month = month_of(&body.period)?;
        if body.metric_names.is_empty() {
            return Err(AppError::invalid_body(
                "metric_names must name at least one metric",
            ));
        }
        let defs: Vec<&MetricDef> = body
            .metric_names
            .iter()
            .map(|k| super::metrics::known_metric(k))
            .collect::<AppResult<_>>()?;
        if let Some(d) = defs.iter().find(|d| !d.source.is_collected()) {
            return Err(AppError::invalid_body(format!(
                "{} ({}) is not collected by any collector",
                d.key, d.label
            )));
        }
        Ok(Recollect { month, defs })
    }
}

/// Hands manual values of collected metrics back to the collector, so the next
/// collection may replace them.
pub async fn recollect(
    conn: &mut AsyncPgConnection,
    org: &Org,
    actor: Actor<'_>,
    request: &Recollect,
) -> AppResult<RecollectResponse> {
    let month = request.month;
    let released = conn
        .transaction::<_, AppError, _>(async |conn| {
            lock_organization_writes(conn, org.id).await?;
            let mut released = 0u32;
            for d in &request.defs {
                if store::release_to_collector(conn, org.id, month, d.key, actor.name).await? {
                    released += 1;
                }
            }
            let keys: Vec<&str> = request.defs.iter().map(|d| d.key).collect();
            let details = serde_json::json!({"metrics": keys, "released": released});
            record(conn, org, actor, AuditAction::Recollect, month, details).await?;
            Ok(released)
        })
        .await?;
    Ok(RecollectResponse {
        period: month.to_string(),
        released_count: released,
    })
}
