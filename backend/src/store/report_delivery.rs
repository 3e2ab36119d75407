//! Scheduled report delivery: an organization's schedule and recipients, and each
//! scheduled report mailed to each address (once; a failure is kept and tried again).
use crate::schema::{report_deliveries as deliveries, report_delivery_settings as settings};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::notify::{DeliveryStatus, ReportKind};

/// A failed delivery is tried again this many times in all, an hour apart at least.
pub const MAX_ATTEMPTS: i32 = 3;

/// The schedule as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = settings)]
pub struct SettingsRow {
    pub enabled: bool,
    pub day: i16,
    pub hour: i16,
    pub monthly: bool,
    pub recipients: Vec<String>,
    pub paper: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn settings(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<SettingsRow>> {
    settings::table
        .find(org)
        .select(SettingsRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A schedule to store.
pub struct SettingsWrite<'a> {
    pub enabled: bool,
    pub day: i16,
    pub hour: i16,
    pub monthly: bool,
    pub recipients: &'a [String],
    pub paper: &'a str,
    pub by: &'a str,
}

pub async fn put_settings(
    conn: &mut AsyncPgConnection,
    org: i32,
    s: SettingsWrite<'_>,
) -> QueryResult<()> {
    let values = (
        settings::enabled.eq(s.enabled),
        settings::day.eq(s.day),
        settings::hour.eq(s.hour),
        settings::monthly.eq(s.monthly),
        settings::recipients.eq(s.recipients),
        settings::paper.eq(s.paper),
        settings::updated_by.eq(s.by),
    );
    diesel::insert_into(settings::table)
        .values((settings::organization_id.eq(org), values))
        .on_conflict(settings::organization_id)
        .do_update()
        .set((values, settings::updated_at.eq(Utc::now())))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Takes the delivery of report `period` (`kind`) to `email`: its row's id, or `None`
/// when it was sent, is being sent, or failed too often or too recently.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    org: i32,
    kind: ReportKind,
    period: &str,
    quarter: &str,
    email: &str,
) -> QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let claimed: Option<Claimed> = diesel::sql_query(
        "INSERT INTO report_deliveries AS d \
             (organization_id, kind, period, quarter, email, status) \
         VALUES ($1, $2, $3, $4, $5, 'sending') \
         ON CONFLICT (organization_id, kind, period, email) DO UPDATE \
             SET status = 'sending', started_at = now(), finished_at = NULL \
             WHERE (d.status = 'failed' AND d.attempts < $6 \
                    AND d.finished_at < now() - interval '1 hour') \
                OR (d.status = 'sending' AND d.started_at < now() - interval '30 minutes') \
         RETURNING d.id",
    )
    .bind::<Integer, _>(org)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(period)
    .bind::<Text, _>(quarter)
    .bind::<Text, _>(email)
    .bind::<Integer, _>(MAX_ATTEMPTS)
    .get_result(conn)
    .await
    .optional()?;
    Ok(claimed.map(|c| c.id))
}

/// Records how a claimed delivery went (one attempt, its retries included).
pub async fn finish(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    status: DeliveryStatus,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(deliveries::table.find((org, id)))
        .set((
            deliveries::status.eq(status.as_str()),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::error.eq(error),
            deliveries::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A delivery as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub kind: String,
    pub period: String,
    pub quarter: String,
    pub email: String,
    pub status: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The latest deliveries, newest first.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    org: i32,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    deliveries::table
        .filter(deliveries::organization_id.eq(org))
        .order((deliveries::started_at.desc(), deliveries::id.desc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
        .await
}
