//! What a vendor module implements to be collected: its settings ([`VendorSettings`],
//! read from the environment) make a [`Collector`] per run, which reads the run's
//! months from the vendor and answers a [`Reading`]. The run (`run.rs`) does the rest
//! for every vendor alike: checks, flags, freezing, drift, one transaction, the log.
use super::http::Http;
use crate::db::{tenant, DbPool};
use crate::store::collection as log;
use chrono::{DateTime, Utc};
use qbr_shared::api::ClientDevices;
use qbr_shared::clients::ClientMetric;
use qbr_shared::collection::Flag;
use qbr_shared::{Month, Vendor};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// A vendor's settings, complete enough to collect.
pub trait VendorSettings: Send + Sync + std::fmt::Debug {
    fn vendor(&self) -> Vendor;
    /// A collector for one run, sending its requests through the run's client.
    fn collector(&self, http: Http) -> Box<dyn Collector>;
    /// These settings with the organization's own rules applied (its Settings page),
    /// or `None` when the vendor has none to apply.
    fn for_organization(&self, _rules: &OrganizationRules) -> Option<Box<dyn VendorSettings>> {
        None
    }
}

/// What an organization's settings say about reading its vendors.
#[derive(Debug, Clone, Default)]
pub struct OrganizationRules {
    /// Device organizations (NinjaOne) that are not clients: their devices never count.
    pub excluded_device_orgs: Vec<String>,
}

/// Reads one vendor for one run.
#[async_trait::async_trait]
pub trait Collector: Send {
    /// The progress steps [`Collector::read`] reports for a window of `months` months.
    fn steps(&self, months: usize) -> u32;

    /// Reads the window's values from the vendor. It never touches the database: a
    /// failure here leaves everything as it was.
    async fn read(&mut self, window: &Window, steps: &Steps<'_>) -> anyhow::Result<Reading>;
}

/// What a collector read.
#[derive(Debug, Default)]
pub struct Reading {
    /// Values by month and metric key.
    pub values: Vec<(Month, &'static str, f64)>,
    /// Today's device counts (RMM vendors): stored as the day's snapshot, and each
    /// month's endpoints and seats are its last snapshot's.
    pub devices: Option<DeviceCounts>,
    /// The books' closing month (accounting vendors): collected values of months up to
    /// it are frozen (a different reading is drift), later months are rewritten. `None`:
    /// a month is final once collected after it ended.
    pub closed_through: Option<Month>,
    /// Flags the vendor raised on values (QuickBooks: a month that does not reconcile).
    pub flags: Vec<(Month, &'static str, Flag)>,
    /// The report the values came from, kept with them (QuickBooks).
    pub books: Option<BooksReading>,
    /// What the vendor said of each of its clients (companies, organizations,
    /// customers); `None`: this vendor reads nothing per client.
    pub clients: Option<ClientReading>,
}

/// A vendor's per-client reading: every entity it saw, each entity's monthly values
/// and tickets by category. Stored in the run's transaction with the organization's
/// values, by the same rules (closed months frozen, drift kept apart).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientReading {
    /// Every entity seen, `(external id, name)`: listed on the matching page even when
    /// it has no value.
    pub entities: Vec<(String, String)>,
    pub values: Vec<ClientValue>,
    /// Tickets of a month by board, type and priority (all of them, for the client
    /// report's categories: not only the reactive ones).
    pub tickets: Vec<TicketCount>,
    /// The books' closing month (accounting vendors): values of months up to it are
    /// frozen, later ones rewritten. `None`: a month is final once collected after it
    /// ended.
    pub closed_through: Option<Month>,
}

/// One entity's value of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientValue {
    pub external_id: String,
    pub month: Month,
    pub metric: ClientMetric,
    pub value: f64,
}

/// How tickets are told apart in the client report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TicketDimension {
    Board,
    Type,
    Priority,
}

impl TicketDimension {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketDimension::Board => "board",
            TicketDimension::Type => "type",
            TicketDimension::Priority => "priority",
        }
    }
}

