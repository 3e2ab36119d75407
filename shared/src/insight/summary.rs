//! The written summary of a period: a short deterministic paragraph built from the
//! numbers, no AI, so the same data always reads the same way and every figure in it
//! can be traced to a card.
//!
//! # The sentences, in order (a kind with nothing to say is skipped)
//!
//! 1. The health score and its change from the previous period, in whole points.
//! 2. The numbers that turned red (from green or yellow) and turned green (from yellow
//!    or red), in one sentence.
//! 3. The two largest movers by relative change (numbers with both values, a non-zero
//!    value before and a change beyond ±2 %), each with its cause when the number is a
//!    quotient — see below.
//! 4. The most unusual anomaly (farthest outside its typical range, measured in range
//!    widths), with how many unusual values there are when more than one.
//! 5. The forecast of the quarter in progress: the number headed for the worst status
//!    (red, then yellow; ties keep input order), or that every forecast number ends green.
//! 6. The goals: met, missed (their period has ended) and still open, in one sentence.
//!
//! So a summary has at most seven sentences. Figures are formatted by their unit
//! (`format.rs`); relative changes are whole percent.
//!
//! # Causes
//!
//! A number's formula is walked without its scale factors (`m`, working hours, ×12):
//! RHEM = reactive hours / endpoints. When what is left is a quotient whose two sides
//! are positive in both periods, the side whose change pushed the value most in the
//! way it moved leads: "because reactive hours grew 40 %"; the other side follows with
//! "while endpoints stayed flat" (within ±2 %), "while endpoints fell 5 %" (it pushed
//! the same way) or "while endpoints grew only 10 %" (it held the value back). No cause
//! is named when the leading side itself stayed flat.
//!
//! Inputs are compared per month, so a quarter in progress compares fairly with a whole
//! one: flows (metrics summed over the months, and totals made only of flows) are
//! divided by the period's months; stocks (averaged, last value) are taken as they are.
use super::goals::{amount_text, progress};
use super::{join_list, noun, short_label, Noun};
use crate::api::api_type;
use crate::catalogue::{metric_def, Aggregation, Unit};
use crate::expr::{EvalContext, Expr, Values};
use crate::format;
use crate::smartnumbers::{smartnumber_def, SmartNumberDef};
use crate::thresholds::{Bands, Status};
use crate::{Month, Period};

/// A relative change within this is "flat", and a number moving less is no mover.
pub const FLAT: f64 = 0.02;
/// How many movers the summary names.
pub const MAX_MOVERS: usize = 2;

api_type! {
    /// The written summary of a period.
    pub struct Summary {
        /// Its sentences, in order.
        pub sentences: Vec<String>,
        /// The sentences joined into a paragraph.
        pub text: String,
    }
}

/// What the summary of a period is written from.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryInput {
    pub period: Period,
    pub score: Option<f64>,
    /// The previous period's score.
    pub previous_score: Option<f64>,
    /// The SmartNumbers of the previous period and this one.
    pub numbers: Vec<NumberChange>,
    /// `m` of the previous period and of this one (elapsed months while in progress).
    pub months_before: u32,
    pub months_after: u32,
    /// The two periods' aggregated input values (derived totals included), to name causes.
    pub inputs_before: Values,
    pub inputs_after: Values,
    pub anomalies: Vec<AnomalyNote>,
    /// The forecast of the quarter in progress, by number.
    pub forecast: Vec<ForecastNote>,
    pub goals: Vec<GoalNote>,
}

impl SummaryInput {
    /// An input with nothing to say yet, its months those of whole periods.
    pub fn new(period: Period) -> SummaryInput {
        let months = u32::try_from(period.months().len()).unwrap_or(1);
        SummaryInput {
            period,
            score: None,
            previous_score: None,
            numbers: Vec::new(),
            months_before: months,
            months_after: months,
            inputs_before: Values::new(),
            inputs_after: Values::new(),
            anomalies: Vec::new(),
            forecast: Vec::new(),
            goals: Vec::new(),
        }
    }
}

/// A SmartNumber in the previous period and this one.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberChange {
    pub key: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub status_before: Status,
    pub status_after: Status,
}

