//! What an operator watches: `GET /api/health` (vendor freshness over the server's
//! organizations, 503 while the database is down) and `GET /metrics` (Prometheus text:
//! requests per route pattern, collection runs, vendor requests and errors, the
//! database pool), who may read it, and what a scrape costs. The counts are read from
//! a `qbr serve` process of their own, whose numbers no other test moves.

use crate::collect_data::cw_data;
use crate::common::*;
use backend::config::hosting::{Site, TrustedProxies};
use backend::http::AppState;
use pg_cluster::PgCluster;
use salvo::test::{ResponseExt, TestClient};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use test_support::vendors::FakeConnectWise;

// ---------------------------------------------------------------- health

/// Adds an organization (`archived` or not) as the owner would.
async fn add_organization(db: &TestDb, id: i32, archived: bool) {
    let mut conn = db.conn().await;
    let archived_at = if archived { "now()" } else { "NULL" };
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO organization (id, name, slug, archived_at) \
             VALUES ({id}, 'Org {id}', 'org-{id}', {archived_at})"
        )),
        &mut conn,
    )
    .await
    .unwrap();
}

/// A finished run of `vendors` in `org`, `hours` ago.
async fn add_run(db: &TestDb, org: i32, vendors: &[&str], status: &str, hours: i64) {
    let mut conn = db.conn().await;
    let vendors = vendors
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(",");
    let error = if status == "failed" {
        "'broken'"
    } else {
        "NULL"
    };
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO qbr_collection_log (organization_id, trigger, status, started_at, \
             finished_at, vendors, duration_ms, error) VALUES ({org}, 'schedule', '{status}', \
             now() - interval '{hours} hours' - interval '1 minute', \
             now() - interval '{hours} hours', ARRAY[{vendors}]::text[], 60000, {error})"
        )),
        &mut conn,
    )
    .await
    .unwrap();
}

