//! Connecting QuickBooks Online: `GET /api/qbr/quickbooks/online/connect` (a signed-in
//! user; 302 to Intuit's consent page), `GET /api/qbr/quickbooks/online/callback`
//! (public like the Microsoft callback: the single-use state proves who started it; 302
//! to Settings → QuickBooks, or a page saying what went wrong), and
//! `POST /api/qbr/quickbooks/online/disconnect` (a signed-in user).
use crate::auth::auth_state;
use crate::collect::quickbooks::online::connect::{self, Callback, ConnectError};
use crate::collect::quickbooks::online::OnlineSettings;
use crate::error::{AppError, AppResult};
use crate::http::context::{client_ip, conn, organization, state, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk};
use salvo::prelude::*;

/// Where a connected company lands in the SPA.
const SETTINGS_PAGE: &str = "/settings/quickbooks";

fn not_set_up() -> AppError {
    AppError::not_found(
        "QuickBooks Online is not set up: set QBO_CLIENT_ID, QBO_CLIENT_SECRET and QBR_SECRET_KEY",
    )
}

fn online_settings(depot: &Depot) -> AppResult<OnlineSettings> {
    state(depot)?
        .quickbooks
        .online
        .clone()
        .ok_or_else(not_set_up)
}

/// Starts connecting a QuickBooks Online company: 302 to Intuit, which sends the
/// browser back to the callback. A signed-in user only (not an API key).
#[endpoint(
    tags("quickbooks"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(
        (status_code = 302, description = "To Intuit's consent page", headers(("Location" = String, description = "Intuit's authorize URL"))),
        errors::BadParameter,
        errors::NotFound,
    )
)]
pub async fn get_connect(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<()> {
    let settings = online_settings(depot)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let url = connect::start(&mut conn, &settings, org.id, &who.name)
        .await
        .map_err(AppError::internal)?;
    res.render(Redirect::found(url));
    Ok(())
}

/// Forgets the connected company and its tokens (audited). A signed-in user only.
#[endpoint(
    tags("quickbooks"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn post_disconnect(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<serde_json::Value>> {
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let was = connect::disconnect(&mut conn, org.id, &who.name, who.ip.as_deref()).await?;
    Ok(ok(serde_json::json!({
        "online_connected": false,
        "disconnected": was,
    })))
}

/// Intuit's redirect after the consent page: checks the state, exchanges the code,
/// keeps the tokens sealed and lands on Settings → QuickBooks.
#[endpoint(
    tags("quickbooks"),
    parameters(
        ("code" = Option<String>, Query, description = "The authorization code from Intuit"),
        ("state" = Option<String>, Query, description = "The state the connection started with"),
        ("realmId" = Option<String>, Query, description = "The QuickBooks company"),
        ("error" = Option<String>, Query, description = "Why Intuit did not connect"),
    ),
    responses(
        (status_code = 302, description = "Connected: to Settings → QuickBooks", headers(("Location" = String, description = "The SPA's QuickBooks page"))),
        (status_code = 400, description = "Not connected: declined, incomplete, or an expired or unknown state (an HTML page)", content_type = "text/html", body = String),
        (status_code = 404, description = "QuickBooks Online is not set up (an HTML page)", content_type = "text/html", body = String),
        (status_code = 500, description = "Misconfigured (an HTML page)", content_type = "text/html", body = String),
        (status_code = 502, description = "Intuit did not confirm the connection (an HTML page)", content_type = "text/html", body = String),
        (status_code = 503, description = "The database is unavailable (an HTML page)", content_type = "text/html", body = String),
        errors::SignInLimit,
    )
)]
pub async fn get_callback(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let home = auth_state(depot)
        .map(|a| a.config.frontend_url.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let settings = match online_settings(depot) {
        Ok(s) => s,
        Err(e) => {
            return page(
                res,
                StatusCode::NOT_FOUND,
                "QuickBooks Online is not set up",
                &e.message,
                &home,
            )
        }
    };
    let Ok(pool) = state(depot).map(|s| s.pool.clone()) else {
        return page(
            res,
            StatusCode::INTERNAL_SERVER_ERROR,
            "QuickBooks Online was not connected",
            "Internal error.",
            &home,
        );
    };
    let callback = Callback {
        code: params::raw(req, "code"),
        state: params::raw(req, "state"),
        realm_id: params::raw(req, "realmId"),
        error: params::raw(req, "error"),
    };
    let ip = client_ip(req);
    match connect::finish(&pool, &settings, callback, ip.as_deref()).await {
        Ok(connected) => {
            // The organization that started the connect, whichever the user sees last.
            let page = organization_page(&pool, connected.organization_id)
                .await
                .unwrap_or_else(|| SETTINGS_PAGE.to_string());
            res.render(Redirect::found(format!("{home}{page}")))
        }
        Err(e) => {
            let (status, message) = explain(&e);
            page(
                res,
                status,
                "QuickBooks Online was not connected",
                &message,
                &home,
            );
        }
    }
}

/// What the person at the browser is told, and the page's status.
fn explain(e: &ConnectError) -> (StatusCode, String) {
    match e {
        ConnectError::Denied(error) if error == "access_denied" => (
            StatusCode::BAD_REQUEST,
            "Access was declined at Intuit. You can connect again from Settings → QuickBooks.".into(),
        ),
        ConnectError::Denied(error) => (
            StatusCode::BAD_REQUEST,
            format!("Intuit did not connect the company ({error}). Please try again from Settings → QuickBooks."),
        ),
        ConnectError::Incomplete | ConnectError::BadRealm => (
            StatusCode::BAD_REQUEST,
            "The answer from Intuit was incomplete. Please connect again from Settings → QuickBooks.".into(),
        ),
        ConnectError::UnknownState => (
            StatusCode::BAD_REQUEST,
            "This link has expired, was already used, or did not start here. Please connect again from Settings → QuickBooks.".into(),
        ),
        ConnectError::Intuit(cause) => {
            tracing::warn!(error = %cause, "exchanging the QuickBooks Online code failed");
            (
                StatusCode::BAD_GATEWAY,
                "Intuit did not confirm the connection. Please connect again from Settings → QuickBooks.".into(),
            )
        }
        ConnectError::Db(_) | ConnectError::Other(_) => {
            tracing::error!(error = %e, "finishing a QuickBooks Online connect failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The server could not keep the connection right now. Please try again shortly.".into(),
            )
        }
    }
}

/// Settings → QuickBooks of organization `id` (`/o/{slug}/settings/quickbooks`).
async fn organization_page(pool: &crate::db::DbPool, id: i32) -> Option<String> {
    let mut conn = crate::db::tenant::checkout_platform(pool).await.ok()?;
    let org = crate::store::org::summary(&mut conn, id).await.ok()??;
    Some(format!("/o/{}{SETTINGS_PAGE}", org.slug))
}

/// A failure page leading back to Settings → QuickBooks.
fn page(res: &mut Response, status: StatusCode, title: &str, message: &str, home: &str) {
    let settings = format!("{home}{SETTINGS_PAGE}");
    crate::http::page::render(
        res,
        status,
        title,
        message,
        &[("Settings → QuickBooks", &settings)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declined_consent_says_so_and_internal_causes_stay_internal() {
        let (status, message) = explain(&ConnectError::Denied("access_denied".into()));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("declined"));
        let (status, message) = explain(&ConnectError::Other(anyhow::anyhow!(
            "pool timeout at 10.0.0.1"
        )));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!message.contains("10.0.0.1"));
    }
}
