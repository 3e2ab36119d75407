//! Daily device snapshots (filled by the NinjaOne collector).
use crate::schema::qbr_device_snapshots;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_device_snapshots)]
pub struct SnapshotRow {
    pub snapshot_date: NaiveDate,
    pub endpoints: i32,
    pub seats: i32,
    pub per_client: serde_json::Value,
}

/// The last snapshot taken in `[from, to)`: a month's device values.
pub async fn last_in(
    conn: &mut AsyncPgConnection,
    org: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Option<SnapshotRow>> {
    qbr_device_snapshots::table
        .filter(qbr_device_snapshots::organization_id.eq(org))
        .filter(qbr_device_snapshots::snapshot_date.ge(from))
        .filter(qbr_device_snapshots::snapshot_date.lt(to))
        .order(qbr_device_snapshots::snapshot_date.desc())
        .select(SnapshotRow::as_select())
        .first(conn)
        .await
        .optional()
}
