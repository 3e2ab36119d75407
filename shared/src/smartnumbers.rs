//! The 18 SmartNumbers of `smartnumbers.md`: definitions and computation.
use crate::catalogue::{metric_def, Unit};
use crate::expr::{EvalContext, Expr, Values};
use crate::thresholds::{Bands, Status};
use crate::{Period, PeriodKind};
use serde::{Deserialize, Serialize};

/// The five sections of the dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub enum SmartCategory {
    Operations,
    Profit,
    Revenue,
    Leverage,
    Sales,
}

impl SmartCategory {
    pub const ALL: [SmartCategory; 5] = [
        SmartCategory::Operations,
        SmartCategory::Profit,
        SmartCategory::Revenue,
        SmartCategory::Leverage,
        SmartCategory::Sales,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SmartCategory::Operations => "Operations",
            SmartCategory::Profit => "Profit",
            SmartCategory::Revenue => "Revenue",
            SmartCategory::Leverage => "Leverage",
            SmartCategory::Sales => "Sales",
        }
    }
}

/// Which way is better for a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
    /// Best inside the green band, worse on both sides.
    Range,
}

/// One SmartNumber.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmartNumberDef {
    pub key: &'static str,
    pub label: &'static str,
    pub category: SmartCategory,
    pub unit: Unit,
    pub better: Better,
    pub formula: Expr,
    /// #14–#16 are judged for quarters (and years) only.
    pub quarters_only: bool,
}

impl SmartNumberDef {
    /// The number's status in `period`: #14–#16 are judged for quarters and years only;
    /// without bands or a value there is nothing to judge.
    pub fn judge(&self, period: &Period, bands: Option<&Bands>, value: Option<f64>) -> Status {
        if self.quarters_only && period.kind() == PeriodKind::Month {
            return Status::None;
        }
        bands.map_or(Status::None, |b| b.status(value))
    }

    /// Whether moving from `before` to `after` is better, by the number's direction
    /// (for a range, closer to the middle of the green band); `None` when unchanged or
    /// when a range number has no closed green band.
    pub fn improved(&self, bands: Option<&Bands>, before: f64, after: f64) -> Option<bool> {
        if (after - before).abs() < 1e-12 {
            return None;
        }
        match self.better {
            Better::Higher => Some(after > before),
            Better::Lower => Some(after < before),
            Better::Range => bands
                .and_then(Bands::green_target)
                .map(|t| (after - t).abs() < (before - t).abs()),
        }
    }
}

use Expr::{Const, Div, Metric as M, Months, Mul, Sub, Sum, WorkingHours};

const SERVICE_REVENUE: Expr = Sum(&[M("nrr"), M("mrr")]);
const RECURRING_SERVICE_REVENUE: Expr = Sum(&[M("nrr"), M("mrr"), M("orr")]);
const ANNUALIZE: Expr = Div(&Const(12.0), &Months);

const fn def(
    key: &'static str,
    label: &'static str,
    category: SmartCategory,
    unit: Unit,
    better: Better,
    formula: Expr,
) -> SmartNumberDef {
    SmartNumberDef {
        key,
        label,
        category,
        unit,
        better,
        formula,
        quarters_only: false,
    }
}

const fn quarterly(mut d: SmartNumberDef) -> SmartNumberDef {
    d.quarters_only = true;
    d
}

use Better::{Higher, Lower, Range};
use SmartCategory as SC;

