//! Request and response types of the REST API (`api.md`), shared by the server and
//! the SPA so no JSON shape is written twice. Periods travel as their canonical strings
//! (`2025-01`, `2025-Q1`); timestamps as RFC 3339 UTC.
use crate::access::{ApiKeyScope, Role};
use crate::catalogue::{Aggregation, Category, Source, Unit};
use crate::collection::{CollectedValue, Drift, Flag, Freshness, RunStatus, Trigger};
use crate::notify::{Channel, DeliveryStatus, NotifyEvent, ReportKind};
use crate::smartnumbers::{Better, SmartCategory};
use crate::thresholds::{Bands, Status};
use crate::vendor::Vendor;
use crate::words::words;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! api_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
        $vis struct $name { $($body)* }
    };
}
pub(crate) use api_type;

words! {
    /// Where a stored value came from (`qbr_metrics_monthly.data_source`).
    pub enum DataSource {
        Collected = "collected",
        Manual = "manual",
        Imported = "imported",
        Calculated = "calculated",
    }
}

api_type! {
    /// `GET /api/health`: the server answers and its database is reachable (when it is
    /// not, the answer is 503 with the error envelope), and how recent each vendor's
    /// collected data is.
    pub struct HealthResponse {
        /// `ok`, or `stale` when a vendor's data is stale (still 200: the server works).
        pub status: String,
        pub version: String,
        /// `ok`.
        pub db: String,
        /// Every vendor, in `Vendor::ALL` order.
        pub vendors: Vec<VendorHealth>,
    }
}

api_type! {
    /// A vendor's freshness in `GET /api/health`, over the server's organizations.
    pub struct VendorHealth {
        pub vendor: Vendor,
        /// When the newest successful collection run that read this vendor ended, in any
        /// organization that is not archived; null when none has yet.
        pub last_success: Option<DateTime<Utc>>,
        /// Hours since `last_success`.
        pub hours_since_success: Option<f64>,
        /// `last_success` is more than 36 hours old (a vendor never collected is not stale).
        pub stale: bool,
    }
}

api_type! {
    /// One stored monthly value.
    pub struct MetricValue {
        pub metric_name: String,
        pub label: String,
        pub category: Category,
        pub unit: Unit,
        pub value: Option<f64>,
        pub vendor_id: i32,
        pub vendor: String,
        pub data_source: DataSource,
        pub flags: Vec<Flag>,
        pub notes: Option<String>,
        pub entered_by: Option<String>,
        pub collected_at: Option<DateTime<Utc>>,
        pub updated_at: DateTime<Utc>,
    }
}

api_type! {
    /// `GET /api/qbr/metrics/monthly`.
    pub struct MonthlyMetricsResponse {
        pub period: String,
        pub organization_id: i32,
        pub metrics: Vec<MetricValue>,
    }
}

api_type! {
    /// One aggregated value of a quarter or year.
    pub struct AggregatedValue {
        pub metric_name: String,
        pub label: String,
        pub category: Category,
        pub unit: Unit,
        pub aggregation: Aggregation,
        pub value: Option<f64>,
        /// How many of the period's months had a value (derived metrics: 0).
        pub months_with_data: u32,
    }
}

api_type! {
    /// `GET /api/qbr/metrics/quarterly`.
    pub struct QuarterlyMetricsResponse {
        pub period: String,
        pub organization_id: i32,
        pub monthly_periods: Vec<String>,
        pub metrics: Vec<AggregatedValue>,
    }
}

api_type! {
    /// One metric's row of the months × metrics matrix.
    pub struct RangeRow {
        pub metric_name: String,
        /// One entry per month of `months`; null = no value.
        pub values: Vec<Option<f64>>,
        /// The data source of each cell (null where there is no value).
        pub sources: Vec<Option<DataSource>>,
    }
}

api_type! {
    /// `GET /api/qbr/metrics/range`.
    pub struct RangeResponse {
        pub from: String,
        pub to: String,
        pub organization_id: i32,
        pub months: Vec<String>,
        pub metrics: Vec<RangeRow>,
    }
}

/// One value of a manual entry; `metric_value: null` removes the stored value. Its
/// OpenAPI schema is written by hand (`ManualMetricInput::to_schema`): whether the value
/// may be negative depends on the metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualMetricInput {
    pub metric_name: String,
    pub metric_value: Option<f64>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Most characters of a value's notes (`values::MAX_NOTES`), for the schema.
#[cfg(feature = "openapi")]
const MAX_NOTES: usize = crate::values::MAX_NOTES;

