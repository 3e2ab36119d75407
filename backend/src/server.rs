//! The HTTP service: API routes (protected by `auth::require_auth`), OpenAPI document,
//! the SPA's files, error catcher, CORS and other hoops; and serving it with graceful shutdown.
use crate::api;
use crate::auth::Auth;
use crate::config::hosting::{self, PublicPath, Site};
use crate::http::response::{error_response, rate_limited_response};
use crate::http::{csp, middleware, AppState};
use salvo::catcher::Catcher;
use salvo::fuse::FuseConfig;
use salvo::http::header::{HeaderValue, ALLOW, CACHE_CONTROL};
use salvo::http::Method;
use salvo::oapi::{Components, Link, OpenApi, Operation, ParameterIn, PathItemType, Required};
use salvo::prelude::*;
use salvo::routing::filters::{self, Filter, FilterInfo};
use salvo::routing::PathState;
use salvo::serve_static::StaticDir;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The connection timeouts: salvo's defaults (TLS handshake 10 s, request head 30 s) and
/// a request body that stalls for `body`.
pub fn connection_timeouts(body: Duration) -> FuseConfig {
    FuseConfig::default().with_request_body_timeout(body)
}

/// The whole service, under `site`'s public path: the API, its OpenAPI document, the
/// SPA's `config.json`, the metrics for Prometheus (`/metrics`), and the SPA itself
/// when `site.dist_dir` holds a build.
pub fn service(state: AppState, auth: Arc<Auth>, site: &Site) -> Service {
    // Requests are counted from the first one on (`GET /metrics`).
    crate::observe::install();
    let cors = crate::auth::csrf::cors(&auth.config);
    let api = api::router(crate::auth::require_auth);
    // The document is made before HEAD is added, so it lists each read once, as GET.
    let doc = DocumentJson::new(&document(&api));
    let fallback = ApiFallback {
        routes: answer_head(api::router(crate::auth::require_auth)),
    };
    let mut script_hashes = Vec::new();
    let mut app = Router::new()
        .hoop(salvo::affix_state::inject(state).inject(auth))
        .push(Router::with_path("api/openapi.json").get(doc))
        .push(api)
        // Unknown /api paths are API 404s (the envelope), never the SPA's index.html.
        .push(Router::with_path("api/{**rest}").goal(fallback))
        .push(Router::with_path("config.json").get(SpaConfigJson::new(&site.public_path)))
        .push(Router::with_path("metrics").get(api::prometheus::get_metrics));
    if let Ok(index) = std::fs::read_to_string(site.dist_dir.join("index.html")) {
        script_hashes = csp::inline_script_hashes(&index);
        let files = StaticDir::new([site.dist_dir.clone()])
            .defaults("index.html")
            .fallback("index.html");
        app = app.push(Router::with_path("{**path}").get(files));
    } else {
        tracing::info!(dir = %site.dist_dir.display(), "no built SPA found; serving the API only");
    }
    // Under a public path, routes match `/qbr/...`; `RequestContext` then hands the
    // handlers the path without it.
    let root = if site.public_path.is_root() {
        app
    } else {
        Router::new().push(Router::with_path(site.public_path.route()).push(app))
    };
    Service::new(answer_head(root))
        .hoop(middleware::RequestContext::new(
            &script_hashes,
            site.clone(),
        ))
        .hoop(cors)
        .hoop(salvo::prelude::CatchPanic::new())
        .catcher(Catcher::default().hoop(middleware::catch_errors))
}

/// Refuses a built SPA made for another public path than the server's: its routes and
/// asset URLs would all miss (`trunk build --public-url` must match `QBR_PUBLIC_PATH`).
pub fn check_spa(site: &Site) -> anyhow::Result<()> {
    let Ok(index) = std::fs::read_to_string(site.dist_dir.join("index.html")) else {
        return Ok(());
    };
    let built_for = hosting::spa_base_path(&index).unwrap_or_default();
    anyhow::ensure!(
        built_for == site.public_path.as_str(),
        "{} was built for the public path '{}/' but QBR_PUBLIC_PATH is '{}/': rebuild it with \
         `trunk build --release --public-url {}/`",
        site.dist_dir.display(),
        built_for,
        site.public_path.as_str(),
        site.public_path.as_str(),
    );
    Ok(())
}

