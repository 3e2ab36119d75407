//! Writing what the collectors read, inside the run's one transaction: device
//! snapshots, then every value checked (a negative value rejects the whole run),
//! flagged (zero, a jump of more than half — a flow only once its month has closed),
//! kept when typed in or imported, frozen
//! (with drift) once its month closed, else written; then the recomputation.
use super::clients;
use super::collector::{BooksReading, DeviceCounts, Reading};
use super::run::{RunOptions, RunReport};
use crate::store::devices::{self, Snapshot};
use crate::store::metrics::{rows_for_months, write_value, MetricRow, ValueWrite, WriteOutcome};
use crate::store::org::{self as org_settings, Org};
use crate::store::quickbooks;
use crate::store::{lock_organization_writes, recompute};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::{metric_def, Aggregation};
use qbr_shared::collection::{CollectedValue, Drift, Flag, Outcome};
use qbr_shared::{Month, Vendor};
use std::collections::{BTreeMap, BTreeSet};

/// A month-over-month change above this share raises a `warning`.
const WARNING_CHANGE: f64 = 0.5;

/// Whether `v` can be compared with the month before: a flow (tickets, hours, revenue:
/// summed over the month) of the month in progress is only part of its month, so its
/// first days would always look like a collapse. It is compared once its month has
/// closed (the first run after that rewrites it). Stocks (endpoints, seats: a
/// snapshot) are whole at any time.
fn comparable(metric: &str, month: Month, current: Month) -> bool {
    let flow = metric_def(metric).is_some_and(|d| d.aggregation == Aggregation::Sum);
    !(flow && month >= current)
}

