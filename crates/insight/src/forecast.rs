//! Where will the quarter in progress land? Each *input* metric is forecast for the
//! quarter's remaining months, and each SmartNumber's end-of-quarter value follows by
//! simulation, with an 80 % interval and the status it would land in.
//!
//! # Inputs: ETS, or the recent mean when history is short
//! With at least [`ETS_MIN_HISTORY`] values an input gets `augurs-ets`' automatic
//! exponential smoothing (error additive or multiplicative, trend none / additive /
//! damped, chosen by AICc; augurs has no seasonal ETS yet). With fewer values, a constant
//! series or a failed fit it gets the mean of its last [`RECENT_MONTHS`] values with their
//! empirical spread (the spread of a month around that mean, plus the mean's own
//! uncertainty, shared by the remaining months). An input recorded in fewer than two
//! thirds of the last twelve months (miscellaneous revenue, a few rebates a year) is not
//! forecast: missing stays missing, exactly as the quarter's aggregation treats a month
//! without it.
//!
//! # Numbers: simulation, because SmartNumbers are ratios
//! A ratio of sums is not the ratio of the forecasts' intervals. [`ForecastOptions::draws`]
//! times (a seeded ChaCha generator: same input, same output) the remaining months of every
//! forecast input are drawn from their forecast distributions, aggregated with the elapsed
//! months by the catalogue's rules (`values::aggregate_inputs`, `values::with_derived`) and
//! the 18 SmartNumbers computed (`smartnumbers::compute`); the interval is the 10th–90th
//! percentile of the draws. The point forecast is computed from the point inputs. Draws of
//! an input whose unit can't be negative (counts, hours), or that never was negative in
//! its history (lost MRR, expenses), are cut at zero.
//!
//! A month's draws follow the innovations form of ETS: `y_h = point_h + σ·e_h +
//! c_h·σ·(e_1 + … + e_{h-1})`, with `c_h` set so that each month's spread equals ETS's
//! own interval. For simple exponential smoothing this is exact (`c_h = α`); it keeps the
//! months of a path correlated, which matters for a quarter's sum.
use std::collections::BTreeMap;

use augurs_core::{Fit, Predict};
use augurs_ets::AutoETS;
use qbr_shared::catalogue::{is_input, metric_def, MetricDef, METRICS};
use qbr_shared::expr::{EvalContext, Values};
use qbr_shared::smartnumbers::{compute, SMARTNUMBERS};
use qbr_shared::thresholds::{Bands, Status};
use qbr_shared::values::{aggregate_inputs, with_derived};
use qbr_shared::{Month, Quarter};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The interval's coverage: 80 % (10th to 90th percentile), wide enough to be honest,
/// narrow enough to say something about a status.
pub const LEVEL: f64 = 0.8;
const LOW_QUANTILE: f64 = (1.0 - LEVEL) / 2.0;
const HIGH_QUANTILE: f64 = 1.0 - LOW_QUANTILE;
/// The standard normal's 90th percentile: half an 80 % interval in standard deviations.
const Z_80: f64 = 1.281_551_565_545;

/// Values needed for an ETS fit; fewer (a new organization) use the recent mean.
pub const ETS_MIN_HISTORY: usize = 12;
/// The months of the recent mean.
pub const RECENT_MONTHS: usize = 6;
/// Fewer values than this: the input is not forecast (no spread can be estimated).
pub const MIN_VALUES: usize = 3;
/// The months in which an input must be regularly recorded to be forecast.
const PRESENCE_WINDOW: i32 = 12;

/// The default seed: any fixed value makes the simulation reproducible.
pub const SEED: u64 = 0x0B5E_55ED_F0CA_57ED;

/// How the forecast runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastOptions {
    /// Working hours per technician per month (the organization's setting).
    pub working_hours: f64,
    /// Simulated quarters: 2,000 puts the 10th and 90th percentiles within about a
    /// percentile point of their limit, in a few tens of milliseconds.
    pub draws: usize,
    pub seed: u64,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        ForecastOptions {
            working_hours: EvalContext::default().working_hours,
            draws: 2_000,
            seed: SEED,
        }
    }
}

