//! `qbr org list|create|rename|archive|restore|members|add-member|remove-member`:
//! organizations and their members from the command line (as the server's operator,
//! recorded as `cli`).
use crate::collect::credentials::{self, Variables};
use crate::collect::{registry, CollectorConfig};
use crate::config::Env;
use crate::db::{tenant, Database};
use crate::service::tenants::{self, NewOrganization};
use crate::service::Actor;
use crate::store::{members, org};
use anyhow::Context;
use clap::Subcommand;
use qbr_shared::access::Role;
use qbr_shared::Vendor;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// List the organizations.
    List,
    /// Create an organization (default thresholds) with its first admin.
    Create {
        #[arg(long)]
        name: String,
        /// URL name (lower-case letters, digits, dashes); from the name if absent.
        #[arg(long)]
        slug: Option<String>,
        /// IANA time zone its months are cut in.
        #[arg(long, default_value = "America/Chicago")]
        timezone: String,
        /// The email of its first admin.
        #[arg(long)]
        admin: String,
    },
    /// Rename an organization.
    Rename {
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Archive an organization: nobody can use it and its API keys stop working.
    Archive { slug: String },
    /// Bring an archived organization back.
    Restore { slug: String },
    /// List an organization's members and roles.
    Members { slug: String },
    /// Give an email a role in an organization (or change it).
    AddMember {
        slug: String,
        #[arg(long)]
        email: String,
        /// admin, editor or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// End a membership.
    RemoveMember {
        slug: String,
        #[arg(long)]
        email: String,
    },
    /// Store a vendor's credentials for an organization, sealed with QBR_SECRET_KEY:
    /// `NAME=VALUE` pairs (the variables `qbr collect` reads from the environment), or
    /// --from-env to copy this process's.
    SetVendor {
        slug: String,
        /// connectwise or ninjaone.
        #[arg(long)]
        vendor: Vendor,
        /// Take the vendor's variables from the environment.
        #[arg(long)]
        from_env: bool,
        /// NAME=VALUE pairs.
        variables: Vec<String>,
    },
    /// Delete a vendor's stored credentials of an organization.
    UnsetVendor {
        slug: String,
        #[arg(long)]
        vendor: Vendor,
    },
    /// Which vendors an organization has credentials for (never the values).
    Vendors { slug: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role (admin, editor or viewer)"))
}

const CLI: Actor<'static> = Actor {
    name: "cli",
    ip: None,
};
const CLI_WHO: credentials::Who<'static> = credentials::Who {
    name: "cli",
    ip: None,
};

/// The id of the organization with `slug`.
/// The id of the organization `slug`, which the connection then enters (row-level
/// security: the command reads and writes that organization's rows).
pub async fn id_of(conn: &mut diesel_async::AsyncPgConnection, slug: &str) -> anyhow::Result<i32> {
    let id = org::by_slug(conn, slug)
        .await?
        .with_context(|| format!("no organization with the slug '{slug}' (see `qbr org list`)"))?
        .id;
    tenant::enter(conn, id).await?;
    Ok(id)
}

/// The variables of `set-vendor`: `NAME=VALUE` pairs, or the environment's.
fn variables(
    env: &Env,
    vendor: Vendor,
    from_env: bool,
    pairs: &[String],
) -> anyhow::Result<Variables> {
    if from_env {
        let module = registry::module(vendor).context("not a collected vendor")?;
        return Ok(module
            .required
            .iter()
            .chain(module.optional)
            .filter_map(|name| Some((name.to_string(), env.var(name)?)))
            .collect());
    }
    pairs
        .iter()
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .with_context(|| format!("'{pair}' is not NAME=VALUE"))?;
            Ok((name.trim().to_string(), value.to_string()))
        })
        .collect()
}

