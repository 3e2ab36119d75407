//! Events: what happened, in a sentence and a few lines, put in the outbox where it
//! happened (one insert) and sent later by the worker. Raising never fails its caller:
//! a collection run's outcome is decided before its events are raised, and an outbox
//! that can't be written is logged.
use crate::db::{tenant, DbPool};
use crate::store::notifications::{self as store, NewEvent};
use crate::store::org::{self, Org};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::catalogue::metric_def;
use qbr_shared::collection::{CollectedValue, Drift, Outcome, Trigger};
use qbr_shared::notify::NotifyEvent;
use qbr_shared::{Month, Vendor};

/// Lines of details kept per event (a message shows fewer).
const MAX_DETAILS: usize = 50;

/// Something to tell the recipients who chose its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: NotifyEvent,
    pub summary: String,
    pub details: Vec<String>,
}

/// Wakes the worker of this process when an event is raised (others poll).
pub(crate) static RAISED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The organization's calendar day at `now`.
pub fn day_of(org: &Org, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&org.timezone).date_naive()
}

/// Puts `event` in the outbox, on the organization's day (a transaction's connection
/// works: the event is raised with it, or not at all).
pub async fn raise(
    conn: &mut AsyncPgConnection,
    org: &Org,
    event: &Event,
) -> diesel::QueryResult<()> {
    let mut details = event.details.clone();
    if details.len() > MAX_DETAILS {
        let more = details.len() - MAX_DETAILS;
        details.truncate(MAX_DETAILS);
        details.push(format!("… and {more} more"));
    }
    store::raise(
        conn,
        org.id,
        NewEvent {
            event: event.kind,
            day: day_of(org, Utc::now()),
            summary: &event.summary,
            details: &details,
        },
    )
    .await?;
    RAISED.notify_waiters();
    Ok(())
}

/// Raises `events` for organization `org_id` on a connection of its own, logging (never
/// returning) a failure.
pub async fn raise_all(pool: &DbPool, org_id: i32, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let raised = async {
        let mut conn = tenant::checkout(pool, org_id).await?;
        let org = org::load(&mut conn, org_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("organization {org_id} does not exist"))?;
        for e in events {
            raise(&mut conn, &org, e).await?;
        }
        anyhow::Ok(())
    };
    if let Err(e) = raised.await {
        tracing::error!(organization = org_id, error = %format!("{e:#}"), "could not raise notification events");
    }
}

/// How a finished collection run is named in a message.
pub struct RunFacts<'a> {
    pub run_id: i64,
    pub trigger: Trigger,
    pub months: &'a [Month],
    pub vendors: &'a [Vendor],
}

impl RunFacts<'_> {
    fn line(&self) -> String {
        let vendors: Vec<&str> = self.vendors.iter().map(|v| v.label()).collect();
        let months = match (self.months.first(), self.months.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
            (Some(a), _) => a.to_string(),
            _ => "no months".into(),
        };
        format!(
            "Run {} ({}): {}, {}",
            self.run_id,
            self.trigger,
            if vendors.is_empty() {
                "no vendor".to_string()
            } else {
                vendors.join(", ")
            },
            months
        )
    }
}

/// A failed run.
pub fn run_failed(run: &RunFacts<'_>, error: &str) -> Event {
    let who = match run.trigger {
        Trigger::Schedule => "The nightly collection run",
        Trigger::WebConnector => "The QuickBooks Desktop sync",
        Trigger::Remap => "Applying the QuickBooks mappings",
        Trigger::Cli | Trigger::Api => "A collection run",
    };
    Event {
        kind: NotifyEvent::CollectionFailed,
        summary: format!("{who} failed; nothing was written. {error}"),
        details: vec![run.line()],
    }
}

fn metric_label(key: &str) -> &str {
    metric_def(key).map_or(key, |d| d.label)
}

