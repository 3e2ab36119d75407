//! ConnectWise Manage: reactive tickets created and closed, and hours on reactive
//! tickets, per month (`collection.md`); and per company (`clients.rs`): the same, with
//! service and agreement hours, tickets by board, type and priority, agreement MRR.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CONNECTWISE_URL` | unset | API root, e.g. `https://na.myconnectwise.net/v4_6_release/apis/3.0` |
//! | `CONNECTWISE_COMPANY_ID`, `CONNECTWISE_PUBLIC_KEY`, `CONNECTWISE_PRIVATE_KEY`, `CONNECTWISE_CLIENT_ID` | unset | credentials |
//! | `CONNECTWISE_REACTIVE_BOARDS` | `Help Desk` | comma-separated board names |
//! | `CONNECTWISE_CLOSED_STATUSES` | `>Closed,>Closed - No response,Closed` | comma-separated status names |
pub mod client;
pub mod clients;
pub mod metrics;

use super::collector::{Collector, Reading, Steps, VendorSettings, Window};
use super::http::Http;
use super::registry::VendorModule;
use crate::config::Env;
use chrono::{DateTime, NaiveTime, Utc};
use client::ConnectWise;
use qbr_shared::Vendor;
use std::collections::HashSet;

pub use client::{datetime, string_list};

/// The registry's entry.
pub const MODULE: VendorModule = VendorModule {
    vendor: Vendor::ConnectWise,
    required: &[
        "CONNECTWISE_URL",
        "CONNECTWISE_COMPANY_ID",
        "CONNECTWISE_PUBLIC_KEY",
        "CONNECTWISE_PRIVATE_KEY",
        "CONNECTWISE_CLIENT_ID",
    ],
    optional: &["CONNECTWISE_REACTIVE_BOARDS"],
    columns: &[
        ("reactive_tickets_created", "created"),
        ("reactive_tickets_closed", "closed"),
        ("reactive_time_spent", "hours"),
    ],
    settings: settings_from_env,
};

/// Settings of the ConnectWise collector.
#[derive(Debug, Clone)]
pub struct CwConfig {
    pub url: String,
    pub company: String,
    pub public_key: String,
    pub private_key: String,
    pub client_id: String,
    pub reactive_boards: Vec<String>,
    pub closed_statuses: Vec<String>,
}

fn settings_from_env(env: &Env) -> anyhow::Result<Box<dyn VendorSettings>> {
    Ok(Box::new(CwConfig {
        url: env.var("CONNECTWISE_URL").unwrap_or_default(),
        company: env.var("CONNECTWISE_COMPANY_ID").unwrap_or_default(),
        public_key: env.var("CONNECTWISE_PUBLIC_KEY").unwrap_or_default(),
        private_key: env.var("CONNECTWISE_PRIVATE_KEY").unwrap_or_default(),
        client_id: env.var("CONNECTWISE_CLIENT_ID").unwrap_or_default(),
        reactive_boards: env.list("CONNECTWISE_REACTIVE_BOARDS", &["Help Desk"]),
        closed_statuses: env.list(
            "CONNECTWISE_CLOSED_STATUSES",
            &[">Closed", ">Closed - No response", "Closed"],
        ),
    }))
}

impl VendorSettings for CwConfig {
    fn vendor(&self) -> Vendor {
        Vendor::ConnectWise
    }

    fn collector(&self, http: Http) -> Box<dyn Collector> {
        Box::new(ConnectWise::new(http, self.clone()))
    }
}

#[async_trait::async_trait]
impl Collector for ConnectWise {
    /// One step per month.
    fn steps(&self, months: usize) -> u32 {
        u32::try_from(months).unwrap_or(u32::MAX)
    }

    async fn read(&mut self, window: &Window, steps: &Steps<'_>) -> anyhow::Result<Reading> {
        let Some((start, end)) = window.span() else {
            anyhow::bail!("no month to collect");
        };
        // One listing each for the whole window: time entries, tickets (whose boards
        // fill the cache), agreements; then the boards of the other tickets charged.
        let entries = self.time_entries(start, end).await?;
        let tickets = self.tickets(start, end).await?;
        self.remember_boards(&tickets);
        let ids: HashSet<i64> = entries.iter().filter_map(|e| e.charge_to_id).collect();
        self.boards(&ids).await?;
        let (from, to) = agreement_days(window);
        let agreements = self.agreements(from, to).await?;
        let hours = metrics::reactive_hours(&entries, window, |t| self.is_reactive(t));
        let cfg = self.config();
        let rules = clients::Rules {
            reactive_boards: &cfg.reactive_boards,
            closed_statuses: &cfg.closed_statuses,
        };
        let (per_client, unassigned) =
            clients::client_reading(&tickets, &entries, &agreements, window, &rules, |t| {
                self.is_reactive(t)
            });
        if unassigned != clients::Unassigned::default() {
            tracing::info!(?unassigned, "ConnectWise rows that count for no client");
        }
        let mut reading = Reading::default();
        for b in &window.months {
            let created = self.reactive_created(b.start, b.end).await?;
            let closed = self.reactive_closed(b.start, b.end).await?;
            #[allow(clippy::cast_precision_loss)]
            reading.values.extend([
                (b.month, "reactive_tickets_created", created as f64),
                (b.month, "reactive_tickets_closed", closed as f64),
                (
                    b.month,
                    "reactive_time_spent",
                    hours.get(&b.month).copied().unwrap_or(0.0),
                ),
            ]);
            steps.step().await;
        }
        reading.clients = Some(per_client);
        Ok(reading)
    }
}

/// The window's days as agreement dates are written (midnight UTC): from the first
/// month's first day to the day after the last month.
fn agreement_days(window: &Window) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |m: qbr_shared::Month| m.first_day().and_time(NaiveTime::MIN).and_utc();
    match (window.months.first(), window.months.last()) {
        (Some(f), Some(l)) => (midnight(f.month), midnight(l.month.next())),
        _ => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC),
    }
}
