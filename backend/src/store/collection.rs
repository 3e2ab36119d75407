//! The collection log (written by the collectors, read by the status endpoints).
use crate::schema::qbr_collection_log;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::api::CollectionRun;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_collection_log)]
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
            trigger: r.trigger,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
            months: r.months,
            vendors: r.vendors,
            error: r.error,
            duration_ms: r.duration_ms,
            request_count: r.request_count,
            values_written: r.values_written,
            flags: r.flags,
            drift: r.drift,
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
    qbr_collection_log::table
        .filter(qbr_collection_log::organization_id.eq(org))
        .order(qbr_collection_log::started_at.desc())
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)
        .await
}

/// The run in progress, if any.
pub async fn running(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<RunRow>> {
    qbr_collection_log::table
        .filter(qbr_collection_log::organization_id.eq(org))
        .filter(qbr_collection_log::status.eq("running"))
        .order(qbr_collection_log::started_at.desc())
        .select(RunRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Last success and last failure (with its error) of runs that included `vendor`.
pub async fn vendor_outcomes(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor: &str,
) -> QueryResult<(
    Option<DateTime<Utc>>,
    Option<(DateTime<Utc>, Option<String>)>,
)> {
    let base = || {
        qbr_collection_log::table
            .filter(qbr_collection_log::organization_id.eq(org))
            .filter(qbr_collection_log::vendors.contains(vec![vendor.to_string()]))
    };
    let success: Option<Option<DateTime<Utc>>> = base()
        .filter(qbr_collection_log::status.eq("success"))
        .select(qbr_collection_log::finished_at)
        .order(qbr_collection_log::started_at.desc())
        .first(conn)
        .await
        .optional()?;
    let failure: Option<(Option<DateTime<Utc>>, Option<String>)> = base()
        .filter(qbr_collection_log::status.eq("failed"))
        .select((qbr_collection_log::finished_at, qbr_collection_log::error))
        .order(qbr_collection_log::started_at.desc())
        .first(conn)
        .await
        .optional()?;
    Ok((
        success.flatten(),
        failure.and_then(|(at, e)| at.map(|at| (at, e))),
    ))
}
