//! The ways of hosting the dashboard (README "Production"; issue 13), each in real
//! headless Chromium against the real `qbr serve`:
//!
//! - split hosts (mode 2): the SPA built for `/qbr/` and configured with `qbr spa
//!   configure`, served by a plain static server at `http://dashboards.qbr.test:P1/qbr/`;
//!   the API at `http://api.qbr.test:P2`. Chromium maps `*.qbr.test` (one site) and
//!   `evil.test` (another) to 127.0.0.1. Dev and Microsoft sign-in, numbers, a deep
//!   link, a save (CSRF), the report, logout; a foreign origin refused (CORS, CSRF);
//! - behind a reverse proxy under `/qbr` (mode 3);
//! - `trunk serve` proxying `/api/` to `qbr serve` (mode 4), when trunk is installed.
//!
//! Skipped, with a note, when chromedriver or chromium is not installed.

use crate::browser_harness::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::reverse_proxy::ReverseProxy;
use test_support::static_site::StaticSite;

/// The hostnames of the tests, all 127.0.0.1 for Chromium: `*.qbr.test` are one site
/// (like `dashboards.enersystems.com` and `db-api.enersystems.com`), `evil.test`
/// another.
const RESOLVER: &str = "--host-resolver-rules=MAP *.qbr.test 127.0.0.1, MAP evil.test 127.0.0.1";

/// Copies the directory `from` to `to` (Trunk's staging directory left out).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".stage" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Console messages that mean the hosting is wrong: the page's Content-Security-Policy
/// refused something, or CORS blocked a call.
fn hosting_errors(console: &[String]) -> Vec<&String> {
    console
        .iter()
        .filter(|m| {
            m.contains("Content Security Policy")
                || m.contains("blocked by CORS")
                || m.contains("Refused to")
        })
        .collect()
}

/// Mode 2: the SPA on a static server, the API on another host of the same site.
struct SplitHosts {
    server: Server,
    site: StaticSite,
    /// `http://dashboards.qbr.test:P1/qbr/`
    spa: String,
    /// `http://api.qbr.test:P2`
    api: String,
    /// What `qbr spa configure` printed.
    configure_out: String,
    _dir: tempfile::TempDir,
}

impl SplitHosts {
    async fn start(extra_env: &[(&str, &str)]) -> SplitHosts {
        let dir = tempfile::tempdir().unwrap();
        let www = dir.path().join("qbr");
        copy_dir(&dist_qbr(), &www);
        let api_port = free_port();
        let api = format!("http://api.qbr.test:{api_port}");
        // As an admin does after every build.
        let out = Command::new(env!("CARGO_BIN_EXE_qbr"))
            .args(["spa", "configure", "--dist"])
            .arg(&www)
            .args(["--api-base-url", &api])
            .env("RUST_LOG", "warn")
            .output()
            .expect("run qbr spa configure");
        assert!(
            out.status.success(),
            "qbr spa configure: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let configure_out = String::from_utf8_lossy(&out.stdout).into_owned();
        let config: Value =
            serde_json::from_slice(&std::fs::read(www.join("config.json")).unwrap()).unwrap();
        assert_eq!(config["api_base_url"], json!(api));
        let index = std::fs::read_to_string(www.join("index.html")).unwrap();
        assert!(
            index.contains("http-equiv=\"Content-Security-Policy\"")
                && index.contains(&format!("connect-src 'self' {api}")),
            "no CSP for the API in index.html: {index}"
        );
        // The headers it says the static server must send are the ones ours sends.
        let told = configure_out
            .split_once("must also send")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("no headers for the static server: {configure_out}"));
        let mut headers = 0;
        for line in told.lines() {
            let Some((name, value)) = line.trim().split_once(": ") else {
                continue;
            };
            if name == "Cache-Control" {
                continue;
            }
            headers += 1;
            assert!(
                test_support::static_site::SECURITY_HEADERS
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && *v == value.trim()),
                "{name}: {value}"
            );
        }
        assert!(headers >= 4, "{configure_out}");
        let site = StaticSite::start(&www, "/qbr/").await;
        let spa = format!("http://dashboards.qbr.test:{}/qbr/", site.port);
        let mut env = vec![
            ("API_BASE_URL".to_string(), api.clone()),
            ("FRONTEND_URL".to_string(), spa.clone()),
        ];
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let server = Server::start_opts(ServerOptions {
            env,
            dist: None,
            port: Some(api_port),
            ..ServerOptions::default()
        })
        .await;
        SplitHosts {
            server,
            site,
            spa,
            api,
            configure_out,
            _dir: dir,
        }
    }

    /// The SPA's address for `route` (no leading slash).
    fn at(&self, route: &str) -> String {
        format!("{}{route}", self.spa)
    }

    /// Requests for the SPA's files that failed (a 404 under /qbr/: a broken link).
    fn missing_files(&self) -> Vec<String> {
        self.site
            .served()
            .into_iter()
            .filter(|s| s.status == 404 && s.path.starts_with("/qbr/"))
            .map(|s| s.path)
            .collect()
    }
}