/// Text a field with line breaks accepts (`text::NOTES`): no control character but tab,
/// line feed and carriage return.
#[cfg(feature = "openapi")]
pub const MULTILINE_TEXT_PATTERN: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// Values are stored as `NUMERIC(20, 6)`: the server refuses magnitudes from 10^14.
#[cfg(feature = "openapi")]
const VALUE_LIMIT: f64 = 1e14;

#[cfg(feature = "openapi")]
impl ManualMetricInput {
    /// One shape of an item: `key` names the metrics, `min` is the lowest value.
    fn item_schema(
        key: salvo_oapi::RefOr<salvo_oapi::schema::Schema>,
        min: salvo_oapi::schema::Object,
    ) -> salvo_oapi::schema::Object {
        use salvo_oapi::schema::{BasicType, Object, SchemaType};
        let value = min
            .schema_type(SchemaType::from_iter([BasicType::Number, BasicType::Null]))
            .exclusive_maximum(VALUE_LIMIT)
            .description("The value; null removes the stored value");
        let notes = Object::new()
            .schema_type(SchemaType::from_iter([BasicType::String, BasicType::Null]))
            .max_length(MAX_NOTES)
            .pattern(MULTILINE_TEXT_PATTERN)
            .description("Why the value is what it is (blank: none)");
        Object::new()
            .property("metric_name", key)
            .required("metric_name")
            .property("metric_value", value)
            .property("notes", notes)
    }
}

#[cfg(feature = "openapi")]
impl salvo_oapi::ToSchema for ManualMetricInput {
    fn to_schema(
        components: &mut salvo_oapi::Components,
    ) -> salvo_oapi::RefOr<salvo_oapi::schema::Schema> {
        use crate::openapi::{SignedInputKey, UnsignedInputKey};
        use salvo_oapi::schema::{AnyOf, Object};
        let unsigned = Self::item_schema(
            UnsignedInputKey::to_schema(components),
            Object::new().minimum(0),
        );
        let signed = Self::item_schema(
            SignedInputKey::to_schema(components),
            Object::new().exclusive_minimum(-VALUE_LIMIT),
        );
        let schema = AnyOf::new()
            .item(unsigned)
            .item(signed)
            .description("One value of a manual entry (derived metrics can't be entered)");
        crate::openapi::named::<Self>(components, schema)
    }
}

api_type! {
    /// `POST /api/qbr/metrics/manual`. A metric may appear once; the previous year's
    /// average monthly expenses can be typed only where that year's expenses are not stored.
    pub struct ManualEntryRequest {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub period: String,
        #[serde(default)]
        pub organization_id: Option<i32>,
        #[cfg_attr(feature = "openapi", salvo(schema(min_items = 1, max_items = 200)))]
        pub metrics: Vec<ManualMetricInput>,
    }
}

api_type! {
    /// The answer to a manual entry.
    pub struct ManualEntryResponse {
        pub period: String,
        pub organization_id: i32,
        /// Values created, changed or removed.
        pub updated_count: u32,
        /// Values sent with the value they already had.
        pub unchanged_count: u32,
        /// The periods whose derived values and SmartNumbers were recomputed.
        pub recomputed_periods: Vec<String>,
    }
}

api_type! {
    /// `POST /api/qbr/metrics/recollect`.
    pub struct RecollectRequest {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub period: String,
        #[serde(default)]
        pub organization_id: Option<i32>,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = Vec<crate::openapi::CollectedMetricKey>, min_items = 1)))]
        pub metric_names: Vec<String>,
    }
}

api_type! {
    pub struct RecollectResponse {
        pub period: String,
        /// Manual values handed back to the collector.
        pub released_count: u32,
    }
}

api_type! {
    /// One change of a stored value.
    pub struct HistoryEntry {
        pub id: i64,
        pub period: String,
        pub metric_name: String,
        pub old_value: Option<f64>,
        pub new_value: Option<f64>,
        pub old_data_source: Option<DataSource>,
        pub new_data_source: Option<DataSource>,
        pub changed_by: String,
        pub changed_at: DateTime<Utc>,
        pub notes: Option<String>,
    }
}

api_type! {
    /// `GET /api/qbr/metrics/history`.
    pub struct HistoryResponse {
        pub entries: Vec<HistoryEntry>,
    }
}

api_type! {
    /// One entry of the metric catalogue.
    pub struct MetricDefinition {
        pub key: String,
        pub label: String,
        pub category: Category,
        pub unit: Unit,
        pub source: Source,
        pub aggregation: Aggregation,
        pub formula: Option<String>,
        pub description: String,
        /// Whether a person may type the value (derived metrics can't be).
        pub editable: bool,
        /// Whether a collector normally provides it.
        pub collected: bool,
    }
}

