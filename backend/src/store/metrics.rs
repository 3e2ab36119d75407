//! Monthly metric values and their change history.
use super::numeric::{from_f64, opt_from_f64, to_f64};
use crate::schema::{qbr_metric_history, qbr_metrics_monthly};
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::api::DataSource;
use qbr_shared::expr::Values;
use qbr_shared::Month;
use std::collections::BTreeMap;

/// A stored monthly value.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_metrics_monthly)]
pub struct MetricRow {
    pub id: i64,
    pub organization_id: i32,
    pub period: String,
    pub metric_name: String,
    pub metric_value: BigDecimal,
    pub vendor_id: i32,
    pub data_source: String,
    pub flags: Vec<String>,
    pub notes: Option<String>,
    pub entered_by: Option<String>,
    pub collected_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MetricRow {
    pub fn value(&self) -> f64 {
        to_f64(&self.metric_value)
    }

    pub fn source(&self) -> DataSource {
        DataSource::parse(&self.data_source).unwrap_or(DataSource::Manual)
    }

    pub fn month(&self) -> Option<Month> {
        self.period.parse().ok()
    }
}

/// Every stored value of the given months.
pub async fn rows_for_months(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> QueryResult<Vec<MetricRow>> {
    let periods: Vec<String> = months.iter().map(Month::to_string).collect();
    qbr_metrics_monthly::table
        .filter(qbr_metrics_monthly::organization_id.eq(org))
        .filter(qbr_metrics_monthly::period.eq_any(periods))
        .select(MetricRow::as_select())
        .order((
            qbr_metrics_monthly::period,
            qbr_metrics_monthly::metric_name,
        ))
        .load(conn)
        .await
}

/// One cell of the months × metrics matrix: period, metric, value, data_source.
pub type Cell = (String, String, BigDecimal, String);

/// Just the cells of the given months (the review table and charts read many months;
/// the narrow select keeps that cheap).
pub async fn cells_for_months(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> QueryResult<Vec<Cell>> {
    let periods: Vec<String> = months.iter().map(Month::to_string).collect();
    qbr_metrics_monthly::table
        .filter(qbr_metrics_monthly::organization_id.eq(org))
        .filter(qbr_metrics_monthly::period.eq_any(periods))
        .select((
            qbr_metrics_monthly::period,
            qbr_metrics_monthly::metric_name,
            qbr_metrics_monthly::metric_value,
            qbr_metrics_monthly::data_source,
        ))
        .load(conn)
        .await
}

/// The input values (everything but `calculated` rows) of each month that has any.
pub fn inputs_by_month(rows: &[MetricRow]) -> BTreeMap<Month, Values> {
    let mut out: BTreeMap<Month, Values> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.source() != DataSource::Calculated) {
        if let Some(m) = row.month() {
            out.entry(m)
                .or_default()
                .insert(row.metric_name.clone(), row.value());
        }
    }
    out
}

/// The latest month that has any value.
pub async fn latest_month(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<Month>> {
    let p: Option<String> = qbr_metrics_monthly::table
        .filter(qbr_metrics_monthly::organization_id.eq(org))
        .select(diesel::dsl::max(qbr_metrics_monthly::period))
        .first(conn)
        .await?;
    Ok(p.and_then(|p| p.parse().ok()))
}

/// Months that have any value, oldest first.
pub async fn months_with_data(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<Month>> {
    let ps: Vec<String> = qbr_metrics_monthly::table
        .filter(qbr_metrics_monthly::organization_id.eq(org))
        .select(qbr_metrics_monthly::period)
        .distinct()
        .order(qbr_metrics_monthly::period)
        .load(conn)
        .await?;
    Ok(ps.iter().filter_map(|p| p.parse().ok()).collect())
}

/// A value to store.
#[derive(Debug, Clone)]
pub struct ValueWrite<'a> {
    pub metric: &'a str,
    pub value: f64,
    pub vendor_id: i32,
    pub source: DataSource,
    pub flags: Vec<String>,
    pub notes: Option<&'a str>,
    pub actor: &'a str,
    pub collected_at: Option<DateTime<Utc>>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Created,
    Changed,
    Unchanged,
}

async fn existing_for_update(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    metric: &str,
) -> QueryResult<Option<MetricRow>> {
    qbr_metrics_monthly::table
        .filter(qbr_metrics_monthly::organization_id.eq(org))
        .filter(qbr_metrics_monthly::period.eq(month.to_string()))
        .filter(qbr_metrics_monthly::metric_name.eq(metric))
        .select(MetricRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Creates or updates one value and records the change in the history.
/// An identical value from the same source with the same notes and flags is left alone.
pub async fn write_value(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    w: &ValueWrite<'_>,
) -> QueryResult<WriteOutcome> {
    let existing = existing_for_update(conn, org, month, w.metric).await?;
    if let Some(row) = &existing {
        let same = row.value() == w.value
            && row.source() == w.source
            && row.notes.as_deref() == w.notes
            && row.flags == w.flags;
        if same {
            return Ok(WriteOutcome::Unchanged);
        }
    }
    upsert_row(conn, org, month, w).await?;
    let change = HistoryWrite {
        metric: w.metric,
        old: existing.as_ref().map(|r| (r.value(), r.source())),
        new: Some((w.value, w.source)),
        actor: w.actor,
        notes: w.notes,
    };
    record_history(conn, org, month, &change).await?;
    Ok(if existing.is_some() {
        WriteOutcome::Changed
    } else {
        WriteOutcome::Created
    })
}

/// Removes a value (keeping its history). Returns whether there was one.
pub async fn delete_value(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    metric: &str,
    actor: &str,
    notes: Option<&str>,
) -> QueryResult<bool> {
    let Some(row) = existing_for_update(conn, org, month, metric).await? else {
        return Ok(false);
    };
    diesel::delete(qbr_metrics_monthly::table.find((org, row.id)))
        .execute(conn)
        .await?;
    let change = HistoryWrite {
        metric,
        old: Some((row.value(), row.source())),
        new: None,
        actor,
        notes,
    };
    record_history(conn, org, month, &change).await?;
    Ok(true)
}

/// Hands a manual value back to the collector: its data_source becomes `collected`, so
/// the next collection may replace it. Returns whether a manual value was released.
pub async fn release_to_collector(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    metric: &str,
    actor: &str,
) -> QueryResult<bool> {
    let Some(row) = existing_for_update(conn, org, month, metric).await? else {
        return Ok(false);
    };
    if row.source() != DataSource::Manual && row.source() != DataSource::Imported {
        return Ok(false);
    }
    diesel::update(qbr_metrics_monthly::table.find((org, row.id)))
        .set((
            qbr_metrics_monthly::data_source.eq(DataSource::Collected.as_str()),
            qbr_metrics_monthly::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    let change = HistoryWrite {
        metric,
        old: Some((row.value(), row.source())),
        new: Some((row.value(), DataSource::Collected)),
        actor,
        notes: Some("handed back to the collector"),
    };
    record_history(conn, org, month, &change).await?;
    Ok(true)
}

/// Replaces the month's `calculated` rows with `derived`: changed values are updated,
/// values that can no longer be computed are removed. A typed-in value of a metric
/// that is now computed (the prior-year average) is replaced, with history.
pub async fn set_calculated(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    existing: &[&MetricRow],
    derived: &Values,
) -> QueryResult<()> {
    for row in existing
        .iter()
        .filter(|r| r.source() == DataSource::Calculated)
    {
        if !derived.contains_key(&row.metric_name) {
            diesel::delete(qbr_metrics_monthly::table.find((org, row.id)))
                .execute(conn)
                .await?;
        }
    }
    for (key, value) in derived {
        let current = existing.iter().find(|r| &r.metric_name == key);
        if let Some(row) = current {
            if row.source() == DataSource::Calculated
                && (row.value() - value).abs() <= 1e-6 * (1.0 + value.abs())
            {
                continue;
            }
        }
        let write = ValueWrite {
            metric: key,
            value: *value,
            vendor_id: 1,
            source: DataSource::Calculated,
            flags: Vec::new(),
            notes: None,
            actor: "system",
            collected_at: None,
        };
        if current.is_some_and(|r| r.source() != DataSource::Calculated) {
            // Only the prior-year average can be typed in and later computed: keep its trace.
            write_value(conn, org, month, &write).await?;
        } else {
            upsert_calculated(conn, org, month, &write).await?;
        }
    }
    Ok(())
}

/// Calculated values follow their inputs, whose changes are in the history already.
async fn upsert_calculated(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    w: &ValueWrite<'_>,
) -> QueryResult<()> {
    upsert_row(conn, org, month, w).await
}

/// Inserts the value, or replaces every field of the stored one (one row per
/// organization, month and metric).
async fn upsert_row(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    w: &ValueWrite<'_>,
) -> QueryResult<()> {
    let now = Utc::now();
    let entered_by = (w.source != DataSource::Collected && w.source != DataSource::Calculated)
        .then_some(w.actor);
    diesel::insert_into(qbr_metrics_monthly::table)
        .values((
            qbr_metrics_monthly::organization_id.eq(org),
            qbr_metrics_monthly::period.eq(month.to_string()),
            qbr_metrics_monthly::metric_name.eq(w.metric),
            qbr_metrics_monthly::metric_value.eq(from_f64(w.value)),
            qbr_metrics_monthly::vendor_id.eq(w.vendor_id),
            qbr_metrics_monthly::data_source.eq(w.source.as_str()),
            qbr_metrics_monthly::flags.eq(&w.flags),
            qbr_metrics_monthly::notes.eq(w.notes),
            qbr_metrics_monthly::entered_by.eq(entered_by),
            qbr_metrics_monthly::collected_at.eq(w.collected_at),
            qbr_metrics_monthly::updated_at.eq(now),
        ))
        .on_conflict((
            qbr_metrics_monthly::organization_id,
            qbr_metrics_monthly::period,
            qbr_metrics_monthly::metric_name,
        ))
        .do_update()
        .set((
            qbr_metrics_monthly::metric_value.eq(from_f64(w.value)),
            qbr_metrics_monthly::vendor_id.eq(w.vendor_id),
            qbr_metrics_monthly::data_source.eq(w.source.as_str()),
            qbr_metrics_monthly::flags.eq(&w.flags),
            qbr_metrics_monthly::notes.eq(w.notes),
            qbr_metrics_monthly::entered_by.eq(entered_by),
            qbr_metrics_monthly::collected_at.eq(w.collected_at),
            qbr_metrics_monthly::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

struct HistoryWrite<'a> {
    metric: &'a str,
    old: Option<(f64, DataSource)>,
    new: Option<(f64, DataSource)>,
    actor: &'a str,
    notes: Option<&'a str>,
}

async fn record_history(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Month,
    h: &HistoryWrite<'_>,
) -> QueryResult<()> {
    diesel::insert_into(qbr_metric_history::table)
        .values((
            qbr_metric_history::organization_id.eq(org),
            qbr_metric_history::period.eq(month.to_string()),
            qbr_metric_history::metric_name.eq(h.metric),
            qbr_metric_history::old_value.eq(opt_from_f64(h.old.map(|o| o.0))),
            qbr_metric_history::new_value.eq(opt_from_f64(h.new.map(|n| n.0))),
            qbr_metric_history::old_data_source.eq(h.old.map(|o| o.1.as_str())),
            qbr_metric_history::new_data_source.eq(h.new.map(|n| n.1.as_str())),
            qbr_metric_history::changed_by.eq(h.actor),
            qbr_metric_history::notes.eq(h.notes),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A stored change.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_metric_history)]
pub struct HistoryRow {
    pub id: i64,
    pub period: String,
    pub metric_name: String,
    pub old_value: Option<BigDecimal>,
    pub new_value: Option<BigDecimal>,
    pub old_data_source: Option<String>,
    pub new_data_source: Option<String>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub notes: Option<String>,
}

/// The changes of a month and/or a metric, newest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    org: i32,
    month: Option<Month>,
    metric: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<HistoryRow>> {
    let mut q = qbr_metric_history::table
        .filter(qbr_metric_history::organization_id.eq(org))
        .select(HistoryRow::as_select())
        .order(qbr_metric_history::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(m) = month {
        q = q.filter(qbr_metric_history::period.eq(m.to_string()));
    }
    if let Some(k) = metric {
        q = q.filter(qbr_metric_history::metric_name.eq(k.to_string()));
    }
    q.load(conn).await
}
