//! The metric catalogue of `metrics.md`, as data: the single source of every metric's
//! key, label, category, unit, source, aggregation rule and derived formula.
use crate::expr::Expr;
use crate::vendor::{Vendor, MANUAL_VENDOR_ID};
use serde::{Deserialize, Serialize};

/// Where a metric sits in the owners' Monthly Business Review sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Operations,
    Revenue,
    Expenses,
    Profit,
    GeneralInformation,
    Sales,
    FinancialHealth,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Operations,
        Category::Revenue,
        Category::Expenses,
        Category::Profit,
        Category::GeneralInformation,
        Category::Sales,
        Category::FinancialHealth,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Operations => "Operations",
            Category::Revenue => "Revenue",
            Category::Expenses => "Expenses",
            Category::Profit => "Profit",
            Category::GeneralInformation => "General Information",
            Category::Sales => "Sales",
            Category::FinancialHealth => "Financial health",
        }
    }
}

/// How a value is measured (`pct` is a fraction: 0.2322 means 23.22 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Hours,
    Usd,
    Ratio,
    Pct,
}

impl Unit {
    /// Counts and hours can't be negative; money and ratios can.
    pub fn allows_negative(self) -> bool {
        matches!(self, Unit::Usd | Unit::Ratio | Unit::Pct)
    }
}

/// Where a metric's value comes from. In JSON: the vendor's catalogue name
/// (`connect_wise`, `ninja_one`, `quick_books`), `manual` or `derived`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Read from a vendor (typed in or imported while the vendor is not collected).
    Vendor(Vendor),
    Manual,
    Derived,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Vendor(Vendor::ConnectWise),
        Source::Vendor(Vendor::NinjaOne),
        Source::Vendor(Vendor::QuickBooks),
        Source::Manual,
        Source::Derived,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Source::Vendor(v) if v.is_collected() => v.label(),
            Source::Vendor(Vendor::QuickBooks) => "QuickBooks / manual",
            Source::Vendor(v) => v.label(),
            Source::Manual => "manual",
            Source::Derived => "derived",
        }
    }

    /// The name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Vendor(v) => v.catalogue_name(),
            Source::Manual => "manual",
            Source::Derived => "derived",
        }
    }

    /// The vendor that supplies the metric, if any.
    pub fn vendor(self) -> Option<Vendor> {
        match self {
            Source::Vendor(v) => Some(v),
            Source::Manual | Source::Derived => None,
        }
    }

    /// The `vendor_id` a value of this source is stored under: the vendor's while a
    /// collector fills it, else [`MANUAL_VENDOR_ID`] (typed in or imported).
    pub fn vendor_id(self) -> i32 {
        match self {
            Source::Vendor(v) if v.is_collected() => v.id(),
            _ => MANUAL_VENDOR_ID,
        }
    }

    /// Whether a collector writes this metric.
    pub fn is_collected(self) -> bool {
        self.vendor().is_some_and(Vendor::is_collected)
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Source::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown source '{name}'")))
    }
}

#[cfg(feature = "openapi")]
impl salvo_oapi::ToSchema for Source {
    fn to_schema(_: &mut salvo_oapi::Components) -> salvo_oapi::RefOr<salvo_oapi::schema::Schema> {
        salvo_oapi::schema::Object::new()
            .schema_type(salvo_oapi::schema::BasicType::String)
            .enum_values(Source::ALL.map(Source::as_str))
            .description("Where the metric's value comes from")
            .into()
    }
}

/// How monthly values become a quarter's or a year's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Flows: the sum of the months that have a value.
    Sum,
    /// Stocks: the average of the months that have a value.
    Avg,
    /// Balances: the value of the latest month that has one.
    Last,
    /// Derived metrics and ratios: recomputed from the aggregated inputs, never averaged.
    Recompute,
    /// `avg_monthly_expenses_prior_year`: computed from the previous calendar year.
    PriorYear,
}

/// One monthly metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    pub key: &'static str,
    pub label: &'static str,
    pub category: Category,
    pub unit: Unit,
    pub source: Source,
    pub aggregation: Aggregation,
    /// For derived metrics: how the value is computed from the same month's values.
    pub formula: Option<Expr>,
    pub description: &'static str,
    /// Other spellings of the label met in the owners' workbooks (import).
    pub aliases: &'static [&'static str],
    /// Whether the SPA's Monthly Business Review table shows a yearly Total for the row.
    pub yearly_total: bool,
}

impl MetricDef {
    /// Derived metrics are computed, never typed in (error `DERIVED_METRIC`).
    pub fn is_derived(&self) -> bool {
        self.formula.is_some()
    }

    /// Whether the value may be below zero (money may, counts and hours may not).
    pub fn allows_negative(&self) -> bool {
        self.unit.allows_negative()
    }