fn vendor<'a>(health: &'a Value, key: &str) -> &'a Value {
    health["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == key)
        .unwrap_or_else(|| panic!("{key} in {health}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_each_vendors_newest_success_and_staleness() {
    let app = TestApp::spawn().await;
    // Nothing collected yet: nothing is stale.
    let (status, body) = app.get("/api/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "ok");
    assert_eq!(body["data"]["db"], "ok");
    let keys: Vec<&str> = body["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["connectwise", "ninjaone", "quickbooks"]);
    assert!(body["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["last_success"].is_null() && v["stale"] == false));

    add_organization(&app.db, 2, false).await;
    add_organization(&app.db, 3, true).await;
    // ConnectWise: 2 h ago in org 1 (a newer failure does not count).
    add_run(&app.db, 1, &["connectwise"], "success", 2).await;
    add_run(&app.db, 1, &["connectwise"], "failed", 1).await;
    // NinjaOne: 40 h in org 1, 30 h in org 2: the newest, 30 h, is fresh.
    add_run(&app.db, 1, &["connectwise", "ninjaone"], "success", 40).await;
    add_run(&app.db, 2, &["ninjaone"], "success", 30).await;
    // QuickBooks: only in an archived organization (1 h), else 50 h ago.
    add_run(&app.db, 3, &["quickbooks"], "success", 1).await;
    add_run(&app.db, 2, &["quickbooks"], "success", 50).await;

    // Public: no session, no key.
    let res = app.anon.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["status"], "stale", "{body}");
    let hours = |key: &str| vendor(&body, key)["hours_since_success"].as_f64().unwrap();
    let cw = vendor(&body, "connectwise");
    assert!((hours("connectwise") - 2.0).abs() < 0.1, "{cw}");
    assert_eq!(cw["stale"], false);
    assert!((hours("ninjaone") - 30.0).abs() < 0.1, "{body}");
    assert_eq!(vendor(&body, "ninjaone")["stale"], false);
    assert!((hours("quickbooks") - 50.0).abs() < 0.1, "{body}");
    assert_eq!(vendor(&body, "quickbooks")["stale"], true);
    let last = vendor(&body, "connectwise")["last_success"]
        .as_str()
        .unwrap();
    let last: chrono::DateTime<chrono::Utc> = last.parse().unwrap();
    assert!(
        (chrono::Utc::now() - last - chrono::Duration::hours(2))
            .num_seconds()
            .abs()
            < 60
    );
    // No organization's name, id or error in a public answer.
    let text = body.to_string();
    for secret in ["Org 2", "org-2", "broken", "organization"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// A free TCP port number (it names the test cluster's socket).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn health_is_503_while_the_database_is_down_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let pg_dir = dir.path().join("pg");
    let port = free_port();
    let start = |dir: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || PgCluster::start(&dir, Some(port)))
    };
    let pg = start(pg_dir.clone()).await.unwrap().unwrap();
    backend::db::ensure_database(&pg.database_url("postgres"), "qbr")
        .await
        .unwrap();
    let url = pg.database_url("qbr");
    backend::db::run_migrations(&url).await.unwrap();
    let pool = backend::db::pool(&url, 2).unwrap();
    let running = start_server(
        pool,
        |_| test_auth_config(),
        std::path::Path::new("/nonexistent"),
    )
    .await;
    let http = reqwest::Client::new();
    let health = || async {
        let res = http
            .get(format!("{}/api/health", running.base))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap())
    };
    assert_eq!(health().await.0, 200);

    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .unwrap()
        .unwrap();
    let down = health().await;
    assert_error(&down, 503, "INTERNAL");
    assert_eq!(
        down.1["error"]["message"],
        "The database is unavailable; try again shortly"
    );
    assert!(
        !down.1.to_string().contains("pg"),
        "no internals: {}",
        down.1
    );

    // Back up: the pool reconnects on its own.
    let _pg = start(pg_dir).await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = health().await;
        if status == 200 {
            assert_eq!(body["data"]["db"], "ok");
            break;
        }
        assert!(Instant::now() < deadline, "health stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- who reads /metrics

/// The in-process service with `token` and `site`.
fn service(db: &TestDb, token: Option<&str>, site: Site) -> salvo::Service {
    let mut state = AppState::new(db.pool.clone(), 1);
    state.metrics_token = token.map(std::sync::Arc::from);
    backend::server::service(
        state,
        backend::auth::Auth::new(test_auth_config()).unwrap(),
        &site,
    )
}

/// `GET /metrics` from `peer` with `headers`: the status, the body and `WWW-Authenticate`.
async fn scrape_from(
    service: &salvo::Service,
    peer: [u8; 4],
    headers: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut req = TestClient::get("http://qbr.test/metrics");
    for (name, value) in headers {
        let name = salvo::http::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
        let value = salvo::http::header::HeaderValue::from_str(value).unwrap();
        req = req.add_header(name, value, true);
    }
    let mut req = req.build();
    *req.remote_addr_mut() =
        salvo::conn::SocketAddr::from(std::net::SocketAddr::from((peer, 40000)));
    let mut res = service.handle(req).await;
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let status = res.status_code.unwrap().as_u16();
    (status, res.take_string().await.unwrap(), challenge)
}

fn error_code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_go_to_this_machine_or_to_the_token() {
    let db = TestDb::new().await;
    let local = [127, 0, 0, 1];
    let remote = [203, 0, 113, 9];
    let open = service(&db, None, Site::at_root("/nonexistent"));
    let (status, body, _) = scrape_from(&open, local, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("qbr_build_info{version="), "{body}");
    let (status, body, _) = scrape_from(&open, remote, &[]).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "FORBIDDEN"),
        "{body}"
    );
    // Through a reverse proxy on this machine: not local, whoever the client is.
    let (status, _, _) = scrape_from(&open, local, &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(status, 403);
    let (status, _, _) = scrape_from(&open, local, &[("forwarded", "for=127.0.0.1")]).await;
    assert_eq!(status, 403);
    // A trusted proxy's client decides.
    let mut proxied = Site::at_root("/nonexistent");
    proxied.trusted_proxies = TrustedProxies::parse("10.0.0.5").unwrap();
    let behind = service(&db, None, proxied);
    let (status, _, _) = scrape_from(
        &behind,
        [10, 0, 0, 5],
        &[("x-forwarded-for", "198.51.100.7")],
    )
    .await;
    assert_eq!(status, 403);

    let token = "a-metrics-token-of-32-characters";
    let guarded = service(&db, Some(token), Site::at_root("/nonexistent"));
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong-token-of-some-length")],
        vec![("authorization", token)],
    ] {
        let (status, body, challenge) = scrape_from(&guarded, local, &headers).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (401, "UNAUTHENTICATED"),
            "{headers:?}"
        );
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"qbr metrics\""));
    }
    let bearer = format!("Bearer {token}");
    let (status, body, _) = scrape_from(&guarded, remote, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("# TYPE qbr_http_requests_total counter"),
        "{body}"
    );
}

// ---------------------------------------------------------------- a scrape, read strictly

