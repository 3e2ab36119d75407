//! Manual entry: validation, all-or-nothing writes, history, recompute, recollect.

use crate::common::*;
use serde_json::{json, Value};

fn entry(period: &str, metrics: Value) -> Value {
    json!({"period": period, "metrics": metrics})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_item_rejects_the_whole_request_and_changes_nothing() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = checksum(&app.db).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            entry(
                "2025-01",
                json!([{"metric_name": "mrr", "metric_value": 1}, {"metric_name": "bogus", "metric_value": 1}]),
            ),
            400,
            "UNKNOWN_METRIC",
        ),
        (
            entry(
                "2025-01",
                json!([{"metric_name": "mrr", "metric_value": 1}, {"metric_name": "total_revenue", "metric_value": 1}]),
            ),
            400,
            "DERIVED_METRIC",
        ),
        (
            entry(
                "2025-01",
                json!([{"metric_name": "mrr", "metric_value": 1}, {"metric_name": "employees", "metric_value": -1}]),
            ),
            400,
            "NEGATIVE_VALUE",
        ),
        (
            entry(
                "2025-01",
                json!([{"metric_name": "reactive_time_spent", "metric_value": -0.5}]),
            ),
            400,
            "NEGATIVE_VALUE",
        ),
        (
            entry(
                "2025-13",
                json!([{"metric_name": "mrr", "metric_value": 1}]),
            ),
            400,
            "INVALID_PERIOD",
        ),
        (
            entry(
                "2025-Q1",
                json!([{"metric_name": "mrr", "metric_value": 1}]),
            ),
            400,
            "INVALID_PERIOD",
        ),
        (entry("2025-01", json!([])), 400, "INVALID_BODY"),
        (
            entry(
                "2025-01",
                json!([{"metric_name": "mrr", "metric_value": 1}, {"metric_name": "mrr", "metric_value": 2}]),
            ),
            400,
            "INVALID_BODY",
        ),
        (
            entry(
                "2025-01",
                json!([{"metric_name": "mrr", "metric_value": "12"}]),
            ),
            400,
            "INVALID_BODY",
        ),
        (json!({"period": "2025-01"}), 400, "INVALID_BODY"),
        (
            // Not one of the caller's organizations.
            json!({"period": "2025-01", "organization_id": 99, "metrics": [{"metric_name": "mrr", "metric_value": 1}]}),
            403,
            "FORBIDDEN",
        ),
    ];
    for (body, status, code) in cases {
        let resp = app.post("/api/qbr/metrics/manual", &body).await;
        assert_error(&resp, status, code);
        assert_eq!(
            checksum(&app.db).await,
            before,
            "{body} changed the database"
        );
    }
    assert_error(
        &app.post_raw(
            "/api/qbr/metrics/manual",
            "application/json",
            b"{not json".to_vec(),
        )
        .await,
        400,
        "INVALID_BODY",
    );
    assert_error(
        &app.post_raw("/api/qbr/metrics/manual", "text/plain", b"{}".to_vec())
            .await,
        415,
        "INVALID_BODY",
    );
    let huge = format!(
        "{{\"period\":\"2025-01\",\"metrics\":[],\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 10)
    );
    assert_error(
        &app.post_raw(
            "/api/qbr/metrics/manual",
            "application/json",
            huge.into_bytes(),
        )
        .await,
        413,
        "PAYLOAD_TOO_LARGE",
    );
    // Money may be negative.
    let ok = app
        .post(
            "/api/qbr/metrics/manual",
            &entry(
                "2025-01",
                json!([{"metric_name": "nrr", "metric_value": -5000}]),
            ),
        )
        .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    assert_ne!(checksum(&app.db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_keep_history_and_recompute_totals_and_smartnumbers() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (_, before) = app
        .get("/api/qbr/smartnumbers?period=2025-Q1&shape=flat")
        .await;
    let body = entry(
        "2025-02",
        json!([{"metric_name": "mrr", "metric_value": 120274, "notes": "late invoice booked"}]),
    );
    let (status, resp) = app.post("/api/qbr/metrics/manual", &body).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["updated_count"], 1);
    assert_eq!(
        resp["data"]["recomputed_periods"],
        json!(["2025", "2025-02", "2025-Q1"])
    );
    // Same value again: nothing changes.
    let (_, again) = app.post("/api/qbr/metrics/manual", &body).await;
    assert_eq!(again["data"]["updated_count"], 0);
    assert_eq!(again["data"]["unchanged_count"], 1);
    // The month's total and the quarter's numbers moved by exactly the change.
    let (_, feb) = app
        .get("/api/qbr/metrics/monthly?period=2025-02&metric_name=total_revenue")
        .await;
    assert_eq!(feb["data"]["metrics"][0]["value"], 187085.0 + 10000.0);
    let (_, after) = app
        .get("/api/qbr/smartnumbers?period=2025-Q1&shape=flat")
        .await;
    let aisp_before = before["data"]["smartnumbers"]["avg_aisp"].as_f64().unwrap();
    let aisp_after = after["data"]["smartnumbers"]["avg_aisp"].as_f64().unwrap();
    assert!(
        (aisp_after - aisp_before - 10000.0 / 543.6666666 / 3.0).abs() < 1e-3,
        "{aisp_before} → {aisp_after}"
    );
    // History: who, when, old, new, notes.
    let (_, hist) = app
        .get("/api/qbr/metrics/history?period=2025-02&metric_name=mrr")
        .await;
    let entries = hist["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "first entry and the change: {hist}");
    assert_eq!(entries[0]["old_value"], 110274.0);
    assert_eq!(entries[0]["new_value"], 120274.0);
    assert_eq!(entries[0]["notes"], "late invoice booked");
    assert_eq!(entries[0]["changed_by"], "local");
    assert_eq!(entries[1]["old_value"], Value::Null);
    // Removing a value (null) recomputes too and is in the history.
    let (status, _) = app
        .post(
            "/api/qbr/metrics/manual",
            &entry(
                "2025-02",
                json!([{"metric_name": "orr", "metric_value": null}]),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let (_, feb) = app
        .get("/api/qbr/metrics/monthly?period=2025-02&metric_name=total_revenue")
        .await;
    assert_eq!(feb["data"]["metrics"][0]["value"], 197085.0 - 63285.0);
    let (_, hist) = app
        .get("/api/qbr/metrics/history?period=2025-02&metric_name=orr")
        .await;
    assert_eq!(hist["data"]["entries"][0]["new_value"], Value::Null);
    // The audit log has the entries.
    let (_, audit) = app.get("/api/qbr/audit?limit=5").await;
    assert_eq!(
        audit["data"]["entries"][0]["action"],
        "metrics.manual_entry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn recollect_hands_manual_values_of_collected_metrics_back() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (_, m) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=endpoints_managed")
        .await;
    assert_eq!(m["data"]["metrics"][0]["data_source"], "manual");
    let body = json!({"period": "2025-01", "metric_names": ["endpoints_managed", "seats_managed"]});
    let (status, resp) = app.post("/api/qbr/metrics/recollect", &body).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["released_count"], 2);
    let (_, m) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=endpoints_managed")
        .await;
    assert_eq!(m["data"]["metrics"][0]["data_source"], "collected");
    assert_eq!(
        m["data"]["metrics"][0]["value"], 597.0,
        "value kept until the next collection"
    );
    let before = checksum(&app.db).await;
    assert_error(
        &app.post(
            "/api/qbr/metrics/recollect",
            &json!({"period": "2025-01", "metric_names": ["mrr"]}),
        )
        .await,
        400,
        "INVALID_BODY",
    );
    assert_error(
        &app.post(
            "/api/qbr/metrics/recollect",
            &json!({"period": "2025-01", "metric_names": ["nope"]}),
        )
        .await,
        400,
        "UNKNOWN_METRIC",
    );
    assert_error(
        &app.post(
            "/api/qbr/metrics/recollect",
            &json!({"period": "Jan", "metric_names": ["seats_managed"]}),
        )
        .await,
        400,
        "INVALID_PERIOD",
    );
    assert_eq!(checksum(&app.db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn prior_year_average_feeds_cash_reserve_months() {
    let app = TestApp::spawn().await;
    // 2024 stored: every month has 10,000 of expenses.
    for m in 1..=12 {
        let body = entry(
            &format!("2024-{m:02}"),
            json!([{"metric_name": "other_expenses", "metric_value": 10000}]),
        );
        assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    }
    let body = entry(
        "2025-03",
        json!([{"metric_name": "cash_reserve", "metric_value": 45000}]),
    );
    assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    let (_, mar) = app.get("/api/qbr/metrics/monthly?period=2025-03").await;
    let get = |k: &str| {
        mar["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric_name"] == k)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(get("avg_monthly_expenses_prior_year")["value"], 10000.0);
    assert_eq!(get("cash_reserve_months")["value"], 4.5);
    // Typing it is refused while 2024 is stored.
    let before = checksum(&app.db).await;
    let typed = entry(
        "2025-03",
        json!([{"metric_name": "avg_monthly_expenses_prior_year", "metric_value": 1}]),
    );
    assert_error(
        &app.post("/api/qbr/metrics/manual", &typed).await,
        400,
        "DERIVED_METRIC",
    );
    assert_eq!(checksum(&app.db).await, before);
    // A change to 2024 moves 2025's ratio in the same request.
    let body = entry(
        "2024-06",
        json!([{"metric_name": "other_expenses", "metric_value": 130000}]),
    );
    assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    let (_, mar) = app
        .get("/api/qbr/metrics/monthly?period=2025-03&metric_name=cash_reserve_months")
        .await;
    assert_eq!(mar["data"]["metrics"][0]["value"], 45000.0 / 20000.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_entries_leave_consistent_quarter_numbers() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let bodies: Vec<Value> = (0..3)
        .flat_map(|i| {
            (0..4).map(move |k| {
                entry(
                    &format!("2025-0{}", i + 1),
                    json!([{"metric_name": "mrr", "metric_value": 100000 + 1000 * k + i}]),
                )
            })
        })
        .collect();
    let futures: Vec<_> = bodies
        .iter()
        .map(|b| app.post("/api/qbr/metrics/manual", b))
        .collect();
    for (status, resp) in futures::future::join_all(futures).await {
        assert_eq!(status, 200, "{resp}");
    }
    // The stored quarter numbers equal those computed from the final inputs.
    let (_, stored) = app
        .get("/api/qbr/smartnumbers?period=2025-Q1&shape=flat")
        .await;
    let (_, q) = app.get("/api/qbr/metrics/quarterly?period=2025-Q1").await;
    let mrr = q["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric_name"] == "mrr")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    let seats = (546.0 + 543.0 + 542.0) / 3.0;
    let aisp = stored["data"]["smartnumbers"]["avg_aisp"].as_f64().unwrap();
    assert!(
        (aisp - mrr / seats / 3.0).abs() < 1e-6,
        "{aisp} vs {}",
        mrr / seats / 3.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn thresholds_validate_and_recolour() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app.get("/api/qbr/thresholds").await;
    assert_eq!(status, 200);
    let all = body["data"]["thresholds"].as_array().unwrap();
    assert_eq!(all.len(), 18);
    let rhem = all.iter().find(|t| t["metric_name"] == "rhem").unwrap();
    assert_eq!(rhem["green_max"], 0.2);
    assert_eq!(rhem["green_min"], Value::Null);
    // A red card turns green after a threshold edit.
    let edit = json!({"thresholds": [{"metric_name": "tickets_per_endpoint_per_month", "green_max": 0.7, "yellow_max": 0.9}]});
    let (status, resp) = app.post("/api/qbr/thresholds", &edit).await;
    assert_eq!(status, 200, "{resp}");
    let (_, sn) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    let n = sn["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "tickets_per_endpoint_per_month")
        .unwrap()
        .clone();
    assert_eq!(n["status"], "green");
    let before = checksum(&app.db).await;
    let bad = [
        (
            json!({"metric_name": "rhem", "green_max": 0.5, "yellow_max": 0.3}),
            "INVALID_BODY",
        ),
        (
            json!({"metric_name": "rhem", "green_min": 2, "green_max": 1}),
            "INVALID_BODY",
        ),
        (
            json!({"thresholds": [{"metric_name": "rhem", "green_max": 0.1}, {"metric_name": "mrr", "green_max": 1}]}),
            "UNKNOWN_METRIC",
        ),
        (json!({"thresholds": []}), "INVALID_BODY"),
        (
            json!({"metric_name": "rhem", "green_max": "low"}),
            "INVALID_BODY",
        ),
    ];
    for (body, code) in bad {
        assert_error(&app.post("/api/qbr/thresholds", &body).await, 400, code);
    }
    assert_eq!(checksum(&app.db).await, before);
    let (_, audit) = app.get("/api/qbr/audit").await;
    assert!(audit["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "thresholds.update"));
}

#[tokio::test(flavor = "multi_thread")]
async fn periods_in_progress_count_only_elapsed_months_and_are_refreshed() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap();
    let current = qbr_shared::Month::containing(chrono::Utc::now(), tz);
    let body = entry(
        &current.to_string(),
        json!([{"metric_name": "reactive_tickets_closed", "metric_value": 120}, {"metric_name": "technical_employees", "metric_value": 4}]),
    );
    assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    let quarter = current.quarter();
    let elapsed = current.month() - quarter.months()[0].month() + 1;
    let (_, sn) = app
        .get(&format!("/api/qbr/smartnumbers?period={quarter}"))
        .await;
    assert_eq!(sn["data"]["months_counted"], elapsed);
    let per_tech = sn["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "tickets_per_tech_per_month")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!((per_tech - 120.0 / 4.0 / f64::from(elapsed)).abs() < 1e-9);
    // A stale stored value (as after a month boundary) is put right by the refresh job.
    let mut conn = app.db.conn().await;
    diesel::sql_query("UPDATE qbr_smartnumbers SET months_counted = 99, kpi_value = 0")
        .execute(&mut conn)
        .await
        .unwrap();
    backend::maintenance::refresh_current_periods(&app.db.pool, 1)
        .await
        .unwrap();
    let (_, sn) = app
        .get(&format!("/api/qbr/smartnumbers?period={quarter}"))
        .await;
    assert_eq!(sn["data"]["months_counted"], elapsed);
    let again = sn["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "tickets_per_tech_per_month")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert_eq!(again, per_tech);
}
