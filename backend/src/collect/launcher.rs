//! Runs started inside the server ("Collect now", `POST /api/qbr/collection/runs`):
//! the nightly run's rules — the organization's own vendor settings, one run at a time
//! per organization (the same advisory lock, so a CLI or nightly run in progress
//! refuses it), everything written in one transaction — but in a task of its own, so
//! the request answers at once with the run's id. The run's progress is in the
//! collection log; while it reads the vendors it can be cancelled, and then writes
//! nothing.
use super::credentials;
use super::run::{self, Control, RunError, RunOptions};
use super::{CollectorConfig, VendorChoice};
use crate::db::{tenant, DbPool};
use qbr_shared::collection::Trigger;
use qbr_shared::Month;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What to collect.
#[derive(Debug, Clone, Copy)]
pub struct LaunchRequest {
    pub vendors: VendorChoice,
    /// An explicit range (inclusive); `None`: the configured window.
    pub months: Option<(Month, Month)>,
    pub force: bool,
}

/// Why a run was not started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The organization has no vendor to collect, or not the one asked for.
    #[error("{0}")]
    NotConfigured(String),
    /// Another run holds the organization's lock.
    #[error("another collection run is in progress; try again when it has finished")]
    Refused,
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// Why a run could not be cancelled.
#[derive(Debug, PartialEq, Eq)]
pub enum CancelError {
    /// Not started by this server, or it has ended.
    NotCancellable,
}

/// A run this server started and may still cancel, by launch number: the entry is made
/// before the run starts and dropped by the run's task when it ends, so an ended run
/// never stays behind.
struct Started {
    org: i32,
    /// Known once the run is in the collection log.
    run_id: Option<i64>,
    cancel: CancellationToken,
}

/// Starts runs in the server and keeps the handles to cancel them.
pub struct Launcher {
    pool: DbPool,
    base: Arc<CollectorConfig>,
    /// The organization whose vendors are the environment's (`credentials::config_for`).
    first_org: i32,
    running: Arc<Mutex<HashMap<u64, Started>>>,
    launches: AtomicU64,
}

impl Launcher {
    pub fn new(pool: DbPool, base: CollectorConfig, first_org: i32) -> Launcher {
        Launcher {
            pool,
            base: Arc::new(base),
            first_org,
            running: Arc::default(),
            launches: AtomicU64::new(0),
        }
    }

    /// Starts a run for `org` and answers its id once the run is in the collection log
    /// (it holds the lock then). Refused while another run holds it.
    pub async fn launch(&self, org: i32, request: LaunchRequest) -> Result<i64, LaunchError> {
        let cfg = self.config_for(org).await?;
        if cfg.vendors.is_empty() {
            return Err(LaunchError::NotConfigured(
                "This organization has no vendor to collect: store its ConnectWise or \
                 NinjaOne settings first (README, Collection)"
                    .into(),
            ));
        }
        cfg.chosen(request.vendors)
            .map_err(|e| LaunchError::NotConfigured(format!("{e:#}")))?;
        let opts = RunOptions {
            organization_id: org,
            trigger: Trigger::Api,
            vendors: request.vendors,
            months: request.months,
            force: request.force,
            dry_run: false,
        };
        let (told, started) = tokio::sync::oneshot::channel();
        let cancel = CancellationToken::new();
        let launch = self.launches.fetch_add(1, Ordering::Relaxed);
        self.with_running(|r| {
            r.insert(
                launch,
                Started {
                    org,
                    run_id: None,
                    cancel: cancel.clone(),
                },
            );
        });
        let running = self.running.clone();
        let pool = self.pool.clone();
        let task = tokio::spawn(async move {
            let control = Control {
                started: Some(told),
                cancel,
            };
            let outcome = run::run_controlled(&pool, &cfg, &opts, &|_, _| {}, control).await;
            if let Ok(mut running) = running.lock() {
                running.remove(&launch);
            }
            outcome
        });
        match started.await {
            Ok(run_id) => {
                self.with_running(|r| {
                    if let Some(s) = r.get_mut(&launch) {
                        s.run_id = Some(run_id);
                    }
                });
                Ok(run_id)
            }
            // The run ended before it was logged: refused, or it failed to start.
            Err(_) => match task.await {
                Ok(Err(RunError::Refused)) => Err(LaunchError::Refused),
                Ok(Err(e)) => Err(LaunchError::Failed(anyhow::Error::new(e))),
                Ok(Ok(_)) => Err(LaunchError::Failed(anyhow::anyhow!(
                    "the run ended without a log entry"
                ))),
                Err(e) => Err(LaunchError::Failed(anyhow::anyhow!("the run's task: {e}"))),
            },
        }
    }

    /// Cancels run `run_id` of `org` if this server started it and it is still reading
    /// its vendors. The run then ends as `cancelled`, having written nothing.
    pub fn cancel(&self, org: i32, run_id: i64) -> Result<(), CancelError> {
        self.with_running(|r| {
            let started = r
                .values()
                .find(|s| s.org == org && s.run_id == Some(run_id))
                .ok_or(CancelError::NotCancellable)?;
            started.cancel.cancel();
            Ok(())
        })
        .unwrap_or(Err(CancelError::NotCancellable))
    }

    /// Whether run `run_id` of `org` was started here, is still running and not
    /// cancelled yet.
    pub fn is_cancellable(&self, org: i32, run_id: i64) -> bool {
        self.with_running(|r| {
            r.values()
                .any(|s| s.org == org && s.run_id == Some(run_id) && !s.cancel.is_cancelled())
        })
        .unwrap_or(false)
    }

    /// `f` on the runs in progress (`None` if a panic poisoned the lock).
    fn with_running<T>(&self, f: impl FnOnce(&mut HashMap<u64, Started>) -> T) -> Option<T> {
        self.running.lock().ok().map(|mut r| f(&mut r))
    }

    /// The organization's collector settings (its own vendors, else the environment's
    /// for the first organization).
    async fn config_for(&self, org: i32) -> Result<CollectorConfig, LaunchError> {
        let mut conn = tenant::checkout(&self.pool, org)
            .await
            .map_err(|e| LaunchError::Failed(anyhow::anyhow!("connecting to the database: {e}")))?;
        credentials::config_for(
            &mut conn,
            org,
            &self.base,
            self.base.secret_key.as_ref(),
            self.first_org,
        )
        .await
        .map_err(LaunchError::Failed)
    }
}
