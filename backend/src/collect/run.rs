//! A collection run: read the vendors, check the values, write every month in ONE
//! transaction (all or nothing), one run at a time (PostgreSQL advisory lock), and a
//! row in the collection log.
use super::connectwise::ConnectWise;
use super::http::Http;
use super::metrics::{device_counts, reactive_hours, DeviceCounts};
use super::ninjaone::NinjaOne;
use super::{CollectorConfig, VendorChoice};
use crate::db::DbPool;
use crate::schema::{qbr_collection_log, qbr_device_snapshots};
use crate::store::metrics::{rows_for_months, write_value, ValueWrite, WriteOutcome};
use crate::store::{devices, lock_organization_writes, org, recompute};
use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use qbr_shared::api::DataSource;
use qbr_shared::Month;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

/// Session advisory-lock key of collection runs (plus the organization id).
const RUN_LOCK: i64 = 0x5142_4300;
/// A month-over-month change above this share raises a `warning`.
const WARNING_CHANGE: f64 = 0.5;

const CONNECTWISE_ID: i32 = 3;
const NINJAONE_ID: i32 = 2;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Cli,
    Api,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Cli => "cli",
            Trigger::Api => "api",
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub organization_id: i32,
    pub trigger: Trigger,
    pub vendors: VendorChoice,
    /// An explicit range (inclusive); `None`: the configured window ending this month.
    pub months: Option<(Month, Month)>,
    /// Re-collect closed months that already have a collected value.
    pub force: bool,
    /// Read and check everything, then roll back: nothing is written, not even the log.
    pub dry_run: bool,
}

/// What happened to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Written,
    Unchanged,
    /// A manual or imported value is kept.
    KeptManual,
    /// A closed month's collected value is kept (see `drift`).
    Frozen,
}

/// One value read from a vendor.
#[derive(Debug, Clone, Serialize)]
pub struct CollectedValue {
    pub period: String,
    pub metric: &'static str,
    pub value: f64,
    pub flags: Vec<String>,
    pub outcome: Outcome,
}

/// A frozen value that the vendor now reports differently.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub period: String,
    pub metric: &'static str,
    pub stored: f64,
    pub collected: f64,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub run_id: Option<i64>,
    pub months: Vec<Month>,
    pub vendors: Vec<&'static str>,
    pub values: Vec<CollectedValue>,
    pub drift: Vec<Drift>,
    pub requests: u64,
    pub duration: Duration,
    pub values_written: u32,
    pub dry_run: bool,
    pub snapshot: Option<DeviceCounts>,
}

impl RunReport {
    /// Values that carry a flag.
    pub fn flagged(&self) -> Vec<&CollectedValue> {
        self.values.iter().filter(|v| !v.flags.is_empty()).collect()
    }

    /// The CLI's summary: one line per month, then the totals.
    pub fn summary_table(&self) -> String {
        let metrics = [
            "reactive_tickets_created",
            "reactive_tickets_closed",
            "reactive_time_spent",
            "endpoints_managed",
            "seats_managed",
        ];
        let mut out = format!(
            "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n",
            "month", "created", "closed", "hours", "endpoints", "seats", "notes"
        );
        for m in &self.months {
            let p = m.to_string();
            let mut cells = Vec::new();
            let mut notes = Vec::new();
            for k in metrics {
                match self.values.iter().find(|v| v.period == p && v.metric == k) {
                    Some(v) => {
                        cells.push(format!("{}", (v.value * 100.0).round() / 100.0));
                        for f in &v.flags {
                            notes.push(format!("{k}: {f}"));
                        }
                        match v.outcome {
                            Outcome::KeptManual => notes.push(format!("{k}: manual kept")),
                            Outcome::Frozen => notes.push(format!("{k}: frozen")),
                            _ => {}
                        }
                    }
                    None => cells.push("-".into()),
                }
            }
            for d in self.drift.iter().filter(|d| d.period == p) {
                notes.push(format!(
                    "{}: drift {} → {}",
                    d.metric, d.stored, d.collected
                ));
            }
            out.push_str(&format!(
                "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n",
                p,
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                notes.join("; ")
            ));
        }
        out.push_str(&format!(
            "{} values {}, {} flagged, {} drifted, {} vendor requests, {:.1} s{}\n",
            self.values_written,
            if self.dry_run {
                "would be written"
            } else {
                "written"
            },
            self.flagged().len(),
            self.drift.len(),
            self.requests,
            self.duration.as_secs_f64(),
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        ));
        out
    }
}

