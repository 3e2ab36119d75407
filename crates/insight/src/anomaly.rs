//! Anomalies: is a month's value unusual for *this* metric of *this* organization?
//!
//! A month is scored against its own trailing history (the up to [`MAX_HISTORY`] months
//! before it, at least [`MIN_HISTORY`] values) with the robust z-score of Iglewicz and
//! Hoaglin: `(x − median) / (1.4826 × MAD)`. Median and MAD ignore the very outliers we
//! are looking for (a mean and a standard deviation would be dragged along by last
//! spring's incident and hide the next one), and 1.4826 makes the MAD estimate the
//! standard deviation of normal noise, so the score reads like a z-score.
//!
//! # Seasonality: a per-calendar-month component, not augurs
//! When the window holds two full years ([`SEASONAL_HISTORY`] months, all present) a
//! calendar-month component is removed first: each value's deviation from the median of
//! its own 12-month block (which absorbs a level shift between the two years), averaged
//! per calendar month over the two years. December's usual peak is then expected, and
//! only a December unusual *for a December* scores high.
//!
//! Grafana's `augurs` crates were considered: `augurs-outlier` detects the outlying
//! series among many series (DBSCAN / MAD across hosts), not a month against its own
//! history; `augurs-mstl` needs STL on exactly two periods (24 points), where its seasonal
//! component is as noisy as the per-month average above and much harder to explain on a
//! dashboard ("your December is usually 30 % above your year"). The simple method is
//! exact for the case that matters (two years of monthly data) and has no moving parts.
//!
//! With only two years, the seasonal component is itself estimated from two values per
//! calendar month: residuals in the window are too small by `√(1 − ½)` and the new
//! month's residual too large by `√(1 + ½)`. The scale is corrected by
//! `√((1 + ½) / (1 − ½)) = √3`, else a perfectly normal month would score as an anomaly.
//!
//! # Flat and zero series
//! When more than half the months are equal (a count that is mostly 0 or 1) the MAD is 0
//! and, as Iglewicz and Hoaglin suggest, 1.2533 × the mean absolute deviation stands in.
//! A constant series has both 0. The scale is never below [`RELATIVE_FLOOR`] of the
//! median's magnitude (nor [`ABSOLUTE_FLOOR`]), so a constant series scores its own value
//! 0 (never NaN, never flagged), and a departure from a flat series is judged in
//! proportion to its level.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use qbr_shared::catalogue::Aggregation;
use qbr_shared::Month;

/// |score| above this is an anomaly: the cut-off Iglewicz and Hoaglin recommend for the
/// modified z-score (a normal month passes it about once in 2,000; 3.0 would flag a
/// normal month of the 18 numbers × 12 months of a dashboard every few years).
pub const THRESHOLD: f64 = 3.5;

/// Fewer values of history than this: no score (a median of five months says little).
pub const MIN_HISTORY: usize = 6;

/// The trailing window: at most this many months before the scored one.
pub const MAX_HISTORY: i32 = 24;

/// Months of history (all present) needed to remove a seasonal component: two years, so
/// every calendar month is seen twice.
pub const SEASONAL_HISTORY: usize = 24;

/// The scale is at least this fraction of the median's magnitude: on a flat history a
/// month 17.5 % away (3.5 × 5 %) is unusual, less is not.
pub const RELATIVE_FLOOR: f64 = 0.05;

/// The scale is at least this (a series of zeros has no magnitude to take a fraction of).
pub const ABSOLUTE_FLOOR: f64 = 1e-9;

/// Scales the MAD to the standard deviation of normal noise.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Scales the mean absolute deviation to the standard deviation of normal noise.
const MEAN_AD_TO_SIGMA: f64 = 1.253_314;

/// Which side of the typical value a month lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Above,
    Below,
    /// Exactly the typical value.
    Level,
}

impl Direction {
    fn of(score: f64) -> Direction {
        if score > 0.0 {
            Direction::Above
        } else if score < 0.0 {
            Direction::Below
        } else {
            Direction::Level
        }
    }
}

/// The values a month could have taken without being an anomaly (score within
/// ±[`THRESHOLD`]), for a "typically 120 – 160" hint next to the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Typical {
    pub low: f64,
    pub high: f64,
}

