//! Sessions: a random 256-bit id in the `qbr_session` cookie, its SHA-256 hash in
//! PostgreSQL (so sessions outlive a restart and work on every replica). Every request
//! re-checks that the session exists, has not expired, and that its email is still on
//! the allow-list. Also the status, logout and development sign-in endpoints.
use super::auth_state;
use super::config::AuthConfig;
use crate::error::{AppError, AppResult};
use crate::http::context::{client_ip, conn};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk};
use crate::secrets::{hash, random_token};
use crate::store::audit::{self, AuditEvent};
use crate::store::members;
use crate::store::sessions::{self, LiveSessionRow, NewSession};
use diesel_async::AsyncPgConnection;
use qbr_shared::access::AuditAction;
use qbr_shared::api::{AuthStatus, AuthUser, OrganizationRole, SignedOut};
use qbr_shared::text;
use qbr_shared::ErrorCode;
use salvo::http::cookie::{time, Cookie, SameSite};
use salvo::prelude::*;

pub const COOKIE_NAME: &str = "qbr_session";

/// The session id sent by the browser, if any.
pub fn cookie_token(req: &Request) -> Option<String> {
    req.cookie(COOKIE_NAME)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The live session of `token` with its user and its membership of organization `org`
/// (or the user's first organization); `None` when there is no live session.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    token: &str,
    org: Option<i32>,
) -> AppResult<Option<LiveSessionRow>> {
    let id_hash = hash(token);
    let Some(live) = sessions::find_live(conn, &id_hash, org).await? else {
        return Ok(None);
    };
    if sessions::stale(live.session.last_seen_at) {
        sessions::touch(conn, &id_hash).await?;
    }
    Ok(Some(live))
}

/// Whether `email` may sign in: it has a role in an organization that is not archived.
pub async fn may_sign_in(conn: &mut AsyncPgConnection, email: &str) -> AppResult<bool> {
    Ok(!members::of_user(conn, email).await?.is_empty())
}

/// The `qbr_session` cookie: HttpOnly, Secure (unless plain-http loopback
/// development), SameSite=Lax (sent to an API on another host of the same site, e.g.
/// from dashboards.example.com to db-api.example.com), Path = the public path, no
/// Domain unless configured, Max-Age = the session lifetime.
pub fn session_cookie(config: &AuthConfig, token: String) -> Cookie<'static> {
    cookie(
        config,
        token,
        time::Duration::hours(config.session_lifetime_hours),
    )
}

/// A cookie that makes the browser forget the session.
pub fn cleared_cookie(config: &AuthConfig) -> Cookie<'static> {
    cookie(config, String::new(), time::Duration::ZERO)
}

fn cookie(config: &AuthConfig, value: String, max_age: time::Duration) -> Cookie<'static> {
    let mut cookie = Cookie::build((COOKIE_NAME, value))
        .http_only(true)
        .secure(config.secure_cookie)
        .same_site(SameSite::Lax)
        .path(config.cookie_path.clone())
        .max_age(max_age);
    if let Some(domain) = &config.cookie_domain {
        cookie = cookie.domain(domain.clone());
    }
    cookie.build()
}

/// Creates a session for an allowed user, sets the cookie and records the sign-in.
pub async fn start(
    req: &Request,
    res: &mut Response,
    conn: &mut AsyncPgConnection,
    config: &AuthConfig,
    email: &str,
    name: Option<&str>,
    method: &str,
) -> AppResult<()> {
    let token = random_token();
    let ip = client_ip(req);
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect::<String>());
    sessions::create(
        conn,
        NewSession {
            id_hash: &hash(&token),
            email,
            name,
            expires_at: chrono::Utc::now() + config.session_lifetime(),
            ip: ip.as_deref(),
            user_agent: user_agent.as_deref(),
        },
    )
    .await?;
    if let Some(name) = name {
        members::set_name(conn, email, name).await?;
    }
    audit::record(
        conn,
        AuditEvent {
            organization_id: None,
            actor: email,
            action: AuditAction::SignIn,
            target: None,
            details: serde_json::json!({"method": method}),
            ip: ip.as_deref(),
        },
    )
    .await?;
    tracing::info!(%email, method, "signed in");
    res.add_cookie(session_cookie(config, token));
    Ok(())
}

/// `GET /api/auth/status` when not signed in (401), or a failure.
pub enum NotSignedIn {
    No,
    Failed(AppError),
}

impl From<AppError> for NotSignedIn {
    fn from(e: AppError) -> Self {
        NotSignedIn::Failed(e)
    }
}

#[async_trait]
impl Writer for NotSignedIn {
    async fn write(self, req: &mut Request, depot: &mut Depot, res: &mut Response) {
        match self {
            NotSignedIn::Failed(e) => e.write(req, depot, res).await,
            NotSignedIn::No => {
                let err = AppError::new(ErrorCode::Unauthenticated, "Not signed in");
                let mut body = serde_json::to_value(err.envelope()).unwrap_or_default();
                body["authenticated"] = serde_json::Value::Bool(false);
                res.status_code(salvo::http::StatusCode::UNAUTHORIZED);
                res.render(Json(body));
            }
        }
    }
}

