//! Microsoft sign-in against a fake identity provider: a local salvo server that
//! implements authorize (redirects back with code and state), token (checks the PKCE
//! verifier, client id and secret, redirect URI; one-time codes) and Graph `/v1.0/me`.

use crate::common::*;
use backend::auth::config::MicrosoftConfig;
use base64::Engine;
use salvo::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(crate) const TENANT: &str = "tenant-1";
pub(crate) const CLIENT_ID: &str = "client-1";
pub(crate) const SECRET: &str = "s3cret";

/// A user as Graph describes them.
#[derive(Clone)]
pub(crate) struct FakeUser {
    pub(crate) mail: Option<String>,
    pub(crate) upn: String,
    pub(crate) name: String,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    nonce: String,
    user: FakeUser,
}

#[derive(Default)]
pub(crate) struct Idp {
    pub(crate) user: Option<FakeUser>,
    deny: bool,
    /// Answers with an ID token for another sign-in (a replayed/injected token).
    wrong_nonce: bool,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, FakeUser>,
    /// Why the token endpoint refused, for assertions.
    refusals: Vec<String>,
}

pub(crate) type Shared = Arc<Mutex<Idp>>;

fn shared(depot: &Depot) -> Shared {
    depot.get_typed::<Shared>().unwrap().clone()
}

#[handler]
async fn idp_authorize(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let idp = shared(depot);
    let q = |k: &str| req.query::<String>(k).unwrap_or_default();
    assert_eq!(q("client_id"), CLIENT_ID);
    assert_eq!(q("response_type"), "code");
    assert_eq!(q("code_challenge_method"), "S256");
    let scopes: Vec<String> = q("scope").split(' ').map(str::to_string).collect();
    for s in ["openid", "profile", "email", "User.Read"] {
        assert!(scopes.iter().any(|x| x == s), "scope {s} in {scopes:?}");
    }
    assert!(!q("nonce").is_empty());
    let redirect = q("redirect_uri");
    let state = q("state");
    let mut idp = idp.lock().unwrap();
    if idp.deny {
        res.render(Redirect::found(format!(
            "{redirect}?error=access_denied&error_description=The+user+declined&state={state}"
        )));
        return;
    }
    let code = format!("code-{}", rand::random::<u64>());
    let user = idp.user.clone().expect("a user to sign in");
    idp.codes.insert(
        code.clone(),
        Grant {
            challenge: q("code_challenge"),
            redirect_uri: redirect.clone(),
            nonce: q("nonce"),
            user,
        },
    );
    res.render(Redirect::found(format!(
        "{redirect}?code={code}&state={state}&session_state=x"
    )));
}

#[handler]
async fn idp_token(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let idp = shared(depot);
    let form = |v: Option<String>| v.unwrap_or_default();
    let grant_type = form(req.form::<String>("grant_type").await);
    let code = form(req.form::<String>("code").await);
    let verifier = form(req.form::<String>("code_verifier").await);
    let redirect_uri = form(req.form::<String>("redirect_uri").await);
    let client_id = form(req.form::<String>("client_id").await);
    let secret = form(req.form::<String>("client_secret").await);
    let mut idp = idp.lock().unwrap();
    let refusal =
        |idp: &mut Idp, res: &mut Response, status: StatusCode, error: &str, why: &str| {
            idp.refusals.push(why.to_string());
            res.status_code(status);
            res.render(Json(json!({"error": error, "error_description": why})));
        };
    if client_id != CLIENT_ID || secret != SECRET {
        return refusal(
            &mut idp,
            res,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client",
        );
    }
    if grant_type != "authorization_code" {
        return refusal(
            &mut idp,
            res,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant",
        );
    }
    // One-time codes: removed at first use, whatever happens next.
    let Some(grant) = idp.codes.remove(&code) else {
        return refusal(
            &mut idp,
            res,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code",
        );
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge {
        return refusal(
            &mut idp,
            res,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "pkce",
        );
    }
    if redirect_uri != grant.redirect_uri {
        return refusal(
            &mut idp,
            res,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri",
        );
    }
    let access = format!("at-{}", rand::random::<u64>());
    idp.tokens.insert(access.clone(), grant.user);
    let nonce = if idp.wrong_nonce {
        "someone-elses-nonce".to_string()
    } else {
        grant.nonce
    };
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"nonce": nonce, "aud": CLIENT_ID}).to_string());
    res.render(Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid profile email User.Read",
        "id_token": format!("eyJhbGciOiJub25lIn0.{claims}.sig"),
    })));
}

