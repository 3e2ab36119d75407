//! The notification settings: who is told of what (email addresses, Teams and Slack
//! webhooks whose URLs are stored sealed and never shown), when QuickBooks counts as
//! stale, the latest messages; "send a test now". Everything a change sends is checked
//! before anything is written; the change is one transaction with its audit entry.
use super::Actor;
use crate::db::tenant;
use crate::error::{AppError, AppResult};
use crate::notify::deliver::{dashboard_link, send_to};
use crate::notify::message::{Message, Tone};
use crate::notify::{recipients as sealing, webhook, Notifier};
use crate::store::audit::{self, AuditEvent};
use crate::store::notifications::{self as store, LogRow, RecipientRow, RecipientWrite};
use crate::store::org::Org;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{
    NotificationDelivery, NotificationRecipient, NotificationRecipientInput, NotificationSettings,
    NotificationSettingsUpdate, NotifyEventInfo, TestSendResponse, TestSendResult,
};
use qbr_shared::notify::{Channel, DeliveryStatus, NotifyEvent};
use qbr_shared::{text, ErrorCode};
use std::collections::BTreeSet;

/// Most recipients an organization may have.
pub const MAX_RECIPIENTS: usize = 50;
/// The latest messages shown.
const RECENT: i64 = 20;

/// An email address as stored (trimmed, lower case), or 400 `INVALID_EMAIL` naming
/// `field`.
pub fn check_email(field: &str, email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let invalid = |why: &str| {
        AppError::new(
            ErrorCode::InvalidEmail,
            format!("{field}: '{email}' is not an email address{why}"),
        )
    };
    text::check_field(field, &email, text::EMAIL).map_err(|e| invalid(&format!(" ({e})")))?;
    let address: lettre::Address = email.parse().map_err(|_| invalid(""))?;
    if !address.domain().contains('.') || address.domain().starts_with('.') {
        return Err(invalid(" (its domain has no dot)"));
    }
    Ok(email)
}

fn delivery(r: LogRow) -> NotificationDelivery {
    NotificationDelivery {
        id: r.id,
        recipient_id: r.recipient_id,
        // The table's CHECK constraints allow only these words.
        event: NotifyEvent::parse(&r.event).unwrap_or(NotifyEvent::CollectionFailed),
        channel: Channel::parse(&r.channel).unwrap_or(Channel::Email),
        destination: r.destination,
        subject: r.subject,
        status: DeliveryStatus::parse(&r.status).unwrap_or(DeliveryStatus::Failed),
        attempts: r.attempts,
        error: r.error,
        suppressed: r.suppressed,
        created_at: r.created_at,
        finished_at: r.finished_at,
    }
}

fn recipient(r: RecipientRow) -> NotificationRecipient {
    NotificationRecipient {
        id: r.id,
        channel: r.channel(),
        events: r.events(),
        name: r.name,
        email: r.email,
        webhook_hint: r.webhook_hint,
        updated_by: r.updated_by,
        updated_at: r.updated_at,
    }
}

/// The organization's notification settings.
pub async fn settings(
    conn: &mut AsyncPgConnection,
    org: &Org,
    notifier: &Notifier,
) -> AppResult<NotificationSettings> {
    let recipients = store::recipients(conn, org.id).await?;
    let hours = store::quickbooks_stale_hours(conn, org.id).await?;
    let recent = store::recent_log(conn, org.id, RECENT).await?;
    Ok(NotificationSettings {
        organization_id: org.id,
        recipients: recipients.into_iter().map(recipient).collect(),
        quickbooks_stale_hours: u32::try_from(hours).unwrap_or(0),
        email_available: notifier.mailer.is_some(),
        webhooks_available: notifier.secret_key.is_some(),
        events: NotifyEvent::ALL
            .iter()
            .map(|e| NotifyEventInfo {
                event: *e,
                label: e.label().to_string(),
            })
            .collect(),
        recent: recent.into_iter().map(delivery).collect(),
    })
}

