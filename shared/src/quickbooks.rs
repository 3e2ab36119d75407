//! QuickBooks' profit-and-loss report by month, and the account mapping that turns it
//! into input metrics. Pure rules: the server applies them to every report it receives
//! (QuickBooks Desktop through the Web Connector, or QuickBooks Online), and again to the
//! stored reports when a mapping changes; the SPA shows what they decide.
//!
//! An account's own amount (not its sub-accounts') goes to the metric of its own
//! mapping, else of its nearest mapped parent (`Income:Managed Services:Backup` follows
//! `Income:Managed Services`), else of the default rule for its name and section, else
//! nowhere: it is *unmapped*, and the month's check against the report's totals says so.
use crate::period::Month;
use crate::words::words;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

words! {
    /// The part of the profit-and-loss report an account appears in.
    pub enum Section {
        Income = "income",
        CostOfGoodsSold = "cogs",
        Expense = "expense",
        OtherIncome = "other_income",
        OtherExpense = "other_expense",
    }
}

impl Section {
    /// Income and other income are revenue; the rest are expenses.
    pub fn is_income(self) -> bool {
        matches!(self, Section::Income | Section::OtherIncome)
    }

    /// The section of a report heading or total row (`Total Cost of Goods Sold`,
    /// `Other Income`, `COGS`), as QuickBooks Desktop and Online name them.
    pub fn of_heading(heading: &str) -> Option<Section> {
        let h = heading.trim().to_ascii_lowercase();
        let h = h.strip_prefix("total ").unwrap_or(&h).trim();
        match h {
            "income" => Some(Section::Income),
            "cost of goods sold" | "cogs" => Some(Section::CostOfGoodsSold),
            "expense" | "expenses" => Some(Section::Expense),
            "other income" => Some(Section::OtherIncome),
            "other expense" | "other expenses" => Some(Section::OtherExpense),
            _ => None,
        }
    }
}

/// The input metrics a QuickBooks account can feed.
pub const MAPPABLE_METRICS: [&str; 10] = [
    "nrr",
    "mrr",
    "orr",
    "product_sales",
    "misc_revenue",
    "employee_expense",
    "owner_comp_taxes",
    "owner_comp",
    "product_cogs",
    "other_expenses",
];

/// Where an account's amounts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// One of [`MAPPABLE_METRICS`].
    Metric(&'static str),
    /// Counted in the check against the report's totals, fed to no metric.
    Ignore,
}

impl Target {
    /// `ignore` or a mappable metric's key.
    pub fn parse(word: &str) -> Option<Target> {
        if word == "ignore" {
            return Some(Target::Ignore);
        }
        MAPPABLE_METRICS
            .iter()
            .find(|m| **m == word)
            .map(|m| Target::Metric(m))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Metric(m) => m,
            Target::Ignore => "ignore",
        }
    }
}

/// A profit-and-loss report with one column per month.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PnlReport {
    /// The month of each column, oldest first (a report's "Total" column is dropped).
    pub months: Vec<Month>,
    pub accounts: Vec<PnlAccount>,
    /// The report's own total of each section per column, to check the mapping with.
    pub totals: BTreeMap<String, Vec<f64>>,
}

/// One account's own amounts (without its sub-accounts'), one per column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PnlAccount {
    /// `Income:Managed Services:Backup`: parents first, `:` between.
    pub full_name: String,
    pub section: Section,
    pub amounts: Vec<f64>,
}

impl PnlReport {
    /// The report's total of `section` in column `i`, when it gave one.
    pub fn total(&self, section: Section, i: usize) -> Option<f64> {
        self.totals.get(section.as_str())?.get(i).copied()
    }
}

/// An account's stored mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub target: Target,
    pub reason: Option<String>,
}

words! {
    /// Why an account goes where it goes.
    pub enum MappedBy {
        /// Its own mapping.
        Own = "own",
        /// A parent account's mapping.
        Parent = "parent",
        /// The default rule for its name and section.
        Default = "default",
        /// Nothing: the account is unmapped.
        Nothing = "none",
    }
}

/// The parents of `full_name`, nearest first (`A:B:C` → `A:B`, `A`).
fn parents(full_name: &str) -> impl Iterator<Item = &str> {
    full_name
        .rmatch_indices(':')
        .map(move |(i, _)| &full_name[..i])
}

