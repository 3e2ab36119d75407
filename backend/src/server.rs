//! The HTTP service: API routes (protected by `auth::require_auth`), OpenAPI document,
//! the SPA's files, error catcher, CORS and other hoops; and serving it with graceful shutdown.
use crate::api;
use crate::auth::Auth;
use crate::http::{middleware, AppState};
use salvo::catcher::Catcher;
use salvo::fuse::FuseConfig;
use salvo::http::header::{HeaderValue, ALLOW};
use salvo::http::Method;
use salvo::oapi::OpenApi;
use salvo::prelude::*;
use salvo::routing::filters::{self, Filter, FilterInfo};
use salvo::routing::PathState;
use salvo::serve_static::StaticDir;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The connection timeouts: salvo's defaults (TLS handshake 10 s, request head 30 s) and
/// a request body that stalls for `body`.
pub fn connection_timeouts(body: Duration) -> FuseConfig {
    FuseConfig::default().with_request_body_timeout(body)
}

/// The whole service. `dist_dir` is served at `/` when it holds a built SPA.
pub fn service(state: AppState, auth: Arc<Auth>, dist_dir: &Path) -> Service {
    let cors = crate::auth::csrf::cors(&auth.config);
    let api = api::router(crate::auth::require_auth);
    // The document is made before HEAD is added, so it lists each read once, as GET.
    let doc = crate::auth::document_security(
        OpenApi::new("QBR Dashboard API", env!("CARGO_PKG_VERSION")).merge_router(&api),
    );
    let fallback = ApiFallback {
        routes: answer_head(api::router(crate::auth::require_auth)),
    };
    let mut script_hashes = Vec::new();
    let mut root = Router::new()
        .hoop(salvo::affix_state::inject(state).inject(auth))
        .push(Router::with_path("api/openapi.json").get(doc))
        .push(api)
        // Unknown /api paths are API 404s (the envelope), never the SPA's index.html.
        .push(Router::with_path("api/{**rest}").goal(fallback));
    if let Ok(index) = std::fs::read_to_string(dist_dir.join("index.html")) {
        script_hashes = middleware::inline_script_hashes(&index);
        let files = StaticDir::new([dist_dir.to_path_buf()])
            .defaults("index.html")
            .fallback("index.html");
        root = root.push(Router::with_path("{**path}").get(files));
    } else {
        tracing::info!(dir = %dist_dir.display(), "no built SPA found; serving the API only");
    }
    Service::new(answer_head(root))
        .hoop(middleware::RequestContext::new(&script_hashes))
        .hoop(cors)
        .hoop(salvo::prelude::CatchPanic::new())
        .catcher(Catcher::default().hoop(middleware::catch_errors))
}

/// Lets every GET route answer HEAD too (RFC 9110 §9.3.2: the same headers, no body;
/// salvo drops the body of a HEAD answer).
fn answer_head(mut router: Router) -> Router {
    for filter in router.filters_mut() {
        if matches!(filter.info(), FilterInfo::Method(m) if m == Method::GET) {
            *filter = Box::new(filters::get().or(filters::head()));
        }
    }
    let children = std::mem::take(router.routers_mut());
    for child in children {
        router = router.push(answer_head(child));
    }
    router
}

/// The answer for an `/api` path no route took: 405 with `Allow` when the path exists
/// for other methods (`TRACE` on a GET route, say), else 404.
struct ApiFallback {
    /// The API's routes, probed method by method (filters only: no hoop runs).
    routes: Router,
}

#[async_trait]
impl Handler for ApiFallback {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        let asked = req.method().clone();
        let path = req.uri().path().to_owned();
        let mut allowed = Vec::new();
        for method in [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
        ] {
            *req.method_mut() = method.clone();
            let mut state = PathState::from_borrowed_path(&path);
            if self.routes.detect(req, &mut state).await.is_some() {
                allowed.push(method.to_string());
            }
        }
        *req.method_mut() = asked;
        if allowed.is_empty() {
            res.status_code(StatusCode::NOT_FOUND);
        } else {
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                res.headers_mut().insert(ALLOW, v);
            }
            res.status_code(StatusCode::METHOD_NOT_ALLOWED);
        }
    }
}

/// Binds `addr` and serves until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(
    service: Service,
    addr: SocketAddr,
    body_timeout: Duration,
) -> anyhow::Result<()> {
    let acceptor = TcpListener::new(addr)
        .try_bind()
        .await
        .map_err(|e| anyhow::anyhow!("can't listen on {addr}: {e}"))?;
    tracing::info!(%addr, "listening");
    let server = Server::new(acceptor).fuse_config(connection_timeouts(body_timeout));
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        handle.stop_graceful(std::time::Duration::from_secs(10));
    });
    server.serve(service).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
