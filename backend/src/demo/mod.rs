//! Synthetic demo data for `qbr serve --demo`: two years of monthly inputs of a made-up
//! MSP shaped like the one in the spec (8.5 employees, 5.5 technicians, ~590 endpoints,
//! ~535 seats, ~36 managed-services agreements, MRR ~110k a month, revenue ~140k a
//! month), so a newcomer sees a full dashboard at once. This module only produces the
//! values (pure, no database); `load` writes them through the ordinary store.
//!
//! Deterministic: the noise is a hash (SplitMix64) of a fixed seed, the metric and the
//! month's distance from `current`, and trends are anchored at `current`; only the
//! calendar seasonality depends on the month itself. So the same `current` always gives
//! the same values, and the current quarter's statuses depend only on `current`'s month
//! of the year (the tests check all twelve).
//!
//! # The story of the current quarter (default thresholds)
//! - **Red: Tickets / Endpoint / Month** (~0.49 against ≤ 0.30 green, ≤ 0.45 yellow).
//!   The clients' fleets raise too many reactive tickets: ageing hardware, a client
//!   onboarded eight months ago without a standard build. Two years ago it was ~0.58, so
//!   it is improving, but it is still the number to work on.
//! - **Yellow: RHEM** (~0.21 reactive hours per endpoint per month against ≤ 0.20).
//!   Each ticket is quick (average resolution ~0.44 h, green) but there are so many
//!   that reactive hours per endpoint stay just above target: the same problem seen
//!   from the hours side. Fewer tickets per endpoint would turn it green.
//! - **Everything else with a threshold is green**: technicians are busy but not
//!   overloaded (~50 tickets per tech, reactive service ~14 %, close rate ~99 %),
//!   net profit 24–29 %, ~90 % of service revenue is MRR, leverage (revenue per employee
//!   and per tech, AISP ~205, MRR per agreement ~3,000) is healthy, and sales are small
//!   but steady (2–3 first appointments and one new agreement a month, positive net
//!   MRR). New MRR Added and Lost MRR have no default threshold (no status).
//!
//! The history is less rosy: two years ago the shop had 5 technicians and 8 employees,
//! more tickets per endpoint (tickets per tech and reactive service % yellow, RHEM
//! worse) and a thinner profit; it hired a year ago and onboarded a client eight months
//! ago.
//!
//! # An incident, on purpose
//! Five months before the current one a client was hit by ransomware and the clean-up
//! was logged on the Help Desk board: that month's reactive hours are 70 % above the
//! month before (its RHEM is red). With the simulated vendors the extra hours are that
//! client's (Magnolia Family Medicine, `vendors::INCIDENT_COMPANY`), so the clients'
//! pages show it as the client's unusual month. Collection flags such a
//! jump (`warning`): the value carries the flag, and every run that reads the month
//! again reports it.
//!
//! # Gaps, on purpose
//! - Miscellaneous revenue only in three months (rebates, interest).
//! - Sales activity (dials, first-time appointments, prospects to PBR) not recorded in
//!   two older months: their Dials / Appointment and Sales Call Close % are N/A.
//! - Technical head count not entered in one older month: its Tickets / Tech / Month,
//!   Reactive Service % and Annual Service Revenue / Tech are N/A.
//! - The current month (in progress) has no month-end balances yet (cash reserve,
//!   A/R > 90 days) nor the owners' management labor efficiency ratio.
//! - `avg_monthly_expenses_prior_year` is typed in only for the months whose previous
//!   calendar year is not among the demo months (it is computed for the others).
//!
//! # QuickBooks
//! `quickbooks` adds the books the revenue and expenses would come from: one
//! QuickBooks Desktop report of the last 13 months whose accounts add up to the
//! values above, with one income account (`Grant Income`) no rule maps yet.
//!
//! # The vendors
//! With the `demo` feature (on by default) `vendors` runs a simulated ConnectWise and
//! NinjaOne whose data the real collectors turn into the collected values above, and
//! `startup` points the organization's collection at them and collects once, as
//! `qbr serve --demo` starts.
pub mod load;
pub mod quickbooks;
pub mod startup;
#[cfg(feature = "demo")]
pub mod vendors;

