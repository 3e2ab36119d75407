//! The read access log's writer: every read of an organization's data that got past
//! the auth guard (a `GET` under `/api/qbr` or `/api/admin`) is noted — endpoint,
//! period, user or API key, status, address — and written by a task of its own in
//! batches, one statement per organization a second at most. A read never waits for
//! the log: the queue is bounded, and when the database can't keep up a read is
//! counted as dropped and logged rather than slowed down. Reads older than 90 days are
//! deleted as the log is written (once an hour per organization).
use super::context::{client_ip, identity, state, tenant, Identity};
use crate::db::{tenant as db_tenant, DbPool};
use crate::store::read_log::{self, NewRead};
use chrono::{DateTime, Duration, Utc};
use salvo::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How long reads are kept.
pub const KEEP_DAYS: i64 = 90;
/// Reads waiting to be written; past it, reads are dropped (and counted).
const QUEUE: usize = 10_000;
/// Most reads written in one statement.
const BATCH: usize = 500;
/// How long a batch waits for more reads.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How often an organization's old reads are deleted.
const PURGE_EVERY_HOURS: i64 = 1;

/// Where the reads go: a queue to the writer task.
#[derive(Clone)]
pub struct ReadLog {
    queue: mpsc::Sender<NewRead>,
    dropped: Arc<AtomicU64>,
}

impl ReadLog {
    /// Starts the writer task on `pool` (call inside the runtime).
    pub fn start(pool: DbPool) -> ReadLog {
        let (queue, reads) = mpsc::channel(QUEUE);
        tokio::spawn(write_reads(pool, reads));
        ReadLog {
            queue,
            dropped: Arc::default(),
        }
    }

    fn note(&self, read: NewRead) {
        if self.queue.try_send(read).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "read access log: reads dropped, the database is behind"
                );
            }
        }
    }
}

/// The hoop after the auth guard: lets the request through, then notes it if it was a
/// read of an organization's data.
#[handler]
pub async fn record(req: &mut Request, depot: &mut Depot, res: &mut Response, ctrl: &mut FlowCtrl) {
    ctrl.call_next(req, depot, res).await;
    if req.method() != salvo::http::Method::GET {
        return;
    }
    let (Ok(app), Ok(t), Some(who)) = (state(depot), tenant(depot), identity(depot)) else {
        return;
    };
    let status = res.status_code.map_or(200, |s| s.as_u16());
    app.read_log.note(NewRead {
        organization_id: t.org.id,
        occurred_at: Utc::now(),
        actor: who.actor(),
        via: match who {
            Identity::Session { .. } => "session",
            Identity::ApiKey { .. } => "api_key",
        }
        .to_string(),
        endpoint: req.uri().path().to_string(),
        period: period_of(req),
        status: i16::try_from(status).unwrap_or(i16::MAX),
        ip: client_ip(req),
    });
}

/// The period a read asked for: `period`, else `from..to`, else none.
fn period_of(req: &Request) -> Option<String> {
    let q = |name: &str| req.query::<String>(name).filter(|v| !v.is_empty());
    // What a client typed: kept short, whatever it was.
    let cut = |s: String| s.chars().take(40).collect::<String>();
    match (q("period"), q("from"), q("to")) {
        (Some(p), _, _) => Some(cut(p)),
        (None, Some(f), Some(t)) => Some(cut(format!("{f}..{t}"))),
        (None, Some(f), None) => Some(cut(format!("{f}.."))),
        (None, None, Some(t)) => Some(cut(format!("..{t}"))),
        _ => None,
    }
}

/// The writer task: batches by organization, each written in the organization.
async fn write_reads(pool: DbPool, mut reads: mpsc::Receiver<NewRead>) {
    let mut purged: HashMap<i32, DateTime<Utc>> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = reads.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, reads.recv()).await {
                Ok(Some(read)) => batch.push(read),
                Ok(None) | Err(_) => break,
            }
        }
        let mut by_org: HashMap<i32, Vec<NewRead>> = HashMap::new();
        for read in batch.drain(..) {
            by_org.entry(read.organization_id).or_default().push(read);
        }
        for (org, reads) in by_org {
            if let Err(e) = write_org(&pool, org, &reads, &mut purged).await {
                tracing::error!(organization = org, reads = reads.len(), error = %e,
                    "read access log: reads not written");
            }
        }
    }
}

async fn write_org(
    pool: &DbPool,
    org: i32,
    reads: &[NewRead],
    purged: &mut HashMap<i32, DateTime<Utc>>,
) -> anyhow::Result<()> {
    let mut conn = db_tenant::checkout(pool, org).await?;
    read_log::insert(&mut conn, reads).await?;
    let now = Utc::now();
    let due = purged
        .get(&org)
        .is_none_or(|at| now - *at >= Duration::hours(PURGE_EVERY_HOURS));
    if due {
        let gone = read_log::purge(&mut conn, org, now - Duration::days(KEEP_DAYS)).await?;
        if gone > 0 {
            tracing::info!(
                organization = org,
                deleted = gone,
                "read access log: old reads deleted"
            );
        }
        purged.insert(org, now);
    }
    Ok(())
}
