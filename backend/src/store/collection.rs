//! The collection log: one row per run, written by the collectors as a run starts,
//! progresses and ends, read by the status endpoints.
use crate::schema::qbr_collection_log as log;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::api::CollectionRun;
use qbr_shared::collection::{CollectedValue, Drift, RunStatus, Trigger};
use qbr_shared::{Month, Vendor};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = log)]
pub struct RunRow {
    pub id: i64,
    pub trigger: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub months: Vec<String>,
    pub vendors: Vec<String>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub request_count: i32,
    pub values_written: i32,
    pub flags: serde_json::Value,
    pub drift: serde_json::Value,
    pub progress_done: i32,
    pub progress_total: i32,
}

impl From<RunRow> for CollectionRun {
    fn from(r: RunRow) -> Self {
        CollectionRun {
            id: r.id,
            // The table's CHECK constraints allow only these words.
            trigger: Trigger::parse(&r.trigger).unwrap_or(Trigger::Cli),
            status: RunStatus::parse(&r.status).unwrap_or(RunStatus::Failed),
            started_at: r.started_at,
            finished_at: r.finished_at,
            months: r.months,
            vendors: r
                .vendors
                .iter()
                .filter_map(|v| Vendor::from_key(v))
                .collect(),
            error: r.error,
            duration_ms: r.duration_ms,
            request_count: r.request_count,
            values_written: r.values_written,
            flags: serde_json::from_value(r.flags).unwrap_or_default(),
            drift: serde_json::from_value(r.drift).unwrap_or_default(),
            progress_done: r.progress_done,
            progress_total: r.progress_total,
        }
    }
}

/// The latest runs, newest first.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    org: i32,
    limit: i64,
) -> QueryResult<Vec<RunRow>> {
    log::table
        .filter(log::organization_id.eq(org))
        .order(log::started_at.desc())
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)
        .await
}