api_type! {
    /// One SmartNumber's definition, for the SPA.
    pub struct SmartNumberDefinition {
        pub key: String,
        pub label: String,
        pub category: SmartCategory,
        pub unit: Unit,
        pub better: Better,
        pub formula: String,
        pub inputs: Vec<String>,
    }
}

api_type! {
    /// `GET /api/qbr/metric-definitions`.
    pub struct MetricDefinitionsResponse {
        pub metrics: Vec<MetricDefinition>,
        pub smartnumbers: Vec<SmartNumberDefinition>,
    }
}

api_type! {
    /// The previous period's value of a SmartNumber.
    pub struct PreviousValue {
        pub period: String,
        pub value: Option<f64>,
        pub status: Status,
    }
}

api_type! {
    /// One SmartNumber of a period.
    pub struct SmartNumber {
        pub key: String,
        pub label: String,
        pub category: SmartCategory,
        pub value: Option<f64>,
        pub unit: Unit,
        pub status: Status,
        pub better: Better,
        pub previous: PreviousValue,
        /// value − previous value (null if either is null).
        pub change: Option<f64>,
        /// Whether the change is an improvement (null when there is no change to judge).
        pub improved: Option<bool>,
        pub missing_inputs: Vec<String>,
        /// "needs # of Technical Employees" or "# of First Time Appointments (FTA) is 0".
        pub null_reason: Option<String>,
        pub threshold: Option<Bands>,
        /// The formula with metric keys.
        pub formula: String,
    }
}

api_type! {
    /// `GET /api/qbr/smartnumbers`.
    pub struct SmartNumbersResponse {
        pub period: String,
        pub organization_id: i32,
        pub monthly_periods: Vec<String>,
        /// `m`: months of the period counted in per-month numbers.
        pub months_counted: u32,
        /// The organization's working hours per technician per month (#4's formula).
        pub working_hours_per_tech: f64,
        pub calculated_at: Option<DateTime<Utc>>,
        pub smartnumbers: Vec<SmartNumber>,
    }
}

api_type! {
    /// `GET /api/qbr/smartnumbers?shape=flat`: the seed's shape, for existing consumers.
    pub struct FlatSmartNumbersResponse {
        pub period: String,
        pub organization_id: i32,
        pub smartnumbers: BTreeMap<String, Option<f64>>,
    }
}

/// Month or quarter series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Month,
    Quarter,
}

api_type! {
    /// One SmartNumber over time.
    pub struct TrendSeries {
        pub key: String,
        pub label: String,
        pub unit: Unit,
        pub values: Vec<Option<f64>>,
        pub statuses: Vec<Status>,
        pub threshold: Option<Bands>,
    }
}

api_type! {
    /// `GET /api/qbr/smartnumbers/trend`.
    pub struct TrendResponse {
        pub granularity: Granularity,
        pub from: String,
        pub to: String,
        pub periods: Vec<String>,
        pub series: Vec<TrendSeries>,
    }
}

api_type! {
    /// A stored threshold.
    pub struct Threshold {
        pub metric_name: String,
        pub label: String,
        #[serde(flatten)]
        pub bands: Bands,
        pub updated_by: Option<String>,
        pub updated_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `GET /api/qbr/thresholds`.
    pub struct ThresholdsResponse {
        pub organization_id: i32,
        pub thresholds: Vec<Threshold>,
    }
}

api_type! {
    /// One threshold to create or update: each band's min ≤ max, and the green band inside
    /// the yellow one (an open green end needs an open yellow end).
    pub struct ThresholdInput {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub metric_name: String,
        #[serde(flatten)]
        pub bands: Bands,
    }
}

api_type! {
    /// `POST /api/qbr/thresholds`: one or many thresholds, validated all first; a
    /// SmartNumber may appear once.
    pub struct ThresholdsUpdateRequest {
        #[cfg_attr(feature = "openapi", salvo(schema(min_items = 1)))]
        pub thresholds: Vec<ThresholdInput>,
    }
}

/// The body of `POST /api/qbr/thresholds`: a list, or one threshold on its own (the
/// server tells them apart by the `thresholds` field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(untagged)]
pub enum ThresholdsUpdate {
    Many(ThresholdsUpdateRequest),
    One(ThresholdInput),
}

/// Why an alert was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The number is red.
    Red,
    /// The number moved to a worse status than the previous period.
    Worsened,
    /// A collected input was flagged suspicious or changed sharply.
    DataQuality,
}

