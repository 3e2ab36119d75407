//! Notifications: the recipients (a webhook's URL only sealed), the organization's
//! settings, the outbox of raised events, the sent-log that keeps the once-a-day rule,
//! and the last status of each SmartNumber the watch saw.
use crate::schema::{
    notification_events as events, notification_log as log, notification_recipients as recipients,
    notification_settings as settings, notification_statuses as statuses,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::notify::{Channel, DeliveryStatus, NotifyEvent};

/// QuickBooks counts as stale after this long without a sync, unless set.
pub const DEFAULT_QUICKBOOKS_STALE_HOURS: i32 = 48;

/// A claim older than this belongs to a worker that died: another may take it.
const CLAIM_MINUTES: i32 = 10;

// ---------------------------------------------------------------- recipients

/// A recipient as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recipients)]
pub struct RecipientRow {
    pub id: i64,
    pub channel: String,
    pub name: String,
    pub email: Option<String>,
    pub webhook_sealed: Option<Vec<u8>>,
    pub webhook_hint: Option<String>,
    pub events: Vec<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl RecipientRow {
    /// The table's CHECK allows only these words.
    pub fn channel(&self) -> Channel {
        Channel::parse(&self.channel).unwrap_or(Channel::Email)
    }

    pub fn events(&self) -> Vec<NotifyEvent> {
        self.events
            .iter()
            .filter_map(|e| NotifyEvent::parse(e))
            .collect()
    }

    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.events.iter().any(|e| e == event.as_str())
    }

    /// The address, or the webhook's hint: what logs and answers show.
    pub fn destination(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.webhook_hint.clone())
            .unwrap_or_default()
    }
}

pub async fn recipients(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<RecipientRow>> {
    recipients::table
        .filter(recipients::organization_id.eq(org))
        .order(recipients::id)
        .select(RecipientRow::as_select())
        .load(conn)
        .await
}

/// A recipient to store; `webhook` is the sealed URL and its hint.
pub struct RecipientWrite<'a> {
    pub channel: Channel,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub webhook: Option<(&'a [u8], &'a str)>,
    pub events: Vec<String>,
    pub by: &'a str,
}

pub async fn insert_recipient(
    conn: &mut AsyncPgConnection,
    org: i32,
    r: RecipientWrite<'_>,
) -> QueryResult<i64> {
    diesel::insert_into(recipients::table)
        .values((
            recipients::organization_id.eq(org),
            recipients::channel.eq(r.channel.as_str()),
            recipients::name.eq(r.name),
            recipients::email.eq(r.email),
            recipients::webhook_sealed.eq(r.webhook.map(|w| w.0)),
            recipients::webhook_hint.eq(r.webhook.map(|w| w.1)),
            recipients::events.eq(r.events),
            recipients::updated_by.eq(r.by),
        ))
        .returning(recipients::id)
        .get_result(conn)
        .await
}