/// Tickets entered in a month of one entity with one board, type or priority.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketCount {
    pub external_id: String,
    pub month: Month,
    pub dimension: TicketDimension,
    pub label: String,
    pub tickets: u32,
}

/// A profit-and-loss report read with the values, stored in the same transaction.
#[derive(Debug, Clone)]
pub struct BooksReading {
    pub source: crate::store::quickbooks::Source,
    pub report: qbr_shared::quickbooks::PnlReport,
    /// The answer as received (qbXML or JSON).
    pub raw: String,
    pub active_employees: Option<u32>,
    pub closing_date: Option<chrono::NaiveDate>,
    pub unreconciled: Vec<qbr_shared::quickbooks::Unreconciled>,
}

/// A day's device counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceCounts {
    pub endpoints: i64,
    pub seats: i64,
    pub per_client: Vec<ClientDevices>,
    /// Counted devices (endpoints) per node class.
    pub per_node_class: BTreeMap<String, i64>,
}

/// A month and its bounds in UTC (cut in the organization's time zone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonthBounds {
    pub month: Month,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The months a run covers, oldest first.
#[derive(Clone, Debug)]
pub struct Window {
    pub months: Vec<MonthBounds>,
}

impl Window {
    pub fn new(months: &[Month], tz: chrono_tz::Tz) -> Window {
        Window {
            months: months
                .iter()
                .map(|m| {
                    let (start, end) = m.utc_bounds(tz);
                    MonthBounds {
                        month: *m,
                        start,
                        end,
                    }
                })
                .collect(),
        }
    }

    /// The first instant of the window and the end of its last month.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.months.first()?.start, self.months.last()?.end))
    }

    /// The month of the window that contains `t`.
    pub fn month_of(&self, t: DateTime<Utc>) -> Option<Month> {
        self.months
            .iter()
            .find(|b| t >= b.start && t < b.end)
            .map(|b| b.month)
    }
}

/// Progress callback: (steps done, steps in all).
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Send + Sync);

/// Counts a run's steps: tells the caller (the CLI's progress bar) and records them in
/// the collection log, for the status page.
pub struct Steps<'a> {
    done: AtomicU32,
    total: u32,
    progress: Progress<'a>,
    /// The pool, the organization and the run's log row, when the run is logged (not a
    /// dry run).
    log: Option<(&'a DbPool, i32, i64)>,
}

impl<'a> Steps<'a> {
    pub fn new(
        total: u32,
        progress: Progress<'a>,
        log: Option<(&'a DbPool, i32, i64)>,
    ) -> Steps<'a> {
        Steps {
            done: AtomicU32::new(0),
            total,
            progress,
            log,
        }
    }

    /// One more step done.
    pub async fn step(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        (self.progress)(done, self.total);
        if let Some((pool, org, run)) = self.log {
            // Progress is informative: a failure to record it does not stop the run.
            if let Ok(mut conn) = tenant::checkout(pool, org).await {
                let _ = log::record_progress(&mut conn, org, run, done).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_cuts_months_in_the_zone() {
        let months: Vec<Month> = ["2025-02", "2025-03"]
            .iter()
            .filter_map(|m| m.parse().ok())
            .collect();
        let w = Window::new(&months, chrono_tz::America::Chicago);
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
        };
        // 2025-03-01 00:00 in Chicago is 06:00 UTC.
        let before = at("2025-03-01T05:59:59Z").and_then(|t| w.month_of(t));
        let after = at("2025-03-01T06:00:00Z").and_then(|t| w.month_of(t));
        assert_eq!(before.map(|m| m.to_string()).as_deref(), Some("2025-02"));
        assert_eq!(after.map(|m| m.to_string()).as_deref(), Some("2025-03"));
        assert_eq!(at("2025-05-01T00:00:00Z").and_then(|t| w.month_of(t)), None);
        assert_eq!(w.span().map(|s| s.0), at("2025-02-01T06:00:00Z"));
    }
}
