//! The nightly collection of every organization: one after another, each with its own
//! settings (`credentials`), its own run lock and its own entry in the collection log,
//! so one organization's failing vendor, missing settings or running collection never
//! stops the others.
use super::credentials;
use super::quickbooks::{online, QuickBooksSettings};
use super::run::{self, RunError, RunOptions, RunReport};
use super::{CollectorConfig, VendorChoice};
use crate::db::{tenant, DbPool};
use crate::notify::events::{self, Event};
use crate::store::org;
use qbr_shared::collection::Trigger;
use qbr_shared::notify::NotifyEvent;

/// How one organization's night went.
#[derive(Debug)]
pub enum NightOutcome {
    Collected(RunReport),
    /// No vendor is configured for it (QuickBooks Online, when connected, still ran).
    NothingToCollect,
    /// Another run of it was in progress.
    Skipped,
    Failed(String),
}

/// Runs the night for every organization that is not archived; the outcome of each.
pub async fn run_night(
    pool: &DbPool,
    base: &CollectorConfig,
    books: &QuickBooksSettings,
    first_org: i32,
) -> Vec<(i32, NightOutcome)> {
    let orgs = match tenant::checkout_platform(pool).await {
        Ok(mut conn) => org::list(&mut conn).await.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    let orgs = match orgs {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::error!(error = %e, "nightly collection: can't list the organizations");
            return Vec::new();
        }
    };
    let mut outcomes = Vec::new();
    for o in orgs.into_iter().filter(|o| o.archived_at.is_none()) {
        let outcome = collect_one(pool, base, o.id, first_org).await;
        match &outcome {
            NightOutcome::Collected(r) => tracing::info!(
                organization = %o.slug,
                values_written = r.values_written,
                requests = r.requests,
                drift = r.drift.len(),
                "scheduled collection finished"
            ),
            NightOutcome::NothingToCollect => {}
            NightOutcome::Skipped => tracing::info!(
                organization = %o.slug,
                "scheduled collection skipped: another run is in progress"
            ),
            NightOutcome::Failed(e) => {
                tracing::error!(organization = %o.slug, error = %e, "scheduled collection failed")
            }
        }
        online::nightly(pool, books, o.id).await;
        outcomes.push((o.id, outcome));
    }
    outcomes
}

async fn collect_one(
    pool: &DbPool,
    base: &CollectorConfig,
    org: i32,
    first_org: i32,
) -> NightOutcome {
    // The organization's own vendor credentials are its rows (row-level security).
    let cfg = match tenant::checkout(pool, org).await {
        Ok(mut conn) => {
            credentials::config_for(&mut conn, org, base, base.secret_key.as_ref(), first_org).await
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    let cfg = match cfg {
        Ok(cfg) if cfg.vendors.is_empty() => return NightOutcome::NothingToCollect,
        Ok(cfg) => cfg,
        Err(e) => {
            // No run starts, so no run reports it: the event says why.
            let event = Event {
                kind: NotifyEvent::CollectionFailed,
                summary: format!("The nightly collection could not start: {e}"),
                details: Vec::new(),
            };
            events::raise_all(pool, org, &[event]).await;
            return NightOutcome::Failed(e.to_string());
        }
    };
    let opts = RunOptions {
        organization_id: org,
        trigger: Trigger::Schedule,
        vendors: VendorChoice::All,
        months: None,
        force: false,
        dry_run: false,
    };
    match run::run(pool, &cfg, &opts, &|_, _| {}).await {
        Ok(report) => NightOutcome::Collected(report),
        Err(RunError::Refused) => NightOutcome::Skipped,
        Err(e) => NightOutcome::Failed(e.to_string()),
    }
}