pub async fn update_recipient(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    r: RecipientWrite<'_>,
) -> QueryResult<()> {
    diesel::update(recipients::table.find((org, id)))
        .set((
            recipients::channel.eq(r.channel.as_str()),
            recipients::name.eq(r.name),
            recipients::email.eq(r.email),
            recipients::webhook_sealed.eq(r.webhook.map(|w| w.0)),
            recipients::webhook_hint.eq(r.webhook.map(|w| w.1)),
            recipients::events.eq(r.events),
            recipients::updated_by.eq(r.by),
            recipients::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete_recipients(
    conn: &mut AsyncPgConnection,
    org: i32,
    ids: &[i64],
) -> QueryResult<usize> {
    diesel::delete(
        recipients::table
            .filter(recipients::organization_id.eq(org))
            .filter(recipients::id.eq_any(ids)),
    )
    .execute(conn)
    .await
}

// ---------------------------------------------------------------- settings

/// The hours after which QuickBooks counts as stale.
pub async fn quickbooks_stale_hours(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<i32> {
    settings::table
        .find(org)
        .select(settings::quickbooks_stale_hours)
        .first(conn)
        .await
        .optional()
        .map(|h| h.unwrap_or(DEFAULT_QUICKBOOKS_STALE_HOURS))
}

pub async fn set_quickbooks_stale_hours(
    conn: &mut AsyncPgConnection,
    org: i32,
    hours: i32,
    by: &str,
) -> QueryResult<()> {
    diesel::insert_into(settings::table)
        .values((
            settings::organization_id.eq(org),
            settings::quickbooks_stale_hours.eq(hours),
            settings::updated_by.eq(by),
        ))
        .on_conflict(settings::organization_id)
        .do_update()
        .set((
            settings::quickbooks_stale_hours.eq(hours),
            settings::updated_by.eq(by),
            settings::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------- the outbox

/// An event to put in the outbox.
pub struct NewEvent<'a> {
    pub event: NotifyEvent,
    /// The organization's calendar day.
    pub day: NaiveDate,
    pub summary: &'a str,
    pub details: &'a [String],
}

pub async fn raise(conn: &mut AsyncPgConnection, org: i32, e: NewEvent<'_>) -> QueryResult<i64> {
    diesel::insert_into(events::table)
        .values((
            events::organization_id.eq(org),
            events::event.eq(e.event.as_str()),
            events::day.eq(e.day),
            events::summary.eq(e.summary),
            events::details.eq(serde_json::json!(e.details)),
        ))
        .returning(events::id)
        .get_result(conn)
        .await
}

/// Whether an event of this kind was raised on `day` already.
pub async fn raised_on(
    conn: &mut AsyncPgConnection,
    org: i32,
    event: NotifyEvent,
    day: NaiveDate,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        events::table
            .filter(events::organization_id.eq(org))
            .filter(events::event.eq(event.as_str()))
            .filter(events::day.eq(day)),
    ))
    .get_result(conn)
    .await
}

/// A raised event, as the worker reads it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub event: String,
    pub raised_at: DateTime<Utc>,
    pub day: NaiveDate,
    pub summary: String,
    pub details: serde_json::Value,
}

impl EventRow {
    pub fn event(&self) -> Option<NotifyEvent> {
        NotifyEvent::parse(&self.event)
    }

    pub fn details(&self) -> Vec<String> {
        serde_json::from_value(self.details.clone()).unwrap_or_default()
    }
}

/// Takes the organization's unprocessed events (and those a dead worker took long
/// ago), oldest first.
pub async fn claim_pending(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<EventRow>> {
    let stale = Utc::now() - chrono::TimeDelta::minutes(i64::from(CLAIM_MINUTES));
    let mut rows: Vec<EventRow> = diesel::update(
        events::table
            .filter(events::organization_id.eq(org))
            .filter(events::processed_at.is_null())
            .filter(
                events::claimed_at
                    .is_null()
                    .or(events::claimed_at.lt(stale)),
            ),
    )
    .set(events::claimed_at.eq(Utc::now()))
    .returning(EventRow::as_returning())
    .get_results(conn)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

pub async fn mark_processed(
    conn: &mut AsyncPgConnection,
    org: i32,
    ids: &[i64],
) -> QueryResult<()> {
    diesel::update(
        events::table
            .filter(events::organization_id.eq(org))
            .filter(events::id.eq_any(ids)),
    )
    .set(events::processed_at.eq(Utc::now()))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Forgets processed events raised before `events_before` and messages sent before
/// `log_before`; how many rows went.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    org: i32,
    events_before: DateTime<Utc>,
    log_before: DateTime<Utc>,
) -> QueryResult<usize> {
    let events = diesel::delete(
        events::table
            .filter(events::organization_id.eq(org))
            .filter(events::processed_at.is_not_null())
            .filter(events::raised_at.lt(events_before)),
    )
    .execute(conn)
    .await?;
    let messages = diesel::delete(
        log::table
            .filter(log::organization_id.eq(org))
            .filter(log::started_at.lt(log_before)),
    )
    .execute(conn)
    .await?;
    Ok(events + messages)
}

// ---------------------------------------------------------------- the sent-log

/// Takes the day's slot of `recipient` for `event`: the id of its log row, or `None`
/// when a message went (or is going) out already that day. A failed one may be tried
/// again, as may one whose sender died.
pub async fn claim_slot(
    conn: &mut AsyncPgConnection,
    org: i32,
    recipient: &RecipientRow,
    event: NotifyEvent,
    day: NaiveDate,
    subject: &str,
) -> QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let claimed: Option<Claimed> = diesel::sql_query(
        "INSERT INTO notification_log AS l \
             (organization_id, recipient_id, event, day, channel, destination, subject, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending') \
         ON CONFLICT (organization_id, recipient_id, event, day) DO UPDATE \
             SET status = 'sending', subject = EXCLUDED.subject, started_at = now(), \
                 finished_at = NULL \
             WHERE l.status = 'failed' \
                OR (l.status = 'sending' AND l.started_at < now() - make_interval(mins => $8)) \
         RETURNING l.id",
    )
    .bind::<Integer, _>(org)
    .bind::<BigInt, _>(recipient.id)
    .bind::<Text, _>(event.as_str())
    .bind::<Date, _>(day)
    .bind::<Text, _>(recipient.channel().as_str())
    .bind::<Text, _>(recipient.destination())
    .bind::<Text, _>(subject)
    .bind::<Integer, _>(CLAIM_MINUTES)
    .get_result(conn)
    .await
    .optional()?;
    Ok(claimed.map(|c| c.id))
}

/// Counts `n` more events of the day that the day's message already covers.
pub async fn add_suppressed(
    conn: &mut AsyncPgConnection,
    org: i32,
    recipient: i64,
    event: NotifyEvent,
    day: NaiveDate,
    n: i32,
) -> QueryResult<()> {
    diesel::update(
        log::table
            .filter(log::organization_id.eq(org))
            .filter(log::recipient_id.eq(recipient))
            .filter(log::event.eq(event.as_str()))
            .filter(log::day.eq(day)),
    )
    .set(log::suppressed.eq(log::suppressed + n))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records how a claimed message went.
pub async fn finish_slot(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    status: DeliveryStatus,
    attempts: u32,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(log::table.find((org, id)))
        .set((
            log::status.eq(status.as_str()),
            log::attempts.eq(log::attempts + i32::try_from(attempts).unwrap_or(i32::MAX)),
            log::error.eq(error),
            log::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A message of the sent-log.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = log)]
pub struct LogRow {
    pub id: i64,
    pub recipient_id: i64,
    pub event: String,
    pub day: NaiveDate,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub suppressed: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The latest messages, newest first.
pub async fn recent_log(
    conn: &mut AsyncPgConnection,
    org: i32,
    limit: i64,
) -> QueryResult<Vec<LogRow>> {
    log::table
        .filter(log::organization_id.eq(org))
        .order((log::started_at.desc(), log::id.desc()))
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)
        .await
}

// ---------------------------------------------------------------- the status watch

/// The last status seen of a SmartNumber at a granularity.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = statuses)]
pub struct StatusRow {
    pub granularity: String,
    pub kpi_name: String,
    pub period: String,
    pub status: String,
}

pub async fn statuses(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<StatusRow>> {
    statuses::table
        .filter(statuses::organization_id.eq(org))
        .select(StatusRow::as_select())
        .load(conn)
        .await
}

pub async fn put_status(
    conn: &mut AsyncPgConnection,
    org: i32,
    row: &StatusRow,
) -> QueryResult<()> {
    diesel::insert_into(statuses::table)
        .values((
            statuses::organization_id.eq(org),
            statuses::granularity.eq(&row.granularity),
            statuses::kpi_name.eq(&row.kpi_name),
            statuses::period.eq(&row.period),
            statuses::status.eq(&row.status),
        ))
        .on_conflict((
            statuses::organization_id,
            statuses::granularity,
            statuses::kpi_name,
        ))
        .do_update()
        .set((
            statuses::period.eq(&row.period),
            statuses::status.eq(&row.status),
            statuses::evaluated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Serializes the status watch of one organization across replicas (for the rest of
/// the transaction).
pub async fn lock_status_watch(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(0x5142_4e00_i64 + i64::from(org))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------- QuickBooks

/// QuickBooks' last sign of life: the newest report received (Desktop or Online) or
/// Online's last sync, else when Online was connected; `None` when QuickBooks is not
/// used here.
pub async fn quickbooks_last_sync(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<Option<DateTime<Utc>>> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<DateTime<Utc>>,
    }
    let last: Last = diesel::sql_query(
        "SELECT GREATEST( \
             (SELECT max(received_at) FROM quickbooks_sync_history WHERE organization_id = $1), \
             (SELECT coalesce(last_sync_at, connected_at) FROM quickbooks_online_connections \
               WHERE organization_id = $1)) AS at",
    )
    .bind::<Integer, _>(org)
    .get_result(conn)
    .await?;
    Ok(last.at)
}
