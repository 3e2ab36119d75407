//! Every boundary (issue 11): text with NUL or control characters is a 400 that changes
//! nothing; the audit log and every read are scoped to the caller's organization;
//! exports neutralize spreadsheet formulas; API answers are never cached; credential
//! precedence; a stalled body is cut; HEAD answers like GET and TRACE is 405.

use crate::common::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use std::time::Duration;

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

const BOUNDARY: &str = "qbr-hardening-boundary";

fn multipart(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn import_csv(app: &TestApp, query: &str, csv: &str) -> (u16, Value) {
    app.post_raw(
        &format!("/api/qbr/import?{query}"),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart("in.csv", csv.as_bytes()),
    )
    .await
}

fn message(resp: &(u16, Value)) -> String {
    resp.1["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn nul_and_control_characters_are_400s_that_change_nothing() {
    let app = TestApp::spawn_with(|_| {
        let mut config = test_auth_config();
        config.dev_login = true;
        config
    })
    .await;
    load_reference(&app).await;
    let before = checksum(&app.db).await;

    // An API key's name: NUL (was a 500 from PostgreSQL), a newline (forged log lines).
    for name in ["a\u{0}b", "line\nINFO forged", "esc\u{1b}[2J"] {
        let resp = app
            .post(
                "/api/admin/api-keys",
                &json!({"name": name, "scope": "read"}),
            )
            .await;
        assert_error(&resp, 400, "INVALID_BODY");
        assert!(message(&resp).contains("name"), "{}", resp.1);
    }
    // Notes of a manual entry: NUL refused, line breaks allowed.
    let entry = |notes: &str| {
        json!({"period": "2025-01", "metrics": [
            {"metric_name": "mrr", "metric_value": 1.0, "notes": notes}]})
    };
    let resp = app
        .post("/api/qbr/metrics/manual", &entry("bad\u{0}note"))
        .await;
    assert_error(&resp, 400, "INVALID_BODY");
    assert!(message(&resp).contains("notes"), "{}", resp.1);
    // Any string of a body, keys too, at the boundary.
    let resp = app
        .post(
            "/api/qbr/thresholds",
            &json!({"metric_name": "rhem\u{0}", "green_min": 1}),
        )
        .await;
    assert_error(&resp, 400, "INVALID_BODY");
    let resp = app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": "2025-01", "metrics": [], "x\u{0}": 1}),
        )
        .await;
    assert_error(&resp, 400, "INVALID_BODY");
    // Query parameters, signed in or not (the development sign-in needs none).
    for path in [
        "/api/auth/dev/login?email=a%00b@example.com",
        "/api/qbr/smartnumbers?period=2025-Q1%00",
        "/api/qbr/metrics/history?period=2025-01&metric_name=mrr%0A",
        "/api/auth/callback?code=x&state=a%00b",
    ] {
        let resp = send(app.anon.get(app.url(path))).await;
        assert_error(&resp, 400, "INVALID_PARAMETER");
        let resp = app.get(path).await;
        assert_error(&resp, 400, "INVALID_PARAMETER");
    }
    // An import's preview and its commit say the same (the preview said "created").
    let csv = "period,metric,value,notes\n2025-01,mrr,5,\"a\u{0}b\"\n";
    for query in ["commit=false", "commit=true"] {
        let resp = import_csv(&app, query, csv).await;
        assert_eq!(resp.0, 400, "{query}: {}", resp.1);
        assert!(message(&resp).contains("notes"), "{}", resp.1);
    }
    assert_eq!(
        checksum(&app.db).await,
        before,
        "a refused request changed data"
    );

    // What the rule allows still works: notes over several lines.
    let resp = app
        .post("/api/qbr/metrics/manual", &entry("first line\nsecond line"))
        .await;
    assert_eq!(resp.0, 200, "{}", resp.1);
}

/// Organization 2 with a read key; organization 1 with data and events that carry
/// `marker` in notes, key names and actors.
async fn two_organizations(app: &TestApp, marker: &str) -> String {
    let mut conn = app.db.conn().await;
    diesel::sql_query(
        "INSERT INTO organization (id, slug, name) VALUES (2, 'other-msp', 'Other MSP')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let other = backend::service::api_keys::create(
        &mut conn,
        2,
        "org2-reader",
        qbr_shared::access::ApiKeyScope::Read,
        None,
        backend::service::Actor {
            name: "tests",
            ip: None,
        },
    )
    .await
    .unwrap()
    .key;
    load_reference(app).await;
    let note = json!({"period": "2025-01", "metrics": [
        {"metric_name": "mrr", "metric_value": 7.0, "notes": format!("{marker} note")}]});
    assert_eq!(app.post("/api/qbr/metrics/manual", &note).await.0, 200);
    create_api_key(&app.db, &format!("{marker}-key"), "write").await;
    let resp = app
        .post(
            "/api/admin/api-keys",
            &json!({"name": format!("{marker}-second"), "scope": "read"}),
        )
        .await;
    assert_eq!(resp.0, 201, "{}", resp.1);
    other
}

#[tokio::test]
async fn the_audit_log_is_scoped_to_the_callers_organization() {
    let app = TestApp::spawn().await;
    let other = two_organizations(&app, "ORGONE").await;

    let (status, audit) = send(
        app.anon
            .get(app.url("/api/qbr/audit?limit=1000"))
            .header("x-api-key", &other),
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    let text = audit.to_string();
    assert!(
        !text.contains("ORGONE"),
        "organization 1's events leak: {text}"
    );
    // Organization 1's own key sees them.
    let own = create_api_key(&app.db, "org1-reader", "read").await;
    let (_, audit) = send(
        app.anon
            .get(app.url("/api/qbr/audit?limit=1000"))
            .header("x-api-key", &own),
    )
    .await;
    assert!(audit.to_string().contains("ORGONE-second"), "{audit}");

    // Sign-ins and sign-outs belong to the server: signed-in users see them, keys don't.
    let token = create_session(&app.db, TEST_USER, 1).await;
    let resp = send(
        app.anon
            .post(app.url("/api/auth/logout"))
            .header("cookie", format!("qbr_session={token}"))
            .header("origin", &app.base),
    )
    .await;
    assert_eq!(resp.0, 200, "{}", resp.1);
    let (_, audit) = send(
        app.anon
            .get(app.url("/api/qbr/audit?limit=1000"))
            .header("x-api-key", &own),
    )
    .await;
    assert!(!audit.to_string().contains("auth.logout"), "{audit}");
    let (_, audit) = app.get("/api/qbr/audit?limit=1000").await;
    assert!(audit.to_string().contains("auth.logout"), "{audit}");
}

/// Query strings that satisfy the parameters of every read.
const QUERIES: [&str; 7] = [
    "",
    "?period=2025-01&metric_name=mrr",
    "?period=2025-Q1",
    "?period=2025",
    "?from=2025-01&to=2025-03",
    "?format=csv&from=2025-01&to=2025-12",
    "?limit=1000",
];

#[tokio::test]
async fn no_read_shows_another_organizations_data_to_a_key() {
    let app = TestApp::spawn().await;
    let other = two_organizations(&app, "ORGONE").await;
    let (_, doc) = app.get("/api/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut walked = 0;
    for (path, item) in paths {
        if item.get("get").is_none() || path.contains('{') {
            continue;
        }
        for query in QUERIES {
            let res = app
                .anon
                .get(app.url(&format!("{path}{query}")))
                .header("x-api-key", &other)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.bytes().await.unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("ORGONE") && !text.contains("Enersystems"),
                "GET {path}{query} ({status}) shows organization 1's data: {text}"
            );
            assert!(status < 500, "GET {path}{query}: {status} {text}");
            walked += 1;
        }
    }
    assert!(
        walked >= 15 * QUERIES.len(),
        "walked only {walked} requests"
    );
    // The walk can see the marker: organization 1's own export has it.
    let own = create_api_key(&app.db, "org1-reader", "read").await;
    let csv = app
        .anon
        .get(app.url("/api/qbr/export?format=csv&from=2025-01&to=2025-12"))
        .header("x-api-key", &own)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("ORGONE note"), "{csv}");
}

#[tokio::test]
async fn exports_neutralize_formulas_and_imports_restore_them() {
    let app = TestApp::spawn().await;
    let notes = [
        ("mrr", "=cmd|'/C calc'!A0"),
        ("nrr", "+1+1"),
        ("orr", "@SUM(A1:A9)"),
        ("reactive_tickets_created", "-2 fewer than planned"),
        ("reactive_time_spent", "'=kept as typed"),
        ("endpoints_managed", "plain words"),
    ];
    let metrics: Vec<Value> = notes
        .iter()
        .map(|(m, n)| json!({"metric_name": m, "metric_value": 10.0, "notes": n}))
        .collect();
    let resp = app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": "2025-01", "metrics": metrics}),
        )
        .await;
    assert_eq!(resp.0, 200, "{}", resp.1);

    let res = app
        .http
        .get(app.url("/api/qbr/export?format=csv&from=2025-01&to=2025-12"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get("cache-control").unwrap(),
        "no-store",
        "exports are never cached"
    );
    let csv = res.text().await.unwrap();
    let mut rows = ::csv::Reader::from_reader(csv.as_bytes());
    let cells: Vec<(String, String)> = rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_string(), r[4].to_string())
        })
        .collect();
    for (metric, note) in notes {
        let exported = &cells.iter().find(|(m, _)| m == metric).unwrap().1;
        if note == "plain words" {
            assert_eq!(exported, note);
        } else {
            assert_eq!(exported, &format!("'{note}"), "{metric}");
        }
    }
    // Importing the export changes nothing: the `'` comes off again.
    let resp = import_csv(&app, "commit=true", &csv).await;
    assert_eq!(resp.0, 200, "{}", resp.1);
    assert_eq!(resp.1["data"]["changed_count"], 0, "{}", resp.1);
    assert_eq!(resp.1["data"]["created_count"], 0, "{}", resp.1);
    let (_, m) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=mrr")
        .await;
    assert_eq!(m["data"]["metrics"][0]["notes"], "=cmd|'/C calc'!A0");
}

