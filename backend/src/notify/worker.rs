//! The notification worker of `qbr serve`: every few seconds (at once when this
//! process raised an event) it goes through the organizations that are not archived
//! and, for each, watches the statuses when its data or the closed periods changed,
//! looks at QuickBooks once an hour (and forgets events older than 90 days and
//! messages older than 400), and delivers the outbox. Several replicas may run
//! it: events are claimed, the status watch is locked per organization and the
//! sent-log's slot is taken once.
use super::{deliver, watch, Notifier};
use crate::db::{tenant, DbPool};
use crate::store::notifications as store;
use crate::store::org::{self, Org};
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the worker looks when nothing woke it.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// How often QuickBooks' last delivery is looked at and old rows are forgotten.
const HOURLY: Duration = Duration::from_secs(3600);
/// Processed events are kept this long (days), the sent-log longer (a year and a bit).
const KEEP_EVENTS_DAYS: i64 = 90;
const KEEP_LOG_DAYS: i64 = 400;

/// What the worker remembers between rounds.
#[derive(Default)]
pub struct Memory {
    /// Per organization: the data version and watched month of its last status watch.
    watched: HashMap<i32, (i64, String)>,
    /// Per organization: when QuickBooks was last looked at (and old rows forgotten).
    hourly: HashMap<i32, Instant>,
}

/// One round over every organization; errors are logged per organization.
pub async fn round(pool: &DbPool, notifier: &Notifier, memory: &mut Memory) {
    let orgs = match tenant::checkout_platform(pool).await {
        Ok(mut conn) => org::active(&mut conn).await.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    let orgs = match orgs {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "notifications: can't list the organizations");
            return;
        }
    };
    for org in orgs {
        if let Err(e) = one(pool, notifier, memory, &org).await {
            tracing::warn!(organization = %org.slug, error = %format!("{e:#}"), "notifications: round failed");
        }
    }
}

async fn one(
    pool: &DbPool,
    notifier: &Notifier,
    memory: &mut Memory,
    org: &Org,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let key = (org.data_version, watch::watched(org, now)[0].1.to_string());
    if memory.watched.get(&org.id) != Some(&key) {
        watch::statuses(pool, org, now).await?;
        memory.watched.insert(org.id, key);
    }
    let due = memory
        .hourly
        .get(&org.id)
        .is_none_or(|at| at.elapsed() >= HOURLY);
    if due {
        watch::quickbooks(pool, org, now).await?;
        let mut conn = tenant::checkout(pool, org.id).await?;
        store::prune(
            &mut conn,
            org.id,
            now - chrono::TimeDelta::days(KEEP_EVENTS_DAYS),
            now - chrono::TimeDelta::days(KEEP_LOG_DAYS),
        )
        .await?;
        memory.hourly.insert(org.id, Instant::now());
    }
    deliver::deliver_pending(pool, notifier, org).await?;
    Ok(())
}

/// Runs rounds every `interval`, and right away when an event is raised here.
pub fn spawn(
    pool: DbPool,
    notifier: Arc<Notifier>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut memory = Memory::default();
        loop {
            // Registered before the round, so an event raised during it is not missed.
            let raised = super::events::RAISED.notified();
            round(&pool, &notifier, &mut memory).await;
            tokio::select! {
                _ = raised => {}
                _ = tokio::time::sleep(interval) => {}
            }
        }
    })
}
