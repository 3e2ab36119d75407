//! The OpenAPI document against the real server: every operation of the document is
//! called over HTTP (signed in, with API keys, anonymously), for its answers and its
//! refusals, and every answer is checked against the document: its status is
//! documented for that operation, its `Content-Type` is one documented for that status,
//! its JSON body validates against the documented schema (references resolved into
//! `#/components/schemas`), and the documented headers are there. The bodies the test
//! sends as valid are checked against the documented request body too.

use crate::common::*;
use backend::auth::config::MicrosoftConfig;
use backend::auth::AuthConfig;
use reqwest::RequestBuilder;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use test_support::smtp::FakeSmtp;
use test_support::webhook::FakeWebhook;

/// One answer as received.
struct Answer {
    status: u16,
    content_type: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// The document, and what the test saw of each operation.
struct Conformance {
    doc: Value,
    /// `(method, path template)` → the statuses received.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
    failures: Vec<String>,
}

impl Conformance {
    fn new(doc: Value) -> Self {
        Conformance {
            doc,
            seen: BTreeMap::new(),
            failures: Vec::new(),
        }
    }

    /// Sends `req` (an operation `method template`) and checks the answer.
    async fn call(&mut self, method: &str, template: &str, req: RequestBuilder) -> Answer {
        let res = req.send().await.expect("request");
        let headers = res.headers().clone();
        let answer = Answer {
            status: res.status().as_u16(),
            content_type: headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            headers,
            body: res.bytes().await.expect("body").to_vec(),
        };
        self.seen
            .entry((method.to_string(), template.to_string()))
            .or_default()
            .insert(answer.status);
        if let Err(e) = self.check(method, template, &answer) {
            let body = String::from_utf8_lossy(&answer.body);
            let body: String = body.chars().take(300).collect();
            self.failures.push(format!(
                "{} {template} → {}: {e}\n    body: {body}",
                method.to_uppercase(),
                answer.status
            ));
        }
        answer
    }

    /// Sends `body` as JSON after checking it against the documented request body.
    async fn call_json(
        &mut self,
        method: &str,
        template: &str,
        req: RequestBuilder,
        body: &Value,
    ) -> Answer {
        let schema = &self.doc["paths"][template][method]["requestBody"]["content"]
            ["application/json"]["schema"];
        if let Err(e) = self.validate(schema, body) {
            self.failures.push(format!(
                "{} {template}: the request body {body} is invalid by the document: {e}",
                method.to_uppercase()
            ));
        }
        self.call(method, template, req.json(body)).await
    }

    fn check(&self, method: &str, template: &str, a: &Answer) -> Result<(), String> {
        let op = &self.doc["paths"][template][method];
        let responses = op["responses"]
            .as_object()
            .ok_or("the operation is not documented")?;
        let response = responses.get(&a.status.to_string()).ok_or_else(|| {
            format!(
                "status not documented (documented: {:?})",
                responses.keys().collect::<Vec<_>>()
            )
        })?;
        for name in response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|h| h.0)
        {
            if !a.headers.contains_key(name.as_str()) {
                return Err(format!("documented header {name} missing"));
            }
        }
        let Some(content) = response["content"].as_object() else {
            return match a.body.is_empty() {
                true => Ok(()),
                false => Err("a body where the document has no content".into()),
            };
        };
        let media_type = a
            .content_type
            .as_deref()
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .ok_or("no Content-Type")?;
        let documented = content.get(&media_type).ok_or_else(|| {
            format!(
                "Content-Type {media_type} not documented (documented: {:?})",
                content.keys().collect::<Vec<_>>()
            )
        })?;
        check_body(&media_type, &a.body)?;
        if media_type == "application/json" {
            let body: Value =
                serde_json::from_slice(&a.body).map_err(|e| format!("not JSON: {e}"))?;
            self.validate(&documented["schema"], &body)?;
        }
        Ok(())
    }

    /// Validates `instance` against `schema`, a schema of the document whose references
    /// point into the document's components.
    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        if schema.is_null() {
            return Err("no schema documented".into());
        }
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator =
            jsonschema::draft202012::new(&root).map_err(|e| format!("invalid schema: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(format!("schema violation: {}", errors.join("; "))),
        }
    }

    /// The operations the document lists.
    fn operations(&self) -> Vec<(String, String)> {
        let mut ops = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                ops.push((method.clone(), path.clone()));
            }
        }
        ops
    }
}

/// The non-JSON bodies: what their media type promises.
fn check_body(media_type: &str, body: &[u8]) -> Result<(), String> {
    let ok = match media_type {
        "application/pdf" => body.starts_with(b"%PDF-"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            body.starts_with(b"PK\x03\x04")
        }
        "text/csv" | "text/html" => std::str::from_utf8(body).is_ok(),
        _ => true,
    };
    match ok {
        true => Ok(()),
        false => Err(format!("the body is not {media_type}")),
    }
}

const BOUNDARY: &str = "conformance-boundary";

