//! Daily device snapshots (filled by the collectors of RMM vendors, NinjaOne today).
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

/// A day's device counts of one vendor.
pub struct Snapshot<'a> {
    pub date: NaiveDate,
    pub vendor_id: i32,
    pub endpoints: i64,
    pub seats: i64,
    pub per_client: &'a serde_json::Value,
    pub per_node_class: &'a serde_json::Value,
    pub collected_at: chrono::DateTime<chrono::Utc>,
}

/// Stores the day's snapshot, replacing one taken earlier the same day.
pub async fn upsert(conn: &mut AsyncPgConnection, org: i32, s: Snapshot<'_>) -> QueryResult<()> {
    let endpoints = i32::try_from(s.endpoints).unwrap_or(i32::MAX);
    let seats = i32::try_from(s.seats).unwrap_or(i32::MAX);
    diesel::insert_into(qbr_device_snapshots::table)
        .values((
            qbr_device_snapshots::organization_id.eq(org),
            qbr_device_snapshots::snapshot_date.eq(s.date),
            qbr_device_snapshots::vendor_id.eq(s.vendor_id),
            qbr_device_snapshots::endpoints.eq(endpoints),
            qbr_device_snapshots::seats.eq(seats),
            qbr_device_snapshots::per_client.eq(s.per_client),
            qbr_device_snapshots::per_node_class.eq(s.per_node_class),
            qbr_device_snapshots::collected_at.eq(s.collected_at),
        ))
        .on_conflict((
            qbr_device_snapshots::organization_id,
            qbr_device_snapshots::snapshot_date,
        ))
        .do_update()
        .set((
            qbr_device_snapshots::endpoints.eq(endpoints),
            qbr_device_snapshots::seats.eq(seats),
            qbr_device_snapshots::per_client.eq(s.per_client),
            qbr_device_snapshots::per_node_class.eq(s.per_node_class),
            qbr_device_snapshots::collected_at.eq(s.collected_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
