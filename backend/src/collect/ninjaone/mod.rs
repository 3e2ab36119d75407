//! NinjaOne: endpoints and seats (`collection.md`), from a daily snapshot of every
//! device, with per-client counts.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NINJA_URL` | `https://app.ninjarmm.com` | NinjaOne instance |
//! | `NINJA_CLIENT_ID`, `NINJA_CLIENT_SECRET` | unset | OAuth client credentials |
pub mod client;
pub mod metrics;

use super::collector::{
    ClientReading, Collector, OrganizationRules, Reading, Steps, VendorSettings, Window,
};
use super::http::Http;
use super::registry::VendorModule;
use crate::config::Env;
use client::NinjaOne;
use qbr_shared::Vendor;

/// The registry's entry.
pub const MODULE: VendorModule = VendorModule {
    vendor: Vendor::NinjaOne,
    required: &["NINJA_CLIENT_ID", "NINJA_CLIENT_SECRET"],
    optional: &["NINJA_URL"],
    columns: &[
        ("endpoints_managed", "endpoints"),
        ("seats_managed", "seats"),
    ],
    settings: settings_from_env,
};

/// NinjaOne organizations that are not clients, until an organization says otherwise.
pub const DEFAULT_EXCLUDED_ORGS: [&str; 4] = [
    "Ener Systems",
    "Ener Systems, LLC",
    "Internal Infrastructure",
    "z_Terese Ashley",
];

/// Settings of the NinjaOne collector.
#[derive(Debug, Clone)]
pub struct NinjaConfig {
    pub url: String,
    pub client_id: String,
    pub client_secret: String,
    pub excluded_orgs: Vec<String>,
}

fn settings_from_env(env: &Env) -> anyhow::Result<Box<dyn VendorSettings>> {
    Ok(Box::new(NinjaConfig {
        url: env
            .var("NINJA_URL")
            .unwrap_or_else(|| "https://app.ninjarmm.com".into()),
        client_id: env.var("NINJA_CLIENT_ID").unwrap_or_default(),
        client_secret: env.var("NINJA_CLIENT_SECRET").unwrap_or_default(),
        // The organization's list (Settings) replaces it in every run of the server and
        // the CLI (`credentials::config_for`); this is the spec's default.
        excluded_orgs: DEFAULT_EXCLUDED_ORGS
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }))
}

impl VendorSettings for NinjaConfig {
    fn vendor(&self) -> Vendor {
        Vendor::NinjaOne
    }

    fn collector(&self, http: Http) -> Box<dyn Collector> {
        Box::new(NinjaOne::new(http, self.clone()))
    }

    fn for_organization(&self, rules: &OrganizationRules) -> Option<Box<dyn VendorSettings>> {
        Some(Box::new(NinjaConfig {
            excluded_orgs: rules.excluded_device_orgs.clone(),
            ..self.clone()
        }))
    }
}

#[async_trait::async_trait]
impl Collector for NinjaOne {
    /// Today's inventory is one step, whatever the window.
    fn steps(&self, _months: usize) -> u32 {
        1
    }

    async fn read(&mut self, _window: &Window, steps: &Steps<'_>) -> anyhow::Result<Reading> {
        let inventory = self.inventory().await?;
        let counts = metrics::device_counts(&inventory, &self.config().excluded_orgs);
        steps.step().await;
        Ok(Reading {
            devices: Some(counts),
            // Every organization, excluded ones too (listed as internal); their device
            // values come from the day's snapshot (`apply`).
            clients: Some(ClientReading {
                entities: metrics::organizations(&inventory),
                ..ClientReading::default()
            }),
            ..Reading::default()
        })
    }
}
