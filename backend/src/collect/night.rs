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
use crate::store::org::{self, SettingsRow};
use chrono::{DateTime, Utc};
use qbr_shared::collection::Trigger;
use qbr_shared::notify::NotifyEvent;

/// How one organization's night went.
#[derive(Debug)]
pub enum NightOutcome {
    Collected(Box<RunReport>),
    /// No vendor is configured for it (QuickBooks Online, when connected, still ran).
    NothingToCollect,
    /// Another run of it was in progress.
    Skipped,
    Failed(String),
}

/// Runs the night (the server's `COLLECTOR_CRON`) for every organization that is not
/// archived, collects at night and has no collection time of its own; the outcome of
/// each.
pub async fn run_night(
    pool: &DbPool,
    base: &CollectorConfig,
    books: &QuickBooksSettings,
    first_org: i32,
) -> Vec<(i32, NightOutcome)> {
    let orgs = scheduled(pool, |s| s.collection_time.is_none()).await;
    run_orgs(pool, base, books, first_org, orgs).await
}

/// Runs the organizations whose own collection time (in their collection zone) is the
/// minute of `now` (the schedule asks every minute).
pub async fn run_due(
    pool: &DbPool,
    base: &CollectorConfig,
    books: &QuickBooksSettings,
    first_org: i32,
    now: DateTime<Utc>,
) -> Vec<(i32, NightOutcome)> {
    let orgs = scheduled(pool, |s| is_due(s, now)).await;
    if orgs.is_empty() {
        return Vec::new();
    }
    run_orgs(pool, base, books, first_org, orgs).await
}

/// Whether `s`'s own collection time is the minute of `now` in its collection zone.
pub fn is_due(s: &SettingsRow, now: DateTime<Utc>) -> bool {
    let Some(time) = &s.collection_time else {
        return false;
    };
    let zone: chrono_tz::Tz = s
        .collection_timezone
        .as_deref()
        .unwrap_or(&s.timezone)
        .parse()
        .unwrap_or(chrono_tz::America::Chicago);
    now.with_timezone(&zone).format("%H:%M").to_string() == *time
}

/// (id, slug) of the organizations that collect on a schedule and `pick` chooses.
async fn scheduled(pool: &DbPool, pick: impl Fn(&SettingsRow) -> bool) -> Vec<(i32, String)> {
    let all = match tenant::checkout_platform(pool).await {
        Ok(mut conn) => org::all_settings(&mut conn)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    match all {
        Ok(all) => all
            .into_iter()
            .filter(|s| !s.archived && s.collection_enabled && pick(s))
            .map(|s| (s.id, s.slug))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "scheduled collection: can't list the organizations");
            Vec::new()
        }
    }
}

/// Collects each organization in turn (each under its own lock; one's failure does
/// not stop the next), then its QuickBooks Online sync.
async fn run_orgs(
    pool: &DbPool,
    base: &CollectorConfig,
    books: &QuickBooksSettings,
    first_org: i32,
    orgs: Vec<(i32, String)>,
) -> Vec<(i32, NightOutcome)> {
    let mut outcomes = Vec::new();
    for (id, slug) in orgs {
        let o = Named { id, slug };
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
        Ok(report) => NightOutcome::Collected(Box::new(report)),
        Err(RunError::Refused) => NightOutcome::Skipped,
        Err(e) => NightOutcome::Failed(e.to_string()),
    }
}

/// An organization as the log names it.
struct Named {
    id: i32,
    slug: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn org(time: Option<&str>, zone: Option<&str>) -> SettingsRow {
        SettingsRow {
            id: 1,
            slug: "a".into(),
            name: "A".into(),
            timezone: "America/Chicago".into(),
            working_hours_per_tech: bigdecimal::BigDecimal::from(167),
            excluded_device_orgs: Vec::new(),
            collection_enabled: true,
            collection_time: time.map(String::from),
            collection_timezone: zone.map(String::from),
            archived: false,
            loaded_cost_per_hour: None,
            health_weights: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_organization_is_due_at_its_own_minute_in_its_zone() {
        // 22:30 in Chicago: 04:30 UTC in winter (CST), 03:30 UTC in summer (CDT).
        let chicago = org(Some("22:30"), None);
        assert!(is_due(&chicago, at("2026-01-15T04:30:00Z")));
        assert!(is_due(&chicago, at("2026-01-15T04:30:59Z")));
        assert!(!is_due(&chicago, at("2026-01-15T04:31:00Z")));
        assert!(is_due(&chicago, at("2026-07-15T03:30:00Z")));
        assert!(!is_due(&chicago, at("2026-07-15T04:30:00Z")));
        let berlin = org(Some("05:45"), Some("Europe/Berlin"));
        assert!(is_due(&berlin, at("2026-01-15T04:45:00Z")));
        assert!(!is_due(&org(None, None), at("2026-01-15T04:30:00Z")));
    }
}
