//! `forecast-bench`: how accurate and how fast the quarter forecast of the `insight` crate
//! is. A rolling-origin backtest (every quarter with enough history, forecast from 0, 1
//! and 2 elapsed months) on two datasets:
//!
//! - **demo**: `backend::demo::demo_values` for a fixed current month (January 2026), its
//!   23 complete months (the month in progress is left out: it has no balances);
//! - **test data**: organizations generated here by a seeded process (below), independent
//!   of the demo's generator.
//!
//! For each SmartNumber it prints the mean absolute percentage error of the point forecast
//! (actuals under 5 % of the number's mean magnitude left out, see
//! `insight::backtest::NEAR_ZERO`) and the share of actuals inside the 80 % interval, then
//! the time per forecast and for one organization with 24 months of history.
//!
//! # The test data
//! Per organization (ChaCha8 seeded with `--seed` + its index), 48 months. A fleet of
//! 400–800 endpoints grows 0–15 % a year; seats, MRR, agreements and head counts follow
//! it. Each input is its driver × (1 + seasonal term) × (1 + noise), the noise normal with
//! a coefficient of variation per metric (1 % for fleet counts, 8–40 % for tickets,
//! project revenue and sales activity), cut at zero where the unit can't be negative and
//! rounded for counts. Calendar effects: tickets peak in January and September, product
//! sales in December, ORR in January, a year-end bonus in December, tax top-ups in four
//! months.
//!
//! Run: `cargo run --release -p bench --bin forecast-bench [-- --orgs 6 --draws 2000]`.
use std::collections::BTreeMap;
use std::f64::consts::TAU;
use std::time::{Duration, Instant};

use clap::Parser;
use insight::backtest::{accuracy, backtest, Case};
use insight::forecast::{forecast_quarter, ForecastOptions};
use qbr_shared::expr::Values;
use qbr_shared::smartnumbers::smartnumber_def;
use qbr_shared::thresholds::default_bands;
use qbr_shared::Month;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    /// Organizations of test data.
    #[arg(long, default_value_t = 6)]
    orgs: u64,
    /// Months of test data per organization.
    #[arg(long, default_value_t = 48)]
    months: i32,
    /// Simulated quarters per forecast.
    #[arg(long, default_value_t = 2_000)]
    draws: usize,
    /// Seed of the test data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// Months of history a backtested quarter needs: the demo's two years leave four quarters
/// with at least nine months before them.
const DEMO_MIN_HISTORY: usize = 9;
const TEST_MIN_HISTORY: usize = 12;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = ForecastOptions {
        draws: args.draws,
        ..ForecastOptions::default()
    };
    let current = Month::new(2026, 1)?;

    let demo = demo_months(current, false);
    println!(
        "forecast-bench: {} draws per forecast, 80 % intervals\n",
        options.draws
    );
    let mut times = run(
        &format!(
            "demo (backend::demo, current {current}, {} complete months)",
            demo.len()
        ),
        &demo,
        DEMO_MIN_HISTORY,
        &options,
    );

    let mut pooled = Vec::new();
    let mut test_times = Vec::new();
    for org in 0..args.orgs {
        let months = test_company(args.seed + org, args.months)?;
        let (cases, t) = backtest(&months, TEST_MIN_HISTORY, &options);
        pooled.extend(cases);
        test_times.extend(t);
    }
    println!(
        "test data ({} organizations × {} months, seed {})",
        args.orgs, args.months, args.seed
    );
    print_table(&pooled);
    print_times(&test_times);
    times.extend(test_times);

    println!("\nall backtest forecasts:");
    print_times(&times);
    one_organization(current, &options);
    demo_anomalies(current);
    Ok(())
}