/// Why a run did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("another collection run is in progress; try again when it has finished")]
    Refused,
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// Progress callback: (steps done, steps in all).
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Send + Sync);

/// The months a run covers.
pub fn run_months(
    cfg: &CollectorConfig,
    current: Month,
    range: Option<(Month, Month)>,
) -> anyhow::Result<Vec<Month>> {
    let (from, to) = range.unwrap_or_else(|| {
        let back = i32::try_from(cfg.window_months.max(1)).unwrap_or(13) - 1;
        (current.add_months(-back), current)
    });
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    anyhow::ensure!(to <= current, "{to} has not started yet");
    Month::range(from, to, 600).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a collection. Refused when another run holds the lock.
pub async fn run(
    pool: &DbPool,
    cfg: &CollectorConfig,
    opts: &RunOptions,
    progress: Progress<'_>,
) -> Result<RunReport, RunError> {
    let mut lock_conn = pool
        .get()
        .await
        .context("connecting to the database")
        .map_err(RunError::Failed)?;
    let key = RUN_LOCK + i64::from(opts.organization_id);
    let locked = try_lock(&mut lock_conn, key)
        .await
        .map_err(RunError::Failed)?;
    if !locked {
        if !opts.dry_run {
            let _ = log_refused(pool, opts).await;
        }
        return Err(RunError::Refused);
    }
    let result = locked_run(pool, cfg, opts, progress).await;
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .execute(&mut lock_conn)
        .await;
    if unlocked.is_err() {
        // A connection that may still hold the lock must not go back to the pool.
        let _ = crate::db::DbConn::take(lock_conn);
    }
    result
}

async fn try_lock(conn: &mut AsyncPgConnection, key: i64) -> anyhow::Result<bool> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

fn vendor_names(opts: &RunOptions, cfg: &CollectorConfig) -> anyhow::Result<Vec<&'static str>> {
    let want_cw = matches!(opts.vendors, VendorChoice::ConnectWise | VendorChoice::All);
    let want_ninja = matches!(opts.vendors, VendorChoice::NinjaOne | VendorChoice::All);
    let mut out = Vec::new();
    if want_cw && cfg.connectwise.is_some() {
        out.push("connectwise");
    }
    if want_ninja && cfg.ninjaone.is_some() {
        out.push("ninjaone");
    }
    match opts.vendors {
        VendorChoice::ConnectWise if out.is_empty() => {
            anyhow::bail!("ConnectWise is not configured (CONNECTWISE_URL, CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY, CONNECTWISE_PRIVATE_KEY, CONNECTWISE_CLIENT_ID)")
        }
        VendorChoice::NinjaOne if out.is_empty() => {
            anyhow::bail!("NinjaOne is not configured (NINJA_CLIENT_ID, NINJA_CLIENT_SECRET)")
        }
        VendorChoice::All if out.is_empty() => anyhow::bail!("no vendor is configured"),
        _ => Ok(out),
    }
}