/// The values a run wrote with flags (values it only re-read were reported when they
/// were written), if any.
pub fn run_flags(run: &RunFacts<'_>, values: &[CollectedValue]) -> Option<Event> {
    let flagged: Vec<&CollectedValue> = values
        .iter()
        .filter(|v| v.outcome == Outcome::Written && !v.flags.is_empty())
        .collect();
    if flagged.is_empty() {
        return None;
    }
    let mut details = vec![run.line()];
    details.extend(flagged.iter().map(|v| {
        let flags: Vec<&str> = v.flags.iter().map(|f| f.as_str()).collect();
        format!(
            "{} {}: {} ({})",
            v.period,
            metric_label(&v.metric),
            v.value,
            flags.join(", ")
        )
    }));
    Some(Event {
        kind: NotifyEvent::CollectionFlags,
        summary: format!(
            "{} collected value{} flagged: check {} before the review.",
            flagged.len(),
            if flagged.len() == 1 { " was" } else { "s were" },
            if flagged.len() == 1 { "it" } else { "them" }
        ),
        details,
    })
}

/// Drift this run found that the run before it had not reported, if any.
pub fn drift(run: &RunFacts<'_>, found: &[Drift], reported_before: &[Drift]) -> Option<Event> {
    let same = |a: &Drift, b: &Drift| {
        a.period == b.period && a.metric == b.metric && (a.collected - b.collected).abs() < 1e-9
    };
    let new: Vec<&Drift> = found
        .iter()
        .filter(|d| !reported_before.iter().any(|b| same(d, b)))
        .collect();
    if new.is_empty() {
        return None;
    }
    let mut details = vec![run.line()];
    details.extend(new.iter().map(|d| {
        format!(
            "{} {}: stored {}, the vendor now says {}",
            d.period,
            metric_label(&d.metric),
            d.stored,
            d.collected
        )
    }));
    Some(Event {
        kind: NotifyEvent::Drift,
        summary: format!(
            "A vendor changed {} value{} of a closed month; the stored value{} kept (re-collect with --force to take the new one).",
            new.len(),
            if new.len() == 1 { "" } else { "s" },
            if new.len() == 1 { " is" } else { "s are" }
        ),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qbr_shared::collection::Flag;

    fn facts<'a>(months: &'a [Month], vendors: &'a [Vendor]) -> RunFacts<'a> {
        RunFacts {
            run_id: 7,
            trigger: Trigger::Schedule,
            months,
            vendors,
        }
    }

    #[test]
    fn a_failed_run_says_what_and_which() {
        let months: Vec<Month> = ["2025-01", "2025-03"]
            .iter()
            .filter_map(|m| m.parse().ok())
            .collect();
        let e = run_failed(&facts(&months, &[Vendor::NinjaOne]), "NinjaOne: HTTP 500");
        assert_eq!(e.kind, NotifyEvent::CollectionFailed);
        assert!(e.summary.starts_with("The nightly collection run failed"));
        assert!(e.summary.contains("NinjaOne: HTTP 500"));
        assert_eq!(
            e.details,
            vec!["Run 7 (schedule): NinjaOne, 2025-01 to 2025-03"]
        );
    }

    #[test]
    fn only_written_flagged_values_and_new_drift_are_news() {
        let v = |outcome, flags: Vec<Flag>| CollectedValue {
            period: "2025-02".into(),
            metric: "reactive_tickets_created".into(),
            value: 0.0,
            flags,
            outcome,
        };
        let run = facts(&[], &[]);
        assert!(run_flags(&run, &[v(Outcome::Frozen, vec![Flag::Warning])]).is_none());
        assert!(run_flags(&run, &[v(Outcome::Written, vec![])]).is_none());
        let e = run_flags(&run, &[v(Outcome::Written, vec![Flag::Suspicious])])
            .unwrap_or_else(|| unreachable!());
        assert!(e.details[1].contains("Reactive") && e.details[1].contains("suspicious"));
        let d = |collected| Drift {
            period: "2025-01".into(),
            metric: "endpoints_managed".into(),
            stored: 10.0,
            collected,
        };
        assert!(drift(&run, &[d(11.0)], &[d(11.0)]).is_none());
        let e = drift(&run, &[d(11.0), d(12.0)], &[d(11.0)]).unwrap_or_else(|| unreachable!());
        assert_eq!(e.details.len(), 2);
        assert!(e.details[1].contains("stored 10, the vendor now says 12"));
    }
}
