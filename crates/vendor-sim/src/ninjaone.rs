//! A NinjaOne server: OAuth client credentials (scope `monitoring`), organizations,
//! locations and devices with `after` paging.
use crate::server::{bind, error, inject, Faults};
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Credentials the simulated NinjaOne accepts.
pub const NINJA_CLIENT: &str = "ninja-client";
pub const NINJA_SECRET: &str = "ninja-secret";

/// What the simulated NinjaOne holds.
#[derive(Default)]
pub struct NinjaData {
    pub organizations: Vec<Value>,
    pub locations: Vec<Value>,
    /// Devices (`id`, `organizationId`, `locationId`, `nodeClass`, `displayName`).
    pub devices: Vec<Value>,
}

/// The simulated NinjaOne server.
pub struct NinjaOneSim {
    pub url: String,
    pub data: Arc<Mutex<NinjaData>>,
    pub faults: Arc<Faults>,
    pub requests: Arc<AtomicU64>,
    pub tokens_issued: Arc<AtomicU64>,
}

struct NinjaHandler {
    data: Arc<Mutex<NinjaData>>,
    faults: Arc<Faults>,
    requests: Arc<AtomicU64>,
    tokens: Arc<Mutex<Vec<String>>>,
    tokens_issued: Arc<AtomicU64>,
}

#[async_trait]
impl Handler for NinjaHandler {
    async fn handle(
        &self,
        req: &mut Request,
        _d: &mut Depot,
        res: &mut Response,
        _c: &mut FlowCtrl,
    ) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if inject(&self.faults, res).await {
            return;
        }
        let path = req.uri().path().trim_end_matches('/').to_string();
        if path == "/ws/oauth/token" && req.method() == salvo::http::Method::POST {
            let grant = req.form::<String>("grant_type").await.unwrap_or_default();
            let id = req.form::<String>("client_id").await.unwrap_or_default();
            let secret = req
                .form::<String>("client_secret")
                .await
                .unwrap_or_default();
            let scope = req.form::<String>("scope").await.unwrap_or_default();
            if grant != "client_credentials" || id != NINJA_CLIENT || secret != NINJA_SECRET {
                res.status_code(StatusCode::UNAUTHORIZED);
                return res.render(Json(json!({"error": "invalid_client"})));
            }
            if !scope.split(' ').any(|s| s == "monitoring") {
                res.status_code(StatusCode::BAD_REQUEST);
                return res.render(Json(json!({"error": "invalid_scope"})));
            }
            let n = self.tokens_issued.fetch_add(1, Ordering::SeqCst);
            let token = format!("token-{n}-{}", uuid::Uuid::new_v4());
            self.tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(token.clone());
            return res.render(Json(json!({
                "access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "monitoring"
            })));
        }
        let auth = req.header::<String>("authorization").unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").unwrap_or_default();
        if !self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|t| t == token)
        {
            return error(res, StatusCode::UNAUTHORIZED, "invalid token");
        }
        let data = self.data.lock().unwrap_or_else(PoisonError::into_inner);
        match path.as_str() {
            "/v2/organizations" => res.render(Json(data.organizations.clone())),
            "/v2/locations" => res.render(Json(data.locations.clone())),
            "/v2/devices-detailed" | "/v2/devices" => {
                let size: usize = req.query("pageSize").unwrap_or(1000);
                if size == 0 || size > 1000 {
                    return error(res, StatusCode::BAD_REQUEST, "pageSize must be 1–1000");
                }
                let after: i64 = req.query("after").unwrap_or(0);
                let mut devices: Vec<Value> = data
                    .devices
                    .iter()
                    .filter(|d| d["id"].as_i64().unwrap_or(0) > after)
                    .cloned()
                    .collect();
                devices.sort_by_key(|d| d["id"].as_i64());
                devices.truncate(size);
                res.render(Json(devices));
            }
            _ => error(res, StatusCode::NOT_FOUND, "no such endpoint"),
        }
    }
}

impl NinjaOneSim {
    pub async fn start(data: NinjaData) -> NinjaOneSim {
        let data = Arc::new(Mutex::new(data));
        let faults = Arc::new(Faults::default());
        let requests = Arc::new(AtomicU64::new(0));
        let tokens_issued = Arc::new(AtomicU64::new(0));
        let handler = NinjaHandler {
            data: data.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
            tokens: Arc::new(Mutex::new(Vec::new())),
            tokens_issued: tokens_issued.clone(),
        };
        let url = bind(Router::with_path("{**rest}").goal(handler)).await;
        NinjaOneSim {
            url,
            data,
            faults,
            requests,
            tokens_issued,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NINJA_URL", self.url.clone()),
            ("NINJA_CLIENT_ID", NINJA_CLIENT.into()),
            ("NINJA_CLIENT_SECRET", NINJA_SECRET.into()),
        ]
    }
}

/// A device as NinjaOne returns it.
pub fn device(id: i64, org: i64, location: i64, class: &str, name: &str) -> Value {
    json!({
        "id": id, "organizationId": org, "locationId": location,
        "nodeClass": class, "displayName": name, "systemName": name.to_uppercase(),
        "offline": false
    })
}