use qbr_shared::catalogue::{metric_def, METRICS};
use qbr_shared::collection::Flag;
use qbr_shared::values::PRIOR_YEAR_AVG_EXPENSES;
use qbr_shared::Month;
use std::collections::BTreeSet;

/// One demo value: a month, a metric key of the catalogue (inputs only, never derived
/// metrics), its value.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoValue {
    pub month: Month,
    pub metric: &'static str,
    pub value: f64,
    /// Whether a collector (ConnectWise, NinjaOne) would have written it: the three
    /// ticket metrics, endpoints and seats.
    pub collected: bool,
    /// The flags collection gave it (the incident month's hours: `warning`).
    pub flags: Vec<Flag>,
}

/// How many months the demo covers, the current one included.
pub const DEMO_MONTHS: i32 = 24;

const SEED: u64 = 0x51B2_D3E0_2026_0001;

// Offsets are months before `current` (0 = the current month).
/// Months whose sales activity (dials, appointments, PBR) was not recorded.
const SALES_NOT_RECORDED: [i32; 2] = [10, 19];
/// The older month whose technical head count was never entered.
const NO_TECH_COUNT: i32 = 16;
/// Months with miscellaneous revenue (vendor rebates, interest).
const MISC_REVENUE: [i32; 3] = [4, 13, 21];
/// Months whose NRR is negative (credits to clients exceeded project billing).
const NRR_CREDITS: [i32; 2] = [6, 17];
/// Months before this offset include the client onboarded then (more endpoints).
const ONBOARDED: i32 = 9;
/// Months before this offset have the hire (8.5 employees, 5.5 technicians) and the
/// owners' raise.
const HIRED: i32 = 12;
/// The disputed invoice that sat in A/R > 90 days.
const DISPUTED_INVOICE: i32 = 7;
/// The month of the ransomware clean-up (reactive hours × [`INCIDENT_HOURS`]).
pub const INCIDENT: i32 = 5;
const INCIDENT_HOURS: f64 = 1.7;

/// Reactive tickets per endpoint: calendar effect (January and September busy, July
/// and December quiet).
const TICKET_SEASON: [f64; 12] = [
    0.012, 0.006, 0.004, 0.0, -0.004, -0.006, -0.012, -0.008, 0.010, 0.006, 0.0, -0.010,
];
/// Reactive hours per endpoint: the same calendar effect, smaller.
const HOURS_SEASON: [f64; 12] = [
    0.004, 0.002, 0.001, 0.0, -0.001, -0.002, -0.004, -0.003, 0.003, 0.002, 0.0, -0.003,
];
/// Product sales in dollars: year-end and mid-year budget spending.
const PRODUCT_SEASON: [f64; 12] = [
    -2000.0, -1500.0, 1000.0, 0.0, 0.0, 2500.0, -1000.0, -1500.0, 1500.0, 0.0, 1500.0, 4500.0,
];
/// Months in which the owners top up their quarterly estimated taxes.
const TAX_MONTHS: [u32; 4] = [1, 4, 6, 9];

/// 24 months of inputs ending with `current` (the month in progress, included),
/// deterministic (same output for the same `current`). Ordered by month (oldest first),
/// then in the catalogue's order. Near `1900-01` there are fewer months.
pub fn demo_values(current: Month) -> Vec<DemoValue> {
    let mut rows = generate(current);
    add_typed_prior_year_averages(&mut rows);
    rows.reverse();
    let position = |key: &str| {
        METRICS
            .iter()
            .position(|d| d.key == key)
            .unwrap_or(usize::MAX)
    };
    let mut out = Vec::new();
    for row in rows {
        let mut values = row.values;
        values.sort_by_key(|(key, _)| position(key));
        let incident = row.month == current.add_months(-INCIDENT);
        out.extend(values.into_iter().map(|(metric, value)| DemoValue {
            month: row.month,
            metric,
            value,
            collected: metric_def(metric).is_some_and(|d| d.source.is_collected()),
            flags: if incident && metric == "reactive_time_spent" {
                vec![Flag::Warning]
            } else {
                Vec::new()
            },
        }));
    }
    out
}