fn multipart(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A server with every sign-in path on: development sign-in, and Microsoft pointing at
/// an address nothing answers (its login only builds the redirect).
async fn spawn(limits: Option<u32>) -> TestApp {
    spawn_with(limits, quickbooks_extras()).await
}

async fn spawn_with(limits: Option<u32>, extras: Extras) -> TestApp {
    TestApp::spawn_full(
        move |base| {
            let mut c: AuthConfig = test_auth_config();
            c.dev_login = true;
            c.api_base_url = base.to_string();
            c.microsoft = Some(MicrosoftConfig {
                tenant_id: "tenant".into(),
                client_id: "client".into(),
                client_secret: "secret".into(),
            });
            c.authority_url = "http://127.0.0.1:9".into();
            if let Some(n) = limits {
                c.limits.key_reads_per_minute = n;
                c.limits.key_writes_per_minute = n;
                c.limits.sign_in_per_minute = n;
            }
            c
        },
        extras,
    )
    .await
}

/// QuickBooks set up both ways: the Web Connector, and Online pointing at an address
/// nothing answers (its connect only builds the redirect).
fn quickbooks_extras() -> Extras {
    use backend::collect::quickbooks::{hash_password, QuickBooksSettings, WebConnectorLogin};
    use backend::config::Env;
    let env = Env::from_pairs([
        ("QBO_CLIENT_ID", "client"),
        ("QBO_CLIENT_SECRET", "secret"),
        (
            "QBR_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        ("QBO_AUTHORIZE_URL", "http://127.0.0.1:9/authorize"),
        ("QBO_TOKEN_URL", "http://127.0.0.1:9/token"),
        ("QBO_API_URL", "http://127.0.0.1:9"),
    ]);
    let mut quickbooks = QuickBooksSettings::from_env(&env).expect("QuickBooks settings");
    quickbooks.web_connector = Some(WebConnectorLogin {
        username: "books".into(),
        password_hash: hash_password("a long enough password").expect("hash"),
    });
    Extras {
        quickbooks,
        ..Extras::default()
    }
}

/// A report of two months with two accounts, stored as QuickBooks would have sent it.
async fn seed_quickbooks(app: &TestApp) {
    use backend::store::quickbooks::{accounts_seen, record_sync, NewSync, Source};
    use qbr_shared::quickbooks::{PnlAccount, PnlReport, Section};
    let months: Vec<qbr_shared::Month> =
        vec!["2025-01".parse().unwrap(), "2025-02".parse().unwrap()];
    let report = PnlReport {
        months,
        accounts: vec![
            PnlAccount {
                full_name: "Managed Services".into(),
                section: Section::Income,
                amounts: vec![1000.0, 1100.0],
            },
            PnlAccount {
                full_name: "Grant Income".into(),
                section: Section::Income,
                amounts: vec![0.0, 500.0],
            },
        ],
        totals: [("income".to_string(), vec![1000.0, 1600.0])].into(),
    };
    let mut conn = app.db.conn().await;
    let now = chrono::Utc::now();
    accounts_seen(
        &mut conn,
        1,
        &[
            ("Managed Services", Section::Income),
            ("Grant Income", Section::Income),
        ],
        now,
    )
    .await
    .unwrap();
    let sync = NewSync {
        source: Source::Desktop,
        report: &report,
        raw: "<QBXML/>",
        active_employees: None,
        closing_date: None,
        unreconciled: &[],
        run_id: None,
        now,
    };
    record_sync(&mut conn, 1, sync).await.unwrap();
}

/// QuickBooks: accounts, mappings, status, backfill, the .qwc file, the Web Connector's
/// SOAP service and QuickBooks Online's connect, callback and disconnect.
async fn quickbooks(c: &mut Conformance, app: &TestApp) {
    seed_quickbooks(app).await;
    for path in ["/api/qbr/quickbooks/accounts", "/api/qbr/quickbooks/status"] {
        c.call("get", path, app.http.get(app.url(path))).await;
        let refused = app.url(&format!("{path}?organization_id=999"));
        c.call("get", path, app.http.get(refused)).await;
    }
    let mappings = "/api/qbr/quickbooks/mappings";
    for body in [
        json!({"mappings": [{"account": "Grant Income", "metric": "nrr"}]}),
        json!({"mappings": [{"account": "No Such Account", "metric": "nrr"}]}),
        json!({"mappings": [{"account": "Grant Income", "metric": "ignore"}]}),
    ] {
        c.call_json("put", mappings, app.http.put(app.url(mappings)), &body)
            .await;
    }
    let backfill = "/api/qbr/quickbooks/backfill";
    for body in [json!({"from": "2025-01"}), json!({"from": "1800-01"})] {
        c.call_json("post", backfill, app.http.post(app.url(backfill)), &body)
            .await;
    }
    let qwc = "/api/qbr/quickbooks/qwc";
    for query in [format!("?url={}/api/qbwc", app.base), "?url=ftp://x".into()] {
        let url = app.url(&format!("{qwc}{query}"));
        c.call("get", qwc, app.http.get(url)).await;
    }
    let qbwc = "/api/qbwc";
    for query in ["?wsdl", ""] {
        c.call(
            "get",
            qbwc,
            app.anon.get(app.url(&format!("{qbwc}{query}"))),
        )
        .await;
    }
    let server_version = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><serverVersion xmlns="http://developer.intuit.com/"/></soap:Body></soap:Envelope>"#;
    for body in [server_version, "not xml"] {
        let req = app
            .anon
            .post(app.url(qbwc))
            .header("content-type", "text/xml; charset=utf-8")
            .body(body);
        c.call("post", qbwc, req).await;
    }
    // The redirect to Intuit is the answer: a client that does not follow it.
    let token = create_session(&app.db, TEST_USER, 1).await;
    let connect = "/api/qbr/quickbooks/online/connect";
    let req = app
        .anon
        .get(app.url(connect))
        .header("cookie", format!("qbr_session={token}"));
    c.call("get", connect, req).await;
    let callback = "/api/qbr/quickbooks/online/callback";
    c.call(
        "get",
        callback,
        app.anon
            .get(app.url(&format!("{callback}?code=c&state=unknown&realmId=1"))),
    )
    .await;
    let disconnect = "/api/qbr/quickbooks/online/disconnect";
    c.call("post", disconnect, app.http.post(app.url(disconnect)))
        .await;
}

async fn document(app: &TestApp) -> Value {
    let res = app.anon.get(app.url("/api/openapi.json")).send().await;
    res.expect("request").json().await.expect("the document")
}

/// The public operations: health, sign-in status and methods, development and Microsoft
/// sign-in, logout.
async fn public(c: &mut Conformance, app: &TestApp) {
    let anon = &app.anon;
    c.call("get", "/api/health", anon.get(app.url("/api/health")))
        .await;
    c.call(
        "get",
        "/api/auth/methods",
        anon.get(app.url("/api/auth/methods")),
    )
    .await;
    c.call(
        "get",
        "/api/auth/status",
        anon.get(app.url("/api/auth/status")),
    )
    .await;
    c.call(
        "get",
        "/api/auth/status",
        app.http.get(app.url("/api/auth/status")),
    )
    .await;
    let dev = "/api/auth/dev/login";
    for query in [
        format!("?email={TEST_USER}"),
        "?email=nobody@example.com".into(),
        String::new(),
    ] {
        c.call("get", dev, anon.get(app.url(&format!("{dev}{query}"))))
            .await;
    }
    c.call(
        "get",
        "/api/auth/microsoft/login",
        anon.get(app.url("/api/auth/microsoft/login")),
    )
    .await;
    let callback = "/api/auth/microsoft/callback";
    for query in ["", "?error=access_denied", "?code=c&state=unknown"] {
        c.call(
            "get",
            callback,
            anon.get(app.url(&format!("{callback}{query}"))),
        )
        .await;
    }
    // Logout ends a session of its own, not the one the rest of the test uses.
    let token = create_session(&app.db, TEST_USER, 1).await;
    let logout = "/api/auth/logout";
    let cookie = format!("qbr_session={token}");
    c.call(
        "post",
        logout,
        anon.post(app.url(logout)).header("cookie", cookie),
    )
    .await;
    c.call("get", logout, anon.get(app.url(logout))).await;
}

/// Every read with good parameters, then with malformed ones, an unknown organization
/// and no credentials.
async fn reads(c: &mut Conformance, app: &TestApp) {
    let reads: &[(&str, &str)] = &[
        ("/api/qbr/periods", ""),
        ("/api/qbr/metric-definitions", ""),
        (
            "/api/qbr/metrics/monthly",
            "?period=2025-02&vendor_id=1&metric_name=reactive_time_spent",
        ),
        ("/api/qbr/metrics/monthly", ""),
        ("/api/qbr/metrics/quarterly", "?period=2025-Q1"),
        (
            "/api/qbr/metrics/range",
            "?from=2025-01&to=2025-03&metric_name=reactive_time_spent,total_revenue",
        ),
        ("/api/qbr/metrics/history", "?period=2025-01&limit=5"),
        ("/api/qbr/smartnumbers", "?period=2025-Q1"),
        ("/api/qbr/smartnumbers", "?period=2025-Q1&shape=flat"),
        ("/api/qbr/smartnumbers", "?period=2025"),
        (
            "/api/qbr/smartnumbers/trend",
            "?from=2025-01&to=2025-03&granularity=month&keys=rhem",
        ),
        ("/api/qbr/smartnumbers/trend", "?from=2024-Q1&to=2025-Q1"),
        ("/api/qbr/thresholds", ""),
        ("/api/qbr/alerts", "?period=2025-Q1"),
        ("/api/qbr/collection/status", ""),
        ("/api/qbr/collection/log", "?limit=5"),
        ("/api/qbr/devices-by-client", "?period=2025-01"),
        ("/api/qbr/export", "?format=csv&from=2025-01&to=2025-03"),
        ("/api/qbr/export", "?format=xlsx&from=2025-01&to=2025-03"),
        (
            "/api/qbr/report",
            "?period=2025-Q1&paper=a4&tz=America/Chicago",
        ),
        ("/api/qbr/audit", "?limit=5"),
        ("/api/admin/api-keys", ""),
    ];
    for (path, query) in reads {
        let url = app.url(&format!("{path}{query}"));
        c.call("get", path, app.http.get(url)).await;
    }
    let refused: &[(&str, &str)] = &[
        ("/api/qbr/metrics/monthly", "?period=2025-13"),
        ("/api/qbr/metrics/monthly", "?period=1999-01"),
        ("/api/qbr/metrics/monthly", "?metric_name=nope"),
        ("/api/qbr/metrics/quarterly", "?period=2025-Q5"),
        ("/api/qbr/metrics/range", "?from=2025-01"),
        ("/api/qbr/metrics/range", "?from=2020-01&to=2025-12"),
        ("/api/qbr/metrics/history", "?limit=0"),
        ("/api/qbr/smartnumbers", "?period=2000-Q1"),
        ("/api/qbr/smartnumbers", "?shape=round"),
        ("/api/qbr/smartnumbers/trend", "?from=2025-03&to=2025-01"),
        ("/api/qbr/alerts", "?organization_id=999"),
        ("/api/qbr/periods", "?organization_id=0"),
        ("/api/qbr/thresholds", "?organization_id=999"),
        ("/api/qbr/collection/log", "?limit=201"),
        ("/api/qbr/collection/log", "?limit=%205"),
        (
            "/api/qbr/metrics/range",
            "?from=2025-01&to=2025-03&metric_name=reactive_time_spent,",
        ),
        ("/api/qbr/devices-by-client", "?period=x"),
        ("/api/qbr/export", "?format=pdf"),
        ("/api/qbr/report", "?period=2025-01"),
        ("/api/qbr/report", "?tz=Mars/Olympus"),
        ("/api/qbr/audit", "?limit=x"),
    ];
    for (path, query) in refused {
        let url = app.url(&format!("{path}{query}"));
        c.call("get", path, app.http.get(url)).await;
    }
    for (path, _) in reads {
        c.call("get", path, app.anon.get(app.url(path))).await;
    }
}

/// Manual entry, hand-back, thresholds and import: accepted, refused, and from a
/// cross-site page.
async fn writes(c: &mut Conformance, app: &TestApp) {
    for body in reference_inputs() {
        let path = "/api/qbr/metrics/manual";
        c.call_json("post", path, app.http.post(app.url(path)), &body)
            .await;
    }
    let writes: &[(&str, Value)] = &[
        (
            "/api/qbr/metrics/manual",
            json!({"period": "2025-04", "metrics": [
                {"metric_name": "reactive_time_spent", "metric_value": 12.5, "notes": "typed"},
                {"metric_name": "misc_revenue", "metric_value": -3.0},
                {"metric_name": "reactive_tickets_created", "metric_value": null}]}),
        ),
        (
            "/api/qbr/metrics/recollect",
            json!({"period": "2025-04", "metric_names": ["reactive_time_spent"]}),
        ),
        (
            "/api/qbr/thresholds",
            json!({"thresholds": [{"metric_name": "rhem", "green_max": 0.2, "yellow_max": 0.3}]}),
        ),
        (
            "/api/qbr/thresholds",
            json!({"metric_name": "rhem", "green_max": 0.25, "yellow_max": 0.35}),
        ),
    ];
    for (path, body) in writes {
        c.call_json("post", path, app.http.post(app.url(path)), body)
            .await;
    }
    let refused: &[(&str, Value)] = &[
        (
            "/api/qbr/metrics/manual",
            json!({"period": "2025-04", "metrics": []}),
        ),
        (
            "/api/qbr/metrics/manual",
            json!({"period": "2025-04", "metrics": [{"metric_name": "rhem_x", "metric_value": 1}]}),
        ),
        (
            "/api/qbr/metrics/manual",
            json!({"period": "2025-04", "organization_id": 999,
                   "metrics": [{"metric_name": "reactive_time_spent", "metric_value": 1}]}),
        ),
        (
            "/api/qbr/metrics/recollect",
            json!({"period": "2025-04", "metric_names": []}),
        ),
        ("/api/qbr/thresholds", json!({"thresholds": []})),
        (
            "/api/qbr/thresholds",
            json!({"metric_name": "rhem", "green_max": 0.5, "yellow_max": 0.3}),
        ),
    ];
    for (path, body) in refused {
        c.call("post", path, app.http.post(app.url(path)).json(body))
            .await;
    }
    for path in [
        "/api/qbr/metrics/manual",
        "/api/qbr/metrics/recollect",
        "/api/qbr/thresholds",
    ] {
        let text = app.http.post(app.url(path)).body("{}");
        c.call("post", path, text.header("content-type", "text/plain"))
            .await;
        let huge = vec![b' '; 2 * 1024 * 1024];
        let req = app.http.post(app.url(path)).body(huge);
        c.call("post", path, req.header("content-type", "application/json"))
            .await;
        let cross_site = app
            .http
            .post(app.url(path))
            .header("origin", "https://evil.example");
        c.call("post", path, cross_site.json(&json!({}))).await;
        c.call("post", path, app.anon.post(app.url(path)).json(&json!({})))
            .await;
    }
    import(c, app).await;
}

async fn import(c: &mut Conformance, app: &TestApp) {
    let path = "/api/qbr/import";
    let csv = b"period,metric,value,notes\n2025-05,reactive_time_spent,7,from a file\n";
    let bad = b"period,metric,value,notes\n2025-05,nope,7,\n";
    for (query, name, bytes) in [
        ("", "values.csv", &csv[..]),
        ("?commit=true&overwrite=true", "values.csv", &csv[..]),
        ("", "values.csv", &bad[..]),
        ("?organization_id=999", "values.csv", &csv[..]),
        ("", "values.xlsx", &csv[..]),
    ] {
        let req = app
            .http
            .post(app.url(&format!("{path}{query}")))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(name, bytes));
        c.call("post", path, req).await;
    }
    let json = app.http.post(app.url(path)).json(&json!({}));
    c.call("post", path, json).await;
}

/// API keys: created (201), listed, used (read key on a write: 403; another
/// organization: 403), refused to keys, revoked, revoked again (404).
/// Organizations (as a platform administrator) and the members of one.
async fn tenants(c: &mut Conformance, app: &TestApp) {
    let orgs = "/api/admin/organizations";
    c.call("get", orgs, app.http.get(app.url(orgs))).await;
    let body = json!({"name": "Conformance MSP", "slug": "conformance", "admin_email": "c@conformance.example"});
    let created = c
        .call_json("post", orgs, app.http.post(app.url(orgs)), &body)
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let id = created.json()["data"]["id"].as_i64().unwrap();
    c.call("post", orgs, app.http.post(app.url(orgs)).json(&body))
        .await;
    c.call(
        "post",
        orgs,
        app.http
            .post(app.url(orgs))
            .json(&json!({"name": "", "admin_email": "x"})),
    )
    .await;
    let one = "/api/admin/organizations/{id}";
    for (target, body) in [
        (id.to_string(), json!({"name": "Conformance MSP 2"})),
        ("999999".to_string(), json!({"archived": true})),
        (id.to_string(), json!({})),
        ("x".to_string(), json!({"archived": false})),
    ] {
        let url = app.url(&format!("/api/admin/organizations/{target}"));
        c.call("put", one, app.http.put(url).json(&body)).await;
    }
    let users = "/api/qbr/users";
    c.call("get", users, app.http.get(app.url(users))).await;
    let body = json!({"email": "member@conformance.example", "role": "viewer"});
    let invited = c
        .call_json("post", users, app.http.post(app.url(users)), &body)
        .await;
    assert_eq!(
        invited.status,
        201,
        "{}",
        String::from_utf8_lossy(&invited.body)
    );
    let user = invited.json()["data"]["user_id"].as_i64().unwrap();
    c.call("post", users, app.http.post(app.url(users)).json(&body))
        .await;
    c.call(
        "post",
        users,
        app.http
            .post(app.url(users))
            .json(&json!({"email": "x", "role": "owner"})),
    )
    .await;
    let member = "/api/qbr/users/{user_id}";
    for target in [user.to_string(), "999999".to_string(), "x".to_string()] {
        let url = app.url(&format!("/api/qbr/users/{target}"));
        c.call(
            "put",
            member,
            app.http.put(url).json(&json!({"role": "editor"})),
        )
        .await;
    }
    for target in [user.to_string(), user.to_string()] {
        let url = app.url(&format!("/api/qbr/users/{target}"));
        c.call("delete", member, app.http.delete(url)).await;
    }
}

async fn api_keys(c: &mut Conformance, app: &TestApp) {
    let path = "/api/admin/api-keys";
    let mut keys = Vec::new();
    for scope in ["read", "write"] {
        let body = json!({"name": format!("conformance {scope}"), "scope": scope});
        let a = c
            .call_json("post", path, app.http.post(app.url(path)), &body)
            .await;
        assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
        keys.push(a.json()["data"].take());
    }
    let body = json!({"name": "conformance read", "scope": "read"});
    c.call("post", path, app.http.post(app.url(path)).json(&body))
        .await;
    let body = json!({"name": "  ", "scope": "admin"});
    c.call("post", path, app.http.post(app.url(path)).json(&body))
        .await;
    let (read, write) = (
        keys[0]["key"].as_str().unwrap(),
        keys[1]["key"].as_str().unwrap(),
    );
    let with_key = |req: RequestBuilder, key: &str| req.header("x-api-key", key);
    let anon = &app.anon;
    let thresholds = "/api/qbr/thresholds";
    c.call(
        "get",
        thresholds,
        with_key(anon.get(app.url(thresholds)), read),
    )
    .await;
    let other = app.url("/api/qbr/thresholds?organization_id=2");
    c.call("get", thresholds, with_key(anon.get(other), read))
        .await;
    let body = json!({"metric_name": "rhem", "green_max": 0.2, "yellow_max": 0.3});
    c.call(
        "post",
        thresholds,
        with_key(anon.post(app.url(thresholds)), read).json(&body),
    )
    .await;
    c.call(
        "post",
        thresholds,
        anon.post(app.url(thresholds))
            .bearer_auth(write)
            .json(&body),
    )
    .await;
    c.call("get", path, with_key(anon.get(app.url(path)), write))
        .await;
    let revoke = "/api/admin/api-keys/{id}";
    let id = keys[0]["info"]["id"].as_i64().unwrap();
    for target in [id.to_string(), id.to_string(), "abc".into()] {
        let url = app.url(&format!("{path}/{target}"));
        c.call("delete", revoke, app.http.delete(url)).await;
    }
    let url = app.url(&format!("{path}/{}", keys[1]["info"]["id"]));
    c.call("delete", revoke, with_key(anon.delete(&url), write))
        .await;
    c.call(
        "get",
        thresholds,
        with_key(anon.get(app.url(thresholds)), read),
    )
    .await;
}

/// Notification settings and report delivery, with mail and webhooks going to the
/// fakes: read, replaced, refused, and "send a test now" for each.
async fn notifications(c: &mut Conformance, app: &TestApp, hooks: &FakeWebhook) {
    let path = "/api/qbr/settings/notifications";
    c.call("get", path, app.http.get(app.url(path))).await;
    let body = json!({"recipients": [
        {"channel": "email", "name": "Owners", "email": "owner@example.com",
         "events": ["collection_failed", "smartnumber_red"]},
        {"channel": "slack", "webhook_url": hooks.url("/slack/conformance"), "events": ["drift"]}],
        "quickbooks_stale_hours": 48});
    let saved = c
        .call_json("put", path, app.http.put(app.url(path)), &body)
        .await;
    assert_eq!(
        saved.status,
        200,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
    for bad in [
        json!({"recipients": [{"channel": "email", "email": "x", "events": []}]}),
        json!({"recipients": [{"channel": "teams", "webhook_url": "https://example.com/x", "events": []}]}),
        json!({"recipients": [{"channel": "email", "email": "a@example.com", "events": ["sms"]}]}),
    ] {
        c.call("put", path, app.http.put(app.url(path)).json(&bad))
            .await;
    }
    let test = "/api/qbr/settings/notifications/test";
    let sent = c
        .call_json("post", test, app.http.post(app.url(test)), &json!({}))
        .await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let body = json!({"recipient_id": 999999});
    c.call_json("post", test, app.http.post(app.url(test)), &body)
        .await;
    let delivery = "/api/qbr/settings/report-delivery";
    c.call("get", delivery, app.http.get(app.url(delivery)))
        .await;
    let body = json!({"enabled": true, "day": 5, "hour": 7, "monthly": true,
                      "recipients": ["owner@example.com"], "paper": "a4"});
    let saved = c
        .call_json("put", delivery, app.http.put(app.url(delivery)), &body)
        .await;
    assert_eq!(
        saved.status,
        200,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
    let bad = json!({"enabled": true, "day": 40, "monthly": false, "recipients": []});
    c.call("put", delivery, app.http.put(app.url(delivery)).json(&bad))
        .await;
    let test = "/api/qbr/settings/report-delivery/test";
    let body = json!({"period": "2025-Q1", "to": ["cfo@example.com"]});
    let sent = c
        .call_json("post", test, app.http.post(app.url(test)), &body)
        .await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let body = json!({"period": "2019-Q1"});
    c.call("post", test, app.http.post(app.url(test)).json(&body))
        .await;
}

/// Settings: read, changed, refused.
async fn settings(c: &mut Conformance, app: &TestApp) {
    let path = "/api/qbr/settings";
    c.call("get", path, app.http.get(app.url(path))).await;
    for body in [
        json!({"working_hours_per_tech": 150}),
        json!({"timezone": "Nowhere"}),
        json!({}),
        json!({"organization_id": 999, "name": "X"}),
    ] {
        c.call("put", path, app.http.put(app.url(path)).json(&body))
            .await;
    }
}

/// The logo: none (404), uploaded (200), refused (400, 413, 415), read (200, then 304
/// by its ETag), removed (200), removed again (404).
async fn logo(c: &mut Conformance, app: &TestApp) {
    let path = "/api/qbr/settings/logo";
    c.call("get", path, app.http.get(app.url(path))).await;
    let image = crate::logo::png(12, 6);
    for (content_type, bytes) in [
        ("image/png", image.clone()),
        ("image/png", b"no image".to_vec()),
        ("image/gif", b"GIF89a".to_vec()),
        ("image/jpeg", vec![0xff; 600 * 1024]),
    ] {
        let req = app
            .http
            .put(app.url(path))
            .header("content-type", content_type)
            .body(bytes);
        c.call("put", path, req).await;
    }
    let read = c.call("get", path, app.http.get(app.url(path))).await;
    let etag = read.headers.get("etag").cloned();
    let mut again = app.http.get(app.url(path));
    if let Some(etag) = etag {
        again = again.header("if-none-match", etag);
    }
    let again = c.call("get", path, again).await;
    assert_eq!(again.status, 304, "the ETag revalidates");
    for _ in 0..2 {
        c.call("delete", path, app.http.delete(app.url(path))).await;
    }
}

/// Collect now against the fake vendors (slow, so the run can be seen and cancelled):
/// started (202), refused while it runs (409), followed, cancelled, refused again.
async fn collect_now(c: &mut Conformance) {
    use crate::collect_data::{config, cw_data, ninja_data};
    use std::sync::atomic::Ordering;
    use test_support::vendors::{FakeConnectWise, FakeNinja};
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    cw.faults.latency_ms.store(300, Ordering::Relaxed);
    let app = TestApp::spawn_with_extras(Extras {
        collectors: Some(config(Some(&cw), Some(&ninja))),
        ..Extras::default()
    })
    .await;
    let runs = "/api/qbr/collection/runs";
    let body = json!({"from": "2025-02", "to": "2025-03"});
    let started = c
        .call_json("post", runs, app.http.post(app.url(runs)), &body)
        .await;
    assert_eq!(
        started.status,
        202,
        "{}",
        String::from_utf8_lossy(&started.body)
    );
    let id = started.json()["data"]["run_id"].as_i64().unwrap();
    for body in [
        body.clone(),
        json!({"from": "2025-02"}),
        json!({"vendor": "nobody"}),
    ] {
        c.call("post", runs, app.http.post(app.url(runs)).json(&body))
            .await;
    }
    let one = "/api/qbr/collection/runs/{id}";
    let cancel = "/api/qbr/collection/runs/{id}/cancel";
    for target in [id.to_string(), "999999".into(), "x".into()] {
        let url = app.url(&format!("{runs}/{target}"));
        c.call("get", one, app.http.get(url)).await;
    }
    for target in [id.to_string(), "999999".into(), "x".into()] {
        let url = app.url(&format!("{runs}/{target}/cancel"));
        c.call("post", cancel, app.http.post(url).json(&json!({})))
            .await;
    }
}

/// Rate limits: a key's (one request a minute) and sign-in's.
async fn rate_limits(c: &mut Conformance) {
    let app = spawn(Some(1)).await;
    let key = create_api_key(&app.db, "limited", "read").await;
    let path = "/api/qbr/periods";
    for _ in 0..2 {
        let req = app.anon.get(app.url(path)).header("x-api-key", &key);
        c.call("get", path, req).await;
    }
    for path in ["/api/auth/microsoft/login", "/api/auth/microsoft/login"] {
        c.call("get", path, app.anon.get(app.url(path))).await;
    }
    let (dev, callback) = ("/api/auth/dev/login", "/api/auth/microsoft/callback");
    c.call("get", dev, app.anon.get(app.url(dev))).await;
    c.call("get", callback, app.anon.get(app.url(callback)))
        .await;
}

/// The client registry, matching, a client's metrics and the ranking, on a client and
/// a NinjaOne organization stored directly.
async fn clients(c: &mut Conformance, app: &TestApp) {
    use backend::store::clients::{create_client, upsert_seen, Link};
    let mut conn = app.db.conn().await;
    let now = chrono::Utc::now();
    let id = create_client(&mut conn, 1, "Acme Dental", "test", now)
        .await
        .unwrap();
    let link = Link {
        vendor_id: qbr_shared::Vendor::NinjaOne.id(),
        external_id: "1",
        name: "ACME Dental",
        client_id: Some(id),
        status: qbr_shared::clients::LinkStatus::Proposed,
        confirmed_by: None,
        now,
    };
    upsert_seen(&mut conn, 1, link).await.unwrap();
    let list = "/api/qbr/clients";
    c.call("get", list, app.http.get(app.url(list))).await;
    c.call("get", list, app.anon.get(app.url(list))).await;
    let ranking = "/api/qbr/clients/ranking";
    for query in ["?period=2025-Q1&by=margin_pct", "?period=2025", "?by=x", ""] {
        let url = app.url(&format!("{ranking}{query}"));
        c.call("get", ranking, app.http.get(url)).await;
    }
    let metrics = "/api/qbr/clients/{id}/metrics";
    for (client, query) in [
        (id, "?from=2025-01&to=2025-03"),
        (id, "?from=2025-03&to=2025-01"),
        (id + 100, "?from=2025-01&to=2025-03"),
    ] {
        let url = app.url(&format!("/api/qbr/clients/{client}/metrics{query}"));
        c.call("get", metrics, app.http.get(url)).await;
    }
    let anomalies = "/api/qbr/clients/{id}/anomalies";
    for (client, query) in [
        (id, "?from=2025-01&to=2025-03"),
        (id, ""),
        (id, "?from=2025-03&to=2025-01"),
        (id + 100, ""),
    ] {
        let url = app.url(&format!("/api/qbr/clients/{client}/anomalies{query}"));
        c.call("get", anomalies, app.http.get(url)).await;
    }
    let all = "/api/qbr/clients/anomalies";
    for query in ["?from=2025-01&to=2025-03", "", "?from=2025-01&to=2031-01"] {
        let url = app.url(&format!("{all}{query}"));
        c.call("get", all, app.http.get(url)).await;
    }
    let report = "/api/qbr/clients/{id}/report";
    for (client, query) in [
        (id, "?period=2025-Q1&internal=true&paper=a4"),
        (id, ""),
        (id, "?period=2025-01"),
        (id + 100, "?period=2025-Q1"),
    ] {
        let url = app.url(&format!("/api/qbr/clients/{client}/report{query}"));
        c.call("get", report, app.http.get(url)).await;
    }
    let values = "/api/qbr/clients/{id}/values";
    for (client, body) in [
        (
            id,
            json!({"month": "2025-01", "metric": "revenue", "value": 4200.5}),
        ),
        (
            id,
            json!({"month": "2025-01", "metric": "revenue", "value": null}),
        ),
        (
            id + 100,
            json!({"month": "2025-01", "metric": "revenue", "value": 1}),
        ),
    ] {
        let url = app.url(&format!("/api/qbr/clients/{client}/values"));
        c.call_json("put", values, app.http.put(url), &body).await;
    }
    let thresholds = "/api/qbr/clients/thresholds";
    c.call("get", thresholds, app.http.get(app.url(thresholds)))
        .await;
    for body in [
        json!({"client_id": id, "number": "margin_pct", "bands": {"green_min": 0.4, "yellow_min": 0.2}}),
        json!({"number": "margin_pct", "bands": {"green_min": 0.2, "yellow_min": 0.4}}),
        json!({"client_id": id, "number": "margin_pct", "bands": null}),
    ] {
        c.call_json("put", thresholds, app.http.put(app.url(thresholds)), &body)
            .await;
    }
    let matching = "/api/qbr/clients/matching";
    for body in [
        json!({"changes": [{"vendor": "ninjaone", "external_id": "1", "client_id": id}]}),
        json!({"changes": [{"vendor": "ninjaone", "external_id": "2"}]}),
        json!({"confirm_proposed": true}),
    ] {
        c.call_json("put", matching, app.http.put(app.url(matching)), &body)
            .await;
    }
    let import = "/api/qbr/clients/import";
    let csv = b"client,month,metric,value\nAcme Dental,2024-12,revenue,5000\n";
    let unknown = b"client,month,metric,value\nNobody,2024-12,revenue,5000\n";
    for (query, bytes) in [
        ("", &csv[..]),
        ("?commit=true", &csv[..]),
        ("", &unknown[..]),
        ("?commit=maybe", &csv[..]),
    ] {
        let req = app
            .http
            .post(app.url(&format!("{import}{query}")))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart("history.csv", bytes));
        c.call("post", import, req).await;
    }
}

/// Insight: anomalies, forecast, health score, summary, goals (on the reference
/// quarter `writes` stored).
async fn insight(c: &mut Conformance, app: &TestApp) {
    let reads: &[(&str, &str)] = &[
        ("/api/qbr/anomalies", "?from=2025-01&to=2025-03"),
        ("/api/qbr/anomalies", ""),
        ("/api/qbr/forecast", ""),
        ("/api/qbr/forecast", "?period=2025-Q1"),
        ("/api/qbr/health-score", "?from=2025-01&to=2025-03"),
        ("/api/qbr/summary", "?period=2025-Q1"),
        ("/api/qbr/summary", "?period=2025-02"),
        ("/api/qbr/anomalies", "?from=2025-03&to=2025-01"),
        ("/api/qbr/forecast", "?period=2999-Q1"),
        ("/api/qbr/forecast", "?period=2025-01"),
        ("/api/qbr/health-score", "?from=2020-01&to=2025-03"),
        ("/api/qbr/summary", "?period=2025-Q7"),
    ];
    for (path, query) in reads {
        let url = app.url(&format!("{path}{query}"));
        c.call("get", path, app.http.get(url)).await;
    }
    let goals = "/api/qbr/goals";
    for body in [
        json!({"key": "net_profit_pct", "period": "2025-Q1", "target": 0.2}),
        json!({"key": "net_profit_pct", "period": "2025-01", "target": 0.2}),
        json!({"key": "net_profit_pct", "period": "2025-Q1", "target": null}),
    ] {
        c.call_json("put", goals, app.http.put(app.url(goals)), &body)
            .await;
    }
    c.call("get", goals, app.http.get(app.url(goals))).await;
    c.call("get", goals, app.anon.get(app.url(goals))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_as_documented() {
    let smtp = FakeSmtp::start().await;
    let hooks = FakeWebhook::start().await;
    let env = backend::config::Env::from_pairs([
        ("SMTP_URL", smtp.url()),
        ("QBR_MAIL_FROM", "qbr@example.com".to_string()),
        (
            "QBR_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string(),
        ),
        ("QBR_WEBHOOK_HOSTS", "127.0.0.1".to_string()),
    ]);
    let notifier = backend::notify::Notifier::from_env(&env).expect("notifier");
    let extras = Extras {
        notifier: std::sync::Arc::new(notifier),
        ..quickbooks_extras()
    };
    let app = spawn_with(None, extras).await;
    let mut c = Conformance::new(document(&app).await);
    public(&mut c, &app).await;
    writes(&mut c, &app).await;
    reads(&mut c, &app).await;
    api_keys(&mut c, &app).await;
    tenants(&mut c, &app).await;
    settings(&mut c, &app).await;
    logo(&mut c, &app).await;
    collect_now(&mut c).await;
    quickbooks(&mut c, &app).await;
    notifications(&mut c, &app, &hooks).await;
    assert_eq!(smtp.received().len(), 2, "the two tests' mails");
    clients(&mut c, &app).await;
    insight(&mut c, &app).await;
    rate_limits(&mut c).await;
    for (op, statuses) in &c.seen {
        println!("{} {}: {statuses:?}", op.0.to_uppercase(), op.1);
    }
    let mut missing = Vec::new();
    for (method, path) in c.operations() {
        let statuses = c.seen.get(&(method.clone(), path.clone()));
        // The callbacks' success needs Microsoft or Intuit (`auth_microsoft` and
        // `quickbooks_online` cover them).
        let needs_success =
            path != "/api/auth/microsoft/callback" && path != "/api/qbr/quickbooks/online/callback";
        let answered = statuses.is_some_and(|s| s.iter().any(|s| *s < 400));
        if statuses.is_none() || (needs_success && !answered) {
            missing.push(format!("{method} {path}: {statuses:?}"));
        }
    }
    assert!(missing.is_empty(), "operations not answered: {missing:#?}");
    for expected in [401, 403, 404, 409, 413, 415, 429] {
        assert!(
            c.seen.values().any(|s| s.contains(&expected)),
            "no operation answered {expected}"
        );
    }
    assert!(
        c.failures.is_empty(),
        "{} answers differ from the document:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );
}

/// The patterns of the document's periods accept exactly what the server's parsers do.
#[tokio::test(flavor = "multi_thread")]
async fn period_patterns_are_what_the_parsers_accept() {
    let app = TestApp::spawn().await;
    let c = Conformance::new(document(&app).await);
    let schema =
        |name: &str| json!({"$ref": format!("#/components/schemas/qbr_shared.period.{name}")});
    let samples = [
        "1900-01",
        "2999-12",
        "2025-10",
        "1899-12",
        "3000-01",
        "2025-13",
        "2025-00",
        "2025-1",
        "2025-Q1",
        "2025-Q4",
        "2025-Q0",
        "2025-Q5",
        "2025-q1",
        "2025",
        "1899",
        "3000",
        "25-01",
        "",
        " 2025-01",
        "2025-01 ",
        "2025-01\n",
        "２０２５-01",
        "2025-٠1",
    ];
    for s in samples {
        let value = json!(s);
        let cases = [
            ("Month", s.parse::<qbr_shared::Month>().is_ok()),
            ("Quarter", s.parse::<qbr_shared::Quarter>().is_ok()),
            ("Period", s.parse::<qbr_shared::Period>().is_ok()),
        ];
        for (name, parses) in cases {
            let valid = c.validate(&schema(name), &value).is_ok();
            assert_eq!(
                valid, parses,
                "{name} {s:?}: schema {valid}, parser {parses}"
            );
        }
    }
}
