//! A QuickBooks report becomes a collection run: its accounts are mapped to metrics
//! (`qbr_shared::quickbooks`), each month checked against the report's totals, and the
//! values written like every collector's (manual and imported values kept, closed
//! months frozen with drift), with the report kept beside them, all in one transaction.
//! A mapping change replays the stored reports the same way.
use super::customers::CustomerSales;
use super::QuickBooksSettings;
use crate::collect::collector::{BooksReading, Reading};
use crate::collect::run::{self, RunError, RunOptions, RunReport};
use crate::collect::VendorChoice;
use crate::db::{tenant, DbPool};
use crate::store::org::Org;
use crate::store::quickbooks as store;
use chrono::{Datelike, NaiveDate};
use qbr_shared::collection::{Flag, Trigger};
use qbr_shared::quickbooks::{map_report, Mapping, PnlReport, Side, Target};
use qbr_shared::{Month, Vendor};
use std::collections::{BTreeMap, BTreeSet};

/// What QuickBooks said in one sync.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub source: store::Source,
    pub report: PnlReport,
    pub raw: String,
    pub active_employees: Option<u32>,
    pub closing_date: Option<NaiveDate>,
    /// Sales by customer over the report's months (revenue per client), when asked.
    pub customer_sales: Option<CustomerSales>,
}

/// The last month the books have closed: the month of QuickBooks' closing date when it
/// is the month's last day (else the month before), or `closed_after_months` back.
pub fn closed_through(closing_date: Option<NaiveDate>, current: Month, closed_after: u32) -> Month {
    match closing_date {
        Some(d) => {
            let month = Month::from_date(d);
            let last_day = month.next().first_day().pred_opt().unwrap_or(d);
            if d >= last_day {
                month
            } else {
                month.prev()
            }
        }
        None => current.add_months(-i32::try_from(closed_after).unwrap_or(2)),
    }
}

/// The metrics each side's accounts feed (every month of `report`), under `mappings`.
fn fed_metrics(report: &PnlReport, mappings: &BTreeMap<String, Mapping>) -> BTreeSet<&'static str> {
    report
        .accounts
        .iter()
        .filter_map(|a| qbr_shared::quickbooks::resolve(&a.full_name, a.section, mappings).0)
        .filter_map(|t| match t {
            Target::Metric(m) => Some(m),
            Target::Ignore => None,
        })
        .collect()
}

/// The revenue or expense side a metric belongs to.
fn side_of(metric: &str) -> Side {
    match metric {
        "nrr" | "mrr" | "orr" | "product_sales" | "misc_revenue" => Side::Income,
        _ => Side::Expenses,
    }
}