/// One month's inputs.
struct Row {
    month: Month,
    values: Vec<(&'static str, f64)>,
}

impl Row {
    fn get(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// The months from `current` backwards (offset 0 first). MRR and agreements are walked
/// backwards from today's levels through the sales of each month.
fn generate(current: Month) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut mrr = 110_000.0 + 400.0 * noise(0, "mrr");
    let mut agreements: f64 = 36.0;
    for k in 0..DEMO_MONTHS {
        let month = current.add_months(-k);
        if current.months_until(month) != -k {
            break; // saturated at 1900-01
        }
        let n = |stream: &str| noise(k, stream);
        let t = f64::from(k) / f64::from(DEMO_MONTHS - 1); // 0 now, 1 two years ago
        let season = usize::try_from(month.month().saturating_sub(1)).unwrap_or(0) % 12;
        let recent = k <= 2; // the months a current quarter can contain
        let mut v: Vec<(&'static str, f64)> = Vec::with_capacity(32);

        // General information.
        let hired = k < HIRED;
        let employees = if hired { 8.5 } else { 8.0 };
        let techs = if hired { 5.5 } else { 5.0 };
        let endpoints = (592.0 - 1.3 * f64::from(k) - if k >= ONBOARDED { 16.0 } else { 0.0 }
            + 3.0 * n("endpoints"))
        .round();
        let seats = (endpoints * 0.905 + 2.5 * n("seats")).round();

        // Operations.
        let per_endpoint = 0.485 + 0.10 * t + TICKET_SEASON[season] + 0.008 * n("tickets");
        let created = (endpoints * per_endpoint).round();
        let closed = (created * (1.0 + (0.018 + 0.05 * t) * n("closed"))).round();
        let rhem = 0.2135 + 0.045 * t + HOURS_SEASON[season] + 0.004 * n("hours");
        let incident = if k == INCIDENT { INCIDENT_HOURS } else { 1.0 };
        let hours = round2(endpoints * rhem * incident);
        v.push(("reactive_tickets_created", created));
        v.push(("reactive_tickets_closed", closed));
        v.push(("reactive_time_spent", hours));
        v.push(("endpoints_managed", endpoints));

        // Sales (the month's new and lost agreements also move MRR and agreements).
        let appointments: f64 = if recent {
            if n("fta") > 0.0 {
                3.0
            } else {
                2.0
            }
        } else {
            (1.0 + (n("fta") + 1.0) * 2.0).floor().min(4.0)
        };
        let dials = if recent {
            (appointments * (17.0 + 4.0 * n("dials"))).round()
        } else {
            (52.0 + 22.0 * n("dials")).round()
        };
        let pbr = (appointments * (0.55 + 0.3 * n("pbr")))
            .round()
            .clamp(0.0, appointments);
        let new_agreements: f64 = match (recent, n("new_agreements")) {
            (true, _) => 1.0,
            (false, x) if x < -0.1 => 0.0,
            (false, x) if x < 0.8 => 1.0,
            _ => 2.0,
        };
        let lost_agreements: f64 = if !recent && n("lost_agreements") > 0.2 {
            1.0
        } else {
            0.0
        };
        let new_mrr =
            (new_agreements * (1_500.0 + 700.0 * n("new_mrr")) + 350.0 + 350.0 * n("upsell"))
                .round();
        let lost_mrr =
            (lost_agreements * (1_300.0 + 600.0 * n("lost_mrr")) + 200.0 + 200.0 * n("downsizing"))
                .round();

        // Revenue.
        let nrr = if NRR_CREDITS.contains(&k) {
            -(900.0 + 1_400.0 * n("nrr").abs())
        } else if recent {
            11_000.0 + 5_000.0 * n("nrr")
        } else {
            10_000.0 + 8_500.0 * n("nrr")
        }
        .round();
        let orr = (13_500.0 + 1_800.0 * n("orr") + if month.month() == 1 { 9_000.0 } else { 0.0 })
            .round();
        let product_sales = (9_000.0 + PRODUCT_SEASON[season] + 5_000.0 * n("product_sales"))
            .max(0.0)
            .round();
        v.push(("nrr", nrr));
        v.push(("mrr", mrr.round()));
        v.push(("orr", orr));
        v.push(("product_sales", product_sales));
        if MISC_REVENUE.contains(&k) {
            v.push((
                "misc_revenue",
                (1_500.0 + 900.0 * n("misc_revenue")).round(),
            ));
        }

        // Expenses.
        let year_end_bonus = if month.month() == 12 { 3_500.0 } else { 0.0 };
        let employee_expense =
            (employees * (4_500.0 - 250.0 * t) + 900.0 * n("employee_expense") + year_end_bonus)
                .round();
        let tax_top_up = if TAX_MONTHS.contains(&month.month()) {
            3_000.0
        } else {
            0.0
        };
        let insurance = if month.month() == 3 { 4_000.0 } else { 0.0 };
        v.push(("employee_expense", employee_expense));
        v.push(("owner_comp_taxes", 6_000.0 + tax_top_up));
        v.push(("owner_comp", if hired { 22_588.0 } else { 21_250.0 }));
        v.push((
            "product_cogs",
            (product_sales * (0.76 + 0.04 * n("cogs"))).round(),
        ));
        v.push((
            "other_expenses",
            (27_000.0 + 3_000.0 * t + 2_000.0 * n("other_expenses") + insurance).round(),
        ));

        // General information.
        v.push(("employees", employees));
        if k != NO_TECH_COUNT {
            v.push(("technical_employees", techs));
        }
        v.push(("seats_managed", seats));
        v.push(("agreements", agreements));

        // Sales.
        if !SALES_NOT_RECORDED.contains(&k) {
            v.push(("telemarketing_dials", dials));
            v.push(("first_time_appointments", appointments));
            v.push(("prospects_to_pbr", pbr));
        }
        v.push(("new_agreements", new_agreements));
        v.push(("new_mrr", new_mrr));
        v.push(("lost_mrr", lost_mrr));

        // Financial health: month-end balances are not known before the month ends.
        if k > 0 {
            let cash = 285_000.0 - 4_000.0 * f64::from(k) + 12_000.0 * n("cash_reserve");
            let disputed = if k == DISPUTED_INVOICE { 13_900.0 } else { 0.0 };
            let ar = (4_500.0 + 3_500.0 * n("ar_over_90_days")).max(0.0) + disputed;
            let mler = 3.4 - 0.6 * t + 0.25 * n("management_labor_efficiency_ratio");
            v.push(("cash_reserve", cash.round()));
            v.push(("ar_over_90_days", ar.round()));
            v.push(("management_labor_efficiency_ratio", round2(mler)));
        }

        rows.push(Row { month, values: v });

        // One month further back: undo this month's sales.
        mrr -= new_mrr - lost_mrr;
        mrr += 250.0 * n("mrr_drift");
        agreements = (agreements - new_agreements + lost_agreements).max(1.0);
    }
    rows
}

/// Types in `avg_monthly_expenses_prior_year` for the months whose previous calendar
/// year has no demo month (for the others the backend computes it): a plausible value,
/// 5 % below that year's own average monthly expenses.
fn add_typed_prior_year_averages(rows: &mut [Row]) {
    let years: BTreeSet<i32> = rows.iter().map(|r| r.month.year()).collect();
    for year in years.iter().copied().filter(|y| !years.contains(&(y - 1))) {
        let totals: Vec<f64> = rows
            .iter()
            .filter(|r| r.month.year() == year)
            .map(|r| {
                [
                    "employee_expense",
                    "owner_comp_taxes",
                    "owner_comp",
                    "product_cogs",
                    "other_expenses",
                ]
                .iter()
                .filter_map(|k| r.get(k))
                .sum::<f64>()
            })
            .collect();
        if totals.is_empty() {
            continue;
        }
        let typed = (0.95 * totals.iter().sum::<f64>() / totals.len() as f64).round();
        for row in rows.iter_mut().filter(|r| r.month.year() == year) {
            row.values.push((PRIOR_YEAR_AVG_EXPENSES, typed));
        }
    }
}

/// Uniform noise in `[-1, 1)` for a month (offset from `current`) and a stream name.
fn noise(k: i32, stream: &str) -> f64 {
    let h = splitmix64(SEED ^ fnv1a(stream) ^ splitmix64(u64::from(k.unsigned_abs())));
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use qbr_shared::catalogue::Unit;
    use qbr_shared::expr::Values;
    use qbr_shared::smartnumbers::{compute, SMARTNUMBERS};
    use qbr_shared::thresholds::{default_bands, Status};
    use qbr_shared::values::{aggregate_inputs, average_monthly_expenses, with_derived};
    use qbr_shared::Period;
    use std::collections::BTreeMap;

    const COLLECTED: [&str; 5] = [
        "reactive_tickets_created",
        "reactive_tickets_closed",
        "reactive_time_spent",
        "endpoints_managed",
        "seats_managed",
    ];

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    /// The `current` months the tests run on: a few, and every month of 2026 (the
    /// current quarter's statuses depend only on the month of the year).
    fn currents() -> Vec<Month> {
        let mut out = vec![month("2026-11"), month("2025-03"), month("2027-01")];
        out.extend((1..=12).map(|m| Month::new(2026, m).unwrap()));
        out
    }

    fn by_month(values: &[DemoValue]) -> BTreeMap<Month, Values> {
        let mut out: BTreeMap<Month, Values> = BTreeMap::new();
        for v in values {
            let previous = out
                .entry(v.month)
                .or_default()
                .insert(v.metric.to_string(), v.value);
            assert!(previous.is_none(), "{} {} twice", v.month, v.metric);
        }
        out
    }

    /// A period's SmartNumbers and statuses, computed like the backend does.
    fn judge(
        inputs: &BTreeMap<Month, Values>,
        period: Period,
        current: Month,
    ) -> Vec<(&'static str, Option<f64>, Status)> {
        let months: Vec<&Values> = period
            .months()
            .iter()
            .filter_map(|m| inputs.get(m))
            .collect();
        let prior: Vec<&Values> = Period::Year(period.first_month().year() - 1)
            .months()
            .iter()
            .filter_map(|m| inputs.get(m))
            .collect();
        let values = with_derived(&aggregate_inputs(&months), average_monthly_expenses(&prior));
        compute(&values, period.months_elapsed(current), 167.0)
            .into_iter()
            .map(|c| {
                let status = default_bands(c.key).map_or(Status::None, |b| b.status(c.value));
                (c.key, c.value, status)
            })
            .collect()
    }

    #[test]
    fn twenty_four_distinct_months_ending_with_current() {
        for current in currents() {
            let months: BTreeSet<Month> = demo_values(current).iter().map(|v| v.month).collect();
            assert_eq!(months.len(), 24, "{current}");
            assert_eq!(months.last(), Some(&current));
            assert_eq!(months.first(), Some(&current.add_months(-23)));
        }
    }

    #[test]
    fn only_catalogue_inputs_and_every_input_appears() {
        for current in currents() {
            let values = demo_values(current);
            for v in &values {
                let def = metric_def(v.metric).unwrap_or_else(|| panic!("unknown {}", v.metric));
                assert!(!def.is_derived(), "derived {}", v.metric);
                assert!(v.value.is_finite());
            }
            let present: BTreeSet<&str> = values.iter().map(|v| v.metric).collect();
            for def in METRICS.iter().filter(|d| !d.is_derived()) {
                assert!(present.contains(def.key), "{current}: {} missing", def.key);
            }
        }
    }

    #[test]
    fn collected_flag_marks_the_five_collected_metrics() {
        let values = demo_values(month("2026-11"));
        for v in &values {
            assert_eq!(v.collected, COLLECTED.contains(&v.metric), "{}", v.metric);
        }
        let current: BTreeSet<&str> = values
            .iter()
            .filter(|v| v.month == month("2026-11") && v.collected)
            .map(|v| v.metric)
            .collect();
        assert_eq!(
            current.len(),
            5,
            "the month in progress has its collected metrics"
        );
    }

    #[test]
    fn prior_year_average_typed_only_where_the_previous_year_is_absent() {
        for current in currents() {
            let values = demo_values(current);
            let years: BTreeSet<i32> = values.iter().map(|v| v.month.year()).collect();
            let typed: Vec<&DemoValue> = values
                .iter()
                .filter(|v| v.metric == PRIOR_YEAR_AVG_EXPENSES)
                .collect();
            assert!(!typed.is_empty());
            for v in &typed {
                assert!(
                    !years.contains(&(v.month.year() - 1)),
                    "{current}: {}",
                    v.month
                );
                assert!((80_000.0..130_000.0).contains(&v.value), "{}", v.value);
            }
            let first_year = current.add_months(-23).year();
            let typed_months = typed
                .iter()
                .filter(|v| v.month.year() == first_year)
                .count();
            let first_year_months = values
                .iter()
                .filter(|v| v.month.year() == first_year && v.metric == "mrr")
                .count();
            assert_eq!(typed_months, first_year_months, "{current}");
        }
    }

    #[test]
    fn values_are_realistic_numbers() {
        for current in currents() {
            for v in demo_values(current) {
                let def = metric_def(v.metric).unwrap();
                match def.unit {
                    Unit::Count => {
                        assert!(v.value >= 0.0, "{} {} negative", v.month, v.metric);
                        let step = if matches!(v.metric, "employees" | "technical_employees") {
                            2.0
                        } else {
                            1.0
                        };
                        assert_eq!((v.value * step).fract(), 0.0, "{} {}", v.metric, v.value);
                    }
                    Unit::Hours => {
                        assert!(v.value >= 0.0, "{} {} negative", v.month, v.metric);
                        assert!(((v.value * 100.0).round() - v.value * 100.0).abs() < 1e-6);
                    }
                    Unit::Usd => assert_eq!(v.value.fract(), 0.0, "{} {}", v.metric, v.value),
                    Unit::Ratio | Unit::Pct => {}
                }
            }
        }
    }

    #[test]
    fn looks_like_the_msp_of_the_spec() {
        let current = month("2026-11");
        let inputs = by_month(&demo_values(current));
        let now = &inputs[&current];
        assert!((100_000.0..120_000.0).contains(&now["mrr"]));
        assert!((560.0..640.0).contains(&now["endpoints_managed"]));
        assert!((500.0..580.0).contains(&now["seats_managed"]));
        assert!((30.0..=40.0).contains(&now["agreements"]));
        assert_eq!(now["employees"], 8.5);
        assert_eq!(now["technical_employees"], 5.5);
        let negative_nrr = inputs.values().filter(|v| v["nrr"] < 0.0).count();
        assert!((1..=3).contains(&negative_nrr), "NRR occasionally negative");
        let misc = inputs
            .values()
            .filter(|v| v.contains_key("misc_revenue"))
            .count();
        assert!((1..=6).contains(&misc), "misc revenue mostly absent");
        let no_sales = inputs
            .values()
            .filter(|v| !v.contains_key("telemarketing_dials"))
            .count();
        assert_eq!(no_sales, 2);
        let no_balances = inputs
            .values()
            .filter(|v| !v.contains_key("cash_reserve"))
            .count();
        assert_eq!(no_balances, 1, "only the month in progress");
    }

    /// Collection flags a value more than 50 % away from the month before: only the
    /// incident's hours are, and they carry the flag.
    #[test]
    fn only_the_incident_month_jumps_and_it_is_flagged() {
        for current in currents() {
            let values = demo_values(current);
            let inputs = by_month(&values);
            let mut jumps = Vec::new();
            for v in values.iter().filter(|v| v.collected) {
                let Some(previous) = inputs.get(&v.month.prev()).map(|p| p[v.metric]) else {
                    continue;
                };
                if (v.value - previous).abs() / previous > 0.5 {
                    jumps.push((v.month, v.metric));
                }
                assert_eq!(v.flags.is_empty(), !jumps.contains(&(v.month, v.metric)));
            }
            let incident = current.add_months(-INCIDENT);
            assert_eq!(jumps, vec![(incident, "reactive_time_spent")], "{current}");
            let judged = judge(&inputs, Period::Month(incident), current);
            let rhem = judged.iter().find(|(key, _, _)| *key == "rhem");
            assert_eq!(rhem.map(|r| r.2), Some(Status::Red), "{current}: {rhem:?}");
        }
    }

    #[test]
    fn deterministic() {
        for current in currents() {
            assert_eq!(demo_values(current), demo_values(current));
        }
        assert_ne!(demo_values(month("2026-11")), demo_values(month("2026-10")));
    }

    #[test]
    fn current_quarter_has_exactly_one_red_and_one_yellow() {
        for current in currents() {
            let inputs = by_month(&demo_values(current));
            let judged = judge(&inputs, Period::Quarter(current.quarter()), current);
            assert_eq!(judged.len(), SMARTNUMBERS.len());
            for (key, value, status) in &judged {
                assert!(value.is_some(), "{current}: {key} is null");
                let expected = match *key {
                    "tickets_per_endpoint_per_month" => Status::Red,
                    "rhem" => Status::Yellow,
                    "new_mrr_added" | "lost_mrr" => Status::None,
                    _ => Status::Green,
                };
                assert_eq!(*status, expected, "{current}: {key} = {value:?}");
            }
        }
    }

    #[test]
    fn current_quarter_status_holds_for_any_year() {
        for year in 2000..=2060 {
            for m in 1..=12 {
                let current = Month::new(year, m).unwrap();
                let inputs = by_month(&demo_values(current));
                let judged = judge(&inputs, Period::Quarter(current.quarter()), current);
                let count = |s: Status| judged.iter().filter(|j| j.2 == s).count();
                assert_eq!(
                    (count(Status::Red), count(Status::Yellow)),
                    (1, 1),
                    "{current}"
                );
                assert_eq!(count(Status::Green), 14, "{current}");
            }
        }
    }

    #[test]
    fn some_month_has_a_missing_input_that_makes_a_number_null() {
        for current in currents() {
            let inputs = by_month(&demo_values(current));
            let mut nulls = BTreeSet::new();
            for m in inputs.keys() {
                for c in compute(
                    &with_derived(&aggregate_inputs(&[&inputs[m]]), None),
                    1,
                    167.0,
                ) {
                    if c.value.is_none() && !c.missing_inputs.is_empty() {
                        nulls.insert((c.key, c.missing_inputs.join(",")));
                    }
                }
            }
            assert!(
                nulls.contains(&("tickets_per_tech_per_month", "technical_employees".into())),
                "{current}: {nulls:?}"
            );
            assert!(
                nulls.contains(&(
                    "dials_per_appointment",
                    "telemarketing_dials,first_time_appointments".into()
                )),
                "{current}: {nulls:?}"
            );
        }
    }

    /// Prints the current quarter's numbers (`cargo test -- --nocapture demo_overview`).
    #[test]
    fn demo_overview() {
        let current = month("2026-11");
        let inputs = by_month(&demo_values(current));
        for (key, value, status) in judge(&inputs, Period::Quarter(current.quarter()), current) {
            println!("{key:34} {value:>14.4?} {}", status.label());
        }
    }
}
