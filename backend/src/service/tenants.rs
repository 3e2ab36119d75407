//! Organizations and their members: creating, renaming and archiving organizations
//! (platform administrators), giving users roles, changing and ending them (an
//! organization's admins), and the bootstrap admins of `QBR_AUTHORIZED_USERS`. Every
//! change is audited; an organization always keeps at least one admin.
use super::Actor;
use crate::db::tenant;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::members::{self, Member};
use crate::store::org::{self, OrgSummary};
use crate::store::thresholds;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::{AuditAction, Role};
use qbr_shared::api::{MemberInfo, OrganizationInfo};
use qbr_shared::text;
use qbr_shared::ErrorCode;

/// What a new organization needs.
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub slug: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub admin_email: &'a str,
}

/// `Enersystems, LLC` → `enersystems-llc` (at most 40 characters).
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    slug.trim_end_matches('-').to_string()
}

fn check_slug(slug: &str) -> AppResult<()> {
    let ok = (1..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid_body(format!(
            "slug '{slug}' must be 1–40 lower-case letters, digits and dashes, not starting or ending with a dash"
        )))
    }
}

fn check_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid_body("name must not be empty"));
    }
    text::check_field("name", name, text::NAME).map_err(AppError::invalid_body)?;
    Ok(name)
}

fn check_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    text::check_field("email", &email, text::EMAIL).map_err(AppError::invalid_body)?;
    let parts: Vec<&str> = email.split('@').collect();
    if parts.len() != 2 || parts[0].is_empty() || !parts[1].contains('.') {
        return Err(AppError::invalid_body(format!(
            "'{email}' is not an email address"
        )));
    }
    Ok(email)
}

pub fn info(o: OrgSummary) -> OrganizationInfo {
    OrganizationInfo {
        id: o.id,
        slug: o.slug,
        name: o.name,
        timezone: o.timezone,
        created_at: o.created_at,
        archived_at: o.archived_at,
    }
}

pub fn member_info(m: Member) -> MemberInfo {
    MemberInfo {
        user_id: m.user_id,
        email: m.email,
        name: m.name,
        role: m.role,
        added_by: m.created_by,
        added_at: m.created_at,
    }
}

pub async fn list_organizations(conn: &mut AsyncPgConnection) -> AppResult<Vec<OrganizationInfo>> {
    Ok(org::list(conn).await?.into_iter().map(info).collect())
}

/// Creates an organization with the default thresholds and its first admin, all or
/// nothing.
pub async fn create_organization(
    conn: &mut AsyncPgConnection,
    new: NewOrganization<'_>,
    actor: Actor<'_>,
) -> AppResult<OrganizationInfo> {
    let name = check_name(new.name)?.to_string();
    let slug = new
        .slug
        .map_or_else(|| slug_of(&name), |s| s.trim().to_string());
    check_slug(&slug)?;
    let timezone = new.timezone.unwrap_or("America/Chicago").trim().to_string();
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(AppError::invalid_body(format!(
            "timezone '{timezone}' is not an IANA time zone (like America/Chicago)"
        )));
    }
    let admin = check_email(new.admin_email)?;
    let created = conn
        .transaction::<_, AppError, _>(async |conn| {
            if org::by_slug(conn, &slug).await?.is_some() {
                return Err(AppError::conflict(format!(
                    "An organization with the slug '{slug}' already exists"
                )));
            }
            let created = org::create(conn, &slug, &name, &timezone).await?;
            // Its thresholds and audit entry are its rows (row-level security).
            tenant::enter_local(conn, created.id).await?;
            for def in qbr_shared::smartnumbers::SMARTNUMBERS {
                if let Some(bands) = qbr_shared::thresholds::default_bands(def.key) {
                    thresholds::upsert(conn, created.id, def.key, &bands, "seed").await?;
                }
            }
            let user = members::ensure_user(conn, &admin, false).await?;
            members::upsert(conn, created.id, user, Role::Admin, actor.name).await?;
            audit::record(
                conn,
                AuditEvent {
                    organization_id: Some(created.id),
                    actor: actor.name,
                    action: AuditAction::OrganizationCreate,
                    target: Some(&created.slug),
                    details: serde_json::json!({"name": created.name, "admin": admin}),
                    ip: actor.ip,
                },
            )
            .await?;
            Ok(created)
        })
        .await?;
    Ok(info(created))
}

/// Renames, archives or restores an organization.
pub async fn update_organization(
    conn: &mut AsyncPgConnection,
    id: i32,
    name: Option<&str>,
    archived: Option<bool>,
    actor: Actor<'_>,
) -> AppResult<OrganizationInfo> {
    let name = name.map(check_name).transpose()?;
    if name.is_none() && archived.is_none() {
        return Err(AppError::invalid_body(
            "nothing to change: give name or archived",
        ));
    }
    let updated = conn
        .transaction::<_, AppError, _>(async |conn| {
            let updated = org::update(conn, id, name, archived)
                .await?
                .ok_or_else(|| AppError::not_found(format!("No organization with id {id}")))?;
            // The audit entry is the organization's row (row-level security).
            tenant::enter_local(conn, id).await?;
            audit::record(
                conn,
                AuditEvent {
                    organization_id: Some(id),
                    actor: actor.name,
                    action: AuditAction::OrganizationUpdate,
                    target: Some(&updated.slug),
                    details: serde_json::json!({"name": name, "archived": archived}),
                    ip: actor.ip,
                },
            )
            .await?;
            Ok(updated)
        })
        .await?;
    Ok(info(updated))
}

