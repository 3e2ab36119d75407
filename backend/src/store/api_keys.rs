//! API keys: only the SHA-256 hash of a key is stored, with its name, scopes and
//! organization.
use super::org::{Org, OrgRow};
use crate::schema::{api_keys, organization};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::access::ApiKeyScope;

/// A stored key (without its hash).
#[derive(Debug, Clone, Queryable)]
pub struct ApiKeyRow {
    pub id: i64,
    pub organization_id: i32,
    pub name: String,
    pub key_prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRow {
    /// The key's scopes (words this version does not know are left out).
    pub fn scopes(&self) -> Vec<ApiKeyScope> {
        self.scopes
            .iter()
            .filter_map(|s| ApiKeyScope::parse(s))
            .collect()
    }
}

type Columns = (
    api_keys::id,
    api_keys::organization_id,
    api_keys::name,
    api_keys::key_prefix,
    api_keys::scopes,
    api_keys::created_by,
    api_keys::created_at,
    api_keys::last_used_at,
    api_keys::revoked_at,
);

const COLUMNS: Columns = (
    api_keys::id,
    api_keys::organization_id,
    api_keys::name,
    api_keys::key_prefix,
    api_keys::scopes,
    api_keys::created_by,
    api_keys::created_at,
    api_keys::last_used_at,
    api_keys::revoked_at,
);

/// A key to create.
pub struct NewApiKey<'a> {
    pub organization_id: i32,
    pub name: &'a str,
    pub key_prefix: &'a str,
    pub key_hash: &'a [u8],
    pub scopes: &'a [String],
    pub created_by: &'a str,
}

pub async fn create(conn: &mut AsyncPgConnection, k: NewApiKey<'_>) -> QueryResult<ApiKeyRow> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::organization_id.eq(k.organization_id),
            api_keys::name.eq(k.name),
            api_keys::key_prefix.eq(k.key_prefix),
            api_keys::key_hash.eq(k.key_hash),
            api_keys::scopes.eq(k.scopes),
            api_keys::created_by.eq(k.created_by),
        ))
        .returning(COLUMNS)
        .get_result(conn)
        .await
}

/// Every key (revoked ones too) of `organization_id`, or of all organizations.
pub async fn list(
    conn: &mut AsyncPgConnection,
    organization_id: Option<i32>,
) -> QueryResult<Vec<ApiKeyRow>> {
    let mut q = api_keys::table
        .select(COLUMNS)
        .order(api_keys::id)
        .into_boxed();
    if let Some(org) = organization_id {
        q = q.filter(api_keys::organization_id.eq(org));
    }
    q.load(conn).await
}

/// The key with this hash, unless revoked, with its organization (one round trip).
pub async fn find_active_with_org(
    conn: &mut AsyncPgConnection,
    key_hash: &[u8],
) -> QueryResult<Option<(ApiKeyRow, Option<Org>)>> {
    let row: Option<(ApiKeyRow, Option<OrgRow>)> = api_keys::table
        .left_join(organization::table.on(organization::id.eq(api_keys::organization_id)))
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select((COLUMNS, super::org::COLUMNS.nullable()))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(key, org)| (key, org.map(Org::from))))
}

/// Records use, at most once a minute per key.
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE api_keys SET last_used_at = now() \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Revokes a key; the key when it was active.
pub async fn revoke(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ApiKeyRow>> {
    let target = api_keys::table
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null());
    diesel::update(target)
        .set(api_keys::revoked_at.eq(diesel::dsl::now))
        .returning(COLUMNS)
        .get_result(conn)
        .await
        .optional()
}
