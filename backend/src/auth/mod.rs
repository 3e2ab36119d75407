//! Who is calling (`auth.md`): one hoop, [`require_auth`], in front of every protected
//! route accepts a session cookie (`session.rs`) or an API key (`apikey.rs`), checks
//! CSRF for cookie-authenticated writes (`csrf.rs`) and the per-key rate limits
//! (`ratelimit.rs`), and puts the caller's [`Identity`] in the depot. Microsoft sign-in
//! is `oauth.rs`; the public `/api/auth/*` routes are [`router`]. Managing API keys is
//! `service::api_keys` (and its endpoints `api::api_keys`).
pub mod apikey;
pub mod config;
pub mod csrf;
pub mod oauth;
pub mod ratelimit;
pub mod session;

pub use config::{AllowList, AuthConfig};

use crate::db::DbConn;
use crate::error::AppError;
use crate::http::context::{self, identity, request_id, Tenant};
use crate::http::response::write_error;
pub use crate::http::Identity;
use diesel_async::AsyncPgConnection;
use qbr_shared::access::required_role;
use qbr_shared::ErrorCode;
use salvo::http::{HeaderValue, Method};
use salvo::prelude::*;
use std::sync::Arc;

/// Sign-in settings plus the process-local pieces built from them.
pub struct Auth {
    pub config: AuthConfig,
    pub limiters: ratelimit::Limiters,
    /// For the token exchange and Graph; never follows redirects (OAuth SSRF advice).
    pub http: oauth2::reqwest::Client,
}

impl Auth {
    /// Fails (at start) when the HTTP client for Microsoft can't be built: a client
    /// without the no-redirect policy and the timeout must never be used instead.
    pub fn new(config: AuthConfig) -> anyhow::Result<Arc<Auth>> {
        let http = oauth2::reqwest::Client::builder()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client for Microsoft sign-in: {e}"))?;
        Ok(Arc::new(Auth {
            limiters: ratelimit::Limiters::new(&config.limits),
            config,
            http,
        }))
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("config", &self.config)
            .finish()
    }
}

/// The sign-in settings and limiters the server put in the depot.
pub(crate) fn auth_state(depot: &Depot) -> Result<Arc<Auth>, AppError> {
    depot
        .get_typed::<Arc<Auth>>()
        .cloned()
        .map_err(|_| AppError::internal(anyhow::anyhow!("sign-in settings missing")))
}

/// Whether the method changes state (needs a write key; CSRF-checked for cookies).
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A refused request, with the seconds to wait when it was rate limited.
pub struct Rejection {
    pub error: AppError,
    pub retry_after: Option<u64>,
}

impl From<AppError> for Rejection {
    fn from(error: AppError) -> Self {
        Rejection {
            error,
            retry_after: None,
        }
    }
}

impl From<diesel::result::Error> for Rejection {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(e).into()
    }
}

impl Rejection {
    pub fn write(self, depot: &Depot, res: &mut Response) {
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert("retry-after", HeaderValue::from(secs.max(1)));
        }
        write_error(res, request_id(depot), &self.error);
    }
}

pub fn unauthenticated() -> AppError {
    AppError::new(
        ErrorCode::Unauthenticated,
        "Authentication required: sign in or send an API key",
    )
}

/// What the caller presented. A blank key header counts as none.
struct Credentials {
    key: Option<String>,
    session: Option<String>,
}

fn credentials(req: &Request) -> Credentials {
    Credentials {
        key: apikey::presented_key(req),
        session: session::cookie_token(req),
    }
}

/// The guard of every protected route: a valid API key or session, else 401; a role in
/// the request's organization that allows the route, else 403 ([`required_role`]). The
/// connection it used stays in the depot for the handler (one pool checkout per
/// request), with the caller's [`Identity`] and [`Tenant`] (organization and role).
#[handler]
pub async fn require_auth(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    let outcome = match authenticate(req, depot).await {
        Ok((identity, tenant, conn)) => {
            permit(req, &identity, tenant.as_ref()).map(|()| (identity, tenant, conn))
        }
        Err(rejection) => Err(rejection),
    };
    match outcome {
        Ok((identity, tenant, mut conn)) => {
            depot.insert_typed(identity);
            // Row-level security: the connection acts for the request's organization
            // (none for a platform administrator's organizations pages) until the end
            // of the request.
            let entered = tenant.as_ref().map(|t| t.org.id);
            if let Err(e) = context::enter_tenant(depot, &mut conn, entered).await {
                Rejection::from(e).write(depot, res);
                ctrl.skip_rest();
                return;
            }
            if let Some(tenant) = tenant {
                depot.insert_typed(tenant);
            }
            context::hold_conn(depot, conn);
        }
        Err(rejection) => {
            // A browser holding a dead session forgets it.
            if rejection.error.status == 401 && session::cookie_token(req).is_some() {
                if let Ok(auth) = auth_state(depot) {
                    res.add_cookie(session::cleared_cookie(&auth.config));
                }
            }
            rejection.write(depot, res);
            ctrl.skip_rest();
        }
    }
}

