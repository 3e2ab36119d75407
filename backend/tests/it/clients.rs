//! Clients across vendors: the registry filled by collection (entities linked by
//! name, internal organizations told apart, unmatched ones listed), the matching API
//! (checked whole, audited, confirmed links kept by later runs), per-client device
//! values per month, and the ranking whose totals reconcile with the organization's.

use crate::collect_data::{config, ninja_data};
use crate::common::*;
use backend::collect::run::{self, RunOptions};
use backend::collect::VendorChoice;
use qbr_shared::collection::Trigger;
use qbr_shared::Month;
use serde_json::{json, Value};
use test_support::vendors::FakeNinja;

fn this_month() -> Month {
    Month::containing(chrono::Utc::now(), chrono_tz::America::Chicago)
}

async fn collect_ninja(app: &TestApp, ninja: &FakeNinja) {
    let cfg = config(None, Some(ninja));
    let m = this_month();
    let opts = RunOptions {
        organization_id: 1,
        trigger: Trigger::Cli,
        vendors: VendorChoice::Only(qbr_shared::Vendor::NinjaOne),
        months: Some((m, m)),
        force: false,
        dry_run: false,
    };
    run::run(&app.db.pool, &cfg, &opts, &|_, _| {})
        .await
        .unwrap();
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

fn input(row: &Value, metric: &str) -> Option<f64> {
    row["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == metric)
        .and_then(|i| i["value"].as_f64())
}

#[tokio::test]
async fn without_a_psa_device_organizations_are_the_clients() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    collect_ninja(&app, &ninja).await;

    let (status, body) = app.get("/api/qbr/clients").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(
        names(&data["clients"]),
        ["Acme Dental", "Beta Law", "Gamma Co"]
    );
    // The defaults of the exclusion list are the MSP's own: internal, no client.
    assert_eq!(
        names(&data["internal"]),
        ["Ener Systems", "Internal Infrastructure"]
    );
    assert_eq!(data["unmatched"], json!([]));
    let acme = &data["clients"][0];
    assert_eq!(acme["entities"][0]["vendor"], "ninjaone");
    assert_eq!(acme["entities"][0]["external_id"], "1");
    assert_eq!(acme["entities"][0]["status"], "proposed");
    assert_eq!(acme["confirmed"], false);

    // This month's devices per client (the exclusion rules of the organization's
    // count), adding up to the organization's 1,205 endpoints and 1,203 seats.
    let period = this_month().to_string();
    let (status, body) = app
        .get(&format!("/api/qbr/clients/ranking?period={period}&by=rhem"))
        .await;
    assert_eq!(status, 200, "{body}");
    let rows = body["data"]["rows"].as_array().unwrap();
    let by_name = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap();
    assert_eq!(input(by_name("Acme Dental"), "endpoints"), Some(3.0));
    assert_eq!(input(by_name("Acme Dental"), "seats"), Some(1.0));
    assert_eq!(input(by_name("Beta Law"), "endpoints"), Some(2.0));
    assert_eq!(input(by_name("Beta Law"), "seats"), Some(2.0));
    assert_eq!(input(by_name("Gamma Co"), "endpoints"), Some(1200.0));
    assert_eq!(input(&body["data"]["totals"], "endpoints"), Some(1205.0));
    let recon = body["data"]["reconciliation"].as_array().unwrap();
    let endpoints = recon.iter().find(|r| r["metric"] == "endpoints").unwrap();
    assert_eq!(
        (
            endpoints["organization"].as_f64(),
            endpoints["clients"].as_f64()
        ),
        (Some(1205.0), Some(1205.0)),
        "{endpoints}"
    );
    let seats = recon.iter().find(|r| r["metric"] == "seats").unwrap();
    assert_eq!(seats["organization"].as_f64(), Some(1203.0));
    assert_eq!(seats["clients"].as_f64(), Some(1203.0));

    // One client's months: its inputs, numbers judged, no per-endpoint number without
    // tickets or hours.
    let id = by_name("Gamma Co")["client_id"].as_i64().unwrap();
    let (status, body) = app
        .get(&format!(
            "/api/qbr/clients/{id}/metrics?from={period}&to={period}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let month = &body["data"]["months"][0];
    assert_eq!(month["period"], period);
    assert_eq!(input(month, "seats"), Some(1200.0));
    let rhem = month["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "rhem")
        .unwrap();
    assert_eq!(rhem["value"], Value::Null);
    assert_eq!(rhem["status"], "none");
}

#[tokio::test]
async fn matching_changes_are_checked_whole_audited_and_kept() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    collect_ninja(&app, &ninja).await;
    let (_, body) = app.get("/api/qbr/clients").await;
    let acme_id = body["data"]["clients"][0]["id"].as_i64().unwrap();

    // One bad change refuses them all.
    let before = checksum(&app.db).await;
    for (changes, why) in [
        (
            json!([{"vendor": "ninjaone", "external_id": "5", "new_client": "Gamma Company"},
                   {"vendor": "ninjaone", "external_id": "999"}]),
            "No NinjaOne entity with id 999",
        ),
        (
            json!([{"vendor": "ninjaone", "external_id": "5", "client_id": 424242}]),
            "No client with id 424242",
        ),
        (
            json!([{"vendor": "ninjaone", "external_id": "5", "client_id": acme_id, "new_client": "X"}]),
            "not both",
        ),
        (
            json!([{"vendor": "ninjaone", "external_id": "5", "new_client": "  "}]),
            "1 to 200 characters",
        ),
    ] {
        let resp = app
            .put("/api/qbr/clients/matching", &json!({ "changes": changes }))
            .await;
        assert_error(&resp, 400, "INVALID_BODY");
        let message = resp.1["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
    }
    let resp = app
        .put("/api/qbr/clients/matching", &json!({"changes": []}))
        .await;
    assert_error(&resp, 400, "INVALID_BODY");
    assert_eq!(checksum(&app.db).await, before, "nothing changed");

    // Gamma Co's organization becomes "Gamma Company"'s; Beta Law's is no client.
    let (status, body) = app
        .put(
            "/api/qbr/clients/matching",
            &json!({"changes": [
                {"vendor": "ninjaone", "external_id": "5", "new_client": "Gamma Company"},
                {"vendor": "ninjaone", "external_id": "2"},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let gamma = data["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Gamma Company")
        .unwrap();
    assert_eq!(gamma["entities"][0]["status"], "confirmed");
    assert_eq!(gamma["confirmed"], true);
    assert!(gamma["entities"][0]["confirmed_by"].is_string());
    assert_eq!(names(&data["unmatched"]), ["Beta Law"]);
    let (_, audit) = app.get("/api/qbr/audit?limit=5").await;
    let last = &audit["data"]["entries"][0];
    assert_eq!(last["action"], "clients.match", "{audit}");

    // A later run keeps what a person decided.
    collect_ninja(&app, &ninja).await;
    let (_, body) = app.get("/api/qbr/clients").await;
    assert_eq!(names(&body["data"]["unmatched"]), ["Beta Law"]);
    let period = this_month().to_string();
    let (_, ranking) = app
        .get(&format!("/api/qbr/clients/ranking?period={period}"))
        .await;
    let rows = ranking["data"]["rows"].as_array().unwrap();
    let gamma = rows.iter().find(|r| r["name"] == "Gamma Company").unwrap();
    assert_eq!(input(gamma, "endpoints"), Some(1200.0));
    // Gamma Co (the client collection made) has nothing left.
    let old = rows.iter().find(|r| r["name"] == "Gamma Co").unwrap();
    assert_eq!(input(old, "endpoints"), None);
    // Beta Law's devices are the unmatched share of the organization's.
    let recon = ranking["data"]["reconciliation"].as_array().unwrap();
    let endpoints = recon.iter().find(|r| r["metric"] == "endpoints").unwrap();
    assert_eq!(endpoints["clients"].as_f64(), Some(1203.0));
    assert_eq!(endpoints["unmatched"].as_f64(), Some(2.0));
    assert_eq!(endpoints["organization"].as_f64(), Some(1205.0));

    // Confirm the rest as proposed.
    let (status, body) = app
        .put(
            "/api/qbr/clients/matching",
            &json!({"confirm_proposed": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["confirmed"] == true));
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let app = TestApp::spawn().await;
    let mut conn = app.db.conn().await;
    let id =
        backend::store::clients::create_client(&mut conn, 1, "Acme", "test", chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(id, 1);
    for (path, code, status) in [
        ("/api/qbr/clients/ranking", "INVALID_PARAMETER", 400),
        (
            "/api/qbr/clients/ranking?period=2025-13",
            "INVALID_PERIOD",
            400,
        ),
        (
            "/api/qbr/clients/ranking?period=2025-Q1&by=nonsense",
            "INVALID_PARAMETER",
            400,
        ),
        (
            "/api/qbr/clients/1/metrics?from=2025-01",
            "INVALID_PARAMETER",
            400,
        ),
        (
            "/api/qbr/clients/1/metrics?from=2025-03&to=2025-01",
            "INVALID_PARAMETER",
            400,
        ),
        (
            "/api/qbr/clients/0/metrics?from=2025-01&to=2025-03",
            "INVALID_PARAMETER",
            400,
        ),
        (
            "/api/qbr/clients/77/metrics?from=2025-01&to=2025-03",
            "NOT_FOUND",
            404,
        ),
    ] {
        let resp = app.get(path).await;
        assert_error(&resp, status, code);
    }
    let (status, body) = app.get("/api/qbr/clients/ranking?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    // A client without data: listed, nothing judged.
    let row = &body["data"]["rows"][0];
    assert_eq!(
        (row["name"].as_str(), row["inputs"].clone()),
        (Some("Acme"), json!([]))
    );
    assert!(row["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == "none"));
    assert_eq!(body["data"]["by"], "rhem");
}

const BOUNDARY: &str = "qbr-client-import-5c2";

/// Uploads per-client history to `/api/qbr/clients/import?{query}`.
pub(crate) async fn import(app: &TestApp, query: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    app.post_raw(
        &format!("/api/qbr/clients/import?{query}"),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        body,
    )
    .await
}

/// A workbook of per-client history: the header row, then the rows given.
fn workbook(rows: &[(&str, &str, &str, f64)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Client", "Month", "Metric", "Value"].iter().enumerate() {
        sheet
            .write_string(0, u16::try_from(c).unwrap(), *h)
            .unwrap();
    }
    for (r, (client, month, metric, value)) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap();
        sheet.write_string(r, 0, *client).unwrap();
        sheet.write_string(r, 1, *month).unwrap();
        sheet.write_string(r, 2, *metric).unwrap();
        sheet.write_number(r, 3, *value).unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn client_history_is_imported_before_collection() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    collect_ninja(&app, &ninja).await;
    let csv = "client,month,metric,value\n\
               ACME DENTAL INC.,2024-11,revenue,\"$6,000\"\n\
               Acme Dental,2024-11,service_hours,40\n\
               Acme Dental,2024-12,Revenue,6500\n\
               Delta Vet,2024-12,revenue,900\n";
    // An unknown client is refused unless asked to create it; nothing changes.
    let before = checksum(&app.db).await;
    let resp = import(&app, "commit=true", "history.csv", csv.as_bytes()).await;
    assert_error(&resp, 400, "INVALID_BODY");
    assert!(resp.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'Delta Vet'"));
    // A bad row names its place; nothing changes.
    let bad = "client,month,metric,value\nAcme Dental,2024-11,service_hours,-1\n";
    let resp = import(&app, "commit=true", "bad.csv", bad.as_bytes()).await;
    assert_error(&resp, 400, "INVALID_BODY");
    assert!(resp.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("row 2, column D"));
    // A preview writes nothing either.
    let (status, body) = import(&app, "create_clients=true", "history.csv", csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["committed"], false);
    assert_eq!(body["data"]["created_count"], 4);
    assert_eq!(body["data"]["new_clients"], json!(["Delta Vet"]));
    assert_eq!(checksum(&app.db).await, before, "nothing changed");

    let (status, body) = import(
        &app,
        "commit=true&create_clients=true",
        "history.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["committed"], true);
    let (_, clients) = app.get("/api/qbr/clients").await;
    let acme = clients["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Acme Dental")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = app
        .get(&format!(
            "/api/qbr/clients/{acme}/metrics?from=2024-11&to=2024-12"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let nov = &body["data"]["months"][0];
    assert_eq!(input(nov, "revenue"), Some(6000.0));
    let source = nov["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == "revenue")
        .unwrap()["source"]
        .clone();
    assert_eq!(source, "imported");
    // Revenue over service hours: $150 an hour.
    let rate = nov["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "effective_rate")
        .unwrap();
    assert_eq!(rate["value"].as_f64(), Some(150.0));
    assert_eq!(rate["status"], "green");
    // The quarter adds the months up.
    let q4 = &body["data"]["quarters"][0];
    assert_eq!(q4["period"], "2024-Q4");
    assert_eq!(input(q4, "revenue"), Some(12500.0));

    // The same file again changes nothing; a workbook changes one value.
    let (_, body) = import(
        &app,
        "commit=true&create_clients=true",
        "h.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(
        (
            body["data"]["unchanged_count"].clone(),
            body["data"]["changed_count"].clone()
        ),
        (json!(4), json!(0))
    );
    let xlsx = workbook(&[("Acme Dental", "2024-12", "revenue", 7000.0)]);
    let (status, body) = import(&app, "commit=true", "h.xlsx", &xlsx).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["format"], "xlsx");
    assert_eq!(body["data"]["changed_count"], 1);
    let (_, audit) = app.get("/api/qbr/audit?limit=1").await;
    assert_eq!(audit["data"]["entries"][0]["action"], "clients.import");
}

fn number(row: &Value, key: &str) -> (Option<f64>, String) {
    let n = row["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == key)
        .unwrap();
    (
        n["value"].as_f64(),
        n["status"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn client_numbers_are_judged_by_the_client_s_bands_then_the_organization_s() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    collect_ninja(&app, &ninja).await;
    // Acme Dental: 3 endpoints this month; 0.9 reactive hours typed in → RHEM 0.30 h.
    let period = this_month().to_string();
    let csv = format!("client,month,metric,value\nAcme Dental,{period},reactive_hours,0.9\n");
    let (status, body) = import(&app, "commit=true", "h.csv", csv.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let rhem_of_acme = |ranking: &Value| {
        let rows = ranking["data"]["rows"].as_array().unwrap();
        number(
            rows.iter().find(|r| r["name"] == "Acme Dental").unwrap(),
            "rhem",
        )
    };
    let ranking_path = format!("/api/qbr/clients/ranking?period={period}");
    let (_, ranking) = app.get(&ranking_path).await;
    let (value, status) = rhem_of_acme(&ranking);
    assert!((value.unwrap() - 0.3).abs() < 1e-9);
    assert_eq!(status, "yellow", "the default: green ≤ 0.20, yellow ≤ 0.30");

    // The organization's band for every client: green up to 0.35.
    let (status, body) = app
        .put(
            "/api/qbr/clients/thresholds",
            &json!({"number": "rhem", "bands": {"green_max": 0.35, "yellow_max": 0.5}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["overrides"].as_array().unwrap().len(), 1);
    assert_eq!(rhem_of_acme(&app.get(&ranking_path).await.1).1, "green");
    // Acme's own, stricter: red.
    let (_, clients) = app.get("/api/qbr/clients").await;
    let acme = clients["data"]["clients"][0]["id"].as_i64().unwrap();
    let (status, _) = app
        .put(
            "/api/qbr/clients/thresholds",
            &json!({"client_id": acme, "number": "rhem", "bands": {"green_max": 0.1, "yellow_max": 0.2}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rhem_of_acme(&app.get(&ranking_path).await.1).1, "red");
    let (_, metrics) = app
        .get(&format!(
            "/api/qbr/clients/{acme}/metrics?from={period}&to={period}"
        ))
        .await;
    assert_eq!(number(&metrics["data"]["months"][0], "rhem").1, "red");
    // Bad bands or an unknown client change nothing.
    let before = checksum(&app.db).await;
    for body in [
        json!({"number": "rhem", "bands": {"green_max": 0.5, "yellow_max": 0.2}}),
        json!({"client_id": 999_999, "number": "rhem", "bands": {"green_max": 0.5}}),
        json!({"number": "nonsense", "bands": null}),
    ] {
        let resp = app.put("/api/qbr/clients/thresholds", &body).await;
        assert_error(&resp, 400, "INVALID_BODY");
    }
    assert_eq!(checksum(&app.db).await, before);
    // Removing Acme's brings back the organization's.
    let (status, body) = app
        .put(
            "/api/qbr/clients/thresholds",
            &json!({"client_id": acme, "number": "rhem", "bands": null}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rhem_of_acme(&app.get(&ranking_path).await.1).1, "green");
    let (_, thresholds) = app.get("/api/qbr/clients/thresholds").await;
    // Every number with default bands: service cost and margin in dollars have none.
    assert_eq!(thresholds["data"]["defaults"].as_array().unwrap().len(), 7);
    let (_, audit) = app.get("/api/qbr/audit?limit=1").await;
    assert_eq!(
        audit["data"]["entries"][0]["action"],
        "client_thresholds.update"
    );
}

#[tokio::test]
async fn a_typed_value_wins_over_collection_until_removed() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    collect_ninja(&app, &ninja).await;
    let (_, clients) = app.get("/api/qbr/clients").await;
    let gamma = clients["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Gamma Co")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let period = this_month().to_string();
    let path = format!("/api/qbr/clients/{gamma}/values");
    // Refused whole: a bad month, a negative value, an unknown client.
    let before = checksum(&app.db).await;
    for (p, body, status, code) in [
        (
            path.clone(),
            json!({"month": "2025-13", "metric": "endpoints", "value": 1}),
            400,
            "INVALID_BODY",
        ),
        (
            path.clone(),
            json!({"month": period, "metric": "endpoints", "value": -1}),
            400,
            "INVALID_BODY",
        ),
        (
            path.clone(),
            json!({"month": period, "metric": "nope", "value": 1}),
            400,
            "INVALID_BODY",
        ),
        (
            "/api/qbr/clients/999999/values".to_string(),
            json!({"month": period, "metric": "endpoints", "value": 1}),
            404,
            "NOT_FOUND",
        ),
    ] {
        let resp = app.put(&p, &body).await;
        assert_error(&resp, status, code);
    }
    assert_eq!(checksum(&app.db).await, before);

    // The owners know better: 1,000 endpoints, kept by the next collection.
    let (status, body) = app
        .put(
            &path,
            &json!({"month": period, "metric": "endpoints", "value": 1000}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let month = &body["data"]["months"][0];
    assert_eq!(input(month, "endpoints"), Some(1000.0));
    collect_ninja(&app, &ninja).await;
    let (_, body) = app
        .get(&format!(
            "/api/qbr/clients/{gamma}/metrics?from={period}&to={period}"
        ))
        .await;
    let month = &body["data"]["months"][0];
    assert_eq!(input(month, "endpoints"), Some(1000.0));
    let source = month["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == "endpoints")
        .unwrap()["source"]
        .clone();
    assert_eq!(source, "manual");
    // Removed: the collected 1,200 again.
    let (status, body) = app
        .put(
            &path,
            &json!({"month": period, "metric": "endpoints", "value": null}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(input(&body["data"]["months"][0], "endpoints"), Some(1200.0));
    let (_, audit) = app.get("/api/qbr/audit?limit=1").await;
    assert_eq!(audit["data"]["entries"][0]["action"], "client_value.update");
}