/// Run `id` of organization `org`.
pub async fn by_id(conn: &mut AsyncPgConnection, org: i32, id: i64) -> QueryResult<Option<RunRow>> {
    log::table
        .find((org, id))
        .select(RunRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The run in progress, if any.
pub async fn running(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<RunRow>> {
    log::table
        .filter(log::organization_id.eq(org))
        .filter(log::status.eq(RunStatus::Running.as_str()))
        .order(log::started_at.desc())
        .select(RunRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Last success and last failure (with its error) of runs that included `vendor`.
pub async fn vendor_outcomes(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor: Vendor,
) -> QueryResult<(
    Option<DateTime<Utc>>,
    Option<(DateTime<Utc>, Option<String>)>,
)> {
    let base = || {
        log::table
            .filter(log::organization_id.eq(org))
            .filter(log::vendors.contains(vec![vendor.key().to_string()]))
    };
    let success: Option<Option<DateTime<Utc>>> = base()
        .filter(log::status.eq(RunStatus::Success.as_str()))
        .select(log::finished_at)
        .order(log::started_at.desc())
        .first(conn)
        .await
        .optional()?;
    let failure: Option<(Option<DateTime<Utc>>, Option<String>)> = base()
        .filter(log::status.eq(RunStatus::Failed.as_str()))
        .select((log::finished_at, log::error))
        .order(log::started_at.desc())
        .first(conn)
        .await
        .optional()?;
    Ok((
        success.flatten(),
        failure.and_then(|(at, e)| at.map(|at| (at, e))),
    ))
}

/// The drift recorded by the successful runs of the `days` before run `id` (the drift
/// already reported).
pub async fn drift_before(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    days: i64,
) -> QueryResult<Vec<Drift>> {
    let since = Utc::now() - chrono::TimeDelta::days(days);
    let rows: Vec<serde_json::Value> = log::table
        .filter(log::organization_id.eq(org))
        .filter(log::id.lt(id))
        .filter(log::status.eq(RunStatus::Success.as_str()))
        .filter(log::started_at.ge(since))
        .select(log::drift)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .flat_map(|d| serde_json::from_value::<Vec<Drift>>(d).unwrap_or_default())
        .collect())
}

/// Marks `running` rows as failed: called by the holder of the run lock, so such a row
/// is a run whose process died.
pub async fn close_interrupted(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<usize> {
    diesel::update(
        log::table
            .filter(log::organization_id.eq(org))
            .filter(log::status.eq(RunStatus::Running.as_str())),
    )
    .set((
        log::status.eq(RunStatus::Failed.as_str()),
        log::error
            .eq("interrupted: the process ended before the run finished; nothing was written"),
        log::finished_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await
}

/// Records a run that was refused because another one held the lock.
pub async fn record_refused(
    conn: &mut AsyncPgConnection,
    org: i32,
    trigger: Trigger,
) -> QueryResult<()> {
    diesel::insert_into(log::table)
        .values((
            log::organization_id.eq(org),
            log::trigger.eq(trigger.as_str()),
            log::status.eq(RunStatus::Refused.as_str()),
            log::finished_at.eq(Utc::now()),
            log::duration_ms.eq(0i64),
            log::error.eq("another collection run is in progress"),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A run about to start.
pub struct NewRun<'a> {
    pub organization_id: i32,
    pub trigger: Trigger,
    pub months: &'a [Month],
    pub vendors: &'a [Vendor],
    pub progress_total: u32,
}

/// Records a starting run; its id.
pub async fn start(conn: &mut AsyncPgConnection, run: NewRun<'_>) -> QueryResult<i64> {
    diesel::insert_into(log::table)
        .values((
            log::organization_id.eq(run.organization_id),
            log::trigger.eq(run.trigger.as_str()),
            log::status.eq(RunStatus::Running.as_str()),
            log::months.eq(run.months.iter().map(Month::to_string).collect::<Vec<_>>()),
            log::vendors.eq(run
                .vendors
                .iter()
                .map(|v| v.key().to_string())
                .collect::<Vec<_>>()),
            log::progress_total.eq(i32::try_from(run.progress_total).unwrap_or(i32::MAX)),
        ))
        .returning(log::id)
        .get_result(conn)
        .await
}

/// Records how many steps of run `id` of organization `org` are done.
pub async fn record_progress(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    done: u32,
) -> QueryResult<()> {
    diesel::update(log::table.find((org, id)))
        .set(log::progress_done.eq(i32::try_from(done).unwrap_or(i32::MAX)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// How a run ended.
pub struct RunEnd<'a> {
    pub status: RunStatus,
    pub error: Option<String>,
    pub duration_ms: u128,
    pub request_count: u64,
    pub values_written: u32,
    pub flags: &'a [CollectedValue],
    pub drift: &'a [Drift],
}

/// Records the end of run `id` of organization `org`.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
    end: RunEnd<'_>,
) -> QueryResult<()> {
    let json =
        |v: serde_json::Result<serde_json::Value>| v.unwrap_or_else(|_| serde_json::json!([]));
    diesel::update(log::table.find((org, id)))
        .set((
            log::status.eq(end.status.as_str()),
            log::error.eq(end.error),
            log::finished_at.eq(Utc::now()),
            log::duration_ms.eq(i64::try_from(end.duration_ms).unwrap_or(i64::MAX)),
            log::request_count.eq(i32::try_from(end.request_count).unwrap_or(i32::MAX)),
            log::values_written.eq(i32::try_from(end.values_written).unwrap_or(i32::MAX)),
            log::flags.eq(json(serde_json::to_value(end.flags))),
            log::drift.eq(json(serde_json::to_value(end.drift))),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// One vendor's newest successful run, over every organization.
#[derive(QueryableByName)]
pub struct VendorLastSuccess {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub vendor_key: String,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub last_success: DateTime<Utc>,
}

/// Per vendor, the newest successful run that read it in any organization that is not
/// archived, for the public health check, which enters no organization: the
/// `SECURITY DEFINER` function `qbr_vendor_last_success()` answers this aggregate only.
pub async fn vendor_last_success(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<VendorLastSuccess>> {
    diesel::sql_query("SELECT vendor_key, last_success FROM qbr_vendor_last_success()")
        .load(conn)
        .await
}