/// Why no forecast could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    /// A quarter has three months: 0 to 3 of them can have elapsed.
    #[error("a quarter has 3 months, {0} cannot have elapsed")]
    Elapsed(usize),
}

/// How an input's remaining months were forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `augurs-ets` automatic exponential smoothing.
    Ets,
    /// Mean of the last [`RECENT_MONTHS`] values and their spread.
    RecentMean,
}

/// An input's forecast for one remaining month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthForecast {
    pub month: Month,
    pub point: f64,
    /// The 80 % interval.
    pub low: f64,
    pub high: f64,
}

/// An input metric's forecast for the quarter's remaining months.
#[derive(Debug, Clone, PartialEq)]
pub struct InputForecast {
    pub key: &'static str,
    pub model: Model,
    pub months: Vec<MonthForecast>,
}

/// The share of simulated quarters landing in each status (they sum to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusOdds {
    pub green: f64,
    pub yellow: f64,
    pub red: f64,
}

/// A SmartNumber's expected end-of-quarter value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberForecast {
    pub key: &'static str,
    /// From the point forecasts of the inputs.
    pub point: f64,
    /// The 10th and 90th percentiles of the simulated quarters.
    pub low: f64,
    pub high: f64,
    /// The status of the point forecast (`Status::None` without bands).
    pub status: Status,
    /// How often the simulated quarters land in each status (`None` without bands).
    pub odds: Option<StatusOdds>,
    /// The share of simulated quarters in which the number could be computed (a drawn
    /// denominator of zero, e.g. no first-time appointments, leaves it undefined).
    pub defined: f64,
}

/// The forecast of a quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarterForecast {
    pub quarter: Quarter,
    /// Months of the quarter taken as known.
    pub elapsed: usize,
    /// The forecast inputs (inputs not forecast are absent).
    pub inputs: Vec<InputForecast>,
    /// The SmartNumbers that can be computed, in the order of `SMARTNUMBERS`; a number
    /// whose inputs are missing has no forecast and is absent.
    pub numbers: Vec<NumberForecast>,
}

/// Forecasts `quarter` given its first `elapsed` months (0–3) and the history before it.
///
/// `months` holds each month's input values; months of the quarter after the elapsed ones
/// are ignored, so a backtest can pass everything. A month in progress counts as elapsed
/// when the caller puts its run rate (see `anomaly::run_rate`) in `months`. `bands` gives
/// each SmartNumber's bands (e.g. `&qbr_shared::thresholds::default_bands`).
pub fn forecast_quarter(
    months: &BTreeMap<Month, Values>,
    quarter: Quarter,
    elapsed: usize,
    bands: &dyn Fn(&str) -> Option<Bands>,
    options: &ForecastOptions,
) -> Result<QuarterForecast, ForecastError> {
    if elapsed > 3 {
        return Err(ForecastError::Elapsed(elapsed));
    }
    let quarter_months = quarter.months();
    let (known, remaining) = quarter_months.split_at(elapsed);
    let empty = Values::new();
    let known: Vec<&Values> = known
        .iter()
        .map(|m| months.get(m).unwrap_or(&empty))
        .collect();
    let paths: Vec<(&'static MetricDef, PathModel)> = match remaining.first() {
        Some(&start) => METRICS
            .iter()
            .filter(|d| is_input(d))
            .filter_map(|d| input_model(months, d.key, start, remaining.len()).map(|p| (d, p)))
            .collect(),
        None => Vec::new(),
    };
    let inputs = paths
        .iter()
        .map(|(d, p)| p.describe(d, remaining))
        .collect();
    let sim = Simulation {
        known: &known,
        paths: &paths,
        horizon: remaining.len(),
        working_hours: options.working_hours,
    };
    let numbers = sim.numbers(options, bands);
    Ok(QuarterForecast {
        quarter,
        elapsed,
        inputs,
        numbers,
    })
}

