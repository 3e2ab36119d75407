//! The organization whose business is reviewed, and its settings.
use crate::schema::organization;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An organization's settings that the rules need.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: i32,
    /// The URL name (`/o/{slug}/...`).
    pub slug: String,
    pub name: String,
    pub timezone: chrono_tz::Tz,
    pub working_hours: f64,
    /// Moves with every change of the organization's monthly values (a trigger bumps
    /// it), so in-memory answers can be checked for freshness.
    pub data_version: i64,
}

impl Org {
    /// The month in progress in the organization's time zone.
    pub fn current_month(&self, now: chrono::DateTime<chrono::Utc>) -> qbr_shared::Month {
        qbr_shared::Month::containing(now, self.timezone)
    }
}

/// The columns an [`Org`] is read from.
pub type Columns = (
    organization::id,
    organization::slug,
    organization::name,
    organization::timezone,
    organization::working_hours_per_tech,
    organization::data_version,
);
pub const COLUMNS: Columns = (
    organization::id,
    organization::slug,
    organization::name,
    organization::timezone,
    organization::working_hours_per_tech,
    organization::data_version,
);
/// A row of [`COLUMNS`].
pub type OrgRow = (i32, String, String, String, bigdecimal::BigDecimal, i64);
/// The SQL types of [`COLUMNS`].
pub type OrgSqlType = (
    diesel::sql_types::Integer,
    diesel::sql_types::Text,
    diesel::sql_types::Text,
    diesel::sql_types::Text,
    diesel::sql_types::Numeric,
    diesel::sql_types::BigInt,
);
/// [`COLUMNS`] in SQL text, of a table named `o` (static queries).
pub const ORG_COLUMNS_OF_O: &str =
    "o.id, o.slug, o.name, o.timezone, o.working_hours_per_tech, o.data_version";

impl From<OrgRow> for Org {
    fn from((id, slug, name, tz, hours, data_version): OrgRow) -> Self {
        Org {
            id,
            slug,
            name,
            // An unknown zone name falls back to the product's default rather than failing every request.
            timezone: tz.parse().unwrap_or(chrono_tz::America::Chicago),
            working_hours: super::numeric::to_f64(&hours),
            data_version,
        }
    }
}

/// Loads an organization; `None` if there is none with that id.
pub async fn load(conn: &mut AsyncPgConnection, id: i32) -> QueryResult<Option<Org>> {
    let row: Option<OrgRow> = organization::table
        .find(id)
        .select(COLUMNS)
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Org::from))
}

/// Every organization that is not archived, by id (the background work's list).
pub async fn active(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Org>> {
    let rows: Vec<OrgRow> = organization::table
        .filter(organization::archived_at.is_null())
        .order(organization::id)
        .select(COLUMNS)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Org::from).collect())
}

/// An organization as the platform administrators see it.
#[derive(Debug, Clone, Queryable)]
pub struct OrgSummary {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
}

type SummaryColumns = (
    organization::id,
    organization::slug,
    organization::name,
    organization::timezone,
    organization::created_at,
    organization::archived_at,
);
const SUMMARY: SummaryColumns = (
    organization::id,
    organization::slug,
    organization::name,
    organization::timezone,
    organization::created_at,
    organization::archived_at,
);

/// Every organization, archived ones last.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<OrgSummary>> {
    organization::table
        .select(SUMMARY)
        .order((organization::archived_at.is_not_null(), organization::name))
        .load(conn)
        .await
}

pub async fn summary(conn: &mut AsyncPgConnection, id: i32) -> QueryResult<Option<OrgSummary>> {
    organization::table
        .find(id)
        .select(SUMMARY)
        .first(conn)
        .await
        .optional()
}

pub async fn by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<OrgSummary>> {
    organization::table
        .filter(organization::slug.eq(slug))
        .select(SUMMARY)
        .first(conn)
        .await
        .optional()
}

/// A new organization (its id from the sequence).
pub async fn create(
    conn: &mut AsyncPgConnection,
    slug: &str,
    name: &str,
    timezone: &str,
) -> QueryResult<OrgSummary> {
    diesel::insert_into(organization::table)
        .values((
            organization::slug.eq(slug),
            organization::name.eq(name),
            organization::timezone.eq(timezone),
        ))
        .returning(SUMMARY)
        .get_result(conn)
        .await
}

