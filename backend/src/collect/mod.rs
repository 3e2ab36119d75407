//! Collectors: ConnectWise Manage (reactive tickets) and NinjaOne (endpoints, seats),
//! the all-or-nothing run, and the nightly schedule.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CONNECTWISE_URL` | unset | API root, e.g. `https://na.myconnectwise.net/v4_6_release/apis/3.0` |
//! | `CONNECTWISE_COMPANY_ID`, `CONNECTWISE_PUBLIC_KEY`, `CONNECTWISE_PRIVATE_KEY`, `CONNECTWISE_CLIENT_ID` | unset | credentials |
//! | `CONNECTWISE_REACTIVE_BOARDS` | `Help Desk` | comma-separated board names |
//! | `CONNECTWISE_CLOSED_STATUSES` | `>Closed,>Closed - No response,Closed` | comma-separated status names |
//! | `NINJA_URL` | `https://app.ninjarmm.com` | NinjaOne instance |
//! | `NINJA_CLIENT_ID`, `NINJA_CLIENT_SECRET` | unset | OAuth client credentials |
//! | `NINJA_EXCLUDED_ORGS` | `Ener Systems,Internal Infrastructure,z_Terese Ashley` | comma-separated |
//! | `COLLECTOR_ENABLED` | `false` | run the schedule in `qbr serve` |
//! | `COLLECTOR_CRON` | `0 30 22 * * *` | six-field cron (with seconds) |
//! | `COLLECTOR_TIMEZONE` | `America/Chicago` | zone of the cron expression |
//! | `COLLECTOR_WINDOW_MONTHS` | `13` | current month plus 12 closed months |
pub mod connectwise;
pub mod fake;
pub mod http;
pub mod metrics;
pub mod ninjaone;
pub mod run;
pub mod schedule;

use anyhow::Context;

/// Which vendors a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorChoice {
    ConnectWise,
    NinjaOne,
    All,
}

impl std::str::FromStr for VendorChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "connectwise" => Ok(VendorChoice::ConnectWise),
            "ninjaone" => Ok(VendorChoice::NinjaOne),
            "all" => Ok(VendorChoice::All),
            other => Err(format!(
                "unknown vendor '{other}' (connectwise, ninjaone or all)"
            )),
        }
    }
}

/// The collectors' settings.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub connectwise: Option<connectwise::CwConfig>,
    pub ninjaone: Option<ninjaone::NinjaConfig>,
    pub enabled: bool,
    pub cron: String,
    pub timezone: chrono_tz::Tz,
    pub window_months: u32,
    pub http: http::HttpSettings,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn list(name: &str, default: &[&str]) -> Vec<String> {
    match var(name) {
        Some(v) => v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => default.iter().map(|s| s.to_string()).collect(),
    }
}

impl CollectorConfig {
    /// Reads the environment. A vendor whose settings are incomplete is disabled with
    /// one log line naming the missing variables.
    pub fn from_env() -> anyhow::Result<CollectorConfig> {
        let cw_vars = [
            "CONNECTWISE_URL",
            "CONNECTWISE_COMPANY_ID",
            "CONNECTWISE_PUBLIC_KEY",
            "CONNECTWISE_PRIVATE_KEY",
            "CONNECTWISE_CLIENT_ID",
        ];
        let missing: Vec<&str> = cw_vars.into_iter().filter(|v| var(v).is_none()).collect();
        let connectwise = if missing.is_empty() {
            Some(connectwise::CwConfig {
                url: var("CONNECTWISE_URL").unwrap_or_default(),
                company: var("CONNECTWISE_COMPANY_ID").unwrap_or_default(),
                public_key: var("CONNECTWISE_PUBLIC_KEY").unwrap_or_default(),
                private_key: var("CONNECTWISE_PRIVATE_KEY").unwrap_or_default(),
                client_id: var("CONNECTWISE_CLIENT_ID").unwrap_or_default(),
                reactive_boards: list("CONNECTWISE_REACTIVE_BOARDS", &["Help Desk"]),
                closed_statuses: list(
                    "CONNECTWISE_CLOSED_STATUSES",
                    &[">Closed", ">Closed - No response", "Closed"],
                ),
            })
        } else {
            tracing::warn!(
                "ConnectWise collector disabled: {} not set",
                missing.join(", ")
            );
            None
        };
        let missing: Vec<&str> = ["NINJA_CLIENT_ID", "NINJA_CLIENT_SECRET"]
            .into_iter()
            .filter(|v| var(v).is_none())
            .collect();
        let ninjaone = if missing.is_empty() {
            Some(ninjaone::NinjaConfig {
                url: var("NINJA_URL").unwrap_or_else(|| "https://app.ninjarmm.com".into()),
                client_id: var("NINJA_CLIENT_ID").unwrap_or_default(),
                client_secret: var("NINJA_CLIENT_SECRET").unwrap_or_default(),
                excluded_orgs: list(
                    "NINJA_EXCLUDED_ORGS",
                    &["Ener Systems", "Internal Infrastructure", "z_Terese Ashley"],
                ),
            })
        } else {
            tracing::warn!(
                "NinjaOne collector disabled: {} not set",
                missing.join(", ")
            );
            None
        };
        let timezone_name = var("COLLECTOR_TIMEZONE").unwrap_or_else(|| "America/Chicago".into());
        let timezone = timezone_name.parse().map_err(|_| {
            anyhow::anyhow!("COLLECTOR_TIMEZONE: unknown time zone '{timezone_name}'")
        })?;
        let window_months = match var("COLLECTOR_WINDOW_MONTHS") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=120).contains(n))
                .with_context(|| format!("COLLECTOR_WINDOW_MONTHS must be 1–120, got '{v}'"))?,
            None => 13,
        };
        Ok(CollectorConfig {
            connectwise,
            ninjaone,
            enabled: var("COLLECTOR_ENABLED")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")),
            cron: var("COLLECTOR_CRON").unwrap_or_else(|| "0 30 22 * * *".into()),
            timezone,
            window_months,
            http: http::HttpSettings::default(),
        })
    }
}