#[handler]
async fn idp_me(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let idp = shared(depot);
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let idp = idp.lock().unwrap();
    match idp.tokens.get(&token) {
        Some(u) => res.render(Json(json!({
            "mail": u.mail, "userPrincipalName": u.upn, "displayName": u.name
        }))),
        None => {
            res.status_code(StatusCode::UNAUTHORIZED);
            res.render(Json(
                json!({"error": {"code": "InvalidAuthenticationToken"}}),
            ));
        }
    }
}

/// Starts the fake provider; returns its base URL and state (also used by `hosting`).
pub(crate) async fn fake_idp() -> (String, Shared) {
    use salvo::conn::Acceptor;
    let state: Shared = Arc::default();
    let router = Router::new()
        .hoop(salvo::affix_state::inject(state.clone()))
        .push(Router::with_path("{tenant}/oauth2/v2.0/authorize").get(idp_authorize))
        .push(Router::with_path("{tenant}/oauth2/v2.0/token").post(idp_token))
        .push(Router::with_path("v1.0/me").get(idp_me));
    let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
    let port = acceptor.holdings()[0]
        .local_addr
        .clone()
        .into_std()
        .unwrap()
        .port();
    tokio::spawn(async move { Server::new(acceptor).serve(router).await });
    (format!("http://127.0.0.1:{port}"), state)
}

pub(crate) fn user(email: &str) -> FakeUser {
    FakeUser {
        mail: Some(email.to_string()),
        upn: email.to_string(),
        name: "Alice Example".to_string(),
    }
}

