//! Microsoft 365 sign-in: OAuth 2.0 authorization code flow with PKCE (S256), state and
//! nonce, via the `oauth2` crate. The state (hashed), verifier and nonce wait in
//! PostgreSQL (`login_states`, 10 minutes, single use), so the callback may reach any
//! replica. The user comes from Graph `/v1.0/me`; only allow-listed emails get a
//! session. Failures end on a friendly page; codes and tokens are never logged.
use super::session;
use super::{auth_state, Auth};
use crate::http::context::{client_ip, conn};
use crate::http::page;
use crate::http::params;
use crate::http::response::errors;
use crate::secrets::{hash, random_token};
use crate::store::audit::{self, AuditEvent};
use crate::store::login_states;
use base64::Engine;
use diesel_async::AsyncPgConnection;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use qbr_shared::access::AuditAction;
use qbr_shared::text;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};

/// How long a started sign-in may take.
const LOGIN_TTL_MINUTES: i64 = 10;
const SCOPES: [&str; 4] = ["openid", "profile", "email", "User.Read"];

/// The token response's `id_token` (to check the nonce).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type MsTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type MsClient = oauth2::Client<
    BasicErrorResponse,
    MsTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A sign-in that ends on an error page.
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            title,
            message: message.into(),
        }
    }

    fn unavailable() -> Self {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "The server can't reach its database right now. Please try again shortly.",
        )
    }
}

/// A failure page with links to sign in again and to the dashboard.
fn render_page(res: &mut Response, status: StatusCode, title: &str, message: &str, urls: &Urls) {
    let sign_in = format!("{}/api/auth/microsoft/login", urls.api);
    page::render(
        res,
        status,
        title,
        message,
        &[("Sign in again", &sign_in), ("QBR Dashboard", &urls.home)],
    );
}

/// Where a failure page's links lead: this server's public URL and the SPA's.
struct Urls {
    api: String,
    home: String,
}

impl Urls {
    fn of(auth: &Auth) -> Urls {
        Urls {
            api: auth.config.api_base_url.clone(),
            home: auth.config.frontend_url.clone(),
        }
    }

    /// Without the settings (the server's state is missing): this host's root.
    fn unknown() -> Urls {
        Urls {
            api: String::new(),
            home: "/".into(),
        }
    }
}

fn client(auth: &Auth) -> Result<MsClient, Failure> {
    // Not a server failure (a 5xx) but a feature this server does not offer, like the
    // development sign-in when it is off.
    let Some(ms) = &auth.config.microsoft else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "Microsoft sign-in is not configured",
            "Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET on the server to enable it.",
        ));
    };
    let base = format!("{}/{}/oauth2/v2.0", auth.config.authority_url, ms.tenant_id);
    let bad = |e: oauth2::url::ParseError| {
        tracing::error!(error = %e, "invalid Microsoft sign-in URL settings");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Microsoft sign-in is misconfigured",
            "The server's sign-in URLs are invalid; check AZURE_AUTHORITY_URL and API_BASE_URL.",
        )
    };
    Ok(oauth2::Client::new(ClientId::new(ms.client_id.clone()))
        .set_client_secret(ClientSecret::new(ms.client_secret.clone()))
        // Microsoft documents the secret as a form field of the token request.
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(format!("{base}/authorize")).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{base}/token")).map_err(bad)?)
        .set_redirect_uri(RedirectUrl::new(auth.config.redirect_uri()).map_err(bad)?))
}

/// Starts Microsoft sign-in: 302 to the authorize endpoint.
#[endpoint(
    tags("auth"),
    responses(
        (status_code = 302, description = "To Microsoft's sign-in page", headers(("Location" = String, description = "Microsoft's authorize URL"))),
        (status_code = 500, description = "Sign-in is misconfigured (an HTML page)", content_type = "text/html", body = String),
        (status_code = 404, description = "Microsoft sign-in is not configured (an HTML page)", content_type = "text/html", body = String),
        (status_code = 503, description = "The database is unavailable (an HTML page)", content_type = "text/html", body = String),
        errors::SignInLimit,
    )
)]
pub async fn login(depot: &mut Depot, res: &mut Response) {
    let auth = match auth_state(depot) {
        Ok(a) => a,
        Err(_) => {
            return render_page(
                res,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Internal error.",
                &Urls::unknown(),
            )
        }
    };
    let urls = Urls::of(&auth);
    match start_login(depot, &auth).await {
        Ok(url) => res.render(Redirect::found(url)),
        Err(f) => render_page(res, f.status, f.title, &f.message, &urls),
    }
}