/// A remaining month's draw: `point_h + innovation·e_h + carry_h·innovation·Σ_{j<h} e_j
/// + shared·z`, with `e` and `z` standard normal.
#[derive(Debug, Clone, PartialEq)]
struct PathModel {
    model: Model,
    point: Vec<f64>,
    innovation: f64,
    carry: Vec<f64>,
    shared: f64,
    /// Draws are cut at zero: the unit can't be negative (counts, hours), or the
    /// amount never was in its history (lost MRR, expenses — only NRR goes below zero
    /// with credits, and its history shows it).
    non_negative: bool,
}

impl PathModel {
    fn floor(&self, v: f64) -> f64 {
        if self.non_negative {
            v.max(0.0)
        } else {
            v
        }
    }

    /// The standard deviation of month `h` (0-based).
    fn spread(&self, h: usize) -> f64 {
        let carried = self.carry[h] * self.carry[h] * h as f64;
        (self.innovation * self.innovation * (1.0 + carried) + self.shared * self.shared).sqrt()
    }

    fn describe(&self, def: &MetricDef, remaining: &[Month]) -> InputForecast {
        let floor = |v: f64| self.floor(v);
        InputForecast {
            key: def.key,
            model: self.model,
            months: remaining
                .iter()
                .enumerate()
                .map(|(h, &month)| MonthForecast {
                    month,
                    point: floor(self.point[h]),
                    low: floor(self.point[h] - Z_80 * self.spread(h)),
                    high: floor(self.point[h] + Z_80 * self.spread(h)),
                })
                .collect(),
        }
    }

    /// One path of the remaining months into `out`.
    fn draw(&self, rng: &mut ChaCha8Rng, out: &mut [f64]) {
        let shared: f64 = StandardNormal.sample(rng);
        let mut past = 0.0;
        for (h, slot) in out.iter_mut().enumerate() {
            let e: f64 = StandardNormal.sample(rng);
            *slot =
                self.point[h] + self.innovation * (e + self.carry[h] * past) + self.shared * shared;
            past += e;
        }
    }
}

/// The model of `key`'s months from `start` on, from the values before it; `None` when
/// the input is not regularly recorded.
fn input_model(
    months: &BTreeMap<Month, Values>,
    key: &str,
    start: Month,
    horizon: usize,
) -> Option<PathModel> {
    let series: Vec<(Month, f64)> = months
        .range(..start)
        .filter_map(|(m, v)| v.get(key).map(|x| (*m, *x)))
        .filter(|(_, x)| x.is_finite())
        .collect();
    if series.len() < MIN_VALUES || !regularly_recorded(months, &series, start) {
        return None;
    }
    let values: Vec<f64> = series.iter().map(|(_, x)| *x).collect();
    let constant = values.iter().all(|x| *x == values[0]);
    let model = (values.len() >= ETS_MIN_HISTORY && !constant)
        .then(|| ets_model(&values, horizon))
        .flatten()
        .unwrap_or_else(|| recent_mean_model(&values, horizon));
    let never_negative = values.iter().all(|x| *x >= 0.0);
    let can_be_negative = metric_def(key).is_some_and(MetricDef::allows_negative);
    Some(PathModel {
        non_negative: !can_be_negative || never_negative,
        ..model
    })
}

/// Recorded in at least two thirds of the last twelve months before `start` (of those the
/// data covers).
fn regularly_recorded(
    months: &BTreeMap<Month, Values>,
    series: &[(Month, f64)],
    start: Month,
) -> bool {
    let Some(first) = months.keys().next() else {
        return false;
    };
    let window_start = start.add_months(-PRESENCE_WINDOW).max(*first);
    let covered = window_start.months_until(start).max(0);
    let present = series.iter().filter(|(m, _)| *m >= window_start).count();
    covered > 0 && 3 * present as i32 >= 2 * covered
}

