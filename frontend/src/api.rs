//! The one place that talks to the backend: finds it (`config.json`), builds requests,
//! sends cookies and the browser's time zone, and turns the response envelope into
//! `Result<T, ApiError>`. A 401 from any call sends the user to the login page. One
//! async fn per endpoint.
use gloo_net::http::{Request, RequestBuilder, Response};
use qbr_shared::api::*;
use qbr_shared::error::{Envelope, ErrorEnvelope};
use qbr_shared::quickbooks::api::{
    BackfillRequest, MappingsUpdateRequest, MappingsUpdateResponse, QuickBooksAccountsResponse,
    QuickBooksStatus,
};
use qbr_shared::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::OnceLock;
use web_sys::RequestCredentials;
use yew_router::history::{BrowserHistory, History};

/// A failed call, as the SPA sees it. Pages decide by `code`, never by HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The error code of the answer; `None` when the request never got one.
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> ApiError {
        let at = match api_base() {
            "" => String::new(),
            base => format!(" at {base}"),
        };
        ApiError {
            code: None,
            message: format!("The server{at} could not be reached ({e})."),
        }
    }
}

// --- Where the API is ----------------------------------------------------------------

static API_BASE: OnceLock<String> = OnceLock::new();

/// The SPA's public path, from the `<base href>` Trunk writes (`--public-url`): `""` at
/// the root, `/qbr` under a prefix. The router takes its basename from the same tag.
pub fn public_path() -> String {
    yew_router::utils::base_url().unwrap_or_default()
}

/// Reads `config.json` next to `index.html` (README "Production"); call once, before
/// the first request. Without one (a 404, or a static server's `index.html` fallback)
/// the API is on this origin under the SPA's public path.
pub async fn load_config() {
    let base = match spa_config().await {
        Some(config) => config.api_base_url,
        None => public_path(),
    };
    let _ = API_BASE.set(base.trim_end_matches('/').to_string());
}

async fn spa_config() -> Option<SpaConfig> {
    let res = Request::get(&format!("{}/config.json", public_path()))
        .header("Accept", "application/json")
        .send()
        .await
        .ok()?;
    if !res.ok() {
        return None;
    }
    res.json::<SpaConfig>().await.ok()
}

/// What API paths follow: an origin (`https://db-api.example.com:5400`), a path on
/// this origin (`/qbr`), or nothing.
fn api_base() -> &'static str {
    API_BASE.get().map_or("", String::as_str)
}

/// The URL of an API path (`/api/...`), for requests and for links the browser follows.
pub fn url(path: &str) -> String {
    format!("{}{path}", api_base())
}

/// [`url`], always absolute (for URLs given to other programs).
pub fn absolute_url(path: &str) -> String {
    let url = url(path);
    if url.starts_with("http://") || url.starts_with("https://") {
        return url;
    }
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{url}")
}

/// The code of an error answer without our envelope (a proxy's page, or a server that
/// lacks the route): the one its status stands for.
fn code_for_status(status: u16) -> ErrorCode {
    match status {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        _ => ErrorCode::Internal,
    }
}

static TIME_ZONE: OnceLock<String> = OnceLock::new();

/// The browser's IANA time zone ("UTC" when it can't be told), detected once.
pub fn browser_time_zone() -> &'static str {
    TIME_ZONE.get_or_init(|| {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| "UTC".to_string())
    })
}

enum Method {
    Get,
    Post,
    Put,
    Delete,
}

fn builder(method: Method, path: &str) -> RequestBuilder {
    let url = url(path);
    let b = match method {
        Method::Get => Request::get(&url),
        Method::Post => Request::post(&url),
        Method::Put => Request::put(&url),
        Method::Delete => Request::delete(&url),
    };
    b.credentials(RequestCredentials::Include)
        .header("X-Timezone", browser_time_zone())
        .header("Accept", "application/json")
}

/// Sends a request and decodes the answer; the one request helper.
async fn send<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<T, ApiError> {
    let b = builder(method, path);
    let res = match body {
        Some(json) => b
            .header("Content-Type", "application/json")
            .body(json)
            .map_err(ApiError::network)?
            .send()
            .await
            .map_err(ApiError::network)?,
        None => b.send().await.map_err(ApiError::network)?,
    };
    decode(res).await
}