/// The anomalies among the demo's inputs: the incident month's reactive hours should be
/// among them.
fn demo_anomalies(current: Month) {
    let months = demo_months(current, false);
    let started = Instant::now();
    let mut found = Vec::new();
    let mut scored = 0;
    for def in qbr_shared::catalogue::METRICS
        .iter()
        .filter(|d| qbr_shared::catalogue::is_input(d))
    {
        let series: Vec<(Month, f64)> = months
            .iter()
            .filter_map(|(m, v)| v.get(def.key).map(|x| (*m, *x)))
            .collect();
        scored += 1;
        found.extend(
            insight::anomalies(&series)
                .into_iter()
                .filter(|a| a.is_anomaly)
                .map(|a| (def.key, a)),
        );
    }
    println!(
        "\nanomalies in the demo's inputs ({} metrics × {} months scored in {:.1} ms; the incident is {}):",
        scored,
        months.len(),
        started.elapsed().as_secs_f64() * 1e3,
        current.add_months(-backend::demo::INCIDENT)
    );
    for (key, a) in found {
        println!(
            "  {} {:<26} {:>12.2}  score {:>6.1}  typical {:.2} – {:.2}",
            a.month, key, a.value, a.score, a.typical.low, a.typical.high
        );
    }
}

fn run(
    title: &str,
    months: &BTreeMap<Month, Values>,
    min_history: usize,
    options: &ForecastOptions,
) -> Vec<Duration> {
    let (cases, times) = backtest(months, min_history, options);
    println!("{title}");
    print_table(&cases);
    print_times(&times);
    println!();
    times
}

/// The demo's months; with `include_current` the month in progress too.
fn demo_months(current: Month, include_current: bool) -> BTreeMap<Month, Values> {
    let mut months: BTreeMap<Month, Values> = BTreeMap::new();
    for v in backend::demo::demo_values(current) {
        if v.month < current || include_current {
            months
                .entry(v.month)
                .or_default()
                .insert(v.metric.to_string(), v.value);
        }
    }
    months
}

fn print_table(cases: &[Case]) {
    let quarters: std::collections::BTreeSet<_> = cases.iter().map(|c| c.quarter).collect();
    println!(
        "  {} quarters, {} forecasts of a number",
        quarters.len(),
        cases.len()
    );
    println!(
        "  {:<44} {:>8} {:>8} {:>8} | {:>6} {:>6} {:>6} {:>6}",
        "SmartNumber", "MAPE@0", "MAPE@1", "MAPE@2", "cov@0", "cov@1", "cov@2", "cov"
    );
    let pct = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{:.1}%", v * 100.0));
    let share =
        |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{:.0}%", v * 100.0));
    let mut all = [0.0; 3];
    let mut counted = [0usize; 3];
    for a in accuracy(cases) {
        let label = smartnumber_def(a.key).map_or(a.key, |d| d.label);
        println!(
            "  {:<44} {:>8} {:>8} {:>8} | {:>6} {:>6} {:>6} {:>6}",
            label,
            pct(a.mape[0]),
            pct(a.mape[1]),
            pct(a.mape[2]),
            share(a.coverage[0]),
            share(a.coverage[1]),
            share(a.coverage[2]),
            share(a.overall_coverage(cases)),
        );
        for e in 0..3 {
            if let Some(m) = a.mape[e] {
                all[e] += m;
                counted[e] += 1;
            }
        }
    }
    let covered = cases.iter().filter(|c| c.covered()).count() as f64 / cases.len().max(1) as f64;
    let mean = |e: usize| (counted[e] > 0).then(|| all[e] / counted[e] as f64);
    println!(
        "  {:<44} {:>8} {:>8} {:>8} | {:>27}",
        "mean over the numbers / coverage of all",
        pct(mean(0)),
        pct(mean(1)),
        pct(mean(2)),
        share(Some(covered)),
    );
}

fn print_times(times: &[Duration]) {
    if times.is_empty() {
        return;
    }
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "  time per forecast: mean {:.1} ms, median {:.1} ms, max {:.1} ms ({} forecasts)",
        mean,
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    );
}

/// The request the server will make: one organization, 24 months (the demo's, with the
/// month in progress as its run rate), the current quarter with one month elapsed.
fn one_organization(current: Month, options: &ForecastOptions) {
    let months = demo_months(current, true);
    let mut ms = Vec::new();
    let mut numbers = 0;
    for _ in 0..20 {
        let started = Instant::now();
        if let Ok(f) = forecast_quarter(&months, current.quarter(), 1, &default_bands, options) {
            numbers = f.numbers.len();
        }
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "one organization, {} months, {} with 1 month elapsed: {} numbers in {:.1} ms (median of 20)",
        months.len(),
        current.quarter(),
        numbers,
        ms[ms.len() / 2]
    );
}

