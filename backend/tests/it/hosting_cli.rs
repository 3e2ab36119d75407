//! Hosting without a browser: `qbr serve` under a public path (routing, redirects,
//! `config.json`, the cookie's path, the guard seeing the inner path), the client
//! address through trusted proxies, `qbr spa configure`, and the start-up refusal of a
//! SPA built for another path. The browser walks through each mode in `hosting`.

use crate::common::*;
use backend::auth::Auth;
use backend::config::hosting::{PublicPath, Site, TrustedProxies};
use backend::http::AppState;
use diesel_async::RunQueryDsl;
use salvo::test::{ResponseExt, TestClient};
use salvo::Service;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A built SPA's `index.html` for `public_url`, shaped like Trunk's.
fn index_html(public_url: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\" />\n    \
         <base href=\"{public_url}\" />\n    <title>QBR Dashboard</title>\n    \
         <script src=\"echarts.min.js\" defer></script>\n<script type=\"module\">\n\
         import init from '{public_url}frontend-1.js';\nawait init();\n</script>\n  </head>\n  \
         <body></body>\n</html>\n"
    )
}

fn dist_for(public_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), index_html(public_url)).unwrap();
    std::fs::write(dir.path().join("echarts.min.js"), "/* echarts */").unwrap();
    dir
}

async fn service_under(db: &TestDb, dist: &Path, public_path: &str, proxies: &str) -> Service {
    make_admin(db, TEST_USER).await;
    let mut config = test_auth_config();
    config.dev_login = true;
    config.secure_cookie = false;
    config.cookie_path = PublicPath::parse(public_path)
        .unwrap()
        .cookie_path()
        .to_string();
    let site = Site {
        dist_dir: dist.to_path_buf(),
        public_path: PublicPath::parse(public_path).unwrap(),
        trusted_proxies: TrustedProxies::parse(proxies).unwrap(),
    };
    backend::server::service(
        AppState::new(db.pool.clone(), 1),
        Auth::new(config).unwrap(),
        &site,
    )
}

fn from(ip: [u8; 4], mut req: salvo::Request) -> salvo::Request {
    *req.remote_addr_mut() = salvo::conn::SocketAddr::from(std::net::SocketAddr::from((ip, 40000)));
    req
}

async fn call(service: &Service, req: salvo::Request) -> (u16, salvo::http::HeaderMap, String) {
    let mut res = service.handle(from([127, 0, 0, 1], req)).await;
    let body = res.take_string().await.unwrap_or_default();
    (
        res.status_code.map_or(200, |s| s.as_u16()),
        res.headers().clone(),
        body,
    )
}