fn ets_model(values: &[f64], horizon: usize) -> Option<PathModel> {
    let fitted = AutoETS::new(1, "ZZN").ok()?.fit(values).ok()?;
    let forecast = fitted.predict(horizon, LEVEL).ok()?;
    let intervals = forecast.intervals?;
    let sd: Vec<f64> = intervals
        .lower
        .iter()
        .zip(&intervals.upper)
        .map(|(lo, hi)| (hi - lo) / (2.0 * Z_80))
        .collect();
    let usable = forecast.point.iter().chain(&sd).all(|x| x.is_finite());
    let innovation = *sd.first()?;
    if !usable || forecast.point.len() != horizon || innovation <= 0.0 {
        return None;
    }
    let carry = sd
        .iter()
        .enumerate()
        .map(|(h, s)| match h {
            0 => 0.0,
            _ => ((s * s / (innovation * innovation) - 1.0).max(0.0) / h as f64).sqrt(),
        })
        .collect();
    Some(PathModel {
        model: Model::Ets,
        point: forecast.point,
        innovation,
        carry,
        shared: 0.0,
        non_negative: false,
    })
}

fn recent_mean_model(values: &[f64], horizon: usize) -> PathModel {
    let recent = &values[values.len().saturating_sub(RECENT_MONTHS)..];
    let k = recent.len() as f64;
    let mean = recent.iter().sum::<f64>() / k;
    let variance = recent.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
    let sd = variance.sqrt();
    PathModel {
        model: Model::RecentMean,
        point: vec![mean; horizon],
        innovation: sd,
        carry: vec![0.0; horizon],
        shared: sd / k.sqrt(),
        non_negative: false,
    }
}

/// The quarter's SmartNumbers from the known months and the input paths.
struct Simulation<'a> {
    known: &'a [&'a Values],
    paths: &'a [(&'static MetricDef, PathModel)],
    horizon: usize,
    working_hours: f64,
}

impl Simulation<'_> {
    /// The remaining months with every forecast input at its point forecast.
    fn point_months(&self) -> Vec<Values> {
        (0..self.horizon)
            .map(|h| {
                self.paths
                    .iter()
                    .map(|(d, p)| (d.key.to_string(), p.floor(p.point[h])))
                    .collect()
            })
            .collect()
    }

    /// The 18 numbers of a quarter whose remaining months are `future`.
    fn quarter(&self, future: &[Values]) -> Vec<Option<f64>> {
        let all: Vec<&Values> = self.known.iter().copied().chain(future).collect();
        let values = with_derived(&aggregate_inputs(&all), None);
        compute(&values, 3, self.working_hours)
            .into_iter()
            .map(|c| c.value.filter(|v| v.is_finite()))
            .collect()
    }

    fn numbers(
        &self,
        options: &ForecastOptions,
        bands: &dyn Fn(&str) -> Option<Bands>,
    ) -> Vec<NumberForecast> {
        let mut future = self.point_months();
        let points = self.quarter(&future);
        let draws = self.draws(options, &mut future);
        SMARTNUMBERS
            .iter()
            .zip(points)
            .zip(draws)
            .filter_map(|((def, point), draws)| {
                let point = point?;
                Some(summarize(def.key, point, draws, options.draws, bands))
            })
            .collect()
    }

    /// Each number's defined values over the draws (empty when nothing is forecast: the
    /// quarter is then known and the interval has zero width).
    fn draws(&self, options: &ForecastOptions, future: &mut [Values]) -> Vec<Vec<f64>> {
        let mut out = vec![Vec::with_capacity(options.draws); SMARTNUMBERS.len()];
        if self.horizon == 0 || self.paths.is_empty() {
            return out;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let mut path = vec![0.0; self.horizon];
        for _ in 0..options.draws {
            for (def, model) in self.paths {
                model.draw(&mut rng, &mut path);
                for (month, v) in future.iter_mut().zip(&path) {
                    if let Some(slot) = month.get_mut(def.key) {
                        *slot = model.floor(*v);
                    }
                }
            }
            for (acc, v) in out.iter_mut().zip(self.quarter(future)) {
                if let Some(v) = v {
                    acc.push(v);
                }
            }
        }
        out
    }
}