/// A month's value far from what is typical for it. `key` is a metric's or a
/// SmartNumber's: its noun and unit come from the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyNote {
    pub key: String,
    pub month: Month,
    pub value: f64,
    pub typical_low: f64,
    pub typical_high: f64,
}

/// Where a SmartNumber is expected to end the quarter in progress.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastNote {
    pub key: String,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
    /// The status of `expected`.
    pub status: Status,
}

/// A goal and the number's value for the goal's period so far.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalNote {
    pub key: String,
    pub target: f64,
    pub value: Option<f64>,
    /// The goal's period has ended: a goal not met is missed, not still open.
    pub settled: bool,
}

/// The summary of `input`.
pub fn summarize(input: &SummaryInput) -> Summary {
    let mut sentences: Vec<String> = Vec::new();
    sentences.extend(score_sentence(input));
    sentences.extend(status_sentence(&input.numbers));
    sentences.extend(mover_sentences(input));
    sentences.extend(anomaly_sentence(&input.anomalies));
    sentences.extend(forecast_sentence(&input.forecast));
    sentences.extend(goals_sentence(&input.goals));
    let text = sentences.join(" ");
    Summary { sentences, text }
}

/// "The health score is 74, up 6 points from Q2 2026." The change is taken between
/// the rounded scores, so the sentence adds up.
fn score_sentence(input: &SummaryInput) -> Option<String> {
    let now = input.score?.round();
    let Some(before) = input.previous_score.map(f64::round) else {
        return Some(format!("The health score is {now:.0}."));
    };
    let change = now - before;
    let points = |n: f64| if n == 1.0 { "point" } else { "points" };
    let how = if change > 0.0 {
        format!("up {change:.0} {}", points(change))
    } else if change < 0.0 {
        format!("down {:.0} {}", -change, points(-change))
    } else {
        "unchanged".to_string()
    };
    Some(format!(
        "The health score is {now:.0}, {how} from {}.",
        input.period.previous().label()
    ))
}

/// "RHEM and Net Profit % turned red; Average AISP turned green."
fn status_sentence(numbers: &[NumberChange]) -> Option<String> {
    let turned = |to: Status, from: &[Status]| -> Vec<&'static str> {
        numbers
            .iter()
            .filter(|n| n.status_after == to && from.contains(&n.status_before))
            .filter_map(|n| smartnumber_def(&n.key).map(short_label))
            .collect()
    };
    let red = turned(Status::Red, &[Status::Green, Status::Yellow]);
    let green = turned(Status::Green, &[Status::Yellow, Status::Red]);
    let clauses: Vec<String> = [(red, "red"), (green, "green")]
        .into_iter()
        .filter(|(names, _)| !names.is_empty())
        .map(|(names, color)| format!("{} turned {color}", join_list(&names)))
        .collect();
    (!clauses.is_empty()).then(|| format!("{}.", clauses.join("; ")))
}

/// The relative change from `before` to `after`, against the size of `before`.
fn relative(before: f64, after: f64) -> Option<f64> {
    (before != 0.0).then(|| (after - before) / before.abs())
}

