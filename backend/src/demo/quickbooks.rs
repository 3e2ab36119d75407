//! The demo's QuickBooks Desktop books: one profit-and-loss report of the last 13
//! months, as the Web Connector would have sent it, so the Settings → QuickBooks page
//! has accounts, mappings and a warning to show. Its accounts add up to the demo's
//! revenue and expense values (the parts are whole-dollar shares of them); it is only
//! kept beside them, never written as values.
//!
//! What it shows:
//! - nested accounts: `Managed Services:Backup` follows its parent's own mapping, the
//!   `Payroll Expenses` and `Owner Compensation` sub-accounts;
//! - a refund: `Professional Services:Refunds`, negative in two months;
//! - own mappings: the owners' pay (which the default rule would call other
//!   expenses) and `Depreciation`, ignored with a reason;
//! - `Grant Income`, which no default rule maps: two months don't reconcile and the
//!   page asks for a mapping.
use super::DemoValue;
use crate::store::quickbooks::{self as store, NewSync, Source};
use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::quickbooks::{map_report, Mapping, PnlAccount, PnlReport, Section, Target};
use qbr_shared::Month;
use std::collections::BTreeMap;

/// How many months the report covers, the current one included.
const REPORT_MONTHS: i32 = 13;

/// Months before `current` with a refund to a project client, and its amount.
const REFUNDS: [(i32, f64); 2] = [(2, 350.0), (7, 1_200.0)];
/// Months before `current` in which a state workforce grant paid out.
const GRANTS: [(i32, f64); 2] = [(0, 4_000.0), (3, 2_000.0)];

/// The accounts the owners mapped themselves.
pub fn mappings() -> Vec<(String, Mapping)> {
    let own = |account: &str, target: Target, reason: Option<&str>| {
        (
            account.to_string(),
            Mapping {
                target,
                reason: reason.map(str::to_string),
            },
        )
    };
    vec![
        own("Managed Services", Target::Metric("mrr"), None),
        own("Owner Compensation", Target::Metric("owner_comp"), None),
        own(
            "Owner Compensation:Estimated Taxes",
            Target::Metric("owner_comp_taxes"),
            None,
        ),
        own(
            "Depreciation",
            Target::Ignore,
            Some("Non-cash; the owners' sheet leaves it out"),
        ),
    ]
}

/// `value` split in a whole-dollar share and the rest.
fn split(value: f64, share: f64) -> (f64, f64) {
    let part = (value * share).round();
    (part, value - part)
}

/// The report of the 13 months ending with `current`, built from the demo's values of
/// those months.
pub fn report(values: &[DemoValue], current: Month) -> PnlReport {
    let months: Vec<Month> = (0..REPORT_MONTHS)
        .rev()
        .map(|k| current.add_months(-k))
        .collect();
    let mut accounts: Vec<PnlAccount> = Vec::new();
    let mut add = |name: &str, section: Section, month: usize, amount: f64| {
        let i = match accounts.iter().position(|a| a.full_name == name) {
            Some(i) => i,
            None => {
                accounts.push(PnlAccount {
                    full_name: name.to_string(),
                    section,
                    amounts: vec![0.0; months.len()],
                });
                accounts.len() - 1
            }
        };
        accounts[i].amounts[month] = amount;
    };
    for (i, month) in months.iter().enumerate() {
        let k = month.months_until(current);
        let v = |metric: &str| {
            values
                .iter()
                .find(|d| d.month == *month && d.metric == metric)
                .map_or(0.0, |d| d.value)
        };
        let at = |list: &[(i32, f64)]| list.iter().find(|(m, _)| *m == k).map_or(0.0, |x| x.1);

        // Income.
        let (backup, agreements) = split(v("mrr"), 0.12);
        add("Managed Services", Section::Income, i, agreements);
        add("Managed Services:Backup", Section::Income, i, backup);
        let refund = at(&REFUNDS);
        add(
            "Professional Services",
            Section::Income,
            i,
            v("nrr") + refund,
        );
        add("Professional Services:Refunds", Section::Income, i, -refund);
        add("Annual Subscriptions", Section::Income, i, v("orr"));
        add("Hardware Sales", Section::Income, i, v("product_sales"));
        add("Grant Income", Section::Income, i, at(&GRANTS));
        add("Vendor Rebates", Section::OtherIncome, i, v("misc_revenue"));

        // Cost of goods sold and expenses.
        add(
            "Cost of Goods Sold",
            Section::CostOfGoodsSold,
            i,
            v("product_cogs"),
        );
        let (benefits, wages) = split(v("employee_expense"), 0.14);
        add("Payroll Expenses", Section::Expense, i, 0.0);
        add("Payroll Expenses:Wages", Section::Expense, i, wages);
        add(
            "Payroll Expenses:Employee Benefits",
            Section::Expense,
            i,
            benefits,
        );
        add("Owner Compensation", Section::Expense, i, v("owner_comp"));
        add(
            "Owner Compensation:Estimated Taxes",
            Section::Expense,
            i,
            v("owner_comp_taxes"),
        );
        let interest = 150.0;
        let (software, rest) = split(v("other_expenses") - interest, 0.35);
        add("Rent", Section::Expense, i, 4_800.0);
        add("Software Licenses", Section::Expense, i, software);
        add(
            "Office and Administration",
            Section::Expense,
            i,
            rest - 4_800.0,
        );
        add("Interest Expense", Section::OtherExpense, i, interest);
        add("Depreciation", Section::OtherExpense, i, 600.0);
    }
    // QuickBooks' own total of each section.
    let mut totals: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for a in &accounts {
        let t = totals
            .entry(a.section.as_str().to_string())
            .or_insert_with(|| vec![0.0; months.len()]);
        for (sum, amount) in t.iter_mut().zip(&a.amounts) {
            *sum += amount;
        }
    }
    PnlReport {
        months,
        accounts,
        totals,
    }
}

