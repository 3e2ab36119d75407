//! Each organization's vendor credentials, sealed (`secrets::sealing`); this module
//! only stores and reads the sealed bytes.
use crate::schema::organization_vendor_settings as ovs;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One vendor's stored settings.
#[derive(Debug, Clone, Queryable)]
pub struct StoredSettings {
    pub vendor: String,
    pub sealed: Vec<u8>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn list(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<StoredSettings>> {
    ovs::table
        .filter(ovs::organization_id.eq(org))
        .select((ovs::vendor, ovs::sealed, ovs::updated_by, ovs::updated_at))
        .order(ovs::vendor)
        .load(conn)
        .await
}

pub async fn put(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor: &str,
    sealed: &[u8],
    by: &str,
) -> QueryResult<()> {
    diesel::insert_into(ovs::table)
        .values((
            ovs::organization_id.eq(org),
            ovs::vendor.eq(vendor),
            ovs::sealed.eq(sealed),
            ovs::updated_by.eq(by),
        ))
        .on_conflict((ovs::organization_id, ovs::vendor))
        .do_update()
        .set((
            ovs::sealed.eq(sealed),
            ovs::updated_by.eq(by),
            ovs::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes a vendor's settings; whether there were any.
pub async fn delete(conn: &mut AsyncPgConnection, org: i32, vendor: &str) -> QueryResult<bool> {
    diesel::delete(ovs::table.find((org, vendor)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}