api_type! {
    /// One alert of a period.
    pub struct Alert {
        pub kind: AlertKind,
        pub period: String,
        /// The SmartNumber (or, for data quality, the input metric).
        pub key: String,
        pub label: String,
        pub value: Option<f64>,
        pub unit: Unit,
        pub status: Status,
        pub previous_status: Option<Status>,
        /// The band it broke, e.g. "green ≤ 0.2, yellow ≤ 0.3".
        pub band: Option<String>,
        /// The inputs behind it (metric keys).
        pub inputs: Vec<String>,
        pub flags: Vec<Flag>,
        pub message: String,
    }
}

api_type! {
    /// `GET /api/qbr/alerts`.
    pub struct AlertsResponse {
        pub period: String,
        pub alerts: Vec<Alert>,
    }
}

api_type! {
    /// One collection run.
    pub struct CollectionRun {
        pub id: i64,
        pub trigger: Trigger,
        pub status: RunStatus,
        pub started_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
        pub months: Vec<String>,
        pub vendors: Vec<Vendor>,
        pub error: Option<String>,
        pub duration_ms: Option<i64>,
        pub request_count: i32,
        pub values_written: i32,
        /// The values the run flagged.
        pub flags: Vec<CollectedValue>,
        /// Closed months whose frozen value the vendor now reports differently.
        pub drift: Vec<Drift>,
        pub progress_done: i32,
        pub progress_total: i32,
    }
}

api_type! {
    /// `GET /api/qbr/collection/log`.
    pub struct CollectionLogResponse {
        pub runs: Vec<CollectionRun>,
    }
}

api_type! {
    /// Freshness of one vendor's data.
    pub struct VendorStatus {
        pub vendor_id: i32,
        pub vendor: String,
        pub last_success: Option<DateTime<Utc>>,
        pub last_failure: Option<DateTime<Utc>>,
        pub last_error: Option<String>,
        /// Hours since the last success (null if never).
        pub hours_since_success: Option<f64>,
        /// `fresh` (under 26 h), `stale` or `never`.
        pub freshness: Freshness,
    }
}

api_type! {
    /// `GET /api/qbr/collection/status`.
    pub struct CollectionStatusResponse {
        pub vendors: Vec<VendorStatus>,
        pub running: Option<CollectionRun>,
    }
}

api_type! {
    /// `POST /api/qbr/collection/runs`: collect now, with the nightly run's rules. Every
    /// field is optional: all configured vendors, the configured window of months.
    pub struct CollectNowRequest {
        /// Must be the request's organization (403 otherwise).
        #[serde(default)]
        pub organization_id: Option<i32>,
        /// One vendor only (`connectwise`, `ninjaone`, …).
        #[serde(default)]
        pub vendor: Option<Vendor>,
        /// First month (`YYYY-MM`); with `to`.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = Option<crate::Month>)))]
        pub from: Option<String>,
        /// Last month (`YYYY-MM`, not after the month in progress); with `from`.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = Option<crate::Month>)))]
        pub to: Option<String>,
        /// Re-collect closed months that already have a collected value.
        #[serde(default)]
        pub force: Option<bool>,
    }
}

api_type! {
    /// `202 Accepted` to a collect-now: the run's id, to follow at
    /// `GET /api/qbr/collection/runs/{id}` and cancel at `…/{id}/cancel`.
    pub struct CollectNowResponse {
        pub run_id: i64,
        pub status: RunStatus,
    }
}

api_type! {
    /// One run of the collection log (`GET /api/qbr/collection/runs/{id}`).
    pub struct CollectionRunResponse {
        pub run: CollectionRun,
        /// Whether this server started it and can still cancel it.
        pub cancellable: bool,
    }
}

api_type! {
    /// One client organization's devices.
    pub struct ClientDevices {
        /// The vendor's id of the organization (absent in snapshots taken before ids
        /// were kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<i64>,
        pub organization: String,
        pub endpoints: i64,
        pub seats: i64,
    }
}

api_type! {
    /// `GET /api/qbr/devices-by-client`.
    pub struct DevicesByClientResponse {
        pub period: String,
        pub snapshot_date: Option<String>,
        pub clients: Vec<ClientDevices>,
        pub total_endpoints: i64,
        pub total_seats: i64,
    }
}

api_type! {
    /// `GET /api/qbr/periods`: the periods that have data, newest first (for selectors).
    pub struct PeriodsResponse {
        pub organization_id: i32,
        pub organization_name: String,
        /// The month and quarter in progress in the organization's time zone.
        pub current_month: String,
        pub current_quarter: String,
        pub months: Vec<String>,
        pub quarters: Vec<String>,
        pub years: Vec<String>,
    }
}

