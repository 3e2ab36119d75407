//! `GET /metrics`: the server's metrics in Prometheus' text format (`observe`), for a
//! Prometheus that scrapes this process. Outside `/api` and the OpenAPI document, like
//! `config.json`: it is the operator's, not the API's. Who may read it:
//!
//! - with `QBR_METRICS_TOKEN` set, a request with `Authorization: Bearer <token>`
//!   (401 otherwise), wherever it comes from;
//! - without it, clients on this machine only (403 otherwise): the client address as
//!   `http::context::client_ip_addr` resolves it through `QBR_TRUSTED_PROXIES`, and no
//!   request that came through a proxy (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`),
//!   since a reverse proxy on this machine connects from loopback for everyone.
use crate::error::{AppError, AppResult};
use crate::http::context::{client_ip_addr, state};
use qbr_shared::ErrorCode;
use salvo::http::header::{
    HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use salvo::prelude::*;

/// The media type of the text exposition format.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Headers a reverse proxy adds: a request carrying one did not come from this machine
/// directly.
const PROXY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// The scrape.
#[handler]
pub async fn get_metrics(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<()> {
    let state = state(depot)?;
    if let Err(e) = check_access(req, state.metrics_token.as_deref()) {
        if e.status == 401 {
            res.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"qbr metrics\""),
            );
        }
        return Err(e);
    }
    let pool = state.pool.status();
    crate::observe::db_pool(pool.max_size, pool.size, pool.available, pool.waiting);
    let text = crate::observe::render()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no metrics recorder installed")))?;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.write_body(text)
        .map_err(|e| AppError::internal(anyhow::anyhow!("writing the scrape: {e}")))
}

fn check_access(req: &Request, token: Option<&str>) -> AppResult<()> {
    let Some(expected) = token else {
        let proxied = PROXY_HEADERS.iter().any(|h| req.headers().contains_key(*h));
        let local = client_ip_addr(req).is_some_and(|ip| ip.to_canonical().is_loopback());
        return match local && !proxied {
            true => Ok(()),
            false => Err(AppError::new(
                ErrorCode::Forbidden,
                "Metrics are served to this machine only; set QBR_METRICS_TOKEN to scrape from elsewhere",
            )),
        };
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Hashes compared: the time taken says nothing of the token.
    match given {
        Some(given) if crate::secrets::hash(given) == crate::secrets::hash(expected) => Ok(()),
        _ => Err(AppError::new(
            ErrorCode::Unauthenticated,
            "Metrics need the header Authorization: Bearer <QBR_METRICS_TOKEN>",
        )),
    }
}
