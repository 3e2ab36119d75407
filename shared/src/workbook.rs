//! The layout of the owners' "Monthly Business Review" sheet (`workbook.md`), shared by
//! the SPA's table and the exports: sections, row order, month headers, yearly totals
//! and the previous-year comparison rows.
use crate::catalogue::{Category, MetricDef, METRICS};

/// The owners' own spellings of the month headers.
pub const MONTH_HEADERS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "June", "July", "August", "Sept", "Oct", "Nov", "Dec",
];

/// Rows followed by the previous year's row (in italics) for comparison.
pub const COMPARED_WITH_PREVIOUS_YEAR: [&str; 3] =
    ["total_revenue", "total_expenses", "net_profit"];

/// One section of the sheet with its metric rows, in catalogue order.
pub struct Section {
    pub category: Category,
    pub rows: Vec<&'static MetricDef>,
}

/// The sheet's sections in order, each with its rows.
pub fn sections() -> Vec<Section> {
    Category::ALL
        .iter()
        .map(|&category| Section {
            category,
            rows: METRICS.iter().filter(|m| m.category == category).collect(),
        })
        .collect()
}

/// Whether the row's label is right-aligned in the sheet (the totals rows).
pub fn is_total_row(key: &str) -> bool {
    matches!(key, "total_revenue" | "total_expenses")
}

/// The `Total` column of a row: the sum of the months that have a value for rows with a
/// yearly total (flows), `None` for the others (stocks, balances, ratios) and
/// for a row without any value (empty months are "no value", never 0).
pub fn year_total(def: &MetricDef, values: &[Option<f64>]) -> Option<f64> {
    if !def.yearly_total {
        return None;
    }
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        None
    } else {
        Some(present.iter().sum())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalogue::metric_def;

    #[test]
    fn sections_cover_the_catalogue_in_order() {
        let s = sections();
        assert_eq!(s.len(), 7);
        assert_eq!(s[0].category, Category::Operations);
        assert_eq!(s[0].rows[0].key, "reactive_tickets_created");
        let total: usize = s.iter().map(|s| s.rows.len()).sum();
        assert_eq!(total, METRICS.len());
        assert!(s[1].rows.iter().any(|r| r.key == "total_revenue"));
    }

    #[test]
    fn totals_sum_money_and_skip_counts() {
        let mrr = metric_def("mrr").unwrap();
        assert_eq!(
            year_total(mrr, &[Some(100.0), None, Some(50.5)]),
            Some(150.5)
        );
        assert_eq!(year_total(mrr, &[None, None]), None);
        let employees = metric_def("employees").unwrap();
        assert_eq!(year_total(employees, &[Some(8.0), Some(8.5)]), None);
        let net = metric_def("net_profit").unwrap();
        assert_eq!(year_total(net, &[Some(-10.0), Some(30.0)]), Some(20.0));
        let cash = metric_def("cash_reserve").unwrap();
        assert_eq!(year_total(cash, &[Some(1.0)]), None);
        assert!(is_total_row("total_revenue"));
        assert_eq!(MONTH_HEADERS[5], "June");
    }
}