/// The 48 (or `n`) months of a generated organization: see the module doc.
fn test_company(seed: u64, n: i32) -> anyhow::Result<BTreeMap<Month, Values>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let base_endpoints = rng.random_range(400.0..800.0);
    let growth = rng.random_range(0.0..0.15);
    let start = Month::new(2022, 1)?;
    Ok((0..n)
        .map(|t| {
            let month = start.add_months(t);
            (
                month,
                company_month(&mut rng, month, t, base_endpoints, growth),
            )
        })
        .collect())
}

fn company_month(
    rng: &mut impl Rng,
    month: Month,
    t: i32,
    base_endpoints: f64,
    growth: f64,
) -> Values {
    let mut noise = |cv: f64| 1.0 + cv * normal(rng);
    let m = month.month();
    let season = |peak: u32, amplitude: f64| {
        1.0 + amplitude * (TAU * (f64::from(m) - f64::from(peak)) / 12.0).cos()
    };
    let half = |x: f64| (x * 2.0).round() / 2.0;
    let endpoints = (base_endpoints * (1.0 + growth * f64::from(t) / 12.0) * noise(0.01)).round();
    let seats = (0.9 * endpoints * noise(0.01)).round();
    let tickets_season = if m == 1 || m == 9 { 1.1 } else { 1.0 };
    let created = (endpoints * 0.45 * tickets_season * noise(0.08))
        .round()
        .max(0.0);
    let closed = (created * noise(0.02)).round().max(0.0);
    let hours = (created * 0.45 * noise(0.10)).max(0.0);
    let mrr = 190.0 * seats * noise(0.01);
    let nrr = 0.10 * mrr * noise(0.4);
    let orr = 0.12 * mrr * noise(0.15) * if m == 1 { 1.6 } else { 1.0 };
    let product_sales = (0.08 * mrr * season(12, 0.3) * noise(0.35)).max(0.0);
    let employees = half(seats / 63.0).max(1.0);
    let techs = half(employees * 0.65).max(0.5);
    let bonus = if m == 12 { 3_500.0 } else { 0.0 };
    let tax_top_up = if [1, 4, 6, 9].contains(&m) {
        3_000.0
    } else {
        0.0
    };
    let appointments = (3.0 * noise(0.4)).round().max(0.0);
    let new_agreements = noise(0.8).round().max(0.0);
    let values = [
        ("reactive_tickets_created", created),
        ("reactive_tickets_closed", closed),
        ("reactive_time_spent", hours),
        ("endpoints_managed", endpoints),
        ("nrr", nrr),
        ("mrr", mrr),
        ("orr", orr),
        ("product_sales", product_sales),
        (
            "employee_expense",
            4_500.0 * employees * noise(0.04) + bonus,
        ),
        ("owner_comp_taxes", 6_000.0 + tax_top_up),
        ("owner_comp", 22_000.0),
        ("product_cogs", 0.78 * product_sales * noise(0.05)),
        ("other_expenses", 0.25 * mrr * noise(0.07)),
        ("employees", employees),
        ("technical_employees", techs),
        ("seats_managed", seats),
        ("agreements", (seats / 15.0).round()),
        ("telemarketing_dials", (50.0 * noise(0.3)).round().max(0.0)),
        ("first_time_appointments", appointments),
        ("prospects_to_pbr", (0.6 * appointments).round()),
        ("new_agreements", new_agreements),
        (
            "new_mrr",
            (new_agreements * 1_500.0 * noise(0.3) + 300.0).max(0.0),
        ),
        ("lost_mrr", (600.0 * noise(0.6)).max(0.0)),
    ];
    values
        .into_iter()
        .map(|(k, v)| (k.to_string(), (v * 100.0).round() / 100.0))
        .collect()
}

/// A standard normal draw (Box–Muller; the bench has no `rand_distr`).
fn normal(rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
}
