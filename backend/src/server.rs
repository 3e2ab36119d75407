//! The HTTP service: API routes (protected by `auth::require_auth`), OpenAPI document,
//! the SPA's files, error catcher, CORS and other hoops; and serving it with graceful shutdown.
use crate::api;
use crate::auth::Auth;
use crate::http::{middleware, AppState};
use salvo::catcher::Catcher;
use salvo::oapi::OpenApi;
use salvo::prelude::*;
use salvo::serve_static::StaticDir;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The whole service. `dist_dir` is served at `/` when it holds a built SPA.
pub fn service(state: AppState, auth: Arc<Auth>, dist_dir: &Path) -> Service {
    let cors = crate::auth::csrf::cors(&auth.config);
    let api = api::router(crate::auth::require_auth);
    let doc = crate::auth::document_security(
        OpenApi::new("QBR Dashboard API", env!("CARGO_PKG_VERSION")).merge_router(&api),
    );
    let mut script_hashes = Vec::new();
    let mut root = Router::new()
        .hoop(salvo::affix_state::inject(state).inject(auth))
        .push(Router::with_path("api/openapi.json").get(doc))
        .push(api)
        // Unknown /api paths are API 404s (the envelope), never the SPA's index.html.
        .push(Router::with_path("api/{**rest}").goal(api_not_found));
    if let Ok(index) = std::fs::read_to_string(dist_dir.join("index.html")) {
        script_hashes = middleware::inline_script_hashes(&index);
        let files = StaticDir::new([dist_dir.to_path_buf()])
            .defaults("index.html")
            .fallback("index.html");
        root = root.push(Router::with_path("{**path}").get(files));
    } else {
        tracing::info!(dir = %dist_dir.display(), "no built SPA found; serving the API only");
    }
    Service::new(root)
        .hoop(middleware::RequestContext::new(&script_hashes))
        .hoop(cors)
        .hoop(salvo::prelude::CatchPanic::new())
        .catcher(Catcher::default().hoop(middleware::catch_errors))
}

#[handler]
async fn api_not_found(res: &mut Response) {
    res.status_code(StatusCode::NOT_FOUND);
}

/// Binds `addr` and serves until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(service: Service, addr: SocketAddr) -> anyhow::Result<()> {
    let acceptor = TcpListener::new(addr)
        .try_bind()
        .await
        .map_err(|e| anyhow::anyhow!("can't listen on {addr}: {e}"))?;
    tracing::info!(%addr, "listening");
    let server = Server::new(acceptor);
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
