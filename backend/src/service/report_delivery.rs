//! Scheduled report delivery: the printable QBR report (`report`) mailed on a chosen
//! day after each quarter closes (and, when asked, the quarter to date after each
//! other month), with the SmartNumbers' status in the mail's body; "send a test now".
//! `run_due` is called by the server's background loop: each scheduled report goes to
//! each address once (`report_deliveries`), a failure is retried an hour later (at
//! most three times) and kept for the settings page.
use super::notifications::check_email;
use super::report::gather;
use super::Actor;
use crate::cache::Caches;
use crate::db::{tenant, DbPool};
use crate::error::{AppError, AppResult};
use crate::notify::deliver::dashboard_link;
use crate::notify::mail::File;
use crate::notify::{with_retries, Notifier, RetryPolicy};
use crate::report::{self, Paper, ReportData};
use crate::store::audit::{self, AuditEvent};
use crate::store::org::{self, Org};
use crate::store::report_delivery::{self as store, SettingsRow, SettingsWrite};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::alerts::describe_bands;
use qbr_shared::api::{
    NextReportDelivery, PaperSize, ReportDeliveryRecord, ReportDeliverySettings,
    ReportDeliveryTestRequest, ReportDeliveryUpdate, TestSendResponse, TestSendResult,
};
use qbr_shared::format;
use qbr_shared::notify::{
    due_report, next_delivery, Channel, DeliveryStatus, DueReport, ReportKind, LAST_DELIVERY_DAY,
};
use qbr_shared::thresholds::Status;
use qbr_shared::{ErrorCode, Period, Quarter};

/// Most addresses a report goes to.
const MAX_RECIPIENTS: usize = 50;
/// The latest deliveries shown.
const RECENT: i64 = 20;
/// The defaults of an organization that never saved its schedule.
const DEFAULT_DAY: u32 = 5;
const DEFAULT_HOUR: u32 = 7;

fn paper(word: &str) -> Paper {
    match word {
        "a4" => Paper::A4,
        _ => Paper::Letter,
    }
}

/// The schedule, what is next, and the latest deliveries.
pub async fn settings(
    conn: &mut AsyncPgConnection,
    org: &Org,
    notifier: &Notifier,
) -> AppResult<ReportDeliverySettings> {
    let row = store::settings(conn, org.id).await?;
    let recent = store::recent(conn, org.id, RECENT).await?;
    let (enabled, day, hour, monthly) = row
        .as_ref()
        .map_or((false, DEFAULT_DAY, DEFAULT_HOUR, false), |r| {
            (r.enabled, r.day as u32, r.hour as u32, r.monthly)
        });
    let local_now = Utc::now().with_timezone(&org.timezone).naive_local();
    let next = enabled
        .then(|| next_delivery(local_now, day, hour, monthly))
        .flatten()
        .map(|(at, due)| NextReportDelivery {
            at: at.format("%Y-%m-%dT%H:%M").to_string(),
            kind: due.kind,
            quarter: due.quarter.to_string(),
        });
    Ok(ReportDeliverySettings {
        organization_id: org.id,
        enabled,
        day,
        hour,
        monthly,
        recipients: row
            .as_ref()
            .map(|r| r.recipients.clone())
            .unwrap_or_default(),
        paper: row
            .as_ref()
            .and_then(|r| PaperSize::parse(&r.paper))
            .unwrap_or(PaperSize::Letter),
        timezone: org.timezone.name().to_string(),
        email_available: notifier.mailer.is_some(),
        next,
        recent: recent
            .into_iter()
            .map(|d| ReportDeliveryRecord {
                // The table's CHECK constraints allow only these words.
                kind: ReportKind::parse(&d.kind).unwrap_or(ReportKind::Quarterly),
                period: d.period,
                quarter: d.quarter,
                email: d.email,
                status: DeliveryStatus::parse(&d.status).unwrap_or(DeliveryStatus::Failed),
                attempts: d.attempts,
                error: d.error,
                started_at: d.started_at,
                finished_at: d.finished_at,
            })
            .collect(),
        updated_by: row.as_ref().map(|r| r.updated_by.clone()),
        updated_at: row.as_ref().map(|r| r.updated_at),
    })
}

