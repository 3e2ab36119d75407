//! The worked example of `smartnumbers.md`, end to end: the reference inputs posted
//! through the manual-entry endpoint come back as the expected SmartNumbers.

use crate::common::*;
use serde_json::{json, Value};

use qbr_shared::reference::WORKED_EXAMPLE as EXPECTED;

fn close(actual: f64, expected: f64) -> bool {
    if expected == 0.0 {
        return actual.abs() < 1e-9;
    }
    ((actual - expected) / expected).abs() < 5e-5
}

fn number<'a>(data: &'a Value, key: &str) -> &'a Value {
    data["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == key)
        .unwrap_or_else(|| panic!("{key} missing"))
}

#[tokio::test(flavor = "multi_thread")]
async fn worked_example_quarter_comes_back_from_the_api() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["period"], "2025-Q1");
    assert_eq!(data["months_counted"], 3);
    assert_eq!(
        data["working_hours_per_tech"], 167.0,
        "the organization's setting"
    );
    assert_eq!(
        data["monthly_periods"],
        json!(["2025-01", "2025-02", "2025-03"])
    );
    assert_eq!(data["smartnumbers"].as_array().unwrap().len(), 18);
    for (key, q, _) in EXPECTED {
        let n = number(data, key);
        let v = n["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is null: {n}"));
        assert!(close(v, *q), "{key}: {v} != {q}");
    }
    // Statuses against the seeded thresholds.
    assert_eq!(number(data, "rhem")["status"], "yellow");
    assert_eq!(number(data, "net_profit_pct")["status"], "yellow");
    assert_eq!(
        number(data, "tickets_per_endpoint_per_month")["status"],
        "red"
    );
    assert_eq!(number(data, "avg_aisp")["status"], "green");
    assert_eq!(
        number(data, "new_mrr_added")["status"],
        "none",
        "no threshold"
    );
    // No previous quarter stored: previous value null, change null.
    assert_eq!(number(data, "rhem")["previous"]["period"], "2024-Q4");
    assert_eq!(number(data, "rhem")["previous"]["value"], Value::Null);
    assert_eq!(number(data, "rhem")["change"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn worked_example_january_with_null_rules() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app.get("/api/qbr/smartnumbers?period=2025-01").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["months_counted"], 1);
    for (key, _, jan) in EXPECTED {
        let n = number(data, key);
        match jan {
            Some(expected) => assert!(close(n["value"].as_f64().unwrap(), *expected), "{key}: {n}"),
            None => {
                assert_eq!(n["value"], Value::Null, "{key}");
                assert_eq!(n["status"], "none");
                assert_eq!(n["null_reason"], "# of First Time Appointments (FTA) is 0");
            }
        }
    }
    // #14–#16 are judged for quarters only.
    assert_eq!(number(data, "net_mrr_gain")["status"], "none");
    // February compares with January.
    let (_, feb) = app.get("/api/qbr/smartnumbers?period=2025-02").await;
    let rhem = number(&feb["data"], "rhem");
    assert_eq!(rhem["previous"]["period"], "2025-01");
    let change = rhem["change"].as_f64().unwrap();
    assert!(close(change, rhem["value"].as_f64().unwrap() - 0.245327));
    assert_eq!(
        rhem["improved"],
        json!(change < 0.0),
        "lower is better for RHEM"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flat_shape_for_existing_consumers() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app
        .get("/api/qbr/smartnumbers?period=2025-Q1&shape=flat")
        .await;
    assert_eq!(status, 200);
    let numbers = body["data"]["smartnumbers"].as_object().unwrap();
    assert_eq!(numbers.len(), 18);
    assert!(close(numbers["rhem"].as_f64().unwrap(), 0.253692));
    let (status, body) = app
        .get("/api/qbr/smartnumbers?period=2025-01&shape=flat")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["smartnumbers"]["dials_per_appointment"],
        Value::Null
    );
    assert_error(
        &app.get("/api/qbr/smartnumbers?period=2025-Q1&shape=round")
            .await,
        400,
        "INVALID_PARAMETER",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_input_names_what_is_missing() {
    let app = TestApp::spawn().await;
    let body = json!({"period": "2025-05", "metrics": [
        {"metric_name": "reactive_tickets_closed", "metric_value": 100},
        {"metric_name": "reactive_tickets_created", "metric_value": 90}
    ]});
    assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    let (_, body) = app.get("/api/qbr/smartnumbers?period=2025-05").await;
    let n = number(&body["data"], "tickets_per_tech_per_month");
    assert_eq!(n["value"], Value::Null);
    assert_eq!(n["missing_inputs"], json!(["technical_employees"]));
    assert_eq!(n["null_reason"], "needs # of Technical Employees");
    assert!(close(
        number(&body["data"], "total_close_pct")["value"]
            .as_f64()
            .unwrap(),
        100.0 / 90.0
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn quarterly_aggregation_and_derived_totals() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app.get("/api/qbr/metrics/quarterly?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    let get = |k: &str| {
        body["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric_name"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(get("total_revenue")["value"], 515488.0);
    assert_eq!(get("total_expenses")["value"], 461486.0);
    assert_eq!(get("net_profit")["value"], 54002.0);
    assert!(close(
        get("reactive_time_spent")["value"].as_f64().unwrap(),
        452.08
    ));
    assert_eq!(get("endpoints_managed")["value"], 594.0);
    assert_eq!(get("endpoints_managed")["aggregation"], "avg");
    assert_eq!(get("endpoints_managed")["months_with_data"], 3);
    assert!(close(
        get("seats_managed")["value"].as_f64().unwrap(),
        543.667
    ));
    assert_eq!(get("misc_revenue")["value"], Value::Null);
    // Monthly derived totals are stored as calculated values.
    let (_, jan) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=total_revenue")
        .await;
    let m = &jan["data"]["metrics"][0];
    assert_eq!(m["value"], 152294.0);
    assert_eq!(m["data_source"], "calculated");
    assert_error(
        &app.get("/api/qbr/metrics/quarterly?period=2025-01").await,
        400,
        "INVALID_PERIOD",
    );
    assert_error(
        &app.get("/api/qbr/metrics/quarterly?period=2019-Q1").await,
        404,
        "NO_DATA",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn trend_by_month_and_quarter() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app
        .get("/api/qbr/smartnumbers/trend?from=2025-01&to=2025-03&keys=rhem,avg_aisp")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["granularity"], "month");
    assert_eq!(
        body["data"]["periods"],
        json!(["2025-01", "2025-02", "2025-03"])
    );
    let rhem = &body["data"]["series"][0];
    assert_eq!(rhem["key"], "rhem");
    assert!(close(rhem["values"][0].as_f64().unwrap(), 0.245327));
    let (_, body) = app
        .get("/api/qbr/smartnumbers/trend?from=2024-Q4&to=2025-Q1&granularity=quarter&keys=rhem")
        .await;
    assert_eq!(body["data"]["periods"], json!(["2024-Q4", "2025-Q1"]));
    assert_eq!(body["data"]["series"][0]["values"][0], Value::Null);
    assert!(close(
        body["data"]["series"][0]["values"][1].as_f64().unwrap(),
        0.253692
    ));
    assert_eq!(
        body["data"]["series"][0]["statuses"],
        json!(["none", "yellow"])
    );
    assert_error(
        &app.get("/api/qbr/smartnumbers/trend?from=2025-01&to=2025-03&keys=nope")
            .await,
        400,
        "UNKNOWN_METRIC",
    );
    assert_error(
        &app.get("/api/qbr/smartnumbers/trend?from=2025-03&to=2025-01")
            .await,
        400,
        "INVALID_PARAMETER",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_name_the_band_and_inputs() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let (status, body) = app.get("/api/qbr/alerts?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    let alerts = body["data"]["alerts"].as_array().unwrap();
    let red = alerts
        .iter()
        .find(|a| a["key"] == "tickets_per_endpoint_per_month")
        .expect("red alert");
    assert_eq!(red["kind"], "red");
    assert!(red["band"].as_str().unwrap().contains("green"));
    assert!(red["inputs"]
        .as_array()
        .unwrap()
        .contains(&json!("endpoints_managed")));
    assert!(alerts.iter().all(|a| a["status"] != "green"));
    // A number that moved to a worse status than the previous period raises "worsened":
    // average resolution time is 0.41 h in January and 0.47 h in February.
    let t = json!({"metric_name": "avg_resolution_time", "green_max": 0.45, "yellow_max": 0.6});
    assert_eq!(app.post("/api/qbr/thresholds", &t).await.0, 200);
    let (_, body) = app.get("/api/qbr/alerts?period=2025-02").await;
    let alerts = body["data"]["alerts"].as_array().unwrap();
    let worse = alerts
        .iter()
        .find(|a| a["key"] == "avg_resolution_time")
        .expect("worsened alert");
    assert_eq!(worse["kind"], "worsened");
    assert_eq!(worse["previous_status"], "green");
    assert_eq!(worse["status"], "yellow");
}