api_type! {
    /// One audit event.
    pub struct AuditEntry {
        pub id: i64,
        pub occurred_at: DateTime<Utc>,
        pub actor: String,
        pub action: String,
        pub target: Option<String>,
        pub details: serde_json::Value,
        pub ip: Option<String>,
    }
}

api_type! {
    /// `GET /api/qbr/audit`.
    pub struct AuditResponse {
        pub entries: Vec<AuditEntry>,
    }
}

api_type! {
    /// The SPA's `config.json`, next to its `index.html`: where the API is. Written by
    /// `qbr spa configure` for a SPA hosted apart from its API; `qbr serve` answers it
    /// itself when it serves the SPA.
    pub struct SpaConfig {
        /// The API's base URL (`https://db-api.example.com:5400`), or a path on the
        /// SPA's own origin (`""`, `/qbr`); `/api/...` follows it.
        pub api_base_url: String,
    }
}

api_type! {
    /// The signed-in user.
    pub struct AuthUser {
        pub email: String,
        pub name: Option<String>,
    }
}

api_type! {
    /// `GET /api/auth/status` when signed in.
    pub struct AuthStatus {
        pub authenticated: bool,
        pub user: AuthUser,
        pub expires_at: DateTime<Utc>,
        /// The organizations the user has a role in (not archived), by name: the SPA's
        /// organization switcher.
        pub organizations: Vec<OrganizationRole>,
        /// The organization a request without `organization_id` acts on.
        pub default_organization_id: Option<i32>,
        /// Creates, renames and archives organizations.
        pub platform_admin: bool,
    }
}

api_type! {
    /// One of a user's organizations, with the user's role there.
    pub struct OrganizationRole {
        pub id: i32,
        /// The URL name (`/o/{slug}/...`).
        pub slug: String,
        pub name: String,
        pub role: Role,
    }
}