async fn log_refused(pool: &DbPool, opts: &RunOptions) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    diesel::insert_into(qbr_collection_log::table)
        .values((
            qbr_collection_log::organization_id.eq(opts.organization_id),
            qbr_collection_log::trigger.eq(opts.trigger.as_str()),
            qbr_collection_log::status.eq("refused"),
            qbr_collection_log::finished_at.eq(Utc::now()),
            qbr_collection_log::duration_ms.eq(0i64),
            qbr_collection_log::error.eq("another collection run is in progress"),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

async fn locked_run(
    pool: &DbPool,
    cfg: &CollectorConfig,
    opts: &RunOptions,
    progress: Progress<'_>,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let mut conn = pool
        .get()
        .await
        .context("connecting to the database")
        .map_err(RunError::Failed)?;
    // We hold the lock: a `running` row left behind is a run whose process died.
    if !opts.dry_run {
        diesel::update(
            qbr_collection_log::table
                .filter(qbr_collection_log::organization_id.eq(opts.organization_id))
                .filter(qbr_collection_log::status.eq("running")),
        )
        .set((
            qbr_collection_log::status.eq("failed"),
            qbr_collection_log::error
                .eq("interrupted: the process ended before the run finished; nothing was written"),
            qbr_collection_log::finished_at.eq(Utc::now()),
        ))
        .execute(&mut conn)
        .await
        .context("closing interrupted runs")
        .map_err(RunError::Failed)?;
    }
    let org = match org::load(&mut conn, opts.organization_id).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            return Err(RunError::Failed(anyhow::anyhow!(
                "organization {} does not exist",
                opts.organization_id
            )))
        }
        Err(e) => return Err(RunError::Failed(e.into())),
    };
    let now = Utc::now();
    let prepared = run_months(cfg, org.current_month(now), opts.months)
        .and_then(|m| Ok((m, vendor_names(opts, cfg)?)));
    let (months, vendors) = prepared.map_err(RunError::Failed)?;
    let total =
        u32::try_from(months.len()).unwrap_or(u32::MAX) + u32::from(vendors.contains(&"ninjaone"));
    let run_id = if opts.dry_run {
        None
    } else {
        Some(
            diesel::insert_into(qbr_collection_log::table)
                .values((
                    qbr_collection_log::organization_id.eq(org.id),
                    qbr_collection_log::trigger.eq(opts.trigger.as_str()),
                    qbr_collection_log::status.eq("running"),
                    qbr_collection_log::months
                        .eq(months.iter().map(Month::to_string).collect::<Vec<_>>()),
                    qbr_collection_log::vendors
                        .eq(vendors.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
                    qbr_collection_log::progress_total.eq(i32::try_from(total).unwrap_or(i32::MAX)),
                ))
                .returning(qbr_collection_log::id)
                .get_result::<i64>(&mut conn)
                .await
                .context("writing the collection log")
                .map_err(RunError::Failed)?,
        )
    };
    drop(conn);
    let report_progress = |done: u32| {
        progress(done, total);
        let pool = pool.clone();
        async move {
            if let (Some(id), Ok(mut conn)) = (run_id, pool.get().await) {
                // Progress is informative: a failure to record it does not stop the run.
                let _ = diesel::update(qbr_collection_log::table.find(id))
                    .set(qbr_collection_log::progress_done.eq(i32::try_from(done).unwrap_or(0)))
                    .execute(&mut conn)
                    .await;
            }
        }
    };
    let http = Http::new(cfg.http.clone()).map_err(RunError::Failed)?;
    let outcome = collect(
        pool,
        cfg,
        opts,
        &org,
        &months,
        &vendors,
        &http,
        &report_progress,
    )
    .await;
    let duration = started.elapsed();
    let requests = http.requests();
    let finish = |status: &'static str, error: Option<String>, report: Option<&RunReport>| {
        let pool = pool.clone();
        let flags = report.map_or(serde_json::json!([]), |r| {
            serde_json::to_value(r.flagged()).unwrap_or_default()
        });
        let drift = report.map_or(serde_json::json!([]), |r| {
            serde_json::to_value(&r.drift).unwrap_or_default()
        });
        let written = report.map_or(0, |r| i32::try_from(r.values_written).unwrap_or(i32::MAX));
        async move {
            let Some(id) = run_id else { return Ok(()) };
            let mut conn = pool.get().await?;
            diesel::update(qbr_collection_log::table.find(id))
                .set((
                    qbr_collection_log::status.eq(status),
                    qbr_collection_log::error.eq(error),
                    qbr_collection_log::finished_at.eq(Utc::now()),
                    qbr_collection_log::duration_ms
                        .eq(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)),
                    qbr_collection_log::request_count
                        .eq(i32::try_from(requests).unwrap_or(i32::MAX)),
                    qbr_collection_log::values_written.eq(written),
                    qbr_collection_log::flags.eq(flags),
                    qbr_collection_log::drift.eq(drift),
                ))
                .execute(&mut conn)
                .await?;
            anyhow::Ok(())
        }
    };
    match outcome {
        Ok(mut report) => {
            report.run_id = run_id;
            report.requests = requests;
            report.duration = duration;
            finish("success", None, Some(&report))
                .await
                .context("writing the collection log")
                .map_err(RunError::Failed)?;
            Ok(report)
        }
        Err(e) => {
            let message = format!("{e:#}");
            tracing::error!(error = %message, "collection run failed");
            if let Err(log_err) = finish("failed", Some(message), None).await {
                tracing::error!(error = %log_err, "could not record the failed run");
            }
            Err(RunError::Failed(e))
        }
    }
}

