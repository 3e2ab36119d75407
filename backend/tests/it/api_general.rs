//! The envelope, routing, request ids, OpenAPI, read endpoints and failure modes.

use crate::common::*;
use salvo::test::ResponseExt;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn health_and_request_ids() {
    let app = TestApp::spawn().await;
    let res = app.http.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let id = res
        .headers()
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36);
    assert_eq!(
        res.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let body: Value = res.json().await.unwrap();
    let never = |vendor: &str| json!({"vendor": vendor, "last_success": null, "hours_since_success": null, "stale": false});
    assert_eq!(
        body,
        json!({"success": true, "data": {"status": "ok", "version": env!("CARGO_PKG_VERSION"), "db": "ok",
            "vendors": [never("connectwise"), never("ninjaone"), never("quickbooks")]}})
    );
    // A caller's id is kept, a hostile one replaced.
    let res = app
        .http
        .get(app.url("/api/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "abc-123");
    let res = app
        .http
        .get(app.url("/api/health"))
        .header("x-request-id", "bad id\twith tab")
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers().get("x-request-id").unwrap(),
        "bad id\twith tab"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_get_the_envelope() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/nope",
        "/api/qbr/nope",
        "/api/qbr/metrics/monthly/extra",
        "/",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert!(res.headers().get("x-request-id").is_some(), "{path}");
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_error(&(status, body), 404, "NOT_FOUND");
    }
    let res = app
        .http
        .delete(app.url("/api/qbr/thresholds"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false, "{status} {body}");
    assert!(status == 404 || status == 405, "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_parameters_are_400_and_unknown_ones_ignored() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2025-1").await,
        400,
        "INVALID_PERIOD",
    );
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2025-01&vendor_id=9")
            .await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2025-01&metric_name=nope")
            .await,
        400,
        "UNKNOWN_METRIC",
    );
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2025-01&organization_id=abc")
            .await,
        400,
        "INVALID_PARAMETER",
    );
    // An organization the user has no role in (or that does not exist).
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2025-01&organization_id=2")
            .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.get("/api/qbr/metrics/monthly?period=2020-01").await,
        404,
        "NO_DATA",
    );
    assert_error(
        &app.get("/api/qbr/smartnumbers?period=2020-Q1").await,
        404,
        "NO_DATA",
    );
    assert_error(
        &app.get("/api/qbr/smartnumbers?period=Q1-2025").await,
        400,
        "INVALID_PERIOD",
    );
    assert_error(
        &app.get("/api/qbr/metrics/history?limit=0").await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &app.get("/api/qbr/collection/log?limit=x").await,
        400,
        "INVALID_PARAMETER",
    );
    let (status, body) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&whatever=1")
        .await;
    assert_eq!(status, 200, "{body}");
    // Default period: the latest month with data.
    let (_, body) = app.get("/api/qbr/metrics/monthly").await;
    assert_eq!(body["data"]["period"], "2025-03");
    let (_, body) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&vendor_id=1&metric_name=mrr")
        .await;
    let m = &body["data"]["metrics"];
    assert_eq!(m.as_array().unwrap().len(), 1);
    assert_eq!(m[0]["vendor"], "manual");
    assert_eq!(m[0]["label"], "Monthly Recurring Revenue (MRR)");
    assert_eq!(m[0]["entered_by"], "local");
}

/// The organization's data version (bumped by a trigger on every metrics write).
async fn data_version(conn: &mut diesel_async::AsyncPgConnection) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        data_version: i64,
    }
    let v: V = diesel::sql_query("SELECT data_version FROM organization WHERE id = 1")
        .get_result(conn)
        .await
        .unwrap();
    v.data_version
}