/// Stores the accounts, the owners' mappings and the report (received an hour ago).
pub async fn load(
    conn: &mut AsyncPgConnection,
    org: i32,
    values: &[DemoValue],
    current: Month,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let report = report(values, current);
    let mappings = mappings();
    let seen: Vec<(&str, Section)> = report
        .accounts
        .iter()
        .map(|a| (a.full_name.as_str(), a.section))
        .collect();
    let received = now - TimeDelta::hours(1);
    store::accounts_seen(conn, org, &seen, received).await?;
    let changes: Vec<(String, Option<Mapping>)> = mappings
        .iter()
        .map(|(a, m)| (a.clone(), Some(m.clone())))
        .collect();
    store::set_mappings(conn, org, &changes, "demo").await?;
    let unreconciled = map_report(&report, &mappings.into_iter().collect()).unreconciled;
    let sync = NewSync {
        source: Source::Desktop,
        report: &report,
        raw: "(demo: no qbXML)",
        active_employees: None,
        closing_date: None,
        unreconciled: &unreconciled,
        run_id: None,
        now: received,
    };
    store::record_sync(conn, org, sync).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::demo::demo_values;
    use qbr_shared::quickbooks::Side;

    #[test]
    fn the_mapped_report_gives_the_demo_values_and_flags_the_grant() {
        let current: Month = "2026-11".parse().unwrap();
        let values = demo_values(current);
        let report = report(&values, current);
        assert_eq!(report.months.len(), 13);
        let mapped = map_report(&report, &mappings().into_iter().collect());
        for (month, metric) in mapped.values.keys() {
            let demo = values
                .iter()
                .find(|d| d.month == *month && d.metric == *metric)
                .map_or(0.0, |d| d.value);
            assert_eq!(mapped.values[&(*month, *metric)], demo, "{month} {metric}");
        }
        // Only the grant's months don't add up, on the income side.
        let off: Vec<(String, Side, Vec<String>)> = mapped
            .unreconciled
            .iter()
            .map(|u| (u.period.clone(), u.side, u.unmapped_accounts.clone()))
            .collect();
        let grant = vec!["Grant Income".to_string()];
        assert_eq!(
            off,
            vec![
                ("2026-08".into(), Side::Income, grant.clone()),
                ("2026-11".into(), Side::Income, grant),
            ]
        );
        // A refund, and nested accounts.
        let refunds = report
            .accounts
            .iter()
            .find(|a| a.full_name == "Professional Services:Refunds")
            .unwrap();
        assert!(refunds.amounts.iter().any(|a| *a < 0.0));
    }
}
