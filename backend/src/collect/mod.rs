//! Collection: each collected vendor is a module (`connectwise/`, `ninjaone/`) that
//! implements the traits of `collector.rs` and has a line in `registry.rs`; `run.rs`
//! runs them all-or-nothing, `schedule.rs` every night, `http.rs` is their one HTTP
//! client. Each vendor module's documentation lists its variables; these are common:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `COLLECTOR_ENABLED` | `false` | run the schedule in `qbr serve` |
//! | `COLLECTOR_CRON` | `0 30 22 * * *` | six-field cron (with seconds) |
//! | `COLLECTOR_TIMEZONE` | `America/Chicago` | zone of the cron expression |
//! | `COLLECTOR_WINDOW_MONTHS` | `13` | current month plus 12 closed months |
//!
//! These vendor variables are the first organization's; every organization can instead
//! have its own, stored sealed in the database (`credentials`, `qbr org set-vendor`).
//! The nightly run (`night`) collects every organization in turn.
pub mod apply;
pub mod clients;
pub mod collector;
pub mod connectwise;
pub mod credentials;
pub mod http;
pub mod launcher;
pub mod night;
pub mod ninjaone;
pub mod quickbooks;
pub mod registry;
pub mod run;
pub mod schedule;

use crate::config::Env;
use collector::VendorSettings;
use qbr_shared::Vendor;
use std::sync::Arc;

/// Which vendors a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorChoice {
    All,
    Only(Vendor),
}

impl std::str::FromStr for VendorChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("all") {
            return Ok(VendorChoice::All);
        }
        match registry::module(s.parse::<Vendor>().map_err(|_| choices(s))?) {
            Some(m) => Ok(VendorChoice::Only(m.vendor)),
            None => Err(choices(s)),
        }
    }
}

fn choices(asked: &str) -> String {
    let keys: Vec<&str> = registry::VENDORS.iter().map(|m| m.vendor.key()).collect();
    format!("unknown vendor '{asked}' ({} or all)", keys.join(", "))
}

/// The collectors' settings.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// The vendors whose settings are complete, in the registry's order.
    pub vendors: Vec<Arc<dyn VendorSettings>>,
    pub enabled: bool,
    pub cron: String,
    pub timezone: chrono_tz::Tz,
    pub window_months: u32,
    pub http: http::HttpSettings,
    /// `QBR_SECRET_KEY`: opens organizations' stored vendor settings.
    pub secret_key: Option<crate::secrets::sealing::SecretKey>,
}

impl CollectorConfig {
    /// No vendor from the environment, the schedule off, the defaults otherwise (a
    /// server whose organizations bring their own vendor settings, and tests).
    pub fn without_vendors() -> CollectorConfig {
        CollectorConfig {
            vendors: Vec::new(),
            enabled: false,
            cron: "0 30 22 * * *".into(),
            timezone: chrono_tz::America::Chicago,
            window_months: 13,
            http: http::HttpSettings::default(),
            secret_key: None,
        }
    }

    /// Reads the settings. A vendor whose variables are incomplete is left out, with
    /// one log line naming the missing ones.
    pub fn from_env(env: &Env) -> anyhow::Result<CollectorConfig> {
        let mut vendors: Vec<Arc<dyn VendorSettings>> = Vec::new();
        for module in registry::VENDORS {
            let missing = env.missing(module.required);
            if missing.is_empty() {
                vendors.push(Arc::from((module.settings)(env)?));
            } else {
                tracing::warn!(
                    "{} collector disabled: {} not set",
                    module.vendor.label(),
                    missing.join(", ")
                );
            }
        }
        let timezone_name = env
            .var("COLLECTOR_TIMEZONE")
            .unwrap_or_else(|| "America/Chicago".into());
        let timezone = timezone_name.parse().map_err(|_| {
            anyhow::anyhow!("COLLECTOR_TIMEZONE: unknown time zone '{timezone_name}'")
        })?;
        let window_months: u32 = env.parsed("COLLECTOR_WINDOW_MONTHS", 13)?;
        anyhow::ensure!(
            (1..=120).contains(&window_months),
            "COLLECTOR_WINDOW_MONTHS must be 1–120, got {window_months}"
        );
        Ok(CollectorConfig {
            vendors,
            enabled: env.flag("COLLECTOR_ENABLED"),
            cron: env
                .var("COLLECTOR_CRON")
                .unwrap_or_else(|| "0 30 22 * * *".into()),
            timezone,
            window_months,
            http: http::HttpSettings::default(),
            secret_key: match env.var("QBR_SECRET_KEY") {
                Some(key) => Some(
                    crate::secrets::sealing::SecretKey::from_base64(&key)
                        .map_err(|why| anyhow::anyhow!("QBR_SECRET_KEY: {why}"))?,
                ),
                None => None,
            },
        })
    }

    /// The settings of the vendors `choice` asks for; an error naming the missing
    /// variables when an asked vendor is not configured.
    pub fn chosen(&self, choice: VendorChoice) -> anyhow::Result<Vec<Arc<dyn VendorSettings>>> {
        let chosen: Vec<Arc<dyn VendorSettings>> = self
            .vendors
            .iter()
            .filter(|v| choice == VendorChoice::All || choice == VendorChoice::Only(v.vendor()))
            .cloned()
            .collect();
        if !chosen.is_empty() {
            return Ok(chosen);
        }
        match choice {
            VendorChoice::Only(vendor) => {
                let required = registry::module(vendor).map_or(&[][..], |m| m.required);
                anyhow::bail!(
                    "{} is not configured ({})",
                    vendor.label(),
                    required.join(", ")
                )
            }
            VendorChoice::All => anyhow::bail!("no vendor is configured"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_are_configured_by_their_variables() {
        let env = Env::from_pairs([
            ("NINJA_CLIENT_ID", "id"),
            ("NINJA_CLIENT_SECRET", "secret"),
            ("CONNECTWISE_URL", "http://cw"),
        ]);
        let cfg = CollectorConfig::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        let vendors: Vec<Vendor> = cfg.vendors.iter().map(|v| v.vendor()).collect();
        assert_eq!(vendors, vec![Vendor::NinjaOne]);
        assert!(cfg.chosen(VendorChoice::All).is_ok());
        let err = cfg
            .chosen(VendorChoice::Only(Vendor::ConnectWise))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("ConnectWise is not configured (CONNECTWISE_URL"),
            "{err}"
        );
        assert_eq!("ninjaone".parse(), Ok(VendorChoice::Only(Vendor::NinjaOne)));
        assert_eq!("ALL".parse(), Ok(VendorChoice::All));
        assert!(
            "quickbooks".parse::<VendorChoice>().is_err(),
            "not collected"
        );
        assert!(
            CollectorConfig::from_env(&Env::from_pairs([("COLLECTOR_WINDOW_MONTHS", "0")]))
                .is_err()
        );
    }
}
