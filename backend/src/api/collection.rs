//! Collection status, the collection log and per-client devices (read-only: runs are
//! started by the schedule or the CLI, never by the API).
use super::response::{ok, ApiOk};
use super::{conn, organization, params};
use crate::error::AppResult;
use crate::store::{collection as store, devices};
use chrono::Utc;
use qbr_shared::api::*;
use qbr_shared::Month;
use salvo::prelude::*;

/// Data older than this is stale (a daily run plus slack).
const FRESH_HOURS: f64 = 26.0;

/// Per vendor: last success, last failure and freshness; the running run's progress.
#[endpoint(tags("collection"), parameters(("organization_id" = Option<i32>, Query, description = "Organization (default 1)")))]
pub async fn get_status(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionStatusResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let mut vendors = Vec::new();
    for (id, key, name) in [
        (3, "connectwise", "ConnectWise"),
        (2, "ninjaone", "NinjaOne"),
    ] {
        let (success, failure) = store::vendor_outcomes(&mut conn, org.id, key).await?;
        let hours = success.map(|s| (Utc::now() - s).num_seconds() as f64 / 3600.0);
        vendors.push(VendorStatus {
            vendor_id: id,
            vendor: name.to_string(),
            last_success: success,
            last_failure: failure.as_ref().map(|f| f.0),
            last_error: failure.and_then(|f| f.1),
            hours_since_success: hours,
            freshness: match hours {
                None => "never",
                Some(h) if h <= FRESH_HOURS => "fresh",
                Some(_) => "stale",
            }
            .to_string(),
        });
    }
    let running = store::running(&mut conn, org.id)
        .await?
        .map(CollectionRun::from);
    Ok(ok(CollectionStatusResponse { vendors, running }))
}

/// The latest collection runs, newest first.
#[endpoint(tags("collection"), parameters(("limit" = Option<i64>, Query, description = "1–200, default 20")))]
pub async fn get_log(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionLogResponse>> {
    let limit = params::int(req, "limit", 1, 200)?.unwrap_or(20);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let runs = store::latest(&mut conn, org.id, limit)
        .await?
        .into_iter()
        .map(CollectionRun::from)
        .collect();
    Ok(ok(CollectionLogResponse { runs }))
}

/// Endpoints and seats per client organization, from the month's last device snapshot.
#[endpoint(
    tags("collection"),
    parameters(("period" = Option<String>, Query, description = "YYYY-MM; default: the month in progress"))
)]
pub async fn get_devices_by_client(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<DevicesByClientResponse>> {
    let month = params::month(req, "period")?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let month: Month = month.unwrap_or_else(|| org.current_month(Utc::now()));
    let snapshot = devices::last_in(
        &mut conn,
        org.id,
        month.first_day(),
        month.next().first_day(),
    )
    .await?;
    let mut clients: Vec<ClientDevices> = snapshot
        .as_ref()
        .and_then(|s| serde_json::from_value(s.per_client.clone()).ok())
        .unwrap_or_default();
    clients.sort_by(|a, b| {
        b.endpoints
            .cmp(&a.endpoints)
            .then_with(|| a.organization.cmp(&b.organization))
    });
    Ok(ok(DevicesByClientResponse {
        period: month.to_string(),
        snapshot_date: snapshot.as_ref().map(|s| s.snapshot_date.to_string()),
        clients,
        total_endpoints: snapshot.as_ref().map_or(0, |s| i64::from(s.endpoints)),
        total_seats: snapshot.as_ref().map_or(0, |s| i64::from(s.seats)),
    }))
}
