//! Users (one per email) and their memberships: a role in an organization.
use crate::schema::{memberships, organization, sessions, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::access::Role;

/// A member of an organization.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

type MemberRow = (i64, String, Option<String>, String, String, DateTime<Utc>);

impl From<MemberRow> for Member {
    fn from((user_id, email, name, role, created_by, created_at): MemberRow) -> Self {
        Member {
            user_id,
            email,
            name,
            // The column's CHECK allows only the three words.
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            created_by,
            created_at,
        }
    }
}

/// A user's organization and role (for the organization switcher).
#[derive(Debug, Clone)]
pub struct MembershipOf {
    pub organization_id: i32,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

/// The user with `email` (lower-cased), created when new; its id.
pub async fn ensure_user(
    conn: &mut AsyncPgConnection,
    email: &str,
    platform_admin: bool,
) -> QueryResult<i64> {
    let email = email.trim().to_lowercase();
    diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::platform_admin.eq(platform_admin),
        ))
        .on_conflict(users::email)
        .do_update()
        // Once a platform administrator, until changed in the database.
        .set(
            users::platform_admin.eq(users::platform_admin.or(diesel::dsl::sql::<
                diesel::sql_types::Bool,
            >(if platform_admin {
                "true"
            } else {
                "false"
            }))),
        )
        .returning(users::id)
        .get_result(conn)
        .await
}

/// Records the name Microsoft gave the user at sign-in.
pub async fn set_name(conn: &mut AsyncPgConnection, email: &str, name: &str) -> QueryResult<()> {
    diesel::update(users::table.filter(users::email.eq(email.trim().to_lowercase())))
        .set(users::name.eq(name))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The id and platform-administrator flag of the user with `email`.
pub async fn user(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<(i64, bool)>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select((users::id, users::platform_admin))
        .first(conn)
        .await
        .optional()
}

/// Gives `user_id` `role` in `org`, or changes the role it has there; the role it had.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
    role: Role,
    by: &str,
) -> QueryResult<Option<Role>> {
    let before = role_in(conn, org, user_id).await?;
    diesel::insert_into(memberships::table)
        .values((
            memberships::organization_id.eq(org),
            memberships::user_id.eq(user_id),
            memberships::role.eq(role.as_str()),
            memberships::created_by.eq(by),
        ))
        .on_conflict((memberships::organization_id, memberships::user_id))
        .do_update()
        .set((
            memberships::role.eq(role.as_str()),
            memberships::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(before)
}

pub async fn role_in(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
) -> QueryResult<Option<Role>> {
    let role: Option<String> = memberships::table
        .find((org, user_id))
        .select(memberships::role)
        .first(conn)
        .await
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Ends `user_id`'s membership of `org`; the role it had.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
) -> QueryResult<Option<Role>> {
    let role: Option<String> = diesel::delete(memberships::table.find((org, user_id)))
        .returning(memberships::role)
        .get_result(conn)
        .await
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// The members of `org`, by email.
pub async fn list(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<Member>> {
    let rows: Vec<MemberRow> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org))
        .select((
            users::id,
            users::email,
            users::name,
            memberships::role,
            memberships::created_by,
            memberships::created_at,
        ))
        .order(users::email)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

pub async fn member(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
) -> QueryResult<Option<Member>> {
    let row: Option<MemberRow> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org))
        .filter(memberships::user_id.eq(user_id))
        .select((
            users::id,
            users::email,
            users::name,
            memberships::role,
            memberships::created_by,
            memberships::created_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Member::from))
}

/// How many admins `org` has (the last one can't leave or be demoted).
pub async fn admins(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<i64> {
    memberships::table
        .filter(memberships::organization_id.eq(org))
        .filter(memberships::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)
        .await
}

/// The organizations (not archived) where `email` has a role, by name.
pub async fn of_user(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Vec<MembershipOf>> {
    let rows: Vec<(i32, String, String, String)> = memberships::table
        .inner_join(users::table)
        .inner_join(organization::table)
        .filter(users::email.eq(email.trim().to_lowercase()))
        .filter(organization::archived_at.is_null())
        .select((
            organization::id,
            organization::slug,
            organization::name,
            memberships::role,
        ))
        .order(organization::name)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(organization_id, slug, name, role)| MembershipOf {
            organization_id,
            slug,
            name,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
        })
        .collect())
}

/// Ends every session of `email` (a user with no organization left).
pub async fn end_sessions(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(
        diesel::dsl::sql::<diesel::sql_types::Text>("lower(email)").eq(email.trim().to_lowercase()),
    ))
    .execute(conn)
    .await
}

/// Every user with a role somewhere (the development sign-in lists them).
pub async fn all_emails(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    users::table
        .filter(diesel::dsl::exists(
            memberships::table.filter(memberships::user_id.eq(users::id)),
        ))
        .select(users::email)
        .order(users::email)
        .load(conn)
        .await
}