/// Reads the body of `PUT /api/qbr/settings/notifications`: 400 `INVALID_BODY` for a
/// wrong shape or an unknown channel, `UNKNOWN_EVENT` for an event this server does
/// not know (named).
pub fn parse_update(body: serde_json::Value) -> AppResult<NotificationSettingsUpdate> {
    let list = body
        .get("recipients")
        .and_then(|r| r.as_array())
        .ok_or_else(|| AppError::invalid_body("recipients must be a list of recipients"))?;
    if list.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid_body(format!(
            "at most {MAX_RECIPIENTS} recipients"
        )));
    }
    for (i, r) in list.iter().enumerate() {
        let channel = r.get("channel").and_then(|c| c.as_str());
        if channel.and_then(Channel::parse).is_none() {
            return Err(AppError::invalid_body(format!(
                "recipients[{i}].channel must be one of {}",
                Channel::WORDS.join(", ")
            )));
        }
        for e in r
            .get("events")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let word = e.as_str().unwrap_or_default();
            if NotifyEvent::parse(word).is_none() {
                return Err(AppError::new(
                    ErrorCode::UnknownEvent,
                    format!(
                        "recipients[{i}].events: '{word}' is not an event ({})",
                        NotifyEvent::WORDS.join(", ")
                    ),
                ));
            }
        }
    }
    let update: NotificationSettingsUpdate = serde_json::from_value(body)
        .map_err(|e| AppError::invalid_body(format!("Invalid notification settings: {e}")))?;
    if let Some(h) = update.quickbooks_stale_hours {
        if !(24..=720).contains(&h) {
            return Err(AppError::invalid_body(
                "quickbooks_stale_hours must be 24–720",
            ));
        }
    }
    Ok(update)
}

/// A recipient checked against the stored ones: what to write.
struct Checked {
    id: Option<i64>,
    channel: Channel,
    name: String,
    email: Option<String>,
    /// A new webhook URL (sealed on write), or `None` to keep the stored one.
    webhook_url: Option<String>,
    events: Vec<String>,
}

fn check_recipient(
    i: usize,
    r: &NotificationRecipientInput,
    stored: &[RecipientRow],
    notifier: &Notifier,
) -> AppResult<Checked> {
    let at = format!("recipients[{i}]");
    let name = r.name.as_deref().unwrap_or("").trim().to_string();
    if !name.is_empty() {
        text::check_field(&format!("{at}.name"), &name, text::NAME)
            .map_err(AppError::invalid_body)?;
    }
    let before = match r.id {
        Some(id) => Some(stored.iter().find(|s| s.id == id).ok_or_else(|| {
            AppError::invalid_body(format!("{at}.id: {id} is not a recipient here"))
        })?),
        None => None,
    };
    let events: BTreeSet<&str> = r.events.iter().map(|e| e.as_str()).collect();
    let events: Vec<String> = NotifyEvent::WORDS
        .iter()
        .filter(|w| events.contains(*w))
        .map(|w| w.to_string())
        .collect();
    let mut checked = Checked {
        id: r.id,
        channel: r.channel,
        name,
        email: None,
        webhook_url: None,
        events,
    };
    match r.channel {
        Channel::Email => {
            if r.webhook_url.is_some() {
                return Err(AppError::invalid_body(format!(
                    "{at}: an email recipient has no webhook_url"
                )));
            }
            let email = r.email.as_deref().unwrap_or("");
            checked.email = Some(check_email(&format!("{at}.email"), email)?);
            if notifier.mailer.is_none() {
                return Err(AppError::new(
                    ErrorCode::NotConfigured,
                    format!("{at}: email can't be sent: SMTP_URL (and QBR_MAIL_FROM) must be set on the server"),
                ));
            }
        }
        channel => {
            if r.email.is_some() {
                return Err(AppError::invalid_body(format!(
                    "{at}: a {channel} recipient has no email"
                )));
            }
            match &r.webhook_url {
                Some(url) => {
                    let url = notifier.webhooks.check(channel, url).map_err(|why| {
                        AppError::new(
                            ErrorCode::InvalidWebhookUrl,
                            format!("{at}.webhook_url {why}"),
                        )
                    })?;
                    checked.webhook_url = Some(url.to_string());
                }
                None if before.is_some_and(|b| b.channel() == channel) => {}
                None => {
                    return Err(AppError::new(
                        ErrorCode::InvalidWebhookUrl,
                        format!(
                            "{at}.webhook_url: a new {channel} recipient needs its webhook URL"
                        ),
                    ))
                }
            }
            if notifier.secret_key.is_none() {
                return Err(AppError::new(
                    ErrorCode::NotConfigured,
                    format!("{at}: Teams and Slack webhook URLs are stored sealed: QBR_SECRET_KEY must be set on the server"),
                ));
            }
        }
    }
    Ok(checked)
}