pub async fn run(env: &Env, database: &Database, command: OrgCommand) -> anyhow::Result<()> {
    let mut conn = tenant::checkout_platform(&database.pool)
        .await
        .context("connecting")?;
    let conn = &mut *conn;
    match command {
        OrgCommand::List => {
            println!(
                "{:<4} {:<24} {:<32} {:<20} state",
                "id", "slug", "name", "time zone"
            );
            for o in tenants::list_organizations(conn)
                .await
                .map_err(super::said)?
            {
                let state = if o.archived_at.is_some() {
                    "archived"
                } else {
                    "active"
                };
                println!(
                    "{:<4} {:<24} {:<32} {:<20} {state}",
                    o.id, o.slug, o.name, o.timezone
                );
            }
        }
        OrgCommand::Create {
            name,
            slug,
            timezone,
            admin,
        } => {
            let new = NewOrganization {
                name: &name,
                slug: slug.as_deref(),
                timezone: Some(&timezone),
                admin_email: &admin,
            };
            let o = tenants::create_organization(conn, new, CLI)
                .await
                .map_err(super::said)?;
            println!(
                "created organization {} '{}' ({}); admin {admin}",
                o.id, o.name, o.slug
            );
        }
        OrgCommand::Rename { slug, name } => {
            let id = id_of(conn, &slug).await?;
            let o = tenants::update_organization(conn, id, Some(&name), None, CLI)
                .await
                .map_err(super::said)?;
            println!("renamed {} to '{}'", o.slug, o.name);
        }
        OrgCommand::Archive { slug } => archive(conn, &slug, true).await?,
        OrgCommand::Restore { slug } => archive(conn, &slug, false).await?,
        OrgCommand::Members { slug } => {
            let id = id_of(conn, &slug).await?;
            println!("{:<8} {:<40} {:<8} added by", "user id", "email", "role");
            for m in tenants::list_members(conn, id).await.map_err(super::said)? {
                println!(
                    "{:<8} {:<40} {:<8} {}",
                    m.user_id, m.email, m.role, m.added_by
                );
            }
        }
        OrgCommand::AddMember { slug, email, role } => {
            let id = id_of(conn, &slug).await?;
            let existing = match members::user(conn, &email).await? {
                Some((user, _)) => members::role_in(conn, id, user).await?.map(|_| user),
                None => None,
            };
            let m = match existing {
                Some(user) => tenants::change_role(conn, id, user, role, CLI).await,
                None => tenants::invite(conn, id, &email, role, CLI).await,
            }
            .map_err(super::said)?;
            println!("{} is {} of {slug}", m.email, m.role);
        }
        OrgCommand::SetVendor {
            slug,
            vendor,
            from_env,
            variables: pairs,
        } => {
            let id = id_of(conn, &slug).await?;
            let key = CollectorConfig::from_env(env)?
                .secret_key
                .context("set QBR_SECRET_KEY (32 random bytes in base64: `openssl rand -base64 32`) to seal vendor credentials")?;
            let vars = variables(env, vendor, from_env, &pairs)?;
            credentials::set(conn, id, vendor, &vars, &key, CLI_WHO)
                .await
                .map_err(super::said)?;
            println!(
                "{} credentials of {slug} stored ({} variables, sealed)",
                vendor.label(),
                vars.len()
            );
        }
        OrgCommand::UnsetVendor { slug, vendor } => {
            let id = id_of(conn, &slug).await?;
            let removed = credentials::remove(conn, id, vendor, CLI_WHO)
                .await
                .map_err(super::said)?;
            println!(
                "{}",
                if removed {
                    format!("{} credentials of {slug} deleted", vendor.label())
                } else {
                    format!("{slug} had no {} credentials", vendor.label())
                }
            );
        }
        OrgCommand::Vendors { slug } => {
            let id = id_of(conn, &slug).await?;
            let stored = credentials::configured(conn, id)
                .await
                .map_err(super::said)?;
            if stored.is_empty() {
                println!("{slug} has no stored vendor credentials");
            }
            for (vendor, by, at) in stored {
                println!(
                    "{:<12} stored by {by} at {}",
                    vendor.label(),
                    at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        OrgCommand::RemoveMember { slug, email } => {
            let id = id_of(conn, &slug).await?;
            let (user, _) = members::user(conn, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let m = tenants::remove(conn, id, user, CLI)
                .await
                .map_err(super::said)?;
            println!("{} is no longer a member of {slug}", m.email);
        }
    }
    Ok(())
}

async fn archive(
    conn: &mut diesel_async::AsyncPgConnection,
    slug: &str,
    archived: bool,
) -> anyhow::Result<()> {
    let id = id_of(conn, slug).await?;
    tenants::update_organization(conn, id, None, Some(archived), CLI)
        .await
        .map_err(super::said)?;
    println!("{slug} {}", if archived { "archived" } else { "restored" });
    Ok(())
}