/// Whether the caller's role allows this route. Only organizations themselves
/// (`/api/admin/organizations`) are for platform administrators, member or not.
fn permit(req: &Request, identity: &Identity, tenant: Option<&Tenant>) -> Result<(), Rejection> {
    let path = req.uri().path();
    if is_platform_path(path) {
        return match identity {
            Identity::Session {
                platform_admin: true,
                ..
            } => Ok(()),
            _ => Err(AppError::new(
                ErrorCode::Forbidden,
                "Only a platform administrator may manage organizations",
            )
            .into()),
        };
    }
    let Some(tenant) = tenant else {
        return Err(
            AppError::new(ErrorCode::Forbidden, "You have no role in any organization").into(),
        );
    };
    let needed = required_role(path, is_write(req.method()));
    if tenant.role.allows(needed) {
        return Ok(());
    }
    let who = match identity {
        Identity::ApiKey { .. } => "This API key",
        Identity::Session { .. } => "Your role",
    };
    Err(AppError::new(
        ErrorCode::Forbidden,
        format!(
            "{who} ({}) in {} can't do this: {} needed",
            tenant.role, tenant.org.name, needed
        ),
    )
    .into())
}

/// Organizations themselves: the platform administrators' routes.
pub fn is_platform_path(path: &str) -> bool {
    path == "/api/admin/organizations" || path.starts_with("/api/admin/organizations/")
}

/// The caller, the organization and role the request acts with, and the connection
/// that read them.
async fn authenticate(
    req: &Request,
    depot: &Depot,
) -> Result<(Identity, Option<Tenant>, DbConn), Rejection> {
    let auth = auth_state(depot)?;
    let presented = credentials(req);
    if presented.key.is_none() && presented.session.is_none() {
        return Err(unauthenticated().into());
    }
    let mut conn = context::conn(depot).await?;
    let (identity, tenant) = match presented {
        // The precedence (README, "Credentials"): a valid key is used; an unknown or
        // revoked key is an error only when no valid session comes with it, so a stale
        // header added by a tool or proxy doesn't lock a signed-in user out.
        Credentials {
            key: Some(key),
            session,
        } => match apikey::authenticate(req, &mut conn, &auth, &key).await {
            Err(refused) if refused.error.code == ErrorCode::Unauthenticated => match session {
                Some(token) => match session_identity(req, &mut conn, &auth, &token).await {
                    Err(no) if no.error.code == ErrorCode::Unauthenticated => return Err(refused),
                    answer => answer?,
                },
                None => return Err(refused),
            },
            answer => answer.map(|(identity, tenant)| (identity, Some(tenant)))?,
        },
        Credentials {
            key: None,
            session: Some(token),
        } => session_identity(req, &mut conn, &auth, &token).await?,
        Credentials {
            key: None,
            session: None,
        } => return Err(unauthenticated().into()),
    };
    Ok((identity, tenant, conn))
}