/// Renames, archives (`Some(true)`) or restores (`Some(false)`) an organization.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i32,
    name: Option<&str>,
    archived: Option<bool>,
) -> QueryResult<Option<OrgSummary>> {
    let now = chrono::Utc::now();
    diesel::update(organization::table.find(id))
        .set((
            name.map(|n| organization::name.eq(n.to_string())),
            archived.map(|a| organization::archived_at.eq(a.then_some(now))),
            organization::updated_at.eq(now),
        ))
        .returning(SUMMARY)
        .get_result(conn)
        .await
        .optional()
}

/// What an organization's Settings page changes besides its name and zone.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct SettingsRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub working_hours_per_tech: bigdecimal::BigDecimal,
    pub excluded_device_orgs: Vec<String>,
    pub collection_enabled: bool,
    pub collection_time: Option<String>,
    pub collection_timezone: Option<String>,
    pub archived: bool,
    pub loaded_cost_per_hour: Option<bigdecimal::BigDecimal>,
    pub health_weights: Option<serde_json::Value>,
}

type SettingsColumns = (
    organization::id,
    organization::slug,
    organization::name,
    organization::timezone,
    organization::working_hours_per_tech,
    organization::excluded_device_orgs,
    organization::collection_enabled,
    organization::collection_time,
    organization::collection_timezone,
    diesel::dsl::IsNotNull<organization::archived_at>,
    organization::loaded_cost_per_hour,
    organization::health_weights,
);

fn settings_columns() -> SettingsColumns {
    (
        organization::id,
        organization::slug,
        organization::name,
        organization::timezone,
        organization::working_hours_per_tech,
        organization::excluded_device_orgs,
        organization::collection_enabled,
        organization::collection_time,
        organization::collection_timezone,
        organization::archived_at.is_not_null(),
        organization::loaded_cost_per_hour,
        organization::health_weights,
    )
}

/// An organization's settings.
pub async fn settings(conn: &mut AsyncPgConnection, id: i32) -> QueryResult<Option<SettingsRow>> {
    organization::table
        .find(id)
        .select(settings_columns())
        .first(conn)
        .await
        .optional()
}

/// Every organization's settings (the schedule decides whose night it is).
pub async fn all_settings(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SettingsRow>> {
    organization::table
        .order(organization::id)
        .select(settings_columns())
        .load(conn)
        .await
}

/// A change of settings: `Some` fields change.
#[derive(Debug, Default, Clone)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub working_hours_per_tech: Option<bigdecimal::BigDecimal>,
    pub excluded_device_orgs: Option<Vec<String>>,
    pub collection_enabled: Option<bool>,
    pub collection_time: Option<Option<String>>,
    pub collection_timezone: Option<Option<String>>,
    pub loaded_cost_per_hour: Option<Option<bigdecimal::BigDecimal>>,
    pub health_weights: Option<serde_json::Value>,
}

impl SettingsChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.timezone.is_none()
            && self.working_hours_per_tech.is_none()
            && self.excluded_device_orgs.is_none()
            && self.collection_enabled.is_none()
            && self.collection_time.is_none()
            && self.collection_timezone.is_none()
            && self.loaded_cost_per_hour.is_none()
            && self.health_weights.is_none()
    }
}

/// Writes `change`; the settings after it.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    id: i32,
    change: SettingsChange,
) -> QueryResult<SettingsRow> {
    diesel::update(organization::table.find(id))
        .set((
            change.name.map(|v| organization::name.eq(v)),
            change.timezone.map(|v| organization::timezone.eq(v)),
            change
                .working_hours_per_tech
                .map(|v| organization::working_hours_per_tech.eq(v)),
            change
                .excluded_device_orgs
                .map(|v| organization::excluded_device_orgs.eq(v)),
            change
                .collection_enabled
                .map(|v| organization::collection_enabled.eq(v)),
            change
                .collection_time
                .map(|v| organization::collection_time.eq(v)),
            change
                .collection_timezone
                .map(|v| organization::collection_timezone.eq(v)),
            change
                .loaded_cost_per_hour
                .map(|v| organization::loaded_cost_per_hour.eq(v)),
            change
                .health_weights
                .map(|v| organization::health_weights.eq(Some(v))),
            organization::updated_at.eq(chrono::Utc::now()),
        ))
        .returning(settings_columns())
        .get_result(conn)
        .await
}
