//! A plain HTTP reverse proxy (real HTTP on 127.0.0.1), like nginx's
//! `location /qbr/ { proxy_pass http://127.0.0.1:P; }` with the headers the hosting
//! guide sets (`deploy/nginx/qbr-prefix.conf`): the method, the path and query
//! (unchanged, no rewriting), the headers and the body go to the upstream as they
//! came; the client's `Host` is kept (`proxy_set_header Host $http_host`), and
//! `X-Forwarded-For` (the client's address, replacing whatever the client sent),
//! `X-Forwarded-Proto` (`http`) and `X-Forwarded-Host` are set. The upstream's status,
//! headers (every `Set-Cookie`) and body come back unchanged; redirects are passed on,
//! never followed. Bodies are buffered (at most 64 MiB).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use salvo::conn::Acceptor;
use salvo::http::header::{self, HeaderMap, HeaderValue};
use salvo::http::StatusCode;
use salvo::prelude::*;
use salvo::server::ServerHandle;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Hop-by-hop headers: about one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

const MAX_BODY: usize = 64 << 20;

/// The proxy; stopped when dropped.
pub struct ReverseProxy {
    /// `http://127.0.0.1:{port}`.
    pub url: String,
    pub port: u16,
    /// Requests forwarded so far.
    pub forwarded: Arc<AtomicU64>,
    handle: ServerHandle,
}

struct Forward {
    upstream: String,
    client: reqwest::Client,
    forwarded: Arc<AtomicU64>,
}

impl ReverseProxy {
    /// Forwards every request to `upstream` (`http://127.0.0.1:5400`, no path).
    pub async fn start(upstream: &str) -> ReverseProxy {
        let upstream = upstream.trim_end_matches('/').to_string();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        let forwarded = Arc::new(AtomicU64::new(0));
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let port = acceptor.holdings()[0]
            .local_addr
            .clone()
            .into_std()
            .expect("tcp address")
            .port();
        let router = Router::with_path("{**rest}").goal(Forward {
            upstream,
            client,
            forwarded: forwarded.clone(),
        });
        let server = Server::new(acceptor);
        let handle = server.handle();
        tokio::spawn(async move { server.serve(router).await });
        ReverseProxy {
            url: format!("http://127.0.0.1:{port}"),
            port,
            forwarded,
            handle,
        }
    }

    /// Stops accepting and drops open connections.
    pub fn stop(&self) {
        self.handle.stop_forceful();
    }
}

impl Drop for ReverseProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The headers to pass on: all but the hop-by-hop ones, those named in `Connection`,
/// and `Content-Length` (recomputed from the buffered body).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (k, v) in headers {
        let name = k.as_str();
        if HOP_BY_HOP.contains(&name)
            || name == "upgrade"
            || name == "content-length"
            || named.iter().any(|n| n == name)
        {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

#[async_trait]
impl Handler for Forward {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let url = format!("{}{path}", self.upstream);
        let mut headers = end_to_end(req.headers());
        let host = req.headers().get(header::HOST).cloned();
        let client_ip = req
            .remote_addr()
            .clone()
            .into_std()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&client_ip) {
            headers.insert("x-forwarded-for", v);
        }
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        if let Some(h) = host {
            // Kept as Host too: reqwest only sets Host when the request has none.
            headers.insert("x-forwarded-host", h.clone());
            headers.insert(header::HOST, h);
        }
        let method = req.method().clone();
        let body = match req.payload_with_max_size(MAX_BODY).await {
            Ok(b) => b.clone(),
            Err(e) => {
                res.status_code(StatusCode::PAYLOAD_TOO_LARGE);
                res.body(format!("reverse proxy: request body: {e}"));
                return;
            }
        };
        let mut request = self.client.request(method, &url).headers(headers);
        if !body.is_empty() {
            request = request.body(body);
        }
        let sent = request.send().await;
        let upstream = match sent {
            Ok(r) => r,
            Err(e) => {
                res.status_code(StatusCode::BAD_GATEWAY);
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                res.body(format!("reverse proxy: upstream {url}: {e}"));
                return;
            }
        };
        res.status_code(upstream.status());
        *res.headers_mut() = end_to_end(upstream.headers());
        match upstream.bytes().await {
            // Set even when empty: an empty error answer stays empty (no error page).
            Ok(b) => {
                res.body(b);
            }
            Err(e) => {
                res.status_code(StatusCode::BAD_GATEWAY);
                res.body(format!("reverse proxy: upstream body: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Echoes the request as JSON; `/redirect` answers a 302 with two cookies.
    #[handler]
    async fn echo(req: &mut Request, res: &mut Response) {
        if req.uri().path() == "/redirect" {
            res.status_code(StatusCode::FOUND);
            res.add_header("location", "/elsewhere", true).unwrap();
            res.add_header("set-cookie", "a=1; Path=/", false).unwrap();
            res.add_header("set-cookie", "b=2; Path=/qbr", false)
                .unwrap();
            return;
        }
        if req.uri().path() == "/empty-404" {
            res.status_code(StatusCode::NOT_FOUND);
            res.body(bytes_empty());
            return;
        }
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap())))
            .collect();
        let body = String::from_utf8(req.payload().await.unwrap().to_vec()).unwrap();
        res.render(Json(json!({
            "method": req.method().as_str(),
            "uri": req.uri().to_string(),
            "headers": headers,
            "body": body,
        })));
    }

    fn bytes_empty() -> Vec<u8> {
        Vec::new()
    }

    #[tokio::test]
    async fn forwards_unchanged_and_passes_answers_back() {
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let port = acceptor.holdings()[0]
            .local_addr
            .clone()
            .into_std()
            .unwrap()
            .port();
        tokio::spawn(async move {
            Server::new(acceptor)
                .serve(Router::with_path("{**rest}").goal(echo))
                .await
        });
        let proxy = ReverseProxy::start(&format!("http://127.0.0.1:{port}")).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let r = http
            .put(format!("{}/qbr/api/x%20y?a=1&b=%2F", proxy.url))
            .header("host", "proxy.qbr.test:8443")
            .header("x-forwarded-for", "6.6.6.6")
            .header("cookie", "qbr_session=abc")
            .header("connection", "keep-alive, x-secret")
            .header("x-secret", "hop")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["method"], "PUT");
        assert_eq!(v["uri"], "/qbr/api/x%20y?a=1&b=%2F");
        assert_eq!(v["body"], "hello");
        let h = &v["headers"];
        assert_eq!(h["host"], "proxy.qbr.test:8443");
        assert_eq!(h["x-forwarded-host"], "proxy.qbr.test:8443");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-for"], "127.0.0.1");
        assert_eq!(h["cookie"], "qbr_session=abc");
        assert_eq!(h["x-secret"], Value::Null);

        let r = http
            .get(format!("{}/redirect", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "/elsewhere");
        let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2; Path=/qbr"]);
        let r = http
            .get(format!("{}/empty-404", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.bytes().await.unwrap().len(), 0);
        assert_eq!(proxy.forwarded.load(Ordering::Relaxed), 3);

        // Nothing listening: 502.
        let dead = ReverseProxy::start(&format!("http://127.0.0.1:{}", 1)).await;
        let r = http.get(format!("{}/x", dead.url)).send().await.unwrap();
        assert_eq!(r.status(), 502);
    }
}
