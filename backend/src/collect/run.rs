//! A collection run: one at a time per organization (a PostgreSQL advisory lock), a row
//! in the collection log, every chosen vendor read first, then everything written in
//! ONE transaction (`apply.rs`): all or nothing.
use super::apply::{apply, TxError};
use super::collector::{Progress, Reading, Steps, Window};
use super::http::Http;
use super::{registry, CollectorConfig, VendorChoice};
use crate::db::{tenant, DbConn, DbPool};
use crate::notify::events::{self, Event, RunFacts};
use crate::store::collection::{self as log, NewRun, RunEnd};
use crate::store::org::{self, Org};
use anyhow::Context;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use qbr_shared::collection::{CollectedValue, Drift, Outcome, RunStatus, Trigger};
use qbr_shared::{Month, Vendor};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Session advisory-lock key of collection runs (plus the organization id).
const RUN_LOCK: i64 = 0x5142_4300;

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

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub run_id: Option<i64>,
    pub months: Vec<Month>,
    pub vendors: Vec<Vendor>,
    pub values: Vec<CollectedValue>,
    pub drift: Vec<Drift>,
    pub requests: u64,
    pub duration: Duration,
    pub values_written: u32,
    pub dry_run: bool,
    pub snapshot: Option<super::collector::DeviceCounts>,
    /// What the per-client readings stored.
    pub clients: super::clients::ClientsReport,
}