/// Why the run's transaction ended without committing.
pub enum TxError {
    Db(diesel::result::Error),
    Rejected(String),
    /// A dry run's report, carried out of the transaction it rolled back.
    DryRun(Box<RunReport>),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

/// One value to store: month, metric, vendor, value, and what the vendor said of it.
struct Value {
    month: Month,
    metric: &'static str,
    vendor: Vendor,
    value: f64,
    /// The vendor's closing month (see `Reading::closed_through`).
    closed_through: Option<Month>,
    flags: Vec<Flag>,
}

/// Stores the readings of a run (see the module's documentation).
pub async fn apply(
    conn: &mut AsyncPgConnection,
    org: &Org,
    opts: &RunOptions,
    months: &[Month],
    readings: Vec<(Vendor, Reading)>,
    run_id: Option<i64>,
) -> Result<RunReport, TxError> {
    lock_organization_writes(conn, org.id).await?;
    let now = Utc::now();
    let mut report = RunReport {
        months: months.to_vec(),
        vendors: readings.iter().map(|(v, _)| *v).collect(),
        dry_run: opts.dry_run,
        ..RunReport::default()
    };
    let mut values = Vec::new();
    let mut client_readings = Vec::new();
    for (vendor, reading) in readings {
        let closed_through = reading.closed_through;
        let raised = &reading.flags;
        values.extend(reading.values.iter().map(|&(month, metric, value)| {
            Value {
                month,
                metric,
                vendor,
                value,
                closed_through,
                flags: raised
                    .iter()
                    .filter(|(m, k, _)| *m == month && *k == metric)
                    .map(|(_, _, f)| *f)
                    .collect(),
            }
        }));
        if let Some(counts) = &reading.devices {
            store_snapshot(conn, org, vendor, now, counts).await?;
            values.extend(device_values(conn, org, vendor, months).await?);
        }
        if let Some(per_client) = reading.clients {
            let per_client = clients::with_device_values(
                conn,
                org,
                months,
                per_client,
                reading.devices.as_ref(),
            )
            .await?;
            client_readings.push((vendor, per_client));
        }
        if let Some(counts) = reading.devices {
            report.snapshot = Some(counts);
        }
        if let Some(books) = &reading.books {
            store_books(conn, org, books, run_id, now).await?;
        }
    }
    let checker = Checker::load(conn, org, months, &values).await?;
    let mut changed: BTreeSet<Month> = BTreeSet::new();
    for v in &values {
        let collected = checker.check(v)?;
        let outcome = match checker.keep(v, opts.force, &mut report.drift) {
            Some(kept) => kept,
            None => write(conn, org, v, &collected.flags, now).await?,
        };
        if outcome == Outcome::Written {
            report.values_written += 1;
            changed.insert(v.month);
        }
        report.values.push(CollectedValue {
            outcome,
            ..collected
        });
    }
    if !client_readings.is_empty() {
        let internal = org_settings::settings(conn, org.id)
            .await?
            .map(|s| s.excluded_device_orgs)
            .unwrap_or_default();
        let cx = clients::Context {
            org,
            months,
            force: opts.force,
            run_id,
            now,
            internal_names: &internal,
        };
        report.clients = clients::store(conn, &cx, client_readings).await?;
    }
    if !changed.is_empty() {
        recompute::after_inputs_changed(conn, org, &changed, now).await?;
    }
    if opts.dry_run {
        return Err(TxError::DryRun(Box::new(report)));
    }
    Ok(report)
}

/// Keeps a report with its values: the accounts it showed, and the report itself.
async fn store_books(
    conn: &mut AsyncPgConnection,
    org: &Org,
    books: &BooksReading,
    run_id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let accounts: Vec<(&str, qbr_shared::quickbooks::Section)> = books
        .report
        .accounts
        .iter()
        .map(|a| (a.full_name.as_str(), a.section))
        .collect();
    quickbooks::accounts_seen(conn, org.id, &accounts, now).await?;
    let sync = quickbooks::NewSync {
        source: books.source,
        report: &books.report,
        raw: &books.raw,
        active_employees: books.active_employees,
        closing_date: books.closing_date,
        unreconciled: &books.unreconciled,
        run_id,
        now,
    };
    quickbooks::record_sync(conn, org.id, sync)
        .await
        .map(|_| ())
}

async fn store_snapshot(
    conn: &mut AsyncPgConnection,
    org: &Org,
    vendor: Vendor,
    now: DateTime<Utc>,
    counts: &DeviceCounts,
) -> QueryResult<()> {
    let per_client = serde_json::to_value(&counts.per_client).unwrap_or_default();
    let per_node_class = serde_json::to_value(&counts.per_node_class).unwrap_or_default();
    let snapshot = Snapshot {
        date: now.with_timezone(&org.timezone).date_naive(),
        vendor_id: vendor.id(),
        endpoints: counts.endpoints,
        seats: counts.seats,
        per_client: &per_client,
        per_node_class: &per_node_class,
        collected_at: now,
    };
    devices::upsert(conn, org.id, snapshot).await
}

/// Each month's endpoints and seats: its last snapshot's.
async fn device_values(
    conn: &mut AsyncPgConnection,
    org: &Org,
    vendor: Vendor,
    months: &[Month],
) -> QueryResult<Vec<Value>> {
    let mut out = Vec::new();
    for m in months {
        let last = devices::last_in(conn, org.id, m.first_day(), m.next().first_day()).await?;
        if let Some(row) = last {
            for (metric, value) in [
                ("endpoints_managed", row.endpoints),
                ("seats_managed", row.seats),
            ] {
                out.push(Value {
                    month: *m,
                    metric,
                    vendor,
                    value: f64::from(value),
                    closed_through: None,
                    flags: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

/// The stored values a run compares with: its months and the month before.
struct Checker<'a> {
    org: &'a Org,
    current: Month,
    stored: Vec<MetricRow>,
    /// This run's values, for the month-over-month check.
    new_values: BTreeMap<(Month, &'static str), f64>,
}

impl<'a> Checker<'a> {
    async fn load(
        conn: &mut AsyncPgConnection,
        org: &'a Org,
        months: &[Month],
        values: &[Value],
    ) -> QueryResult<Checker<'a>> {
        let mut with_prev: Vec<Month> = months.to_vec();
        if let Some(first) = months.first() {
            with_prev.push(first.prev());
        }
        Ok(Checker {
            org,
            current: org.current_month(Utc::now()),
            stored: rows_for_months(conn, org.id, &with_prev).await?,
            new_values: values
                .iter()
                .map(|v| ((v.month, v.metric), v.value))
                .collect(),
        })
    }

    fn stored(&self, month: Month, metric: &str) -> Option<&MetricRow> {
        let period = month.to_string();
        self.stored
            .iter()
            .find(|r| r.period == period && r.metric_name == metric)
    }

    /// Rejects an impossible value; flags a suspicious or jumpy one.
    fn check(&self, v: &Value) -> Result<CollectedValue, TxError> {
        // Counts can't be negative; money can (a refund, a credit).
        let signed = metric_def(v.metric).is_some_and(|d| d.allows_negative());
        if !v.value.is_finite() || (v.value < 0.0 && !signed) {
            return Err(TxError::Rejected(format!(
                "rejected: {} for {} is {} (a negative value means the vendor data is wrong); nothing was written",
                v.metric, v.month, v.value
            )));
        }
        let previous = self
            .new_values
            .get(&(v.month.prev(), v.metric))
            .copied()
            .or_else(|| self.stored(v.month.prev(), v.metric).map(MetricRow::value));
        let mut flags = v.flags.clone();
        if v.value == 0.0 && v.metric != "reactive_time_spent" && !signed {
            flags.push(Flag::Suspicious);
        }
        let jumped = previous.is_some_and(|p| p > 0.0 && (v.value - p).abs() / p > WARNING_CHANGE);
        if jumped && comparable(v.metric, v.month, self.current) {
            flags.push(Flag::Warning);
        }
        Ok(CollectedValue {
            period: v.month.to_string(),
            metric: v.metric.to_string(),
            value: v.value,
            flags,
            outcome: Outcome::Unchanged,
        })
    }

    /// Whether the stored value stays: typed in or imported, or collected after its
    /// month closed (frozen unless `force`; a different reading is drift).
    fn keep(&self, v: &Value, force: bool, drift: &mut Vec<Drift>) -> Option<Outcome> {
        let row = self.stored(v.month, v.metric)?;
        if matches!(row.source(), DataSource::Manual | DataSource::Imported) {
            return Some(Outcome::KeptManual);
        }
        let closed = match v.closed_through {
            Some(last_closed) => v.month <= last_closed,
            None => is_final(row, v.month, self.org),
        };
        let frozen =
            v.month < self.current && row.source() == DataSource::Collected && closed && !force;
        if !frozen {
            return None;
        }
        if (row.value() - v.value).abs() > 1e-6 {
            drift.push(Drift {
                period: v.month.to_string(),
                metric: v.metric.to_string(),
                stored: row.value(),
                collected: v.value,
            });
        }
        Some(Outcome::Frozen)
    }
}

/// A collected value is final (frozen) once it was collected after its month ended; a
/// value read while the month was in progress (e.g. at 22:30 on its last day) is
/// rewritten once by the first run after the month closes.
fn is_final(row: &MetricRow, month: Month, org: &Org) -> bool {
    let (_, end) = month.utc_bounds(org.timezone);
    row.collected_at.is_none_or(|at| at >= end)
}

async fn write(
    conn: &mut AsyncPgConnection,
    org: &Org,
    v: &Value,
    flags: &[Flag],
    now: DateTime<Utc>,
) -> QueryResult<Outcome> {
    let w = ValueWrite {
        metric: v.metric,
        value: v.value,
        vendor_id: v.vendor.id(),
        source: DataSource::Collected,
        flags: qbr_shared::collection::flag_words(flags),
        notes: None,
        actor: "collector",
        collected_at: Some(now),
    };
    Ok(match write_value(conn, org.id, v.month, &w).await? {
        WriteOutcome::Unchanged => Outcome::Unchanged,
        WriteOutcome::Created | WriteOutcome::Changed => Outcome::Written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn org() -> Org {
        Org {
            id: 1,
            slug: "acme".into(),
            name: "Acme".into(),
            timezone: chrono_tz::America::Chicago,
            working_hours: 167.0,
            data_version: 1,
        }
    }

    fn value(month: &str, metric: &'static str, value: f64) -> Value {
        Value {
            month: m(month),
            metric,
            vendor: Vendor::ConnectWise,
            value,
            closed_through: None,
            flags: Vec::new(),
        }
    }

    /// The run's values: a full March, and April after a few days of it.
    fn checker<'a>(org: &'a Org, current: &str, values: &[Value]) -> Checker<'a> {
        Checker {
            org,
            current: m(current),
            stored: Vec::new(),
            new_values: values
                .iter()
                .map(|v| ((v.month, v.metric), v.value))
                .collect(),
        }
    }

    fn flags(c: &Checker<'_>, v: &Value) -> Vec<Flag> {
        match c.check(v) {
            Ok(collected) => collected.flags,
            Err(_) => unreachable!(),
        }
    }

    #[test]
    fn a_flow_of_the_month_in_progress_is_not_a_jump() {
        let org = org();
        let values = [
            value("2025-03", "reactive_tickets_created", 120.0),
            value("2025-04", "reactive_tickets_created", 9.0),
            value("2025-03", "endpoints_managed", 400.0),
            value("2025-04", "endpoints_managed", 150.0),
        ];
        // 5 April: April's 9 tickets so far are not a 92 % drop from March's 120.
        let c = checker(&org, "2025-04", &values);
        assert_eq!(flags(&c, &values[1]), vec![]);
        // A stock is whole at any time: losing 250 endpoints is worth a look.
        assert_eq!(flags(&c, &values[3]), vec![Flag::Warning]);
        // Once April has closed, its (final) count is compared.
        let c = checker(&org, "2025-05", &values);
        assert_eq!(flags(&c, &values[1]), vec![Flag::Warning]);
        assert!(!comparable("mrr", m("2025-04"), m("2025-04")));
        assert!(comparable("mrr", m("2025-03"), m("2025-04")));
        assert!(comparable("seats_managed", m("2025-04"), m("2025-04")));
    }
}
