//! A plain static web server (real HTTP on 127.0.0.1) that serves a built SPA under a
//! path prefix the way the hosting guide asks of any web server in front of the split
//! hosts set-up (mode 2; the nginx and Caddy examples in `deploy/` do the same):
//!
//! - the directory is served at `{prefix}/`; `{prefix}` alone is a 301 to `{prefix}/`;
//!   anything outside the prefix is a 404;
//! - a path under the prefix that is not a file gets `index.html` (deep links such as
//!   `/qbr/numbers/rhem/2025-Q1` are the SPA's routes), but a missing file whose name
//!   has an extension (`config.json`, a hashed asset) is a plain 404;
//! - `Cache-Control: no-cache` on `index.html`, `config.json` and every other unhashed
//!   file (with an `ETag`, so a revalidation is a 304), `public, max-age=31536000,
//!   immutable` on Trunk's hashed files (`frontend-<hash>.js`,
//!   `frontend-<hash>_bg.wasm`, `style-<hash>.css`);
//! - `application/wasm` for `.wasm`; gzip for `.wasm`, `.js`, `.css`, `.json` and `.svg`
//!   when the client accepts it;
//! - on every answer (404s and redirects too) the fixed security headers:
//!   `Content-Security-Policy: frame-ancestors 'none'`, `X-Frame-Options: DENY`,
//!   `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//!   strict-origin-when-cross-origin` (no HSTS: plain HTTP), plus any extra headers the
//!   test asks for.
//!
//! Only `GET` and `HEAD`; anything else is a 405. Every request is logged
//! ([`StaticSite::served`]) so tests can see what the browser fetched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use salvo::conn::Acceptor;
use salvo::http::header::{self, HeaderName, HeaderValue};
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::server::ServerHandle;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

/// The headers every answer carries.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

/// `Cache-Control` of Trunk's hashed files.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// Path and query as requested.
    pub path: String,
    pub status: u16,
}

/// Gzipped bodies by (file, ETag).
type GzipCache = Mutex<HashMap<(PathBuf, String), Arc<Vec<u8>>>>;

struct Site {
    dir: PathBuf,
    /// The prefix without its trailing slash: `/qbr`, or empty for the root.
    base: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    log: Arc<Mutex<Vec<Served>>>,
    gzipped: GzipCache,
}

/// The server; stopped when dropped.
pub struct StaticSite {
    /// `http://127.0.0.1:{port}` (no prefix).
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Served>>>,
    handle: ServerHandle,
}

impl StaticSite {
    /// Serves `dir` under `prefix` (`/qbr/`, `/qbr` or `/`).
    pub async fn start(dir: impl Into<PathBuf>, prefix: &str) -> StaticSite {
        StaticSite::start_with(dir, prefix, &[]).await
    }

    /// [`StaticSite::start`] with extra headers on every answer (for instance the ones
    /// `qbr spa configure` says the web server must add).
    pub async fn start_with(
        dir: impl Into<PathBuf>,
        prefix: &str,
        extra_headers: &[(&str, &str)],
    ) -> StaticSite {
        let dir: PathBuf = dir.into();
        assert!(dir.is_dir(), "{} is not a directory", dir.display());
        let base = prefix.trim_end_matches('/').to_string();
        assert!(
            base.is_empty() || base.starts_with('/'),
            "prefix {prefix:?} must start with /"
        );
        let headers = SECURITY_HEADERS
            .iter()
            .copied()
            .chain(extra_headers.iter().copied())
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                    HeaderValue::from_str(v).expect("header value"),
                )
            })
            .collect();
        let log = Arc::new(Mutex::new(Vec::new()));
        let site = Arc::new(Site {
            dir: dir.canonicalize().expect("canonical dir"),
            base,
            headers,
            log: log.clone(),
            gzipped: Mutex::new(HashMap::new()),
        });
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let port = acceptor.holdings()[0]
            .local_addr
            .clone()
            .into_std()
            .expect("tcp address")
            .port();
        let router = Router::with_path("{**rest}").goal(SiteHandler(site));
        let server = Server::new(acceptor);
        let handle = server.handle();
        tokio::spawn(async move { server.serve(router).await });
        StaticSite {
            url: format!("http://127.0.0.1:{port}"),
            port,
            log,
            handle,
        }
    }

    /// Every request answered so far, oldest first.
    pub fn served(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    /// Stops accepting and drops open connections.
    pub fn stop(&self) {
        self.handle.stop_forceful();
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.stop();
    }
}