async fn start_login(depot: &Depot, auth: &Auth) -> Result<String, Failure> {
    let client = client(auth)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = random_token();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_string())))
        .add_extra_param("nonce", &nonce)
        .add_extra_param("response_mode", "query")
        .set_pkce_challenge(challenge)
        .url();
    let mut conn = conn(depot).await.map_err(|_| Failure::unavailable())?;
    login_states::insert(
        &mut conn,
        &hash(state.secret()),
        verifier.secret(),
        &nonce,
        chrono::Utc::now() + chrono::TimeDelta::minutes(LOGIN_TTL_MINUTES),
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "storing the sign-in state failed");
        Failure::unavailable()
    })?;
    Ok(url.to_string())
}

/// Finishes Microsoft sign-in: checks the state, exchanges the code, reads the user,
/// checks the allow-list, starts the session and lands on the SPA.
#[endpoint(
    tags("auth"),
    parameters(
        ("code" = Option<String>, Query, description = "The authorization code from Microsoft"),
        ("state" = Option<String>, Query, description = "The state the sign-in started with"),
        ("error" = Option<String>, Query, description = "Why Microsoft did not sign the user in"),
    ),
    responses(
        (status_code = 302, description = "Signed in: the session cookie is set; to the SPA", headers(("Location" = String, description = "The SPA"), ("Set-Cookie" = String, description = "The session cookie"))),
        (status_code = 400, description = "Sign-in was not completed: cancelled, incomplete, or an expired or unknown state (an HTML page)", content_type = "text/html", body = String),
        (status_code = 403, description = "The account is not on the allow-list (an HTML page)", content_type = "text/html", body = String),
        (status_code = 500, description = "Sign-in is misconfigured (an HTML page)", content_type = "text/html", body = String),
        (status_code = 502, description = "Microsoft did not confirm the sign-in (an HTML page)", content_type = "text/html", body = String),
        (status_code = 404, description = "Microsoft sign-in is not configured (an HTML page)", content_type = "text/html", body = String),
        (status_code = 503, description = "The database is unavailable (an HTML page)", content_type = "text/html", body = String),
        errors::SignInLimit,
    )
)]
pub async fn callback(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let auth = match auth_state(depot) {
        Ok(a) => a,
        Err(_) => {
            return render_page(
                res,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Internal error.",
                &Urls::unknown(),
            )
        }
    };
    let urls = Urls::of(&auth);
    match finish_login(req, depot, res, &auth).await {
        Ok(()) => res.render(Redirect::found(urls.home)),
        Err(f) => render_page(res, f.status, f.title, &f.message, &urls),
    }
}

async fn record(
    conn: &mut AsyncPgConnection,
    actor: &str,
    action: AuditAction,
    reason: &str,
    ip: Option<&str>,
) {
    let event = AuditEvent {
        organization_id: None,
        actor,
        action,
        target: None,
        details: serde_json::json!({"method": "microsoft", "reason": reason}),
        ip,
    };
    if let Err(e) = audit::record(conn, event).await {
        tracing::error!(error = %e, "recording a sign-in event failed");
    }
}

/// The user as Graph describes them.
#[derive(Deserialize)]
struct GraphMe {
    mail: Option<String>,
    #[serde(rename = "userPrincipalName")]
    user_principal_name: Option<String>,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
}

/// The `nonce` claim of an ID token received straight from the token endpoint over
/// TLS (OpenID Connect Core 3.1.3.7 lets that channel stand in for the signature).
fn id_token_nonce(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("nonce")?.as_str().map(str::to_string)
}

