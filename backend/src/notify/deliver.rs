//! Delivering the outbox: an organization's raised events, grouped by type and day,
//! make one message each; every recipient that chose the type gets it unless it got
//! that type's message that day already (the sent-log's slot), in which case the
//! events are counted on the day's message instead. Each send is retried
//! (`with_retries`) and its outcome logged; the events are then processed, whatever
//! happened to the sends.
use super::message::{self, Message, Raised};
use super::{recipients, with_retries, Notifier, Sent};
use crate::db::{tenant, DbPool};
use crate::store::notifications::{self as store, EventRow, RecipientRow};
use crate::store::org::Org;
use chrono::NaiveDate;
use qbr_shared::notify::{Channel, DeliveryStatus, NotifyEvent};
use std::collections::BTreeMap;

/// The dashboard's address for `org`, if the server knows where the SPA is.
pub fn dashboard_link(notifier: &Notifier, org: &Org) -> Option<String> {
    notifier
        .dashboard_url
        .as_ref()
        .map(|base| format!("{}/o/{}/", base.trim_end_matches('/'), org.slug))
}

/// Sends `message` to `recipient`, retrying by the notifier's policy (`tries` 1 for a
/// single try).
pub async fn send_to(
    notifier: &Notifier,
    org: &Org,
    recipient: &RecipientRow,
    message: &Message,
    single_try: bool,
) -> Sent {
    let mut policy = notifier.retry.clone();
    if single_try {
        policy.tries = 1;
    }
    let what = recipient.destination();
    match recipient.channel() {
        Channel::Email => {
            let Some(mailer) = &notifier.mailer else {
                return not_sent("SMTP_URL is not set: email can't be sent");
            };
            let Some(to) = recipient.email.as_deref() else {
                return not_sent("the recipient has no address");
            };
            let (subject, text) = (message.email_subject(), message.email_text());
            with_retries(&policy, &what, || mailer.send(to, &subject, &text, &[])).await
        }
        channel => {
            let url = match recipients::webhook_url(notifier.secret_key.as_ref(), org.id, recipient)
            {
                Ok(url) => url,
                Err(why) => return not_sent(&why),
            };
            let payload = match channel {
                Channel::Teams => message.teams_payload(),
                _ => message.slack_payload(),
            };
            with_retries(&policy, &what, || notifier.webhooks.post(&url, &payload)).await
        }
    }
}

fn not_sent(why: &str) -> Sent {
    tracing::error!(error = why, "notification not sent");
    Sent {
        tries: 0,
        error: Some(why.to_string()),
    }
}

/// Sends the organization's pending events; how many events it processed.
pub async fn deliver_pending(
    pool: &DbPool,
    notifier: &Notifier,
    org: &Org,
) -> anyhow::Result<usize> {
    let (events, recipients) = {
        let mut conn = tenant::checkout(pool, org.id).await?;
        let events = store::claim_pending(&mut conn, org.id).await?;
        if events.is_empty() {
            return Ok(0);
        }
        (events, store::recipients(&mut conn, org.id).await?)
    };
    let mut groups: BTreeMap<(NaiveDate, &str), Vec<&EventRow>> = BTreeMap::new();
    for e in &events {
        groups.entry((e.day, e.event.as_str())).or_default().push(e);
    }
    let link = dashboard_link(notifier, org);
    for ((day, kind), raised) in groups {
        let Some(kind) = NotifyEvent::parse(kind) else {
            continue;
        };
        let texts: Vec<Raised> = raised
            .iter()
            .map(|e| Raised {
                summary: e.summary.clone(),
                details: e.details(),
            })
            .collect();
        let message = message::compose(&org.name, kind, &texts, link.clone());
        let wanting: Vec<&RecipientRow> = recipients.iter().filter(|r| r.wants(kind)).collect();
        let count = i32::try_from(raised.len()).unwrap_or(i32::MAX);
        let sends = wanting
            .iter()
            .map(|r| deliver_one(pool, notifier, org, r, kind, day, &message, count));
        for result in futures::future::join_all(sends).await {
            if let Err(e) = result {
                tracing::error!(organization = %org.slug, error = %format!("{e:#}"), "notification log not written");
            }
        }
    }
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let mut conn = tenant::checkout(pool, org.id).await?;
    store::mark_processed(&mut conn, org.id, &ids).await?;
    Ok(events.len())
}

/// One recipient's message of the day for `kind`, unless it went out already.
#[allow(clippy::too_many_arguments)]
async fn deliver_one(
    pool: &DbPool,
    notifier: &Notifier,
    org: &Org,
    recipient: &RecipientRow,
    kind: NotifyEvent,
    day: NaiveDate,
    message: &Message,
    count: i32,
) -> anyhow::Result<()> {
    let slot = {
        let mut conn = tenant::checkout(pool, org.id).await?;
        let subject = message.email_subject();
        match store::claim_slot(&mut conn, org.id, recipient, kind, day, &subject).await? {
            Some(slot) => slot,
            None => {
                store::add_suppressed(&mut conn, org.id, recipient.id, kind, day, count).await?;
                return Ok(());
            }
        }
    };
    let sent = send_to(notifier, org, recipient, message, false).await;
    let status = match sent.error {
        None => DeliveryStatus::Sent,
        Some(_) => DeliveryStatus::Failed,
    };
    let mut conn = tenant::checkout(pool, org.id).await?;
    store::finish_slot(
        &mut conn,
        org.id,
        slot,
        status,
        sent.tries,
        sent.error.as_deref(),
    )
    .await?;
    if status == DeliveryStatus::Sent {
        tracing::info!(organization = %org.slug, event = %kind, to = %recipient.destination(), tries = sent.tries, "notification sent");
    }
    Ok(())
}