/// `GET {public path}/config.json`: the SPA served here finds its API on the same
/// origin, under the same public path (whatever `config.json` the build holds).
struct SpaConfigJson(String);

impl SpaConfigJson {
    fn new(public_path: &PublicPath) -> Self {
        let config = qbr_shared::api::SpaConfig {
            api_base_url: public_path.as_str().to_string(),
        };
        SpaConfigJson(serde_json::to_string(&config).unwrap_or_else(|_| "{}".into()))
    }
}

#[async_trait]
impl Handler for SpaConfigJson {
    async fn handle(&self, _: &mut Request, _: &mut Depot, res: &mut Response, _: &mut FlowCtrl) {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res.render(Text::Json(self.0.clone()));
    }
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

/// `GET /api/openapi.json`: the document as rendered at start.
struct DocumentJson(String);

impl DocumentJson {
    fn new(doc: &OpenApi) -> Self {
        let mut value = serde_json::to_value(doc).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document does not serialize");
            serde_json::Value::Null
        });
        camel_case_links(&mut value);
        DocumentJson(value.to_string())
    }
}

#[async_trait]
impl Handler for DocumentJson {
    async fn handle(&self, _: &mut Request, _: &mut Depot, res: &mut Response, _: &mut FlowCtrl) {
        res.render(Text::Json(self.0.clone()));
    }
}

/// salvo-oapi 1.1 writes a link's fields in snake case (`operation_id`); OpenAPI (and
/// every tool reading links) spells them `operationId`, `operationRef`, `requestBody`.
fn camel_case_links(doc: &mut serde_json::Value) {
    let responses = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let links = response.get_mut("links").and_then(|l| l.as_object_mut());
        for link in links.into_iter().flat_map(|l| l.values_mut()) {
            let Some(link) = link.as_object_mut() else {
                continue;
            };
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.to_string(), v);
                }
            }
        }
    }
}

/// The OpenAPI document of `api`: what each endpoint says of itself, plus what routes
/// share: how to authenticate and the auth guard's refusals on protected operations,
/// that an empty query parameter counts as absent (`params::raw`), and the links that
/// lead from one answer to the next request.
pub fn document(api: &Router) -> OpenApi {
    let doc = OpenApi::new("QBR Dashboard API", env!("CARGO_PKG_VERSION")).merge_router(api);
    let mut doc = crate::auth::document_security(doc);
    document_guard(&mut doc);
    document_empty_values(&mut doc);
    document_links(&mut doc);
    doc
}

/// 401, 403 and 429 on every operation behind `auth::require_auth`, and the role each
/// needs (`x-required-role`: `viewer`, `editor`, `admin`, or `platform-admin`).
fn document_guard(doc: &mut OpenApi) {
    let components = &mut doc.components;
    for (path, item) in doc.paths.iter_mut() {
        if crate::auth::is_public_path(path) {
            continue;
        }
        for (method, op) in item.operations.iter_mut() {
            guard_responses(components, op);
            let write = !matches!(method, PathItemType::Get | PathItemType::Head);
            let role = if crate::auth::is_platform_path(path) {
                "platform-admin"
            } else {
                qbr_shared::access::required_role(path, write).as_str()
            };
            op.extensions
                .insert("x-required-role".into(), serde_json::json!(role));
        }
    }
}

fn guard_responses(components: &mut Components, op: &mut Operation) {
    let unauthenticated = error_response(
        components,
        "UNAUTHENTICATED: no session or API key, or one that is unknown, expired or revoked",
    );
    let forbidden = error_response(
        components,
        "FORBIDDEN: a role below the operation's `x-required-role` in the organization, an \
         organization_id that is not one of the caller's, a read-only key on a write, or a \
         key where a signed-in user is needed; CSRF_REJECTED: a cookie-authenticated write \
         whose Origin is not allowed",
    );
    let limited = rate_limited_response(components, "RATE_LIMITED: the API key's rate limit");
    op.responses.insert("401", unauthenticated);
    op.responses.insert("403", forbidden);
    op.responses.insert("429", limited);
}