/// A metric name, or a label name (`[a-zA-Z_][a-zA-Z0-9_]*`; names also allow `:`).
fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// The labels of a sample (`{a="x",b="y"}`), checked: names, quotes, escapes.
fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").ok_or(format!("no =\" in {rest}"))?;
        if !is_name(name, false) {
            return Err(format!("label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => return Err(format!("escape {other:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value in {text}")),
            }
        };
        labels.insert(name.to_string(), value);
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    Ok(labels)
}

/// One sample: its name, labels and value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Reads a scrape line by line by the text format's grammar (0.0.4): `# HELP`, `# TYPE`
/// with a known type before the metric's samples, samples of declared metrics only;
/// fails on anything else.
fn strict_samples(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let name = help.split(' ').next().unwrap_or_default();
            if !is_name(name, true) {
                return Err(format!("HELP of {name:?}"));
            }
            continue;
        }
        if let Some(ty) = line.strip_prefix("# TYPE ") {
            let (name, kind) = ty.split_once(' ').ok_or(format!("TYPE line {line}"))?;
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(format!("type {kind}"));
            }
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') {
            return Err(format!("comment {line}"));
        }
        let (series, value) = line.rsplit_once(' ').ok_or(format!("sample {line}"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| format!("value in {line}"))?,
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (
                name,
                parse_labels(rest.strip_suffix('}').ok_or(format!("labels in {line}"))?)?,
            ),
            None => (series, BTreeMap::new()),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(format!("{name} has no # TYPE before it"));
        }
        samples.push((name.to_string(), labels, value));
    }
    Ok(samples)
}

/// The value of `name` with exactly these labels (plus any others when `partial`).
fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
                && (name.ends_with("_bucket") || l.len() == labels.len())
        })
        .map(|s| s.2)
}

// ---------------------------------------------------------------- a qbr serve of its own