/// What the audit log keeps of a recipient: never a webhook URL.
fn audited(r: &RecipientRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "channel": r.channel,
        "name": r.name,
        "to": r.destination(),
        "events": r.events,
    })
}

/// Replaces the recipients (those left out are removed; a webhook without a new URL
/// keeps its own) and the QuickBooks limit, in one transaction with its audit entry.
pub async fn update(
    conn: &mut AsyncPgConnection,
    org: &Org,
    notifier: &Notifier,
    actor: Actor<'_>,
    update: &NotificationSettingsUpdate,
) -> AppResult<NotificationSettings> {
    conn.transaction::<_, AppError, _>(async |conn| {
        tenant::enter_local(conn, org.id).await?;
        let stored = store::recipients(conn, org.id).await?;
        let mut checked = Vec::new();
        let (mut ids, mut emails) = (BTreeSet::new(), BTreeSet::new());
        for (i, r) in update.recipients.iter().enumerate() {
            let c = check_recipient(i, r, &stored, notifier)?;
            if c.id.is_some_and(|id| !ids.insert(id)) {
                return Err(AppError::invalid_body(format!(
                    "recipients[{i}].id appears twice"
                )));
            }
            if c.email.as_ref().is_some_and(|e| !emails.insert(e.clone())) {
                return Err(AppError::invalid_body(format!(
                    "recipients[{i}].email appears twice"
                )));
            }
            checked.push(c);
        }
        let removed: Vec<i64> = stored
            .iter()
            .filter(|s| !ids.contains(&s.id))
            .map(|s| s.id)
            .collect();
        store::delete_recipients(conn, org.id, &removed).await?;
        for c in &checked {
            let sealed = match (&c.webhook_url, &notifier.secret_key) {
                (Some(url), Some(key)) => Some((
                    sealing::seal(key, org.id, url).map_err(AppError::internal)?,
                    webhook::hint(url),
                )),
                _ => None,
            };
            let kept = c.id.and_then(|id| stored.iter().find(|s| s.id == id));
            let webhook = match (&sealed, kept) {
                (Some((bytes, hint)), _) => Some((bytes.as_slice(), hint.as_str())),
                (None, Some(k)) if c.channel != Channel::Email => {
                    k.webhook_sealed.as_deref().zip(k.webhook_hint.as_deref())
                }
                _ => None,
            };
            let write = RecipientWrite {
                channel: c.channel,
                name: &c.name,
                email: c.email.as_deref(),
                webhook,
                events: c.events.clone(),
                by: actor.name,
            };
            match c.id {
                Some(id) => store::update_recipient(conn, org.id, id, write).await?,
                None => {
                    store::insert_recipient(conn, org.id, write).await?;
                }
            }
        }
        if let Some(hours) = update.quickbooks_stale_hours {
            let hours = i32::try_from(hours).unwrap_or(store::DEFAULT_QUICKBOOKS_STALE_HOURS);
            store::set_quickbooks_stale_hours(conn, org.id, hours, actor.name).await?;
        }
        let after = store::recipients(conn, org.id).await?;
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org.id),
                actor: actor.name,
                action: AuditAction::NotificationsUpdate,
                target: None,
                details: serde_json::json!({
                    "before": stored.iter().map(audited).collect::<Vec<_>>(),
                    "after": after.iter().map(audited).collect::<Vec<_>>(),
                    "quickbooks_stale_hours": update.quickbooks_stale_hours,
                }),
                ip: actor.ip,
            },
        )
        .await?;
        Ok(())
    })
    .await?;
    settings(conn, org, notifier).await
}