async fn finish_login(
    req: &Request,
    depot: &Depot,
    res: &mut Response,
    auth: &Auth,
) -> Result<(), Failure> {
    let ip = client_ip(req);
    let ip = ip.as_deref();
    let mut conn = conn(depot).await.map_err(|_| Failure::unavailable())?;
    let state = params::raw(req, "state");
    if let Some(error) = params::raw(req, "error") {
        if let Some(state) = &state {
            // The started sign-in is over either way.
            let _ = login_states::take(&mut conn, &hash(state)).await;
        }
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        tracing::warn!(%error, "Microsoft did not sign the user in");
        record(
            &mut conn,
            "anonymous",
            AuditAction::SignInFailed,
            &error,
            ip,
        )
        .await;
        let message = if error == "access_denied" {
            "Sign-in was cancelled or consent was refused at Microsoft. You can try again."
                .to_string()
        } else {
            format!("Microsoft could not sign you in ({error}). Please try again.")
        };
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "Sign-in was not completed",
            message,
        ));
    }
    let (Some(code), Some(state)) = (params::raw(req, "code"), state) else {
        record(
            &mut conn,
            "anonymous",
            AuditAction::SignInFailed,
            "missing_code_or_state",
            ip,
        )
        .await;
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "Sign-in was not completed",
            "The answer from Microsoft was incomplete. Please sign in again.",
        ));
    };
    let taken = login_states::take(&mut conn, &hash(&state))
        .await
        .map_err(|_| Failure::unavailable())?;
    let Some((verifier, nonce)) = taken else {
        tracing::warn!("sign-in callback with an unknown, used or expired state");
        record(
            &mut conn,
            "anonymous",
            AuditAction::SignInFailed,
            "invalid_state",
            ip,
        )
        .await;
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "The sign-in link is expired, was already used, or did not start here. Please sign in again.",
        ));
    };
    let exchange_failed = |reason: &str| {
        Failure::new(
            StatusCode::BAD_GATEWAY,
            "Sign-in could not be completed",
            format!("Microsoft did not confirm the sign-in ({reason}). Please sign in again."),
        )
    };
    let client = client(auth)?;
    let token = match client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&auth.http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            let reason = match &e {
                RequestTokenError::ServerResponse(r) => r.error().to_string(),
                RequestTokenError::Request(_) => "request_failed".to_string(),
                RequestTokenError::Parse(_, _) => "unreadable_response".to_string(),
                RequestTokenError::Other(_) => "other".to_string(),
            };
            tracing::warn!(%reason, "exchanging the authorization code failed");
            record(
                &mut conn,
                "anonymous",
                AuditAction::SignInFailed,
                &reason,
                ip,
            )
            .await;
            return Err(exchange_failed(&reason));
        }
    };
    if let Some(id_token) = &token.extra_fields().id_token {
        if id_token_nonce(id_token).as_deref() != Some(nonce.as_str()) {
            tracing::warn!("ID token nonce mismatch");
            record(
                &mut conn,
                "anonymous",
                AuditAction::SignInFailed,
                "nonce_mismatch",
                ip,
            )
            .await;
            return Err(exchange_failed("nonce_mismatch"));
        }
    }
    let me = read_me(auth, token.access_token().secret())
        .await
        .map_err(|reason| {
            tracing::warn!(%reason, "reading the user from Microsoft Graph failed");
            exchange_failed("graph")
        });
    let me = match me {
        Ok(me) => me,
        Err(f) => {
            record(
                &mut conn,
                "anonymous",
                AuditAction::SignInFailed,
                "graph",
                ip,
            )
            .await;
            return Err(f);
        }
    };
    let Some(email) = me
        .mail
        .or(me.user_principal_name)
        .map(|e| e.trim().to_lowercase())
        // Graph's answer is input like any other: it is stored and logged.
        .filter(|e| !e.is_empty() && text::check(e, text::EMAIL).is_ok())
    else {
        record(
            &mut conn,
            "anonymous",
            AuditAction::SignInFailed,
            "no_email",
            ip,
        )
        .await;
        return Err(exchange_failed("no_email"));
    };
    if !session::may_sign_in(&mut conn, &email)
        .await
        .map_err(|_| Failure::unavailable())?
    {
        tracing::warn!(%email, "sign-in denied: no role in any organization");
        record(
            &mut conn,
            &email,
            AuditAction::SignInDenied,
            "not_authorized",
            ip,
        )
        .await;
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "Access denied",
            "Access denied — your account is not authorized to use the QBR Dashboard.",
        ));
    }
    session::start(
        req,
        res,
        &mut conn,
        &auth.config,
        &email,
        me.display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| text::check(n, text::NAME).is_ok()),
        "microsoft",
    )
    .await
    .map_err(|_| Failure::unavailable())
}

async fn read_me(auth: &Auth, access_token: &str) -> Result<GraphMe, String> {
    let res = auth
        .http
        .get(format!("{}/v1.0/me", auth.config.graph_url))
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    if !res.status().is_success() {
        return Err(format!("status {}", res.status()));
    }
    let bytes = res
        .bytes()
        .await
        .map_err(|_| "unreadable body".to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("unexpected body: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_nonce_of_an_id_token() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"nonce":"n-1","sub":"x"}"#);
        assert_eq!(
            id_token_nonce(&format!("e30.{claims}.sig")).as_deref(),
            Some("n-1")
        );
        assert_eq!(id_token_nonce("garbage"), None);
    }
}
