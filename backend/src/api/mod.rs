//! The REST API (`api.md`): routes, and one module of thin handlers per resource.
//! Handlers parse parameters, call `store::` queries and `qbr_shared` rules, and answer
//! inside the envelope.
pub mod alerts;
pub mod collection;
pub mod definitions;
pub mod health;
pub mod io;
pub mod metrics;
pub mod params;
pub mod report;
pub mod response;
pub mod smartnumbers;
pub mod thresholds;

use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::org::{self, Org};
use diesel_async::AsyncPgConnection;
use salvo::prelude::*;

/// Every route under `/api`. `protected` guards everything but the public endpoints
/// (`/api/health`, `/api/auth/*`); API-key management also needs a signed-in user.
pub fn router(protected: impl Handler) -> Router {
    Router::with_path("api")
        .push(Router::with_path("health").get(health::get_health))
        .push(crate::auth::router())
        .push(
            Router::new().hoop(protected).push(qbr_router()).push(
                Router::with_path("admin/api-keys")
                    .hoop(crate::auth::require_session)
                    .get(crate::auth::apikey::list_api_keys)
                    .post(crate::auth::apikey::create_api_key)
                    .push(Router::with_path("{id}").delete(crate::auth::apikey::revoke_api_key)),
            ),
        )
}

fn qbr_router() -> Router {
    Router::with_path("qbr")
        .push(Router::with_path("periods").get(definitions::list_periods))
        .push(Router::with_path("metric-definitions").get(definitions::list_metric_definitions))
        .push(Router::with_path("metrics/monthly").get(metrics::get_monthly))
        .push(Router::with_path("metrics/quarterly").get(metrics::get_quarterly))
        .push(Router::with_path("metrics/range").get(metrics::get_range))
        .push(Router::with_path("metrics/manual").post(metrics::post_manual))
        .push(Router::with_path("metrics/recollect").post(metrics::post_recollect))
        .push(Router::with_path("metrics/history").get(metrics::get_history))
        .push(Router::with_path("export").get(io::get_export))
        .push(Router::with_path("import").post(io::post_import))
        .push(Router::with_path("report").get(report::get_report))
        .push(Router::with_path("smartnumbers").get(smartnumbers::get_smartnumbers))
        .push(Router::with_path("smartnumbers/trend").get(smartnumbers::get_trend))
        .push(
            Router::with_path("thresholds")
                .get(thresholds::get_thresholds)
                .post(thresholds::post_thresholds),
        )
        .push(Router::with_path("alerts").get(alerts::get_alerts))
        .push(Router::with_path("collection/status").get(collection::get_status))
        .push(Router::with_path("collection/log").get(collection::get_log))
        .push(Router::with_path("devices-by-client").get(collection::get_devices_by_client))
        .push(Router::with_path("audit").get(definitions::get_audit))
}

pub(crate) fn state(depot: &Depot) -> AppResult<&AppState> {
    depot
        .get_typed::<AppState>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("application state missing")))
}

/// A pooled connection (503 when the database can't be reached).
pub(crate) async fn conn(depot: &Depot) -> AppResult<DbConn> {
    Ok(state(depot)?.pool.get().await?)
}

/// Who is acting: the signed-in user's email or `apikey:<name>` (set by the auth hoop).
pub(crate) fn actor(depot: &Depot) -> String {
    depot
        .get::<String>(ACTOR_KEY)
        .ok()
        .cloned()
        .unwrap_or_else(|| "local".to_string())
}

pub(crate) const ACTOR_KEY: &str = "actor";

/// The organization of the request: `organization_id` if given, else the server's
/// default (see [`organization_id`]).
pub(crate) async fn organization(
    req: &Request,
    depot: &Depot,
    conn: &mut AsyncPgConnection,
) -> AppResult<Org> {
    let asked = params::int(req, "organization_id", 1, i64::from(i32::MAX))?.map(|v| v as i32);
    organization_by_id(conn, organization_id(depot, asked)?).await
}

/// The organization a request acts on: an API key's own (a key naming another one gets
/// 403: the organization comes from the key, never from the request); else `asked`,
/// else the server's default.
pub(crate) fn organization_id(depot: &Depot, asked: Option<i32>) -> AppResult<i32> {
    match (crate::auth::key_organization(depot), asked) {
        (Some(key_org), Some(asked)) if asked != key_org => Err(AppError::new(
            qbr_shared::ErrorCode::Forbidden,
            "This API key belongs to another organization",
        )),
        (Some(key_org), _) => Ok(key_org),
        (None, asked) => Ok(asked.unwrap_or(state(depot)?.org_id)),
    }
}

/// The client's address, for the audit log.
pub(crate) fn client_ip(req: &Request) -> Option<String> {
    crate::auth::client_ip(req)
}

pub(crate) async fn organization_by_id(conn: &mut AsyncPgConnection, id: i32) -> AppResult<Org> {
    org::load(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Organization {id} does not exist")))
}
