//! `report-bench`: how long the printable QBR report takes to lay out and to write as
//! PDF, on a synthetic but complete quarter (18 SmartNumbers, 37 review rows, eight
//! quarters of trends). Pure CPU, no database: the data gathering is the same queries
//! as the SmartNumbers and trend endpoints, measured by `qbr-bench`.
//!
//! Run: `cargo run --release -p bench --bin report-bench [-- --runs 200]`.
use anyhow::Context;
use backend::report::{lay_out, Paper, ReportData, ReviewRow};
use hdrhistogram::Histogram;
use qbr_shared::api::{PreviousValue, SmartNumber, TrendSeries};
use qbr_shared::catalogue::METRICS;
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::thresholds::default_bands;
use qbr_shared::{Period, Quarter};
use std::time::Instant;

/// A repeatable pseudo-random walk: value `i` of series `k` around `base`.
fn wobble(base: f64, k: usize, i: usize) -> f64 {
    let x = ((k * 7919 + i * 104_729) % 1000) as f64 / 1000.0;
    base * (0.85 + 0.3 * x)
}

fn base_of(key: &str) -> f64 {
    default_bands(key)
        .and_then(|b| b.green_min.or(b.green_max))
        .filter(|v| *v != 0.0)
        .unwrap_or(1000.0)
}

fn synthetic(quarter: Quarter) -> ReportData {
    let mut periods = vec![quarter];
    while periods.len() < 8 {
        let earlier = periods[periods.len() - 1].prev();
        periods.push(earlier);
    }
    periods.reverse();
    let trends: Vec<TrendSeries> = SMARTNUMBERS
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let bands = default_bands(d.key);
            let values: Vec<Option<f64>> = (0..8)
                .map(|i| (i != 2).then(|| wobble(base_of(d.key), k, i)))
                .collect();
            // Judged as the product judges them (quarter-only numbers included).
            let statuses = periods
                .iter()
                .zip(&values)
                .map(|(q, v)| d.judge(&Period::Quarter(*q), bands.as_ref(), *v))
                .collect();
            TrendSeries {
                key: d.key.to_string(),
                label: d.label.to_string(),
                unit: d.unit,
                values,
                statuses,
                threshold: bands,
            }
        })
        .collect();
    let numbers = SMARTNUMBERS
        .iter()
        .zip(&trends)
        .map(|(d, t)| {
            let (value, previous) = (t.values[7], t.values[6]);
            SmartNumber {
                key: d.key.to_string(),
                label: d.label.to_string(),
                category: d.category,
                value,
                unit: d.unit,
                status: t.statuses[7],
                better: d.better,
                previous: PreviousValue {
                    period: periods[6].to_string(),
                    value: previous,
                    status: t.statuses[6],
                },
                change: value.zip(previous).map(|(v, p)| v - p),
                improved: value
                    .zip(previous)
                    .and_then(|(v, p)| d.improved(t.threshold.as_ref(), p, v)),
                missing_inputs: Vec::new(),
                null_reason: None,
                threshold: t.threshold,
                formula: String::new(),
            }
        })
        .collect();
    let review = METRICS
        .iter()
        .enumerate()
        .map(|(k, def)| ReviewRow {
            def,
            months: (0..3).map(|i| Some(wobble(25_000.0, k, i))).collect(),
            quarter: Some(wobble(75_000.0, k, 3)),
        })
        .collect();
    ReportData {
        organization: "Example MSP, LLC".to_string(),
        quarter,
        generated_at: "1 Apr 2025, 09:00 CDT".to_string(),
        months_counted: 3,
        numbers,
        months: quarter.months().to_vec(),
        review,
        trend_periods: periods.iter().map(Quarter::to_string).collect(),
        trends,
        summary: vec![
            "The health score is 74, up 6 points from Q4 2024.".to_string(),
            "RHEM rose from 0.22 h to 0.31 h because reactive hours grew 40% while \
             endpoints stayed flat."
                .to_string(),
        ],
        health_score: Some(74.0),
        goals: vec![
            "Net Profit % is 12.4% against a goal of 15.0% for 2025: 2.6 points to go.".to_string(),
        ],
        unusual: vec![
            "Total Time on Reactive Tickets in Feb 2025: 218.6 h, typical 112.1 h – 159.7 h."
                .to_string(),
        ],
        client_unusual: vec![
            "Acme Dental: Reactive tickets created in Feb 2025: 31, typical 0 – 21.".to_string(),
        ],
        forecast: Vec::new(),
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn summary(h: &Histogram<u64>) -> String {
    format!(
        "p50 {:.2} / p90 {:.2} / p99 {:.2} / max {:.2} ms",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.9)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map(|v| v.parse())
        .transpose()
        .context("--runs N")?
        .unwrap_or(200);
    let data = synthetic("2025-Q1".parse().context("quarter")?);
    println!("report-bench: {runs} runs per paper, one thread, synthetic 2025-Q1");
    for paper in [Paper::Letter, Paper::A4] {
        let mut layout_h = Histogram::<u64>::new(3)?;
        let mut pdf_h = Histogram::<u64>::new(3)?;
        let mut total_h = Histogram::<u64>::new(3)?;
        let (mut pages, mut bytes) = (0, 0);
        let started = Instant::now();
        for _ in 0..runs {
            let t0 = Instant::now();
            let layout = lay_out(&data, paper)?;
            let t1 = Instant::now();
            let pdf = layout.to_pdf()?;
            let t2 = Instant::now();
            layout_h.record((t1 - t0).as_micros() as u64)?;
            pdf_h.record((t2 - t1).as_micros() as u64)?;
            total_h.record((t2 - t0).as_micros() as u64)?;
            pages = layout.page_count();
            bytes = pdf.len();
        }
        let wall = started.elapsed().as_secs_f64();
        let layout_share = layout_h.mean() / total_h.mean();
        println!();
        println!("{paper:?}: {pages} pages, {:.1} KiB", bytes as f64 / 1024.0);
        println!("  layout : {}", summary(&layout_h));
        println!("  PDF    : {}", summary(&pdf_h));
        println!("  total  : {}", summary(&total_h));
        println!(
            "  {:.1} reports/s on one core; layout is {:.0}% of the time, writing the PDF {:.0}%",
            runs as f64 / wall,
            layout_share * 100.0,
            (1.0 - layout_share) * 100.0
        );
    }
    Ok(())
}
