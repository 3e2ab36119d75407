//! How good are the forecasts? A rolling-origin backtest: every past quarter with enough
//! history before it is forecast as if 0, 1 and 2 of its months had elapsed (only the
//! months before the origin are seen), and compared with what the quarter turned out to be.
use std::collections::BTreeMap;

use qbr_shared::expr::Values;
use qbr_shared::smartnumbers::{compute, SMARTNUMBERS};
use qbr_shared::values::{aggregate_inputs, with_derived};
use qbr_shared::{Month, Quarter};

use crate::forecast::{forecast_quarter, ForecastOptions, NumberForecast};

/// The origins: months of the quarter elapsed when forecasting.
pub const ORIGINS: [usize; 3] = [0, 1, 2];

/// Actuals smaller than this fraction of the number's mean magnitude over the backtest are
/// left out of the MAPE: a percentage error against a Net MRR Gain of 12 dollars says
/// nothing (they still count for coverage, which doesn't divide).
pub const NEAR_ZERO: f64 = 0.05;

/// One SmartNumber of one quarter forecast from one origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Case {
    pub quarter: Quarter,
    pub elapsed: usize,
    pub forecast: NumberForecast,
    pub actual: f64,
}

impl Case {
    /// Whether the actual value lies in the 80 % interval.
    pub fn covered(&self) -> bool {
        self.forecast.low <= self.actual && self.actual <= self.forecast.high
    }
}

/// Forecasts every quarter of `months` that is complete (its three months present) and
/// has at least `min_history` months of data before it, from each of [`ORIGINS`]; also
/// returns the time spent per forecast.
pub fn backtest(
    months: &BTreeMap<Month, Values>,
    min_history: usize,
    options: &ForecastOptions,
) -> (Vec<Case>, Vec<std::time::Duration>) {
    let mut cases = Vec::new();
    let mut times = Vec::new();
    for quarter in quarters(months, min_history) {
        let Some(actual) = actual_numbers(months, quarter) else {
            continue;
        };
        for elapsed in ORIGINS {
            let started = std::time::Instant::now();
            let Ok(forecast) = forecast_quarter(months, quarter, elapsed, &|_| None, options)
            else {
                continue;
            };
            times.push(started.elapsed());
            cases.extend(forecast.numbers.into_iter().filter_map(|f| {
                actual.get(f.key).map(|&actual| Case {
                    quarter,
                    elapsed,
                    forecast: f,
                    actual,
                })
            }));
        }
    }
    (cases, times)
}

/// The complete quarters with `min_history` months of data before them.
fn quarters(months: &BTreeMap<Month, Values>, min_history: usize) -> Vec<Quarter> {
    let mut out: Vec<Quarter> = months.keys().map(|m| m.quarter()).collect();
    out.dedup();
    out.retain(|q| {
        let first = q.months()[0];
        q.months().iter().all(|m| months.contains_key(m))
            && months.range(..first).count() >= min_history
    });
    out
}

/// A quarter's SmartNumbers from its three months' inputs.
fn actual_numbers(
    months: &BTreeMap<Month, Values>,
    quarter: Quarter,
) -> Option<BTreeMap<&'static str, f64>> {
    let inputs: Vec<&Values> = quarter
        .months()
        .iter()
        .map(|m| months.get(m))
        .collect::<Option<_>>()?;
    let values = with_derived(&aggregate_inputs(&inputs), None);
    Some(
        compute(
            &values,
            3,
            crate::forecast::ForecastOptions::default().working_hours,
        )
        .into_iter()
        .filter_map(|c| c.value.map(|v| (c.key, v)))
        .collect(),
    )
}

/// A SmartNumber's accuracy over a backtest, by origin (index = months elapsed).
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    pub key: &'static str,
    /// Mean absolute percentage error (as a fraction), near-zero actuals left out.
    pub mape: [Option<f64>; 3],
    /// Share of actuals inside the 80 % interval.
    pub coverage: [Option<f64>; 3],
    /// Cases per origin.
    pub cases: [usize; 3],
}

impl Accuracy {
    /// Coverage over all origins.
    pub fn overall_coverage(&self, cases: &[Case]) -> Option<f64> {
        share(
            cases.iter().filter(|c| c.forecast.key == self.key),
            Case::covered,
        )
    }
}

/// Per SmartNumber (in the order of `SMARTNUMBERS`, numbers without cases left out).
pub fn accuracy(cases: &[Case]) -> Vec<Accuracy> {
    SMARTNUMBERS
        .iter()
        .filter_map(|def| {
            let mine: Vec<&Case> = cases.iter().filter(|c| c.forecast.key == def.key).collect();
            if mine.is_empty() {
                return None;
            }
            let scale = mine.iter().map(|c| c.actual.abs()).sum::<f64>() / mine.len() as f64;
            let at = |e: usize| mine.iter().copied().filter(move |c| c.elapsed == e);
            Some(Accuracy {
                key: def.key,
                mape: ORIGINS.map(|e| mape(at(e), scale)),
                coverage: ORIGINS.map(|e| share(at(e), Case::covered)),
                cases: ORIGINS.map(|e| at(e).count()),
            })
        })
        .collect()
}

fn mape<'a>(cases: impl Iterator<Item = &'a Case>, scale: f64) -> Option<f64> {
    let errors: Vec<f64> = cases
        .filter(|c| c.actual != 0.0 && c.actual.abs() >= NEAR_ZERO * scale)
        .map(|c| ((c.forecast.point - c.actual) / c.actual).abs())
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}

fn share<'a>(cases: impl Iterator<Item = &'a Case>, pred: impl Fn(&Case) -> bool) -> Option<f64> {
    let (n, hits) = cases.fold((0usize, 0usize), |(n, h), c| {
        (n + 1, h + usize::from(pred(c)))
    });
    (n > 0).then(|| hits as f64 / n as f64)
}