/// The 18 SmartNumbers, in the order of `smartnumbers.md`.
pub static SMARTNUMBERS: &[SmartNumberDef] = &[
    def(
        "tickets_per_tech_per_month",
        "Tickets / Tech / Month",
        SC::Operations,
        Unit::Count,
        Range,
        Div(
            &Div(&M("reactive_tickets_closed"), &M("technical_employees")),
            &Months,
        ),
    ),
    def(
        "total_close_pct",
        "Total Close %",
        SC::Operations,
        Unit::Pct,
        Range,
        Div(
            &M("reactive_tickets_closed"),
            &M("reactive_tickets_created"),
        ),
    ),
    def(
        "tickets_per_endpoint_per_month",
        "Tickets / Endpoint / Month",
        SC::Operations,
        Unit::Count,
        Lower,
        Div(
            &Div(&M("reactive_tickets_created"), &Months),
            &M("endpoints_managed"),
        ),
    ),
    def(
        "rhem",
        "RHEM (Reactive Hours / Endpoint / Month)",
        SC::Operations,
        Unit::Hours,
        Lower,
        Div(
            &Div(&M("reactive_time_spent"), &M("endpoints_managed")),
            &Months,
        ),
    ),
    def(
        "avg_resolution_time",
        "Average Resolution Time",
        SC::Operations,
        Unit::Hours,
        Lower,
        Div(&M("reactive_time_spent"), &M("reactive_tickets_closed")),
    ),
    def(
        "reactive_service_pct",
        "Reactive Service %",
        SC::Operations,
        Unit::Pct,
        Lower,
        Div(
            &Div(&M("reactive_time_spent"), &Months),
            &Mul(&M("technical_employees"), &WorkingHours),
        ),
    ),
    def(
        "net_profit_pct",
        "Net Profit %",
        SC::Profit,
        Unit::Pct,
        Higher,
        Div(&M("net_profit"), &M("total_revenue")),
    ),
    def(
        "revenue_from_services_pct",
        "% of Revenue from Services",
        SC::Revenue,
        Unit::Pct,
        Higher,
        Div(&SERVICE_REVENUE, &M("total_revenue")),
    ),
    def(
        "services_from_mrr_pct",
        "% of Services from MRR",
        SC::Revenue,
        Unit::Pct,
        Higher,
        Div(&M("mrr"), &SERVICE_REVENUE),
    ),
    def(
        "annual_service_rev_per_employee",
        "Annual Service Revenue / Employee",
        SC::Leverage,
        Unit::Usd,
        Higher,
        Mul(
            &Div(&RECURRING_SERVICE_REVENUE, &M("employees")),
            &ANNUALIZE,
        ),
    ),
    def(
        "annual_service_rev_per_tech",
        "Annual Service Revenue / Technical Employee",
        SC::Leverage,
        Unit::Usd,
        Higher,
        Mul(
            &Div(&RECURRING_SERVICE_REVENUE, &M("technical_employees")),
            &ANNUALIZE,
        ),
    ),
    def(
        "avg_aisp",
        "Average AISP (MRR / Seat / Month)",
        SC::Leverage,
        Unit::Usd,
        Higher,
        Div(&Div(&M("mrr"), &M("seats_managed")), &Months),
    ),
    def(
        "avg_mrr_per_agreement",
        "Average MRR / Agreement",
        SC::Leverage,
        Unit::Usd,
        Higher,
        Div(&Div(&M("mrr"), &M("agreements")), &Months),
    ),
    quarterly(def(
        "new_mrr_added",
        "New MRR Added",
        SC::Sales,
        Unit::Usd,
        Higher,
        M("new_mrr"),
    )),
    quarterly(def(
        "lost_mrr",
        "Lost MRR",
        SC::Sales,
        Unit::Usd,
        Lower,
        M("lost_mrr"),
    )),
    quarterly(def(
        "net_mrr_gain",
        "Net MRR Gain",
        SC::Sales,
        Unit::Usd,
        Higher,
        Sub(&M("new_mrr"), &M("lost_mrr")),
    )),
    def(
        "dials_per_appointment",
        "Dials / Appointment",
        SC::Sales,
        Unit::Ratio,
        Lower,
        Div(&M("telemarketing_dials"), &M("first_time_appointments")),
    ),
    def(
        "sales_call_close_pct",
        "Sales Call Close %",
        SC::Sales,
        Unit::Pct,
        Higher,
        Div(&M("new_agreements"), &M("first_time_appointments")),
    ),
];

/// The definition of a SmartNumber key.
pub fn smartnumber_def(key: &str) -> Option<&'static SmartNumberDef> {
    SMARTNUMBERS.iter().find(|d| d.key == key)
}

/// A computed SmartNumber: its value or why it is null.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub key: &'static str,
    pub value: Option<f64>,
    pub missing_inputs: Vec<String>,
    pub zero_denominators: Vec<String>,
}

impl Computed {
    /// "needs # of Technical Employees" / "# of First Time Appointments is 0", for N/A cards.
    pub fn null_reason(&self) -> Option<String> {
        if self.value.is_some() {
            return None;
        }
        let label = |k: &String| metric_def(k).map_or_else(|| k.clone(), |d| d.label.to_string());
        if !self.missing_inputs.is_empty() {
            let names: Vec<String> = self.missing_inputs.iter().map(label).collect();
            return Some(format!("needs {}", names.join(", ")));
        }
        self.zero_denominators
            .first()
            .map(|d| format!("{} is 0", label(d)))
    }
}