/// Where an account's amounts go, and why.
pub fn resolve(
    full_name: &str,
    section: Section,
    mappings: &BTreeMap<String, Mapping>,
) -> (Option<Target>, MappedBy) {
    if let Some(m) = mappings.get(full_name) {
        return (Some(m.target), MappedBy::Own);
    }
    if let Some(m) = parents(full_name).find_map(|p| mappings.get(p)) {
        return (Some(m.target), MappedBy::Parent);
    }
    match default_target(full_name, section) {
        Some(t) => (Some(t), MappedBy::Default),
        None => (None, MappedBy::Nothing),
    }
}

/// The default rule: by words in the account's name, within its section. Income that
/// matches no word stays unmapped (the owners decide what it is); any other expense is
/// `other_expenses`.
pub fn default_target(full_name: &str, section: Section) -> Option<Target> {
    let name = full_name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    let metric = match section {
        Section::Income if has(&["managed service", "monthly recurring", "mrr"]) => "mrr",
        Section::Income if has(&["professional service", "project", "consult", "labor"]) => "nrr",
        Section::Income if has(&["annual", "other recurring", "subscription"]) => "orr",
        Section::Income if has(&["product", "hardware", "equipment", "resale"]) => "product_sales",
        Section::Income if has(&["misc"]) => "misc_revenue",
        Section::Income => return None,
        Section::OtherIncome => "misc_revenue",
        Section::CostOfGoodsSold => "product_cogs",
        Section::Expense | Section::OtherExpense
            if has(&[
                "payroll",
                "wage",
                "salar",
                "employee benefit",
                "health insurance",
            ]) =>
        {
            "employee_expense"
        }
        Section::Expense | Section::OtherExpense => "other_expenses",
    };
    Some(Target::Metric(metric))
}

/// Revenue or expenses, for the check against the report's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Income,
    Expenses,
}

impl Side {
    fn of(section: Section) -> Side {
        if section.is_income() {
            Side::Income
        } else {
            Side::Expenses
        }
    }
}

/// A month whose mapped and ignored accounts don't add up to the report's total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct Unreconciled {
    pub period: String,
    pub side: Side,
    /// The report's total (its income, or its expenses with cost of goods sold).
    pub report_total: f64,
    /// Mapped plus ignored accounts.
    pub accounted: f64,
    /// The accounts that go nowhere and had an amount this month.
    pub unmapped_accounts: Vec<String>,
}

/// What a report says once mapped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapped {
    /// Each month's value of each metric some account fed (signed: refunds subtract).
    pub values: BTreeMap<(Month, &'static str), f64>,
    pub unreconciled: Vec<Unreconciled>,
}

/// Rounds money to cents (sums of binary floats drift in the last digits).
fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Maps every account of `report` and checks each month against the report's totals.
pub fn map_report(report: &PnlReport, mappings: &BTreeMap<String, Mapping>) -> Mapped {
    let mut out = Mapped::default();
    for (i, month) in report.months.iter().enumerate() {
        let mut accounted: BTreeMap<Side, f64> = BTreeMap::new();
        let mut unmapped: BTreeMap<Side, Vec<String>> = BTreeMap::new();
        for account in &report.accounts {
            let amount = account.amounts.get(i).copied().unwrap_or(0.0);
            let side = Side::of(account.section);
            match resolve(&account.full_name, account.section, mappings).0 {
                Some(target) => {
                    *accounted.entry(side).or_default() += amount;
                    if let Target::Metric(metric) = target {
                        *out.values.entry((*month, metric)).or_default() += amount;
                    }
                }
                None if amount != 0.0 => unmapped
                    .entry(side)
                    .or_default()
                    .push(account.full_name.clone()),
                None => {}
            }
        }
        for side in [Side::Income, Side::Expenses] {
            let sections = Section::ALL.iter().filter(|s| Side::of(**s) == side);
            let totals: Vec<f64> = sections.filter_map(|s| report.total(*s, i)).collect();
            if totals.is_empty() {
                continue;
            }
            let report_total = cents(totals.iter().sum());
            let done = cents(accounted.get(&side).copied().unwrap_or(0.0));
            if (report_total - done).abs() >= 0.005 {
                out.unreconciled.push(Unreconciled {
                    period: month.to_string(),
                    side,
                    report_total,
                    accounted: done,
                    unmapped_accounts: unmapped.remove(&side).unwrap_or_default(),
                });
            }
        }
    }
    for v in out.values.values_mut() {
        *v = cents(*v);
    }
    out
}

