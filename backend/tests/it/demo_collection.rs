//! `qbr serve --demo` with its simulated vendors (the `demo` feature): the start-up the
//! server runs (`demo::startup::start`) over a fresh database, then the real server
//! with the collectors it returns. The run at start succeeds with the drift and the
//! flag the demo plants and nothing else (the generated vendor data gives back every
//! other closed month's value exactly), writes nothing, fills the devices by client,
//! and Collect now works against the same vendors.
use crate::common::{checksum, Extras, TestApp, TestDb};
use backend::collect::run::{self, RunOptions};
use backend::collect::{CollectorConfig, VendorChoice};
use backend::demo::vendors::{LATE_TICKETS, LATE_TICKETS_MONTHS_AGO};
use backend::demo::{demo_values, startup, DemoValue, INCIDENT};
use qbr_shared::collection::{Outcome, Trigger};
use qbr_shared::Month;
use serde_json::{json, Value};
use std::time::Duration;
use vendor_sim::msp::{CLIENTS, INTERNAL_ORGANIZATIONS};

const RUNS: &str = "/api/qbr/collection/runs";

/// Polls `path` until `done` holds for its data (at most 120 s); the last data.
async fn poll(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body["data"]) {
            return body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn value(values: &[DemoValue], month: Month, metric: &str) -> f64 {
    values
        .iter()
        .find(|v| v.month == month && v.metric == metric)
        .map(|v| v.value)
        .unwrap_or_else(|| panic!("no demo value {month} {metric}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_collects_from_its_simulated_vendors() {
    let db = TestDb::new().await;
    let demo = startup::start(&db.pool, 1, CollectorConfig::without_vendors())
        .await
        .unwrap();
    assert!(demo.vendors.is_some(), "{}", demo.note);
    assert!(demo.note.starts_with("Simulated vendors"), "{}", demo.note);
    assert_eq!(demo.collectors.vendors.len(), 2);
    let app = TestApp::spawn_on(
        db,
        Extras {
            collectors: Some(demo.collectors.clone()),
            ..Extras::default()
        },
    )
    .await;
    let current = Month::containing(chrono::Utc::now(), chrono_tz::America::Chicago);
    let values = demo_values(current);

    // The run at start, as the Collection page lists it.
    let log = poll(&app, "/api/qbr/collection/log", |d| {
        d["runs"]
            .as_array()
            .is_some_and(|r| r.len() == 1 && r[0]["status"] != "running")
    })
    .await;
    let first = &log["runs"][0];
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["trigger"], "schedule");
    assert_eq!(first["vendors"], json!(["connectwise", "ninjaone"]));
    assert_eq!(first["months"].as_array().unwrap().len(), 13);
    assert_eq!(
        first["values_written"], 0,
        "the demo's values stay: {first}"
    );
    let late = current.add_months(-LATE_TICKETS_MONTHS_AGO);
    let stored = value(&values, late, "reactive_tickets_created");
    assert_eq!(
        first["drift"],
        json!([{
            "period": late.to_string(),
            "metric": "reactive_tickets_created",
            "stored": stored,
            "collected": stored + f64::from(LATE_TICKETS),
        }]),
        "only the late tickets drift: {first}"
    );
    let incident = current.add_months(-INCIDENT);
    assert_eq!(
        first["flags"],
        json!([{
            "period": incident.to_string(),
            "metric": "reactive_time_spent",
            "value": value(&values, incident, "reactive_time_spent"),
            "flags": ["warning"],
            "outcome": "frozen",
        }]),
        "only the incident is flagged: {first}"
    );

    // Every month's collected values are the demo's, as loaded.
    for month in (0..24).map(|k| current.add_months(-k)) {
        let (status, body) = app
            .get(&format!("/api/qbr/metrics/monthly?period={month}"))
            .await;
        assert_eq!(status, 200, "{body}");
        let collected: Vec<&Value> = body["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["data_source"] == "collected")
            .collect();
        assert_eq!(collected.len(), 5, "{month}: {body}");
        for m in collected {
            let key = m["metric_name"].as_str().unwrap();
            assert_eq!(
                m["value"],
                json!(value(&values, month, key)),
                "{month} {key}"
            );
        }
    }

    // The companies are the clients: the two Hill Country companies one client, the
    // MSP internal, NinjaOne's organizations linked to them by name.
    let (status, body) = app.get("/api/qbr/clients").await;
    assert_eq!(status, 200, "{body}");
    let clients = body["data"]["clients"].as_array().unwrap();
    assert!(clients.len() >= 10, "{body}");
    let hill = clients
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("Hill Country"))
        .unwrap();
    let cw_links = hill["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["vendor"] == "connectwise")
        .count();
    assert_eq!(cw_links, 2, "{hill}");
    assert!(body["data"]["internal"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "Ener Systems, LLC"));

    // The ransomware month is one client's: its reactive hours are the clients' most
    // unusual hours of that month (strongest first).
    let (status, body) = app
        .get(&format!(
            "/api/qbr/clients/anomalies?from={incident}&to={incident}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let hours: Vec<&Value> = body["data"]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["anomaly"]["key"] == "reactive_hours")
        .collect();
    assert_eq!(hours.len(), 1, "{body}");
    assert_eq!(
        hours[0]["client_name"], "Magnolia Family Medicine",
        "{body}"
    );
    assert_eq!(hours[0]["anomaly"]["direction"], "above");

    // What the vendors say of each month of the window, read again without writing:
    // the demo's values, but for the late tickets.
    let report = run::run(
        &app.db.pool,
        &demo.collectors,
        &RunOptions {
            organization_id: 1,
            trigger: Trigger::Cli,
            vendors: VendorChoice::All,
            months: None,
            force: false,
            dry_run: true,
        },
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        report.values.len(),
        13 * 3 + 2,
        "3 ticket metrics a month, today's devices"
    );
    for v in &report.values {
        let month: Month = v.period.parse().unwrap();
        let expected = value(&values, month, &v.metric)
            + if month == late && v.metric == "reactive_tickets_created" {
                f64::from(LATE_TICKETS)
            } else {
                0.0
            };
        assert_eq!(v.value, expected, "{} {}", v.period, v.metric);
        let outcome = if month < current {
            Outcome::Frozen
        } else {
            Outcome::Unchanged
        };
        assert_eq!(v.outcome, outcome, "{} {}", v.period, v.metric);
    }

    // Today's devices by client: the clients, not the MSP's own organizations.
    let devices = poll(&app, "/api/qbr/devices-by-client", |_| true).await;
    let mut names: Vec<&str> = devices["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organization"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let clients: Vec<&str> = CLIENTS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, clients, "{devices}");
    assert!(INTERNAL_ORGANIZATIONS.iter().all(|o| !names.contains(o)));
    assert_eq!(
        devices["total_endpoints"],
        json!(value(&values, current, "endpoints_managed") as i64)
    );
    assert_eq!(
        devices["total_seats"],
        json!(value(&values, current, "seats_managed") as i64)
    );
    let sum = |key: &str| -> i64 {
        devices["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[key].as_i64().unwrap())
            .sum()
    };
    assert_eq!(json!(sum("endpoints")), devices["total_endpoints"]);
    assert_eq!(json!(sum("seats")), devices["total_seats"]);

    // Collect now, with no account anywhere: the same vendors, the same outcome, and
    // the data (values, SmartNumbers, history) as it was.
    let before = checksum(&app.db).await;
    let (status, started) = app.post(RUNS, &json!({})).await;
    assert_eq!(status, 202, "{started}");
    let id = started["data"]["run_id"].as_i64().unwrap();
    let ended = poll(&app, &format!("{RUNS}/{id}"), |d| {
        d["run"]["status"] != "running"
    })
    .await;
    assert_eq!(ended["run"]["status"], "success", "{ended}");
    assert_eq!(ended["run"]["trigger"], "api");
    assert_eq!(ended["run"]["drift"], first["drift"]);
    assert_eq!(ended["run"]["flags"], first["flags"]);
    assert_eq!(ended["run"]["values_written"], 0);
    assert_eq!(
        checksum(&app.db).await,
        before,
        "closed months stay as loaded"
    );
}