/// The addresses of a list, checked and without repeats (400 `INVALID_EMAIL` naming
/// the bad one).
fn check_emails(field: &str, list: &[String]) -> AppResult<Vec<String>> {
    if list.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid_body(format!(
            "{field}: at most {MAX_RECIPIENTS} addresses"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let email = check_email(&format!("{field}[{i}]"), e)?;
        if !out.contains(&email) {
            out.push(email);
        }
    }
    Ok(out)
}

/// Checks a new schedule: day 1–28, hour 0–23, every address; turning it on needs an
/// address and `SMTP_URL`.
pub fn check_update(
    update: &ReportDeliveryUpdate,
    notifier: &Notifier,
) -> AppResult<(Vec<String>, u32)> {
    if !(1..=LAST_DELIVERY_DAY).contains(&update.day) {
        return Err(AppError::invalid_body(format!(
            "day must be 1–{LAST_DELIVERY_DAY} (every month has it)"
        )));
    }
    let hour = update.hour.unwrap_or(DEFAULT_HOUR);
    if hour > 23 {
        return Err(AppError::invalid_body("hour must be 0–23"));
    }
    let recipients = check_emails("recipients", &update.recipients)?;
    if update.enabled && recipients.is_empty() {
        return Err(AppError::invalid_body(
            "recipients: add at least one address to turn delivery on",
        ));
    }
    if update.enabled && notifier.mailer.is_none() {
        return Err(AppError::new(
            ErrorCode::NotConfigured,
            "Reports are mailed: SMTP_URL (and QBR_MAIL_FROM) must be set on the server",
        ));
    }
    Ok((recipients, hour))
}

/// Stores a checked schedule with its audit entry.
pub async fn update(
    conn: &mut AsyncPgConnection,
    org: &Org,
    notifier: &Notifier,
    actor: Actor<'_>,
    update: &ReportDeliveryUpdate,
) -> AppResult<ReportDeliverySettings> {
    let (recipients, hour) = check_update(update, notifier)?;
    let paper = update.paper.unwrap_or(PaperSize::Letter);
    conn.transaction::<_, AppError, _>(async |conn| {
        tenant::enter_local(conn, org.id).await?;
        let before: Option<SettingsRow> = store::settings(conn, org.id).await?;
        store::put_settings(
            conn,
            org.id,
            SettingsWrite {
                enabled: update.enabled,
                day: update.day as i16,
                hour: hour as i16,
                monthly: update.monthly,
                recipients: &recipients,
                paper: paper.as_str(),
                by: actor.name,
            },
        )
        .await?;
        let as_json = |enabled: bool, day: i64, hour: i64, monthly: bool, to: &[String], paper: &str| {
            serde_json::json!({"enabled": enabled, "day": day, "hour": hour, "monthly": monthly,
                               "recipients": to, "paper": paper})
        };
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org.id),
                actor: actor.name,
                action: AuditAction::ReportDeliveryUpdate,
                target: None,
                details: serde_json::json!({
                    "before": before.as_ref().map(|b| as_json(b.enabled, b.day.into(), b.hour.into(), b.monthly, &b.recipients, &b.paper)),
                    "after": as_json(update.enabled, update.day.into(), hour.into(), update.monthly, &recipients, paper.as_str()),
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

/// The mail's body: what is attached, the count of green, yellow, red and not judged
/// numbers, and the red ones with their values and bands.
pub fn summary_text(data: &ReportData, what: &str, link: Option<&str>) -> String {
    let count = |s: Status| data.numbers.iter().filter(|n| n.status == s).count();
    let mut out = format!(
        "{what} for {} is attached (PDF).\n\n\
         SmartNumbers of {}: {} green, {} yellow, {} red, {} not judged.\n",
        data.organization,
        data.quarter.label(),
        count(Status::Green),
        count(Status::Yellow),
        count(Status::Red),
        count(Status::None),
    );
    if data.months_counted < 3 {
        out.push_str(&format!(
            "The quarter so far: {} of its 3 months.\n",
            data.months_counted
        ));
    }
    let red: Vec<String> = data
        .numbers
        .iter()
        .filter(|n| n.status == Status::Red)
        .map(|n| {
            let band = n
                .threshold
                .map(|b| format!(" ({})", describe_bands(&b, n.unit)))
                .unwrap_or_default();
            format!("  - {}: {}{band}", n.label, format::value(n.unit, n.value))
        })
        .collect();
    if !red.is_empty() {
        out.push_str("\nRed:\n");
        out.push_str(&red.join("\n"));
        out.push('\n');
    }
    if let Some(link) = link {
        out.push_str(&format!("\nOpen the dashboard: {link}\n"));
    }
    out
}

/// The report of `quarter` as a PDF, with the data it shows.
async fn render(
    conn: &mut AsyncPgConnection,
    org: &Org,
    quarter: Quarter,
    paper: Paper,
) -> AppResult<(ReportData, Vec<u8>)> {
    let data = gather(conn, org, quarter, org.timezone).await?;
    // Layout and PDF writing are CPU work: keep them off the async workers.
    tokio::task::spawn_blocking(move || report::render(&data, paper).map(|pdf| (data, pdf)))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("report task: {e}")))?
        .map_err(AppError::internal)
}

fn file(quarter: Quarter, pdf: Vec<u8>) -> File {
    File {
        name: format!("qbr-{quarter}.pdf"),
        content_type: "application/pdf",
        bytes: pdf,
    }
}

/// "Send a test now": the report of `period` (default: the last closed quarter, else
/// the dashboard's) to the given addresses or the stored list, one try each.
pub async fn send_test(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
    notifier: &Notifier,
    actor: Actor<'_>,
    request: &ReportDeliveryTestRequest,
) -> AppResult<TestSendResponse> {
    let quarter = match &request.period {
        Some(p) => match p.parse::<Period>()? {
            Period::Quarter(q) => Some(q),
            other => {
                return Err(AppError::new(
                    ErrorCode::InvalidPeriod,
                    format!("A report covers a quarter (YYYY-Qn), not '{other}'"),
                ))
            }
        },
        None => None,
    };
    let stored = store::settings(conn, org.id).await?;
    let to = match &request.to {
        Some(to) => check_emails("to", to)?,
        None => stored
            .as_ref()
            .map(|s| s.recipients.clone())
            .unwrap_or_default(),
    };
    if to.is_empty() {
        return Err(AppError::invalid_body(
            "There is no address to send the report to: add recipients, or name them in `to`",
        ));
    }
    let Some(mailer) = &notifier.mailer else {
        return Err(AppError::new(
            ErrorCode::NotConfigured,
            "Reports are mailed: SMTP_URL (and QBR_MAIL_FROM) must be set on the server",
        ));
    };
    let paper = paper(stored.as_ref().map_or("letter", |s| s.paper.as_str()));
    let closed = org.current_month(Utc::now()).quarter().prev();
    let (quarter, (data, pdf)) = match quarter {
        Some(q) => (q, render(conn, org, q, paper).await?),
        None => match render(conn, org, closed, paper).await {
            Ok(r) => (closed, r),
            Err(e) if e.code == ErrorCode::NoData => {
                let q = super::periods::default_quarter(conn, caches, org).await?;
                (q, render(conn, org, q, paper).await?)
            }
            Err(e) => return Err(e),
        },
    };
    let link = dashboard_link(notifier, org);
    let subject = format!("[QBR] {}: QBR report {} (test)", org.name, quarter.label());
    let body = summary_text(
        &data,
        &format!(
            "The QBR report of {} (a test, sent by {})",
            quarter.label(),
            actor.name
        ),
        link.as_deref(),
    );
    let files = [file(quarter, pdf)];
    let single = RetryPolicy {
        tries: 1,
        ..notifier.retry.clone()
    };
    let sends = to.iter().map(|email| async {
        let sent = with_retries(&single, email, || {
            mailer.send(email, &subject, &body, &files)
        })
        .await;
        TestSendResult {
            recipient_id: None,
            channel: Channel::Email,
            destination: email.clone(),
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
            action: AuditAction::ReportDeliveryTest,
            target: Some(&quarter.to_string()),
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
        quarter: Some(quarter.to_string()),
    })
}

/// Sends every organization's report that is due at `now` and not sent yet; errors
/// are logged per organization.
pub async fn run_due(pool: &DbPool, notifier: &Notifier, now: DateTime<Utc>) {
    if notifier.mailer.is_none() {
        return;
    }
    let orgs = match tenant::checkout_platform(pool).await {
        Ok(mut conn) => org::active(&mut conn).await.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    };
    let orgs = match orgs {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "report delivery: can't list the organizations");
            return;
        }
    };
    for org in orgs {
        if let Err(e) = deliver_due(pool, notifier, &org, now).await {
            tracing::error!(organization = %org.slug, error = %e, "report delivery failed");
        }
    }
}

/// The organization's due report to each address not served yet; how many it sent.
pub async fn deliver_due(
    pool: &DbPool,
    notifier: &Notifier,
    org: &Org,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let Some(mailer) = &notifier.mailer else {
        return Ok(0);
    };
    let mut conn = tenant::checkout(pool, org.id).await?;
    let Some(settings) = store::settings(&mut conn, org.id).await? else {
        return Ok(0);
    };
    let local = now.with_timezone(&org.timezone).naive_local();
    let due = match due_report(
        local,
        settings.day as u32,
        settings.hour as u32,
        settings.monthly,
    ) {
        Some(due) if settings.enabled => due,
        _ => return Ok(0),
    };
    let DueReport { kind, key, quarter } = due;
    let (period, quarter_name) = (key.to_string(), quarter.to_string());
    let mut claimed = Vec::new();
    for email in &settings.recipients {
        if let Some(id) =
            store::claim(&mut conn, org.id, kind, &period, &quarter_name, email).await?
        {
            claimed.push((id, email.clone()));
        }
    }
    if claimed.is_empty() {
        return Ok(0);
    }
    let rendered = render(&mut conn, org, quarter, paper(&settings.paper)).await;
    drop(conn);
    let (data, pdf) = match rendered {
        Ok(r) => r,
        Err(e) => {
            let why = e.message.clone();
            let mut conn = tenant::checkout(pool, org.id).await?;
            for (id, _) in &claimed {
                store::finish(&mut conn, org.id, *id, DeliveryStatus::Failed, Some(&why)).await?;
            }
            return Err(e);
        }
    };
    let (subject, what) = match kind {
        ReportKind::Quarterly => (
            format!("[QBR] {}: QBR report {}", org.name, quarter.label()),
            format!("The QBR report of {}", quarter.label()),
        ),
        ReportKind::Monthly => (
            format!("[QBR] {}: {} to date", org.name, quarter.label()),
            format!("The QBR report of {} to date", quarter.label()),
        ),
    };
    let link = dashboard_link(notifier, org);
    let body = summary_text(&data, &what, link.as_deref());
    let files = [file(quarter, pdf)];
    let sends = claimed.iter().map(|(id, email)| async {
        let sent = with_retries(&notifier.retry, email, || {
            mailer.send(email, &subject, &body, &files)
        })
        .await;
        (*id, sent)
    });
    let results = futures::future::join_all(sends).await;
    let mut conn = tenant::checkout(pool, org.id).await?;
    let mut sent = 0;
    for (id, result) in results {
        let status = match result.error {
            None => DeliveryStatus::Sent,
            Some(_) => DeliveryStatus::Failed,
        };
        sent += usize::from(status == DeliveryStatus::Sent);
        store::finish(&mut conn, org.id, id, status, result.error.as_deref()).await?;
    }
    tracing::info!(organization = %org.slug, report = %period, sent, "scheduled report delivered");
    Ok(sent)
}