/// `allowEmptyValue` on optional query parameters: `name=` is read as no `name`.
fn document_empty_values(doc: &mut OpenApi) {
    for item in doc.paths.values_mut() {
        for op in item.operations.values_mut() {
            for p in op.parameters.iter_inline_mut() {
                if p.parameter_in == ParameterIn::Query && p.required != Required::True {
                    p.allow_empty_value = Some(true);
                }
            }
        }
    }
}

/// A link from an answer (`from`: path, method, status) to the next operation, with its
/// parameters taken from the answer (runtime expressions).
struct LinkSpec {
    from: (&'static str, PathItemType, &'static str),
    name: &'static str,
    to: (&'static str, PathItemType),
    parameters: &'static [(&'static str, &'static str)],
}

/// What a client (or a stateful fuzzer) can do next: revoke the key it just created or
/// listed, and read the periods and metrics the server says have data.
const LINKS: &[LinkSpec] = &[
    LinkSpec {
        from: ("/api/admin/api-keys", PathItemType::Post, "201"),
        name: "RevokeCreatedKey",
        to: ("/api/admin/api-keys/{id}", PathItemType::Delete),
        parameters: &[("id", "$response.body#/data/info/id")],
    },
    LinkSpec {
        from: ("/api/admin/api-keys", PathItemType::Get, "200"),
        name: "RevokeListedKey",
        to: ("/api/admin/api-keys/{id}", PathItemType::Delete),
        parameters: &[("id", "$response.body#/data/keys/0/id")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestQuarterSmartNumbers",
        to: ("/api/qbr/smartnumbers", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/quarters/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestQuarterMetrics",
        to: ("/api/qbr/metrics/quarterly", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/quarters/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestQuarterAlerts",
        to: ("/api/qbr/alerts", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/quarters/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestQuarterReport",
        to: ("/api/qbr/report", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/quarters/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestMonthMetrics",
        to: ("/api/qbr/metrics/monthly", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/months/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestMonthHistory",
        to: ("/api/qbr/metrics/history", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/months/0")],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestMonthRange",
        to: ("/api/qbr/metrics/range", PathItemType::Get),
        parameters: &[
            ("from", "$response.body#/data/months/0"),
            ("to", "$response.body#/data/months/0"),
        ],
    },
    LinkSpec {
        from: ("/api/qbr/periods", PathItemType::Get, "200"),
        name: "LatestMonthDevices",
        to: ("/api/qbr/devices-by-client", PathItemType::Get),
        parameters: &[("period", "$response.body#/data/months/0")],
    },
    LinkSpec {
        from: ("/api/qbr/metric-definitions", PathItemType::Get, "200"),
        name: "FirstMetricHistory",
        to: ("/api/qbr/metrics/history", PathItemType::Get),
        parameters: &[("metric_name", "$response.body#/data/metrics/0/key")],
    },
];

fn operation_id(doc: &OpenApi, path: &str, method: &PathItemType) -> Option<String> {
    doc.paths
        .get(path)?
        .operations
        .get(method)?
        .operation_id
        .clone()
}

fn document_links(doc: &mut OpenApi) {
    for spec in LINKS {
        let Some(target) = operation_id(doc, spec.to.0, &spec.to.1) else {
            tracing::warn!(
                path = spec.to.0,
                "link to an operation that is not documented"
            );
            continue;
        };
        let mut link = Link::default().operation_id(target);
        for (name, value) in spec.parameters {
            link = link.parameter(*name, *value);
        }
        let (path, method, status) = &spec.from;
        let response = doc
            .paths
            .get_mut(*path)
            .and_then(|item| item.operations.get_mut(method))
            .and_then(|op| op.responses.get_mut(*status));
        if let Some(salvo::oapi::RefOr::Type(response)) = response {
            response.links.insert(spec.name.to_string(), link.into());
        }
    }
}

#[handler]
async fn api_not_found(res: &mut Response) {
    res.status_code(StatusCode::NOT_FOUND);
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
