//! Derived metrics of a month and aggregation of months into quarters and years
//! (`metrics.md`: sum for flows, average for stocks, last for balances, ratios recomputed).
use crate::catalogue::{metric_def, Aggregation, METRICS};
use crate::expr::{EvalContext, Values};

pub use crate::expr::Values as MetricValues;

/// Key of the one metric whose value comes from another year's stored months.
pub const PRIOR_YEAR_AVG_EXPENSES: &str = "avg_monthly_expenses_prior_year";

/// Longest note kept with a value (manual entry and import), in characters.
pub const MAX_NOTES: usize = 2000;

/// Computes every derived metric of one set of input values (a month, or the
/// aggregated inputs of a quarter or year) and returns inputs and derived together.
///
/// `prior_year_avg_expenses` is the previous calendar year's average monthly total
/// expenses when that year is stored; otherwise a typed-in value of
/// `avg_monthly_expenses_prior_year` in `inputs` (if any) is kept.
pub fn with_derived(inputs: &Values, prior_year_avg_expenses: Option<f64>) -> Values {
    let mut all: Values = inputs
        .iter()
        .filter(|(k, _)| metric_def(k).is_some_and(|d| !d.is_derived()))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if let Some(avg) = prior_year_avg_expenses {
        all.insert(PRIOR_YEAR_AVG_EXPENSES.to_string(), avg);
    }
    for def in METRICS.iter() {
        if let Some(formula) = def.formula {
            match formula.evaluate(&all, EvalContext::default()).value {
                Some(v) => all.insert(def.key.to_string(), v),
                None => all.remove(def.key),
            };
        }
    }
    all
}

/// Only the derived part of [`with_derived`]: what a write stores with data_source `calculated`.
pub fn derived_only(inputs: &Values, prior_year_avg_expenses: Option<f64>) -> Values {
    with_derived(inputs, prior_year_avg_expenses)
        .into_iter()
        .filter(|(k, _)| {
            metric_def(k).is_some_and(|d| d.is_derived())
                || (k == PRIOR_YEAR_AVG_EXPENSES && prior_year_avg_expenses.is_some())
        })
        .collect()
}

/// Aggregates the input values of consecutive months (oldest first) by each metric's
/// rule. Derived metrics are not aggregated here: call [`with_derived`] on the result.
pub fn aggregate_inputs(months: &[&Values]) -> Values {
    let mut out = Values::new();
    for def in METRICS.iter().filter(|d| !d.is_derived()) {
        let present: Vec<f64> = months
            .iter()
            .filter_map(|m| m.get(def.key).copied())
            .collect();
        let Some(last) = present.last().copied() else {
            continue;
        };
        let value = match def.aggregation {
            Aggregation::Sum => present.iter().sum(),
            Aggregation::Avg => present.iter().sum::<f64>() / present.len() as f64,
            Aggregation::Last | Aggregation::PriorYear | Aggregation::Recompute => last,
        };
        out.insert(def.key.to_string(), value);
    }
    out
}