/// The largest movers, each with its cause.
fn mover_sentences(input: &SummaryInput) -> Vec<String> {
    let mut movers: Vec<(&'static SmartNumberDef, f64, f64, f64)> = input
        .numbers
        .iter()
        .filter_map(|n| {
            let def = smartnumber_def(&n.key)?;
            let (before, after) = (n.before?, n.after?);
            let r = relative(before, after)?;
            (r.abs() > FLAT).then_some((def, before, after, r.abs()))
        })
        .collect();
    movers.sort_by(|a, b| b.3.total_cmp(&a.3));
    movers
        .into_iter()
        .take(MAX_MOVERS)
        .map(|(def, before, after, _)| {
            let cause = cause(def, input, after - before)
                .map_or_else(String::new, |c| format!(" because {c}"));
            format!(
                "{} {} from {} to {}{cause}.",
                short_label(def),
                if after > before { "rose" } else { "fell" },
                format::value(def.unit, Some(before)),
                format::value(def.unit, Some(after)),
            )
        })
        .collect()
}

/// Whether an expression reads no metric: a scale factor (`m`, working hours, 12 / m).
fn is_scale(e: &Expr) -> bool {
    e.inputs().is_empty()
}

/// The expression without its scale factors: RHEM's `time / endpoints / m` → `time / endpoints`.
fn strip(e: &'static Expr) -> &'static Expr {
    match e {
        Expr::Div(a, b) | Expr::Mul(a, b) if is_scale(b) => strip(a),
        Expr::Mul(a, b) if is_scale(a) => strip(b),
        _ => e,
    }
}

/// Whether a metric adds up over months: summed, or a total made only of such metrics.
fn is_flow(key: &str) -> bool {
    metric_def(key).is_some_and(|d| {
        d.aggregation == Aggregation::Sum || d.formula.as_ref().is_some_and(is_flow_expr)
    })
}

fn is_flow_expr(e: &Expr) -> bool {
    match e {
        Expr::Metric(k) => is_flow(k),
        Expr::Sum(terms) => terms.iter().all(is_flow_expr),
        Expr::Sub(a, b) => is_flow_expr(a) && is_flow_expr(b),
        _ => false,
    }
}

/// The values per month: flows divided by the period's months.
fn per_month(values: &Values, months: u32) -> Values {
    let m = f64::from(months.max(1));
    values
        .iter()
        .map(|(k, v)| (k.clone(), if is_flow(k) { v / m } else { *v }))
        .collect()
}

/// A side of a quotient as a sentence names it: a metric's noun, or a sum's nouns
/// "together".
fn side_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Metric(k) => noun(k).map(|n| n.text),
        Expr::Sum([only]) => side_name(only),
        Expr::Sum(terms) => {
            let names: Option<Vec<String>> = terms.iter().map(side_name).collect();
            Some(format!("{} together", join_list(&names?)))
        }
        _ => None,
    }
}

/// One side of a quotient: its name and its relative change per month.
struct Side {
    name: String,
    change: f64,
}

impl Side {
    fn of(e: &Expr, before: &Values, after: &Values) -> Option<Side> {
        let ctx = EvalContext::default();
        let b = e.evaluate(before, ctx).value?;
        let a = e.evaluate(after, ctx).value?;
        if b <= 0.0 || a <= 0.0 {
            return None;
        }
        Some(Side {
            name: side_name(e)?,
            change: a / b - 1.0,
        })
    }

    fn is_flat(&self) -> bool {
        self.change.abs() <= FLAT
    }

    /// "grew 40%", "fell 5%", with "only" when it held the value back.
    fn movement(&self, only: bool) -> String {
        if self.is_flat() {
            return "stayed flat".to_string();
        }
        let verb = if self.change > 0.0 { "grew" } else { "fell" };
        let only = if only { " only" } else { "" };
        let pct = format::grouped(self.change.abs() * 100.0, 0);
        format!("{verb}{only} {pct}%")
    }
}

/// "reactive hours grew 40% while endpoints stayed flat", for a quotient number whose
/// value moved by `change`; see the module documentation.
fn cause(def: &'static SmartNumberDef, input: &SummaryInput, change: f64) -> Option<String> {
    let Expr::Div(num, den) = strip(&def.formula) else {
        return None;
    };
    let before = per_month(&input.inputs_before, input.months_before);
    let after = per_month(&input.inputs_after, input.months_after);
    let n = Side::of(strip(num), &before, &after)?;
    let d = Side::of(strip(den), &before, &after)?;
    let way = change.signum();
    // Each side's push on the value, in log terms: ln(v'/v) = ln(n'/n) − ln(d'/d).
    let push_n = way * n.change.ln_1p();
    let push_d = -way * d.change.ln_1p();
    let ((lead, push_lead), (other, push_other)) = if push_n >= push_d {
        ((n, push_n), (d, push_d))
    } else {
        ((d, push_d), (n, push_n))
    };
    if lead.is_flat() || push_lead <= 0.0 {
        return None;
    }
    Some(format!(
        "{} {} while {} {}",
        lead.name,
        lead.movement(false),
        other.name,
        other.movement(push_other < 0.0)
    ))
}

/// The name and unit of an anomaly's key.
fn subject(key: &str) -> Option<(Noun, Unit)> {
    let unit = metric_def(key)
        .map(|d| d.unit)
        .or_else(|| smartnumber_def(key).map(|d| d.unit))?;
    Some((noun(key)?, unit))
}

