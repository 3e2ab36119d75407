//! The business health score: 0–100 for a period, from where each SmartNumber's value
//! sits inside its bands, averaged per section and weighted across sections.
//!
//! # The position score of one number
//!
//! A number's bands and its direction ([`Better`]) give a piecewise-linear curve
//! through these points, flat beyond its first and last point:
//!
//! | where | score |
//! |---|---|
//! | two widths beyond the yellow edge, and farther | 0 |
//! | the yellow edge (yellow turns red) | 40 |
//! | the green edge (green turns yellow) | 70 |
//! | the best point, and past it in the better direction | 100 |
//!
//! A *worse side* is a side of the green band where the number gets worse: below it
//! for `Higher`, above it for `Lower`, both for `Range`; a worse side needs a closed
//! green edge there. The *width* on a worse side is its yellow band's width (green
//! edge − yellow edge). The *best point* is the middle of the green band when both
//! sides are worse (a `Range` with a closed green band); with one worse side, the far
//! green edge when the green band is closed there, else one width past the green edge
//! (net profit with green ≥ 20 % and yellow ≥ 10 % scores 100 from 30 %).
//!
//! So green values score 70–100, yellow 40–70 and red 40 down to 0, falling linearly
//! over two widths beyond the yellow edge: scaled by the band, without a cliff.
//!
//! Open and degenerate bands:
//! - a worse side without a yellow edge (everything beyond green is yellow) falls
//!   from 70 at the green edge to 40 one width away and stays 40: it is never red;
//! - where a width is missing or zero, the fallback width is the other side's yellow
//!   width, else the green band's width, else a quarter of the green edge's size,
//!   else 1;
//! - points that coincide keep the highest score, so a zero-width yellow band hands
//!   the drop from 70 to the red stretch next to it (continuity wins over the status
//!   ranges there);
//! - band ends on a side that is not worse (a `Higher` number's green maximum) do not
//!   lower the score: the direction says more is better;
//! - bands that fail [`Bands::validate`] or leave no worse side can't place a value,
//!   and the number is left out.
//!
//! The curve is monotone towards the best point and continuous everywhere.
//!
//! # Sections and the total
//!
//! A section's score is the mean of its numbers' scores; the total is the mean of the
//! sections that have numbers, weighted by [`HealthWeights`] renormalized over those
//! sections. Numbers without a value or bands, and `quarters_only` numbers in a month,
//! are left out, as they have no status either.
use crate::api::api_type;
use crate::expr::Values;
use crate::smartnumbers::{Better, SmartCategory, SmartNumberDef, SMARTNUMBERS};
use crate::thresholds::{Bands, Status};
use crate::{Period, PeriodKind};
use std::collections::BTreeMap;

/// Shown next to the score.
pub const DEFINITION: &str =
    "The health score (0–100) rates the period's SmartNumbers by where each \
value sits in its bands: 70–100 in the green band (100 at its best), 40–70 in the yellow band and \
0–40 in the red, lower the farther a value is beyond the yellow band. A section scores the mean of \
its numbers; the total is the mean of the sections, weighted by the organization's section \
weights over the sections that have numbers to judge.";

/// A section scoring below this (the green edge) is pulling the total down.
pub const PULLING_DOWN_BELOW: f64 = 70.0;

/// The scores at the curve's points.
const RED_FLOOR: f64 = 0.0;
const YELLOW_EDGE: f64 = 40.0;
const GREEN_EDGE: f64 = 70.0;
const BEST: f64 = 100.0;
/// How many widths beyond the yellow edge the score reaches 0.
const RED_WIDTHS: f64 = 2.0;
/// The fallback width as a share of the green edge's size.
const EDGE_SHARE: f64 = 0.25;

api_type! {
    /// How much each section counts in the total, 0–100 each (relative: they need not
    /// add up to 100). The default puts profit first and sales last: profit is the
    /// outcome, operations and revenue drive it, leverage and sales are slower levers
    /// judged partly by quarters only.
    #[derive(Copy)]
    pub struct HealthWeights {
        pub operations: u32,
        pub profit: u32,
        pub revenue: u32,
        pub leverage: u32,
        pub sales: u32,
    }
}

