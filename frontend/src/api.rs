//! The one place that talks to the backend: finds it (`config.json`), builds requests,
//! sends cookies and the browser's time zone, names the organization of the page
//! (`organization_id`, see [`set_organization`]), and turns the response envelope into
//! `Result<T, ApiError>`. A 401 from any call sends the user to the login page. One
//! async fn per endpoint; the paths the SPA checks roles against are constants here.
use gloo_net::http::{Request, RequestBuilder, Response};
use qbr_shared::access::Role;
use qbr_shared::api::*;
use qbr_shared::clients::api::{
    ClientMetricsResponse, ClientRankingResponse, ClientsResponse, MatchingUpdate,
};
use qbr_shared::clients::ClientNumber;
use qbr_shared::error::{Envelope, ErrorEnvelope};
use qbr_shared::insight::api::{
    AnomaliesResponse, ClientAnomaliesResponse, ForecastResponse, GoalUpdate, GoalsResponse,
    HealthScoreResponse, SummaryResponse,
};
use qbr_shared::quickbooks::api::{
    BackfillRequest, MappingsUpdateRequest, MappingsUpdateResponse, QuickBooksAccountsResponse,
    QuickBooksStatus,
};
use qbr_shared::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::Cell;
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

// --- The organization a request acts on ----------------------------------------------

thread_local! {
    /// The organization of the page shown (the URL's `/o/{slug}`), set by the layout.
    static ORGANIZATION: Cell<Option<i32>> = const { Cell::new(None) };
}

/// Names the organization every following request acts on: the layout calls it while
/// it renders, before any page below it asks for data, so no request can go out for
/// the organization shown before.
pub fn set_organization(id: Option<i32>) {
    ORGANIZATION.with(|o| o.set(id));
}

/// `path` with `organization_id` of the page's organization. Sign-in and the
/// organizations themselves (platform administration) belong to no organization.
fn scoped(path: &str) -> String {
    let Some(id) = ORGANIZATION.with(Cell::get) else {
        return path.to_string();
    };
    if path.starts_with("/api/auth/") || path.starts_with(ORGANIZATIONS) {
        return path.to_string();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}organization_id={id}")
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
    let url = url(&scoped(path));
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

/// Who is signed in, with their organizations: `Ok(None)` when nobody is (401; the
/// caller sends the user to the login page).
pub async fn auth_status() -> Result<Option<AuthStatus>, ApiError> {
    let res = builder(Method::Get, "/api/auth/status")
        .send()
        .await
        .map_err(ApiError::network)?;
    if res.status() == 401 {
        return Ok(None);
    }
    decode(res).await.map(Some)
}

/// How one can sign in here (public).
pub async fn sign_in_methods() -> Result<SignInMethods, ApiError> {
    get("/api/auth/methods").await
}

/// Ends the session.
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

// --- Insight: anomalies, forecast, health score, summary, goals -----------------------

/// The unusual values of the months `from..=to` (`YYYY-MM`), strongest first.
pub async fn anomalies(from: &str, to: &str) -> Result<AnomaliesResponse, ApiError> {
    get(&format!("/api/qbr/anomalies?from={}&to={}", q(from), q(to))).await
}

/// Where each SmartNumber is expected to end the quarter `period` (`YYYY-Qn`).
pub async fn forecast(period: &str) -> Result<ForecastResponse, ApiError> {
    get(&format!("/api/qbr/forecast?period={}", q(period))).await
}

/// The health score of every month and quarter of `from..=to`.
pub async fn health_score(from: &str, to: &str) -> Result<HealthScoreResponse, ApiError> {
    get(&format!(
        "/api/qbr/health-score?from={}&to={}",
        q(from),
        q(to)
    ))
    .await
}

/// The written summary of a period, with its health score.
pub async fn summary(period: &str) -> Result<SummaryResponse, ApiError> {
    get(&format!("/api/qbr/summary?period={}", q(period))).await
}

/// Goals: everyone reads them, admins set them.
pub const GOALS: &str = "/api/qbr/goals";

pub async fn goals() -> Result<GoalsResponse, ApiError> {
    get(GOALS).await
}

/// Sets a goal, or removes it (`target: None`).
pub async fn save_goal(req: &GoalUpdate) -> Result<serde_json::Value, ApiError> {
    put(GOALS, req).await
}

/// Manual entry (the data-entry page, the review table's cells).
pub const SMARTNUMBERS: &str = "/api/qbr/smartnumbers";

pub const SETTINGS: &str = "/api/qbr/settings";

pub async fn settings() -> Result<OrganizationSettings, ApiError> {
    get(SETTINGS).await
}

pub async fn update_settings(
    req: &SettingsUpdateRequest,
) -> Result<SettingsUpdateResponse, ApiError> {
    put(SETTINGS, req).await
}

pub const LOGO: &str = "/api/qbr/settings/logo";

/// The logo's address for an `<img>`; `version` changes the URL after an upload or a
/// removal, so the browser asks again (it revalidates by ETag anyway).
pub fn logo_url(version: f64) -> String {
    let path = scoped(LOGO);
    let sep = if path.contains('?') { '&' } else { '?' };
    url(&format!("{path}{sep}v={version}"))
}

/// Uploads `file` as the logo (admins): its bytes as the body, typed by the file's
/// media type (the server reads the image and refuses what is not a PNG or JPEG).
pub async fn upload_logo(file: &web_sys::File) -> Result<LogoInfo, ApiError> {
    let media_type = match file.type_() {
        t if t.is_empty() => "application/octet-stream".to_string(),
        t => t,
    };
    let res = builder(Method::Put, LOGO)
        .header("Content-Type", &media_type)
        .body(file.clone())
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)?;
    decode(res).await
}