/// A month's value of a metric.
type MonthValue = (Month, &'static str, f64);
/// A flag on a month's value of a metric.
type MonthFlag = (Month, &'static str, Flag);

/// The reading of `report`'s months (those not after `current`) under `mappings`:
/// every metric an account feeds gets a value in every month (zero when its accounts
/// had nothing), and metrics only `previous` mappings fed get zero, so a mapping that
/// moves an account away leaves no stale value behind.
pub fn reading(
    report: &PnlReport,
    mappings: &BTreeMap<String, Mapping>,
    previous: Option<&BTreeMap<String, Mapping>>,
    current: Month,
) -> (Vec<MonthValue>, Vec<MonthFlag>) {
    let mapped = map_report(report, mappings);
    let mut metrics = fed_metrics(report, mappings);
    if let Some(previous) = previous {
        metrics.extend(fed_metrics(report, previous));
    }
    let mut values = Vec::new();
    let mut flags = Vec::new();
    for month in report.months.iter().filter(|m| **m <= current) {
        let unreconciled: Vec<Side> = mapped
            .unreconciled
            .iter()
            .filter(|u| u.period == month.to_string())
            .map(|u| u.side)
            .collect();
        for metric in &metrics {
            let value = mapped
                .values
                .get(&(*month, *metric))
                .copied()
                .unwrap_or(0.0);
            values.push((*month, *metric, value));
            if unreconciled.contains(&side_of(metric)) {
                flags.push((*month, *metric, Flag::Unreconciled));
            }
        }
    }
    (values, flags)
}

/// Stores what a sync delivered, as one collection run (trigger `web_connector` for
/// QuickBooks Desktop).
pub async fn store_delivery(
    pool: &DbPool,
    org: &Org,
    settings: &QuickBooksSettings,
    delivery: Delivery,
    trigger: Trigger,
) -> Result<RunReport, RunError> {
    let failed = |e: anyhow::Error| RunError::Failed(e);
    let current = org.current_month(chrono::Utc::now());
    let mappings = {
        let mut conn = tenant::checkout(pool, org.id)
            .await
            .map_err(|e| failed(e.into()))?;
        store::mappings(&mut conn, org.id)
            .await
            .map_err(|e| failed(e.into()))?
    };
    let months = months_of(&delivery.report, current).ok_or_else(|| {
        failed(anyhow::anyhow!(
            "the QuickBooks report has no month up to {current}"
        ))
    })?;
    let (mut values, flags) = reading(&delivery.report, &mappings, None, current);
    if let Some(n) = delivery.active_employees {
        values.push((current, "employees", f64::from(n)));
    }
    let unreconciled = map_report(&delivery.report, &mappings).unreconciled;
    let closed = closed_through(delivery.closing_date, current, settings.closed_after_months);
    let clients = delivery
        .customer_sales
        .as_ref()
        .map(|sales| sales.client_reading(current, Some(closed)));
    let reading = Reading {
        values,
        flags,
        closed_through: Some(closed),
        clients,
        books: Some(BooksReading {
            source: delivery.source,
            report: delivery.report,
            raw: delivery.raw,
            active_employees: delivery.active_employees,
            closing_date: delivery.closing_date,
            unreconciled,
        }),
        ..Reading::default()
    };
    let opts = options(org, trigger, months, false);
    run::run_delivered(pool, &opts, vec![(Vendor::QuickBooks, reading)]).await
}

/// The first and last month of `report` that are not after `current`.
fn months_of(report: &PnlReport, current: Month) -> Option<(Month, Month)> {
    let first = *report.months.iter().min()?;
    let last = report.months.iter().filter(|m| **m <= current).max()?;
    Some((first, *last))
}

fn options(org: &Org, trigger: Trigger, months: (Month, Month), force: bool) -> RunOptions {
    RunOptions {
        organization_id: org.id,
        trigger,
        vendors: VendorChoice::Only(Vendor::QuickBooks),
        months: Some(months),
        force,
        dry_run: false,
    }
}

/// How many stored reports a replay reads (each month from the newest that has it).
const REPLAYED_REPORTS: i64 = 120;

/// Maps the stored reports again after a mapping change (from `previous` to the
/// mappings now stored): each month from the newest report that has it. Closed months
/// are re-derived too (a mapping change is a deliberate reclassification); manual and
/// imported values stay. `None` when no report is stored yet.
pub async fn replay(
    pool: &DbPool,
    org: &Org,
    previous: &BTreeMap<String, Mapping>,
) -> Result<Option<RunReport>, RunError> {
    let failed = |e: anyhow::Error| RunError::Failed(e);
    let current = org.current_month(chrono::Utc::now());
    let (syncs, mappings) = {
        let mut conn = tenant::checkout(pool, org.id)
            .await
            .map_err(|e| failed(e.into()))?;
        let syncs = store::syncs(&mut conn, org.id, REPLAYED_REPORTS)
            .await
            .map_err(|e| failed(e.into()))?;
        let mappings = store::mappings(&mut conn, org.id)
            .await
            .map_err(|e| failed(e.into()))?;
        (syncs, mappings)
    };
    let mut covered: BTreeSet<Month> = BTreeSet::new();
    let mut values = Vec::new();
    let mut flags = Vec::new();
    for sync in &syncs {
        let fresh: Vec<Month> = sync
            .report
            .months
            .iter()
            .copied()
            .filter(|m| *m <= current && !covered.contains(m))
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let (v, f) = reading(&sync.report, &mappings, Some(previous), current);
        values.extend(v.into_iter().filter(|(m, _, _)| fresh.contains(m)));
        flags.extend(f.into_iter().filter(|(m, _, _)| fresh.contains(m)));
        covered.extend(fresh);
    }
    let (Some(first), Some(last)) = (covered.first(), covered.last()) else {
        return Ok(None);
    };
    let reading = Reading {
        values,
        flags,
        ..Reading::default()
    };
    let opts = options(org, Trigger::Remap, (*first, *last), true);
    run::run_delivered(pool, &opts, vec![(Vendor::QuickBooks, reading)])
        .await
        .map(Some)
}

/// The first day of the month `months_back` before `current` and the last day of
/// `current`: the range a sync asks QuickBooks for.
pub fn report_range(
    current: Month,
    from: Option<Month>,
    months_back: i32,
) -> (NaiveDate, NaiveDate) {
    let from = from.unwrap_or_else(|| current.add_months(-months_back));
    let to = current
        .next()
        .first_day()
        .pred_opt()
        .unwrap_or(current.first_day());
    (from.first_day(), to)
}

/// A date's month as `YYYY-MM` (for messages).
pub fn month_label(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn the_books_close_at_the_closing_date_or_two_months_back() {
        let now = month("2025-12");
        assert_eq!(closed_through(None, now, 2), month("2025-10"));
        assert_eq!(
            closed_through(Some(date("2025-09-30")), now, 2),
            month("2025-09")
        );
        assert_eq!(
            closed_through(Some(date("2025-09-15")), now, 2),
            month("2025-08")
        );
        assert_eq!(
            closed_through(Some(date("2024-12-31")), now, 2),
            month("2024-12")
        );
    }

    #[test]
    fn a_report_range_is_thirteen_months_or_from_a_backfill() {
        let (from, to) = report_range(month("2025-02"), None, 12);
        assert_eq!((from, to), (date("2024-02-01"), date("2025-02-28")));
        let (from, _) = report_range(month("2025-02"), Some(month("2023-01")), 12);
        assert_eq!(from, date("2023-01-01"));
    }
}