    /// The derived formula as text with metric keys.
    pub fn formula_text(&self) -> Option<String> {
        if self.aggregation == Aggregation::PriorYear {
            return Some("total_expenses of the previous calendar year / 12".to_string());
        }
        self.formula.map(|f| f.to_text(&|k| k.to_string()))
    }
}

use Aggregation as A;
use Category as C;
use Expr::{Div, Metric as M, Sub, Sum};
use Source as S;
/// Catalogue shorthands for the vendor sources.
const CONNECTWISE: Source = Source::Vendor(Vendor::ConnectWise);
const NINJAONE: Source = Source::Vendor(Vendor::NinjaOne);
const QUICKBOOKS: Source = Source::Vendor(Vendor::QuickBooks);
use Unit as U;

const REVENUE_PARTS: &[Expr] = &[
    M("nrr"),
    M("mrr"),
    M("orr"),
    M("product_sales"),
    M("misc_revenue"),
];
const EXPENSE_PARTS: &[Expr] = &[
    M("employee_expense"),
    M("owner_comp_taxes"),
    M("owner_comp"),
    M("product_cogs"),
    M("other_expenses"),
];
const SERVICE_REVENUE: Expr = Sum(&[M("nrr"), M("mrr")]);
const GROSS_PROFIT: Expr = Sub(&M("total_revenue"), &M("product_cogs"));

const fn metric(
    key: &'static str,
    label: &'static str,
    category: Category,
    unit: Unit,
    source: Source,
    aggregation: Aggregation,
    description: &'static str,
) -> MetricDef {
    MetricDef {
        key,
        label,
        category,
        unit,
        source,
        aggregation,
        formula: None,
        description,
        aliases: &[],
        yearly_total: matches!(aggregation, Aggregation::Sum),
    }
}

const fn derived(
    key: &'static str,
    label: &'static str,
    category: Category,
    unit: Unit,
    formula: Expr,
    description: &'static str,
) -> MetricDef {
    MetricDef {
        key,
        label,
        category,
        unit,
        source: Source::Derived,
        aggregation: Aggregation::Recompute,
        formula: Some(formula),
        description,
        aliases: &[],
        yearly_total: false,
    }
}

const fn with_aliases(mut def: MetricDef, aliases: &'static [&'static str]) -> MetricDef {
    def.aliases = aliases;
    def
}

const fn summed_total(mut def: MetricDef) -> MetricDef {
    def.yearly_total = true;
    def
}