fn summarize(
    key: &'static str,
    point: f64,
    mut draws: Vec<f64>,
    n: usize,
    bands: &dyn Fn(&str) -> Option<Bands>,
) -> NumberForecast {
    let bands = bands(key).filter(|b| !b.is_empty());
    if draws.is_empty() {
        // Nothing left to draw: the quarter is known.
        return NumberForecast {
            key,
            point,
            low: point,
            high: point,
            status: bands.map_or(Status::None, |b| b.status(Some(point))),
            odds: bands.map(|b| odds(&b, &[point])),
            defined: 1.0,
        };
    }
    draws.sort_by(f64::total_cmp);
    NumberForecast {
        key,
        point,
        low: quantile(&draws, LOW_QUANTILE),
        high: quantile(&draws, HIGH_QUANTILE),
        status: bands.map_or(Status::None, |b| b.status(Some(point))),
        odds: bands.map(|b| odds(&b, &draws)),
        defined: draws.len() as f64 / n.max(1) as f64,
    }
}

fn odds(bands: &Bands, draws: &[f64]) -> StatusOdds {
    let n = draws.len().max(1) as f64;
    let share = |s: Status| {
        draws
            .iter()
            .filter(|v| bands.status(Some(**v)) == s)
            .count() as f64
            / n
    };
    StatusOdds {
        green: share(Status::Green),
        yellow: share(Status::Yellow),
        red: share(Status::Red),
    }
}

