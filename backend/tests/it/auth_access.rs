//! Access control over real HTTP: every protected route refuses anonymous requests,
//! sessions (expiry, allow-list, logout, restart), CSRF and CORS, API keys (scopes,
//! revocation, rate limits, management), development sign-in, and the audit log.

use crate::common::*;
use serde_json::{json, Value};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn cookie(token: &str) -> String {
    format!("qbr_session={token}")
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let (_, body) = app.get("/api/qbr/audit?limit=200").await;
    body["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_protected_route_refuses_anonymous_requests() {
    let app = TestApp::spawn().await;
    let (status, doc) = send(app.anon.get(app.url("/api/openapi.json"))).await;
    assert_eq!(status, 200);
    // The Web Connector's SOAP service checks its own tickets; Intuit's redirect back
    // carries a single-use state.
    let public = |p: &str| {
        ["/api/health", "/api/openapi.json", "/api/qbwc"].contains(&p)
            || p.starts_with("/api/auth/")
            || p == "/api/qbr/quickbooks/online/callback"
    };
    let mut checked = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(&path.replace("{id}", "1"));
            let req = match method.as_str() {
                "get" => app.anon.get(&url),
                "post" => app.anon.post(&url).json(&json!({})),
                "put" => app.anon.put(&url).json(&json!({})),
                "delete" => app.anon.delete(&url),
                other => panic!("unexpected method {other} on {path}"),
            };
            let resp = send(req).await;
            if public(path) {
                // Public: answers on its own terms (status reports "not signed in").
                if path != "/api/auth/status" {
                    assert_ne!(resp.0, 401, "{method} {path} is public");
                }
            } else {
                assert_error(&resp, 401, "UNAUTHENTICATED");
                assert!(
                    ops[method]["security"]
                        .as_array()
                        .is_some_and(|s| !s.is_empty()),
                    "{method} {path} documents how to authenticate"
                );
                checked.push(format!("{method} {path}"));
            }
        }
    }
    for must in [
        "get /api/qbr/smartnumbers",
        "post /api/qbr/metrics/manual",
        "post /api/qbr/thresholds",
        "get /api/qbr/audit",
        "get /api/admin/api-keys",
        "post /api/admin/api-keys",
        "delete /api/admin/api-keys/{id}",
    ] {
        assert!(
            checked.iter().any(|c| c == must),
            "{must} not walked: {checked:?}"
        );
    }
    assert!(checked.len() >= 18, "{checked:?}");
    for scheme in ["session", "bearer", "api_key"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    // A junk cookie or key is no better.
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .header("cookie", cookie("nope")),
        )
        .await,
        401,
        "UNAUTHENTICATED",
    );
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth("qbr_nope"),
        )
        .await,
        401,
        "UNAUTHENTICATED",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_says_who_is_signed_in() {
    let app = TestApp::spawn().await;
    let (status, body) = send(app.anon.get(app.url("/api/auth/status"))).await;
    assert_error(&(status, body.clone()), 401, "UNAUTHENTICATED");
    assert_eq!(body["authenticated"], false);
    let (status, body) = send(app.http.get(app.url("/api/auth/status"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["authenticated"], true);
    assert_eq!(body["data"]["user"]["email"], TEST_USER);
    assert!(body["data"]["expires_at"].as_str().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_is_refused_and_cleaned_up() {
    let app = TestApp::spawn().await;
    let token = create_session(&app.db, TEST_USER, -1).await;
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .header("cookie", cookie(&token)),
        )
        .await,
        401,
        "UNAUTHENTICATED",
    );
    let (sessions, logins) = backend::maintenance::cleanup_auth(&app.db.pool)
        .await
        .unwrap();
    assert_eq!((sessions, logins), (1, 0));
    assert!(audit_actions(&app)
        .await
        .contains(&("auth.session_expired".into(), TEST_USER.into())));
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_ends_the_session_server_side() {
    let app = TestApp::spawn().await;
    let token = create_session(&app.db, TEST_USER, 8).await;
    let get = || {
        app.anon
            .get(app.url("/api/qbr/thresholds"))
            .header("cookie", cookie(&token))
    };
    assert_eq!(send(get()).await.0, 200);
    let res = app
        .anon
        .post(app.url("/api/auth/logout"))
        .header("cookie", cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cleared = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cleared.starts_with("qbr_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The server forgot it: the old cookie no longer works anywhere, and the browser
    // is told to drop it.
    let res = get().send().await.unwrap();
    assert_eq!(res.status(), 401);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(audit_actions(&app)
        .await
        .contains(&("auth.logout".into(), TEST_USER.into())));
    // GET works too (for links), and logging out twice is harmless.
    assert_eq!(send(app.anon.get(app.url("/api/auth/logout"))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_writes_need_an_allowed_origin() {
    let app = TestApp::spawn().await;
    let token = create_session(&app.db, TEST_USER, 8).await;
    let body = json!({"metric_name": "rhem", "green_max": 0.3, "yellow_max": 0.5});
    let post = || {
        app.anon
            .post(app.url("/api/qbr/thresholds"))
            .header("cookie", cookie(&token))
            .json(&body)
    };
    assert_error(&send(post()).await, 403, "CSRF_REJECTED");
    assert_error(
        &send(post().header("origin", "https://evil.example")).await,
        403,
        "CSRF_REJECTED",
    );
    assert_error(
        &send(post().header("referer", "https://evil.example/page")).await,
        403,
        "CSRF_REJECTED",
    );
    assert_eq!(
        send(post().header("origin", "http://localhost:8080"))
            .await
            .0,
        200
    );
    assert_eq!(
        send(post().header("referer", "https://dashboards.enersystems.com/qbr/x"))
            .await
            .0,
        200
    );
    assert_eq!(
        send(post().header("origin", app.base.as_str())).await.0,
        200,
        "same origin"
    );
    // Reads need no Origin; API keys are exempt (no ambient credentials).
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .header("cookie", cookie(&token))
        )
        .await
        .0,
        200
    );
    // A write key edits data (thresholds are the admins'); no Origin needed.
    let key = create_api_key(&app.db, "writer", "write").await;
    let entry =
        json!({"period": "2025-01", "metrics": [{"metric_name": "mrr", "metric_value": 1.0}]});
    assert_eq!(
        send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .bearer_auth(&key)
                .json(&entry)
        )
        .await
        .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_preflight_for_allowed_and_foreign_origins() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &str| {
        app.anon
            .request(reqwest::Method::OPTIONS, app.url("/api/qbr/thresholds"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let res = preflight("http://localhost:8080").await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(
        h.get("access-control-allow-origin").unwrap(),
        "http://localhost:8080"
    );
    assert_eq!(h.get("access-control-allow-credentials").unwrap(), "true");
    let methods = h
        .get("access-control-allow-methods")
        .unwrap()
        .to_str()
        .unwrap();
    for m in ["GET", "POST", "PUT", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let res = preflight("https://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // An ordinary request from an allowed origin gets the header too.
    let res = app
        .http
        .get(app.url("/api/qbr/thresholds"))
        .header("origin", "https://dashboards.enersystems.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "https://dashboards.enersystems.com"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_read_and_write_scopes() {
    let app = TestApp::spawn().await;
    let read = create_api_key(&app.db, "reader", "read").await;
    let write = create_api_key(&app.db, "writer", "write").await;
    assert!(read.starts_with("qbr_") && read.len() >= 4 + 43);
    let manual =
        json!({"period": "2025-01", "metrics": [{"metric_name": "mrr", "metric_value": 1000}]});
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth(&read)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .header("x-api-key", &read)
        )
        .await
        .0,
        200
    );
    assert_error(
        &send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .bearer_auth(&read)
                .json(&manual),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_eq!(
        send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .header("x-api-key", &write)
                .json(&manual)
        )
        .await
        .0,
        200
    );
    // The write is recorded as the key's.
    let (_, history) = app
        .get("/api/qbr/metrics/history?period=2025-01&metric_name=mrr")
        .await;
    assert_eq!(
        history["data"]["entries"][0]["changed_by"], "apikey:writer",
        "{history}"
    );
    // The organization comes from the key, never from the request.
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds?organization_id=2"))
                .bearer_auth(&read),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    let other_org = json!({"period": "2025-01", "organization_id": 2,
        "metrics": [{"metric_name": "mrr", "metric_value": 1}]});
    assert_error(
        &send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .bearer_auth(&write)
                .json(&other_org),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    // The audit log says who and from where.
    let (_, audit) = app.get("/api/qbr/audit?limit=10").await;
    let entry = audit["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "metrics.manual_entry")
        .unwrap()
        .clone();
    assert_eq!(entry["actor"], "apikey:writer");
    assert_eq!(entry["ip"], "127.0.0.1");
    // Keys can't manage keys.
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/admin/api-keys"))
                .bearer_auth(&write),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    // last_used_at is kept.
    let (_, list) = app.get("/api/admin/api-keys").await;
    let reader = list["data"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "reader")
        .unwrap()
        .clone();
    assert!(reader["last_used_at"].as_str().is_some(), "{reader}");
    assert_eq!(reader["scopes"], json!(["read"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_managed_by_signed_in_users_and_revocation_is_immediate() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(
            "/api/admin/api-keys",
            &json!({"name": "reporting", "scope": "read"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["data"]["key"].as_str().unwrap().to_string();
    let id = created["data"]["info"]["id"].as_i64().unwrap();
    assert_eq!(created["data"]["info"]["created_by"], TEST_USER);
    assert!(key.starts_with(created["data"]["info"]["key_prefix"].as_str().unwrap()));
    // Listed without the key.
    let (_, list) = app.get("/api/admin/api-keys").await;
    assert!(!list.to_string().contains(&key));
    assert_eq!(list["data"]["keys"][0]["name"], "reporting");
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth(&key)
        )
        .await
        .0,
        200
    );
    // Bad input.
    assert_error(
        &app.post(
            "/api/admin/api-keys",
            &json!({"name": "x", "scope": "admin"}),
        )
        .await,
        400,
        "INVALID_BODY",
    );
    // One active key per name.
    assert_error(
        &app.post(
            "/api/admin/api-keys",
            &json!({"name": "Reporting", "scope": "write"}),
        )
        .await,
        409,
        "CONFLICT",
    );
    // Revoke.
    let (status, revoked) = send(
        app.http
            .delete(app.url(&format!("/api/admin/api-keys/{id}"))),
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["data"]["revoked_at"].as_str().is_some());
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth(&key),
        )
        .await,
        401,
        "UNAUTHENTICATED",
    );
    assert_error(
        &send(
            app.http
                .delete(app.url(&format!("/api/admin/api-keys/{id}"))),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&("api_key.create".into(), TEST_USER.into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("api_key.revoke".into(), TEST_USER.into())),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::spawn_with(|_| {
        let mut c = test_auth_config();
        c.limits.key_reads_per_minute = 3;
        c.limits.key_writes_per_minute = 1;
        c.limits.sign_in_per_minute = 2;
        c.dev_login = true;
        c
    })
    .await;
    let key = create_api_key(&app.db, "busy", "write").await;
    for _ in 0..3 {
        assert_eq!(
            send(
                app.anon
                    .get(app.url("/api/qbr/thresholds"))
                    .bearer_auth(&key)
            )
            .await
            .0,
            200
        );
    }
    let res = app
        .anon
        .get(app.url("/api/qbr/thresholds"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = res.json().await.unwrap();
    assert_error(&(429, body), 429, "RATE_LIMITED");
    // Writes are counted apart.
    let body =
        json!({"period": "2025-01", "metrics": [{"metric_name": "mrr", "metric_value": 1.0}]});
    assert_eq!(
        send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .bearer_auth(&key)
                .json(&body)
        )
        .await
        .0,
        200
    );
    assert_error(
        &send(
            app.anon
                .post(app.url("/api/qbr/metrics/manual"))
                .bearer_auth(&key)
                .json(&body),
        )
        .await,
        429,
        "RATE_LIMITED",
    );
    // Sign-in endpoints, per client IP.
    for _ in 0..2 {
        let s = send(app.anon.get(app.url("/api/auth/dev/login?email=local")))
            .await
            .0;
        assert_eq!(s, 302);
    }
    let res = app
        .anon
        .get(app.url("/api/auth/dev/login?email=local"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn development_sign_in() {
    // Off by default.
    let app = TestApp::spawn().await;
    assert_eq!(
        send(app.anon.get(app.url("/api/auth/dev/login?email=local")))
            .await
            .0,
        404
    );

    let app = TestApp::spawn_with(|_| {
        let mut c = test_auth_config();
        c.dev_login = true;
        c.secure_cookie = false;
        c.frontend_url = "/".into();
        c
    })
    .await;
    // The login page learns how to sign in (anonymously).
    let methods: serde_json::Value = app
        .anon
        .get(app.url("/api/auth/methods"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        methods["data"],
        json!({"microsoft": false, "dev_login_users": ["local"]})
    );
    let res = app
        .anon
        .get(app.url("/api/auth/dev/login?email=LOCAL"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers().get("location").unwrap(), "/");
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        !set.contains("Secure"),
        "plain-http loopback development: {set}"
    );
    let token = set
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("qbr_session=")
        .unwrap()
        .to_string();
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .header("cookie", cookie(&token))
        )
        .await
        .0,
        200
    );
    // Not on the list: refused, no session.
    let res = app
        .anon
        .get(app.url("/api/auth/dev/login?email=stranger@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&("auth.sign_in".into(), TEST_USER.into())));
    assert!(actions.contains(&("auth.sign_in_denied".into(), "stranger@example.com".into())));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_survives_a_restart_and_works_on_another_replica() {
    let app = TestApp::spawn_with(|_| {
        let mut c = test_auth_config();
        c.dev_login = true;
        c
    })
    .await;
    let res = app
        .anon
        .get(app.url("/api/auth/dev/login?email=local"))
        .send()
        .await
        .unwrap();
    let token = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("qbr_session=")
        .unwrap()
        .to_string();
    // A second server process state (new limiters, new config) on the same database,
    // with a pool of its own: nothing of the session lived in the first one.
    let pool = backend::db::pool(&app.db.url, 2).unwrap();
    let other = start_server(
        pool,
        |_| test_auth_config(),
        std::path::Path::new("/nonexistent"),
    )
    .await;
    let (status, body) = send(
        app.anon
            .get(format!("{}/api/auth/status", other.base))
            .header("cookie", cookie(&token)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["email"], TEST_USER);
    // Logging out on one ends it on both.
    send(
        app.anon
            .post(format!("{}/api/auth/logout", other.base))
            .header("cookie", cookie(&token)),
    )
    .await;
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/auth/status"))
                .header("cookie", cookie(&token))
        )
        .await
        .0,
        401
    );
}

#[test]
fn dev_sign_in_refuses_to_start_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qbr"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("QBR_DATA_DIR", dir.path().join("data"))
        .env("QBR_LISTEN", "0.0.0.0:5999")
        .env("AUTH_DEV_LOGIN", "true")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AUTH_DEV_LOGIN"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "refused before starting anything"
    );
}

/// `qbr apikey create|list|revoke` against a test database.
#[tokio::test(flavor = "multi_thread")]
async fn api_keys_from_the_command_line() {
    let app = TestApp::spawn().await;
    let qbr = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qbr"))
            .args(["apikey"])
            .args(args)
            .env("DATABASE_URL", &app.db.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (ok, key, err) = qbr(&[
        "create",
        "--name",
        "exporter",
        "--scope",
        "read",
        "--created-by",
        "ops@example.com",
    ]);
    assert!(ok, "{err}");
    let key = key.trim().to_string();
    assert!(key.starts_with("qbr_"), "{key}");
    assert_eq!(
        send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth(&key)
        )
        .await
        .0,
        200
    );
    let (ok, list, _) = qbr(&["list"]);
    assert!(ok);
    assert!(
        list.contains("exporter") && list.contains("ops@example.com"),
        "{list}"
    );
    assert!(!list.contains(&key), "never the key itself");
    let id = list
        .lines()
        .find(|l| l.contains("exporter"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let (ok, out, err) = qbr(&["revoke", &id]);
    assert!(ok, "{err}");
    assert!(out.contains("revoked"), "{out}");
    assert_error(
        &send(
            app.anon
                .get(app.url("/api/qbr/thresholds"))
                .bearer_auth(&key),
        )
        .await,
        401,
        "UNAUTHENTICATED",
    );
    let (ok, _, err) = qbr(&["revoke", &id]);
    assert!(!ok && err.contains("no active API key"), "{err}");
    let (ok, _, _) = qbr(&["create", "--name", "x", "--scope", "admin"]);
    assert!(!ok, "unknown scope refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_methods_hide_the_development_users_when_it_is_off() {
    let app = TestApp::spawn().await;
    let res = app
        .anon
        .get(app.url("/api/auth/methods"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let methods: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        methods["data"],
        json!({"microsoft": false, "dev_login_users": []})
    );
}
