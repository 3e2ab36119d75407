//! The read access log: reads of an organization's data by a user and by an API key
//! are listed at `GET /api/qbr/audit?kind=read` (endpoint, period, who, how), reads
//! older than 90 days are deleted, and a bad `kind` is refused.
use crate::common::{create_api_key, TestApp};
use serde_json::Value;
use std::time::Duration;

/// Polls the read log until `done` holds for its entries (at most 30 s).
async fn reads_until(app: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = app.get("/api/qbr/audit?kind=read&limit=100").await;
        assert_eq!(status, 200, "{body}");
        let entries = body["data"]["entries"].as_array().unwrap().clone();
        if done(&entries) {
            return entries;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn exec(app: &TestApp, sql: &str) {
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.conn().await;
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_logged_with_who_what_and_when_and_kept_90_days() {
    let app = TestApp::spawn().await;
    // Written as the owner (no row-level security): one read too old to keep, one not.
    exec(
        &app,
        "INSERT INTO read_access_log (organization_id, occurred_at, actor, via, endpoint, status) VALUES \
         (1, now() - interval '91 days', 'old@example.com', 'session', '/api/qbr/periods', 200), \
         (1, now() - interval '89 days', 'recent@example.com', 'session', '/api/qbr/periods', 200)",
    )
    .await;
    let (status, _) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    assert!(status == 200 || status == 404, "{status}");
    let (status, _) = app
        .get("/api/qbr/metrics/range?from=2025-01&to=2025-03")
        .await;
    assert_eq!(status, 200);
    let key = create_api_key(&app.db, "reader", "read").await;
    let res = app
        .anon
        .get(app.url("/api/qbr/thresholds"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A write is no read.
    let (status, _) = app
        .post(
            "/api/qbr/metrics/manual",
            &serde_json::json!({"period": "2025-01", "metrics": []}),
        )
        .await;
    assert_eq!(status, 400);

    let has = |entries: &[Value], endpoint: &str| entries.iter().any(|e| e["target"] == endpoint);
    let entries = reads_until(&app, |e| {
        has(e, "/api/qbr/thresholds")
            && has(e, "/api/qbr/metrics/range")
            && !e.iter().any(|x| x["actor"] == "old@example.com")
    })
    .await;
    let find = |endpoint: &str| {
        entries
            .iter()
            .find(|e| e["target"] == endpoint)
            .unwrap_or_else(|| panic!("{endpoint} in {entries:?}"))
    };
    let range = find("/api/qbr/metrics/range");
    assert_eq!(range["action"], "read");
    assert_eq!(range["actor"], crate::common::TEST_USER);
    assert_eq!(range["details"]["via"], "session");
    assert_eq!(range["details"]["period"], "2025-01..2025-03");
    assert_eq!(range["details"]["status"], 200);
    let smart = find("/api/qbr/smartnumbers");
    assert_eq!(smart["details"]["period"], "2025-Q1");
    let by_key = find("/api/qbr/thresholds");
    assert_eq!(by_key["actor"], "apikey:reader");
    assert_eq!(by_key["details"]["via"], "api_key");
    assert!(
        !has(&entries, "/api/qbr/metrics/manual"),
        "writes are not reads"
    );
    assert!(
        entries.iter().any(|e| e["actor"] == "recent@example.com"),
        "89 days old: kept"
    );

    // The change log is the default kind, and stays without reads.
    let (status, changes) = app.get("/api/qbr/audit").await;
    assert_eq!(status, 200);
    assert!(!changes["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "read"));
    let (status, bad) = app.get("/api/qbr/audit?kind=everything").await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["code"], "INVALID_PARAMETER");
}