/// The MRR cell of January 2025 and its source, from the range endpoint.
async fn january_mrr(app: &TestApp) -> (Value, Value) {
    let (status, body) = app
        .get("/api/qbr/metrics/range?from=2025-01&to=2025-03&metric_name=mrr")
        .await;
    assert_eq!(status, 200, "{body}");
    let row = &body["data"]["metrics"][0];
    (row["values"][0].clone(), row["sources"][0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn range_answers_follow_every_write() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = january_mrr(&app).await;
    assert_eq!(
        january_mrr(&app).await,
        before,
        "a repeated read (from memory)"
    );
    // Through the API.
    let (status, _) = app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": "2025-01", "metrics": [{"metric_name": "mrr", "metric_value": 120000}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(january_mrr(&app).await, (json!(120000.0), json!("manual")));
    // Behind the API's back: plain SQL, as a second replica or an operator would.
    let mut conn = app.db.conn().await;
    diesel::sql_query(
        "UPDATE qbr_metrics_monthly SET metric_value = 123456, data_source = 'imported' \
         WHERE period = '2025-01' AND metric_name = 'mrr'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        january_mrr(&app).await,
        (json!(123456.0), json!("imported"))
    );
    diesel::sql_query(
        "DELETE FROM qbr_metrics_monthly WHERE period = '2025-01' AND metric_name = 'mrr'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(january_mrr(&app).await, (Value::Null, Value::Null));
    // A rolled-back write leaves the answer (and the version) alone.
    let v0 = data_version(&mut conn).await;
    diesel::sql_query("BEGIN").execute(&mut conn).await.unwrap();
    diesel::sql_query("UPDATE qbr_metrics_monthly SET metric_value = 1 WHERE period = '2025-02'")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("ROLLBACK")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(data_version(&mut conn).await, v0);
}

/// RHEM's value and status in Q1 2025.
async fn q1_rhem(app: &TestApp) -> (Value, Value) {
    let (status, body) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    let n = body["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "rhem")
        .unwrap()
        .clone();
    (n["value"].clone(), n["status"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn smartnumber_answers_follow_thresholds_and_stored_numbers() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (value, status) = q1_rhem(&app).await;
    assert_eq!(status, "yellow");
    assert_eq!(
        q1_rhem(&app).await,
        (value.clone(), status),
        "repeated (from memory)"
    );
    let mut conn = app.db.conn().await;
    // A threshold changed by SQL (another replica, an operator): RHEM turns green.
    diesel::sql_query(
        "UPDATE qbr_thresholds SET green_max = 1, yellow_max = 2 WHERE metric_name = 'rhem'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(q1_rhem(&app).await, (value, json!("green")));
    // A stored number rewritten: the answer follows.
    diesel::sql_query("UPDATE qbr_smartnumbers SET kpi_value = 0.5 WHERE period = '2025-Q1' AND kpi_name = 'rhem'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(q1_rhem(&app).await, (json!(0.5), json!("green")));
}

#[tokio::test(flavor = "multi_thread")]
async fn range_matrix_for_the_review_table() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app
        .get("/api/qbr/metrics/range?from=2024-12&to=2025-03&metric_name=mrr,total_revenue")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["months"],
        json!(["2024-12", "2025-01", "2025-02", "2025-03"])
    );
    let rows = body["data"]["metrics"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["values"],
        json!([null, 109682.0, 110274.0, 110003.0])
    );
    assert_eq!(
        rows[1]["sources"],
        json!([null, "calculated", "calculated", "calculated"])
    );
    let (_, all) = app
        .get("/api/qbr/metrics/range?from=2025-01&to=2025-03")
        .await;
    assert_eq!(
        all["data"]["metrics"].as_array().unwrap().len(),
        qbr_shared::catalogue::METRICS.len()
    );
    assert_error(
        &app.get("/api/qbr/metrics/range?from=2020-01&to=2025-03")
            .await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &app.get("/api/qbr/metrics/range?from=2025-01").await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &app.get("/api/qbr/metrics/range?from=2025-01&to=2025-Q1")
            .await,
        400,
        "INVALID_PERIOD",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn definitions_periods_and_empty_collection_views() {
    let app = TestApp::spawn().await;
    let (_, defs) = app.get("/api/qbr/metric-definitions").await;
    assert_eq!(
        defs["data"]["metrics"].as_array().unwrap().len(),
        qbr_shared::catalogue::METRICS.len()
    );
    assert_eq!(defs["data"]["smartnumbers"].as_array().unwrap().len(), 18);
    let total = defs["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "total_revenue")
        .unwrap();
    assert_eq!(total["editable"], false);
    assert_eq!(
        total["formula"],
        "(nrr + mrr + orr + product_sales + misc_revenue)"
    );
    assert_error(&app.get("/api/qbr/smartnumbers").await, 404, "NO_DATA");
    let (_, status) = app.get("/api/qbr/collection/status").await;
    assert_eq!(status["data"]["vendors"][0]["freshness"], "never");
    assert_eq!(status["data"]["running"], Value::Null);
    let (_, log) = app.get("/api/qbr/collection/log").await;
    assert_eq!(log["data"]["runs"], json!([]));
    let (status, devices) = app.get("/api/qbr/devices-by-client?period=2025-01").await;
    assert_eq!(status, 200);
    assert_eq!(devices["data"]["clients"], json!([]));
    load_reference(&app).await;
    let (_, periods) = app.get("/api/qbr/periods").await;
    assert_eq!(
        periods["data"]["months"],
        json!(["2025-03", "2025-02", "2025-01"])
    );
    assert_eq!(periods["data"]["quarters"], json!(["2025-Q1"]));
    assert_eq!(periods["data"]["organization_name"], "Enersystems, LLC");
    // No period: the quarter in progress has no data, so the latest quarter with data.
    let (status, sn) = app.get("/api/qbr/smartnumbers").await;
    assert_eq!(status, 200);
    assert_eq!(sn["data"]["period"], "2025-Q1");
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_lists_the_api() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/health",
        "/api/qbr/smartnumbers",
        "/api/qbr/metrics/manual",
        "/api/qbr/metrics/range",
        "/api/qbr/thresholds",
        "/api/qbr/alerts",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.contains("ManualEntryRequest")));
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_clients_are_refused_even_on_loopback() {
    use salvo::test::TestClient;
    let db = TestDb::new().await;
    let service = backend::server::service(
        backend::http::AppState::new(db.pool.clone(), 1),
        backend::auth::Auth::new(test_auth_config()).unwrap(),
        &backend::config::hosting::Site::at_root("/nonexistent"),
    );
    for ip in [[203, 0, 113, 9], [127, 0, 0, 1]] {
        let mut req = TestClient::get("http://example.com/api/qbr/thresholds").build();
        *req.remote_addr_mut() =
            salvo::conn::SocketAddr::from(std::net::SocketAddr::from((ip, 40000)));
        let mut res = service.handle(req).await;
        let body: Value = serde_json::from_str(&res.take_string().await.unwrap()).unwrap();
        assert_error(
            &(res.status_code.unwrap().as_u16(), body),
            401,
            "UNAUTHENTICATED",
        );
    }
    // Health stays public.
    let mut req = TestClient::get("http://example.com/api/health").build();
    *req.remote_addr_mut() =
        salvo::conn::SocketAddr::from(std::net::SocketAddr::from(([203, 0, 113, 9], 40000)));
    assert_eq!(service.handle(req).await.status_code.unwrap().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_database_is_a_503_without_internals() {
    let db = TestDb::new().await;
    let broken = backend::db::pool(&db.url.replace("/t", "/gone_"), 2).unwrap();
    let service = backend::server::service(
        backend::http::AppState::new(broken, 1),
        backend::auth::Auth::new(test_auth_config()).unwrap(),
        &backend::config::hosting::Site::at_root("/nonexistent"),
    );
    let local =
        || salvo::conn::SocketAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 40000)));
    // Checking the API key needs the database too: 503, not 401.
    let mut req = salvo::test::TestClient::get("http://127.0.0.1/api/qbr/thresholds")
        .add_header("x-api-key", "qbr_something", true)
        .build();
    *req.remote_addr_mut() = local();
    let mut res = service.handle(req).await;
    let text = res.take_string().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_error(
        &(res.status_code.unwrap().as_u16(), body.clone()),
        503,
        "INTERNAL",
    );
    assert!(!text.contains("gone_"), "no internals in {text}");
    let mut req = salvo::test::TestClient::get("http://127.0.0.1/api/health").build();
    *req.remote_addr_mut() = local();
    let mut res = service.handle(req).await;
    let body: Value = serde_json::from_str(&res.take_string().await.unwrap()).unwrap();
    assert_error(&(res.status_code.unwrap().as_u16(), body), 503, "INTERNAL");
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_the_spa_with_a_fallback_but_never_for_api_paths() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<html><body>QBR SPA</body></html>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let app = TestApp::spawn_with_dist(dist.path()).await;
    let text = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("QBR SPA"));
    let text = app
        .http
        .get(app.url("/dashboard/2025-Q1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("QBR SPA"),
        "client-side routes get index.html"
    );
    assert_eq!(
        app.http
            .get(app.url("/app.js"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "console.log(1)"
    );
    assert_error(&app.get("/api/qbr/unknown").await, 404, "NOT_FOUND");
}
