//! Several organizations: platform administrators create them, admins give roles,
//! every route checks the role it needs, and no request of a member of A reaches B's
//! data — walked over every operation of the OpenAPI document (path, query and body).

use crate::common::*;
use serde_json::{json, Value};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A client signed in as `email` (a session made in the database) from the app's origin.
pub(crate) async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let token = create_session(&app.db, email, 8).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", format!("qbr_session={token}").parse().unwrap());
    headers.insert("origin", app.base.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Organization A (1, the reference data, admins `local` and amy) and B ("Beta MSP",
/// admin bob, viewer carol, an API key, a note), each with a secret in its data.
struct Two {
    app: TestApp,
    b: i64,
    b_key: i64,
    carol: i64,
    bob: reqwest::Client,
}

async fn two_organizations() -> Two {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let note = json!({"period": "2025-01", "metrics": [
        {"metric_name": "mrr", "metric_value": 7.0, "notes": "ALPHA-SECRET"}]});
    assert_eq!(app.post("/api/qbr/metrics/manual", &note).await.0, 200);
    // `local` is a bootstrap admin, so a platform administrator.
    let (status, b) = app
        .post(
            "/api/admin/organizations",
            &json!({"name": "Beta MSP", "slug": "beta", "admin_email": "Bob@Beta.example"}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let b_id = b["data"]["id"].as_i64().unwrap();
    let bob = signed_in(&app, "bob@beta.example").await;
    let q = format!("?organization_id={b_id}");
    let entry = json!({"period": "2025-01", "metrics": [
        {"metric_name": "mrr", "metric_value": 9.0, "notes": "BETA-SECRET"}]});
    let r = send(
        bob.post(app.url(&format!("/api/qbr/metrics/manual{q}")))
            .json(&entry),
    )
    .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let r = send(
        bob.post(app.url(&format!("/api/admin/api-keys{q}")))
            .json(&json!({"name": "beta-sync", "scope": "write"})),
    )
    .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let b_key = r.1["data"]["info"]["id"].as_i64().unwrap();
    let r = send(
        bob.post(app.url(&format!("/api/qbr/users{q}")))
            .json(&json!({"email": "carol@beta.example", "role": "viewer"})),
    )
    .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let carol = r.1["data"]["user_id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/qbr/users",
            &json!({"email": "amy@alpha.example", "role": "admin"}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    Two {
        app,
        b: b_id,
        b_key,
        carol,
        bob,
    }
}

/// Every protected operation of the document: (method, path template, required role).
async fn operations(app: &TestApp) -> Vec<(String, String, String)> {
    let (_, doc) = app.get("/api/openapi.json").await;
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(role) = op["x-required-role"].as_str() {
                out.push((method.clone(), path.clone(), role.to_string()));
            }
        }
    }
    assert!(out.len() >= 35, "only {} protected operations", out.len());
    out
}

fn leaks(text: &str) -> bool {
    [
        "BETA-SECRET",
        "bob@beta",
        "carol@beta",
        "beta-sync",
        "Beta MSP",
    ]
    .iter()
    .any(|s| text.contains(s))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_of_a_never_reaches_b() {
    let two = two_organizations().await;
    let app = &two.app;
    let amy = signed_in(app, "amy@alpha.example").await;
    let before = checksum(&app.db).await;
    let b = two.b;
    let mut walked = 0;
    for (method, template, role) in operations(app).await {
        if role == "platform-admin" {
            continue; // organizations themselves: amy is no platform administrator (below)
        }
        let path = template
            .replace("{id}", &two.b_key.to_string())
            .replace("{user_id}", &two.carol.to_string());
        let has_ids = path != template;
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        // 1. B named in the query: the guard refuses before any handler runs.
        let url = app.url(&format!(
            "{path}?organization_id={b}&period=2025-01&from=2025-01&to=2025-03"
        ));
        let (status, body) = send(amy.request(method.clone(), &url).json(&json!({}))).await;
        let text = body.to_string();
        assert_eq!(status, 403, "{method} {url}: {text}");
        assert_eq!(body["error"]["code"], "FORBIDDEN", "{method} {url}: {text}");
        assert!(!leaks(&text), "{method} {url}: {text}");
        // 2. B named only in a JSON body.
        if method != reqwest::Method::GET {
            let url = app.url(&path);
            let (status, body) = send(
                amy.request(method.clone(), &url)
                    .json(&json!({"organization_id": b})),
            )
            .await;
            let text = body.to_string();
            // Refused, or (a handler that takes no organization from its body) done
            // in amy's own organization: never B's data (and, below, nothing changed).
            assert!(!leaks(&text), "{method} {url}: {text}");
            assert!(
                status < 500,
                "{method} {url} with B in the body: {status} {text}"
            );
        }
        // 3. B's objects by id, in amy's own organization: they are not there.
        if has_ids {
            let url = app.url(&path);
            let (status, body) = send(
                amy.request(method.clone(), &url)
                    .json(&json!({"role": "admin"})),
            )
            .await;
            let text = body.to_string();
            assert!(
                status == 404 || status == 405,
                "{method} {url}: {status} {text}"
            );
            assert!(!leaks(&text), "{method} {url}: {text}");
        }
        walked += 1;
    }
    assert!(walked >= 30, "walked {walked}");
    assert_eq!(
        checksum(&app.db).await,
        before,
        "a refused request changed something"
    );
    // B is as it was: its key and viewer are still there.
    let (_, members) = send(
        two.bob
            .get(app.url(&format!("/api/qbr/users?organization_id={b}"))),
    )
    .await;
    assert!(
        members.to_string().contains("carol@beta.example"),
        "{members}"
    );
    let (_, keys) = send(
        two.bob
            .get(app.url(&format!("/api/admin/api-keys?organization_id={b}"))),
    )
    .await;
    assert!(
        keys.to_string().contains("beta-sync") && !keys.to_string().contains("revoked_at\":\"2"),
        "{keys}"
    );
    // Organizations are the platform administrators'.
    let r = send(amy.get(app.url("/api/admin/organizations"))).await;
    assert_error(&r, 403, "FORBIDDEN");
    let r = send(
        amy.put(app.url(&format!("/api/admin/organizations/{b}")))
            .json(&json!({"archived": true})),
    )
    .await;
    assert_error(&r, 403, "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread")]
async fn b_answers_b_and_a_key_of_a_cannot_read_b() {
    let two = two_organizations().await;
    let app = &two.app;
    let b = two.b;
    // Bob's reads are B's: its own note, not A's.
    let (status, range) = send(two.bob.get(app.url(&format!(
        "/api/qbr/export?format=csv&from=2025-01&to=2025-03&organization_id={b}"
    ))))
    .await;
    assert_eq!(status, 200, "{range}");
    let text = range.to_string();
    assert!(
        text.contains("BETA-SECRET") && !text.contains("ALPHA-SECRET"),
        "{text}"
    );
    // Without organization_id, bob's only organization is the default.
    let (_, range) = send(
        two.bob
            .get(app.url("/api/qbr/export?format=csv&from=2025-01&to=2025-03")),
    )
    .await;
    assert!(range.to_string().contains("BETA-SECRET"), "{range}");
    // The status lists each user's organizations.
    let (_, status) = send(two.bob.get(app.url("/api/auth/status"))).await;
    assert_eq!(
        status["data"]["organizations"][0]["slug"], "beta",
        "{status}"
    );
    assert_eq!(
        status["data"]["organizations"][0]["role"], "admin",
        "{status}"
    );
    assert_eq!(status["data"]["platform_admin"], false, "{status}");
    // A key of A can't name B, and reads A.
    let key = create_api_key(&app.db, "alpha-reader", "read").await;
    let r = send(
        app.anon
            .get(app.url(&format!(
                "/api/qbr/export?format=csv&from=2025-01&to=2025-03&organization_id={b}"
            )))
            .header("x-api-key", &key),
    )
    .await;
    assert_error(&r, 403, "FORBIDDEN");
    let (_, own) = send(
        app.anon
            .get(app.url("/api/qbr/export?format=csv&from=2025-01&to=2025-03"))
            .header("x-api-key", &key),
    )
    .await;
    assert!(
        own.to_string().contains("ALPHA-SECRET") && !leaks(&own.to_string()),
        "{own}"
    );
    // An archived organization: its members and keys stop at once.
    let r = app
        .http
        .put(app.url(&format!("/api/admin/organizations/{b}")))
        .json(&json!({"archived": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(
        two.bob
            .get(app.url(&format!("/api/qbr/periods?organization_id={b}"))),
    )
    .await;
    assert_eq!(r.0, 401, "bob has no organization left: {}", r.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_checks_the_role_it_needs() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    for (email, role) in [
        ("victor@alpha.example", "viewer"),
        ("eddie@alpha.example", "editor"),
    ] {
        let r = app
            .post("/api/qbr/users", &json!({"email": email, "role": role}))
            .await;
        assert_eq!(r.0, 201, "{}", r.1);
    }
    let victor = signed_in(&app, "victor@alpha.example").await;
    let eddie = signed_in(&app, "eddie@alpha.example").await;
    let rank = |r: &str| ["viewer", "editor", "admin"].iter().position(|x| *x == r);
    let mut refused = (0, 0);
    for (method, template, role) in operations(&app).await {
        let Some(needed) = rank(&role) else { continue };
        let path = template
            .replace("{id}", "999999")
            .replace("{user_id}", "999999");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for (client, has, count) in [(&victor, 0, &mut refused.0), (&eddie, 1, &mut refused.1)] {
            let (status, body) = send(
                client
                    .request(method.clone(), app.url(&format!("{path}?period=2025-01")))
                    .json(&json!({})),
            )
            .await;
            let role_refusal = status == 403
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("needed"));
            if has < needed {
                assert!(
                    role_refusal,
                    "{method} {path} needs {role}: {status} {body}"
                );
                *count += 1;
            } else {
                assert!(
                    !role_refusal,
                    "{method} {path} allows rank {has}: {status} {body}"
                );
            }
        }
    }
    assert!(
        refused.0 >= 15 && refused.1 >= 8,
        "refusals (viewer, editor): {refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn members_keys_and_the_last_admin() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/qbr/users",
            &json!({"email": "Eddie@Alpha.example", "role": "editor"}),
        )
        .await;
    assert_eq!(r.0, 201, "{}", r.1);
    let eddie_id = r.1["data"]["user_id"].as_i64().unwrap();
    assert_eq!(r.1["data"]["email"], "eddie@alpha.example");
    let again = app
        .post(
            "/api/qbr/users",
            &json!({"email": "eddie@alpha.example", "role": "viewer"}),
        )
        .await;
    assert_error(&again, 409, "CONFLICT");
    let bad = app
        .post(
            "/api/qbr/users",
            &json!({"email": "not-an-email", "role": "viewer"}),
        )
        .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
    let bad = app
        .post(
            "/api/qbr/users",
            &json!({"email": "x@y.example", "role": "owner"}),
        )
        .await;
    assert_eq!(bad.0, 400, "{}", bad.1);

    // Eddie's write key works while eddie may write.
    let eddie = signed_in(&app, "eddie@alpha.example").await;
    let r = send(
        eddie
            .post(app.url("/api/admin/api-keys"))
            .json(&json!({"name": "k", "scope": "write"})),
    )
    .await;
    assert_error(&r, 403, "FORBIDDEN"); // keys are the admins'
    let (_, created) = app
        .post(
            "/api/admin/api-keys",
            &json!({"name": "admin-made", "scope": "write"}),
        )
        .await;
    let admin_key = created["data"]["key"].as_str().unwrap().to_string();
    let write =
        json!({"period": "2025-02", "metrics": [{"metric_name": "mrr", "metric_value": 5.0}]});
    let with_key = |key: &str| {
        app.anon
            .post(app.url("/api/qbr/metrics/manual"))
            .header("x-api-key", key.to_string())
            .json(&write)
    };
    assert_eq!(send(with_key(&admin_key)).await.0, 200);

    // The admin who made the key becomes a viewer: the write key stops (another admin first).
    let r = app
        .post(
            "/api/qbr/users",
            &json!({"email": "amy@alpha.example", "role": "admin"}),
        )
        .await;
    assert_eq!(r.0, 201);
    let amy_id = r.1["data"]["user_id"].as_i64().unwrap();
    let (_, list) = app.get("/api/qbr/users").await;
    let local_id = list["data"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == TEST_USER)
        .unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let r = app
        .http
        .put(app.url(&format!("/api/qbr/users/{local_id}")))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(with_key(&admin_key)).await;
    assert_error(&r, 401, "UNAUTHENTICATED");
    // A key made with the CLI has no creator and keeps working.
    let cli_key = create_api_key(&app.db, "cli-made", "write").await;
    assert_eq!(send(with_key(&cli_key)).await.0, 200);

    // Removing eddie (no other organization) ends his sessions at once.
    let amy = signed_in(&app, "amy@alpha.example").await;
    let r = send(amy.delete(app.url(&format!("/api/qbr/users/{eddie_id}")))).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_error(
        &send(eddie.get(app.url("/api/qbr/periods"))).await,
        401,
        "UNAUTHENTICATED",
    );
    let mut conn = app.db.conn().await;
    let left: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT count(*) AS n FROM sessions WHERE email = 'eddie@alpha.example'"),
        &mut conn,
    )
    .await
    .map(|r: Count| r.n)
    .unwrap();
    assert_eq!(left, 0);

    // The last admin can neither leave nor step down.
    let r = send(
        amy.put(app.url(&format!("/api/qbr/users/{amy_id}")))
            .json(&json!({"role": "editor"})),
    )
    .await;
    assert_error(&r, 409, "CONFLICT");
    let r = send(amy.delete(app.url(&format!("/api/qbr/users/{amy_id}")))).await;
    assert_error(&r, 409, "CONFLICT");
    // Every change is in the audit log.
    let (_, audit) = send(amy.get(app.url("/api/qbr/audit?limit=100"))).await;
    let text = audit.to_string();
    for action in ["member.add", "member.role_change", "member.remove"] {
        assert!(text.contains(action), "{action}: {text}");
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn organizations_are_created_checked_and_archived() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/admin/organizations", &json!({"name": "Gamma IT, Inc.", "admin_email": "gina@gamma.example", "timezone": "Europe/Berlin"})).await;
    assert_eq!(r.0, 201, "{}", r.1);
    assert_eq!(r.1["data"]["slug"], "gamma-it-inc");
    let dup = app
        .post(
            "/api/admin/organizations",
            &json!({"name": "Other", "slug": "gamma-it-inc", "admin_email": "x@y.example"}),
        )
        .await;
    assert_error(&dup, 409, "CONFLICT");
    for bad in [
        json!({"name": "", "admin_email": "x@y.example"}),
        json!({"name": "Z", "slug": "Bad Slug", "admin_email": "x@y.example"}),
        json!({"name": "Z", "timezone": "Mars/Olympus", "admin_email": "x@y.example"}),
        json!({"name": "Z", "admin_email": "nobody"}),
    ] {
        let before = checksum(&app.db).await;
        let r = app.post("/api/admin/organizations", &bad).await;
        assert_eq!(r.0, 400, "{bad}: {}", r.1);
        assert_eq!(checksum(&app.db).await, before);
    }
    // The new organization has the default thresholds, and its admin can sign in.
    let gina = signed_in(&app, "gina@gamma.example").await;
    let (status, thresholds) = send(gina.get(app.url("/api/qbr/thresholds"))).await;
    assert_eq!(status, 200, "{thresholds}");
    assert!(
        thresholds["data"].to_string().contains("rhem"),
        "{thresholds}"
    );
    let (_, list) = app.get("/api/admin/organizations").await;
    assert_eq!(
        list["data"]["organizations"].as_array().unwrap().len(),
        2,
        "{list}"
    );
}