impl salvo::oapi::EndpointOutRegister for NotSignedIn {
    fn register(components: &mut salvo::oapi::Components, operation: &mut salvo::oapi::Operation) {
        use salvo::oapi::schema::{AllOf, BasicType, Object};
        use salvo::oapi::{Content, ToSchema};
        <AppError as salvo::oapi::EndpointOutRegister>::register(components, operation);
        let flag = Object::new()
            .property(
                "authenticated",
                Object::new()
                    .schema_type(BasicType::Boolean)
                    .enum_values([false]),
            )
            .required("authenticated");
        let body = AllOf::new()
            .item(qbr_shared::error::ErrorEnvelope::to_schema(components))
            .item(flag);
        let response = salvo::oapi::Response::new(
            "UNAUTHENTICATED: not signed in; the error envelope plus `\"authenticated\": false`",
        )
        .add_content("application/json", Content::new(body));
        operation.responses.insert("401", response);
    }
}

/// The ways to sign in on this server (public, for the login page). The development
/// sign-in's users are listed only when it is on, which the server allows on loopback only.
#[endpoint(tags("auth"))]
pub async fn get_methods(depot: &mut Depot) -> AppResult<ApiOk<qbr_shared::api::SignInMethods>> {
    let auth = auth_state(depot)?;
    let dev_login_users = if auth.config.dev_login {
        members::all_emails(&mut *conn(depot).await?).await?
    } else {
        Vec::new()
    };
    Ok(ok(qbr_shared::api::SignInMethods {
        microsoft: auth.config.microsoft.is_some(),
        dev_login_users,
    }))
}

/// Whether the browser is signed in: 200 with the user, else 401.
#[endpoint(tags("auth"))]
pub async fn get_status(
    req: &mut Request,
    depot: &mut Depot,
) -> Result<ApiOk<AuthStatus>, NotSignedIn> {
    let Some(token) = cookie_token(req) else {
        return Err(NotSignedIn::No);
    };
    let mut conn = conn(depot).await?;
    let Some(live) = resolve(&mut conn, &token, None).await? else {
        return Err(NotSignedIn::No);
    };
    let organizations = members::of_user(&mut conn, &live.session.email)
        .await
        .map_err(AppError::from)?;
    if organizations.is_empty() {
        // Removed from every organization: the session is over.
        return Err(NotSignedIn::No);
    }
    let s = live.session;
    Ok(ok(AuthStatus {
        authenticated: true,
        user: AuthUser {
            email: s.email,
            name: s.name,
        },
        expires_at: s.expires_at,
        default_organization_id: live.membership.map(|(_, org)| org.id),
        platform_admin: live.user.is_some_and(|(_, admin)| admin),
        organizations: organizations
            .into_iter()
            .map(|m| OrganizationRole {
                id: m.organization_id,
                slug: m.slug,
                name: m.name,
                role: m.role,
            })
            .collect(),
    }))
}

/// Ends the session server-side and clears the cookie (POST, or GET for links).
#[endpoint(tags("auth"))]
pub async fn logout(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<ApiOk<SignedOut>> {
    let auth = auth_state(depot)?;
    if let Some(token) = cookie_token(req) {
        let mut conn = conn(depot).await?;
        if let Some(email) = sessions::delete(&mut conn, &hash(&token)).await? {
            let ip = client_ip(req);
            audit::record(
                &mut conn,
                AuditEvent {
                    organization_id: None,
                    actor: &email,
                    action: AuditAction::Logout,
                    target: None,
                    details: serde_json::json!({}),
                    ip: ip.as_deref(),
                },
            )
            .await?;
            tracing::info!(%email, "signed out");
        }
    }
    res.add_cookie(cleared_cookie(&auth.config));
    Ok(ok(SignedOut {
        authenticated: false,
    }))
}

/// Development sign-in (`AUTH_DEV_LOGIN=true`, loopback only): signs in an allow-listed
/// email without Microsoft and lands on the SPA.
#[endpoint(
    tags("auth"),
    parameters(("email" = String, Query, max_length = 254, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$", description = "An allow-listed email (any case; blank counts as missing)")),
    responses(
        (status_code = 302, description = "Signed in: the session cookie is set; to the SPA", headers(("Location" = String, description = "The SPA"), ("Set-Cookie" = String, description = "The session cookie"))),
        errors::BadParameter,
        errors::NotFound,
        errors::SignInLimit,
        (status_code = 403, description = "FORBIDDEN: the email is not on the allow-list (the error envelope)", body = qbr_shared::error::ErrorEnvelope),
    ),
    // It answers with a redirect, never a 200.
    status_codes(302, 400, 403, 404, 429, 500, 503)
)]
pub async fn dev_login(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    let auth = auth_state(depot)?;
    if !auth.config.dev_login {
        return Err(AppError::not_found("Development sign-in is not enabled"));
    }
    let email = params::raw(req, "email")
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| AppError::invalid_parameter("Query parameter 'email' is required"))?;
    text::check_field("Query parameter 'email'", &email, text::EMAIL)
        .map_err(AppError::invalid_parameter)?;
    let mut conn = conn(depot).await?;
    if !may_sign_in(&mut conn, &email).await? {
        let ip = client_ip(req);
        audit::record(
            &mut conn,
            AuditEvent {
                organization_id: None,
                actor: &email,
                action: AuditAction::SignInDenied,
                target: None,
                details: serde_json::json!({"method": "dev"}),
                ip: ip.as_deref(),
            },
        )
        .await?;
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Access denied — your account is not authorized",
        ));
    }
    start(req, res, &mut conn, &auth.config, &email, None, "dev").await?;
    res.render(Redirect::found(auth.config.frontend_url.clone()));
    Ok(())
}
