//! Goals: a target for a SmartNumber over a quarter or a year, and how far the number
//! is from it.
//!
//! Only numbers with a direction take goals. A `Range` number is best inside its green
//! band, so that band already is its goal; a point target would be met from one side
//! and missed from the other, so goals on them are refused ([`GoalError::NoDirection`]).
use super::short_label;
use crate::api::api_type;
use crate::catalogue::Unit;
use crate::format;
use crate::smartnumbers::{smartnumber_def, Better, SmartNumberDef};
use crate::{Period, PeriodKind};

/// Targets are stored like band ends (NUMERIC(30, 10)): within ±10^20.
pub const MAX_TARGET: f64 = 1e20;

api_type! {
    /// A target for a SmartNumber over a quarter or a year.
    pub struct Goal {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub key: String,
        /// A quarter (`2026-Q3`) or a year (`2026`).
        pub period: Period,
        /// In the number's unit (a percentage as a fraction: 0.15 is 15 %).
        #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
        pub target: f64,
    }
}

api_type! {
    /// How a number stands against its goal.
    pub struct GoalProgress {
        /// How far the value still is from the target in the number's better direction:
        /// positive while short of it, 0 or negative once met (the margin).
        pub gap: f64,
        pub met: bool,
        /// The share of the way from the baseline to the target covered so far, 0–1;
        /// null without a baseline or when the baseline already met the target.
        pub share: Option<f64>,
    }
}