/// Every monthly metric, in the order of the owners' sheet.
pub static METRICS: &[MetricDef] = &[
    // Operations
    metric("reactive_tickets_created", "# of Reactive Tickets Created", C::Operations, U::Count, CONNECTWISE, A::Sum,
        "Service tickets on a reactive board, without a parent, entered in the month (business time zone)."),
    metric("reactive_tickets_closed", "# of Reactive Tickets Closed", C::Operations, U::Count, CONNECTWISE, A::Sum,
        "Reactive tickets with a closed status whose closed date is in the month."),
    metric("reactive_time_spent", "Total Time on Reactive Tickets", C::Operations, U::Hours, CONNECTWISE, A::Sum,
        "Hours of time entries on reactive-board tickets (child tickets included) entered in the month."),
    metric("endpoints_managed", "# of Endpoints Managed", C::Operations, U::Count, NINJAONE, A::Avg,
        "Billable devices at the month's last daily snapshot: all but VM guests, spares and excluded organizations."),
    // Revenue
    with_aliases(metric("nrr", "Non-recurring Revenue (NRR)", C::Revenue, U::Usd, QUICKBOOKS, A::Sum,
        "Professional-services income; may be negative (credits)."), &["Non-recurring Revenue", "NRR"]),
    with_aliases(metric("mrr", "Monthly Recurring Revenue (MRR)", C::Revenue, U::Usd, QUICKBOOKS, A::Sum,
        "Managed-services income."), &["Monthly Recurring Revenue", "MRR"]),
    with_aliases(metric("orr", "Other Recurring Revenue (ORR)", C::Revenue, U::Usd, QUICKBOOKS, A::Sum,
        "Annual and other recurring income."), &["Other Recurring Revenue", "ORR"]),
    metric("product_sales", "Product Sales", C::Revenue, U::Usd, QUICKBOOKS, A::Sum,
        "Total income less NRR, MRR and ORR."),
    with_aliases(metric("misc_revenue", "Miscellaneous revenue", C::Revenue, U::Usd, QUICKBOOKS, A::Sum,
        "Other income."), &["Misc revenue", "Miscellaneous"]),
    summed_total(derived("total_revenue", "Total Revenue", C::Revenue, U::Usd, Sum(REVENUE_PARTS),
        "NRR + MRR + ORR + product sales + miscellaneous revenue.")),
    // Expenses
    metric("employee_expense", "Employee Expense", C::Expenses, U::Usd, QUICKBOOKS, A::Sum,
        "Wages, payroll taxes and benefits of employees."),
    with_aliases(metric("owner_comp_taxes", "Owner Comp to pay QTR est taxes", C::Expenses, U::Usd, S::Manual, A::Sum,
        "Owner compensation paid out for quarterly estimated taxes."), &["Owner Comp to pay quarterly est taxes"]),
    metric("owner_comp", "Owner Compensation", C::Expenses, U::Usd, S::Manual, A::Sum,
        "Owner compensation."),
    with_aliases(metric("product_cogs", "Product Cost of Goods Sold (COGS)", C::Expenses, U::Usd, QUICKBOOKS, A::Sum,
        "Cost of the products sold."), &["Product Cost of Goods Sold", "Product COGS", "COGS"]),
    metric("other_expenses", "All Other Expenses", C::Expenses, U::Usd, QUICKBOOKS, A::Sum,
        "Every other expense."),
    summed_total(derived("total_expenses", "Total Expenses", C::Expenses, U::Usd, Sum(EXPENSE_PARTS),
        "Employee expense + owner comp for taxes + owner comp + product COGS + other expenses.")),
    // Profit
    summed_total(with_aliases(derived("net_profit", "Net Profit Dollars", C::Profit, U::Usd,
        Sub(&M("total_revenue"), &M("total_expenses")),
        "Total revenue − total expenses (null unless both totals exist)."), &["Net Profit"])),
    // General information
    metric("employees", "# of Employees", C::GeneralInformation, U::Count, S::Manual, A::Avg,
        "Head count; halves allowed (8.5)."),
    metric("technical_employees", "# of Technical Employees", C::GeneralInformation, U::Count, S::Manual, A::Avg,
        "Technicians; halves allowed."),
    metric("seats_managed", "# of Seats Managed", C::GeneralInformation, U::Count, NINJAONE, A::Avg,
        "Workstations at the month's last daily snapshot: no servers, VM hosts, VM guests, spares or excluded organizations."),
    with_aliases(metric("agreements", "# of Managed Services Agreements", C::GeneralInformation, U::Count, S::Manual, A::Avg,
        "Managed-services agreements in force."), &["# of Manage Services Agreements", "# of Managed Service Agreements"]),
    // Sales
    metric("telemarketing_dials", "# of Telemarketing Dials", C::Sales, U::Count, S::Manual, A::Sum, "Outbound sales dials."),
    with_aliases(metric("first_time_appointments", "# of First Time Appointments (FTA)", C::Sales, U::Count, S::Manual, A::Sum,
        "First meetings with prospects."), &["# of First Time Appointments", "FTA"]),
    metric("prospects_to_pbr", "# of Prospects to Hit PBR", C::Sales, U::Count, S::Manual, A::Sum,
        "Prospects who reached a PBR (proposal/business review)."),
    metric("new_agreements", "# of New Agreements", C::Sales, U::Count, S::Manual, A::Sum, "Agreements signed."),
    metric("new_mrr", "New MRR", C::Sales, U::Usd, S::Manual, A::Sum, "MRR added by new agreements."),
    metric("lost_mrr", "Lost MRR", C::Sales, U::Usd, S::Manual, A::Sum, "MRR lost by cancelled agreements."),
    // Financial health
    derived("msp_turning_point", "MSP turning point", C::FinancialHealth, U::Ratio,
        Div(&SERVICE_REVENUE, &Sum(&[M("employee_expense"), M("owner_comp"), M("other_expenses")])),
        "(NRR + MRR) / (employee expense + owner comp + other expenses)."),
    summed_total(derived("service_margin", "$ Difference", C::FinancialHealth, U::Usd,
        Sub(&SERVICE_REVENUE, &Sum(&[M("employee_expense"), M("owner_comp_taxes"), M("owner_comp"), M("other_expenses")])),
        "(NRR + MRR) − (employee expense + owner comp for taxes + owner comp + other expenses).")),
    metric("cash_reserve", "Cash Reserve", C::FinancialHealth, U::Usd, S::Manual, A::Last, "Cash in the bank at month end."),
    with_aliases(metric("ar_over_90_days", "A/R > 90 days", C::FinancialHealth, U::Usd, S::Manual, A::Last,
        "Receivables older than 90 days at month end."), &["AR > 90 days", "A/R over 90 days"]),
    MetricDef {
        key: "avg_monthly_expenses_prior_year",
        label: "Ave Expenses for previous year",
        category: C::FinancialHealth,
        unit: U::Usd,
        source: S::Derived,
        aggregation: A::PriorYear,
        formula: None,
        description: "Average monthly total expenses of the previous calendar year, from stored months; typed in only where that year is not stored.",
        aliases: &["Ave Expenses for", "Ave Expenses for prior year", "Average Expenses for previous year"],
        yearly_total: false,
    },
    derived("cash_reserve_months", "Cash Reserve / Ave expenses", C::FinancialHealth, U::Ratio,
        Div(&M("cash_reserve"), &M("avg_monthly_expenses_prior_year")),
        "Months of expenses the cash reserve covers."),
    with_aliases(derived("labor_efficiency_ratio", "Labor Efficiency Ratio (> 2.0)", C::FinancialHealth, U::Ratio,
        Div(&GROSS_PROFIT, &Sum(&[M("employee_expense"), M("owner_comp")])),
        "(Total revenue − product COGS) / (employee expense + owner comp)."), &["Labor Efficiency Ratio"]),
    metric("management_labor_efficiency_ratio", "Management labor efficiency ratio", C::FinancialHealth, U::Ratio, S::Manual, A::Avg,
        "Typed in by the owners."),
    derived("gross_margin", "Gross Margin", C::FinancialHealth, U::Pct,
        Div(&GROSS_PROFIT, &M("total_revenue")), "(Total revenue − product COGS) / total revenue."),
    derived("gross_margin_per_employee", "Gross Margin per employee", C::FinancialHealth, U::Usd,
        Div(&GROSS_PROFIT, &M("employees")), "(Total revenue − product COGS) / employees."),
];