/// A server whose Microsoft settings point at a fresh fake provider.
async fn setup() -> (TestApp, String, Shared) {
    let (idp_base, idp) = fake_idp().await;
    let idp_url = idp_base.clone();
    let app = TestApp::spawn_with(move |base| {
        let mut c = test_auth_config();
        c.allow_list.replace([TEST_USER, "alice@example.com"]);
        c.microsoft = Some(MicrosoftConfig {
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
        });
        c.authority_url = idp_url.clone();
        c.graph_url = idp_url;
        c.api_base_url = base.to_string();
        c.frontend_url = "https://dashboards.example/qbr".into();
        c
    })
    .await;
    (app, idp_base, idp)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

/// Our login: 302 to the provider's authorize URL.
async fn start_login(app: &TestApp) -> String {
    let res = app
        .anon
        .get(app.url("/api/auth/microsoft/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    location(&res)
}

/// The provider's answer: the callback URL it redirects to.
async fn authorize_at_idp(app: &TestApp, authorize_url: &str) -> String {
    let res = app.anon.get(authorize_url).send().await.unwrap();
    assert_eq!(res.status(), 302);
    location(&res)
}

async fn sessions_of(app: &TestApp, email: &str) -> i64 {
    use diesel::ExpressionMethods;
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.conn().await;
    backend::schema::sessions::table
        .filter(backend::schema::sessions::email.eq(email))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let (_, body) = app.get("/api/qbr/audit?limit=100").await;
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

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim()
        .strip_prefix("qbr_session=")
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn full_sign_in_of_an_allowed_user() {
    let (app, idp_base, idp) = setup().await;
    idp.lock().unwrap().user = Some(user("Alice@Example.com"));
    let authorize = start_login(&app).await;
    assert!(authorize.starts_with(&format!("{idp_base}/{TENANT}/oauth2/v2.0/authorize?")));
    let url = reqwest::Url::parse(&authorize).unwrap();
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/api/auth/microsoft/callback", app.base)
    );
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 32);

    let callback = authorize_at_idp(&app, &authorize).await;
    assert!(callback.starts_with(&format!("{}/api/auth/microsoft/callback?code=", app.base)));
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "https://dashboards.example/qbr");
    let set_cookie: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
    // Exactly these attributes.
    let mut attrs: Vec<&str> = set_cookie[0].split(';').map(str::trim).skip(1).collect();
    attrs.sort();
    assert_eq!(
        attrs,
        vec![
            "HttpOnly",
            "Max-Age=28800",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ]
    );
    let token = cookie_value(&set_cookie[0]);
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap()
            .len(),
        32,
        "a 256-bit id"
    );
    // Only the hash is stored.
    {
        use diesel::{ExpressionMethods, QueryDsl};
        use diesel_async::RunQueryDsl;
        let mut conn = app.db.conn().await;
        let hashes: Vec<Vec<u8>> = backend::schema::sessions::table
            .filter(backend::schema::sessions::email.eq("alice@example.com"))
            .select(backend::schema::sessions::id_hash)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(hashes, vec![Sha256::digest(token.as_bytes()).to_vec()]);
    }

    let status: Value = app
        .anon
        .get(app.url("/api/auth/status"))
        .header("cookie", format!("qbr_session={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["success"], true, "{status}");
    assert_eq!(status["data"]["authenticated"], true);
    assert_eq!(status["data"]["user"]["email"], "alice@example.com");
    assert_eq!(status["data"]["user"]["name"], "Alice Example");
    let res = app
        .anon
        .get(app.url("/api/qbr/thresholds"))
        .header("cookie", format!("qbr_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(audit_actions(&app)
        .await
        .contains(&("auth.sign_in".into(), "alice@example.com".into())));

    // The callback can't be replayed: its state was single use.
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("expired"));
    assert_eq!(sessions_of(&app, "alice@example.com").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_falls_back_to_the_user_principal_name() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().user = Some(FakeUser {
        mail: None,
        upn: "ALICE@example.com".into(),
        name: "Alice".into(),
    });
    let callback = authorize_at_idp(&app, &start_login(&app).await).await;
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(sessions_of(&app, "alice@example.com").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_not_on_the_list_gets_403_and_no_session() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().user = Some(user("mallory@example.com"));
    let callback = authorize_at_idp(&app, &start_login(&app).await).await;
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Access denied — your account is not authorized"),
        "{page}"
    );
    assert_eq!(sessions_of(&app, "mallory@example.com").await, 0);
    assert!(audit_actions(&app)
        .await
        .contains(&("auth.sign_in_denied".into(), "mallory@example.com".into())));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_state_is_refused() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().user = Some(user("alice@example.com"));
    let callback = authorize_at_idp(&app, &start_login(&app).await).await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    url.set_query(Some(&format!("code={code}&state=forged-state")));
    let res = app.anon.get(url).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(sessions_of(&app, "alice@example.com").await, 0);
    // The code was never sent to the token endpoint.
    assert!(idp.lock().unwrap().refusals.is_empty());
    // No state at all.
    let res = app
        .anon
        .get(app.url(&format!("/api/auth/microsoft/callback?code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_is_refused() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().user = Some(user("alice@example.com"));
    let first = authorize_at_idp(&app, &start_login(&app).await).await;
    assert_eq!(app.anon.get(&first).send().await.unwrap().status(), 302);
    let code = reqwest::Url::parse(&first)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    // A fresh, valid state of ours, with the used code.
    let second = authorize_at_idp(&app, &start_login(&app).await).await;
    let state = reqwest::Url::parse(&second)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let res = app
        .anon
        .get(app.url(&format!(
            "/api/auth/microsoft/callback?code={code}&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.headers().get("set-cookie").is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("invalid_grant"), "{page}");
    assert!(!page.contains(&code), "no code in the page");
    assert_eq!(idp.lock().unwrap().refusals, vec!["code".to_string()]);
    assert_eq!(sessions_of(&app, "alice@example.com").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pkce_mismatch_is_refused() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().user = Some(user("alice@example.com"));
    // Two sign-ins; the code of the first comes back with the state (and so the
    // verifier) of the second.
    let first = authorize_at_idp(&app, &start_login(&app).await).await;
    let second = authorize_at_idp(&app, &start_login(&app).await).await;
    let param = |url: &str, k: &str| {
        reqwest::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .to_string()
    };
    let res = app
        .anon
        .get(app.url(&format!(
            "/api/auth/microsoft/callback?code={}&state={}",
            param(&first, "code"),
            param(&second, "state")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(idp.lock().unwrap().refusals, vec!["pkce".to_string()]);
    assert_eq!(sessions_of(&app, "alice@example.com").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn microsoft_access_denied_ends_on_a_friendly_page() {
    let (app, _, idp) = setup().await;
    idp.lock().unwrap().deny = true;
    let callback = authorize_at_idp(&app, &start_login(&app).await).await;
    assert!(callback.contains("error=access_denied"));
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("set-cookie").is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("cancelled or consent was refused"), "{page}");
    assert!(audit_actions(&app)
        .await
        .contains(&("auth.sign_in_failed".into(), "anonymous".into())));
    // The state of that sign-in is gone.
    let mut conn = app.db.conn().await;
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    let left: i64 = backend::schema::login_states::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_azure_settings_login_explains_and_the_server_still_runs() {
    let app = TestApp::spawn().await;
    let res = app
        .anon
        .get(app.url("/api/auth/microsoft/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("not configured"));
    assert_eq!(app.get("/api/health").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_for_another_sign_in_is_refused() {
    let (app, _, idp) = setup().await;
    {
        let mut idp = idp.lock().unwrap();
        idp.user = Some(user("alice@example.com"));
        idp.wrong_nonce = true;
    }
    let callback = authorize_at_idp(&app, &start_login(&app).await).await;
    let res = app.anon.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(sessions_of(&app, "alice@example.com").await, 0);
}