/// Waits (20 s) until `script` returns true; otherwise fails saying where the page is,
/// what it shows and what the console said.
async fn wait_until(b: &Browser, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.js(script).await != json!(true) {
        if Instant::now() > deadline {
            let page = b
                .js("return document.body ? document.body.innerText.slice(0, 600) : '';")
                .await;
            panic!(
                "timed out waiting for {what}: at {}, showing {page}, console {:#?}",
                b.location().await,
                b.console().await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page's path is `path`.
async fn wait_path(b: &Browser, path: &str) {
    wait_until(
        b,
        &format!("the page at {path}"),
        &format!("return location.pathname === {};", json!(path)),
    )
    .await;
}

/// `fetch(url, {credentials: 'include'})` in the page: `[status, content-type]`, or
/// `["rejected", error name]` when the browser refuses (CORS).
async fn page_fetch(b: &Browser, url: &str, init: &str) -> Value {
    b.js(&format!(
        "return fetch({}, Object.assign({{credentials: 'include'}}, {init})) \
           .then(r => [r.status, r.headers.get('content-type')], e => ['rejected', e.name]);",
        json!(url)
    ))
    .await
}

/// The dashboard's numbers of the worked example (2025-Q1), and that the page runs
/// without CSP or CORS trouble.
async fn assert_dashboard(b: &Browser, url: &str) {
    b.goto(url).await;
    assert_eq!(b.text(&card_value("rhem")).await, "0.25 h (15 min)");
    assert_eq!(b.text(&card_value("net_profit_pct")).await, "10.5%");
    assert_eq!(card_status(b, "rhem").await, "yellow");
}

/// A Monthly Business Review cell saved through the page, as the API then reports it.
async fn save_review_cell(b: &Browser, server: &Server, url: &str, value: &str) {
    b.goto(url).await;
    b.click("button#cell-new_mrr-2025-03").await;
    b.type_into("input#cell-new_mrr-2025-03", &format!("{value}\u{E007}"))
        .await;
    let notice = b.text("#review-notice").await;
    assert!(notice.starts_with("Saved"), "save failed: {notice}");
    assert_eq!(
        stored(server, "2025-03", "new_mrr").await,
        Some((value.parse().unwrap(), "manual".into()))
    );
}

/// The drill-down of `rhem` for 2025-Q1 opened by its address: the formula with the
/// real numbers and its chart (echarts loaded from under the public path).
async fn assert_drilldown(b: &Browser, url: &str) {
    b.goto(url).await;
    let filled = b.text("#formula-filled").await;
    assert!(
        filled.contains("452.1 h") && filled.ends_with("0.25 h (15 min)"),
        "{filled}"
    );
    b.wait_for(
        "the chart",
        "return !!document.querySelector('#drill-chart canvas');",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn split_hosts_sign_in_numbers_deep_link_save_report_logout() {
    if !browser_available() {
        return;
    }
    let h = SplitHosts::start(&[]).await;
    h.server.load_reference().await;
    let b = Browser::start_with_args("America/Chicago", &[RESOLVER]).await;
    b.resize(1280, 800).await;

    // Not signed in: the SPA's own login page, under /qbr/.
    b.goto(&h.spa).await;
    wait_path(&b, "/qbr/login").await;
    assert_eq!(b.text("#ms-login").await, "Sign in with Microsoft");
    // Its sign-in links go to the API host.
    let dev = format!("{}/api/auth/dev/login?email=e2e%40example.com", h.api);
    b.wait_attr("#dev-login", "href", &dev).await;
    b.wait_attr(
        "#ms-login",
        "href",
        &format!("{}/api/auth/microsoft/login", h.api),
    )
    .await;
    // The files came from the static server: config.json (no-cache) and the assets.
    let served = h.site.served();
    assert!(
        served
            .iter()
            .any(|s| s.path == "/qbr/config.json" && s.status == 200),
        "{served:?}"
    );

    // The dev sign-in: the API sets its cookie and sends the browser back to the SPA.
    b.click("#dev-login").await;
    wait_until(
        &b,
        "back on the SPA",
        &format!(
            "return location.href.startsWith({}) && location.pathname !== '/qbr/login' \
             && !!document.querySelector('.card-value');",
            json!(h.spa)
        ),
    )
    .await;
    let landed = b.location().await;
    assert!(!landed.contains("/api/"), "{landed}");
    // The latest quarter's cards show numbers.
    let value = b.text(".card-value").await;
    assert!(value.chars().any(|c| c.is_ascii_digit()), "{value}");

    // The worked example by its address (a deep link under /qbr/).
    assert_dashboard(&b, &h.at("dashboard/2025-Q1")).await;
    b.screenshot("hosting-split-dashboard-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("hosting-split-dashboard-800x1100").await;
    b.resize(1280, 800).await;
    // Navigation inside the SPA stays under /qbr/.
    let hrefs = b
        .js("return [...document.querySelectorAll('a.nav-link')].map(a => a.getAttribute('href'));")
        .await;
    for href in hrefs.as_array().unwrap() {
        assert!(
            href.as_str().unwrap().starts_with("/qbr/"),
            "nav link {href} outside /qbr/"
        );
    }
    b.click("a.nav-link[href='/qbr/o/enersystems-llc/review']")
        .await;
    wait_path(&b, "/qbr/o/enersystems-llc/review").await;
    b.click(".tabs a.tab[href='/qbr/o/enersystems-llc/trends']")
        .await;
    wait_path(&b, "/qbr/o/enersystems-llc/trends").await;
    b.element("#trend-chart-0 canvas").await;

    assert_drilldown(&b, &h.at("numbers/rhem/2025-Q1")).await;
    b.screenshot("hosting-split-drilldown-1280x800").await;

    // A save: a cookie-authenticated write from the SPA's origin passes CSRF.
    save_review_cell(&b, &h.server, &h.at("review"), "2000").await;

    // The report link points at the API host and downloads with the session.
    b.goto(&h.at("dashboard/2025-Q1")).await;
    let href = b
        .wait_for(
            "the report link",
            "const a = document.querySelector('#report-pdf'); return a && a.href;",
        )
        .await;
    let href = href.as_str().unwrap();
    assert!(
        href.starts_with(&format!("{}/api/qbr/report?period=2025-Q1", h.api)),
        "{href}"
    );
    assert_eq!(
        b.js(&format!(
            "return fetch({}, {{credentials: 'include'}}).then(async r => [r.status, \
               r.headers.get('content-type'), \
               new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))]);",
            json!(href)
        ))
        .await,
        json!([200, "application/pdf", "%PDF-"])
    );
    let export = b
        .js("const a = document.querySelector('#export-csv'); return a && a.href;")
        .await;
    assert!(
        export
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("{}/api/qbr/export?", h.api))),
        "{export}"
    );

    let console = b.console().await;
    assert!(hosting_errors(&console).is_empty(), "{console:#?}");
    assert!(h.missing_files().is_empty(), "{:?}", h.missing_files());
    // Every API call went to the API host, none to the static server.
    let astray: Vec<_> = h
        .site
        .served()
        .into_iter()
        .filter(|s| s.path.contains("/api/"))
        .collect();
    assert!(astray.is_empty(), "{astray:?}");

    // Log out: the login page under /qbr/, and the API refuses the old session.
    b.click(".top-actions button.ghost").await;
    wait_path(&b, "/qbr/login").await;
    assert_eq!(
        page_fetch(&b, &format!("{}/api/qbr/periods", h.api), "{}").await[0],
        401
    );
    // A deep link now ends on the login page too.
    b.goto(&h.at("review")).await;
    wait_path(&b, "/qbr/login").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn split_hosts_microsoft_sign_in() {
    if !browser_available() {
        return;
    }
    let (idp_url, idp) = crate::auth_microsoft::fake_idp().await;
    idp.lock().unwrap().user = Some(crate::auth_microsoft::user("Alice@Example.com"));
    let users = format!("{E2E_USER},alice@example.com");
    let h = SplitHosts::start(&[
        ("AZURE_TENANT_ID", crate::auth_microsoft::TENANT),
        ("AZURE_CLIENT_ID", crate::auth_microsoft::CLIENT_ID),
        ("AZURE_CLIENT_SECRET", crate::auth_microsoft::SECRET),
        ("AZURE_AUTHORITY_URL", &idp_url),
        ("GRAPH_URL", &idp_url),
        ("QBR_AUTHORIZED_USERS", &users),
    ])
    .await;
    h.server.load_reference().await;
    let b = Browser::start_with_args("America/Chicago", &[RESOLVER]).await;
    b.resize(1280, 800).await;
    b.goto(&h.spa).await;
    wait_path(&b, "/qbr/login").await;
    b.wait_attr(
        "#ms-login",
        "href",
        &format!("{}/api/auth/microsoft/login", h.api),
    )
    .await;
    assert_eq!(
        b.js("return document.querySelector('#ms-not-configured') === null;")
            .await,
        true,
        "Microsoft sign-in shows as not configured"
    );
    // API → provider → API callback → FRONTEND_URL, all in the browser.
    b.click("#ms-login").await;
    wait_until(
        &b,
        "back on the SPA, signed in",
        &format!(
            "return location.href.startsWith({}) && location.pathname !== '/qbr/login' \
             && !!document.querySelector('.card-value');",
            json!(h.spa)
        ),
    )
    .await;
    assert_eq!(b.text(".top-actions .user").await, "Alice Example");
    assert_dashboard(&b, &h.at("dashboard/2025-Q1")).await;
    let console = b.console().await;
    assert!(hosting_errors(&console).is_empty(), "{console:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn split_hosts_refuse_a_foreign_origin() {
    if !browser_available() {
        return;
    }
    let h = SplitHosts::start(&[]).await;
    h.server.load_reference().await;
    // Another site, with a page of its own.
    let evil_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        evil_dir.path().join("index.html"),
        "<!doctype html><title>Elsewhere</title><p id=here>another site</p>",
    )
    .unwrap();
    let evil_site = StaticSite::start(evil_dir.path(), "/").await;
    let evil = format!("http://evil.test:{}", evil_site.port);
    let spa_origin = h.spa.trim_end_matches("/qbr/").to_string();

    // Signed in to the API in this browser.
    let b = Browser::start_with_args("America/Chicago", &[RESOLVER]).await;
    b.goto(&h.spa).await;
    wait_path(&b, "/qbr/login").await;
    b.click("#dev-login").await;
    wait_until(
        &b,
        "signed in",
        "return location.pathname !== '/qbr/login' && !!document.querySelector('.card-value');",
    )
    .await;
    let periods = format!("{}/api/qbr/periods", h.api);
    assert_eq!(page_fetch(&b, &periods, "{}").await[0], 200);

    // From the other site: reads are refused by CORS, with or without credentials.
    b.goto(&format!("{evil}/")).await;
    b.wait_text("#here", "another site").await;
    assert_eq!(
        page_fetch(&b, &periods, "{}").await,
        json!(["rejected", "TypeError"])
    );
    assert_eq!(
        page_fetch(&b, &periods, "{credentials: 'omit'}").await,
        json!(["rejected", "TypeError"])
    );
    // A JSON write needs a preflight, which fails; a "simple" one goes out but
    // changes nothing (no session cookie across sites, and CSRF).
    let write = format!("{}/api/qbr/metrics/manual", h.api);
    let body =
        json!({"period": "2025-03", "metrics": [{"metric_name": "new_mrr", "metric_value": 666}]})
            .to_string();
    assert_eq!(
        page_fetch(
            &b,
            &write,
            &format!(
                "{{method: 'POST', headers: {{'content-type': 'application/json'}}, body: {}}}",
                json!(body)
            )
        )
        .await,
        json!(["rejected", "TypeError"])
    );
    assert_eq!(
        page_fetch(
            &b,
            &write,
            &format!(
                "{{method: 'POST', headers: {{'content-type': 'text/plain'}}, body: {}}}",
                json!(body)
            )
        )
        .await,
        json!(["rejected", "TypeError"])
    );
    assert_ne!(
        stored(&h.server, "2025-03", "new_mrr").await.map(|v| v.0),
        Some(666.0)
    );
    // The browser said why (and the other tests would see such messages).
    let console = b.console().await;
    assert!(
        console.iter().any(|m| m.contains("blocked by CORS")),
        "{console:#?}"
    );
    b.close().await;

    // CORS by the headers: the SPA's origin may call with credentials, the other not.
    let preflight = |origin: &str| {
        h.server
            .anon
            .request(
                reqwest::Method::OPTIONS,
                h.server.url("/api/qbr/metrics/manual"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(&spa_origin).await.unwrap();
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        header(&ok, "access-control-allow-origin").as_deref(),
        Some(spa_origin.as_str()),
        "{:?}",
        ok.headers()
    );
    assert_eq!(
        header(&ok, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let refused = preflight(&evil).await.unwrap();
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        None,
        "{:?}",
        refused.headers()
    );

    // CSRF: the session cookie with the other site's Origin is refused; with the SPA's
    // (or the API's own) it passes.
    let cookie = h.server.session_cookie().await;
    let post = |origin: String, value: i64| {
        let cookie = cookie.clone();
        let url = h.server.url("/api/qbr/metrics/manual");
        let client = h.server.anon.clone();
        async move {
            let r = client
                .post(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .json(&json!({"period": "2025-03", "metrics": [{"metric_name": "new_mrr", "metric_value": value}]}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = post(evil.clone(), 667).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "CSRF_REJECTED", "{body}");
    assert_ne!(
        stored(&h.server, "2025-03", "new_mrr").await.map(|v| v.0),
        Some(667.0)
    );
    let (status, body) = post(spa_origin.clone(), 1500).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        stored(&h.server, "2025-03", "new_mrr").await,
        Some((1500.0, "manual".into()))
    );
    let (status, body) = post(h.api.clone(), 1600).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reverse_proxy_under_a_prefix() {
    if !browser_available() {
        return;
    }
    let qbr_port = free_port();
    let proxy = ReverseProxy::start(&format!("http://127.0.0.1:{qbr_port}")).await;
    let public = format!("http://proxy.qbr.test:{}/qbr", proxy.port);
    let server = Server::start_opts(ServerOptions {
        // (No QBR_TRUSTED_PROXIES: with it, the development sign-in is refused.)
        env: vec![("API_BASE_URL".into(), public.clone())],
        dist: Some(dist_qbr()),
        public_path: "/qbr".into(),
        port: Some(qbr_port),
    })
    .await;
    server.load_reference().await;

    // Through the proxy, without a browser: the prefix and nothing outside it.
    let via = |path: &str| {
        server
            .anon
            .get(format!("{}{path}", proxy.url))
            .header("host", format!("proxy.qbr.test:{}", proxy.port))
            .send()
    };
    let r = via("/qbr").await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location == "/qbr/" || location == format!("{public}/"),
        "{location}"
    );
    assert_eq!(via("/qbr/api/health").await.unwrap().status(), 200);
    assert_eq!(via("/api/health").await.unwrap().status(), 404);
    assert_eq!(via("/").await.unwrap().status(), 404);
    let config: Value = via("/qbr/config.json").await.unwrap().json().await.unwrap();
    assert_eq!(config["api_base_url"], "/qbr");
    // The session cookie is scoped to the prefix.
    let r = via(&format!("/qbr/api/auth/dev/login?email={E2E_USER}"))
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Path=/qbr"), "{cookie}");

    let b = Browser::start_with_args("America/Chicago", &[RESOLVER]).await;
    b.resize(1280, 800).await;
    b.goto(&format!("{public}/")).await;
    wait_path(&b, "/qbr/login").await;
    b.wait_attr(
        "#dev-login",
        "href",
        "/qbr/api/auth/dev/login?email=e2e%40example.com",
    )
    .await;
    b.click("#dev-login").await;
    wait_until(
        &b,
        "signed in",
        "return location.pathname.startsWith('/qbr/') && location.pathname !== '/qbr/login' \
         && !!document.querySelector('.card-value');",
    )
    .await;
    assert_dashboard(&b, &format!("{public}/dashboard/2025-Q1")).await;
    b.screenshot("hosting-prefix-dashboard-1280x800").await;
    assert_drilldown(&b, &format!("{public}/numbers/rhem/2025-Q1")).await;
    save_review_cell(&b, &server, &format!("{public}/review"), "2100").await;
    b.goto(&format!("{public}/dashboard/2025-Q1")).await;
    b.wait_attr(
        "#report-pdf",
        "href",
        "/qbr/api/qbr/report?period=2025-Q1&format=pdf&paper=letter&tz=America%2FChicago&organization_id=1",
    )
    .await;
    assert_eq!(
        b.js(
            "return fetch(document.querySelector('#report-pdf').href).then(async r => [r.status, \
              new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))]);"
        )
        .await,
        json!([200, "%PDF-"])
    );
    let console = b.console().await;
    assert!(hosting_errors(&console).is_empty(), "{console:#?}");
    b.click(".top-actions button.ghost").await;
    wait_path(&b, "/qbr/login").await;
    assert_eq!(
        b.js("return fetch('/qbr/api/qbr/periods').then(r => r.status);")
            .await,
        401
    );
    assert!(proxy.forwarded.load(std::sync::atomic::Ordering::Relaxed) > 10);
    b.close().await;
}

/// `trunk serve` with the repository's Trunk.toml, but proxying `/api/` to `qbr_port`
/// and serving on `port` (a copy of the file in `dir`).
fn trunk_config(dir: &Path, qbr_port: u16) -> PathBuf {
    let toml = std::fs::read_to_string(workspace().join("Trunk.toml")).unwrap();
    assert!(
        toml.contains("http://127.0.0.1:5400/api/"),
        "Trunk.toml no longer proxies /api/ to 127.0.0.1:5400: update this test"
    );
    let toml = toml.replace(
        "http://127.0.0.1:5400/api/",
        &format!("http://127.0.0.1:{qbr_port}/api/"),
    );
    let path = dir.join("Trunk.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn trunk_serve_proxies_the_api() {
    if !browser_available() {
        return;
    }
    if !trunk_available() {
        eprintln!("NOTE: trunk serve test skipped: trunk is not installed (scripts/install-deps.sh --frontend)");
        return;
    }
    let trunk_port = free_port();
    let front = format!("http://127.0.0.1:{trunk_port}");
    let server = Server::start_opts(ServerOptions {
        env: vec![
            ("API_BASE_URL".into(), front.clone()),
            ("FRONTEND_URL".into(), format!("{front}/")),
        ],
        ..ServerOptions::default()
    })
    .await;
    server.load_reference().await;

    let dir = tempfile::tempdir().unwrap();
    let config = trunk_config(dir.path(), server.port);
    use std::os::unix::process::CommandExt;
    let child = Command::new("trunk")
        .arg("--config")
        .arg(&config)
        .args([
            "serve",
            "--release",
            "--no-autoreload",
            "--address",
            "127.0.0.1",
        ])
        .args(["--port", &trunk_port.to_string()])
        .arg("--dist")
        .arg(dir.path().join("dist"))
        .arg(workspace().join("frontend/index.html"))
        .current_dir(workspace())
        .env("PATH", trunk_path())
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start trunk serve");
    let mut trunk = Driver(child);

    // Ready when it serves the built index.html (the release build can take minutes).
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        if let Ok(r) = http.get(format!("{front}/")).send().await {
            if r.status() == 200 && r.text().await.unwrap_or_default().contains("_bg.wasm") {
                break;
            }
        }
        if let Some(status) = trunk.0.try_wait().unwrap() {
            panic!("trunk serve ended: {status}");
        }
        assert!(Instant::now() < deadline, "trunk serve did not start");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let health = http
        .get(format!("{front}/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "trunk's proxy to qbr serve");

    let b = Browser::start("America/Chicago").await;
    b.goto(&format!("{front}/")).await;
    wait_path(&b, "/login").await;
    b.click("#dev-login").await;
    wait_until(
        &b,
        "signed in",
        "return location.pathname !== '/login' && !!document.querySelector('.card-value');",
    )
    .await;
    assert_dashboard(&b, &format!("{front}/dashboard/2025-Q1")).await;
    let console = b.console().await;
    assert!(hosting_errors(&console).is_empty(), "{console:#?}");
    b.close().await;
}