impl Default for HealthWeights {
    fn default() -> Self {
        HealthWeights {
            operations: 25,
            profit: 30,
            revenue: 20,
            leverage: 15,
            sales: 10,
        }
    }
}

/// Why weights were refused; the text is the API error's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("the {} weight must be from 0 to {max}, got {weight}", .category.label(), max = MAX_WEIGHT)]
    OutOfRange {
        category: SmartCategory,
        weight: u32,
    },
    #[error("at least one section weight must be above 0")]
    AllZero,
}

/// The largest weight of a section.
pub const MAX_WEIGHT: u32 = 100;

impl HealthWeights {
    /// The weight of a section.
    pub fn get(&self, category: SmartCategory) -> u32 {
        match category {
            SmartCategory::Operations => self.operations,
            SmartCategory::Profit => self.profit,
            SmartCategory::Revenue => self.revenue,
            SmartCategory::Leverage => self.leverage,
            SmartCategory::Sales => self.sales,
        }
    }

    /// Each weight in `0..=100` and not all zero (a total needs something to weigh).
    pub fn validate(&self) -> Result<(), WeightsError> {
        for category in SmartCategory::ALL {
            let weight = self.get(category);
            if weight > MAX_WEIGHT {
                return Err(WeightsError::OutOfRange { category, weight });
            }
        }
        if SmartCategory::ALL.iter().all(|c| self.get(*c) == 0) {
            return Err(WeightsError::AllZero);
        }
        Ok(())
    }