api_type! {
    /// An organization as platform administrators manage it (`/api/admin/organizations`).
    pub struct OrganizationInfo {
        pub id: i32,
        pub slug: String,
        pub name: String,
        pub timezone: String,
        pub created_at: DateTime<Utc>,
        pub archived_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `GET /api/admin/organizations`.
    pub struct OrganizationList {
        pub organizations: Vec<OrganizationInfo>,
    }
}

api_type! {
    /// `POST /api/admin/organizations`: a new organization and its first admin.
    pub struct OrganizationCreateRequest {
        pub name: String,
        /// The URL name: lower-case letters, digits and dashes (from the name if absent).
        pub slug: Option<String>,
        /// IANA time zone the months are cut in (`America/Chicago` if absent).
        pub timezone: Option<String>,
        /// Who administers it (a user is created for a new email).
        pub admin_email: String,
    }
}

api_type! {
    /// `PUT /api/admin/organizations/{id}`: rename, archive or restore.
    pub struct OrganizationUpdateRequest {
        pub name: Option<String>,
        pub archived: Option<bool>,
    }
}

api_type! {
    /// A member of the request's organization (`/api/qbr/users`).
    pub struct MemberInfo {
        pub user_id: i64,
        pub email: String,
        pub name: Option<String>,
        pub role: Role,
        pub added_by: String,
        pub added_at: DateTime<Utc>,
    }
}

api_type! {
    /// `GET /api/qbr/users`.
    pub struct MemberList {
        pub members: Vec<MemberInfo>,
    }
}

api_type! {
    /// `POST /api/qbr/users`: give an email a role (invite; a user is created for a new email).
    pub struct MemberInviteRequest {
        pub email: String,
        pub role: Role,
    }
}

api_type! {
    /// `PUT /api/qbr/users/{user_id}`: another role.
    pub struct MemberRoleRequest {
        pub role: Role,
    }
}

api_type! {
    /// An API key as listed (never the key itself).
    pub struct ApiKeyInfo {
        pub id: i64,
        pub name: String,
        /// The key's first characters, to recognize it.
        pub key_prefix: String,
        /// `read` and, for write keys, `write`.
        pub scopes: Vec<ApiKeyScope>,
        pub organization_id: i32,
        pub created_by: String,
        pub created_at: DateTime<Utc>,
        pub last_used_at: Option<DateTime<Utc>>,
        pub revoked_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `GET /api/admin/api-keys`.
    pub struct ApiKeyList {
        pub keys: Vec<ApiKeyInfo>,
    }
}

api_type! {
    /// `POST /api/admin/api-keys` body.
    pub struct ApiKeyCreateRequest {
        /// 1–100 characters once trimmed; one active key per name.
        #[cfg_attr(feature = "openapi", salvo(schema(min_length = 1, max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$")))]
        pub name: String,
        /// `read` or `write`.
        pub scope: ApiKeyScope,
    }
}

api_type! {
    /// `POST /api/admin/api-keys`: the key is shown this once.
    pub struct ApiKeyCreated {
        pub key: String,
        pub info: ApiKeyInfo,
    }
}

api_type! {
    /// `POST /api/auth/logout`: the session is over.
    pub struct SignedOut {
        /// Always false.
        pub authenticated: bool,
    }
}

words! {
    /// `format` of `GET /api/qbr/export`.
    pub enum ExportFormat {
        Csv = "csv",
        Xlsx = "xlsx",
    }
}

words! {
    /// `format` of `GET /api/qbr/report` (a PDF is all it writes).
    pub enum ReportFormat {
        Pdf = "pdf",
    }
}

words! {
    /// `paper` of `GET /api/qbr/report`.
    pub enum PaperSize {
        Letter = "letter",
        A4 = "a4",
    }
}

words! {
    /// `shape` of `GET /api/qbr/smartnumbers`: `object` (the default) or the seed's `flat`.
    pub enum SmartNumbersShape {
        Flat = "flat",
        Object = "object",
    }
}

api_type! {
    /// `GET /api/auth/methods` (public): the ways to sign in on this server, for the login page.
    pub struct SignInMethods {
        /// Whether Microsoft 365 sign-in is configured.
        pub microsoft: bool,
        /// With the development sign-in on (loopback servers only): the allow-listed
        /// emails one may sign in as.
        pub dev_login_users: Vec<String>,
    }
}

/// What an import does with one cell of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// No value stored yet: the import creates it.
    Created,
    /// A different value is stored: the import replaces it.
    Changed,
    /// The stored value is the same.
    Unchanged,
    /// The stored value is `collected` or `manual` and `overwrite` was not asked for.
    Skipped,
}

api_type! {
    /// One value of an import file and what the import does with it.
    pub struct ImportCell {
        /// YYYY-MM.
        pub period: String,
        pub metric_name: String,
        pub action: ImportAction,
        pub old_value: Option<f64>,
        pub old_source: Option<DataSource>,
        pub new_value: f64,
        pub notes: Option<String>,
        /// Where the value is in the file: sheet (or "csv"), 1-based row, column.
        pub sheet: String,
        pub row: u32,
        pub column: String,
    }
}

api_type! {
    /// A problem found in an import file, with where it is (validation errors fail
    /// the import with 400 `INVALID_BODY` listing them in the message).
    pub struct ImportIssue {
        pub sheet: String,
        pub row: u32,
        pub column: Option<String>,
        pub message: String,
    }
}

api_type! {
    /// The preview (dry run) or the result (commit) of an import.
    pub struct ImportResponse {
        pub organization_id: i32,
        /// "csv" or "xlsx".
        pub format: String,
        pub committed: bool,
        pub overwrite: bool,
        pub created_count: u32,
        pub changed_count: u32,
        pub unchanged_count: u32,
        pub skipped_count: u32,
        pub cells: Vec<ImportCell>,
        /// Totals rows of the file that differ from the totals computed from its values
        /// (reported, never imported).
        pub total_mismatches: Vec<ImportIssue>,
        /// The periods whose derived values and SmartNumbers were recomputed (commit).
        pub recomputed_periods: Vec<String>,
    }
}

api_type! {
    /// When an organization's nightly collection runs.
    pub struct CollectionSchedule {
        /// Off: no nightly run (Collect now still works).
        pub enabled: bool,
        /// `HH:MM`, 24-hour; `null`: the server's schedule (`COLLECTOR_CRON`).
        pub time: Option<String>,
        /// IANA zone of `time`; `null`: the organization's time zone.
        pub timezone: Option<String>,
    }
}

api_type! {
    /// `GET /api/qbr/settings`: the organization's settings.
    pub struct OrganizationSettings {
        pub organization_id: i32,
        pub slug: String,
        pub name: String,
        /// IANA zone the months are cut in.
        pub timezone: String,
        /// Working hours per technician per month (Technical Utilization).
        pub working_hours_per_tech: f64,
        /// NinjaOne organizations that are not clients: their devices never count.
        pub excluded_device_organizations: Vec<String>,
        pub collection: CollectionSchedule,
        /// Labour cost of one service hour (salary, taxes, benefits, tools): the
        /// clients' service cost and margin are computed with it. `null`: not set.
        #[serde(default)]
        pub loaded_cost_per_hour: Option<f64>,
        /// How much each section counts in the health score (the defaults unless
        /// changed).
        #[serde(default)]
        pub health_weights: crate::insight::health::HealthWeights,
        /// The server's own schedule, which `collection.time = null` follows, in words
        /// ("0 30 22 * * * in America/Chicago"; "off" when the server runs none).
        pub server_schedule: String,
    }
}

api_type! {
    /// `PUT /api/qbr/settings` (admins): the fields given change, the others stay. All
    /// are checked before anything is written.
    pub struct SettingsUpdateRequest {
        /// Must be the request's organization (403 otherwise).
        #[serde(default)]
        pub organization_id: Option<i32>,
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub timezone: Option<String>,
        #[serde(default)]
        pub working_hours_per_tech: Option<f64>,
        #[serde(default)]
        pub excluded_device_organizations: Option<Vec<String>>,
        #[serde(default)]
        pub collection: Option<CollectionSchedule>,
        /// Labour cost of one service hour, 1–10,000 dollars; 0 removes it.
        #[serde(default)]
        pub loaded_cost_per_hour: Option<f64>,
        /// The health score's section weights, 0–100 each, not all 0.
        #[serde(default)]
        pub health_weights: Option<crate::insight::health::HealthWeights>,
    }
}

api_type! {
    /// The answer to `PUT /api/qbr/settings`.
    pub struct SettingsUpdateResponse {
        pub settings: OrganizationSettings,
        /// Periods whose SmartNumbers were computed again (working hours or time zone
        /// changed).
        pub recomputed_periods: u32,
        /// What else the change means, in words (e.g. months already collected were
        /// cut in the old time zone).
        pub notes: Vec<String>,
    }
}

// ---------------------------------------------------------------- notifications

api_type! {
    /// One recipient of notifications, as stored: a webhook shows only its hint, never
    /// its URL (the URL is the secret that lets anyone post to the channel).
    pub struct NotificationRecipient {
        pub id: i64,
        pub channel: Channel,
        /// What the recipient is called on the settings page ("Owners", "#ops").
        pub name: String,
        /// The address (email only).
        pub email: Option<String>,
        /// The webhook's host and last characters, e.g. `hooks.slack.com/…Xy9Q`
        /// (Teams and Slack only).
        pub webhook_hint: Option<String>,
        /// The events it is told of.
        pub events: Vec<NotifyEvent>,
        pub updated_by: String,
        pub updated_at: DateTime<Utc>,
    }
}

api_type! {
    /// A recipient in `PUT /api/qbr/settings/notifications`.
    pub struct NotificationRecipientInput {
        /// An existing recipient's id: it is updated, and a webhook keeps its stored URL
        /// when `webhook_url` is absent. Absent: a new recipient.
        pub id: Option<i64>,
        pub channel: Channel,
        #[cfg_attr(feature = "openapi", salvo(schema(max_length = 100)))]
        pub name: Option<String>,
        /// The address, for `email`.
        #[cfg_attr(feature = "openapi", salvo(schema(max_length = 254)))]
        pub email: Option<String>,
        /// The incoming webhook's URL, for `teams` and `slack` (https).
        #[cfg_attr(feature = "openapi", salvo(schema(max_length = 2048)))]
        pub webhook_url: Option<String>,
        #[cfg_attr(feature = "openapi", salvo(schema(max_items = 6)))]
        pub events: Vec<NotifyEvent>,
    }
}

api_type! {
    /// `PUT /api/qbr/settings/notifications`: the whole list of recipients (ones left
    /// out are removed) and when QuickBooks counts as stale. Everything is checked
    /// before anything is stored.
    pub struct NotificationSettingsUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        #[cfg_attr(feature = "openapi", salvo(schema(max_items = 50)))]
        pub recipients: Vec<NotificationRecipientInput>,
        /// QuickBooks is stale after this many hours without a sync (24–720; 48 if absent).
        #[cfg_attr(feature = "openapi", salvo(schema(minimum = 24, maximum = 720)))]
        pub quickbooks_stale_hours: Option<u32>,
    }
}

