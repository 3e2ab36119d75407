//! `GET /api/health`.
use crate::db::tenant;
use crate::error::{AppError, AppResult};
use crate::http::context::state;
use crate::http::{ok, ApiOk};
use crate::service::collection;
use qbr_shared::api::HealthResponse;
use salvo::prelude::*;
use std::time::Duration;

/// A database that has not answered by then counts as down: a load balancer gets its
/// 503 before its own timeout.
const DB_TIMEOUT: Duration = Duration::from_secs(3);

/// The server answers and its database is reachable, and how recent each vendor's data
/// is (the newest successful run over every organization, stale after 36 hours); 503
/// when the database is unreachable. No sign-in needed.
#[endpoint(tags("health"))]
pub async fn get_health(depot: &mut Depot) -> AppResult<ApiOk<HealthResponse>> {
    let pool = &state(depot)?.pool;
    let checked = tokio::time::timeout(DB_TIMEOUT, async {
        let mut conn = tenant::checkout_platform(pool).await?;
        collection::vendor_health(&mut conn, chrono::Utc::now())
            .await
            .map_err(AppError::unavailable)
    })
    .await;
    let vendors = match checked {
        Ok(vendors) => vendors?,
        Err(_) => {
            return Err(AppError::unavailable(anyhow::anyhow!(
                "the database did not answer within {DB_TIMEOUT:?}"
            )))
        }
    };
    let stale = vendors.iter().any(|v| v.stale);
    Ok(ok(HealthResponse {
        status: if stale { "stale" } else { "ok" }.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        db: "ok".to_string(),
        vendors,
    }))
}