fn header<'a>(headers: &'a salvo::http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_under_its_public_path_only() {
    let db = TestDb::new().await;
    let dist = dist_for("/qbr/");
    let service = service_under(&db, dist.path(), "/qbr", "").await;
    let base = "http://example.com";

    let (status, headers, _) =
        call(&service, TestClient::get(format!("{base}/qbr?x=1")).build()).await;
    assert_eq!((status, header(&headers, "location")), (308, "/qbr/?x=1"));

    let (status, headers, body) = call(
        &service,
        TestClient::get(format!("{base}/qbr/config.json")).build(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let config: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(config, serde_json::json!({"api_base_url": "/qbr"}));

    for page in ["/qbr/", "/qbr/numbers/rhem/2025-Q1", "/qbr/login"] {
        let (status, headers, body) =
            call(&service, TestClient::get(format!("{base}{page}")).build()).await;
        assert_eq!(status, 200, "{page}");
        assert!(body.contains("<base href=\"/qbr/\""), "{page}: {body}");
        let csp = header(&headers, "content-security-policy");
        assert!(
            csp.contains("connect-src 'self';") && csp.contains("'sha256-"),
            "{csp}"
        );
    }
    let (status, _, body) = call(
        &service,
        TestClient::get(format!("{base}/qbr/echarts.min.js")).build(),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "/* echarts */"));

    let (status, headers, body) = call(
        &service,
        TestClient::get(format!("{base}/qbr/api/health")).build(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "cache-control"), "no-store");

    // Outside the prefix: nothing, not even the API.
    for outside in ["/api/health", "/config.json", "/", "/qbrx/api/health"] {
        let (status, _, _) = call(
            &service,
            TestClient::get(format!("{base}{outside}")).build(),
        )
        .await;
        assert_eq!(status, 404, "{outside}");
    }
    // The guard and the API's fallbacks see the path inside the prefix.
    let (status, _, body) = call(
        &service,
        TestClient::get(format!("{base}/qbr/api/qbr/thresholds")).build(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("UNAUTHENTICATED"), "{body}");
    let (status, _, body) = call(
        &service,
        TestClient::get(format!("{base}/qbr/api/nope")).build(),
    )
    .await;
    assert!(
        status == 404 && body.contains("No route for GET /api/nope"),
        "{status} {body}"
    );
    let req = TestClient::delete(format!("{base}/qbr/api/health")).build();
    let (status, headers, _) = call(&service, req).await;
    assert_eq!((status, header(&headers, "allow")), (405, "GET, HEAD"));

    // Signing in sets a cookie for the prefix only and returns to the SPA.
    let req = TestClient::get(format!("{base}/qbr/api/auth/dev/login?email={TEST_USER}")).build();
    let res = service.handle(from([127, 0, 0, 1], req)).await;
    assert_eq!(res.status_code.map(|s| s.as_u16()), Some(302));
    let cookie = res.cookie("qbr_session").unwrap();
    assert_eq!(cookie.path(), Some("/qbr"));
    assert_eq!(cookie.same_site(), Some(salvo::http::cookie::SameSite::Lax));
    assert_eq!((cookie.http_only(), cookie.domain()), (Some(true), None));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_address_comes_from_trusted_proxies_only() {
    let db = TestDb::new().await;
    let dist = dist_for("/");
    let sign_in = |forwarded: &str| {
        from(
            [127, 0, 0, 1],
            TestClient::get(format!(
                "http://example.com/api/auth/dev/login?email={TEST_USER}"
            ))
            .add_header("x-forwarded-for", forwarded, true)
            .build(),
        )
    };
    let trusting = service_under(&db, dist.path(), "", "127.0.0.1").await;
    let res = trusting.handle(sign_in("6.6.6.6, 203.0.113.7")).await;
    assert_eq!(res.status_code.unwrap().as_u16(), 302);
    let not_trusting = service_under(&db, dist.path(), "", "").await;
    let res = not_trusting.handle(sign_in("203.0.113.8")).await;
    assert_eq!(res.status_code.unwrap().as_u16(), 302);
    let mut conn = db.conn().await;
    let ips: Vec<Option<String>> =
        diesel::sql_query("SELECT ip FROM audit_log WHERE action = 'auth.sign_in' ORDER BY id")
            .load::<IpRow>(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.ip)
            .collect();
    assert_eq!(
        ips,
        [
            Some("203.0.113.7".to_string()),
            Some("127.0.0.1".to_string())
        ]
    );
}

#[derive(diesel::QueryableByName)]
struct IpRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    ip: Option<String>,
}

fn qbr(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qbr"))
        .args(args)
        .env("RUST_LOG", "error")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn spa_configure_points_a_build_at_its_api() {
    let dist = dist_for("/qbr/");
    let dir = dist.path().to_str().unwrap();
    let original = std::fs::read_to_string(dist.path().join("index.html")).unwrap();
    let hashes = backend::http::csp::inline_script_hashes(&original);
    assert_eq!(hashes.len(), 1);

    let out = qbr(
        &[
            "spa",
            "configure",
            "--dist",
            dir,
            "--api-base-url",
            "https://api.example.com:5400/",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("frame-ancestors 'none'"), "{stdout}");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["api_base_url"], "https://api.example.com:5400");
    let html = std::fs::read_to_string(dist.path().join("index.html")).unwrap();
    let meta_at = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    assert!(
        meta_at > html.find("<meta charset").unwrap() && meta_at < html.find("<script").unwrap()
    );
    assert!(
        html.contains("connect-src 'self' https://api.example.com:5400;"),
        "{html}"
    );
    assert!(
        html.contains(&hashes[0]),
        "the bootstrap script is allowed: {html}"
    );

    // Again, for another API: one policy, the new origin; the rest of the file as built.
    let out = qbr(
        &[
            "spa",
            "configure",
            "--dist",
            dir,
            "--api-base-url",
            "https://other.example.com",
        ],
        &[],
    );
    assert!(out.status.success());
    let again = std::fs::read_to_string(dist.path().join("index.html")).unwrap();
    assert_eq!(
        again.matches("Content-Security-Policy").count(),
        1,
        "{again}"
    );
    assert!(again.contains("connect-src 'self' https://other.example.com;"));
    let without_meta: String = again
        .lines()
        .filter(|l| !l.contains("Content-Security-Policy"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without_meta, original);

    // A bad URL changes nothing.
    let out = qbr(
        &[
            "spa",
            "configure",
            "--dist",
            dir,
            "--api-base-url",
            "db-api:5400",
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--api-base-url"));
    assert_eq!(
        std::fs::read_to_string(dist.path().join("index.html")).unwrap(),
        again
    );
}

#[test]
fn serve_refuses_a_spa_built_for_another_path() {
    let dist = dist_for("/");
    let dir = dist.path().to_str().unwrap();
    // (Were the check missing, the server would start on a private cluster in `data`.)
    let data = tempfile::tempdir().unwrap();
    let data = data.path().to_str().unwrap();
    let env = [
        ("QBR_DIST_DIR", dir),
        ("QBR_PUBLIC_PATH", "/qbr"),
        ("QBR_LISTEN", "127.0.0.1:1"),
        ("QBR_DATA_DIR", data),
    ];
    let out = qbr(&["serve"], &env);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("trunk build --release --public-url /qbr/"),
        "{err}"
    );
    let out = qbr(&["serve"], &[("QBR_PUBLIC_PATH", "qbr/../x")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("QBR_PUBLIC_PATH"));
}