/// The catalogue entry of a key.
pub fn metric_def(key: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.key == key)
}

/// The metrics typed in or imported (not derived, not collected).
pub fn is_input(def: &MetricDef) -> bool {
    !def.is_derived() && def.aggregation != Aggregation::PriorYear
}

/// Derived metrics in dependency order (a formula only reads metrics listed before it or inputs).
pub fn derived_in_order() -> impl Iterator<Item = &'static MetricDef> {
    METRICS.iter().filter(|m| m.is_derived())
}

/// Normalizes a sheet label for tolerant matching: lower case, spaces collapsed, `#`
/// and a trailing `(XYZ)` abbreviation removed.
pub fn normalize_label(label: &str) -> String {
    let lower = label.trim().to_lowercase().replace('#', " ");
    let without_suffix = match (lower.rfind('('), lower.ends_with(')')) {
        (Some(i), true) => lower[..i].to_string(),
        _ => lower,
    };
    let cleaned: String = without_suffix
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '$' || c == '/' || c == '>' {
                c
            } else {
                ' '
            }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds a metric by its label or one of its aliases, tolerantly (case, spacing, `#`, `(NRR)` suffixes).
pub fn metric_by_label(label: &str) -> Option<&'static MetricDef> {
    let wanted = normalize_label(label);
    if wanted.is_empty() {
        return None;
    }
    METRICS.iter().find(|m| {
        normalize_label(m.label) == wanted
            || m.key == wanted
            || m.aliases.iter().any(|a| normalize_label(a) == wanted)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_unique_and_snake_case() {
        for (i, m) in METRICS.iter().enumerate() {
            assert!(
                m.key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                m.key
            );
            assert!(
                METRICS[i + 1..].iter().all(|o| o.key != m.key),
                "duplicate {}",
                m.key
            );
        }
    }

    #[test]
    fn derived_formulas_only_read_earlier_metrics() {
        for (i, m) in METRICS.iter().enumerate() {
            if let Some(f) = m.formula {
                for input in f.inputs() {
                    let pos = METRICS.iter().position(|o| o.key == input).unwrap();
                    assert!(pos < i, "{} reads {} which comes later", m.key, input);
                }
            }
        }
    }

    #[test]
    fn labels_match_tolerantly() {
        assert_eq!(
            metric_by_label("Non-recurring Revenue (NRR)").unwrap().key,
            "nrr"
        );
        assert_eq!(
            metric_by_label("non-recurring  revenue").unwrap().key,
            "nrr"
        );
        assert_eq!(
            metric_by_label("# of Manage Services Agreements")
                .unwrap()
                .key,
            "agreements"
        );
        assert_eq!(
            metric_by_label("of reactive tickets created").unwrap().key,
            "reactive_tickets_created"
        );
        assert_eq!(
            metric_by_label("  Total Revenue ").unwrap().key,
            "total_revenue"
        );
        assert_eq!(
            metric_by_label("A/R > 90 days").unwrap().key,
            "ar_over_90_days"
        );
        assert!(metric_by_label("Operations").is_none());
        assert!(metric_by_label("").is_none());
    }

    #[test]
    fn money_may_be_negative_counts_may_not() {
        assert!(metric_def("nrr").unwrap().allows_negative());
        assert!(!metric_def("reactive_time_spent").unwrap().allows_negative());
        assert!(!metric_def("employees").unwrap().allows_negative());
    }
}