struct SiteHandler(Arc<Site>);

#[async_trait]
impl Handler for SiteHandler {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let site = &self.0;
        for (k, v) in &site.headers {
            res.headers_mut().append(k.clone(), v.clone());
        }
        let status = answer(site, req, res);
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        site.log.lock().unwrap().push(Served {
            method: req.method().to_string(),
            path,
            status: status.as_u16(),
        });
    }
}

/// Answers one request; returns the status.
fn answer(site: &Site, req: &Request, res: &mut Response) -> StatusCode {
    let path = req.uri().path();
    if !site.base.is_empty() && path == site.base {
        let location = match req.uri().query() {
            Some(q) => format!("{}/?{q}", site.base),
            None => format!("{}/", site.base),
        };
        res.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_str(&location).unwrap());
        return plain(res, StatusCode::MOVED_PERMANENTLY, "");
    }
    let Some(rest) = path.strip_prefix(&format!("{}/", site.base)) else {
        return plain(res, StatusCode::NOT_FOUND, "Not Found");
    };
    if *req.method() != salvo::http::Method::GET && *req.method() != salvo::http::Method::HEAD {
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return plain(res, StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let Some(relative) = decode_path(rest) else {
        return plain(res, StatusCode::NOT_FOUND, "Not Found");
    };
    let wanted = site.dir.join(&relative);
    let file = if wanted.is_file() {
        wanted
    } else {
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.contains('.') {
            // A missing file (config.json, an asset): never index.html in its place.
            return plain(res, StatusCode::NOT_FOUND, "Not Found");
        }
        site.dir.join("index.html")
    };
    // Nothing outside the directory (symlinks included).
    match file.canonicalize() {
        Ok(f) if f.starts_with(&site.dir) => {}
        _ => return plain(res, StatusCode::NOT_FOUND, "Not Found"),
    }
    serve_file(site, req, res, &file)
}

fn plain(res: &mut Response, status: StatusCode, text: &'static str) -> StatusCode {
    res.status_code(status);
    if !text.is_empty() {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    res.body(text);
    status
}

/// The percent-decoded relative path, or None when it would leave the directory.
fn decode_path(rest: &str) -> Option<PathBuf> {
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    if text.contains('\0') || text.contains('\\') {
        return None;
    }
    let path = PathBuf::from(text);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Trunk's content-hashed names: `<name>-<16 hex digits>[_bg].(js|wasm|css)`.
pub fn is_hashed_asset(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if !matches!(ext, "js" | "wasm" | "css") {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wasm" | "js" | "css" | "json" | "svg")
    )
}

fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';').map(str::trim);
            it.next() == Some("gzip") && !it.any(|p| p.replace(' ', "") == "q=0")
        })
}