/// How far a value lies outside its typical range, in range widths.
fn unusualness(a: &AnomalyNote) -> f64 {
    let width = (a.typical_high - a.typical_low).abs();
    let outside = (a.typical_low - a.value)
        .max(a.value - a.typical_high)
        .max(0.0);
    let scale = if width > 0.0 {
        width
    } else {
        a.typical_high.abs().max(1.0)
    };
    outside / scale
}

/// "Reactive hours in Oct 2025 were 542.0 h, typical 250.0 h – 420.0 h."
fn anomaly_sentence(anomalies: &[AnomalyNote]) -> Option<String> {
    let known: Vec<(&AnomalyNote, Noun, Unit)> = anomalies
        .iter()
        .filter_map(|a| subject(&a.key).map(|(n, u)| (a, n, u)))
        .collect();
    let (a, subject, unit) = known.iter().reduce(|best, x| {
        if unusualness(x.0) > unusualness(best.0) {
            x
        } else {
            best
        }
    })?;
    let fmt = |v: f64| format::value(*unit, Some(v));
    let more = if known.len() > 1 {
        format!(
            ", the most unusual of {} values outside their typical range",
            known.len()
        )
    } else {
        String::new()
    };
    Some(format!(
        "{} in {} {} {}, typical {}{more}.",
        subject.capitalized(),
        a.month.label(),
        subject.was(),
        fmt(a.value),
        super::typical_range(*unit, a.typical_low, a.typical_high)
    ))
}

/// "On current pace Tickets / Endpoint / Month ends the quarter near 0.310 (0.280 –
/// 0.340), yellow."
fn forecast_sentence(forecast: &[ForecastNote]) -> Option<String> {
    let known: Vec<(&ForecastNote, &SmartNumberDef, u8)> = forecast
        .iter()
        .filter_map(|f| Some((f, smartnumber_def(&f.key)?, f.status.severity()?)))
        .collect();
    let worst = known.iter().reduce(|w, x| if x.2 > w.2 { x } else { w })?;
    let (note, def, severity) = *worst;
    if severity == 0 {
        return Some("On current pace every forecast number ends the quarter green.".to_string());
    }
    let fmt = |v: f64| format::value(def.unit, Some(v));
    let others = known.iter().filter(|x| x.2 > 0).count() - 1;
    let more = match others {
        0 => String::new(),
        1 => ", and 1 other number ends yellow or red".to_string(),
        n => format!(", and {n} other numbers end yellow or red"),
    };
    Some(format!(
        "On current pace {} ends the quarter near {} ({}), {}{more}.",
        short_label(def),
        fmt(note.expected),
        Bands::describe(Some(note.low), Some(note.high), &fmt),
        note.status.label()
    ))
}

