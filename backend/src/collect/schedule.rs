//! The nightly schedule (tokio-cron-scheduler) inside `qbr serve`: at `COLLECTOR_CRON`
//! it collects every organization that has no collection time of its own, and every
//! minute it collects those whose own time (Settings, in their zone) it is (`night`).
//! An organization's schedule is read at each tick, so a change needs no restart.
//!
//! tokio-cron-scheduler turns the zone into a fixed UTC offset when a job is created,
//! so a job made in winter would fire an hour off in summer. A watcher re-creates the
//! job whenever the zone's offset changes, which keeps the schedule DST-correct.
use super::night;
use super::quickbooks::QuickBooksSettings;
use super::CollectorConfig;
use crate::db::DbPool;
use chrono::{Offset, TimeZone, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};

/// A running schedule; dropping it does not stop it, `shutdown` does.
pub struct Schedule {
    scheduler: JobScheduler,
    watcher: tokio::task::JoinHandle<()>,
    job_id: Arc<std::sync::Mutex<uuid::Uuid>>,
}

impl Schedule {
    /// When the next run starts.
    pub async fn next_run(&mut self) -> Option<chrono::DateTime<Utc>> {
        let id = *self.job_id.lock().ok()?;
        self.scheduler.next_tick_for_job(id).await.ok().flatten()
    }

    pub async fn shutdown(mut self) {
        self.watcher.abort();
        let _ = self.scheduler.shutdown().await;
    }
}

fn offset_now(tz: chrono_tz::Tz) -> i32 {
    tz.offset_from_utc_datetime(&Utc::now().naive_utc())
        .fix()
        .local_minus_utc()
}

fn make_job(
    pool: DbPool,
    cfg: Arc<CollectorConfig>,
    books: Arc<QuickBooksSettings>,
    first_org: i32,
) -> anyhow::Result<Job> {
    let tz = cfg.timezone;
    let cron = cfg.cron.clone();
    Job::new_async_tz(cron.as_str(), tz, move |_id, _lock| {
        let pool = pool.clone();
        let cfg = cfg.clone();
        let books = books.clone();
        Box::pin(async move {
            night::run_night(&pool, &cfg, &books, first_org).await;
        })
    })
    .map_err(|e| {
        anyhow::anyhow!("COLLECTOR_CRON '{cron}' is not a valid six-field cron expression: {e}")
    })
}

/// Every minute (UTC: the minute is the same in every zone that matters), the
/// organizations whose own collection time it is.
fn due_job(
    pool: DbPool,
    cfg: Arc<CollectorConfig>,
    books: Arc<QuickBooksSettings>,
    first_org: i32,
) -> anyhow::Result<Job> {
    Job::new_async("0 * * * * *", move |_id, _lock| {
        let pool = pool.clone();
        let cfg = cfg.clone();
        let books = books.clone();
        Box::pin(async move {
            night::run_due(&pool, &cfg, &books, first_org, Utc::now()).await;
        })
    })
    .map_err(|e| anyhow::anyhow!("the per-minute collection job: {e}"))
}

/// Starts the schedule when `COLLECTOR_ENABLED` is true (otherwise logs why not).
pub async fn start(
    pool: DbPool,
    cfg: CollectorConfig,
    org_id: i32,
) -> anyhow::Result<Option<Schedule>> {
    start_with_quickbooks(pool, cfg, Arc::default(), org_id).await
}

/// [`start`], with a QuickBooks Online sync after the vendors' run each night when
/// `books` has it set up and a company is connected.
pub async fn start_with_quickbooks(
    pool: DbPool,
    cfg: CollectorConfig,
    books: Arc<QuickBooksSettings>,
    org_id: i32,
) -> anyhow::Result<Option<Schedule>> {
    if !cfg.enabled {
        tracing::info!("collection schedule disabled (COLLECTOR_ENABLED=false)");
        return Ok(None);
    }
    // Organizations' own vendor settings need the key to be opened.
    if cfg.vendors.is_empty() && books.online.is_none() && cfg.secret_key.is_none() {
        tracing::warn!("collection schedule not started: no vendor is configured");
        return Ok(None);
    }
    let cfg = Arc::new(cfg);
    let scheduler = JobScheduler::new().await?;
    let job_id = Arc::new(std::sync::Mutex::new(
        scheduler
            .add(make_job(pool.clone(), cfg.clone(), books.clone(), org_id)?)
            .await?,
    ));
    let current_job = job_id.clone();
    scheduler
        .add(due_job(pool.clone(), cfg.clone(), books.clone(), org_id)?)
        .await?;
    scheduler.start().await?;
    tracing::info!(cron = %cfg.cron, timezone = %cfg.timezone, "collection schedule started");
    let sched = scheduler.clone();
    let watcher = tokio::spawn(async move {
        let mut offset = offset_now(cfg.timezone);
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let now = offset_now(cfg.timezone);
            if now == offset {
                continue;
            }
            offset = now;
            let old = current_job.lock().ok().map(|id| *id);
            if let Some(old) = old {
                let _ = sched.remove(&old).await;
            }
            match make_job(pool.clone(), cfg.clone(), books.clone(), org_id) {
                Ok(job) => match sched.add(job).await {
                    Ok(id) => {
                        if let Ok(mut current) = current_job.lock() {
                            *current = id;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "could not re-create the collection job"),
                },
                Err(e) => tracing::error!(error = %e, "could not re-create the collection job"),
            }
        }
    });
    Ok(Some(Schedule {
        scheduler,
        watcher,
        job_id,
    }))
}