/// One month's value scored against its own history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyScore {
    pub month: Month,
    pub value: f64,
    /// The robust z-score (positive: above the typical value).
    pub score: f64,
    /// The typical value of the month: the history's median, plus the month's seasonal
    /// component when there is one.
    pub expected: f64,
    pub typical: Typical,
    pub direction: Direction,
    /// `|score| > THRESHOLD`.
    pub is_anomaly: bool,
    /// Whether a calendar-month component was removed (two full years of history).
    pub seasonal: bool,
    /// How many months of history the score rests on.
    pub history: usize,
}

/// Scores `value` of `month` against the months of `series` before it (the window of
/// [`MAX_HISTORY`] months; values of `month` or later are ignored, so a series may be
/// passed whole). `None` with fewer than [`MIN_HISTORY`] values or a non-finite value.
pub fn score_series(series: &[(Month, f64)], month: Month, value: f64) -> Option<AnomalyScore> {
    score_series_with(series, month, value, Noise::Measured)
}

/// How much a series varies by chance alone, beyond what its history shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Only the history's own spread (an organization's totals: hundreds of tickets a
    /// month, where the history shows the noise well).
    Measured,
    /// Counts of independent events (one client's tickets, or hours made of them):
    /// the spread is at least the Poisson noise `√max(typical, 1)`. A small client with
    /// tickets in one month of twelve has a MAD of 0, and without this floor its next
    /// single ticket would score as a wild anomaly; with it, a month needs 4 tickets
    /// against a typical 0 (and 12 against a typical 4) to be unusual.
    Counts,
    /// A level counted in whole things (one client's devices): at least one thing, so
    /// a client of three endpoints that gets a fourth is not unusual (by the 5 % floor
    /// alone it would be), while twenty more are.
    Level,
    /// A ratio of such a count to a level (tickets per endpoint): the count's Poisson
    /// noise divided by the level, `√max(typical × level, 1) / level`.
    CountsPer(f64),
}

impl Noise {
    /// The least scale a series of typical value `center` has by chance.
    fn floor(self, center: f64) -> f64 {
        match self {
            Noise::Measured => 0.0,
            Noise::Counts => center.abs().max(1.0).sqrt(),
            Noise::Level => 1.0,
            Noise::CountsPer(level) if level.is_finite() && level > 0.0 => {
                (center.abs() * level).max(1.0).sqrt() / level
            }
            Noise::CountsPer(_) => 0.0,
        }
    }
}

/// [`score_series`] with the series' chance [`Noise`] as a floor on its scale.
pub fn score_series_with(
    series: &[(Month, f64)],
    month: Month,
    value: f64,
    noise: Noise,
) -> Option<AnomalyScore> {
    if !value.is_finite() {
        return None;
    }
    let window = trailing_window(series, month);
    if window.len() < MIN_HISTORY {
        return None;
    }
    let model = Baseline::fit(&window, month, noise);
    let expected = model.center + model.seasonal_of(month);
    let score = (value - expected) / model.scale;
    let half_width = THRESHOLD * model.scale;
    Some(AnomalyScore {
        month,
        value,
        score,
        expected,
        typical: Typical {
            low: expected - half_width,
            high: expected + half_width,
        },
        direction: Direction::of(score),
        is_anomaly: score.abs() > THRESHOLD,
        seasonal: model.seasonal.is_some(),
        history: window.len(),
    })
}

/// Scores every month of `series` that has enough history, oldest first.
pub fn anomalies(series: &[(Month, f64)]) -> Vec<AnomalyScore> {
    let mut sorted = series.to_vec();
    sorted.sort_by_key(|(m, _)| *m);
    sorted
        .iter()
        .filter_map(|&(m, v)| score_series(&sorted, m, v))
        .collect()
}

/// The finite values of the [`MAX_HISTORY`] months before `month`, by month (a later
/// duplicate of a month wins).
fn trailing_window(series: &[(Month, f64)], month: Month) -> BTreeMap<Month, f64> {
    let first = month.add_months(-MAX_HISTORY);
    series
        .iter()
        .filter(|(m, v)| *m >= first && *m < month && v.is_finite())
        .map(|&(m, v)| (m, v))
        .collect()
}

/// The history's typical value, spread and (with two years) calendar-month component.
struct Baseline {
    center: f64,
    scale: f64,
    /// Component by calendar month (index 0 = January).
    seasonal: Option<[f64; 12]>,
}