/// The average monthly total expenses of a year's stored months (`None` if no month
/// of that year has expenses). A full year gives total ÷ 12.
pub fn average_monthly_expenses(year_months: &[&Values]) -> Option<f64> {
    let totals: Vec<f64> = year_months
        .iter()
        .filter_map(|m| with_derived(m, None).get("total_expenses").copied())
        .collect();
    (!totals.is_empty()).then(|| totals.iter().sum::<f64>() / totals.len() as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vals(pairs: &[(&str, f64)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn january_2025_totals() {
        let jan = vals(&[
            ("nrr", -2044.0),
            ("mrr", 109682.0),
            ("orr", 28180.0),
            ("product_sales", 16476.0),
            ("employee_expense", 38742.0),
            ("owner_comp_taxes", 5000.0),
            ("owner_comp", 22588.0),
            ("product_cogs", 21126.0),
            ("other_expenses", 50043.0),
        ]);
        let all = with_derived(&jan, None);
        assert_eq!(all["total_revenue"], 152294.0);
        assert_eq!(all["total_expenses"], 137499.0);
        assert_eq!(all["net_profit"], 14795.0);
    }

    #[test]
    fn a_sum_with_no_part_is_absent_and_net_profit_needs_both_totals() {
        let only_revenue = vals(&[("mrr", 100.0)]);
        let all = with_derived(&only_revenue, None);
        assert_eq!(all["total_revenue"], 100.0);
        assert!(!all.contains_key("total_expenses"));
        assert!(!all.contains_key("net_profit"));
    }

    #[test]
    fn aggregation_rules() {
        let a = vals(&[
            ("reactive_tickets_created", 10.0),
            ("endpoints_managed", 100.0),
            ("cash_reserve", 5.0),
        ]);
        let b = vals(&[("reactive_tickets_created", 20.0), ("cash_reserve", 7.0)]);
        let c = vals(&[
            ("reactive_tickets_created", 30.0),
            ("endpoints_managed", 200.0),
        ]);
        let q = aggregate_inputs(&[&a, &b, &c]);
        assert_eq!(q["reactive_tickets_created"], 60.0);
        assert_eq!(
            q["endpoints_managed"], 150.0,
            "average of the months that have a value"
        );
        assert_eq!(q["cash_reserve"], 7.0, "last month that has a value");
        assert!(!q.contains_key("employees"));
    }

    #[test]
    fn prior_year_average_overrides_a_typed_value_and_feeds_cash_reserve_months() {
        let m = vals(&[("cash_reserve", 300.0), (PRIOR_YEAR_AVG_EXPENSES, 50.0)]);
        assert_eq!(with_derived(&m, None)["cash_reserve_months"], 6.0);
        assert_eq!(with_derived(&m, Some(100.0))["cash_reserve_months"], 3.0);
        let year: Vec<Values> = (0..12)
            .map(|i| vals(&[("other_expenses", 100.0 + f64::from(i))]))
            .collect();
        let refs: Vec<&Values> = year.iter().collect();
        assert!((average_monthly_expenses(&refs).unwrap() - 105.5).abs() < 1e-9);
    }

    mod props {
        #![allow(clippy::unwrap_used)]
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn sum_aggregation_equals_the_sum_of_monthly_totals(months in proptest::collection::vec((-1e6f64..1e6, 0f64..1e6, proptest::option::of(0f64..1e5)), 1..12)) {
                let vs: Vec<Values> = months.iter().map(|(nrr, mrr, misc)| {
                    let mut v = vals(&[("nrr", *nrr), ("mrr", *mrr)]);
                    if let Some(x) = misc { v.insert("misc_revenue".into(), *x); }
                    v
                }).collect();
                let refs: Vec<&Values> = vs.iter().collect();
                let agg = with_derived(&aggregate_inputs(&refs), None);
                let monthly: f64 = vs.iter().map(|v| with_derived(v, None)["total_revenue"]).sum();
                prop_assert!((agg["total_revenue"] - monthly).abs() < 1e-6 * (1.0 + monthly.abs()));
            }

            #[test]
            fn avg_aggregation_lies_between_min_and_max(xs in proptest::collection::vec(proptest::option::of(0f64..1e4), 1..12)) {
                let vs: Vec<Values> = xs.iter().map(|x| x.map(|x| vals(&[("employees", x)])).unwrap_or_default()).collect();
                let refs: Vec<&Values> = vs.iter().collect();
                let agg = aggregate_inputs(&refs);
                let present: Vec<f64> = xs.iter().flatten().copied().collect();
                match agg.get("employees") {
                    None => prop_assert!(present.is_empty()),
                    Some(avg) => {
                        let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        prop_assert!(*avg >= lo - 1e-9 && *avg <= hi + 1e-9);
                    }
                }
            }
        }
    }
}