    /// "Operations 25, Profit 30, Revenue 20, Leverage 15, Sales 10", for the settings page.
    pub fn describe(&self) -> String {
        SmartCategory::ALL
            .iter()
            .map(|c| format!("{} {}", c.label(), self.get(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

api_type! {
    /// The health score of a period.
    pub struct HealthScore {
        /// 0–100; null when no section has a number to judge (or the sections that do
        /// all weigh 0).
        pub score: Option<f64>,
        /// Every section, in dashboard order, with or without numbers.
        pub sections: Vec<SectionScore>,
        /// The sections scoring below 70, the one costing the most weighted points first.
        pub pulling_down: Vec<SmartCategory>,
    }
}

api_type! {
    /// One section of the score.
    pub struct SectionScore {
        pub category: SmartCategory,
        /// The mean of its numbers' scores; null without numbers.
        pub score: Option<f64>,
        /// The section's weight setting.
        pub weight: u32,
        /// Its share of the total after renormalizing over the sections with numbers
        /// (0 without numbers).
        pub share: f64,
        pub numbers: Vec<NumberScore>,
    }
}

api_type! {
    /// One SmartNumber's part of the score.
    pub struct NumberScore {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub key: String,
        pub value: f64,
        pub status: Status,
        /// Its position score, 0–100.
        pub score: f64,
    }
}

/// The health score of `period` from its SmartNumbers' `values` (by key) and the
/// organization's `bands` (by key).
pub fn health_score(
    period: &Period,
    values: &Values,
    bands: &BTreeMap<String, Bands>,
    weights: &HealthWeights,
) -> HealthScore {
    let mut sections: Vec<SectionScore> = SmartCategory::ALL
        .iter()
        .map(|c| section(*c, period, values, bands, weights.get(*c)))
        .collect();
    let present_weight: u32 = sections
        .iter()
        .filter(|s| s.score.is_some())
        .map(|s| s.weight)
        .sum();
    for s in &mut sections {
        if s.score.is_some() && present_weight > 0 {
            s.share = f64::from(s.weight) / f64::from(present_weight);
        }
    }
    let score = (present_weight > 0).then(|| {
        sections
            .iter()
            .filter_map(|s| s.score.map(|v| v * s.share))
            .sum()
    });
    let pulling_down = pulling_down(&sections);
    HealthScore {
        score,
        sections,
        pulling_down,
    }
}

/// The numbers of one section and their mean.
fn section(
    category: SmartCategory,
    period: &Period,
    values: &Values,
    bands: &BTreeMap<String, Bands>,
    weight: u32,
) -> SectionScore {
    let numbers: Vec<NumberScore> = SMARTNUMBERS
        .iter()
        .filter(|d| d.category == category)
        .filter_map(|d| number_score(d, period, values.get(d.key).copied(), bands.get(d.key)))
        .collect();
    let score = (!numbers.is_empty())
        .then(|| numbers.iter().map(|n| n.score).sum::<f64>() / numbers.len() as f64);
    SectionScore {
        category,
        score,
        weight,
        share: 0.0,
        numbers,
    }
}

/// A number's score, or `None` when it is left out (no value, no usable bands, or a
/// quarters-only number in a month).
pub fn number_score(
    def: &SmartNumberDef,
    period: &Period,
    value: Option<f64>,
    bands: Option<&Bands>,
) -> Option<NumberScore> {
    if def.quarters_only && period.kind() == PeriodKind::Month {
        return None;
    }
    let (value, bands) = (value?, bands?);
    let status = def.judge(period, Some(bands), Some(value));
    Some(NumberScore {
        key: def.key.to_string(),
        value,
        status,
        score: position_score(def.better, bands, value)?,
    })
}

/// The sections below [`PULLING_DOWN_BELOW`], by weighted points lost (share × (100 −
/// score)), most first; ties keep dashboard order.
fn pulling_down(sections: &[SectionScore]) -> Vec<SmartCategory> {
    let mut low: Vec<(SmartCategory, f64)> = sections
        .iter()
        .filter_map(|s| {
            let score = s.score?;
            // A section weighed 0 costs the total nothing.
            (score < PULLING_DOWN_BELOW && s.share > 0.0)
                .then_some((s.category, s.share * (BEST - score)))
        })
        .collect();
    low.sort_by(|a, b| b.1.total_cmp(&a.1));
    low.into_iter().map(|(c, _)| c).collect()
}

/// Where `value` sits in `bands` for a number whose better direction is `better`,
/// 0–100 by the rule of the module documentation; `None` when the bands can't place
/// it (invalid, no worse side) or the value is not finite.
pub fn position_score(better: Better, bands: &Bands, value: f64) -> Option<f64> {
    if !value.is_finite() {
        return None;
    }
    let curve = Curve::new(better, bands)?;
    Some(curve.at(value).clamp(RED_FLOOR, BEST))
}

/// A side of the green band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Below,
    Above,
}

impl Side {
    /// +1 above, −1 below: the sign of "away from the green band" on this side.
    fn outward(self) -> f64 {
        match self {
            Side::Below => -1.0,
            Side::Above => 1.0,
        }
    }

    fn green_edge(self, b: &Bands) -> Option<f64> {
        match self {
            Side::Below => b.green_min,
            Side::Above => b.green_max,
        }
    }

    fn yellow_edge(self, b: &Bands) -> Option<f64> {
        match self {
            Side::Below => b.yellow_min,
            Side::Above => b.yellow_max,
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Below => Side::Above,
            Side::Above => Side::Below,
        }
    }
}

/// The piecewise-linear score curve: points by ascending value, flat beyond the ends.
#[derive(Clone, Debug, PartialEq)]
struct Curve {
    points: Vec<(f64, f64)>,
}

impl Curve {
    fn new(better: Better, bands: &Bands) -> Option<Curve> {
        bands.validate().ok()?;
        let worse = |side: Side| {
            let by_direction = match better {
                Better::Higher => side == Side::Below,
                Better::Lower => side == Side::Above,
                Better::Range => true,
            };
            by_direction && side.green_edge(bands).is_some()
        };
        let (below, above) = (worse(Side::Below), worse(Side::Above));
        let best = best_point(bands, below, above)?;
        let mut points = Vec::new();
        if below {
            points.extend(side_points(bands, Side::Below).into_iter().rev());
        }
        points.push((best, BEST));
        if above {
            points.extend(side_points(bands, Side::Above));
        }
        Some(Curve {
            points: dedupe(points),
        })
    }

    /// Linear interpolation between the points; flat beyond the ends.
    fn at(&self, v: f64) -> f64 {
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return RED_FLOOR;
        };
        if v <= first.0 {
            return first.1;
        }
        if v >= last.0 {
            return last.1;
        }
        for pair in self.points.windows(2) {
            if let [(x0, s0), (x1, s1)] = pair {
                if v <= *x1 {
                    return s0 + (s1 - s0) * (v - x0) / (x1 - x0);
                }
            }
        }
        last.1
    }
}

/// The points of a worse side, from the green edge outwards.
fn side_points(bands: &Bands, side: Side) -> Vec<(f64, f64)> {
    let Some(green) = side.green_edge(bands) else {
        return Vec::new();
    };
    let w = width(bands, side);
    let out = side.outward();
    match side.yellow_edge(bands) {
        Some(yellow) => vec![
            (green, GREEN_EDGE),
            (yellow, YELLOW_EDGE),
            (yellow + out * RED_WIDTHS * w, RED_FLOOR),
        ],
        // Open yellow: never red, so the score settles at the yellow edge's.
        None => vec![(green, GREEN_EDGE), (green + out * w, YELLOW_EDGE)],
    }
}

/// Where the score reaches 100.
fn best_point(bands: &Bands, below: bool, above: bool) -> Option<f64> {
    match (below, above) {
        (true, true) => bands.green_target(),
        (true, false) => Some(match bands.green_max {
            Some(hi) => hi,
            None => bands.green_min? + width(bands, Side::Below),
        }),
        (false, true) => Some(match bands.green_min {
            Some(lo) => lo,
            None => bands.green_max? - width(bands, Side::Above),
        }),
        (false, false) => None,
    }
}

/// The width of a worse side: its yellow band's width, else the fallbacks of the
/// module documentation. Always positive.
fn width(bands: &Bands, side: Side) -> f64 {
    let yellow_width = |s: Side| match (s.green_edge(bands), s.yellow_edge(bands)) {
        (Some(g), Some(y)) => Some((g - y).abs()),
        _ => None,
    };
    let green_width = match (bands.green_min, bands.green_max) {
        (Some(lo), Some(hi)) => Some(hi - lo),
        _ => None,
    };
    let edge_size = side
        .green_edge(bands)
        .or(side.other().green_edge(bands))
        .map(|g| g.abs() * EDGE_SHARE);
    [
        yellow_width(side),
        yellow_width(side.other()),
        green_width,
        edge_size,
    ]
    .into_iter()
    .flatten()
    .find(|w| *w > 0.0 && w.is_finite())
    .unwrap_or(1.0)
}

/// Points with the same value keep the highest score, so the curve has no jump there.
fn dedupe(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for (x, s) in points {
        match out.last_mut() {
            Some(last) if last.0 == x => last.1 = last.1.max(s),
            _ => out.push((x, s)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::smartnumbers::smartnumber_def;
    use crate::thresholds::default_bands;
    use proptest::prelude::*;

    /// The default bands, or made-up ones for the two numbers without defaults.
    fn bands_of(def: &SmartNumberDef) -> Bands {
        default_bands(def.key).unwrap_or(match def.better {
            Better::Lower => Bands {
                green_max: Some(1000.0),
                yellow_max: Some(3000.0),
                ..Bands::default()
            },
            _ => Bands {
                green_min: Some(2000.0),
                yellow_min: Some(500.0),
                ..Bands::default()
            },
        })
    }

    /// From well before the first point to well after the last.
    fn sweep_range(better: Better, bands: &Bands) -> (f64, f64) {
        let curve = Curve::new(better, bands).unwrap();
        let (lo, hi) = (curve.points[0].0, curve.points[curve.points.len() - 1].0);
        let margin = (hi - lo).max(1.0);
        (lo - margin, hi + margin)
    }

    fn score(def: &SmartNumberDef, bands: &Bands, v: f64) -> f64 {
        position_score(def.better, bands, v).unwrap()
    }

    /// Whether `b` is a better value than `a` for the number (for a range: on the same
    /// side of the best point and closer to it).
    fn better_than(def: &SmartNumberDef, bands: &Bands, a: f64, b: f64) -> Option<bool> {
        match def.better {
            Better::Higher => Some(b > a),
            Better::Lower => Some(b < a),
            Better::Range => {
                let t = bands.green_target().unwrap();
                ((a - t).signum() == (b - t).signum()).then(|| (b - t).abs() < (a - t).abs())
            }
        }
    }

    #[test]
    fn monotone_bounded_and_consistent_with_status_over_every_number() {
        for def in SMARTNUMBERS {
            let bands = bands_of(def);
            let (lo, hi) = sweep_range(def.better, &bands);
            let steps = 20_000;
            let mut previous: Option<(f64, f64)> = None;
            for i in 0..=steps {
                let v = lo + (hi - lo) * f64::from(i) / f64::from(steps);
                let s = score(def, &bands, v);
                assert!((0.0..=100.0).contains(&s), "{} at {v}: {s}", def.key);
                let (min, max) = match bands.status(Some(v)) {
                    Status::Green => (70.0, 100.0),
                    Status::Yellow => (40.0, 70.0),
                    _ => (0.0, 40.0),
                };
                assert!(
                    s >= min - 1e-9 && s <= max + 1e-9,
                    "{} at {v}: {s}",
                    def.key
                );
                if let Some((pv, ps)) = previous {
                    match better_than(def, &bands, pv, v) {
                        Some(true) => assert!(s >= ps - 1e-9, "{}: {pv}→{v}: {ps}→{s}", def.key),
                        Some(false) => assert!(s <= ps + 1e-9, "{}: {pv}→{v}: {ps}→{s}", def.key),
                        None => {}
                    }
                }
                previous = Some((v, s));
            }
        }
    }

    #[test]
    fn continuous_at_every_band_edge() {
        for def in SMARTNUMBERS {
            let bands = bands_of(def);
            let edges = [
                bands.green_min,
                bands.green_max,
                bands.yellow_min,
                bands.yellow_max,
            ];
            for edge in edges.into_iter().flatten() {
                let eps = 1e-9 * edge.abs().max(1.0);
                let (a, b) = (
                    score(def, &bands, edge - eps),
                    score(def, &bands, edge + eps),
                );
                assert!(
                    (a - b).abs() < 1e-4,
                    "{} jumps at {edge}: {a} / {b}",
                    def.key
                );
            }
        }
    }

    #[test]
    fn the_documented_points() {
        let rhem = default_bands("rhem").unwrap();
        let at = |v| position_score(Better::Lower, &rhem, v).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(at(0.05), 100.0) && close(at(0.1), 100.0));
        assert!(close(at(0.15), 85.0));
        assert!(close(at(0.2), 70.0));
        assert!(close(at(0.25), 55.0));
        assert!(close(at(0.3), 40.0));
        assert!(close(at(0.4), 20.0));
        assert!(close(at(0.5), 0.0) && close(at(9.0), 0.0));
        let range = default_bands("tickets_per_tech_per_month").unwrap();
        let at = |v| position_score(Better::Range, &range, v).unwrap();
        assert!(close(at(50.0), 100.0));
        assert!(close(at(45.0), 85.0) && close(at(55.0), 85.0));
        assert!(close(at(30.0), 40.0) && close(at(90.0), 0.0));
        let profit = default_bands("net_profit_pct").unwrap();
        let at = |v| position_score(Better::Higher, &profit, v).unwrap();
        assert!(close(at(0.3), 100.0) && close(at(0.2), 70.0) && close(at(-0.1), 0.0));
    }

    #[test]
    fn open_and_degenerate_bands() {
        let never_red = Bands {
            green_min: Some(100.0),
            ..Bands::default()
        };
        let at = |v| position_score(Better::Higher, &never_red, v).unwrap();
        assert_eq!(at(100.0), 70.0);
        assert_eq!(at(125.0), 100.0);
        assert_eq!(at(75.0), 40.0);
        assert_eq!(at(-1e9), 40.0, "yellow forever, never red");
        // A Higher number's green maximum doesn't lower its score.
        let capped = Bands {
            green_min: Some(10.0),
            green_max: Some(20.0),
            yellow_min: Some(5.0),
            yellow_max: Some(30.0),
        };
        assert_eq!(position_score(Better::Higher, &capped, 40.0), Some(100.0));
        // No worse side: a Higher number with only upper ends can't be placed.
        let upper_only = Bands {
            green_max: Some(1.0),
            yellow_max: Some(2.0),
            ..Bands::default()
        };
        assert_eq!(position_score(Better::Higher, &upper_only, 0.5), None);
        assert_eq!(position_score(Better::Lower, &Bands::default(), 0.5), None);
        let invalid = Bands {
            green_min: Some(5.0),
            green_max: Some(1.0),
            ..Bands::default()
        };
        assert_eq!(position_score(Better::Range, &invalid, 3.0), None);
        assert_eq!(position_score(Better::Lower, &upper_only, f64::NAN), None);
    }

    proptest! {
        /// Any valid bands, any direction: within 0..=100, monotone towards the best
        /// point, and no jump at any point.
        #[test]
        fn any_bands_give_a_monotone_continuous_curve(
            g in -1000.0f64..1000.0,
            green_width in 0.0f64..500.0,
            below in prop::option::of(0.0f64..500.0),
            above in prop::option::of(0.0f64..500.0),
            better in prop::sample::select(vec![Better::Higher, Better::Lower, Better::Range]),
            a_offset in -1600.0f64..2100.0,
            step in -100.0f64..100.0,
        ) {
            // Near the bands, and two values close together: most pairs share a segment.
            let (a, b) = (g + a_offset, g + a_offset + step);
            let bands = Bands {
                green_min: Some(g),
                green_max: Some(g + green_width),
                yellow_min: below.map(|w| g - w),
                yellow_max: above.map(|w| g + green_width + w),
            };
            let (sa, sb) = (
                position_score(better, &bands, a).unwrap(),
                position_score(better, &bands, b).unwrap(),
            );
            prop_assert!((0.0..=100.0).contains(&sa));
            let curve = Curve::new(better, &bands).unwrap();
            let best = curve.points.iter().find(|p| p.1 == BEST).unwrap().0;
            let (near, far) = if (a - best).abs() <= (b - best).abs() { (sa, sb) } else { (sb, sa) };
            if (a - best).signum() == (b - best).signum() {
                prop_assert!(near >= far - 1e-9);
            }
            // Continuous: at every band edge, and at `a`, no step bigger than the
            // steepest segment's slope allows.
            let steepest = curve.points.windows(2)
                .map(|p| ((p[1].1 - p[0].1) / (p[1].0 - p[0].0)).abs())
                .fold(0.0, f64::max);
            let eps = 1e-6;
            let edges = [bands.green_min, bands.green_max, bands.yellow_min, bands.yellow_max];
            for x in edges.into_iter().flatten().chain([a]) {
                let jump = (position_score(better, &bands, x + eps).unwrap()
                    - position_score(better, &bands, x - eps).unwrap()).abs();
                prop_assert!(jump <= steepest * 2.0 * eps * (1.0 + 1e-6) + 1e-9, "jump {jump} at {x}");
            }
        }
    }

    fn values(pairs: &[(&str, f64)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn default_band_map() -> BTreeMap<String, Bands> {
        SMARTNUMBERS
            .iter()
            .filter_map(|d| default_bands(d.key).map(|b| (d.key.to_string(), b)))
            .collect()
    }

    #[test]
    fn weights_renormalize_over_the_sections_present() {
        let quarter: Period = "2026-Q2".parse().unwrap();
        // Operations (RHEM 0.25 → 55) and Profit (30 % → 100); no other section.
        let v = values(&[("rhem", 0.25), ("net_profit_pct", 0.30)]);
        let h = health_score(&quarter, &v, &default_band_map(), &HealthWeights::default());
        let total = h.score.unwrap();
        let expected = (25.0 * 55.0 + 30.0 * 100.0) / 55.0;
        assert!((total - expected).abs() < 1e-9, "{total} != {expected}");
        let ops = &h.sections[0];
        assert_eq!(ops.category, SmartCategory::Operations);
        assert!((ops.share - 25.0 / 55.0).abs() < 1e-12);
        assert_eq!(ops.numbers.len(), 1);
        assert_eq!(ops.numbers[0].status, Status::Yellow);
        let sales = h
            .sections
            .iter()
            .find(|s| s.category == SmartCategory::Sales)
            .unwrap();
        assert_eq!((sales.score, sales.share), (None, 0.0));
        assert_eq!(h.pulling_down, vec![SmartCategory::Operations]);
        // With Profit weighed 0 the total is Operations alone.
        let no_profit = HealthWeights {
            profit: 0,
            ..HealthWeights::default()
        };
        let h = health_score(&quarter, &v, &default_band_map(), &no_profit);
        assert!((h.score.unwrap() - 55.0).abs() < 1e-9);
        // Nothing to judge: no score.
        let h = health_score(
            &quarter,
            &Values::new(),
            &default_band_map(),
            &HealthWeights::default(),
        );
        assert_eq!(h.score, None);
        assert!(h.pulling_down.is_empty());
    }

    #[test]
    fn pulling_down_is_ordered_by_weighted_points_lost() {
        let quarter: Period = "2026-Q2".parse().unwrap();
        // Operations 40 (weight 25: 15 points lost), Profit 55 (weight 30: 13.5 lost).
        let v = values(&[("rhem", 0.30), ("net_profit_pct", 0.15)]);
        let h = health_score(&quarter, &v, &default_band_map(), &HealthWeights::default());
        assert_eq!(
            h.pulling_down,
            vec![SmartCategory::Operations, SmartCategory::Profit]
        );
        let heavy_profit = HealthWeights {
            profit: 60,
            ..HealthWeights::default()
        };
        let h = health_score(&quarter, &v, &default_band_map(), &heavy_profit);
        assert_eq!(
            h.pulling_down,
            vec![SmartCategory::Profit, SmartCategory::Operations]
        );
        // A section weighed 0 costs nothing, so it pulls nothing down.
        let no_operations = HealthWeights {
            operations: 0,
            ..HealthWeights::default()
        };
        let h = health_score(&quarter, &v, &default_band_map(), &no_operations);
        assert_eq!(h.pulling_down, vec![SmartCategory::Profit]);
    }

    #[test]
    fn months_leave_quarter_only_numbers_out() {
        let bands = default_band_map();
        let gain = smartnumber_def("net_mrr_gain").unwrap();
        let month: Period = "2026-05".parse().unwrap();
        let quarter: Period = "2026-Q2".parse().unwrap();
        assert_eq!(
            number_score(gain, &month, Some(500.0), bands.get("net_mrr_gain")),
            None
        );
        let q = number_score(gain, &quarter, Some(500.0), bands.get("net_mrr_gain")).unwrap();
        assert_eq!(q.status, Status::Green);
        assert!((q.score - 77.5).abs() < 1e-9);
        let rhem = smartnumber_def("rhem").unwrap();
        assert_eq!(number_score(rhem, &month, None, bands.get("rhem")), None);
        assert_eq!(number_score(rhem, &month, Some(0.2), None), None);
    }

    #[test]
    fn invalid_weights_are_refused_with_a_message() {
        assert_eq!(HealthWeights::default().validate(), Ok(()));
        let too_much = HealthWeights {
            leverage: 101,
            ..HealthWeights::default()
        };
        let err = too_much.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the Leverage weight must be from 0 to 100, got 101"
        );
        let zero = HealthWeights {
            operations: 0,
            profit: 0,
            revenue: 0,
            leverage: 0,
            sales: 0,
        };
        assert_eq!(
            zero.validate().unwrap_err().to_string(),
            "at least one section weight must be above 0"
        );
        assert_eq!(
            HealthWeights::default().describe(),
            "Operations 25, Profit 30, Revenue 20, Leverage 15, Sales 10"
        );
    }
}
