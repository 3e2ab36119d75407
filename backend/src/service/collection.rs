//! What collection did: each vendor's freshness, the run in progress, the log of runs
//! and the devices per client from the daily snapshots.
use crate::error::AppResult;
use crate::store::org::Org;
use crate::store::{collection as store, devices};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::api::*;
use qbr_shared::collection::Freshness;
use qbr_shared::{Month, Vendor};

/// Data older than this is stale (a daily run plus slack).
const FRESH_HOURS: f64 = 26.0;

fn freshness(hours_since_success: Option<f64>) -> Freshness {
    match hours_since_success {
        None => Freshness::Never,
        Some(h) if h <= FRESH_HOURS => Freshness::Fresh,
        Some(_) => Freshness::Stale,
    }
}

async fn vendor_status(
    conn: &mut AsyncPgConnection,
    org: &Org,
    vendor: Vendor,
    now: DateTime<Utc>,
) -> AppResult<VendorStatus> {
    let (success, failure) = store::vendor_outcomes(conn, org.id, vendor).await?;
    let hours = success.map(|s| (now - s).num_seconds() as f64 / 3600.0);
    Ok(VendorStatus {
        vendor_id: vendor.id(),
        vendor: vendor.label().to_string(),
        last_success: success,
        last_failure: failure.as_ref().map(|f| f.0),
        last_error: failure.and_then(|f| f.1),
        hours_since_success: hours,
        freshness: freshness(hours),
    })
}

/// Per collected vendor: last success, last failure and freshness; the running run.
pub async fn status(
    conn: &mut AsyncPgConnection,
    org: &Org,
) -> AppResult<CollectionStatusResponse> {
    let now = Utc::now();
    let mut vendors = Vec::new();
    for vendor in Vendor::ALL.into_iter().filter(|v| v.is_collected()) {
        vendors.push(vendor_status(conn, org, vendor, now).await?);
    }
    let running = store::running(conn, org.id).await?.map(CollectionRun::from);
    Ok(CollectionStatusResponse { vendors, running })
}

/// Run `id` of the organization (404 for another's or none).
pub async fn run(conn: &mut AsyncPgConnection, org: &Org, id: i64) -> AppResult<CollectionRun> {
    store::by_id(conn, org.id, id)
        .await?
        .map(CollectionRun::from)
        .ok_or_else(|| crate::error::AppError::not_found(format!("No collection run with id {id}")))
}

/// The health check calls a vendor stale after this long without a successful run: a
/// missed night plus half a day.
pub const STALE_AFTER_HOURS: f64 = 36.0;

/// Every vendor's freshness for the health check, over the server's organizations (the
/// newest success of each; nothing of any one organization).
pub async fn vendor_health(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Vec<VendorHealth>> {
    let found = store::vendor_last_success(conn).await?;
    Ok(Vendor::ALL
        .into_iter()
        .map(|vendor| {
            let last_success = found
                .iter()
                .find(|f| Vendor::from_key(&f.vendor_key) == Some(vendor))
                .map(|f| f.last_success);
            let hours = last_success.map(|s| (now - s).num_seconds() as f64 / 3600.0);
            VendorHealth {
                vendor,
                last_success,
                hours_since_success: hours,
                stale: hours.is_some_and(|h| h > STALE_AFTER_HOURS),
            }
        })
        .collect())
}

/// The latest `limit` runs, newest first.
pub async fn log(
    conn: &mut AsyncPgConnection,
    org: &Org,
    limit: i64,
) -> AppResult<CollectionLogResponse> {
    let runs = store::latest(conn, org.id, limit)
        .await?
        .into_iter()
        .map(CollectionRun::from)
        .collect();
    Ok(CollectionLogResponse { runs })
}

/// Endpoints and seats per client organization, from the month's last device snapshot
/// (default: the month in progress).
pub async fn devices_by_client(
    conn: &mut AsyncPgConnection,
    org: &Org,
    month: Option<Month>,
) -> AppResult<DevicesByClientResponse> {
    let month = month.unwrap_or_else(|| org.current_month(Utc::now()));
    let snapshot =
        devices::last_in(conn, org.id, month.first_day(), month.next().first_day()).await?;
    let mut clients: Vec<ClientDevices> = snapshot
        .as_ref()
        .and_then(|s| serde_json::from_value(s.per_client.clone()).ok())
        .unwrap_or_default();
    clients.sort_by(|a, b| {
        b.endpoints
            .cmp(&a.endpoints)
            .then_with(|| a.organization.cmp(&b.organization))
    });
    Ok(DevicesByClientResponse {
        period: month.to_string(),
        snapshot_date: snapshot.as_ref().map(|s| s.snapshot_date.to_string()),
        clients,
        total_endpoints: snapshot.as_ref().map_or(0, |s| i64::from(s.endpoints)),
        total_seats: snapshot.as_ref().map_or(0, |s| i64::from(s.seats)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_and_a_bit_is_fresh() {
        assert_eq!(freshness(None), Freshness::Never);
        assert_eq!(freshness(Some(25.9)), Freshness::Fresh);
        assert_eq!(freshness(Some(26.1)), Freshness::Stale);
    }
}