/// Removes the logo (admins).
pub async fn remove_logo() -> Result<LogoInfo, ApiError> {
    send(Method::Delete, LOGO, None).await
}

// --- Notifications and report delivery (admins) --------------------------------------

pub const NOTIFICATIONS: &str = "/api/qbr/settings/notifications";

pub async fn notifications() -> Result<NotificationSettings, ApiError> {
    get(NOTIFICATIONS).await
}

pub async fn save_notifications(
    req: &NotificationSettingsUpdate,
) -> Result<NotificationSettings, ApiError> {
    put(NOTIFICATIONS, req).await
}

/// Sends a test message to one recipient, or to every one.
pub async fn test_notifications(recipient_id: Option<i64>) -> Result<TestSendResponse, ApiError> {
    let req = NotificationTestRequest {
        organization_id: None,
        recipient_id,
    };
    post(&format!("{NOTIFICATIONS}/test"), &req).await
}

pub const REPORT_DELIVERY: &str = "/api/qbr/settings/report-delivery";

pub async fn report_delivery() -> Result<ReportDeliverySettings, ApiError> {
    get(REPORT_DELIVERY).await
}

pub async fn save_report_delivery(
    req: &ReportDeliveryUpdate,
) -> Result<ReportDeliverySettings, ApiError> {
    put(REPORT_DELIVERY, req).await
}

/// Mails the report now to `to` (the stored list when `None`).
pub async fn test_report_delivery(
    period: Option<String>,
    to: Option<Vec<String>>,
) -> Result<TestSendResponse, ApiError> {
    let req = ReportDeliveryTestRequest {
        organization_id: None,
        period,
        to,
    };
    post(&format!("{REPORT_DELIVERY}/test"), &req).await
}

pub const MANUAL_ENTRY: &str = "/api/qbr/metrics/manual";

pub async fn save_manual(req: &ManualEntryRequest) -> Result<ManualEntryResponse, ApiError> {
    post(MANUAL_ENTRY, req).await
}

// --- Thresholds --------------------------------------------------------------------------

pub const THRESHOLDS: &str = "/api/qbr/thresholds";

