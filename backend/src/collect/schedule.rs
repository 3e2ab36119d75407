//! The nightly schedule inside `qbr serve`: at `COLLECTOR_CRON` in `COLLECTOR_TIMEZONE`
//! (DST-correct: `crate::jobs`) it collects every organization that has no collection
//! time of its own, and every minute it collects those whose own time (Settings, in
//! their zone) it is (`night`). An organization's schedule is read at each tick, so a
//! change needs no restart.
use super::night;
use super::quickbooks::QuickBooksSettings;
use super::CollectorConfig;
use crate::db::DbPool;
use crate::jobs::ZonedJob;
use std::sync::Arc;

/// A running schedule; dropping it does not stop it, `shutdown` does.
pub struct Schedule {
    job: ZonedJob,
    /// Every minute: the organizations with a collection time of their own.
    due: ZonedJob,
}

impl Schedule {
    /// When the next run starts.
    pub async fn next_run(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.job.next_run().await
    }

    pub async fn shutdown(self) {
        self.job.shutdown().await;
        self.due.shutdown().await;
    }
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
    let (cron, tz) = (cfg.cron.clone(), cfg.timezone);
    let job = {
        let (pool, cfg, books) = (pool.clone(), cfg.clone(), books.clone());
        ZonedJob::start("COLLECTOR_CRON", &cron, tz, move || {
            let (pool, cfg, books) = (pool.clone(), cfg.clone(), books.clone());
            async move {
                night::run_night(&pool, &cfg, &books, org_id).await;
            }
        })
        .await?
    };
    // The minute is the same in every zone with whole-minute offsets (all of them).
    let due = ZonedJob::start("every minute", "0 * * * * *", chrono_tz::UTC, move || {
        let (pool, cfg, books) = (pool.clone(), cfg.clone(), books.clone());
        async move {
            night::run_due(&pool, &cfg, &books, org_id, chrono::Utc::now()).await;
        }
    })
    .await?;
    tracing::info!(cron = %cron, timezone = %tz, "collection schedule started");
    Ok(Some(Schedule { job, due }))
}