/// Why a run did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("another collection run is in progress; try again when it has finished")]
    Refused,
    #[error("the run was cancelled before anything was written")]
    Cancelled,
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// The months a run covers: `range`, else the window of `window_months` ending with
/// the `current` month.
pub fn run_months(
    window_months: u32,
    current: Month,
    range: Option<(Month, Month)>,
) -> anyhow::Result<Vec<Month>> {
    let (from, to) = range.unwrap_or_else(|| {
        let back = i32::try_from(window_months.max(1)).unwrap_or(13) - 1;
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
    run_controlled(pool, cfg, opts, progress, Control::default()).await
}

/// What the starter of a run in the server (Collect now) holds on to: it learns the
/// run's id as soon as the run is in the log, and may cancel it until the vendors have
/// all been read (then the write, one short transaction, goes ahead).
#[derive(Default)]
pub struct Control {
    /// Told the run's id once its log row exists.
    pub started: Option<tokio::sync::oneshot::Sender<i64>>,
    /// Cancelled by the starter: the run stops reading, writes nothing and ends as
    /// `cancelled`.
    pub cancel: CancellationToken,
}

/// [`run`], with a [`Control`].
pub async fn run_controlled(
    pool: &DbPool,
    cfg: &CollectorConfig,
    opts: &RunOptions,
    progress: Progress<'_>,
    control: Control,
) -> Result<RunReport, RunError> {
    locked(pool, opts, Sources::Read(cfg), progress, control).await
}

/// A run whose vendor data has arrived already (QuickBooks Desktop's Web Connector
/// pushes its reports; a mapping change replays stored ones): the same lock, log row
/// and single transaction as [`run`]. `opts.months` must name the months.
pub async fn run_delivered(
    pool: &DbPool,
    opts: &RunOptions,
    delivered: Vec<(Vendor, Reading)>,
) -> Result<RunReport, RunError> {
    locked(
        pool,
        opts,
        Sources::Delivered(delivered),
        &|_, _| {},
        Control::default(),
    )
    .await
}

/// Where a run's readings come from.
enum Sources<'a> {
    /// Each configured vendor is read now.
    Read(&'a CollectorConfig),
    Delivered(Vec<(Vendor, Reading)>),
}

async fn locked(
    pool: &DbPool,
    opts: &RunOptions,
    sources: Sources<'_>,
    progress: Progress<'_>,
    control: Control,
) -> Result<RunReport, RunError> {
    let failed = |e: anyhow::Error| RunError::Failed(e);
    // Holds the run's lock only: it reads no tenant table.
    let mut lock_conn = tenant::checkout_platform(pool)
        .await
        .context("connecting to the database")
        .map_err(failed)?;
    let key = RUN_LOCK + i64::from(opts.organization_id);
    if !try_lock(&mut lock_conn, key).await.map_err(failed)? {
        if !opts.dry_run {
            if let Ok(mut conn) = tenant::checkout(pool, opts.organization_id).await {
                let _ = log::record_refused(&mut conn, opts.organization_id, opts.trigger).await;
            }
            crate::observe::collection_run(opts.trigger, RunStatus::Refused, None);
        }
        return Err(RunError::Refused);
    }
    let started = Instant::now();
    let result = locked_run(pool, opts, sources, progress, control).await;
    if !opts.dry_run {
        let status = match &result {
            Ok(_) => RunStatus::Success,
            Err(RunError::Cancelled) => RunStatus::Cancelled,
            Err(RunError::Refused) => RunStatus::Refused,
            Err(RunError::Failed(_)) => RunStatus::Failed,
        };
        crate::observe::collection_run(opts.trigger, status, Some(started.elapsed()));
    }
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .execute(&mut lock_conn)
        .await;
    if unlocked.is_err() {
        // A connection that may still hold the lock must not go back to the pool.
        let _ = DbConn::take(lock_conn);
    }
    result
}

/// Takes the session advisory lock `key` if free (the QuickBooks Online sync uses it too).
pub(crate) async fn try_lock(conn: &mut AsyncPgConnection, key: i64) -> anyhow::Result<bool> {
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

/// What a run works on, known once it holds the lock.
struct Plan {
    org: Org,
    months: Vec<Month>,
}

async fn plan(
    conn: &mut AsyncPgConnection,
    window_months: u32,
    opts: &RunOptions,
) -> anyhow::Result<Plan> {
    // We hold the lock: a `running` row left behind is a run whose process died.
    if !opts.dry_run {
        log::close_interrupted(conn, opts.organization_id)
            .await
            .context("closing interrupted runs")?;
    }
    let org = org::load(conn, opts.organization_id)
        .await?
        .with_context(|| format!("organization {} does not exist", opts.organization_id))?;
    let months = run_months(
        window_months,
        org.current_month(chrono::Utc::now()),
        opts.months,
    )?;
    Ok(Plan { org, months })
}

/// A vendor's collector for this run, or what it delivered.
enum Source {
    Collector(Box<dyn super::collector::Collector>),
    Delivered(Box<Reading>),
}

async fn locked_run(
    pool: &DbPool,
    opts: &RunOptions,
    sources: Sources<'_>,
    progress: Progress<'_>,
    mut control: Control,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let mut conn = tenant::checkout(pool, opts.organization_id)
        .await
        .context("connecting to the database")
        .map_err(RunError::Failed)?;
    let window_months = match &sources {
        Sources::Read(cfg) => cfg.window_months,
        Sources::Delivered(_) => 13,
    };
    let plan = plan(&mut conn, window_months, opts)
        .await
        .map_err(RunError::Failed)?;
    let (http, sources) = match sources {
        Sources::Read(cfg) => {
            let http = Http::new(cfg.http.clone()).map_err(RunError::Failed)?;
            let collectors: Vec<(Vendor, Source)> = cfg
                .chosen(opts.vendors)
                .map_err(RunError::Failed)?
                .iter()
                .map(|v| {
                    let http = http.for_vendor(v.vendor());
                    (v.vendor(), Source::Collector(v.collector(http)))
                })
                .collect();
            (Some(http), collectors)
        }
        Sources::Delivered(readings) => (
            None,
            readings
                .into_iter()
                .map(|(v, r)| (v, Source::Delivered(Box::new(r))))
                .collect(),
        ),
    };
    let vendors: Vec<Vendor> = sources.iter().map(|(v, _)| *v).collect();
    let total: u32 = sources
        .iter()
        .map(|(_, s)| match s {
            Source::Collector(c) => c.steps(plan.months.len()),
            Source::Delivered(_) => 0,
        })
        .sum();
    let run_id = if opts.dry_run {
        None
    } else {
        let new = NewRun {
            organization_id: plan.org.id,
            trigger: opts.trigger,
            months: &plan.months,
            vendors: &vendors,
            progress_total: total,
        };
        let id = log::start(&mut conn, new)
            .await
            .context("writing the collection log")
            .map_err(RunError::Failed)?;
        Some(id)
    };
    drop(conn);
    if let (Some(id), Some(started)) = (run_id, control.started.take()) {
        let _ = started.send(id);
    }
    let steps = Steps::new(total, progress, run_id.map(|id| (pool, plan.org.id, id)));
    let outcome = read_and_apply(pool, opts, &plan, sources, &steps, run_id, &control.cancel).await;
    let end = Ended {
        organization_id: plan.org.id,
        run_id,
        duration: started.elapsed(),
        requests: http.map_or(0, |h| h.requests()),
        trigger: opts.trigger,
        months: plan.months.clone(),
        vendors,
    };
    end.record(pool, outcome).await
}

/// Reads every vendor, then writes what they said in one transaction.
async fn read_and_apply(
    pool: &DbPool,
    opts: &RunOptions,
    plan: &Plan,
    sources: Vec<(Vendor, Source)>,
    steps: &Steps<'_>,
    run_id: Option<i64>,
    cancel: &CancellationToken,
) -> anyhow::Result<RunReport> {
    let window = Window::new(&plan.months, plan.org.timezone);
    let mut readings: Vec<(Vendor, Reading)> = Vec::new();
    for (vendor, source) in sources {
        let reading = match source {
            Source::Collector(mut collector) => tokio::select! {
                reading = collector.read(&window, steps) => reading?,
                () = cancel.cancelled() => return Err(Cancelled.into()),
            },
            Source::Delivered(reading) => *reading,
        };
        readings.push((vendor, reading));
    }
    // Past this point the run writes: a cancel that comes later is too late.
    if cancel.is_cancelled() {
        return Err(Cancelled.into());
    }
    let mut conn = tenant::checkout(pool, plan.org.id)
        .await
        .context("connecting to the database")?;
    let result = conn
        .transaction::<_, TxError, _>(async |conn| {
            apply(conn, &plan.org, opts, &plan.months, readings, run_id).await
        })
        .await;
    match result {
        Ok(report) => Ok(report),
        Err(TxError::DryRun(report)) => Ok(*report),
        Err(TxError::Rejected(why)) => Err(anyhow::anyhow!(why)),
        Err(TxError::Db(e)) => Err(anyhow::Error::new(e).context("writing the collected values")),
    }
}

/// The error a cancelled run ends with (told apart from a failure by its type).
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
struct Cancelled;

/// What every ended run records, success or not.
struct Ended {
    organization_id: i32,
    run_id: Option<i64>,
    duration: Duration,
    requests: u64,
    trigger: Trigger,
    months: Vec<Month>,
    vendors: Vec<Vendor>,
}

impl Ended {
    async fn record(
        self,
        pool: &DbPool,
        outcome: anyhow::Result<RunReport>,
    ) -> Result<RunReport, RunError> {
        match outcome {
            Ok(mut report) => {
                report.run_id = self.run_id;
                report.requests = self.requests;
                report.duration = self.duration;
                let flagged: Vec<CollectedValue> = report.flagged().into_iter().cloned().collect();
                self.write(pool, RunStatus::Success, None, &report, &flagged)
                    .await
                    .context("writing the collection log")
                    .map_err(RunError::Failed)?;
                self.notify_success(pool, &report).await;
                Ok(report)
            }
            Err(e) if e.is::<Cancelled>() => {
                tracing::info!(run = ?self.run_id, "collection run cancelled");
                let nothing = RunReport::default();
                if let Err(log_err) = self
                    .write(pool, RunStatus::Cancelled, None, &nothing, &[])
                    .await
                {
                    tracing::error!(error = %log_err, "could not record the cancelled run");
                }
                Err(RunError::Cancelled)
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::error!(error = %message, "collection run failed");
                let nothing = RunReport::default();
                if let Err(log_err) = self
                    .write(
                        pool,
                        RunStatus::Failed,
                        Some(message.clone()),
                        &nothing,
                        &[],
                    )
                    .await
                {
                    tracing::error!(error = %log_err, "could not record the failed run");
                }
                if let Some(facts) = self.facts() {
                    let event = events::run_failed(&facts, &message);
                    events::raise_all(pool, self.organization_id, &[event]).await;
                }
                Err(RunError::Failed(e))
            }
        }
    }

    /// The run as messages name it; `None` for a dry run (nothing to tell).
    fn facts(&self) -> Option<RunFacts<'_>> {
        Some(RunFacts {
            run_id: self.run_id?,
            trigger: self.trigger,
            months: &self.months,
            vendors: &self.vendors,
        })
    }

    /// Raises the events of a successful run: values written with flags, drift not
    /// reported in the last 30 days. The run's outcome does not depend on it.
    async fn notify_success(&self, pool: &DbPool, report: &RunReport) {
        let Some(facts) = self.facts() else {
            return;
        };
        let mut raised: Vec<Event> = events::run_flags(&facts, &report.values)
            .into_iter()
            .collect();
        if !report.drift.is_empty() {
            let before = match tenant::checkout(pool, self.organization_id).await {
                Ok(mut conn) => {
                    log::drift_before(&mut conn, self.organization_id, facts.run_id, 30)
                        .await
                        .unwrap_or_default()
                }
                Err(_) => Vec::new(),
            };
            raised.extend(events::drift(&facts, &report.drift, &before));
        }
        events::raise_all(pool, self.organization_id, &raised).await;
    }

    async fn write(
        &self,
        pool: &DbPool,
        status: RunStatus,
        error: Option<String>,
        report: &RunReport,
        flagged: &[CollectedValue],
    ) -> anyhow::Result<()> {
        let Some(id) = self.run_id else {
            return Ok(());
        };
        let mut conn = tenant::checkout(pool, self.organization_id).await?;
        let end = RunEnd {
            status,
            error,
            duration_ms: self.duration.as_millis(),
            request_count: self.requests,
            values_written: report.values_written,
            flags: flagged,
            drift: &report.drift,
        };
        log::finish(&mut conn, self.organization_id, id, end).await?;
        Ok(())
    }
}

impl RunReport {
    /// Values that carry a flag.
    pub fn flagged(&self) -> Vec<&CollectedValue> {
        self.values.iter().filter(|v| !v.flags.is_empty()).collect()
    }

    /// The summary's columns: each vendor's metrics, with their headers.
    fn columns(&self) -> Vec<(&'static str, &'static str)> {
        self.vendors
            .iter()
            .filter_map(|v| registry::module(*v))
            .flat_map(|m| m.columns.iter().copied())
            .collect()
    }

    /// One line of the summary: the month's values and notes (flags, kept values, drift).
    fn summary_line(&self, month: &Month, columns: &[(&str, &str)]) -> String {
        let p = month.to_string();
        let mut line = format!("{p:<8}");
        let mut notes = Vec::new();
        for (key, header) in columns {
            let width = header.len().max(9);
            let Some(v) = self
                .values
                .iter()
                .find(|v| v.period == p && v.metric == *key)
            else {
                line.push_str(&format!(" {:>width$}", "-"));
                continue;
            };
            let value = (v.value * 100.0).round() / 100.0;
            line.push_str(&format!(" {value:>width$}"));
            notes.extend(v.flags.iter().map(|f| format!("{key}: {f}")));
            match v.outcome {
                Outcome::KeptManual => notes.push(format!("{key}: manual kept")),
                Outcome::Frozen => notes.push(format!("{key}: frozen")),
                Outcome::Written | Outcome::Unchanged => {}
            }
        }
        for d in self.drift.iter().filter(|d| d.period == p) {
            notes.push(format!(
                "{}: drift {} → {}",
                d.metric, d.stored, d.collected
            ));
        }
        format!("{line}  {}\n", notes.join("; "))
    }

    /// The CLI's summary: one line per month, then the totals.
    pub fn summary_table(&self) -> String {
        let columns = self.columns();
        let mut out = format!("{:<8}", "month");
        for (_, header) in &columns {
            out.push_str(&format!(" {header:>width$}", width = header.len().max(9)));
        }
        out.push_str("  notes\n");
        for m in &self.months {
            out.push_str(&self.summary_line(m, &columns));
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

#[cfg(test)]
mod tests {
    use super::*;
    use qbr_shared::collection::Flag;

    #[test]
    fn the_summary_has_a_column_per_metric_of_the_run_vendors() {
        let month: Month = "2025-03".parse().unwrap_or_else(|_| unreachable!());
        let value = |metric: &str, value: f64, flags: Vec<Flag>, outcome| CollectedValue {
            period: month.to_string(),
            metric: metric.to_string(),
            value,
            flags,
            outcome,
        };
        let report = RunReport {
            months: vec![month],
            vendors: vec![Vendor::ConnectWise],
            values: vec![
                value("reactive_tickets_created", 12.0, vec![], Outcome::Written),
                value(
                    "reactive_time_spent",
                    0.0,
                    vec![Flag::Suspicious],
                    Outcome::Frozen,
                ),
            ],
            values_written: 1,
            ..RunReport::default()
        };
        let table = report.summary_table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].contains("created") && lines[0].contains("hours"));
        assert!(
            !lines[0].contains("seats"),
            "NinjaOne was not read: {table}"
        );
        assert!(lines[1].starts_with("2025-03") && lines[1].contains("12"));
        assert!(lines[1].contains("reactive_time_spent: suspicious"));
        assert!(lines[1].contains("reactive_time_spent: frozen"));
        assert!(lines[1].contains(" - "), "closed was not read: {table}");
        assert!(lines[2].starts_with("1 values written, 1 flagged"));
    }
}