#[tokio::test]
async fn api_answers_are_never_cached() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    for path in [
        "/api/qbr/smartnumbers?period=2025-Q1",
        "/api/qbr/metrics/monthly?period=2025-01",
        "/api/qbr/audit",
        "/api/auth/status",
        "/api/qbr/smartnumbers?period=1999-Q1",
        "/api/qbr/nothing-here",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path} ({})",
            res.status()
        );
    }
}

#[tokio::test]
async fn a_bad_key_does_not_override_a_valid_session() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let path = "/api/qbr/smartnumbers?period=2025-Q1";
    // `http` carries a valid session cookie.
    for key in ["", "   ", "qbr_unknown", "not-even-a-key"] {
        let (status, body) = send(app.http.get(app.url(path)).header("x-api-key", key)).await;
        assert_eq!(status, 200, "key {key:?}: {body}");
        let (status, body) = send(app.http.get(app.url(path)).bearer_auth(key)).await;
        assert_eq!(status, 200, "bearer {key:?}: {body}");
    }
    // Without a session a wrong key is refused, a blank one is no credential.
    let resp = send(
        app.anon
            .get(app.url(path))
            .header("x-api-key", "qbr_unknown"),
    )
    .await;
    assert_error(&resp, 401, "UNAUTHENTICATED");
    assert!(message(&resp).contains("API key"), "{}", resp.1);
    let resp = send(app.anon.get(app.url(path)).header("x-api-key", "")).await;
    assert_error(&resp, 401, "UNAUTHENTICATED");
    // A valid key is used even beside a session: a read key can't write.
    let read = create_api_key(&app.db, "reader", "read").await;
    let resp = send(
        app.http
            .post(app.url("/api/qbr/metrics/manual"))
            .header("x-api-key", &read)
            .json(&json!({"period": "2025-01", "metrics": []})),
    )
    .await;
    assert_error(&resp, 403, "FORBIDDEN");
    // A dead session with a valid key: the key.
    let resp = send(
        app.anon
            .get(app.url(path))
            .header("cookie", "qbr_session=expired-or-unknown")
            .header("x-api-key", &read),
    )
    .await;
    assert_eq!(resp.0, 200, "{}", resp.1);
}

