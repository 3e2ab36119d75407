//! Each organization's vendor credentials: the variables a vendor module reads
//! (`CONNECTWISE_URL`, ..., the same names `qbr collect` reads from the environment),
//! checked like the environment is, sealed with `QBR_SECRET_KEY` and stored per
//! organization and vendor. The first organization may instead use the environment
//! (how a single-organization server has always been configured).
use super::collector::OrganizationRules;
use super::registry::{self, VendorModule};
use super::CollectorConfig;
use crate::config::Env;
use crate::error::{AppError, AppResult};
use crate::secrets::sealing::SecretKey;
use crate::store::audit::{self, AuditEvent};
use crate::store::vendor_settings as store;
use diesel_async::AsyncPgConnection;
use qbr_shared::access::AuditAction;
use qbr_shared::{text, Vendor};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A vendor's variables, by name.
pub type Variables = BTreeMap<String, String>;

/// Who changes the settings (recorded in the audit log): a name and the client address.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

/// The associated data of a sealed value: which organization's which vendor.
fn purpose(org: i32, vendor: Vendor) -> String {
    format!("vendor-settings:{org}:{}", vendor.key())
}

fn module(vendor: Vendor) -> AppResult<&'static VendorModule> {
    registry::module(vendor)
        .ok_or_else(|| AppError::invalid_body(format!("{} is not collected", vendor.label())))
}

/// Refuses unknown or missing variables, values that break the text rule, and
/// settings the vendor module itself refuses.
fn check(vendor: Vendor, vars: &Variables) -> AppResult<()> {
    let m = module(vendor)?;
    let known = |name: &str| m.required.contains(&name) || m.optional.contains(&name);
    if let Some(unknown) = vars.keys().find(|k| !known(k)) {
        let names: Vec<&str> = m.required.iter().chain(m.optional).copied().collect();
        return Err(AppError::invalid_body(format!(
            "{unknown} is not a {} setting (known: {})",
            vendor.label(),
            names.join(", ")
        )));
    }
    let missing: Vec<&str> = m
        .required
        .iter()
        .filter(|r| vars.get(**r).is_none_or(|v| v.trim().is_empty()))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(AppError::invalid_body(format!(
            "{} needs {}",
            vendor.label(),
            missing.join(", ")
        )));
    }
    for (name, value) in vars {
        text::check_field(name, value, text::BOUNDARY).map_err(AppError::invalid_body)?;
    }
    (m.settings)(&env_of(vars))
        .map(|_| ())
        .map_err(|e| AppError::invalid_body(format!("{}: {e}", vendor.label())))
}

fn env_of(vars: &Variables) -> Env {
    Env::from_pairs(vars.iter().map(|(k, v)| (k.clone(), v.clone())))
}

/// Stores `vendor`'s settings for `org` (replacing earlier ones), audited by name only.
pub async fn set(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor: Vendor,
    vars: &Variables,
    key: &SecretKey,
    actor: Who<'_>,
) -> AppResult<()> {
    check(vendor, vars)?;
    let json = serde_json::to_string(vars).map_err(AppError::internal)?;
    let sealed = key
        .seal(&json, &purpose(org, vendor))
        .map_err(AppError::internal)?;
    store::put(conn, org, vendor.key(), &sealed, actor.name).await?;
    let names: Vec<&String> = vars.keys().collect();
    audit::record(
        conn,
        AuditEvent {
            organization_id: Some(org),
            actor: actor.name,
            action: AuditAction::VendorSettingsUpdate,
            target: Some(vendor.key()),
            details: serde_json::json!({"variables": names}),
            ip: actor.ip,
        },
    )
    .await?;
    Ok(())
}

/// Deletes `vendor`'s settings of `org`; whether there were any.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor: Vendor,
    actor: Who<'_>,
) -> AppResult<bool> {
    let removed = store::delete(conn, org, vendor.key()).await?;
    if removed {
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::VendorSettingsRemove,
                target: Some(vendor.key()),
                details: serde_json::json!({}),
                ip: actor.ip,
            },
        )
        .await?;
    }
    Ok(removed)
}