/// A live session; its membership of the request's `organization_id` (else of the
/// user's first organization) is the tenant. Writes must come from an allowed origin
/// (CSRF).
async fn session_identity(
    req: &Request,
    conn: &mut AsyncPgConnection,
    auth: &Auth,
    token: &str,
) -> Result<(Identity, Option<Tenant>), Rejection> {
    // A malformed organization_id is the handler's to refuse (400).
    let asked = context::asked_organization(req).ok().flatten();
    let Some(live) = session::resolve(conn, token, asked).await? else {
        return Err(unauthenticated().into());
    };
    let Some((user_id, platform_admin)) = live.user else {
        return Err(AppError::new(
            ErrorCode::Unauthenticated,
            "This account no longer has access",
        )
        .into());
    };
    let tenant = match (live.membership, asked) {
        (Some((role, org)), _) => Some(Tenant { org, role }),
        // Not a member of the organization asked for (or it is archived).
        (None, Some(asked)) => {
            if crate::store::members::of_user(conn, &live.session.email)
                .await?
                .is_empty()
            {
                return Err(AppError::new(
                    ErrorCode::Unauthenticated,
                    "This account no longer has access",
                )
                .into());
            }
            if !is_platform_path(req.uri().path()) {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    format!("You have no role in organization {asked}"),
                )
                .into());
            }
            None
        }
        (None, None) if platform_admin => None,
        (None, None) => {
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "This account no longer has access",
            )
            .into())
        }
    };
    if is_write(req.method()) && !csrf::origin_allowed(req, &auth.config) {
        return Err(AppError::new(
            ErrorCode::CsrfRejected,
            "Cross-site request refused: the Origin is not allowed",
        )
        .into());
    }
    let s = live.session;
    let identity = Identity::Session {
        user_id,
        email: s.email,
        name: s.name,
        expires_at: s.expires_at,
        platform_admin,
    };
    Ok((identity, tenant))
}

/// For routes only people may use (API-key management): a session, not a key.
#[handler]
pub async fn require_session(depot: &mut Depot, res: &mut Response, ctrl: &mut FlowCtrl) {
    if !matches!(identity(depot), Some(Identity::Session { .. })) {
        let err = AppError::new(
            ErrorCode::Forbidden,
            "Only a signed-in user may do this, not an API key",
        );
        write_error(res, request_id(depot), &err);
        ctrl.skip_rest();
    }
}

/// Per-client-IP limit on the sign-in endpoints.
#[handler]
pub async fn sign_in_rate_limit(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    let Ok(auth) = auth_state(depot) else {
        return;
    };
    let ip = context::client_ip_addr(req).unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    if let Err(wait) = auth.limiters.sign_in(ip) {
        Rejection {
            error: AppError::new(
                ErrorCode::RateLimited,
                "Too many sign-in attempts; try again shortly",
            ),
            retry_after: Some(wait),
        }
        .write(depot, res);
        ctrl.skip_rest();
    }
}

/// The public `/api/auth/*` routes.
pub fn router() -> Router {
    Router::with_path("auth")
        .push(Router::with_path("status").get(session::get_status))
        .push(Router::with_path("methods").get(session::get_methods))
        .push(
            Router::with_path("logout")
                .get(session::logout)
                .post(session::logout),
        )
        .push(
            Router::new()
                .hoop(sign_in_rate_limit)
                .push(Router::with_path("dev/login").get(session::dev_login))
                .push(Router::with_path("microsoft/login").get(oauth::login))
                .push(Router::with_path("microsoft/callback").get(oauth::callback)),
        )
}

/// The paths anyone may call (everything else is behind [`require_auth`]).
pub fn is_public_path(path: &str) -> bool {
    // The Web Connector has no session or key: its SOAP calls carry their own ticket;
    // Intuit's redirect back carries a single-use state.
    path == "/api/health"
        || path == "/api/openapi.json"
        || path == "/api/qbwc"
        || path.starts_with("/api/auth/")
        || path == crate::collect::quickbooks::online::CALLBACK_PATH
}

/// Declares the ways to authenticate in the OpenAPI document and marks every
/// protected operation with them (API-key management: the session only).
pub fn document_security(doc: salvo::oapi::OpenApi) -> salvo::oapi::OpenApi {
    use salvo::oapi::security::{
        ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
    };
    let mut doc = doc
        .add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                session::COOKIE_NAME,
                "Session cookie set by Microsoft sign-in",
            ))),
        )
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::new(HttpAuthScheme::Bearer)
                    .description("API key: `Authorization: Bearer qbr_...`"),
            ),
        )
        .add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "API key: `X-API-Key: qbr_...`",
            ))),
        );
    for (path, item) in doc.paths.iter_mut() {
        if is_public_path(path) {
            continue;
        }
        let schemes: &[&str] = if path.starts_with("/api/admin/") {
            &["session"]
        } else {
            &["session", "bearer", "api_key"]
        };
        for op in item.operations.values_mut() {
            let securities = op.securities.get_or_insert_default();
            for name in schemes {
                securities.push(SecurityRequirement::new(*name, Vec::<String>::new()));
            }
        }
    }
    doc
}