/// `qbr serve` on `db`, with `env`, on a free loopback port.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(db: &TestDb, env: &[(&str, String)]) -> Served {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_qbr"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("QBR_LISTEN", format!("127.0.0.1:{port}"))
        .env("QBR_AUTHORIZED_USERS", TEST_USER)
        .env("QBR_DIST_DIR", "/nonexistent")
        .env("QBR_DB_POOL_SIZE", "5")
        .env("RUST_LOG", "warn")
        .env_remove("QBR_METRICS_TOKEN")
        .env_remove("QBR_BACKUP_DIR")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{}/api/health", served.base)).send().await {
            if res.status() == 200 {
                return served;
            }
        }
        assert!(
            served.child.try_wait().unwrap().is_none(),
            "qbr serve exited"
        );
        assert!(Instant::now() < deadline, "qbr serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scrape(http: &reqwest::Client, base: &str) -> (String, Vec<Sample>) {
    let res = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let samples = strict_samples(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, samples)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_routes_runs_vendor_calls_and_the_pool() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    // One 500 first: retried, and counted as an error.
    cw.faults.fail_next.store(1, Ordering::SeqCst);
    // One scheduled run, once the server has surely started (it takes a second or two).
    let at = chrono::Utc::now() + chrono::Duration::seconds(12);
    let cron = at.format("%S %M %H * * *").to_string();
    let mut env: Vec<(&str, String)> = cw.env();
    env.extend([
        ("COLLECTOR_ENABLED", "true".to_string()),
        ("COLLECTOR_CRON", cron),
        ("COLLECTOR_TIMEZONE", "UTC".to_string()),
        ("COLLECTOR_WINDOW_MONTHS", "1".to_string()),
    ]);
    let served = serve(&db, &env).await;
    assert!(
        chrono::Utc::now() < at,
        "qbr serve took too long to start to see its run"
    );
    let token = create_session(&db, TEST_USER, 1).await;
    let http = reqwest::Client::builder()
        .default_headers(
            [
                ("cookie", format!("qbr_session={token}")),
                ("origin", served.base.clone()),
            ]
            .into_iter()
            .map(|(k, v)| {
                (
                    reqwest::header::HeaderName::from_static(k),
                    v.parse().unwrap(),
                )
            })
            .collect(),
        )
        .build()
        .unwrap();
    let call = |method: reqwest::Method, path: &str| {
        let req = http.request(method, format!("{}{path}", served.base));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    for _ in 0..3 {
        assert_eq!(call(reqwest::Method::GET, "/api/qbr/thresholds").await, 200);
    }
    for id in ["12345", "67890"] {
        assert_eq!(
            call(reqwest::Method::DELETE, &format!("/api/qbr/users/{id}")).await,
            404
        );
    }
    assert_eq!(
        call(reqwest::Method::GET, "/api/qbr/no/such/route").await,
        404
    );

    // Wait for the scheduled run to end (polling its log).
    let deadline = Instant::now() + Duration::from_secs(60);
    let requests = loop {
        let mut conn = db.conn().await;
        let runs = backend::store::collection::latest(&mut conn, 1, 10)
            .await
            .unwrap();
        if let Some(r) = runs.iter().find(|r| r.status == "success") {
            break r.request_count;
        }
        assert!(
            runs.iter().all(|r| r.status != "failed"),
            "the scheduled run failed: {:?}",
            runs[0].error
        );
        assert!(Instant::now() < deadline, "no scheduled run: {runs:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The run counts once it has recorded its end: poll the scrape for it.
    let anon = reqwest::Client::new();
    let (text, samples) = loop {
        let (text, samples) = scrape(&anon, &served.base).await;
        let run = [("trigger", "schedule"), ("status", "success")];
        if value_of(&samples, "qbr_collection_runs_total", &run) == Some(1.0) {
            break (text, samples);
        }
        assert!(Instant::now() < deadline, "no run in the metrics:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let get = |name: &str, labels: &[(&str, &str)]| {
        value_of(&samples, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"))
    };
    let thresholds = [("method", "GET"), ("route", "/api/qbr/thresholds")];
    assert_eq!(
        get(
            "qbr_http_requests_total",
            &[thresholds[0], thresholds[1], ("status", "200")]
        ),
        3.0
    );
    assert_eq!(
        get("qbr_http_request_duration_seconds_count", &thresholds),
        3.0
    );
    let users = [("method", "DELETE"), ("route", "/api/qbr/users/{user_id}")];
    assert_eq!(
        get(
            "qbr_http_requests_total",
            &[users[0], users[1], ("status", "404")]
        ),
        2.0
    );
    assert!(
        !text.contains("12345") && !text.contains("no/such"),
        "raw paths in\n{text}"
    );
    assert_eq!(
        get(
            "qbr_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/{**rest}"),
                ("status", "404")
            ]
        ),
        1.0
    );
    // Buckets grow to +Inf, which is the count; the sum is a time.
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == "qbr_http_request_duration_seconds_bucket"
                && l.get("route").map(String::as_str) == Some("/api/qbr/thresholds")
        })
        .map(|(_, l, v)| (l["le"].parse::<f64>().unwrap_or(f64::INFINITY), *v))
        .collect();
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "{buckets:?}"
    );
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 3.0)));
    let sum = get("qbr_http_request_duration_seconds_sum", &thresholds);
    assert!(sum > 0.0 && sum < 30.0, "{sum}");

    // The scheduled run, its vendor calls (the 500 and its retry included) and errors.
    assert_eq!(
        get(
            "qbr_collection_run_duration_seconds_count",
            &[("trigger", "schedule"), ("status", "success")]
        ),
        1.0
    );
    let sent = get("qbr_vendor_requests_total", &[("vendor", "connectwise")]);
    assert_eq!(sent, f64::from(requests), "the run's log says {requests}");
    assert_eq!(sent, cw.requests.load(Ordering::SeqCst) as f64);
    assert_eq!(
        get(
            "qbr_vendor_request_errors_total",
            &[("vendor", "connectwise"), ("reason", "http_5xx")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "qbr_vendor_request_duration_seconds_count",
            &[("vendor", "connectwise")]
        ),
        sent
    );

    // The pool, as configured, and the version.
    assert_eq!(get("qbr_db_pool_max_connections", &[]), 5.0);
    let idle = get("qbr_db_pool_connections", &[("state", "idle")]);
    let in_use = get("qbr_db_pool_connections", &[("state", "in_use")]);
    assert!(
        idle + in_use >= 1.0 && idle + in_use <= 5.0,
        "{idle} {in_use}"
    );
    assert_eq!(get("qbr_db_pool_waiting_requests", &[]), 0.0);
    assert_eq!(
        get("qbr_build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
        1.0
    );
    // A second reader agrees (prometheus-parse, as a scraper would read it).
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let total: f64 = parsed
        .samples
        .iter()
        .filter(|s| {
            s.metric == "qbr_http_requests_total"
                && s.labels.get("route") == Some("/api/qbr/thresholds")
        })
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(total, 3.0);

    // What a scrape costs (the server's side, over loopback).
    let started = Instant::now();
    let n = 50;
    for _ in 0..n {
        let res = anon
            .get(format!("{}/metrics", served.base))
            .send()
            .await
            .unwrap();
        let _ = res.bytes().await.unwrap();
    }
    println!(
        "scrape: {} bytes, {} samples, {:.2} ms each ({n} scrapes)",
        text.len(),
        samples.len(),
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
    );
}