/// The `q` quantile of sorted values, linearly interpolated (values not empty).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use qbr_shared::thresholds::default_bands;

    fn month(i: i32) -> Month {
        Month::new(2023, 1).unwrap().add_months(i)
    }

    fn quarter_at(i: i32) -> Quarter {
        month(i).quarter()
    }

    /// Typical levels of every input of a small MSP.
    const LEVELS: &[(&str, f64)] = &[
        ("reactive_tickets_created", 290.0),
        ("reactive_tickets_closed", 288.0),
        ("reactive_time_spent", 125.0),
        ("endpoints_managed", 590.0),
        ("nrr", 11_000.0),
        ("mrr", 110_000.0),
        ("orr", 14_000.0),
        ("product_sales", 9_000.0),
        ("employee_expense", 38_000.0),
        ("owner_comp_taxes", 6_000.0),
        ("owner_comp", 22_588.0),
        ("product_cogs", 7_000.0),
        ("other_expenses", 28_000.0),
        ("employees", 8.5),
        ("technical_employees", 5.5),
        ("seats_managed", 535.0),
        ("agreements", 36.0),
        ("telemarketing_dials", 50.0),
        ("first_time_appointments", 3.0),
        ("prospects_to_pbr", 2.0),
        ("new_agreements", 1.0),
        ("new_mrr", 2_000.0),
        ("lost_mrr", 500.0),
    ];

    /// `n` months of every input at its level with `noise` relative noise.
    fn company(n: i32, noise: f64, seed: u64) -> BTreeMap<Month, Values> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let values = LEVELS
                    .iter()
                    .map(|(k, level)| {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        (k.to_string(), (level * (1.0 + noise * e)).max(0.0))
                    })
                    .collect();
                (month(i), values)
            })
            .collect()
    }

    fn single(key: &str, values: &[f64]) -> BTreeMap<Month, Values> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (month(i as i32), Values::from([(key.to_string(), *v)])))
            .collect()
    }

    fn number<'a>(f: &'a QuarterForecast, key: &str) -> Option<&'a NumberForecast> {
        f.numbers.iter().find(|n| n.key == key)
    }

    fn options(draws: usize) -> ForecastOptions {
        ForecastOptions {
            draws,
            ..ForecastOptions::default()
        }
    }

    /// The share of `trials` synthetic histories (24 months of `process`, then the quarter)
    /// whose true quarter sum of `new_mrr` lies in the 80 % interval of New MRR Added.
    fn coverage(trials: u64, elapsed: usize, process: impl Fn(i32, f64) -> f64) -> f64 {
        let mut hits = 0;
        for trial in 0..trials {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + trial);
            let series: Vec<f64> = (0..27)
                .map(|t| process(t, StandardNormal.sample(&mut rng)))
                .collect();
            let truth: f64 = series[24..].iter().sum();
            let months = single("new_mrr", &series);
            let f = forecast_quarter(&months, quarter_at(24), elapsed, &|_| None, &options(400))
                .unwrap();
            let n = number(&f, "new_mrr_added").unwrap();
            if n.low <= truth && truth <= n.high {
                hits += 1;
            }
        }
        hits as f64 / trials as f64
    }

    #[test]
    fn intervals_cover_an_iid_process_about_80_percent() {
        let c = coverage(150, 0, |_, e| 2_000.0 + 300.0 * e);
        eprintln!("coverage {c}");
        assert!((0.7..=0.9).contains(&c), "coverage {c}");
    }

    #[test]
    fn intervals_cover_a_trend_with_noise_about_80_percent() {
        let c = coverage(150, 1, |t, e| 1_000.0 + 40.0 * f64::from(t) + 150.0 * e);
        eprintln!("coverage {c}");
        assert!((0.7..=0.9).contains(&c), "coverage {c}");
    }

    #[test]
    fn a_short_history_uses_the_recent_mean_and_still_covers() {
        // Nine months of history (2023-01 .. 2023-09), then Q4: too short for ETS.
        let q = quarter_at(9);
        assert_eq!(q.months()[0], month(9));
        let mut hits = 0;
        for trial in 0..150 {
            let mut rng = ChaCha8Rng::seed_from_u64(5000 + trial);
            let series: Vec<f64> = (0..12)
                .map(|_| {
                    let e: f64 = StandardNormal.sample(&mut rng);
                    2_000.0 + 300.0 * e
                })
                .collect();
            let truth: f64 = series[9..].iter().sum();
            let f = forecast_quarter(&single("new_mrr", &series), q, 0, &|_| None, &options(400))
                .unwrap();
            assert_eq!(f.inputs[0].model, Model::RecentMean);
            let n = number(&f, "new_mrr_added").unwrap();
            if n.low <= truth && truth <= n.high {
                hits += 1;
            }
        }
        let c = f64::from(hits) / 150.0;
        eprintln!("coverage {c}");
        assert!((0.7..=0.9).contains(&c), "coverage {c}");
    }

    #[test]
    fn a_constant_series_forecasts_the_constant() {
        let months = single("new_mrr", &[1_500.0; 24]);
        let f = forecast_quarter(&months, quarter_at(24), 0, &|_| None, &options(200)).unwrap();
        let n = number(&f, "new_mrr_added").unwrap();
        assert_eq!(n.point, 4_500.0);
        assert_eq!((n.low, n.high), (4_500.0, 4_500.0));
        assert_eq!(f.inputs[0].months[2].point, 1_500.0);
    }

    #[test]
    fn a_complete_quarter_is_its_actual_value_with_zero_width() {
        let months = company(27, 0.1, 7);
        let q = quarter_at(24);
        let f = forecast_quarter(&months, q, 3, &default_bands, &options(200)).unwrap();
        assert!(f.inputs.is_empty());
        let inputs: Vec<&Values> = q.months().iter().map(|m| &months[m]).collect();
        let actual = compute(&with_derived(&aggregate_inputs(&inputs), None), 3, 167.0);
        assert_eq!(f.numbers.len(), 18);
        for (n, a) in f.numbers.iter().zip(actual) {
            assert_eq!(n.key, a.key);
            assert_eq!(n.point, a.value.unwrap());
            assert_eq!((n.low, n.high), (n.point, n.point));
        }
    }

    #[test]
    fn every_number_gets_an_interval_around_its_point_and_a_status() {
        let months = company(25, 0.08, 11);
        let f =
            forecast_quarter(&months, quarter_at(24), 1, &default_bands, &options(500)).unwrap();
        assert_eq!(f.numbers.len(), 18);
        assert_eq!(f.inputs.len(), LEVELS.len());
        assert!(f
            .inputs
            .iter()
            .all(|i| i.model == Model::Ets && i.months.len() == 2));
        for n in &f.numbers {
            assert!(n.low <= n.point && n.point <= n.high, "{n:?}");
            assert!(n.low < n.high, "{n:?}");
        }
        let rhem = number(&f, "rhem").unwrap();
        assert_ne!(rhem.status, Status::None);
        let odds = rhem.odds.unwrap();
        assert!((odds.green + odds.yellow + odds.red - 1.0).abs() < 1e-9);
        // No bands, no status.
        let none = forecast_quarter(&months, quarter_at(24), 1, &|_| None, &options(50)).unwrap();
        assert!(none
            .numbers
            .iter()
            .all(|n| n.status == Status::None && n.odds.is_none()));
    }

    #[test]
    fn the_same_input_gives_the_same_forecast() {
        let months = company(26, 0.1, 3);
        let run = || forecast_quarter(&months, quarter_at(24), 2, &default_bands, &options(300));
        assert_eq!(run().unwrap(), run().unwrap());
        let other = ForecastOptions {
            seed: 42,
            ..options(300)
        };
        let reseeded = forecast_quarter(&months, quarter_at(24), 2, &default_bands, &other);
        assert_ne!(run().unwrap(), reseeded.unwrap());
    }

    #[test]
    fn missing_inputs_stay_missing() {
        let mut months = company(24, 0.1, 5);
        for (i, values) in months.values_mut().enumerate() {
            values.remove("technical_employees");
            // Miscellaneous revenue in two months only: not forecast.
            if i % 10 == 3 {
                values.insert("misc_revenue".into(), 1_000.0);
            }
        }
        let f = forecast_quarter(&months, quarter_at(24), 0, &|_| None, &options(100)).unwrap();
        assert!(number(&f, "tickets_per_tech_per_month").is_none());
        assert!(number(&f, "annual_service_rev_per_tech").is_none());
        assert!(number(&f, "rhem").is_some());
        assert!(f.inputs.iter().all(|i| i.key != "misc_revenue"));
    }

    #[test]
    fn counts_and_hours_are_never_drawn_negative() {
        // Hours near zero with a large spread.
        let values: Vec<f64> = (0..24)
            .map(|i| if i % 2 == 0 { 0.0 } else { 6.0 })
            .collect();
        let months = single("reactive_time_spent", &values);
        let f = forecast_quarter(&months, quarter_at(24), 0, &|_| None, &options(100)).unwrap();
        assert!(f.inputs[0].months.iter().all(|m| m.low >= 0.0));
    }

    #[test]
    fn an_amount_never_negative_is_not_drawn_negative_but_one_that_was_can_be() {
        // Lost MRR: zero most months, a cancellation now and then.
        let lost: Vec<f64> = (0..24)
            .map(|i| if i % 3 == 0 { 900.0 } else { 0.0 })
            .collect();
        let months = single("lost_mrr", &lost);
        let f = forecast_quarter(&months, quarter_at(24), 0, &|_| None, &options(100)).unwrap();
        assert!(f.inputs[0].months.iter().all(|m| m.low >= 0.0), "{f:?}");
        // NRR with credits larger than billing in some months keeps its lower tail.
        let nrr: Vec<f64> = (0..24)
            .map(|i| if i % 3 == 0 { -900.0 } else { 300.0 })
            .collect();
        let months = single("nrr", &nrr);
        let f = forecast_quarter(&months, quarter_at(24), 0, &|_| None, &options(100)).unwrap();
        assert!(f.inputs[0].months.iter().any(|m| m.low < 0.0), "{f:?}");
    }

    #[test]
    fn a_quarter_has_three_months() {
        let months = company(12, 0.1, 1);
        let err = forecast_quarter(&months, quarter_at(12), 4, &|_| None, &options(10));
        assert_eq!(err, Err(ForecastError::Elapsed(4)));
    }
}