async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    let status = res.status();
    if res.ok() {
        if status == 204 {
            // An empty answer: decode `null` (for `()` and `Option`s).
            return serde_json::from_str("null").map_err(ApiError::network);
        }
        let env: Envelope<T> = res.json().await.map_err(|e| ApiError {
            code: Some(ErrorCode::Internal),
            message: format!("Unexpected answer from the server: {e}"),
        })?;
        return Ok(env.data);
    }
    if status == 401 {
        go_to_login();
    }
    Err(match res.json::<ErrorEnvelope>().await {
        Ok(e) => ApiError {
            code: Some(e.error.code),
            message: e.error.message,
        },
        Err(_) => ApiError {
            code: Some(code_for_status(status)),
            message: format!("The server answered HTTP {status}."),
        },
    })
}

/// Sends the user to the login page (unless already there).
pub fn go_to_login() {
    let history = BrowserHistory::new();
    let login = format!("{}/login", public_path());
    if history.location().path() != login {
        history.push(login);
    }
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Method::Get, path, None).await
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let json = serde_json::to_string(body).map_err(ApiError::network)?;
    send(Method::Post, path, Some(json)).await
}

async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let json = serde_json::to_string(body).map_err(ApiError::network)?;
    send(Method::Put, path, Some(json)).await
}

/// Encodes a query-string value.
fn q(v: &str) -> String {
    String::from(js_sys::encode_uri_component(v))
}

// --- Sign-in -------------------------------------------------------------------------

/// The sign-in state: `Ok(None)` when the server has no sign-in (404),
/// `Ok(Some(None))` when not signed in (401), `Ok(Some(Some(status)))` when signed in.
pub async fn auth_status() -> Result<Option<Option<AuthStatus>>, ApiError> {
    let res = builder(Method::Get, "/api/auth/status")
        .send()
        .await
        .map_err(ApiError::network)?;
    match res.status() {
        404 => Ok(None),
        401 => Ok(Some(None)),
        _ => {
            let text = res.text().await.map_err(ApiError::network)?;
            serde_json::from_str::<Envelope<AuthStatus>>(&text)
                .map(|e| Some(Some(e.data)))
                .map_err(ApiError::network)
        }
    }
}

/// How one can sign in here (public).
pub async fn sign_in_methods() -> Result<SignInMethods, ApiError> {
    get("/api/auth/methods").await
}

/// Ends the session (a 404 means there is no sign-in to end).
pub async fn logout() {
    let _ = builder(Method::Post, "/api/auth/logout").send().await;
}

// --- Periods, numbers, metrics ---------------------------------------------------------

pub async fn periods() -> Result<PeriodsResponse, ApiError> {
    get("/api/qbr/periods").await
}

pub async fn smartnumbers(period: &str) -> Result<SmartNumbersResponse, ApiError> {
    get(&format!("/api/qbr/smartnumbers?period={}", q(period))).await
}

pub async fn trend(
    from: &str,
    to: &str,
    granularity: Granularity,
    keys: &[String],
) -> Result<TrendResponse, ApiError> {
    let g = match granularity {
        Granularity::Month => "month",
        Granularity::Quarter => "quarter",
    };
    get(&format!(
        "/api/qbr/smartnumbers/trend?from={}&to={}&granularity={g}&keys={}",
        q(from),
        q(to),
        q(&keys.join(","))
    ))
    .await
}

pub async fn alerts(period: &str) -> Result<AlertsResponse, ApiError> {
    get(&format!("/api/qbr/alerts?period={}", q(period))).await
}

pub async fn monthly(period: &str) -> Result<MonthlyMetricsResponse, ApiError> {
    get(&format!("/api/qbr/metrics/monthly?period={}", q(period))).await
}

pub async fn quarterly(period: &str) -> Result<QuarterlyMetricsResponse, ApiError> {
    get(&format!("/api/qbr/metrics/quarterly?period={}", q(period))).await
}

pub async fn range(from: &str, to: &str) -> Result<RangeResponse, ApiError> {
    get(&format!(
        "/api/qbr/metrics/range?from={}&to={}",
        q(from),
        q(to)
    ))
    .await
}

pub async fn save_manual(req: &ManualEntryRequest) -> Result<ManualEntryResponse, ApiError> {
    post("/api/qbr/metrics/manual", req).await
}