pub async fn thresholds() -> Result<ThresholdsResponse, ApiError> {
    get(THRESHOLDS).await
}

pub async fn save_thresholds(
    req: &ThresholdsUpdateRequest,
) -> Result<ThresholdsResponse, ApiError> {
    post(THRESHOLDS, req).await
}

// --- Collection ----------------------------------------------------------------------------

pub async fn collection_status() -> Result<CollectionStatusResponse, ApiError> {
    get("/api/qbr/collection/status").await
}

pub async fn collection_log(limit: u32) -> Result<CollectionLogResponse, ApiError> {
    get(&format!("/api/qbr/collection/log?limit={limit}")).await
}

pub const COLLECTION_RUNS: &str = "/api/qbr/collection/runs";

/// Collect now: 202 with the run's id.
pub async fn collect_now(req: &CollectNowRequest) -> Result<CollectNowResponse, ApiError> {
    post(COLLECTION_RUNS, req).await
}

pub async fn cancel_run(id: i64) -> Result<CollectionRunResponse, ApiError> {
    post(
        &format!("{COLLECTION_RUNS}/{id}/cancel"),
        &serde_json::json!({}),
    )
    .await
}

pub const IMPORT: &str = "/api/qbr/import";

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
        &format!("{IMPORT}?commit={commit}&overwrite={overwrite}"),
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
    url(&scoped(&format!(
        "/api/qbr/report?period={}&format=pdf&paper={}&tz={}",
        q(quarter),
        q(paper),
        q(browser_time_zone())
    )))
}

/// A year's stored inputs as `csv` or `xlsx`.
pub fn export_url(format: &str, year: i32) -> String {
    url(&scoped(&format!(
        "/api/qbr/export?format={}&from={year}-01&to={year}-12",
        q(format)
    )))
}

pub async fn devices_by_client(period: &str) -> Result<DevicesByClientResponse, ApiError> {
    get(&format!("/api/qbr/devices-by-client?period={}", q(period))).await
}

// --- API keys ----------------------------------------------------------------------------------

pub const API_KEYS: &str = "/api/admin/api-keys";

pub async fn api_keys() -> Result<ApiKeyList, ApiError> {
    get(API_KEYS).await
}

pub async fn create_api_key(req: &ApiKeyCreateRequest) -> Result<ApiKeyCreated, ApiError> {
    post(API_KEYS, req).await
}

pub async fn revoke_api_key(id: i64) -> Result<serde_json::Value, ApiError> {
    send(Method::Delete, &format!("{API_KEYS}/{id}"), None).await
}

// --- Members of the organization ---------------------------------------------------------

pub const USERS: &str = "/api/qbr/users";

pub async fn members() -> Result<MemberList, ApiError> {
    get(USERS).await
}

/// Gives `email` a role here (it may sign in from then on).
pub async fn invite_member(req: &MemberInviteRequest) -> Result<MemberInfo, ApiError> {
    post(USERS, req).await
}

pub async fn change_member_role(user_id: i64, role: Role) -> Result<MemberInfo, ApiError> {
    put(&format!("{USERS}/{user_id}"), &MemberRoleRequest { role }).await
}

pub async fn remove_member(user_id: i64) -> Result<MemberInfo, ApiError> {
    send(Method::Delete, &format!("{USERS}/{user_id}"), None).await
}

// --- Organizations (platform administrators) -----------------------------------------------

pub const ORGANIZATIONS: &str = "/api/admin/organizations";

pub async fn organizations() -> Result<OrganizationList, ApiError> {
    get(ORGANIZATIONS).await
}

pub async fn create_organization(
    req: &OrganizationCreateRequest,
) -> Result<OrganizationInfo, ApiError> {
    post(ORGANIZATIONS, req).await
}

/// Renames, archives or restores an organization.
pub async fn update_organization(
    id: i32,
    req: &OrganizationUpdateRequest,
) -> Result<OrganizationInfo, ApiError> {
    put(&format!("{ORGANIZATIONS}/{id}"), req).await
}

