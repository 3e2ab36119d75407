//! The nightly schedule inside `qbr serve`: every night it collects every organization
//! (`night`), at `COLLECTOR_CRON` in `COLLECTOR_TIMEZONE` (DST-correct: `crate::jobs`).
use super::night;
use super::quickbooks::QuickBooksSettings;
use super::CollectorConfig;
use crate::db::DbPool;
use crate::jobs::ZonedJob;
use std::sync::Arc;

/// A running schedule; dropping it does not stop it, `shutdown` does.
pub struct Schedule {
    job: ZonedJob,
}

impl Schedule {
    /// When the next run starts.
    pub async fn next_run(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.job.next_run().await
    }

    pub async fn shutdown(self) {
        self.job.shutdown().await;
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
    let job = ZonedJob::start("COLLECTOR_CRON", &cron, tz, move || {
        let (pool, cfg, books) = (pool.clone(), cfg.clone(), books.clone());
        async move {
            night::run_night(&pool, &cfg, &books, org_id).await;
        }
    })
    .await?;
    tracing::info!(cron = %cron, timezone = %tz, "collection schedule started");
    Ok(Some(Schedule { job }))
}
