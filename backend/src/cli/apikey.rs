//! `qbr apikey create|list|revoke`.
use crate::db::Database;
use crate::service::api_keys;
use crate::service::Actor;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use qbr_shared::access::ApiKeyScope;

#[derive(Subcommand)]
pub enum ApikeyCommand {
    /// Create a key and print it (shown this once).
    Create {
        #[arg(long)]
        name: String,
        /// `read` (GET only) or `write` (also POST/PUT/DELETE).
        #[arg(long, value_parser = parse_scope)]
        scope: ApiKeyScope,
        /// Who asked for the key (recorded with it).
        #[arg(long, default_value = "cli")]
        created_by: String,
        /// The organization (slug) the key reads and writes; the first one if absent.
        #[arg(long)]
        org: Option<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key: it stops working at once.
    Revoke { id: i64 },
}

fn parse_scope(s: &str) -> Result<ApiKeyScope, String> {
    ApiKeyScope::parse(s).ok_or_else(|| format!("'{s}' is not a scope (read or write)"))
}

fn scope_list(scopes: &[ApiKeyScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn run(database: &Database, command: ApikeyCommand) -> anyhow::Result<()> {
    // The keys of organization ORG_ID (row-level security shows no other's).
    let mut conn = super::conn(database).await?;
    match command {
        ApikeyCommand::Create {
            name,
            scope,
            created_by,
            org,
        } => {
            let by = Actor {
                name: &created_by,
                ip: None,
            };
            let org_id = match org {
                Some(slug) => super::org::id_of(&mut conn, &slug).await?,
                None => super::ORG_ID,
            };
            let created = api_keys::create(&mut conn, org_id, &name, scope, None, by)
                .await
                .map_err(super::said)?;
            println!("{}", created.key);
            eprintln!(
                "API key {} '{}' ({}) created; the key above is shown only once.",
                created.info.id,
                created.info.name,
                scope_list(&created.info.scopes)
            );
        }
        ApikeyCommand::List => {
            println!("id\tname\tprefix\tscopes\tcreated_by\tcreated_at\tlast_used_at\trevoked_at");
            let at =
                |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339());
            for k in api_keys::list(&mut conn, None).await.map_err(super::said)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.name,
                    k.key_prefix,
                    scope_list(&k.scopes),
                    k.created_by,
                    k.created_at.to_rfc3339(),
                    at(k.last_used_at),
                    at(k.revoked_at)
                );
            }
        }
        ApikeyCommand::Revoke { id } => {
            let by = Actor {
                name: "cli",
                ip: None,
            };
            match api_keys::revoke(&mut conn, None, id, by)
                .await
                .map_err(super::said)?
            {
                Some(k) => println!("revoked API key {} '{}'", k.id, k.name),
                None => anyhow::bail!("no active API key with id {id}"),
            }
        }
    }
    Ok(())
}
