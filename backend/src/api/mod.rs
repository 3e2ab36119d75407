//! The REST API (`api.md`): the routes, and one module of thin handlers per resource.
//! A handler parses the request, calls one `service` function and answers inside the
//! envelope (`crate::http::response`).
pub mod alerts;
pub mod api_keys;
pub mod clients;
pub mod collection;
pub mod definitions;
pub mod exchange;
pub mod health;
pub mod insight;
pub mod logo;
pub mod metrics;
pub mod notifications;
pub mod organizations;
pub mod prometheus;
pub mod qbwc;
pub mod quickbooks;
pub mod quickbooks_online;
pub mod report;
pub mod settings;
pub mod smartnumbers;
pub mod thresholds;
pub mod users;

use salvo::prelude::*;

/// Every route under `/api`. `protected` guards everything but the public endpoints
/// (`/api/health`, `/api/auth/*`, the Web Connector's and QuickBooks Online's
/// callbacks); API-key management and connecting QuickBooks Online also need a
/// signed-in user.
pub fn router(protected: impl Handler) -> Router {
    Router::with_path("api")
        .push(Router::with_path("health").get(health::get_health))
        .push(
            Router::with_path("qbwc")
                .get(qbwc::get_qbwc)
                .post(qbwc::post_qbwc),
        )
        .push(crate::auth::router())
        .push(
            Router::with_path("qbr/quickbooks/online/callback")
                .hoop(crate::auth::sign_in_rate_limit)
                .get(quickbooks_online::get_callback),
        )
        .push(
            Router::new()
                .hoop(protected)
                .hoop(crate::http::read_log::record)
                .push(qbr_router())
                .push(
                    Router::with_path("admin/api-keys")
                        .hoop(crate::auth::require_session)
                        .get(api_keys::list_api_keys)
                        .post(api_keys::create_api_key)
                        .push(Router::with_path("{id}").delete(api_keys::revoke_api_key)),
                )
                .push(
                    Router::with_path("admin/organizations")
                        .hoop(crate::auth::require_session)
                        .get(organizations::list_organizations)
                        .post(organizations::create_organization)
                        .push(Router::with_path("{id}").put(organizations::update_organization)),
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
        .push(Router::with_path("export").get(exchange::get_export))
        .push(Router::with_path("import").post(exchange::post_import))
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
        .push(
            Router::with_path("collection/runs")
                .post(collection::post_run)
                .push(
                    Router::with_path("{id}")
                        .get(collection::get_run)
                        .push(Router::with_path("cancel").post(collection::post_cancel_run)),
                ),
        )
        .push(Router::with_path("devices-by-client").get(collection::get_devices_by_client))
        .push(
            Router::with_path("clients")
                .get(clients::get_clients)
                .push(Router::with_path("matching").put(clients::put_matching))
                .push(Router::with_path("import").post(clients::post_client_import))
                .push(Router::with_path("ranking").get(clients::get_ranking))
                .push(Router::with_path("anomalies").get(insight::get_clients_anomalies))
                .push(
                    Router::with_path("thresholds")
                        .get(clients::get_client_thresholds)
                        .put(clients::put_client_thresholds),
                )
                .push(Router::with_path("{id}/metrics").get(clients::get_client_metrics))
                .push(Router::with_path("{id}/report").get(clients::get_client_report))
                .push(Router::with_path("{id}/anomalies").get(insight::get_client_anomalies))
                .push(Router::with_path("{id}/values").put(clients::put_client_value)),
        )
        .push(Router::with_path("audit").get(definitions::get_audit))
        .push(Router::with_path("anomalies").get(insight::get_anomalies))
        .push(Router::with_path("forecast").get(insight::get_forecast))
        .push(Router::with_path("health-score").get(insight::get_health_score))
        .push(Router::with_path("summary").get(insight::get_summary))
        .push(
            Router::with_path("goals")
                .get(insight::get_goals)
                .put(insight::put_goals),
        )
        .push(
            Router::with_path("settings")
                .get(settings::get_settings)
                .put(settings::put_settings),
        )
        .push(
            Router::with_path("settings/logo")
                .get(logo::get_logo)
                .put(logo::put_logo)
                .delete(logo::delete_logo),
        )
        .push(
            Router::with_path("users")
                .hoop(crate::auth::require_session)
                .get(users::list_users)
                .post(users::invite_user)
                .push(
                    Router::with_path("{user_id}")
                        .put(users::change_user_role)
                        .delete(users::remove_user),
                ),
        )
        .push(
            Router::with_path("settings/notifications")
                .get(notifications::get_notifications)
                .put(notifications::put_notifications)
                .push(Router::with_path("test").post(notifications::post_notifications_test)),
        )
        .push(
            Router::with_path("settings/report-delivery")
                .get(notifications::get_report_delivery)
                .put(notifications::put_report_delivery)
                .push(Router::with_path("test").post(notifications::post_report_delivery_test)),
        )
        .push(Router::with_path("quickbooks/accounts").get(quickbooks::get_accounts))
        .push(Router::with_path("quickbooks/mappings").put(quickbooks::put_mappings))
        .push(Router::with_path("quickbooks/status").get(quickbooks::get_status))
        .push(Router::with_path("quickbooks/backfill").post(quickbooks::post_backfill))
        .push(Router::with_path("quickbooks/qwc").get(quickbooks::get_qwc))
        .push(
            Router::with_path("quickbooks/online")
                .hoop(crate::auth::require_session)
                .push(Router::with_path("connect").get(quickbooks_online::get_connect))
                .push(Router::with_path("disconnect").post(quickbooks_online::post_disconnect)),
        )
}