/// Which vendors `org` has settings for: (vendor, by whom, when); never the values.
pub async fn configured(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> AppResult<Vec<(Vendor, String, chrono::DateTime<chrono::Utc>)>> {
    Ok(store::list(conn, org)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.vendor.parse::<Vendor>().ok()?, s.updated_by, s.updated_at)))
        .collect())
}

/// The collector settings `org` runs with: its stored vendors (opened with `key`), else
/// for `first_org` the environment's (`base`), else none — each with the organization's
/// own rules (its Settings: the device organizations that are not clients).
pub async fn config_for(
    conn: &mut AsyncPgConnection,
    org: i32,
    base: &CollectorConfig,
    key: Option<&SecretKey>,
    first_org: i32,
) -> anyhow::Result<CollectorConfig> {
    let mut cfg = vendors_of(conn, org, base, key, first_org).await?;
    let rules = match crate::store::org::settings(conn, org).await? {
        Some(s) => OrganizationRules {
            excluded_device_orgs: s.excluded_device_orgs,
        },
        None => anyhow::bail!("organization {org} does not exist"),
    };
    cfg.vendors = cfg
        .vendors
        .into_iter()
        .map(|v| v.for_organization(&rules).map_or(v, Arc::from))
        .collect();
    Ok(cfg)
}

async fn vendors_of(
    conn: &mut AsyncPgConnection,
    org: i32,
    base: &CollectorConfig,
    key: Option<&SecretKey>,
    first_org: i32,
) -> anyhow::Result<CollectorConfig> {
    let stored = store::list(conn, org).await?;
    let mut cfg = base.clone();
    if stored.is_empty() {
        if org != first_org {
            cfg.vendors.clear();
        }
        return Ok(cfg);
    }
    let key = key.ok_or_else(|| {
        anyhow::anyhow!(
            "organization {org} has vendor settings, but QBR_SECRET_KEY is not set to open them"
        )
    })?;
    cfg.vendors.clear();
    for s in stored {
        let vendor: Vendor = s
            .vendor
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown vendor '{}' in the stored settings", s.vendor))?;
        let json = key.open(&s.sealed, &purpose(org, vendor)).map_err(|e| {
            anyhow::anyhow!("{} settings of organization {org}: {e}", vendor.label())
        })?;
        let vars: Variables = serde_json::from_str(&json)?;
        let m = registry::module(vendor)
            .ok_or_else(|| anyhow::anyhow!("{} is not collected", vendor.label()))?;
        cfg.vendors.push(Arc::from((m.settings)(&env_of(&vars))?));
    }
    // The registry's order, as from the environment.
    cfg.vendors.sort_by_key(|v| {
        registry::VENDORS
            .iter()
            .position(|m| m.vendor == v.vendor())
    });
    Ok(cfg)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_are_checked_like_the_environment() {
        let ninja = vars(&[("NINJA_CLIENT_ID", "id"), ("NINJA_CLIENT_SECRET", "s")]);
        assert!(check(Vendor::NinjaOne, &ninja).is_ok());
        let mut unknown = ninja.clone();
        unknown.insert("NINJA_PASSWORD".into(), "x".into());
        let e = check(Vendor::NinjaOne, &unknown).unwrap_err();
        assert!(
            e.message
                .contains("NINJA_PASSWORD is not a NinjaOne setting"),
            "{}",
            e.message
        );
        let e = check(Vendor::NinjaOne, &vars(&[("NINJA_CLIENT_ID", "id")])).unwrap_err();
        assert!(
            e.message.contains("needs NINJA_CLIENT_SECRET"),
            "{}",
            e.message
        );
        let mut control = ninja.clone();
        control.insert("NINJA_URL".into(), "https://x\u{7}".into());
        assert!(check(Vendor::NinjaOne, &control).is_err());
    }
}