// --- QuickBooks ----------------------------------------------------------------------------

pub const QUICKBOOKS_STATUS: &str = "/api/qbr/quickbooks/status";
pub const QUICKBOOKS_MAPPINGS: &str = "/api/qbr/quickbooks/mappings";
pub const QUICKBOOKS_BACKFILL: &str = "/api/qbr/quickbooks/backfill";
pub const QUICKBOOKS_QWC: &str = "/api/qbr/quickbooks/qwc";
pub const QUICKBOOKS_ONLINE_CONNECT: &str = "/api/qbr/quickbooks/online/connect";

pub async fn quickbooks_status() -> Result<QuickBooksStatus, ApiError> {
    get(QUICKBOOKS_STATUS).await
}

pub async fn quickbooks_accounts() -> Result<QuickBooksAccountsResponse, ApiError> {
    get("/api/qbr/quickbooks/accounts").await
}

/// Changes account mappings (all or nothing); the stored reports are mapped again.
pub async fn save_quickbooks_mappings(
    req: &MappingsUpdateRequest,
) -> Result<MappingsUpdateResponse, ApiError> {
    put(QUICKBOOKS_MAPPINGS, req).await
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
    post(QUICKBOOKS_BACKFILL, &req).await
}

/// The Web Connector's `.qwc` file for the service at `service_url` (a link: the
/// browser saves the attachment).
pub fn qwc_url(service_url: &str) -> String {
    url(&scoped(&format!(
        "{QUICKBOOKS_QWC}?url={}",
        q(service_url.trim())
    )))
}

/// Where the browser goes to connect QuickBooks Online (the server sends it on to
/// Intuit, and back to this organization).
pub fn quickbooks_online_connect_url() -> String {
    url(&scoped(QUICKBOOKS_ONLINE_CONNECT))
}

// --- Clients across vendors -----------------------------------------------------------

pub const CLIENTS: &str = "/api/qbr/clients";
/// Linking vendor entities to clients (editors write).
pub const CLIENTS_MATCHING: &str = "/api/qbr/clients/matching";

pub async fn clients() -> Result<ClientsResponse, ApiError> {
    get(CLIENTS).await
}

/// Sends the changed links (checked whole by the server); answers the new list.
pub async fn save_matching(req: &MatchingUpdate) -> Result<ClientsResponse, ApiError> {
    put(CLIENTS_MATCHING, req).await
}

/// One client's months `from`–`to` (`YYYY-MM`) and their quarters.
pub async fn client_metrics(
    id: i64,
    from: &str,
    to: &str,
) -> Result<ClientMetricsResponse, ApiError> {
    get(&format!(
        "{CLIENTS}/{id}/metrics?from={}&to={}",
        q(from),
        q(to)
    ))
    .await
}

/// Every client's unusual months of `from`–`to` (`YYYY-MM`), strongest first.
pub async fn clients_anomalies(from: &str, to: &str) -> Result<ClientAnomaliesResponse, ApiError> {
    get(&format!(
        "{CLIENTS}/anomalies?from={}&to={}",
        q(from),
        q(to)
    ))
    .await
}

/// One client's unusual months of `from`–`to` (`YYYY-MM`), strongest first.
pub async fn client_anomalies(
    id: i64,
    from: &str,
    to: &str,
) -> Result<ClientAnomaliesResponse, ApiError> {
    get(&format!(
        "{CLIENTS}/{id}/anomalies?from={}&to={}",
        q(from),
        q(to)
    ))
    .await
}

/// Every client's row of `period`, best first by `by`, with totals and reconciliation.
pub async fn client_ranking(
    period: &str,
    by: ClientNumber,
) -> Result<ClientRankingResponse, ApiError> {
    get(&format!("{CLIENTS}/ranking?period={}&by={by}", q(period))).await
}