/// What the vendors said, before any check.
#[derive(Default)]
struct Readings {
    /// (month, metric, vendor id, value)
    values: Vec<(Month, &'static str, i32, f64)>,
    snapshot: Option<DeviceCounts>,
}

#[allow(clippy::too_many_arguments)]
async fn collect<F, Fut>(
    pool: &DbPool,
    cfg: &CollectorConfig,
    opts: &RunOptions,
    org: &org::Org,
    months: &[Month],
    vendors: &[&'static str],
    http: &Http,
    progress: &F,
) -> anyhow::Result<RunReport>
where
    F: Fn(u32) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut readings = Readings::default();
    let mut done = 0u32;
    let bounds: Vec<(Month, DateTime<Utc>, DateTime<Utc>)> = months
        .iter()
        .map(|m| {
            let (s, e) = m.utc_bounds(org.timezone);
            (*m, s, e)
        })
        .collect();
    if let (true, Some(cw_cfg)) = (vendors.contains(&"connectwise"), &cfg.connectwise) {
        let mut cw = ConnectWise::new(http.clone(), cw_cfg.clone());
        let (Some(first), Some(last)) = (<[_]>::first(&bounds), <[_]>::last(&bounds)) else {
            anyhow::bail!("no month to collect");
        };
        // One listing for the whole window, then the boards of the tickets charged.
        let entries = cw.time_entries(first.1, last.2).await?;
        let ids: HashSet<i64> = entries.iter().filter_map(|e| e.charge_to_id).collect();
        cw.boards(&ids).await?;
        let hours = reactive_hours(&entries, &bounds, |t| cw.is_reactive(t));
        for (m, start, end) in &bounds {
            let created = cw.reactive_created(*start, *end).await?;
            let closed = cw.reactive_closed(*start, *end).await?;
            #[allow(clippy::cast_precision_loss)]
            readings.values.extend([
                (
                    *m,
                    "reactive_tickets_created",
                    CONNECTWISE_ID,
                    created as f64,
                ),
                (*m, "reactive_tickets_closed", CONNECTWISE_ID, closed as f64),
                (
                    *m,
                    "reactive_time_spent",
                    CONNECTWISE_ID,
                    hours.get(m).copied().unwrap_or(0.0),
                ),
            ]);
            done += 1;
            progress(done).await;
        }
    }
    if let (true, Some(ninja_cfg)) = (vendors.contains(&"ninjaone"), &cfg.ninjaone) {
        let mut ninja = NinjaOne::new(http.clone(), ninja_cfg.clone());
        let inventory = ninja.inventory().await?;
        readings.snapshot = Some(device_counts(&inventory, &ninja_cfg.excluded_orgs));
        done += 1;
        progress(done).await;
    }
    let mut conn = pool.get().await.context("connecting to the database")?;
    let result = conn
        .transaction::<_, TxError, _>(async |conn| {
            store_run(conn, org, opts, months, vendors, readings).await
        })
        .await;
    match result {
        Ok(report) => Ok(report),
        Err(TxError::DryRun(report)) => Ok(*report),
        Err(TxError::Rejected(why)) => Err(anyhow::anyhow!(why)),
        Err(TxError::Db(e)) => Err(anyhow::Error::new(e).context("writing the collected values")),
    }
}

enum TxError {
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

async fn store_run(
    conn: &mut AsyncPgConnection,
    org: &org::Org,
    opts: &RunOptions,
    months: &[Month],
    vendors: &[&'static str],
    mut readings: Readings,
) -> Result<RunReport, TxError> {
    lock_organization_writes(conn, org.id).await?;
    let now = Utc::now();
    let current = org.current_month(now);
    if let Some(snap) = &readings.snapshot {
        store_snapshot(conn, org, now, snap).await?;
        for m in months {
            if let Some(row) =
                devices::last_in(conn, org.id, m.first_day(), m.next().first_day()).await?
            {
                readings.values.push((
                    *m,
                    "endpoints_managed",
                    NINJAONE_ID,
                    f64::from(row.endpoints),
                ));
                readings
                    .values
                    .push((*m, "seats_managed", NINJAONE_ID, f64::from(row.seats)));
            }
        }
    }
    // Stored values of the run's months and the month before (for the change check).
    let mut with_prev: Vec<Month> = months.to_vec();
    if let Some(first) = months.first() {
        with_prev.push(first.prev());
    }
    let stored = rows_for_months(conn, org.id, &with_prev).await?;
    let new_values: BTreeMap<(Month, &str), f64> = readings
        .values
        .iter()
        .map(|(m, k, _, v)| ((*m, *k), *v))
        .collect();
    let mut report = RunReport {
        months: months.to_vec(),
        vendors: vendors.to_vec(),
        dry_run: opts.dry_run,
        snapshot: readings.snapshot.clone(),
        ..RunReport::default()
    };
    let mut changed: BTreeSet<Month> = BTreeSet::new();
    for (month, metric, vendor_id, value) in &readings.values {
        if *value < 0.0 || !value.is_finite() {
            return Err(TxError::Rejected(format!(
                "rejected: {metric} for {month} is {value} (a negative value means the vendor data is wrong); nothing was written"
            )));
        }
        let period = month.to_string();
        let existing = stored
            .iter()
            .find(|r| r.period == period && r.metric_name == *metric);
        let prev_period = month.prev().to_string();
        let previous = new_values
            .get(&(month.prev(), *metric))
            .copied()
            .or_else(|| {
                stored
                    .iter()
                    .find(|r| r.period == prev_period && r.metric_name == *metric)
                    .map(|r| r.value())
            });
        let mut flags = Vec::new();
        if *value == 0.0 && *metric != "reactive_time_spent" {
            flags.push("suspicious".to_string());
        }
        if let Some(prev) = previous.filter(|p| *p > 0.0) {
            if (value - prev).abs() / prev > WARNING_CHANGE {
                flags.push("warning".to_string());
            }
        }
        let outcome = match existing {
            Some(row) if matches!(row.source(), DataSource::Manual | DataSource::Imported) => {
                Outcome::KeptManual
            }
            Some(row)
                if *month < current
                    && row.source() == DataSource::Collected
                    && is_final(row, *month, org)
                    && !opts.force =>
            {
                if (row.value() - value).abs() > 1e-6 {
                    report.drift.push(Drift {
                        period: period.clone(),
                        metric,
                        stored: row.value(),
                        collected: *value,
                    });
                }
                Outcome::Frozen
            }
            _ => {
                let w = ValueWrite {
                    metric,
                    value: *value,
                    vendor_id: *vendor_id,
                    source: DataSource::Collected,
                    flags: flags.clone(),
                    notes: None,
                    actor: "collector",
                    collected_at: Some(now),
                };
                match write_value(conn, org.id, *month, &w).await? {
                    WriteOutcome::Unchanged => Outcome::Unchanged,
                    WriteOutcome::Created | WriteOutcome::Changed => {
                        report.values_written += 1;
                        changed.insert(*month);
                        Outcome::Written
                    }
                }
            }
        };
        report.values.push(CollectedValue {
            period,
            metric,
            value: *value,
            flags,
            outcome,
        });
    }
    if !changed.is_empty() {
        recompute::after_inputs_changed(conn, org, &changed, now).await?;
    }
    if opts.dry_run {
        return Err(TxError::DryRun(Box::new(report)));
    }
    Ok(report)
}

/// A collected value is final (frozen) once it was collected after its month ended; a
/// value read while the month was in progress (e.g. at 22:30 on its last day) is
/// rewritten once by the first run after the month closes.
fn is_final(row: &crate::store::metrics::MetricRow, month: Month, org: &org::Org) -> bool {
    let (_, end) = month.utc_bounds(org.timezone);
    row.collected_at.is_none_or(|at| at >= end)
}

async fn store_snapshot(
    conn: &mut AsyncPgConnection,
    org: &org::Org,
    now: DateTime<Utc>,
    snap: &DeviceCounts,
) -> QueryResult<()> {
    let date = now.with_timezone(&org.timezone).date_naive();
    let per_client = serde_json::to_value(&snap.per_client).unwrap_or_default();
    let per_class = serde_json::to_value(&snap.per_node_class).unwrap_or_default();
    let endpoints = i32::try_from(snap.endpoints).unwrap_or(i32::MAX);
    let seats = i32::try_from(snap.seats).unwrap_or(i32::MAX);
    diesel::insert_into(qbr_device_snapshots::table)
        .values((
            qbr_device_snapshots::organization_id.eq(org.id),
            qbr_device_snapshots::snapshot_date.eq(date),
            qbr_device_snapshots::vendor_id.eq(NINJAONE_ID),
            qbr_device_snapshots::endpoints.eq(endpoints),
            qbr_device_snapshots::seats.eq(seats),
            qbr_device_snapshots::per_client.eq(&per_client),
            qbr_device_snapshots::per_node_class.eq(&per_class),
            qbr_device_snapshots::collected_at.eq(now),
        ))
        .on_conflict((
            qbr_device_snapshots::organization_id,
            qbr_device_snapshots::snapshot_date,
        ))
        .do_update()
        .set((
            qbr_device_snapshots::endpoints.eq(endpoints),
            qbr_device_snapshots::seats.eq(seats),
            qbr_device_snapshots::per_client.eq(&per_client),
            qbr_device_snapshots::per_node_class.eq(&per_class),
            qbr_device_snapshots::collected_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
