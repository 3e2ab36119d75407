//! Hoops that run on every request: request ids, access logs, security headers,
//! and the error catcher (so a 404 or a framework error also gets the error envelope).
//! Authentication is `crate::auth`.
use super::context::{client_ip_addr, ClientIp};
use super::context::{request_id, set_request_id};
use super::csp;
use super::params::check_query;
use super::response::write_error;
use crate::config::hosting::{PublicPath, Site};
use crate::error::AppError;
use qbr_shared::ErrorCode;
use salvo::http::header::{HeaderName, HeaderValue, CACHE_CONTROL};
use salvo::http::uri::Uri;
use salvo::prelude::*;
use std::time::Instant;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A new request id: a UUID (version 8) of a random 64-bit prefix drawn once per
/// process, so replicas don't collide, and a counter. As unique as a random UUID, and it
/// asks the operating system for no randomness per request.
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(rand::random::<u64>);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&prefix.to_be_bytes());
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Accepts a caller's request id when it is short and printable (so proxies can trace
/// a request end to end), else makes one.
fn pick_request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map_or_else(new_request_id, str::to_string)
}

/// Gives the request an id, answers with it in `X-Request-Id`, sets the security
/// headers, and writes one structured log line per request. Also where the public
/// path prefix ends: routing matched `/qbr/api/...`; everything after this hoop sees
/// `/api/...`, so handlers and the auth guard never need to know the prefix.
pub struct RequestContext {
    csp: HeaderValue,
    site: Site,
}

impl RequestContext {
    /// `inline_script_hashes`: CSP sources (`'sha256-…'`) of the SPA's inline bootstrap
    /// scripts, so the policy can forbid every other inline script.
    pub fn new(inline_script_hashes: &[String], site: Site) -> Self {
        let policy = csp::spa_policy(inline_script_hashes, None);
        let csp = HeaderValue::from_str(&policy).unwrap_or_else(|_| {
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
        });
        RequestContext { csp, site }
    }
}

#[async_trait]
impl Handler for RequestContext {
    async fn handle(
        &self,
        req: &mut Request,
        depot: &mut Depot,
        res: &mut Response,
        ctrl: &mut FlowCtrl,
    ) {
        let started = Instant::now();
        let id = pick_request_id(req);
        set_request_id(depot, id.clone());
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
        }
        security_headers(req, res, self.csp.clone());
        let peer = client_ip_addr(req);
        if let Some(ip) = self.site.trusted_proxies.client_ip(peer, req.headers()) {
            req.extensions_mut().insert(ClientIp(ip));
        }
        let public_path = req.uri().path().to_owned();
        let outcome = if self.site.public_path.is_root() {
            Ok(())
        } else {
            enter_public_path(req, res, &self.site.public_path)
        };
        let api = req.uri().path().starts_with("/api/");
        if api {
            // Answers of the API are per user and per moment: never kept by a browser
            // or a proxy (exports and reports included).
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        match outcome.and_then(|()| {
            if api {
                check_query(req).map_err(Some)
            } else {
                Ok(())
            }
        }) {
            Ok(()) => {
                ctrl.call_next(req, depot, res).await;
            }
            Err(Some(err)) => {
                write_error(res, Some(&id), &err);
                ctrl.skip_rest();
            }
            Err(None) => ctrl.skip_rest(),
        }
        let status = res.status_code.map_or(200, |s| s.as_u16());
        let elapsed = started.elapsed();
        crate::observe::http_request(
            req.method().as_str(),
            &route_label(req.matched_path(), &self.site.public_path),
            status,
            elapsed,
        );
        tracing::info!(
            request_id = %id,
            method = %req.method(),
            path = %public_path,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
}

/// The route a request took, as metrics label it: the pattern it matched (salvo's
/// matched path, `api/qbr/users/{user_id}`) without the public path, so one label
/// stands for every request of a route; `unmatched` when no route took it.
fn route_label(matched: &str, prefix: &PublicPath) -> String {
    if matched.is_empty() {
        return "unmatched".to_string();
    }
    let route = format!("/{matched}");
    if !prefix.is_root() && route == prefix.as_str() {
        return "/".to_string();
    }
    match prefix.strip(&route) {
        Some(inner) => inner.to_string(),
        None => route,
    }
}

/// Takes the public path off the request's URI (`/qbr/api/x?y` → `/api/x?y`), or
/// answers itself: `/qbr` redirects to `/qbr/` (`Err(None)`, nothing more to do).
/// A path outside the prefix matched no route and is left for the 404.
fn enter_public_path(
    req: &mut Request,
    res: &mut Response,
    prefix: &PublicPath,
) -> Result<(), Option<AppError>> {
    let uri = req.uri().clone();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    if uri.path() == prefix.as_str() {
        res.render(Redirect::permanent(format!("{}/{query}", prefix.as_str())));
        return Err(None);
    }
    let Some(inner) = prefix.strip(uri.path()).map(str::to_owned) else {
        return Ok(());
    };
    let mut parts = uri.into_parts();
    parts.path_and_query = format!("{inner}{query}").parse().ok();
    match Uri::from_parts(parts) {
        Ok(inner) => {
            req.set_uri(inner);
            Ok(())
        }
        Err(_) => Err(Some(AppError::new(
            ErrorCode::InvalidParameter,
            "The request's path can't be read",
        ))),
    }
}

fn security_headers(req: &Request, res: &mut Response, csp: HeaderValue) {
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "referrer-policy",
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("content-security-policy", csp);
    if req.scheme() == &salvo::http::uri::Scheme::HTTPS {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// The error code a bare status gets when the framework (not a handler) answered.
fn code_for_status(status: u16) -> ErrorCode {
    match status {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::InvalidBody,
        429 => ErrorCode::RateLimited,
        400..=499 => ErrorCode::InvalidParameter,
        _ => ErrorCode::Internal,
    }
}

/// The catcher's goal: any error response without a body of ours gets the envelope.
#[handler]
pub async fn catch_errors(
    req: &Request,
    depot: &mut Depot,
    res: &mut Response,
    ctrl: &mut FlowCtrl,
) {
    let status = res.status_code.map_or(404, |s| s.as_u16());
    let message = match status {
        404 => format!("No route for {} {}", req.method(), req.uri().path()),
        405 => format!(
            "Method {} is not allowed on {}",
            req.method(),
            req.uri().path()
        ),
        413 => "Request body is too large".to_string(),
        415 => "Unsupported media type: send application/json".to_string(),
        s if s >= 500 => "Internal server error".to_string(),
        _ => salvo::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Request failed")
            .to_string(),
    };
    let err = AppError::new(code_for_status(status), message).with_status(status);
    write_error(res, request_id(depot), &err);
    ctrl.skip_rest();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_pattern_without_the_public_path() {
        let root = PublicPath::default();
        let prefixed = PublicPath::parse("/qbr").unwrap_or_default();
        assert_eq!(
            route_label("api/qbr/users/{user_id}", &root),
            "/api/qbr/users/{user_id}"
        );
        assert_eq!(
            route_label("qbr/api/qbr/users/{user_id}", &prefixed),
            "/api/qbr/users/{user_id}"
        );
        assert_eq!(route_label("qbr", &prefixed), "/");
        assert_eq!(route_label("", &root), "unmatched");
    }

    #[test]
    fn request_ids_are_distinct_uuids() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        for id in [&a, &b] {
            let parsed = uuid::Uuid::parse_str(id).map(|u| u.get_version_num());
            assert_eq!(parsed.ok(), Some(8), "{id}");
        }
        assert_eq!(a[..18], b[..18], "one prefix per process");
    }
}
