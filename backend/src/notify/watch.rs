//! What the worker watches besides the outbox: the status of each SmartNumber of the
//! last closed month and the last closed quarter (a number turning red, or leaving
//! red, compared with the status it last had at that granularity), and how long ago
//! QuickBooks last delivered.
//!
//! Only closed periods are watched: the month in progress has part of its inputs, so
//! its numbers move through the month and would turn red and back for no reason. The
//! first look at an organization records what it sees without telling anyone.
use super::events::{self, day_of, Event};
use crate::db::{tenant, DbPool};
use crate::store::notifications::{self as store, StatusRow};
use crate::store::org::Org;
use crate::store::{smartnumbers, thresholds};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use qbr_shared::alerts::describe_bands;
use qbr_shared::format;
use qbr_shared::notify::NotifyEvent;
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::thresholds::Status;
use qbr_shared::Period;

fn status_word(status: Status) -> Option<&'static str> {
    match status {
        Status::Green => Some("green"),
        Status::Yellow => Some("yellow"),
        Status::Red => Some("red"),
        Status::None => None,
    }
}

/// The periods watched at `now`: the last closed month and quarter.
pub fn watched(org: &Org, now: DateTime<Utc>) -> [(&'static str, Period); 2] {
    let current = org.current_month(now);
    [
        ("month", Period::Month(current.prev())),
        ("quarter", Period::Quarter(current.quarter().prev())),
    ]
}

/// Compares the watched numbers' statuses with the last ones seen, stores the new
/// ones and raises `smartnumber_red` / `smartnumber_recovered`; how many numbers
/// changed to or from red.
pub async fn statuses(pool: &DbPool, org: &Org, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = tenant::checkout(pool, org.id).await?;
    let periods = watched(org, now);
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        tenant::enter_local(conn, org.id).await?;
        store::lock_status_watch(conn, org.id).await?;
        let names: Vec<String> = periods.iter().map(|(_, p)| p.to_string()).collect();
        let rows = smartnumbers::load(conn, org.id, &names).await?;
        let bands = thresholds::bands_by_key(conn, org.id).await?;
        let seen = store::statuses(conn, org.id).await?;
        let first_look = seen.is_empty();
        let (mut red, mut recovered) = (Vec::new(), Vec::new());
        for (granularity, period) in &periods {
            let name = period.to_string();
            for def in SMARTNUMBERS {
                let value = rows
                    .iter()
                    .find(|r| r.period == name && r.kpi_name == def.key)
                    .and_then(|r| r.value());
                let status = def.judge(period, bands.get(def.key), value);
                // Not judged (missing inputs): the last status stands.
                let Some(word) = status_word(status) else {
                    continue;
                };
                let before = seen
                    .iter()
                    .find(|s| s.granularity == *granularity && s.kpi_name == def.key);
                if before.is_some_and(|b| b.period == name && b.status == word) {
                    continue;
                }
                let row = StatusRow {
                    granularity: granularity.to_string(),
                    kpi_name: def.key.to_string(),
                    period: name.clone(),
                    status: word.to_string(),
                };
                store::put_status(conn, org.id, &row).await?;
                if first_look {
                    continue;
                }
                let was_red = before.is_some_and(|b| b.status == "red");
                let shown = format::value(def.unit, value);
                let band = bands
                    .get(def.key)
                    .map(|b| format!(" ({})", describe_bands(b, def.unit)))
                    .unwrap_or_default();
                let was = before
                    .map(|b| format!("; it was {} for {}", b.status, label(&b.period)))
                    .unwrap_or_default();
                let line = format!(
                    "{} for {}: {shown}, {word}{band}{was}",
                    def.label,
                    period.label()
                );
                if status == Status::Red && !was_red {
                    red.push((def.label, period.label(), line));
                } else if status != Status::Red && was_red {
                    recovered.push((def.label, period.label(), line));
                }
            }
        }
        let changed = red.len() + recovered.len();
        for (kind, found) in [
            (NotifyEvent::SmartNumberRed, red),
            (NotifyEvent::SmartNumberRecovered, recovered),
        ] {
            if let Some(event) = status_event(kind, found) {
                events::raise(conn, org, &event).await?;
            }
        }
        Ok(changed)
    })
    .await
}

/// A period's label from its stored name.
fn label(name: &str) -> String {
    name.parse::<Period>()
        .map(|p| p.label())
        .unwrap_or_else(|_| name.to_string())
}

fn status_event(kind: NotifyEvent, found: Vec<(&str, String, String)>) -> Option<Event> {
    let red = kind == NotifyEvent::SmartNumberRed;
    let summary = match found.as_slice() {
        [] => return None,
        [(number, period, _)] if red => format!("{number} turned red for {period}."),
        [(number, period, _)] => format!("{number} is no longer red for {period}."),
        many if red => format!("{} SmartNumbers turned red.", many.len()),
        many => format!("{} SmartNumbers are no longer red.", many.len()),
    };
    Some(Event {
        kind,
        summary,
        details: found.into_iter().map(|f| f.2).collect(),
    })
}

/// Raises `quickbooks_stale` (once a day) when QuickBooks is used here and its last
/// delivery is older than the organization's limit; whether it did.
pub async fn quickbooks(pool: &DbPool, org: &Org, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let mut conn = tenant::checkout(pool, org.id).await?;
    let Some(last) = store::quickbooks_last_sync(&mut conn, org.id).await? else {
        return Ok(false);
    };
    let limit = store::quickbooks_stale_hours(&mut conn, org.id).await?;
    let hours = (now - last).num_hours();
    if hours < i64::from(limit) {
        return Ok(false);
    }
    if store::raised_on(
        &mut conn,
        org.id,
        NotifyEvent::QuickBooksStale,
        day_of(org, now),
    )
    .await?
    {
        return Ok(false);
    }
    let local = last.with_timezone(&org.timezone);
    let event = Event {
        kind: NotifyEvent::QuickBooksStale,
        summary: format!(
            "QuickBooks has not delivered for {hours} hours (the limit is {limit}): revenue and expenses are not up to date."
        ),
        details: vec![
            format!("Last sync: {} ({})", local.format("%-d %b %Y, %H:%M"), org.timezone),
            "QuickBooks Desktop: check that the Web Connector runs on the bookkeeper's computer. \
             QuickBooks Online: Settings → QuickBooks shows the last error."
                .to_string(),
        ],
    };
    events::raise(&mut conn, org, &event).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_change_is_named_several_are_counted() {
        let one = status_event(
            NotifyEvent::SmartNumberRed,
            vec![(
                "RHEM",
                "March 2025".into(),
                "RHEM for March 2025: 0.40 h, red".into(),
            )],
        )
        .unwrap_or_else(|| unreachable!());
        assert_eq!(one.summary, "RHEM turned red for March 2025.");
        let two = status_event(
            NotifyEvent::SmartNumberRecovered,
            vec![
                ("A", "Q1".into(), "a".into()),
                ("B", "Q1".into(), "b".into()),
            ],
        )
        .unwrap_or_else(|| unreachable!());
        assert_eq!(two.summary, "2 SmartNumbers are no longer red.");
        assert_eq!(two.details, vec!["a", "b"]);
        assert!(status_event(NotifyEvent::SmartNumberRed, vec![]).is_none());
    }
}