/// "Send a test now": a test message to every recipient (or `only` one), one try
/// each; each result says whether it arrived, and the test is audited.
pub async fn send_test(
    conn: &mut AsyncPgConnection,
    org: &Org,
    notifier: &Notifier,
    actor: Actor<'_>,
    only: Option<i64>,
) -> AppResult<TestSendResponse> {
    let recipients: Vec<RecipientRow> = store::recipients(conn, org.id)
        .await?
        .into_iter()
        .filter(|r| only.is_none_or(|id| r.id == id))
        .collect();
    if recipients.is_empty() {
        return Err(match only {
            Some(id) => AppError::not_found(format!("Recipient {id} does not exist")),
            None => {
                AppError::invalid_body("There is no recipient to send a test to: add one first")
            }
        });
    }
    let sends = recipients.iter().map(|r| async {
        let message = test_message(org, notifier, r, actor.name);
        let sent = send_to(notifier, org, r, &message, true).await;
        TestSendResult {
            recipient_id: Some(r.id),
            channel: r.channel(),
            destination: r.destination(),
            delivered: sent.error.is_none(),
            error: sent.error,
        }
    });
    let results = futures::future::join_all(sends).await;
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(org.id),
            actor: actor.name,
            action: AuditAction::NotificationsTest,
            target: None,
            details: serde_json::json!({"results": results
                .iter()
                .map(|r| serde_json::json!({"to": r.destination, "delivered": r.delivered}))
                .collect::<Vec<_>>()}),
            ip: actor.ip,
        },
    )
    .await?;
    Ok(TestSendResponse {
        results,
        quarter: None,
    })
}

fn test_message(org: &Org, notifier: &Notifier, r: &RecipientRow, by: &str) -> Message {
    let chosen: Vec<&str> = r.events().iter().map(|e| e.label()).collect();
    Message {
        title: "Test message".into(),
        organization: org.name.clone(),
        summary: format!(
            "A test of the QBR Dashboard's notifications for {}, sent by {by}. Messages about \
             the events chosen will arrive here like this one.",
            org.name
        ),
        lines: vec![if chosen.is_empty() {
            "No event is chosen yet: nothing will be sent here.".to_string()
        } else {
            format!("Chosen: {}", chosen.join(", "))
        }],
        link: dashboard_link(notifier, org),
        tone: Tone::Info,
        footer: "Sent from Settings → Notifications (\"Send a test now\").".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_with_a_stable_code() {
        assert_eq!(
            check_email("to", " Owner@Example.COM ").ok().as_deref(),
            Some("owner@example.com")
        );
        for bad in [
            "",
            "owner",
            "owner@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a\u{0}b@example.com",
        ] {
            let e = check_email("to", bad).err().map(|e| e.code);
            assert_eq!(e, Some(ErrorCode::InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn unknown_events_and_channels_are_named() {
        let body = |v: serde_json::Value| parse_update(v).err().map(|e| (e.code, e.message));
        let (code, msg) = body(serde_json::json!({"recipients": [
            {"channel": "email", "email": "a@example.com", "events": ["drift", "sms"]}]}))
        .unwrap_or_else(|| unreachable!());
        assert_eq!(code, ErrorCode::UnknownEvent);
        assert!(msg.contains("'sms'"), "{msg}");
        let (code, msg) =
            body(serde_json::json!({"recipients": [{"channel": "fax", "events": []}]}))
                .unwrap_or_else(|| unreachable!());
        assert_eq!(code, ErrorCode::InvalidBody);
        assert!(msg.contains("recipients[0].channel"), "{msg}");
        assert!(body(serde_json::json!({})).is_some());
        assert!(body(serde_json::json!({"recipients": [], "quickbooks_stale_hours": 5})).is_some());
        assert!(parse_update(serde_json::json!({"recipients": []})).is_ok());
    }
}
