//! `GET /api/health`.
use crate::error::AppResult;
use crate::http::context::state;
use crate::http::{ok, ApiOk};
use diesel_async::RunQueryDsl;
use qbr_shared::api::HealthResponse;
use salvo::prelude::*;

/// Liveness and database reachability; no sign-in needed.
#[endpoint(tags("health"))]
pub async fn get_health(depot: &mut Depot) -> AppResult<ApiOk<HealthResponse>> {
    let db_ok = match crate::db::tenant::checkout_platform(&state(depot)?.pool).await {
        Ok(mut conn) => diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .is_ok(),
        Err(_) => false,
    };
    Ok(ok(HealthResponse {
        status: if db_ok { "ok" } else { "degraded" }.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        db: if db_ok { "ok" } else { "unavailable" }.to_string(),
    }))
}
