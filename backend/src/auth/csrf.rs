//! Cross-site rules: CORS for the configured origins (`CORS_ORIGINS` and `FRONTEND_URL`'s,
//! with credentials: a SPA hosted on another host of the site calls the API with its
//! session cookie), and the CSRF check of cookie-authenticated writes: their `Origin`
//! (or, without one, `Referer`) must be an allowed origin, this server's
//! `API_BASE_URL`, or the request's own host.
//! API-key requests carry no ambient credentials and are exempt.
use super::config::AuthConfig;
use oauth2::url::Url;
use salvo::cors::{AllowHeaders, AllowOrigin, Cors, CorsHandler};
use salvo::http::Method;
use salvo::prelude::*;

/// The CORS hoop (on the `Service`, so preflights reach it).
pub fn cors(config: &AuthConfig) -> CorsHandler {
    let origins: Vec<&str> = config.cors_origins.iter().map(String::as_str).collect();
    Cors::new()
        .allow_origin(AllowOrigin::from(origins))
        .allow_credentials(true)
        .allow_methods(vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::from(vec![
            "content-type",
            "authorization",
            "x-api-key",
            "x-request-id",
            // The SPA sends the browser's time zone with every call.
            "x-timezone",
        ]))
        .expose_headers(vec!["x-request-id", "retry-after"])
        .max_age(600)
        .into_handler()
}

/// `scheme://host[:port]` of a URL, `None` for opaque origins.
fn origin_of(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    url.host_str()?;
    Some(url)
}

fn same(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether a state-changing, cookie-authenticated request comes from an allowed page.
pub fn origin_allowed(req: &Request, config: &AuthConfig) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = header("origin")
        .filter(|o| *o != "null")
        .or_else(|| header("referer"))
        .and_then(origin_of)
    else {
        return false;
    };
    let allowed = config
        .cors_origins
        .iter()
        .chain(std::iter::once(&config.api_base_url))
        .filter_map(|o| origin_of(o))
        .any(|o| same(&o, &origin));
    if allowed {
        return true;
    }
    // Same origin: the page was served by this host (scheme as seen by the page).
    header("host")
        .and_then(|host| origin_of(&format!("{}://{host}", origin.scheme())))
        .is_some_and(|own| same(&own, &origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(origin: Option<&str>, referer: Option<&str>) -> bool {
        let mut req = salvo::test::TestClient::post("http://127.0.0.1:5400/api/qbr/thresholds")
            .add_header("host", "127.0.0.1:5400", true);
        if let Some(o) = origin {
            req = req.add_header("origin", o, true);
        }
        if let Some(r) = referer {
            req = req.add_header("referer", r, true);
        }
        origin_allowed(&req.build(), &AuthConfig::default())
    }

    #[test]
    fn origins() {
        assert!(allowed(Some("https://dashboards.enersystems.com"), None));
        assert!(allowed(Some("http://localhost:8080"), None));
        assert!(allowed(Some("http://127.0.0.1:5400"), None), "same origin");
        assert!(allowed(None, Some("http://localhost:3000/dashboard")));
        assert!(!allowed(Some("https://evil.example"), None));
        assert!(!allowed(Some("http://localhost:9999"), None));
        assert!(!allowed(Some("null"), None));
        assert!(!allowed(None, None));
    }
}