#[tokio::test]
async fn head_answers_like_get_and_other_methods_get_405() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    for path in [
        "/api/qbr/smartnumbers?period=2025-Q1",
        "/api/qbr/export?format=csv&from=2025-01&to=2025-12",
        "/api/health",
        "/api/openapi.json",
    ] {
        let get = app.http.get(app.url(path)).send().await.unwrap();
        let head = app.http.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has a body"
        );
    }
    let unsigned = app
        .anon
        .head(app.url("/api/qbr/smartnumbers?period=2025-Q1"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401, "HEAD is guarded like GET");

    for (method, path, allow) in [
        ("TRACE", "/api/qbr/smartnumbers", "GET"),
        ("PUT", "/api/qbr/smartnumbers", "GET"),
        ("DELETE", "/api/qbr/metrics/manual", "POST"),
        ("PATCH", "/api/qbr/thresholds", "POST"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        let allowed = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let resp = (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        );
        assert_error(&resp, 405, "METHOD_NOT_ALLOWED");
        assert!(allowed.contains(allow), "{method} {path}: Allow: {allowed}");
    }
    let resp = send(
        app.http
            .request(reqwest::Method::TRACE, app.url("/api/qbr/nothing")),
    )
    .await;
    assert_error(&resp, 404, "NOT_FOUND");
}

#[tokio::test]
async fn a_stalled_body_is_cut() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::new().await;
    let token = create_session(&db, TEST_USER, 1).await;
    let running = start_server_with(
        db.pool.clone(),
        |_| test_auth_config(),
        std::path::Path::new("/nonexistent"),
        Extras {
            body_timeout: Duration::from_secs(1),
            ..Extras::default()
        },
    )
    .await;
    let addr = running.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/qbr/metrics/manual HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\nCookie: qbr_session={token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"period\": ",
        running.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes. The server answers 408 and closes; without a
    // body timeout it would wait for ever (the bound below only keeps the test finite).
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was still open after 60 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
}

#[tokio::test]
async fn extreme_but_valid_inputs_never_overflow_a_stored_number() {
    let app = TestApp::spawn().await;
    // Gross profit per employee is 9·10^13 / 10^-6: far beyond what NUMERIC(20, 6)
    // holds. It was a 500 (numeric field overflow); now the ratio is stored as missing.
    let body = json!({"period": "2025-01", "metrics": [
        {"metric_name": "mrr", "metric_value": 9.0e13},
        {"metric_name": "employees", "metric_value": 0.000001},
        {"metric_name": "technical_employees", "metric_value": 0.000001},
        {"metric_name": "reactive_tickets_closed", "metric_value": 9.0e13},
    ]});
    let resp = app.post("/api/qbr/metrics/manual", &body).await;
    assert_eq!(resp.0, 200, "{}", resp.1);
    let (status, month) = app.get("/api/qbr/metrics/monthly?period=2025-01").await;
    assert_eq!(status, 200, "{month}");
    let (status, numbers) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    assert_eq!(status, 200, "{numbers}");
}