pub async fn list_members(conn: &mut AsyncPgConnection, org: i32) -> AppResult<Vec<MemberInfo>> {
    Ok(members::list(conn, org)
        .await?
        .into_iter()
        .map(member_info)
        .collect())
}

/// Gives `email` `role` in `org` (a user is made for a new email). 409 when it already
/// has a role there (change it instead).
pub async fn invite(
    conn: &mut AsyncPgConnection,
    org: i32,
    email: &str,
    role: Role,
    actor: Actor<'_>,
) -> AppResult<MemberInfo> {
    let email = check_email(email)?;
    conn.transaction::<_, AppError, _>(async |conn| {
        // Called from the CLI too, in no organization: the audit entry is its row.
        tenant::enter_local(conn, org).await?;
        let user = members::ensure_user(conn, &email, false).await?;
        if members::role_in(conn, org, user).await?.is_some() {
            return Err(AppError::conflict(format!(
                "{email} is already a member; change the role instead"
            )));
        }
        members::upsert(conn, org, user, role, actor.name).await?;
        record(
            conn,
            org,
            actor,
            AuditAction::MemberAdd,
            &email,
            None,
            Some(role),
        )
        .await?;
        let member = members::member(conn, org, user).await?;
        member
            .map(member_info)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("membership vanished")))
    })
    .await
}

/// Changes a member's role; the last admin can't be demoted.
pub async fn change_role(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
    role: Role,
    actor: Actor<'_>,
) -> AppResult<MemberInfo> {
    conn.transaction::<_, AppError, _>(async |conn| {
        // Called from the CLI too, in no organization: the audit entry is its row.
        tenant::enter_local(conn, org).await?;
        let member = members::member(conn, org, user_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("No member with user id {user_id}")))?;
        if member.role == Role::Admin && role != Role::Admin {
            keep_an_admin(conn, org).await?;
        }
        members::upsert(conn, org, user_id, role, actor.name).await?;
        record(
            conn,
            org,
            actor,
            AuditAction::MemberRoleChange,
            &member.email,
            Some(member.role),
            Some(role),
        )
        .await?;
        Ok(member_info(Member { role, ..member }))
    })
    .await
}

/// Ends a membership. A user left with no organization loses its sessions at once
/// (one with others keeps them, and loses this organization on its next request).
pub async fn remove(
    conn: &mut AsyncPgConnection,
    org: i32,
    user_id: i64,
    actor: Actor<'_>,
) -> AppResult<MemberInfo> {
    conn.transaction::<_, AppError, _>(async |conn| {
        tenant::enter_local(conn, org).await?;
        let member = members::member(conn, org, user_id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("No member with user id {user_id}")))?;
        if member.role == Role::Admin {
            keep_an_admin(conn, org).await?;
        }
        members::remove(conn, org, user_id).await?;
        let ended = if members::of_user(conn, &member.email).await?.is_empty() {
            members::end_sessions(conn, &member.email).await?
        } else {
            0
        };
        tracing::info!(email = %member.email, org, sessions_ended = ended, "member removed");
        record(
            conn,
            org,
            actor,
            AuditAction::MemberRemove,
            &member.email,
            Some(member.role),
            None,
        )
        .await?;
        Ok(member_info(member))
    })
    .await
}

/// 409 unless `org` has another admin besides the one about to go.
async fn keep_an_admin(conn: &mut AsyncPgConnection, org: i32) -> AppResult<()> {
    if members::admins(conn, org).await? <= 1 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "An organization needs an admin: make someone else admin first",
        ));
    }
    Ok(())
}

async fn record(
    conn: &mut AsyncPgConnection,
    org: i32,
    actor: Actor<'_>,
    action: AuditAction,
    email: &str,
    before: Option<Role>,
    after: Option<Role>,
) -> AppResult<()> {
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(org),
            actor: actor.name,
            action,
            target: Some(email),
            details: serde_json::json!({"before": before, "after": after}),
            ip: actor.ip,
        },
    )
    .await?;
    Ok(())
}

/// `QBR_AUTHORIZED_USERS`: platform administrators and admins of organization `org`
/// (the first), made at every start; removing one from the list does not remove it.
pub async fn bootstrap_admins(
    conn: &mut AsyncPgConnection,
    org: i32,
    emails: &[String],
) -> AppResult<()> {
    for email in emails {
        let user = members::ensure_user(conn, email, true).await?;
        if members::role_in(conn, org, user).await? != Some(Role::Admin) {
            members::upsert(conn, org, user, Role::Admin, "QBR_AUTHORIZED_USERS").await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug_of("Enersystems, LLC"), "enersystems-llc");
        assert_eq!(slug_of("  Ace & Co. IT  "), "ace-co-it");
        assert_eq!(slug_of("Ünïcode"), "n-code");
        assert!(check_slug("acme-it").is_ok());
        for bad in ["", "-a", "a-", "A", "a_b", &"x".repeat(41)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
