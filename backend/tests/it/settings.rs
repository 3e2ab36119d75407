//! The organization's settings over the API: defaults, validation that changes
//! nothing, a working-hours change that computes the SmartNumbers again, a time-zone
//! change that says what it means, the audit entry, and the excluded device
//! organizations applied to Collect now's NinjaOne run.
use crate::collect_data::{config, ninja_data};
use crate::common::{checksum, Extras, TestApp};
use serde_json::{json, Value};
use std::time::Duration;
use test_support::vendors::FakeNinja;

const SETTINGS: &str = "/api/qbr/settings";

async fn smartnumber(app: &TestApp, period: &str, key: &str) -> Option<f64> {
    let (status, body) = app
        .get(&format!("/api/qbr/smartnumbers?period={period}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .and_then(|s| s["value"].as_f64())
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_read_checked_changed_recomputed_and_audited() {
    let app = TestApp::spawn().await;
    let (status, got) = app.get(SETTINGS).await;
    assert_eq!(status, 200, "{got}");
    let s = &got["data"];
    assert_eq!(s["organization_id"], 1);
    let excluded: Vec<&str> = s["excluded_device_organizations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in [
        "Ener Systems",
        "Ener Systems, LLC",
        "Internal Infrastructure",
    ] {
        assert!(excluded.contains(&name), "{excluded:?}");
    }
    assert_eq!(s["collection"]["enabled"], true);
    assert_eq!(s["collection"]["time"], Value::Null);
    let hours = s["working_hours_per_tech"].as_f64().unwrap();

    // Reactive Service % = reactive hours / (technicians × working hours).
    let (status, entered) = app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": "2025-01", "metrics": [
                {"metric_name": "reactive_time_spent", "metric_value": 100},
                {"metric_name": "technical_employees", "metric_value": 5},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{entered}");
    let before = smartnumber(&app, "2025-01", "reactive_service_pct")
        .await
        .unwrap();
    assert!((before - 100.0 / (5.0 * hours)).abs() < 1e-9, "{before}");

    let sum = checksum(&app.db).await;
    let bad = [
        json!({"timezone": "Mars/Olympus"}),
        json!({"working_hours_per_tech": 0}),
        json!({"working_hours_per_tech": 10000}),
        json!({"name": "   "}),
        json!({"excluded_device_organizations": ["ok", ""]}),
        json!({"collection": {"enabled": true, "time": "7:30"}}),
        json!({"collection": {"enabled": true, "time": "07:30", "timezone": "Nowhere"}}),
        json!({"working_hours_per_tech": "many"}),
        // A valid field beside a bad one: nothing is written.
        json!({"name": "Renamed", "timezone": "Nope/Nope"}),
    ];
    for body in bad {
        let (status, answer) = app.put(SETTINGS, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "INVALID_BODY", "{body}: {answer}");
    }
    assert_eq!(
        checksum(&app.db).await,
        sum,
        "refused changes write nothing"
    );
    let (_, unchanged) = app.get(SETTINGS).await;
    assert_eq!(unchanged["data"], got["data"]);

    let (status, changed) = app
        .put(
            SETTINGS,
            &json!({
                "working_hours_per_tech": 125,
                "excluded_device_organizations": [" Ener Systems ", "Beta Law", "beta law"],
                "collection": {"enabled": true, "time": "05:45", "timezone": "Europe/Berlin"},
            }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let d = &changed["data"];
    assert!(d["recomputed_periods"].as_u64().unwrap() >= 3, "{d}");
    assert_eq!(d["settings"]["working_hours_per_tech"], 125.0);
    assert_eq!(
        d["settings"]["excluded_device_organizations"],
        json!(["Ener Systems", "Beta Law"])
    );
    assert_eq!(d["settings"]["collection"]["time"], "05:45");
    let after = smartnumber(&app, "2025-01", "reactive_service_pct")
        .await
        .unwrap();
    assert!((after - 100.0 / (5.0 * 125.0)).abs() < 1e-9, "{after}");
    let quarter = smartnumber(&app, "2025-Q1", "reactive_service_pct")
        .await
        .unwrap();
    assert!(
        (quarter - after / 3.0).abs() < 1e-9 || (quarter - after).abs() < 1e-9,
        "the quarter was computed again too: {quarter}"
    );

    let (status, zoned) = app
        .put(SETTINGS, &json!({"timezone": "America/New_York"}))
        .await;
    assert_eq!(status, 200, "{zoned}");
    let notes = zoned["data"]["notes"].to_string();
    assert!(notes.contains("America/Chicago"), "{notes}");

    let (status, audit) = app.get("/api/qbr/audit?limit=20").await;
    assert_eq!(status, 200);
    let entries: Vec<&Value> = audit["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "settings.update")
        .collect();
    assert_eq!(entries.len(), 2, "{audit}");
    let details = entries
        .iter()
        .map(|e| e["details"].to_string())
        .collect::<String>();
    assert!(details.contains("America/New_York") && details.contains("05:45"));
}

#[tokio::test(flavor = "multi_thread")]
async fn excluded_device_organizations_apply_to_collect_now() {
    let ninja = FakeNinja::start(ninja_data()).await;
    let app = TestApp::spawn_with_extras(Extras {
        collectors: Some(config(None, Some(&ninja))),
        ..Extras::default()
    })
    .await;
    collect_now(&app).await;
    let first = clients(&app).await;
    assert!(first.contains(&"Beta Law".to_string()), "{first:?}");
    assert!(!first.contains(&"Ener Systems".to_string()), "{first:?}");

    let (status, _) = app
        .put(
            SETTINGS,
            &json!({"excluded_device_organizations": ["Ener Systems", "Internal Infrastructure", "Beta Law"]}),
        )
        .await;
    assert_eq!(status, 200);
    collect_now(&app).await;
    let second = clients(&app).await;
    assert!(!second.contains(&"Beta Law".to_string()), "{second:?}");
    assert_eq!(second.len() + 1, first.len(), "{first:?} → {second:?}");
}

/// The client organizations of the month's device snapshot.
async fn clients(app: &TestApp) -> Vec<String> {
    let (status, body) = app.get("/api/qbr/devices-by-client").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organization"].as_str().unwrap().to_string())
        .collect()
}

/// Collect now, to its successful end.
async fn collect_now(app: &TestApp) {
    let (status, started) = app.post("/api/qbr/collection/runs", &json!({})).await;
    assert_eq!(status, 202, "{started}");
    let id = started["data"]["run_id"].as_i64().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, run) = app.get(&format!("/api/qbr/collection/runs/{id}")).await;
        if run["data"]["run"]["status"] != "running" {
            assert_eq!(run["data"]["run"]["status"], "success", "{run}");
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
