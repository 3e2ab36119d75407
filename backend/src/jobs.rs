//! Jobs that run at a cron time in a time zone inside `qbr serve` (tokio-cron-scheduler):
//! the nightly collection (`collect::schedule`) and the nightly backup (`backup::nightly`).
//!
//! tokio-cron-scheduler turns the zone into a fixed UTC offset when a job is created,
//! so a job made in winter would fire an hour off in summer. A watcher re-creates the
//! job whenever the zone's offset changes, which keeps the schedule DST-correct.
use chrono::{Offset, TimeZone, Utc};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};

/// How often the watcher looks at the zone's offset.
const WATCH_EVERY: Duration = Duration::from_secs(60);

/// A running job; dropping it does not stop it, [`ZonedJob::shutdown`] does.
pub struct ZonedJob {
    scheduler: JobScheduler,
    watcher: tokio::task::JoinHandle<()>,
    job_id: Arc<Mutex<uuid::Uuid>>,
}

/// What a job runs, each time it fires.
type Run = Arc<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

impl ZonedJob {
    /// Runs `run` at `cron` (six fields: sec min hour day month weekday) in `tz`.
    /// `setting` names the variable `cron` came from, for the error when it is invalid.
    pub async fn start<F, Fut>(
        setting: &'static str,
        cron: &str,
        tz: chrono_tz::Tz,
        run: F,
    ) -> anyhow::Result<ZonedJob>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let run: Run = Arc::new(move || {
            let job: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(run());
            job
        });
        let cron = cron.to_string();
        let scheduler = JobScheduler::new().await?;
        let first = make_job(setting, &cron, tz, run.clone())?;
        let job_id = Arc::new(Mutex::new(scheduler.add(first).await?));
        scheduler.start().await?;
        let current = job_id.clone();
        let sched = scheduler.clone();
        let watcher = tokio::spawn(async move {
            let mut offset = offset_now(tz);
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let now = offset_now(tz);
                if now == offset {
                    continue;
                }
                offset = now;
                let old = current.lock().ok().map(|id| *id);
                if let Some(old) = old {
                    let _ = sched.remove(&old).await;
                }
                let added = match make_job(setting, &cron, tz, run.clone()) {
                    Ok(job) => sched.add(job).await.map_err(anyhow::Error::from),
                    Err(e) => Err(e),
                };
                match added {
                    Ok(id) => {
                        if let Ok(mut current) = current.lock() {
                            *current = id;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, setting, "could not re-create the job"),
                }
            }
        });
        Ok(ZonedJob {
            scheduler,
            watcher,
            job_id,
        })
    }

    /// When the job fires next.
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

fn make_job(setting: &str, cron: &str, tz: chrono_tz::Tz, run: Run) -> anyhow::Result<Job> {
    Job::new_async_tz(cron, tz, move |_id, _lock| run()).map_err(|e| {
        anyhow::anyhow!("{setting} '{cron}' is not a valid six-field cron expression: {e}")
    })
}