api_type! {
    /// An event a recipient may choose, with its label.
    pub struct NotifyEventInfo {
        pub event: NotifyEvent,
        pub label: String,
    }
}

api_type! {
    /// One message sent (or tried) for an event.
    pub struct NotificationDelivery {
        pub id: i64,
        pub recipient_id: i64,
        pub event: NotifyEvent,
        pub channel: Channel,
        /// The address, or the webhook's hint.
        pub destination: String,
        pub subject: String,
        pub status: DeliveryStatus,
        /// Tries made (retries included).
        pub attempts: i32,
        pub error: Option<String>,
        /// Later events of the same type that day, which sent no further message.
        pub suppressed: i32,
        pub created_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `GET /api/qbr/settings/notifications`.
    pub struct NotificationSettings {
        pub organization_id: i32,
        pub recipients: Vec<NotificationRecipient>,
        pub quickbooks_stale_hours: u32,
        /// Email can be sent (`SMTP_URL` is set); without it email recipients are refused.
        pub email_available: bool,
        /// Teams and Slack webhooks can be stored (sealed with `QBR_SECRET_KEY`).
        pub webhooks_available: bool,
        /// Every event, for the form.
        pub events: Vec<NotifyEventInfo>,
        /// The latest messages, newest first (at most 20).
        pub recent: Vec<NotificationDelivery>,
    }
}

api_type! {
    /// `POST /api/qbr/settings/notifications/test`.
    pub struct NotificationTestRequest {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        /// Only this recipient (default: every one).
        pub recipient_id: Option<i64>,
    }
}

api_type! {
    /// How one test message went.
    pub struct TestSendResult {
        pub recipient_id: Option<i64>,
        pub channel: Channel,
        /// The address, or the webhook's hint.
        pub destination: String,
        pub delivered: bool,
        /// Why not, when not delivered.
        pub error: Option<String>,
    }
}

api_type! {
    /// The answer of a "send a test now": one result per recipient.
    pub struct TestSendResponse {
        pub results: Vec<TestSendResult>,
        /// The report's quarter (report delivery only).
        pub quarter: Option<String>,
    }
}

api_type! {
    /// One scheduled report mailed (or tried) to one address.
    pub struct ReportDeliveryRecord {
        pub kind: ReportKind,
        /// The closed quarter or month it was sent for.
        pub period: String,
        /// The report's quarter.
        pub quarter: String,
        pub email: String,
        pub status: DeliveryStatus,
        pub attempts: i32,
        pub error: Option<String>,
        pub started_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// The next scheduled delivery.
    pub struct NextReportDelivery {
        /// Local date and time in the organization's zone, `YYYY-MM-DDTHH:MM`.
        pub at: String,
        pub kind: ReportKind,
        pub quarter: String,
    }
}

api_type! {
    /// `GET /api/qbr/settings/report-delivery`: the printable QBR report mailed after
    /// each quarter closes (and, with `monthly`, the quarter to date after each month).
    pub struct ReportDeliverySettings {
        pub organization_id: i32,
        pub enabled: bool,
        /// Day of the month the report goes out (1–28): the month after a quarter closes.
        pub day: u32,
        /// Not before this hour of that day (0–23), in `timezone`.
        pub hour: u32,
        /// Also the quarter-to-date report in the quarter's other two months.
        pub monthly: bool,
        pub recipients: Vec<String>,
        pub paper: PaperSize,
        /// The organization's zone, which the day and hour are in.
        pub timezone: String,
        /// Email can be sent (`SMTP_URL` is set).
        pub email_available: bool,
        /// When the next report goes out (none while disabled).
        pub next: Option<NextReportDelivery>,
        /// The latest deliveries, newest first (at most 20).
        pub recent: Vec<ReportDeliveryRecord>,
        pub updated_by: Option<String>,
        pub updated_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `PUT /api/qbr/settings/report-delivery`.
    pub struct ReportDeliveryUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        pub enabled: bool,
        #[cfg_attr(feature = "openapi", salvo(schema(minimum = 1, maximum = 28)))]
        pub day: u32,
        /// 7 if absent.
        #[cfg_attr(feature = "openapi", salvo(schema(minimum = 0, maximum = 23)))]
        pub hour: Option<u32>,
        pub monthly: bool,
        #[cfg_attr(feature = "openapi", salvo(schema(max_items = 50)))]
        pub recipients: Vec<String>,
        /// `letter` if absent.
        pub paper: Option<PaperSize>,
    }
}

api_type! {
    /// `POST /api/qbr/settings/report-delivery/test`: mail a report now.
    pub struct ReportDeliveryTestRequest {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        /// Default: the last closed quarter, else the latest with data.
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = Option<crate::Quarter>)))]
        pub period: Option<String>,
        /// These addresses instead of the stored list.
        #[cfg_attr(feature = "openapi", salvo(schema(max_items = 50)))]
        pub to: Option<Vec<String>>,
    }
}
