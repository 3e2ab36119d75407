//! Collect now over the API (`POST /api/qbr/collection/runs`) against the fake
//! ConnectWise and NinjaOne servers: 202 with the run's id, 409 while it runs, its
//! progress in `GET …/runs/{id}`, a cancel that leaves the database exactly as it was,
//! a run to the end that writes the values, and refusals that change nothing.
use crate::collect_data::{config, cw_data, ninja_data};
use crate::common::{checksum, Extras, TestApp};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;
use test_support::vendors::{FakeConnectWise, FakeNinja};

const RUNS: &str = "/api/qbr/collection/runs";

/// Polls run `id` until `done` says so (at most 60 s); its last answer.
async fn poll_run(app: &TestApp, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = app.get(&format!("{RUNS}/{id}")).await;
        assert_eq!(status, 200, "{body}");
        if done(&body["data"]) {
            return body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {id} never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn app_with_vendors(cw: &FakeConnectWise, ninja: &FakeNinja) -> TestApp {
    TestApp::spawn_with_extras(Extras {
        collectors: Some(config(Some(cw), Some(ninja))),
        ..Extras::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_now_runs_reports_progress_refuses_a_second_and_cancels_cleanly() {
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let app = app_with_vendors(&cw, &ninja).await;
    let before = checksum(&app.db).await;

    // Slow vendors: the run is still reading when we look, ask again and cancel.
    cw.faults.latency_ms.store(400, Ordering::Relaxed);
    let body = json!({"from": "2025-02", "to": "2025-03"});
    let (status, started) = app.post(RUNS, &body).await;
    assert_eq!(status, 202, "{started}");
    let id = started["data"]["run_id"].as_i64().unwrap();
    assert_eq!(started["data"]["status"], "running");

    let (status, second) = app.post(RUNS, &body).await;
    assert_eq!(status, 409, "one run at a time: {second}");
    assert_eq!(second["error"]["code"], "CONFLICT");

    let running = poll_run(&app, id, |r| r["run"]["progress_done"].as_i64() >= Some(1)).await;
    assert_eq!(running["run"]["status"], "running");
    assert_eq!(running["run"]["trigger"], "api");
    assert_eq!(running["cancellable"], true);
    let total = running["run"]["progress_total"].as_i64().unwrap();
    assert!(
        total > running["run"]["progress_done"].as_i64().unwrap(),
        "{running}"
    );

    let (status, cancelled) = app.post(&format!("{RUNS}/{id}/cancel"), &json!({})).await;
    assert_eq!(status, 202, "{cancelled}");
    let ended = poll_run(&app, id, |r| r["run"]["status"] != "running").await;
    assert_eq!(ended["run"]["status"], "cancelled", "{ended}");
    assert_eq!(ended["run"]["values_written"], 0);
    assert_eq!(ended["cancellable"], false);
    // The log row is the run's only trace; the values are as they were.
    assert_eq!(
        checksum(&app.db).await,
        before,
        "a cancelled run writes nothing"
    );

    let (status, again) = app.post(&format!("{RUNS}/{id}/cancel"), &json!({})).await;
    assert_eq!(status, 409, "an ended run: {again}");

    // To the end this time.
    cw.faults.latency_ms.store(0, Ordering::Relaxed);
    let (status, started) = app.post(RUNS, &body).await;
    assert_eq!(status, 202, "{started}");
    let id = started["data"]["run_id"].as_i64().unwrap();
    let ended = poll_run(&app, id, |r| r["run"]["status"] != "running").await;
    assert_eq!(ended["run"]["status"], "success", "{ended}");
    assert!(ended["run"]["values_written"].as_i64().unwrap() > 0);
    assert_eq!(
        ended["run"]["progress_done"], ended["run"]["progress_total"],
        "{ended}"
    );
    assert_ne!(checksum(&app.db).await, before);
    let (status, monthly) = app.get("/api/qbr/metrics/monthly?period=2025-03").await;
    assert_eq!(status, 200);
    let collected = monthly["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["data_source"] == "collected")
        .count();
    assert!(collected > 0, "{monthly}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_and_unknown_runs_change_nothing() {
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let app = app_with_vendors(&cw, &ninja).await;
    let before = checksum(&app.db).await;
    let cases = [
        (
            json!({"from": "2025-13", "to": "2025-14"}),
            "INVALID_PERIOD",
        ),
        (
            json!({"from": "2025-03", "to": "2025-02"}),
            "INVALID_PERIOD",
        ),
        (json!({"from": "2025-03"}), "INVALID_BODY"),
        (
            json!({"from": "2025-01", "to": "2999-01"}),
            "INVALID_PERIOD",
        ),
        (json!({"vendor": "quickbooks"}), "INVALID_BODY"),
        (json!({"vendor": "nobody"}), "INVALID_BODY"),
        (json!({"force": "yes"}), "INVALID_BODY"),
    ];
    for (body, code) in cases {
        let (status, answer) = app.post(RUNS, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    let (status, answer) = app.get(&format!("{RUNS}/999999")).await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = app.get(&format!("{RUNS}/abc")).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = app.post(&format!("{RUNS}/999999/cancel"), &json!({})).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(checksum(&app.db).await, before);
    assert_eq!(
        cw.requests.load(Ordering::Relaxed),
        0,
        "no vendor was asked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_without_vendors_is_told_so() {
    let app = TestApp::spawn().await;
    let (status, answer) = app.post(RUNS, &json!({})).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no vendor"),
        "{answer}"
    );
}