fn serve_file(site: &Site, req: &Request, res: &mut Response, file: &Path) -> StatusCode {
    let Ok(meta) = std::fs::metadata(file) else {
        return plain(res, StatusCode::NOT_FOUND, "Not Found");
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("\"{:x}-{:x}\"", meta.len(), mtime);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cache = if is_hashed_asset(&name) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    let gzip = compressible(file) && meta.len() >= 1024;
    if gzip {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let revalidated = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == etag || t.trim() == "*");
    if revalidated {
        res.status_code(StatusCode::NOT_MODIFIED);
        return StatusCode::NOT_MODIFIED;
    }
    let Ok(body) = std::fs::read(file) else {
        return plain(res, StatusCode::NOT_FOUND, "Not Found");
    };
    res.status_code(StatusCode::OK);
    if gzip && accepts_gzip(req) {
        let key = (file.to_path_buf(), etag);
        let cached = site.gzipped.lock().unwrap().get(&key).cloned();
        let zipped = cached.unwrap_or_else(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&body).unwrap();
            let z = Arc::new(enc.finish().unwrap());
            site.gzipped.lock().unwrap().insert(key, z.clone());
            z
        });
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res.body(zipped.as_ref().clone());
    } else {
        res.body(body);
    }
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed_asset("frontend-64090003eb77f671.js"));
        assert!(is_hashed_asset("frontend-64090003eb77f671_bg.wasm"));
        assert!(is_hashed_asset("style-6750de6ab8f22f7b.css"));
        assert!(!is_hashed_asset("echarts.min.js"));
        assert!(!is_hashed_asset("index.html"));
        assert!(!is_hashed_asset("config.json"));
        assert!(!is_hashed_asset("frontend-6409.js"));
    }

    #[test]
    fn paths_stay_inside() {
        assert_eq!(decode_path("a%20b/c.js"), Some(PathBuf::from("a b/c.js")));
        assert_eq!(decode_path("../etc/passwd"), None);
        assert_eq!(decode_path("%2e%2e/x"), None);
        assert_eq!(decode_path("a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(decode_path("/abs"), None);
        assert_eq!(decode_path("bad%zz"), None);
    }

    /// A fresh directory with a small built SPA in it.
    fn spa_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("static-site-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>spa</title>").unwrap();
        std::fs::write(dir.join("config.json"), r#"{"api_base_url": "x"}"#).unwrap();
        std::fs::write(
            dir.join("frontend-0123456789abcdef_bg.wasm"),
            vec![0u8; 4096],
        )
        .unwrap();
        std::fs::write(dir.join("echarts.min.js"), "x".repeat(2000)).unwrap();
        std::fs::write(dir.join("sub/a.txt"), "a").unwrap();
        dir
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn serves_under_the_prefix_as_the_guide_says() {
        let dir = spa_dir();
        let site = StaticSite::start_with(&dir, "/qbr/", &[("x-extra", "1")]).await;
        let http = client();
        let get = |path: &str| http.get(format!("{}{path}", site.url)).send();

        let r = get("/qbr").await.unwrap();
        assert_eq!(r.status(), 301);
        assert_eq!(r.headers()["location"], "/qbr/");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        for (path, status) in [("/", 404), ("/other/x", 404), ("/qbrx", 404)] {
            let r = get(path).await.unwrap();
            assert_eq!(r.status(), status, "{path}");
            assert_eq!(
                r.headers()["content-security-policy"],
                "frame-ancestors 'none'"
            );
        }
        // index.html for the root and for routes; never for a missing file.
        for route in ["/qbr/", "/qbr/numbers/rhem/2025-Q1", "/qbr/review?x=1"] {
            let r = get(route).await.unwrap();
            assert_eq!(r.status(), 200, "{route}");
            assert_eq!(r.headers()["cache-control"], "no-cache");
            assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
            assert_eq!(r.headers()["x-extra"], "1");
            assert_eq!(r.text().await.unwrap(), "<!doctype html><title>spa</title>");
        }
        for missing in [
            "/qbr/frontend-ffffffffffffffff.js",
            "/qbr/nope.json",
            "/qbr/../etc/passwd",
        ] {
            assert_eq!(get(missing).await.unwrap().status(), 404, "{missing}");
        }
        let r = get("/qbr/config.json").await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-cache");
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = get("/qbr/frontend-0123456789abcdef_bg.wasm").await.unwrap();
        assert_eq!(r.headers()["cache-control"], IMMUTABLE);
        assert_eq!(r.headers()["content-type"], "application/wasm");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            r.headers()["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert_eq!(r.bytes().await.unwrap().len(), 4096);
        // gzip when asked for; a revalidation is a 304.
        let r = http
            .get(format!("{}/qbr/echarts.min.js", site.url))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["cache-control"], "no-cache");
        let etag = r.headers()["etag"].clone();
        assert!(r.bytes().await.unwrap().len() < 200);
        let r = http
            .get(format!("{}/qbr/echarts.min.js", site.url))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        assert_eq!(
            get("/qbr/sub/a.txt").await.unwrap().text().await.unwrap(),
            "a"
        );
        let r = http
            .post(format!("{}/qbr/", site.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
        assert!(site.served().contains(&Served {
            method: "GET".into(),
            path: "/qbr/review?x=1".into(),
            status: 200
        }));
        site.stop();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn serves_at_the_root() {
        let dir = spa_dir();
        let site = StaticSite::start(&dir, "/").await;
        let http = client();
        let r = http.get(format!("{}/", site.url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = http
            .get(format!("{}/dashboard/2025-Q1", site.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "<!doctype html><title>spa</title>");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
