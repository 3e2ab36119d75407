//! API keys: only the SHA-256 hash of a key is stored, with its name, scopes and
//! organization.
use super::org::{Org, OrgRow, OrgSqlType, ORG_COLUMNS_OF_O};
use super::static_query::static_query;
use crate::schema::api_keys;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, BigInt, Bytea, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::access::{ApiKeyScope, Role};

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
    /// The signed-in user who made it (`None`: the CLI).
    pub creator_user_id: Option<i64>,
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
            api_keys::creator_user_id.eq(k.creator_user_id),
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

/// An active key and its organization, in static SQL text (see `static_query`).
struct ActiveKeyWithOrg<'a> {
    key_hash: &'a [u8],
}

static_query!(
    ActiveKeyWithOrg,
    (
        (
            BigInt,
            Integer,
            Text,
            Text,
            Array<Text>,
            Text,
            Timestamptz,
            Nullable<Timestamptz>,
            Nullable<Timestamptz>
        ),
        Nullable<BigInt>,
        Nullable<Text>,
        Nullable<OrgSqlType>
    )
);

impl QueryFragment<Pg> for ActiveKeyWithOrg<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT k.id, k.organization_id, k.name, k.key_prefix, k.scopes, ");
        out.push_sql("k.created_by, k.created_at, k.last_used_at, k.revoked_at, ");
        // The creator's role: a lookup for the one key found (by the primary key).
        // As a join, PostgreSQL hash-joined the whole memberships table at every
        // request once it had a hundred rows.
        out.push_sql(
            "k.creator_user_id, (SELECT m.role FROM memberships m \
               WHERE m.organization_id = k.organization_id AND m.user_id = k.creator_user_id), ",
        );
        out.push_sql(ORG_COLUMNS_OF_O);
        // The key names its organization: it is looked up before any is entered, by a
        // SECURITY DEFINER function (row-level security would hide the row).
        out.push_sql(" FROM qbr_api_key_by_hash(");
        out.push_bind_param::<Bytea, _>(&self.key_hash)?;
        out.push_sql(
            ") k LEFT JOIN organization o ON o.id = k.organization_id AND o.archived_at IS NULL",
        );
        out.push_sql(" WHERE k.revoked_at IS NULL");
        Ok(())
    }
}

/// An active key as the guard sees it.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub key: ApiKeyRow,
    /// Who made it and that user's role in the key's organization now (`None`: made
    /// with the CLI).
    pub creator: Option<(i64, Option<Role>)>,
    /// The key's organization (`None` when archived).
    pub org: Option<Org>,
}

/// The key with this hash, unless revoked, with its creator's role and organization:
/// one round trip (this runs for every request of a program).
pub async fn find_active_with_org(
    conn: &mut AsyncPgConnection,
    key_hash: &[u8],
) -> QueryResult<Option<ActiveKey>> {
    type Row = (ApiKeyRow, Option<i64>, Option<String>, Option<OrgRow>);
    let row: Option<Row> = ActiveKeyWithOrg { key_hash }
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|(key, creator, role, org)| ActiveKey {
        key,
        creator: creator.map(|id| (id, role.as_deref().and_then(Role::parse))),
        org: org.map(Org::from),
    }))
}

/// Records use, at most once a minute per key (of the organization entered). By the
/// primary key, which leads with the organization.
pub async fn touch(conn: &mut AsyncPgConnection, organization_id: i32, id: i64) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE api_keys SET last_used_at = now() \
         WHERE organization_id = $1 AND id = $2 \
           AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind::<diesel::sql_types::Integer, _>(organization_id)
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