/// "Goals met: Average AISP; missed: RHEM (3 min short); still open: Net Profit %
/// (7.0 points to go)."
fn goals_sentence(goals: &[GoalNote]) -> Option<String> {
    let (mut met, mut missed, mut open) = (Vec::new(), Vec::new(), Vec::new());
    for g in goals {
        let Some(def) = smartnumber_def(&g.key) else {
            continue;
        };
        let Some(p) = g.value.and_then(|v| progress(def, g.target, v, None)) else {
            continue;
        };
        let label = short_label(def);
        let gap = amount_text(def.unit, p.gap);
        match (p.met, g.settled) {
            (true, _) => met.push(label.to_string()),
            (false, true) => missed.push(format!("{label} ({gap} short)")),
            (false, false) => open.push(format!("{label} ({gap} to go)")),
        }
    }
    let clauses: Vec<String> = [(met, "met"), (missed, "missed"), (open, "still open")]
        .into_iter()
        .filter(|(list, _)| !list.is_empty())
        .map(|(list, what)| format!("{what}: {}", join_list(&list)))
        .collect();
    (!clauses.is_empty()).then(|| format!("Goals {}.", clauses.join("; ")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::smartnumbers::{compute, SMARTNUMBERS};
    use crate::thresholds::default_bands;

    fn values(pairs: &[(&str, f64)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// The numbers of both periods computed from their inputs by the real formulas and
    /// judged by the default bands.
    fn input(
        period: &str,
        before: (&[(&str, f64)], u32),
        after: (&[(&str, f64)], u32),
    ) -> SummaryInput {
        let period: Period = period.parse().unwrap();
        let previous = period.previous();
        let (vb, va) = (values(before.0), values(after.0));
        let (cb, ca) = (compute(&vb, before.1, 167.0), compute(&va, after.1, 167.0));
        let numbers = SMARTNUMBERS
            .iter()
            .zip(cb.iter().zip(&ca))
            .filter(|(_, (b, a))| b.value.is_some() || a.value.is_some())
            .map(|(d, (b, a))| {
                let bands = default_bands(d.key);
                NumberChange {
                    key: d.key.to_string(),
                    before: b.value,
                    after: a.value,
                    status_before: d.judge(&previous, bands.as_ref(), b.value),
                    status_after: d.judge(&period, bands.as_ref(), a.value),
                }
            })
            .collect();
        SummaryInput {
            numbers,
            months_before: before.1,
            months_after: after.1,
            inputs_before: vb,
            inputs_after: va,
            ..SummaryInput::new(period)
        }
    }

    #[test]
    fn a_quarter_in_progress_says_everything_in_seven_sentences() {
        // Q2 whole (3 months); Q3 two months in: flows are 2/3 of a quarter's.
        let mut i = input(
            "2026-Q3",
            (
                &[
                    ("reactive_time_spent", 390.0),
                    ("endpoints_managed", 600.0),
                    ("reactive_tickets_created", 540.0),
                    ("net_profit", 45000.0),
                    ("total_revenue", 450000.0),
                    ("mrr", 360000.0),
                    ("seats_managed", 1000.0),
                ],
                3,
            ),
            (
                &[
                    ("reactive_time_spent", 364.0),
                    ("endpoints_managed", 594.0),
                    ("reactive_tickets_created", 400.0),
                    ("net_profit", 24000.0),
                    ("total_revenue", 300000.0),
                    ("mrr", 252000.0),
                    ("seats_managed", 1000.0),
                ],
                2,
            ),
        );
        i.score = Some(74.2);
        i.previous_score = Some(67.6);
        i.anomalies = vec![
            AnomalyNote {
                key: "reactive_tickets_created".into(),
                month: "2026-07".parse().unwrap(),
                value: 230.0,
                typical_low: 150.0,
                typical_high: 210.0,
            },
            AnomalyNote {
                key: "reactive_time_spent".into(),
                month: "2026-08".parse().unwrap(),
                value: 240.0,
                typical_low: 110.0,
                typical_high: 160.0,
            },
        ];
        i.forecast = vec![
            ForecastNote {
                key: "net_profit_pct".into(),
                expected: 0.21,
                low: 0.18,
                high: 0.24,
                status: Status::Green,
            },
            ForecastNote {
                key: "tickets_per_endpoint_per_month".into(),
                expected: 0.31,
                low: 0.28,
                high: 0.34,
                status: Status::Yellow,
            },
        ];
        i.goals = vec![
            GoalNote {
                key: "net_profit_pct".into(),
                target: 0.15,
                value: Some(0.08),
                settled: false,
            },
            GoalNote {
                key: "avg_aisp".into(),
                target: 125.0,
                value: Some(126.0),
                settled: false,
            },
        ];
        let s = summarize(&i);
        assert_eq!(
            s.sentences,
            vec![
                "The health score is 74, up 6 points from Q2 2026.",
                "RHEM and Net Profit % turned red; Average AISP turned green.",
                "RHEM rose from 0.22 h (13 min) to 0.31 h (18 min) because reactive hours grew 40% \
                 while endpoints stayed flat.",
                "Net Profit % fell from 10.0% to 8.0% because net profit fell 20% while revenue \
                 stayed flat.",
                "Reactive hours in Aug 2026 were 240.0 h, typical 110.0 h – 160.0 h, the most \
                 unusual of 2 values outside their typical range.",
                "On current pace Tickets / Endpoint / Month ends the quarter near 0.310 (0.280 – \
                 0.340), yellow.",
                "Goals met: Average AISP; still open: Net Profit % (7.0 points to go).",
            ]
        );
        assert_eq!(s.text, s.sentences.join(" "));
    }

    #[test]
    fn causes_name_sums_and_the_side_that_held_back() {
        let mut i = input(
            "2026-Q3",
            (
                &[
                    ("nrr", 6000.0),
                    ("mrr", 36000.0),
                    ("orr", 3000.0),
                    ("technical_employees", 5.0),
                ],
                3,
            ),
            (
                &[
                    ("nrr", 18000.0),
                    ("mrr", 36000.0),
                    ("orr", 4500.0),
                    ("technical_employees", 5.5),
                ],
                3,
            ),
        );
        i.score = Some(73.4);
        i.previous_score = Some(74.4);
        assert_eq!(
            summarize(&i).sentences,
            vec![
                "The health score is 73, down 1 point from Q2 2026.",
                "% of Services from MRR turned red.",
                "% of Services from MRR fell from 85.7% to 66.7% because NRR and MRR together \
                 grew 29% while MRR stayed flat.",
                "Annual Service Revenue / Technical Employee rose from $36,000 to $42,545 because \
                 NRR, MRR, and ORR together grew 30% while technicians grew only 10%.",
            ]
        );
    }

    #[test]
    fn a_denominator_can_lead_and_settled_goals_are_missed() {
        let mut i = input(
            "2026",
            (&[("mrr", 144000.0), ("agreements", 10.0)], 12),
            (&[("mrr", 151200.0), ("agreements", 8.0)], 12),
        );
        i.score = Some(80.0);
        i.previous_score = Some(80.4);
        i.anomalies = vec![AnomalyNote {
            key: "mrr".into(),
            month: "2026-11".parse().unwrap(),
            value: 9000.0,
            typical_low: 11500.0,
            typical_high: 12500.0,
        }];
        i.forecast = vec![ForecastNote {
            key: "rhem".into(),
            expected: 0.15,
            low: 0.12,
            high: 0.18,
            status: Status::Green,
        }];
        i.goals = vec![
            GoalNote {
                key: "rhem".into(),
                target: 0.2,
                value: Some(0.25),
                settled: true,
            },
            GoalNote {
                key: "avg_mrr_per_agreement".into(),
                target: 2000.0,
                value: None,
                settled: true,
            },
        ];
        assert_eq!(
            summarize(&i).sentences,
            vec![
                "The health score is 80, unchanged from 2025.",
                "Average MRR / Agreement turned green.",
                "Average MRR / Agreement rose from $1,200 to $1,575 because agreements fell 20% \
                 while MRR grew 5%.",
                "MRR in Nov 2026 was $9,000, typical $11,500 – $12,500.",
                "On current pace every forecast number ends the quarter green.",
                "Goals missed: RHEM (3 min short).",
            ]
        );
    }

    #[test]
    fn empty_input_says_only_what_applies() {
        let quarter: Period = "2026-Q3".parse().unwrap();
        let empty = summarize(&SummaryInput::new(quarter));
        assert!(empty.sentences.is_empty());
        assert_eq!(empty.text, "");
        let only_score = SummaryInput {
            score: Some(61.5),
            ..SummaryInput::new(quarter)
        };
        assert_eq!(summarize(&only_score).text, "The health score is 62.");
        // A number without its before value, unknown keys and flat changes say nothing.
        let quiet = SummaryInput {
            numbers: vec![
                NumberChange {
                    key: "rhem".into(),
                    before: None,
                    after: Some(0.4),
                    status_before: Status::None,
                    status_after: Status::Red,
                },
                NumberChange {
                    key: "avg_aisp".into(),
                    before: Some(100.0),
                    after: Some(101.0),
                    status_before: Status::Yellow,
                    status_after: Status::Yellow,
                },
                NumberChange {
                    key: "nope".into(),
                    before: Some(1.0),
                    after: Some(2.0),
                    status_before: Status::Yellow,
                    status_after: Status::Red,
                },
            ],
            ..SummaryInput::new(quarter)
        };
        assert!(summarize(&quiet).sentences.is_empty());
    }

    #[test]
    fn flows_and_stocks() {
        assert!(is_flow("reactive_time_spent"));
        assert!(is_flow("net_profit"), "a total of flows is a flow");
        assert!(!is_flow("endpoints_managed"));
        assert!(!is_flow("msp_turning_point"), "a ratio of flows is not");
        assert!(!is_flow("cash_reserve"));
    }
}
