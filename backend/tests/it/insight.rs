//! Insight over real HTTP on the demo's two years of data: the deliberate incident
//! found as an anomaly, the forecast of the quarter in progress and of an ended quarter,
//! the health score falling when a number's bands put it in the red, goals (audited,
//! admins only, bad ones refused changing nothing) and the summary in words.
use crate::common::*;
use qbr_shared::clients::ClientMetric;
use qbr_shared::Month;
use serde_json::{json, Value};

/// The server with the demo's data loaded; its month in progress.
async fn demo_app() -> (TestApp, Month) {
    let app = TestApp::spawn().await;
    let mut conn = app.db.conn().await;
    let written = backend::demo::load::load_if_empty(&mut conn, 1)
        .await
        .unwrap();
    assert!(written > 0);
    let current = {
        let org = backend::store::org::load(&mut conn, 1)
            .await
            .unwrap()
            .unwrap();
        org.current_month(chrono::Utc::now())
    };
    (app, current)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn the_demos_incident_is_an_anomaly_with_its_typical_range() {
    let (app, current) = demo_app().await;
    // The demo's ransomware clean-up: five months back, reactive hours 70 % up.
    let incident = current.add_months(-5);
    let (from, to) = (current.add_months(-8), current.add_months(-1));
    let (status, body) = app
        .get(&format!("/api/qbr/anomalies?from={from}&to={to}"))
        .await;
    assert_eq!(status, 200, "{body}");
    let list = body["data"]["anomalies"].as_array().unwrap();
    let hours = list
        .iter()
        .find(|a| a["key"] == "reactive_time_spent" && a["month"] == incident.to_string())
        .unwrap_or_else(|| panic!("the incident is not found: {body}"));
    assert_eq!(hours["kind"], "input");
    assert_eq!(hours["direction"], "above");
    assert!(f(&hours["score"]) > f(&body["data"]["threshold"]));
    assert!(f(&hours["value"]) > f(&hours["typical_high"]));
    let text = hours["explanation"].as_str().unwrap();
    assert!(text.contains(&incident.label()), "{text}");
    assert!(text.contains("typical"), "{text}");
    // Strongest first.
    let scores: Vec<f64> = list.iter().map(|a| f(&a["score"]).abs()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The month before the incident is ordinary for reactive hours.
    let before = incident.add_months(-1).to_string();
    assert!(!list
        .iter()
        .any(|a| a["key"] == "reactive_time_spent" && a["month"] == before));
    // Lost MRR is never negative in the demo: its unusual months' typical ranges start
    // at $0, not below.
    let (_, all) = app
        .get(&format!(
            "/api/qbr/anomalies?from={}&to={to}",
            current.add_months(-22)
        ))
        .await;
    let lost: Vec<&Value> = all["data"]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"] == "lost_mrr")
        .collect();
    assert!(!lost.is_empty(), "{all}");
    assert!(lost.iter().all(|a| f(&a["typical_low"]) >= 0.0), "{lost:?}");
    // Bad ranges are refused.
    let resp = app
        .get(&format!("/api/qbr/anomalies?from={to}&to={from}"))
        .await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
    let resp = app.get("/api/qbr/anomalies?from=2019-01&to=2026-01").await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
}

#[tokio::test]
async fn the_quarter_in_progress_is_forecast_and_an_ended_one_is_its_actuals() {
    let (app, current) = demo_app().await;
    let (status, body) = app.get("/api/qbr/forecast").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["period"], current.quarter().to_string());
    let numbers = data["numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 18);
    let forecast: Vec<&Value> = numbers
        .iter()
        .filter(|n| !n["expected"].is_null())
        .collect();
    assert!(forecast.len() >= 12, "{body}");
    for n in &forecast {
        let (low, mid, high) = (f(&n["low"]), f(&n["expected"]), f(&n["high"]));
        assert!(low <= mid + 1e-9 && mid <= high + 1e-9, "{n}");
    }
    // The quarter before has ended: its forecast is what it was.
    let ended = current.quarter().prev();
    let (status, body) = app.get(&format!("/api/qbr/forecast?period={ended}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["months_elapsed"], 3);
    for n in body["data"]["numbers"].as_array().unwrap() {
        let (Some(expected), Some(actual)) = (n["expected"].as_f64(), n["so_far"].as_f64()) else {
            continue;
        };
        assert!(
            (expected - actual).abs() <= 1e-6 * actual.abs().max(1.0),
            "{n}"
        );
        assert!((f(&n["high"]) - f(&n["low"])).abs() < 1e-9, "{n}");
    }
    // A quarter that has not started, or a month, is refused.
    let next = current.quarter().next();
    let resp = app.get(&format!("/api/qbr/forecast?period={next}")).await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
    let resp = app
        .get(&format!("/api/qbr/forecast?period={current}"))
        .await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
}

#[tokio::test]
async fn the_health_score_falls_when_a_number_turns_red() {
    let (app, current) = demo_app().await;
    let quarter = current.quarter().prev();
    let last = quarter.months()[2];
    let score = |body: &Value| {
        body["data"]["quarters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["period"] == quarter.to_string())
            .map(|q| q["health"]["score"].as_f64())
            .unwrap()
    };
    let path = format!(
        "/api/qbr/health-score?from={}&to={last}",
        last.add_months(-11)
    );
    let (status, before) = app.get(&path).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["data"]["months"].as_array().unwrap().len(), 12);
    let s0 = score(&before).unwrap();
    assert!((0.0..=100.0).contains(&s0), "{s0}");
    assert!(before["data"]["definition"].as_str().unwrap().len() > 40);
    // Net profit % judged against a bar it cannot reach: red, and the score drops.
    let bands = json!({"metric_name": "net_profit_pct",
        "green_min": 0.9, "green_max": null, "yellow_min": 0.8, "yellow_max": null});
    let (status, body) = app.post("/api/qbr/thresholds", &bands).await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = app.get(&path).await;
    let s1 = score(&after).unwrap();
    assert!(s1 < s0, "{s1} not below {s0}");
    let section = |body: &Value, name: &str| {
        let q = body["data"]["quarters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["period"] == quarter.to_string())
            .unwrap()
            .clone();
        q["health"]["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["category"] == name)
            .unwrap()["score"]
            .as_f64()
    };
    assert!(section(&after, "Profit").unwrap() < section(&before, "Profit").unwrap());
    assert_eq!(
        section(&after, "Operations"),
        section(&before, "Operations")
    );
    // Weights are a setting: all on Operations, the score is that section's.
    let weights = json!({"health_weights": {"operations": 100, "profit": 0, "revenue": 0, "leverage": 0, "sales": 0}});
    let (status, body) = app.put("/api/qbr/settings", &weights).await;
    assert_eq!(status, 200, "{body}");
    let (_, only_operations) = app.get(&path).await;
    let q = only_operations["data"]["quarters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["period"] == quarter.to_string())
        .unwrap()
        .clone();
    let operations = section(&only_operations, "Operations").unwrap();
    assert!((f(&q["health"]["score"]) - operations).abs() < 1e-9, "{q}");
    let before = checksum(&app.db).await;
    let zero = json!({"health_weights": {"operations": 0, "profit": 0, "revenue": 0, "leverage": 0, "sales": 0}});
    let resp = app.put("/api/qbr/settings", &zero).await;
    assert_error(&resp, 400, "INVALID_BODY");
    assert_eq!(checksum(&app.db).await, before);
}

#[tokio::test]
async fn goals_are_set_by_admins_checked_audited_and_shown_with_progress() {
    let (app, current) = demo_app().await;
    let year = current.year().to_string();
    let goal = json!({"key": "net_profit_pct", "period": year, "target": 0.5});
    let (status, body) = app.put("/api/qbr/goals", &goal).await;
    assert_eq!(status, 200, "{body}");
    let g = &body["data"]["goals"][0];
    assert_eq!(g["key"], "net_profit_pct");
    assert_eq!(g["period"], year);
    assert_eq!(f(&g["target"]), 0.5);
    // The demo's profit is far below 50 %: not met, a positive gap, a sentence.
    assert_eq!(g["progress"]["met"], false, "{g}");
    assert!(f(&g["progress"]["gap"]) > 0.0);
    assert!(g["sentence"].as_str().unwrap().contains("goal"), "{g}");
    let (_, audit) = app.get("/api/qbr/audit?limit=1").await;
    assert_eq!(audit["data"]["entries"][0]["action"], "goals.update");

    // Bad goals change nothing.
    let key = create_api_key(&app.db, "writer", "write").await;
    let before = checksum(&app.db).await;
    for bad in [
        json!({"key": "nope", "period": year, "target": 1.0}),
        json!({"key": "tickets_per_tech_per_month", "period": year, "target": 40.0}),
        json!({"key": "net_profit_pct", "period": current.to_string(), "target": 0.2}),
        json!({"key": "net_profit_pct", "period": "2026-Q9", "target": 0.2}),
        json!({"key": "net_profit_pct", "period": year, "target": 1e21}),
        json!({"key": "rhem", "period": year, "target": -1.0}),
    ] {
        let resp = app.put("/api/qbr/goals", &bad).await;
        assert_error(&resp, 400, "INVALID_BODY");
    }
    // An editor's key may not set goals.
    let res = reqwest::Client::new()
        .put(app.url("/api/qbr/goals"))
        .header("x-api-key", &key)
        .json(&goal)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(checksum(&app.db).await, before);

    // Removed with a null target; removing again is not found.
    let off = json!({"key": "net_profit_pct", "period": year, "target": null});
    let (status, body) = app.put("/api/qbr/goals", &off).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["goals"].as_array().unwrap().is_empty());
    let resp = app.put("/api/qbr/goals", &off).await;
    assert_error(&resp, 404, "NOT_FOUND");
}

#[tokio::test]
async fn the_summary_names_the_score_the_incident_and_the_goals() {
    let (app, current) = demo_app().await;
    let incident = current.add_months(-5);
    let goal =
        json!({"key": "net_profit_pct", "period": incident.quarter().to_string(), "target": 0.5});
    assert_eq!(app.put("/api/qbr/goals", &goal).await.0, 200);
    let (status, body) = app
        .get(&format!("/api/qbr/summary?period={incident}"))
        .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let sentences: Vec<&str> = data["summary"]["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let score = f(&data["health"]["score"]).round();
    assert!(
        sentences[0].starts_with("The health score is")
            && sentences[0].contains(&format!("{score}")),
        "{sentences:?}"
    );
    let text = data["summary"]["text"].as_str().unwrap();
    assert!(
        text.contains(&incident.label()) && text.contains("typical"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("goal"), "{text}");
    // The same data gives the same words.
    let (_, again) = app
        .get(&format!("/api/qbr/summary?period={incident}"))
        .await;
    assert_eq!(again["data"]["summary"], data["summary"]);

    // The printable report of the incident's quarter opens with them, and lists the
    // unusual values; the quarter in progress's says where each number is heading.
    let text = report_text(&app, incident.quarter(), "insight-report").await;
    assert!(text.contains("Summary · health score"), "{text}");
    assert!(text.contains("Unusual values"), "{text}");
    let text = report_text(&app, current.quarter(), "insight-report-in-progress").await;
    assert!(text.contains("Where the quarter is heading"), "{text}");
    assert!(text.contains("on track for"), "{text}");
}

/// The organization's report of `quarter` as text; its first page rendered into
/// `target/screenshots/{name}-1.png` to be looked at.
async fn report_text(app: &TestApp, quarter: qbr_shared::Quarter, name: &str) -> String {
    let res = app
        .http
        .get(app.url(&format!("/api/qbr/report?period={quarter}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let pdf = res.bytes().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    let _ = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(dir.join(name))
        .status();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two clients' history up to `spike`: "Steady Dental" (about ten reactive tickets and
/// twenty hours a month on 40 endpoints) with a spike in `spike`, and "Quiet Law" (one
/// ticket in fourteen months, on five endpoints) with one ticket and a sixth endpoint
/// then. Rows of (client, month, metric, value); the quiet client's ticket is in the
/// seventh month.
pub(crate) fn client_history(spike: Month) -> Vec<(&'static str, Month, ClientMetric, f64)> {
    use ClientMetric::{Endpoints, ReactiveHours, ReactiveTicketsCreated as Tickets};
    let tickets = [10, 12, 9, 11, 10, 13, 9, 10, 12, 11, 10, 9, 11, 12];
    let mut rows = Vec::new();
    for (i, t) in tickets.iter().enumerate() {
        let month = spike.add_months(i32::try_from(i).unwrap() - 14);
        let t = f64::from(*t);
        let quiet = if i == 6 { 1.0 } else { 0.0 };
        rows.extend([
            ("Steady Dental", month, Tickets, t),
            ("Steady Dental", month, ReactiveHours, t * 2.0 + 0.5),
            ("Steady Dental", month, Endpoints, 40.0),
            ("Quiet Law", month, Tickets, quiet),
            ("Quiet Law", month, Endpoints, 5.0),
        ]);
    }
    rows.extend([
        ("Steady Dental", spike, Tickets, 31.0),
        ("Steady Dental", spike, ReactiveHours, 64.0),
        ("Steady Dental", spike, Endpoints, 40.0),
        ("Quiet Law", spike, Tickets, 1.0),
        ("Quiet Law", spike, Endpoints, 6.0),
    ]);
    rows
}

#[tokio::test]
async fn a_clients_unusual_month_is_found_against_its_own_history() {
    // The demo's organization-level months (the report needs them); no client's.
    let (app, _) = demo_app().await;
    let mut csv = String::from("client,month,metric,value\n");
    for (client, month, metric, value) in client_history(Month::new(2026, 3).unwrap()) {
        csv += &format!("{client},{month},{},{value}\n", metric.as_str());
    }
    let (status, body) = crate::clients::import(
        &app,
        "commit=true&create_clients=true",
        "history.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, clients) = app.get("/api/qbr/clients").await;
    let id_of = |name: &str| {
        clients["data"]["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {clients}"))["id"]
            .as_i64()
            .unwrap()
    };
    let (steady, quiet) = (id_of("Steady Dental"), id_of("Quiet Law"));

    let (status, body) = app
        .get("/api/qbr/clients/anomalies?from=2026-01&to=2026-03")
        .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["clients_scored"], 2, "{body}");
    let list = data["anomalies"].as_array().unwrap();
    // Only March's spike, and only Steady Dental's: the quiet client's one ticket and
    // sixth endpoint are chance for a client that small.
    assert!(
        list.iter()
            .all(|a| a["client_id"] == steady && a["anomaly"]["month"] == "2026-03"),
        "{body}"
    );
    let of = |key: &str| {
        list.iter()
            .map(|a| &a["anomaly"])
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("no {key} anomaly: {body}"))
    };
    let tickets = of("reactive_tickets_created");
    assert_eq!(tickets["kind"], "client_metric");
    assert_eq!(tickets["direction"], "above");
    assert_eq!(f(&tickets["value"]), 31.0);
    assert!(f(&tickets["typical_high"]) < 31.0 && f(&tickets["typical_low"]) >= 0.0);
    let text = tickets["explanation"].as_str().unwrap();
    assert!(
        text.starts_with("Reactive tickets created in Mar 2026: 31, typical"),
        "{text}"
    );
    let rhem = of("rhem");
    assert_eq!(rhem["kind"], "client_number");
    assert!((f(&rhem["value"]) - 1.6).abs() < 1e-9, "{rhem}");
    // A ratio's typical range keeps its decimals (a count's is in whole numbers).
    let per_endpoint = of("tickets_per_endpoint")["explanation"].as_str().unwrap();
    let typical = per_endpoint.split("typical ").nth(1).unwrap();
    assert!(typical.contains(" – 0.5"), "{per_endpoint}");
    assert_eq!(list[0]["client_name"], "Steady Dental");
    let scores: Vec<f64> = list
        .iter()
        .map(|a| f(&a["anomaly"]["score"]).abs())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Endpoints did not move: not unusual.
    assert!(!list.iter().any(|a| a["anomaly"]["key"] == "endpoints"));

    // The organization's report of the quarter lists them under the summary, one line
    // per client and month: the strongest explained, the others named after it.
    let text = report_text(&app, "2026-Q1".parse().unwrap(), "insight-report-clients").await;
    assert!(text.contains("Clients' unusual months"), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let strongest = list[0]["anomaly"]["explanation"].as_str().unwrap();
    assert!(
        flat.contains(&format!("Steady Dental: {strongest}")),
        "{text}"
    );
    assert_eq!(flat.matches("Steady Dental: ").count(), 1, "{text}");
    assert!(
        flat.contains("Also unusual: ") && flat.contains("Reactive tickets created"),
        "{text}"
    );

    // One client's: the same anomalies, its own only.
    let (status, one) = app
        .get(&format!(
            "/api/qbr/clients/{steady}/anomalies?from=2026-01&to=2026-03"
        ))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["data"]["client_id"], steady);
    assert_eq!(one["data"]["anomalies"], data["anomalies"]);
    let (_, none) = app
        .get(&format!(
            "/api/qbr/clients/{quiet}/anomalies?from=2026-01&to=2026-03"
        ))
        .await;
    assert_eq!(none["data"]["anomalies"], json!([]), "{none}");
    assert_eq!(none["data"]["clients_scored"], 1);
    // The months before the spike are ordinary, even for the quiet client's one ticket
    // (July 2025) — which its history alone (a MAD of 0) would have flagged.
    let (_, before) = app
        .get("/api/qbr/clients/anomalies?from=2025-07&to=2026-02")
        .await;
    assert_eq!(before["data"]["anomalies"], json!([]), "{before}");

    // No such client, a reversed or too long range: refused, nothing changed.
    let sum = checksum(&app.db).await;
    let resp = app
        .get(&format!("/api/qbr/clients/{}/anomalies", steady + quiet))
        .await;
    assert_error(&resp, 404, "NOT_FOUND");
    let resp = app
        .get("/api/qbr/clients/anomalies?from=2026-03&to=2026-01")
        .await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
    let resp = app
        .get(&format!(
            "/api/qbr/clients/{steady}/anomalies?from=2019-01&to=2026-03"
        ))
        .await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
    let resp = app.get("/api/qbr/clients/0/anomalies").await;
    assert_error(&resp, 400, "INVALID_PARAMETER");
    assert_eq!(checksum(&app.db).await, sum);
}