impl Baseline {
    fn fit(window: &BTreeMap<Month, f64>, month: Month, noise: Noise) -> Baseline {
        let seasonal = seasonal_component(window, month);
        let residuals: Vec<f64> = window
            .iter()
            .map(|(m, v)| v - seasonal.map_or(0.0, |s| s[calendar_index(*m)]))
            .collect();
        let center = median(&residuals);
        let deviations: Vec<f64> = residuals.iter().map(|r| (r - center).abs()).collect();
        // With a component estimated from two years, see the module doc: √3.
        let inflation = if seasonal.is_some() { 3f64.sqrt() } else { 1.0 };
        let mad = median(&deviations);
        // Iglewicz–Hoaglin: with MAD 0 (over half the months equal, e.g. a count that is
        // mostly 0 or 1) the mean absolute deviation stands in for it.
        let spread = if mad > 0.0 {
            MAD_TO_SIGMA * mad
        } else {
            MEAN_AD_TO_SIGMA * deviations.iter().sum::<f64>() / deviations.len().max(1) as f64
        };
        let sigma = spread * inflation;
        let scale = sigma
            .max(RELATIVE_FLOOR * center.abs())
            .max(noise.floor(center))
            .max(ABSOLUTE_FLOOR);
        Baseline {
            center,
            scale,
            seasonal,
        }
    }

    fn seasonal_of(&self, month: Month) -> f64 {
        self.seasonal.map_or(0.0, |s| s[calendar_index(month)])
    }
}

/// The per-calendar-month component when the 24 months before `month` are all present:
/// each value's deviation from its 12-month block's median, averaged per calendar month
/// and centered (the twelve components sum to zero).
fn seasonal_component(window: &BTreeMap<Month, f64>, month: Month) -> Option<[f64; 12]> {
    if window.len() < SEASONAL_HISTORY {
        return None;
    }
    let mut sums = [0.0; 12];
    let mut counts = [0u32; 12];
    for block in 0..2 {
        let start = month.add_months(-12 * (block + 1));
        let values: Vec<(Month, f64)> = (0..12)
            .map(|i| start.add_months(i))
            .map(|m| window.get(&m).map(|v| (m, *v)))
            .collect::<Option<_>>()?;
        let level = median(&values.iter().map(|(_, v)| *v).collect::<Vec<_>>());
        for (m, v) in values {
            sums[calendar_index(m)] += v - level;
            counts[calendar_index(m)] += 1;
        }
    }
    let mut component = [0.0; 12];
    for i in 0..12 {
        component[i] = sums[i] / f64::from(counts[i].max(1));
    }
    let mean = component.iter().sum::<f64>() / 12.0;
    Some(component.map(|c| c - mean))
}

fn calendar_index(m: Month) -> usize {
    (m.month() as usize).saturating_sub(1) % 12
}

/// The median (0 for no values; callers check the length).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The month in progress as a full month, so it can be scored (and forecast) like the
/// others: flows ([`Aggregation::Sum`]) are scaled up by the elapsed fraction (10 days of
/// tickets in a 30-day month ≈ a third of the month's); stocks and balances
/// ([`Aggregation::Avg`], [`Aggregation::Last`]) are already a level and are kept.
/// `None` for derived metrics (recompute them from run-rated inputs) and when no part of
/// the month has elapsed (`elapsed_fraction` must be in `(0, 1]`).
pub fn run_rate(partial: f64, elapsed_fraction: f64, aggregation: Aggregation) -> Option<f64> {
    let valid = elapsed_fraction > 0.0 && elapsed_fraction <= 1.0 && partial.is_finite();
    if !valid {
        return None;
    }
    match aggregation {
        Aggregation::Sum => Some(partial / elapsed_fraction),
        Aggregation::Avg | Aggregation::Last => Some(partial),
        Aggregation::Recompute | Aggregation::PriorYear => None,
    }
}