/// Computes the 18 SmartNumbers from a period's values (aggregated inputs with derived
/// metrics recomputed: see `values::with_derived`). `months` is `m`; `working_hours`
/// the organization's hours per technician per month.
pub fn compute(values: &Values, months: u32, working_hours: f64) -> Vec<Computed> {
    let ctx = EvalContext {
        months,
        working_hours,
    };
    SMARTNUMBERS
        .iter()
        .map(|d| {
            let e = d.formula.evaluate(values, ctx);
            Computed {
                key: d.key,
                value: e.value,
                missing_inputs: e.missing_inputs,
                zero_denominators: e.zero_denominators,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::values::{aggregate_inputs, with_derived};

    /// `reference-data/q1_2025_inputs.csv`, Jan, Feb, Mar (misc_revenue empty).
    const Q1_2025: &[(&str, [f64; 3])] = &[
        ("reactive_tickets_created", [354.0, 294.0, 433.0]),
        ("reactive_tickets_closed", [355.0, 294.0, 431.0]),
        ("reactive_time_spent", [146.46, 138.30, 167.32]),
        ("endpoints_managed", [597.0, 594.0, 591.0]),
        ("nrr", [-2044.0, 10877.0, 23446.0]),
        ("mrr", [109682.0, 110274.0, 110003.0]),
        ("orr", [28180.0, 63285.0, 15535.0]),
        ("product_sales", [16476.0, 2649.0, 27125.0]),
        ("employee_expense", [38742.0, 38065.0, 38803.0]),
        ("owner_comp_taxes", [5000.0, 5000.0, 17700.0]),
        ("owner_comp", [22588.0, 22588.0, 22588.0]),
        ("product_cogs", [21126.0, 70570.0, 27507.0]),
        ("other_expenses", [50043.0, 40873.0, 40293.0]),
        ("employees", [8.5, 8.5, 8.5]),
        ("technical_employees", [5.5, 5.5, 5.5]),
        ("seats_managed", [546.0, 543.0, 542.0]),
        ("agreements", [37.0, 36.0, 36.0]),
        ("telemarketing_dials", [0.0, 0.0, 0.0]),
        ("first_time_appointments", [0.0, 1.0, 1.0]),
        ("prospects_to_pbr", [0.0, 0.0, 0.0]),
        ("new_agreements", [0.0, 0.0, 1.0]),
        ("new_mrr", [0.0, 813.0, 2089.0]),
        ("lost_mrr", [0.0, 182.0, 2354.0]),
    ];

    use crate::reference::WORKED_EXAMPLE as EXPECTED;

    fn month(i: usize) -> Values {
        Q1_2025.iter().map(|(k, v)| (k.to_string(), v[i])).collect()
    }

    /// Equal to 5 significant digits.
    fn close(actual: f64, expected: f64) -> bool {
        if expected == 0.0 {
            return actual.abs() < 1e-9;
        }
        ((actual - expected) / expected).abs() < 5e-5
    }

    fn by_key(computed: &[Computed], key: &str) -> Computed {
        computed
            .iter()
            .find(|c| c.key == key)
            .cloned()
            .expect("key")
    }

    #[test]
    fn there_are_18_unique_smartnumbers() {
        assert_eq!(SMARTNUMBERS.len(), 18);
        for (i, d) in SMARTNUMBERS.iter().enumerate() {
            assert!(SMARTNUMBERS[i + 1..].iter().all(|o| o.key != d.key));
            for input in d.formula.inputs() {
                assert!(
                    metric_def(input).is_some(),
                    "{} reads unknown {}",
                    d.key,
                    input
                );
            }
        }
    }

    #[test]
    fn worked_example_quarter() {
        let months: Vec<Values> = (0..3).map(month).collect();
        let refs: Vec<&Values> = months.iter().collect();
        let values = with_derived(&aggregate_inputs(&refs), None);
        assert_eq!(values["total_revenue"], 515488.0);
        assert_eq!(values["total_expenses"], 461486.0);
        assert_eq!(values["net_profit"], 54002.0);
        assert!(close(values["reactive_time_spent"], 452.08));
        assert!(close(values["endpoints_managed"], 594.0));
        assert!(close(values["seats_managed"], 543.667));
        assert!(close(values["agreements"], 36.333));
        let computed = compute(&values, 3, 167.0);
        for (key, q, _) in EXPECTED {
            let c = by_key(&computed, key);
            let v = c.value.unwrap_or_else(|| panic!("{key} is null"));
            assert!(close(v, *q), "{key}: {v} != {q}");
        }
    }

    #[test]
    fn worked_example_january() {
        let values = with_derived(&month(0), None);
        let computed = compute(&values, 1, 167.0);
        for (key, _, jan) in EXPECTED {
            let c = by_key(&computed, key);
            match jan {
                Some(expected) => {
                    let v = c.value.unwrap_or_else(|| panic!("{key} is null"));
                    assert!(close(v, *expected), "{key}: {v} != {expected}");
                }
                None => {
                    assert_eq!(c.value, None, "{key}");
                    assert_eq!(
                        c.null_reason().as_deref(),
                        Some("# of First Time Appointments (FTA) is 0")
                    );
                }
            }
        }
    }

    #[test]
    fn every_input_of_every_number_is_required() {
        // Null rule: removing any one input nulls the number and names that input
        // (sums of several parts survive one missing part).
        for d in SMARTNUMBERS {
            for input in d.formula.inputs() {
                let mut inputs = month(0);
                inputs.remove(input);
                let values = with_derived(&inputs, None);
                let c = by_key(&compute(&values, 1, 167.0), d.key);
                let in_multi_part_sum = matches!(input, "nrr" | "mrr" | "orr");
                let derived_total = matches!(input, "total_revenue" | "net_profit");
                if derived_total {
                    continue; // covered below: a derived total disappears only with all its parts
                }
                if c.value.is_none() {
                    assert!(
                        c.missing_inputs.contains(&input.to_string()),
                        "{}: {:?}",
                        d.key,
                        c.missing_inputs
                    );
                }
                if !in_multi_part_sum {
                    assert_eq!(c.value, None, "{} without {}", d.key, input);
                }
            }
        }
    }

    #[test]
    fn zero_denominators_give_null_not_infinity() {
        let mut inputs = month(0);
        for k in [
            "technical_employees",
            "reactive_tickets_created",
            "endpoints_managed",
            "reactive_tickets_closed",
            "employees",
            "seats_managed",
            "agreements",
        ] {
            inputs.insert(k.to_string(), 0.0);
        }
        let values = with_derived(&inputs, None);
        for c in compute(&values, 1, 167.0) {
            if let Some(v) = c.value {
                assert!(v.is_finite(), "{} = {}", c.key, v);
            }
        }
        let c = by_key(&compute(&values, 1, 167.0), "rhem");
        assert_eq!(c.value, None);
        assert_eq!(
            c.null_reason().as_deref(),
            Some("# of Endpoints Managed is 0")
        );
    }

    #[test]
    fn missing_revenue_is_reported_by_label() {
        let mut inputs = month(0);
        for k in ["nrr", "mrr", "orr", "product_sales"] {
            inputs.remove(k);
        }
        let values = with_derived(&inputs, None);
        let c = by_key(&compute(&values, 1, 167.0), "net_profit_pct");
        assert_eq!(c.value, None);
        assert!(
            c.null_reason().unwrap().starts_with("needs "),
            "{:?}",
            c.null_reason()
        );
    }

    #[test]
    fn months_elapsed_scales_per_month_numbers() {
        let months: Vec<Values> = (0..2).map(month).collect();
        let refs: Vec<&Values> = months.iter().collect();
        let values = with_derived(&aggregate_inputs(&refs), None);
        let c = by_key(&compute(&values, 2, 167.0), "tickets_per_tech_per_month");
        assert!(close(c.value.unwrap(), (355.0 + 294.0) / 5.5 / 2.0));
    }

    #[test]
    fn judged_by_bands_and_months_do_not_judge_quarter_only_numbers() {
        use crate::thresholds::default_bands;
        let rhem = smartnumber_def("rhem").unwrap();
        let bands = default_bands("rhem");
        let month: Period = "2025-01".parse().unwrap();
        let quarter: Period = "2025-Q1".parse().unwrap();
        assert_eq!(
            rhem.judge(&quarter, bands.as_ref(), Some(0.25)),
            Status::Yellow
        );
        assert_eq!(rhem.judge(&month, bands.as_ref(), Some(0.1)), Status::Green);
        assert_eq!(rhem.judge(&quarter, None, Some(0.1)), Status::None);
        let quarterly = SMARTNUMBERS
            .iter()
            .find(|d| d.quarters_only && default_bands(d.key).is_some())
            .unwrap();
        let bands = default_bands(quarterly.key);
        assert_eq!(
            quarterly.judge(&month, bands.as_ref(), Some(1.0)),
            Status::None
        );
        assert_ne!(
            quarterly.judge(&quarter, bands.as_ref(), Some(1.0)),
            Status::None
        );
    }

    #[test]
    fn improvement_follows_the_direction() {
        use crate::thresholds::default_bands;
        let rhem = smartnumber_def("rhem").unwrap();
        assert_eq!(rhem.improved(None, 0.3, 0.2), Some(true), "lower is better");
        assert_eq!(rhem.improved(None, 0.2, 0.3), Some(false));
        assert_eq!(rhem.improved(None, 0.2, 0.2), None, "unchanged");
        let profit = smartnumber_def("net_profit_pct").unwrap();
        assert_eq!(
            profit.improved(None, 0.1, 0.2),
            Some(true),
            "higher is better"
        );
        let range = SMARTNUMBERS
            .iter()
            .find(|d| d.better == Better::Range)
            .unwrap();
        let bands = default_bands(range.key);
        let target = bands.and_then(|b| b.green_target()).unwrap();
        assert_eq!(
            range.improved(bands.as_ref(), target * 2.0, target * 1.1),
            Some(true)
        );
        assert_eq!(
            range.improved(bands.as_ref(), target, target * 0.5),
            Some(false)
        );
        assert_eq!(
            range.improved(None, 1.0, 2.0),
            None,
            "no target without bands"
        );
    }
}