/// Why a goal was refused; the text is the API error's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoalError {
    #[error("'{0}' is not a SmartNumber")]
    UnknownNumber(String),
    #[error("{0} is best inside its green band, so its bands are its goal: goals are set on numbers where higher or lower is better")]
    NoDirection(&'static str),
    #[error("the goal for {0} must be a finite number between -10^20 and 10^20")]
    NotFinite(&'static str),
    #[error("the goal for {0} can't be negative")]
    Negative(&'static str),
    #[error("goals are set for a quarter or a year, not a month ({0})")]
    NotQuarterOrYear(String),
}

impl Goal {
    /// Checks the goal and answers its number's definition.
    pub fn validate(&self) -> Result<&'static SmartNumberDef, GoalError> {
        let def =
            smartnumber_def(&self.key).ok_or_else(|| GoalError::UnknownNumber(self.key.clone()))?;
        let label = short_label(def);
        if def.better == Better::Range {
            return Err(GoalError::NoDirection(label));
        }
        if !self.target.is_finite() || self.target.abs() >= MAX_TARGET {
            return Err(GoalError::NotFinite(label));
        }
        if self.target < 0.0 && !def.unit.allows_negative() {
            return Err(GoalError::Negative(label));
        }
        if self.period.kind() == PeriodKind::Month {
            return Err(GoalError::NotQuarterOrYear(self.period.to_string()));
        }
        Ok(def)
    }
}

/// +1 when higher is better, −1 when lower is; `None` for a range.
fn direction(def: &SmartNumberDef) -> Option<f64> {
    match def.better {
        Better::Higher => Some(1.0),
        Better::Lower => Some(-1.0),
        Better::Range => None,
    }
}

/// A gap this close to 0 (relative to the target) counts as met: a computed ratio
/// lands a rounding error off a target typed in.
fn negligible(gap: f64, target: f64) -> bool {
    gap.abs() <= 1e-9 * target.abs().max(1.0)
}

/// How `value` stands against `target`, from `baseline` (the value when the goal was
/// set, or the previous period's); `None` for a range number (no goals).
pub fn progress(
    def: &SmartNumberDef,
    target: f64,
    value: f64,
    baseline: Option<f64>,
) -> Option<GoalProgress> {
    let sign = direction(def)?;
    let raw = (target - value) * sign;
    let gap = if negligible(raw, target) { 0.0 } else { raw };
    let share = baseline.and_then(|b| {
        let way = (target - b) * sign;
        (way > 0.0 && !negligible(way, target)).then(|| ((way - gap) / way).clamp(0.0, 1.0))
    });
    Some(GoalProgress {
        gap,
        met: gap <= 0.0,
        share,
    })
}

/// An amount of a unit without sign, as it reads after a number: "2.6 points" (a
/// percentage's gap is in points, not percent of percent), "$1,200", "18 min", "4.5".
pub fn amount_text(unit: Unit, amount: f64) -> String {
    let amount = amount.abs();
    match unit {
        Unit::Pct => format!("{} points", format::grouped(amount * 100.0, 1)),
        Unit::Hours => format::change(unit, amount)
            .trim_start_matches('+')
            .to_string(),
        _ => format::value(unit, Some(amount)),
    }
}

/// "Net Profit % is 12.4% against a goal of 15.0% for 2026: 2.6 points to go." (or
/// "…: met with 1.0 points to spare.", "…: met."); `None` for a range number.
pub fn sentence(def: &SmartNumberDef, period: &Period, target: f64, value: f64) -> Option<String> {
    let p = progress(def, target, value, None)?;
    let outcome = if !p.met {
        format!("{} to go", amount_text(def.unit, p.gap))
    } else if p.gap < 0.0 {
        format!("met with {} to spare", amount_text(def.unit, p.gap))
    } else {
        "met".to_string()
    };
    Some(format!(
        "{} is {} against a goal of {} for {}: {outcome}.",
        short_label(def),
        format::value(def.unit, Some(value)),
        format::value(def.unit, Some(target)),
        period.label()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn def(key: &str) -> &'static SmartNumberDef {
        smartnumber_def(key).unwrap()
    }

    fn goal(key: &str, period: &str, target: f64) -> Goal {
        Goal {
            key: key.into(),
            period: period.parse().unwrap(),
            target,
        }
    }

    #[test]
    fn higher_is_better_gap_and_met() {
        let profit = def("net_profit_pct");
        let p = progress(profit, 0.15, 0.124, None).unwrap();
        assert!((p.gap - 0.026).abs() < 1e-12 && !p.met);
        let p = progress(profit, 0.15, 0.17, None).unwrap();
        assert!((p.gap + 0.02).abs() < 1e-12 && p.met);
        // A rounding error off the target is met, with no gap.
        let p = progress(profit, 0.15, 0.1 + 0.05, None).unwrap();
        assert_eq!((p.gap, p.met), (0.0, true));
    }

    #[test]
    fn lower_is_better_gap_and_met() {
        let rhem = def("rhem");
        let p = progress(rhem, 0.2, 0.31, None).unwrap();
        assert!((p.gap - 0.11).abs() < 1e-12 && !p.met);
        let p = progress(rhem, 0.2, 0.18, None).unwrap();
        assert!(p.gap < 0.0 && p.met);
    }

    #[test]
    fn share_of_the_way_from_the_baseline() {
        let profit = def("net_profit_pct");
        let share = |value, baseline| progress(profit, 0.20, value, baseline).unwrap().share;
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        assert!(close(share(0.15, Some(0.10)), 0.5));
        assert!(
            close(share(0.25, Some(0.10)), 1.0),
            "capped at 1 past the target"
        );
        assert!(
            close(share(0.05, Some(0.10)), 0.0),
            "0 when worse than the start"
        );
        assert_eq!(share(0.15, None), None);
        assert_eq!(share(0.15, Some(0.25)), None, "the baseline already met it");
        let rhem = def("rhem");
        let p = progress(rhem, 0.20, 0.25, Some(0.30)).unwrap();
        assert!((p.share.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(progress(def("total_close_pct"), 1.0, 0.9, None), None);
    }

    #[test]
    fn goals_are_validated_with_messages() {
        assert_eq!(
            goal("net_profit_pct", "2026", 0.15).validate().unwrap().key,
            "net_profit_pct"
        );
        assert!(goal("net_mrr_gain", "2026-Q3", -500.0).validate().is_ok());
        let msg = |g: Goal| g.validate().unwrap_err().to_string();
        assert_eq!(
            msg(goal("nope", "2026", 1.0)),
            "'nope' is not a SmartNumber"
        );
        assert_eq!(
            msg(goal("tickets_per_tech_per_month", "2026", 50.0)),
            "Tickets / Tech / Month is best inside its green band, so its bands are its goal: \
             goals are set on numbers where higher or lower is better"
        );
        assert_eq!(
            msg(goal("rhem", "2026-Q3", f64::NAN)),
            "the goal for RHEM must be a finite number between -10^20 and 10^20"
        );
        assert_eq!(
            msg(goal("rhem", "2026-Q3", 1e21)),
            msg(goal("rhem", "2026-Q3", f64::INFINITY))
        );
        assert_eq!(
            msg(goal("rhem", "2026-Q3", -0.1)),
            "the goal for RHEM can't be negative"
        );
        assert_eq!(
            msg(goal("rhem", "2026-07", 0.2)),
            "goals are set for a quarter or a year, not a month (2026-07)"
        );
    }

    #[test]
    fn sentences_by_unit() {
        let year: Period = "2026".parse().unwrap();
        let quarter: Period = "2026-Q3".parse().unwrap();
        assert_eq!(
            sentence(def("net_profit_pct"), &year, 0.15, 0.124).unwrap(),
            "Net Profit % is 12.4% against a goal of 15.0% for 2026: 2.6 points to go."
        );
        assert_eq!(
            sentence(def("net_profit_pct"), &year, 0.15, 0.16).unwrap(),
            "Net Profit % is 16.0% against a goal of 15.0% for 2026: met with 1.0 points to spare."
        );
        assert_eq!(
            sentence(def("rhem"), &quarter, 0.2, 0.25).unwrap(),
            "RHEM is 0.25 h (15 min) against a goal of 0.20 h (12 min) for Q3 2026: 3 min to go."
        );
        assert_eq!(
            sentence(def("avg_aisp"), &quarter, 125.0, 125.0).unwrap(),
            "Average AISP is $125 against a goal of $125 for Q3 2026: met."
        );
        assert_eq!(sentence(def("total_close_pct"), &quarter, 1.0, 0.9), None);
    }
}