// --- Thresholds --------------------------------------------------------------------------

pub async fn thresholds() -> Result<ThresholdsResponse, ApiError> {
    get("/api/qbr/thresholds").await
}

pub async fn save_thresholds(
    req: &ThresholdsUpdateRequest,
) -> Result<ThresholdsResponse, ApiError> {
    post("/api/qbr/thresholds", req).await
}

// --- Collection ----------------------------------------------------------------------------

pub async fn collection_status() -> Result<CollectionStatusResponse, ApiError> {
    get("/api/qbr/collection/status").await
}

pub async fn collection_log(limit: u32) -> Result<CollectionLogResponse, ApiError> {
    get(&format!("/api/qbr/collection/log?limit={limit}")).await
}

/// Uploads an import file (multipart field `file`): the preview, or the import with `commit`.
pub async fn import_file(
    file: &web_sys::File,
    commit: bool,
    overwrite: bool,
) -> Result<ImportResponse, ApiError> {
    let form = web_sys::FormData::new().map_err(|_| ApiError::network("no FormData"))?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| ApiError::network("the file could not be attached"))?;
    let res = builder(
        Method::Post,
        &format!("/api/qbr/import?commit={commit}&overwrite={overwrite}"),
    )
    .body(form)
    .map_err(ApiError::network)?
    .send()
    .await
    .map_err(ApiError::network)?;
    decode(res).await
}

// --- Downloads (links, not fetches: the browser saves the attachment) --------------------

/// The printable report of a quarter (`YYYY-Qn`) as a PDF, on `paper` (`letter`/`a4`),
/// with timestamps in the browser's time zone.
pub fn report_url(quarter: &str, paper: &str) -> String {
    url(&format!(
        "/api/qbr/report?period={}&format=pdf&paper={}&tz={}",
        q(quarter),
        q(paper),
        q(browser_time_zone())
    ))
}

/// A year's stored inputs as `csv` or `xlsx`.
pub fn export_url(format: &str, year: i32) -> String {
    url(&format!(
        "/api/qbr/export?format={}&from={year}-01&to={year}-12",
        q(format)
    ))
}

pub async fn devices_by_client(period: &str) -> Result<DevicesByClientResponse, ApiError> {
    get(&format!("/api/qbr/devices-by-client?period={}", q(period))).await
}

// --- API keys ----------------------------------------------------------------------------------

pub async fn api_keys() -> Result<ApiKeyList, ApiError> {
    get("/api/admin/api-keys").await
}

pub async fn create_api_key(req: &ApiKeyCreateRequest) -> Result<ApiKeyCreated, ApiError> {
    post("/api/admin/api-keys", req).await
}

pub async fn revoke_api_key(id: i64) -> Result<serde_json::Value, ApiError> {
    send(Method::Delete, &format!("/api/admin/api-keys/{id}"), None).await
}

// --- QuickBooks ----------------------------------------------------------------------------

pub async fn quickbooks_status() -> Result<QuickBooksStatus, ApiError> {
    get("/api/qbr/quickbooks/status").await
}

pub async fn quickbooks_accounts() -> Result<QuickBooksAccountsResponse, ApiError> {
    get("/api/qbr/quickbooks/accounts").await
}

/// Changes account mappings (all or nothing); the stored reports are mapped again.
pub async fn save_quickbooks_mappings(
    req: &MappingsUpdateRequest,
) -> Result<MappingsUpdateResponse, ApiError> {
    put("/api/qbr/quickbooks/mappings", req).await
}

/// The answer to a backfill request: the month the next Web Connector run reads from.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BackfillAnswer {
    pub backfill_from: String,
}

/// Asks the next Web Connector run for history from `from` (`YYYY-MM`).
pub async fn quickbooks_backfill(from: &str) -> Result<BackfillAnswer, ApiError> {
    let req = BackfillRequest {
        from: from.to_string(),
        organization_id: None,
    };
    post("/api/qbr/quickbooks/backfill", &req).await
}

/// The Web Connector's `.qwc` file for the service at `service_url` (a link: the
/// browser saves the attachment).
pub fn qwc_url(service_url: &str) -> String {
    url(&format!(
        "/api/qbr/quickbooks/qwc?url={}",
        q(service_url.trim())
    ))
}