/// The fraction of `month` elapsed at the end of `today` (1 from its last day on, 0 before
/// it starts), for [`run_rate`].
pub fn elapsed_fraction(month: Month, today: NaiveDate) -> f64 {
    let first = month.first_day();
    let days = first
        .checked_add_months(chrono::Months::new(1))
        .map_or(31, |next| (next - first).num_days());
    let elapsed = (today - first).num_days() + 1;
    (elapsed as f64 / days as f64).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(i: i32) -> Month {
        Month::new(2022, 1).unwrap().add_months(i)
    }

    /// A deterministic "noise" in [-1, 1].
    fn wiggle(i: i32) -> f64 {
        ((i * 7919 % 97) as f64 / 48.0) - 1.0
    }

    #[test]
    fn a_spike_in_a_noisy_flat_series_is_flagged_exactly_there() {
        let mut series: Vec<(Month, f64)> =
            (0..30).map(|i| (m(i), 100.0 + 3.0 * wiggle(i))).collect();
        series[20].1 = 160.0;
        let scores = anomalies(&series);
        let flagged: Vec<&AnomalyScore> = scores.iter().filter(|s| s.is_anomaly).collect();
        assert_eq!(flagged.len(), 1, "{flagged:?}");
        assert_eq!(flagged[0].month, m(20));
        assert_eq!(flagged[0].direction, Direction::Above);
        assert!(flagged[0].typical.high < 160.0 && flagged[0].typical.low > 80.0);

        series[20].1 = 40.0;
        let dip = score_series(&series, m(20), 40.0).unwrap();
        assert!(dip.is_anomaly);
        assert_eq!(dip.direction, Direction::Below);
    }

    #[test]
    fn a_constant_series_never_flags_and_gives_no_nan() {
        for level in [0.0, 8.5, -1200.0] {
            let series: Vec<(Month, f64)> = (0..30).map(|i| (m(i), level)).collect();
            let scores = anomalies(&series);
            assert_eq!(scores.len(), 30 - MIN_HISTORY);
            for s in scores {
                assert!(s.score.is_finite());
                assert_eq!(s.score, 0.0);
                assert!(!s.is_anomaly);
                assert_eq!(s.direction, Direction::Level);
            }
        }
    }

    #[test]
    fn a_departure_from_a_flat_series_is_judged_by_its_size() {
        let series: Vec<(Month, f64)> = (0..12).map(|i| (m(i), 8.0)).collect();
        assert!(!score_series(&series, m(12), 8.5).unwrap().is_anomaly);
        assert!(score_series(&series, m(12), 12.0).unwrap().is_anomaly);
    }

    /// 100 ± noise, December 180.
    fn seasonal_series(months: i32) -> Vec<(Month, f64)> {
        (0..months)
            .map(|i| {
                let base = if m(i).month() == 12 { 180.0 } else { 100.0 };
                (m(i), base + 4.0 * wiggle(i))
            })
            .collect()
    }

    #[test]
    fn a_usual_december_peak_is_not_an_anomaly_but_a_doubled_one_is() {
        let series = seasonal_series(35); // 2022-01 .. 2024-11
        let december = m(35);
        assert_eq!(december.month(), 12);
        let normal = score_series(&series, december, 182.0).unwrap();
        assert!(normal.seasonal);
        assert!(!normal.is_anomaly, "{normal:?}");
        let doubled = score_series(&series, december, 360.0).unwrap();
        assert!(doubled.is_anomaly);
        assert_eq!(doubled.direction, Direction::Above);
        // Without two years of history the peak can't be told from an anomaly.
        let short: Vec<(Month, f64)> = series[24..].to_vec();
        assert!(!score_series(&short, december, 182.0).unwrap().seasonal);
        // No month of the seasonal series itself is flagged once seasonality is known.
        assert!(anomalies(&series)
            .iter()
            .filter(|s| s.seasonal)
            .all(|s| !s.is_anomaly));
    }

    #[test]
    fn a_mostly_zero_count_is_judged_by_its_mean_deviation() {
        // One new agreement in a quarter of the months: another one is not an anomaly.
        let series: Vec<(Month, f64)> = (0..20)
            .map(|i| (m(i), if i % 4 == 0 { 1.0 } else { 0.0 }))
            .collect();
        assert!(!score_series(&series, m(20), 1.0).unwrap().is_anomaly);
        assert!(score_series(&series, m(20), 5.0).unwrap().is_anomaly);
    }

    #[test]
    fn a_short_history_gives_no_score() {
        let series: Vec<(Month, f64)> = (0..5).map(|i| (m(i), 10.0 + f64::from(i))).collect();
        assert!(score_series(&series, m(5), 100.0).is_none());
        assert!(anomalies(&series).is_empty());
        assert!(score_series(&series, m(5), f64::NAN).is_none());
    }

    #[test]
    fn history_is_only_the_trailing_window() {
        // Six old months far outside the window don't count.
        let mut series: Vec<(Month, f64)> = (0..6).map(|i| (m(i), 10.0)).collect();
        series.extend((40..44).map(|i| (m(i), 10.0)));
        assert!(score_series(&series, m(44), 10.0).is_none());
    }

    #[test]
    fn run_rate_scales_flows_not_stocks() {
        assert_eq!(run_rate(100.0, 0.25, Aggregation::Sum), Some(400.0));
        assert_eq!(run_rate(590.0, 0.25, Aggregation::Avg), Some(590.0));
        assert_eq!(run_rate(285_000.0, 0.5, Aggregation::Last), Some(285_000.0));
        assert_eq!(run_rate(0.3, 0.5, Aggregation::Recompute), None);
        assert_eq!(run_rate(100.0, 0.0, Aggregation::Sum), None);
        assert_eq!(run_rate(100.0, 1.5, Aggregation::Sum), None);
        assert_eq!(run_rate(100.0, 1.0, Aggregation::Sum), Some(100.0));
    }

    #[test]
    fn elapsed_fraction_counts_whole_days() {
        let june = Month::new(2025, 6).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2025, 6, d).unwrap();
        assert_eq!(elapsed_fraction(june, day(15)), 0.5);
        assert_eq!(elapsed_fraction(june, day(30)), 1.0);
        assert_eq!(
            elapsed_fraction(june, NaiveDate::from_ymd_opt(2025, 5, 2).unwrap()),
            0.0
        );
    }

    /// A small client: tickets in one month of twelve, otherwise none.
    fn rare_tickets() -> Vec<(Month, f64)> {
        (0..12)
            .map(|i| (m(i), if i == 5 { 1.0 } else { 0.0 }))
            .collect()
    }

    #[test]
    fn a_single_ticket_of_a_quiet_client_is_chance_with_the_count_floor() {
        let series = rare_tickets();
        // The history alone: a MAD of 0, the mean deviation 1/12 — one ticket is "wild".
        let measured = score_series(&series, m(12), 1.0).unwrap();
        assert!(measured.is_anomaly, "{measured:?}");
        // As counts, Poisson noise of a typical 0 is 1: one to three tickets are chance.
        for n in [1.0, 2.0, 3.0] {
            let s = score_series_with(&series, m(12), n, Noise::Counts).unwrap();
            assert!(!s.is_anomaly, "{n} tickets: {s:?}");
        }
        let s = score_series_with(&series, m(12), 4.0, Noise::Counts).unwrap();
        assert!(s.is_anomaly && s.score > 3.5, "{s:?}");
    }

    #[test]
    fn the_count_floor_grows_with_the_square_root_of_the_level() {
        // Four tickets every month: no measured spread at all.
        let series: Vec<(Month, f64)> = (0..12).map(|i| (m(i), 4.0)).collect();
        let at = |v| score_series_with(&series, m(12), v, Noise::Counts).unwrap();
        // √4 = 2: 11 is 3.5 spreads away and still chance, 12 is not.
        assert!(!at(11.0).is_anomaly);
        assert!(at(12.0).is_anomaly);
        assert!((at(12.0).score - 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_ratio_floor_is_the_counts_noise_over_the_level() {
        // 0.1 tickets per endpoint on 20 endpoints: 2 tickets a month, √2 noise, so a
        let series: Vec<(Month, f64)> = (0..12).map(|i| (m(i), 0.1)).collect();
        // ratio scale of √2 / 20: 6 tickets (0.3) are 2.8 spreads away, 8 (0.4) 4.2.
        let at = |v| score_series_with(&series, m(12), v, Noise::CountsPer(20.0)).unwrap();
        assert!((at(0.3).score - 0.2 / (2f64.sqrt() / 20.0)).abs() < 1e-9);
        assert!(!at(0.3).is_anomaly);
        assert!(at(0.4).is_anomaly);
        // A level of 0 (no endpoints) gives no floor, never a division by zero.
        let s = score_series_with(&series, m(12), 0.1, Noise::CountsPer(0.0)).unwrap();
        assert!(s.score.is_finite());
    }

    #[test]
    fn a_level_of_things_moves_by_whole_things() {
        let series: Vec<(Month, f64)> = (0..12).map(|i| (m(i), 3.0)).collect();
        let at = |v, noise| score_series_with(&series, m(12), v, noise).unwrap();
        assert!(at(4.0, Noise::Measured).is_anomaly);
        assert!(!at(4.0, Noise::Level).is_anomaly);
        assert!(at(7.0, Noise::Level).is_anomaly);
    }

    #[test]
    fn a_wide_history_is_not_narrowed_by_the_floor() {
        // Noisy counts around 100: the measured spread (≫ √100) decides.
        let series: Vec<(Month, f64)> = (0..12).map(|i| (m(i), 100.0 + 30.0 * wiggle(i))).collect();
        let measured = score_series(&series, m(12), 180.0).unwrap();
        let counts = score_series_with(&series, m(12), 180.0, Noise::Counts).unwrap();
        assert_eq!(measured.score, counts.score);
    }
}