/// The JSON of the QuickBooks endpoints (`/api/qbr/quickbooks/*`).
pub mod api {
    use super::{MappedBy, Section, Unreconciled};
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};

    /// An account QuickBooks reported, with where its amounts go.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct QuickBooksAccount {
        /// `Income:Managed Services:Backup`.
        pub full_name: String,
        pub section: Section,
        /// A metric key, `ignore`, or null (unmapped).
        pub target: Option<String>,
        pub mapped_by: MappedBy,
        /// Why it is ignored (own mappings only).
        pub reason: Option<String>,
        /// The last month of the newest report, and the account's own amount in it.
        pub last_month: Option<String>,
        pub last_month_amount: Option<f64>,
        pub first_seen_at: DateTime<Utc>,
        pub last_seen_at: DateTime<Utc>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct QuickBooksAccountsResponse {
        pub organization_id: i32,
        pub accounts: Vec<QuickBooksAccount>,
        /// What an account can be mapped to: the mappable metrics, then `ignore`.
        pub targets: Vec<String>,
    }

    /// One account's new mapping: a metric key or `ignore` (with a reason), or null to
    /// remove its own mapping (it then follows its parent or the default rule).
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct MappingChange {
        pub account: String,
        pub metric: Option<String>,
        #[serde(default)]
        pub reason: Option<String>,
    }

    /// `PUT /api/qbr/quickbooks/mappings`: all or nothing.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct MappingsUpdateRequest {
        #[serde(default)]
        pub organization_id: Option<i32>,
        pub mappings: Vec<MappingChange>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct MappingsUpdateResponse {
        pub changed: u32,
        /// The months mapped again from the stored reports.
        pub remapped_months: Vec<String>,
        pub values_written: u32,
    }

    /// A report QuickBooks sent.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct QuickBooksSync {
        pub id: i64,
        /// `desktop` (Web Connector) or `online`.
        pub source: String,
        pub received_at: DateTime<Utc>,
        pub from_month: String,
        pub to_month: String,
        pub months: usize,
        pub unreconciled: Vec<Unreconciled>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct QuickBooksStatus {
        pub organization_id: i32,
        /// Whether `QBWC_USERNAME` and `QBWC_PASSWORD_HASH` are set.
        pub web_connector_configured: bool,
        pub web_connector_username: Option<String>,
        /// The newest Web Connector session: when it last called, and how it failed.
        pub last_session_at: Option<DateTime<Utc>>,
        pub last_error: Option<String>,
        /// The newest reports, newest first.
        pub syncs: Vec<QuickBooksSync>,
        /// Accounts with an amount in the newest report that go nowhere.
        pub unmapped_accounts: Vec<String>,
        /// History asked for with the next Web Connector run.
        pub backfill_from: Option<String>,
        /// QuickBooks Online: whether the server has an Intuit app (`QBO_CLIENT_ID`…),
        /// whether a company is connected, which one, and why its last sync failed.
        #[serde(default)]
        pub online_configured: bool,
        #[serde(default)]
        pub online_connected: bool,
        #[serde(default)]
        pub online_realm_id: Option<String>,
        #[serde(default)]
        pub online_last_error: Option<String>,
    }

    /// `POST /api/qbr/quickbooks/backfill`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
    pub struct BackfillRequest {
        /// `YYYY-MM`: the next Web Connector run reads from this month.
        pub from: String,
        #[serde(default)]
        pub organization_id: Option<i32>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn account(name: &str, section: Section, amounts: &[f64]) -> PnlAccount {
        PnlAccount {
            full_name: name.into(),
            section,
            amounts: amounts.to_vec(),
        }
    }

    fn report() -> PnlReport {
        let mut totals = BTreeMap::new();
        totals.insert("income".to_string(), vec![1500.0, 1100.0]);
        totals.insert("cogs".to_string(), vec![200.0, 0.0]);
        totals.insert("expense".to_string(), vec![900.0, 950.0]);
        PnlReport {
            months: vec![month("2025-01"), month("2025-02")],
            accounts: vec![
                account("Managed Services", Section::Income, &[800.0, 800.0]),
                account("Managed Services:Backup", Section::Income, &[100.0, 100.0]),
                account("Projects", Section::Income, &[400.0, -100.0]),
                account("Hardware Sales", Section::Income, &[250.0, 300.0]),
                account("Grant Income", Section::Income, &[-50.0, 0.0]),
                account(
                    "Cost of Goods Sold",
                    Section::CostOfGoodsSold,
                    &[200.0, 0.0],
                ),
                account("Payroll Expenses:Wages", Section::Expense, &[600.0, 600.0]),
                account("Rent", Section::Expense, &[300.0, 350.0]),
            ],
            totals,
        }
    }

    #[test]
    fn defaults_map_by_name_and_section() {
        let none = BTreeMap::new();
        let t = |n: &str, s: Section| resolve(n, s, &none).0;
        assert_eq!(
            t("Managed Services", Section::Income),
            Some(Target::Metric("mrr"))
        );
        assert_eq!(t("Projects", Section::Income), Some(Target::Metric("nrr")));
        assert_eq!(t("Grant Income", Section::Income), None);
        assert_eq!(
            t("Interest", Section::OtherIncome),
            Some(Target::Metric("misc_revenue"))
        );
        assert_eq!(
            t("Anything", Section::CostOfGoodsSold),
            Some(Target::Metric("product_cogs"))
        );
        assert_eq!(
            t("Payroll:Wages", Section::Expense),
            Some(Target::Metric("employee_expense"))
        );
        assert_eq!(
            t("Rent", Section::Expense),
            Some(Target::Metric("other_expenses"))
        );
    }

    #[test]
    fn a_sub_account_follows_its_nearest_mapped_parent() {
        let mut m = BTreeMap::new();
        m.insert(
            "A:B".to_string(),
            Mapping {
                target: Target::Metric("orr"),
                reason: None,
            },
        );
        m.insert(
            "A".to_string(),
            Mapping {
                target: Target::Ignore,
                reason: Some("pass-through".into()),
            },
        );
        assert_eq!(
            resolve("A:B:C", Section::Income, &m),
            (Some(Target::Metric("orr")), MappedBy::Parent)
        );
        assert_eq!(
            resolve("A:X", Section::Income, &m),
            (Some(Target::Ignore), MappedBy::Parent)
        );
        assert_eq!(
            resolve("A:B", Section::Income, &m),
            (Some(Target::Metric("orr")), MappedBy::Own)
        );
    }

    #[test]
    fn months_sum_mapped_accounts_signed_and_name_the_unmapped() {
        let mapped = map_report(&report(), &BTreeMap::new());
        let v = |m: &str, k: &'static str| mapped.values.get(&(month(m), k)).copied();
        assert_eq!(v("2025-01", "mrr"), Some(900.0));
        assert_eq!(v("2025-02", "nrr"), Some(-100.0), "a refund stays negative");
        assert_eq!(v("2025-01", "product_sales"), Some(250.0));
        assert_eq!(v("2025-01", "product_cogs"), Some(200.0));
        assert_eq!(v("2025-02", "other_expenses"), Some(350.0));
        // January's income totals 1,500; Grant Income (−50) is unmapped, so the mapped
        // accounts make 1,550.
        assert_eq!(
            mapped.unreconciled,
            vec![Unreconciled {
                period: "2025-01".into(),
                side: Side::Income,
                report_total: 1500.0,
                accounted: 1550.0,
                unmapped_accounts: vec!["Grant Income".into()],
            }]
        );
        // Ignoring the account reconciles the month.
        let mut m = BTreeMap::new();
        m.insert(
            "Grant Income".to_string(),
            Mapping {
                target: Target::Ignore,
                reason: Some("not operating income".into()),
            },
        );
        assert!(map_report(&report(), &m).unreconciled.is_empty());
    }

    #[test]
    fn headings_name_sections() {
        assert_eq!(Section::of_heading("Total Income"), Some(Section::Income));
        assert_eq!(
            Section::of_heading("Total Cost of Goods Sold"),
            Some(Section::CostOfGoodsSold)
        );
        assert_eq!(
            Section::of_heading("Other Expense"),
            Some(Section::OtherExpense)
        );
        assert_eq!(Section::of_heading("Gross Profit"), None);
        assert_eq!(Target::parse("ignore"), Some(Target::Ignore));
        assert_eq!(Target::parse("mrr"), Some(Target::Metric("mrr")));
        assert_eq!(Target::parse("total_revenue"), None);
    }
}
