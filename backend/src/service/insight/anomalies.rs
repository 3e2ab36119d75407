//! `GET /api/qbr/anomalies`: the months of a range whose inputs or SmartNumbers are far
//! from what is typical for them (the `insight` crate's robust score against the
//! trailing 24 months, seasonality removed where two years exist). The month in
//! progress is judged on its run rate once half of it has passed.
use super::{in_progress, input_keys, inputs, run_rate_inputs, RUN_RATE_FROM};
use crate::error::{AppError, AppResult};
use crate::store::org::Org;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use insight::AnomalyScore;
use qbr_shared::catalogue::{metric_def, Unit};
use qbr_shared::expr::Values;
use qbr_shared::insight::api::{AnomaliesResponse, Anomaly, Direction, SeriesKind};
use qbr_shared::insight::typical_range;
use qbr_shared::smartnumbers::{compute, smartnumber_def, SMARTNUMBERS};
use qbr_shared::thresholds::Bands;
use qbr_shared::values::with_derived;
use qbr_shared::{format, Month};
use std::collections::BTreeMap;

/// Most months one answer covers.
pub const MAX_MONTHS: usize = 36;

/// Every series' monthly values over the history and the range: inputs and the 18
/// SmartNumbers (computed per month from the month's inputs, the month in progress from
/// its run rate).
struct Series {
    /// By (kind's word, key): ordered, so answers list ties the same way every time.
    values: BTreeMap<(&'static str, &'static str), Vec<(Month, f64)>>,
    run_rate_month: Option<Month>,
}

/// The anomalies of the months `from..=to`, strongest first.
pub async fn anomalies(
    conn: &mut AsyncPgConnection,
    org: &Org,
    from: Month,
    to: Month,
    now: DateTime<Utc>,
) -> AppResult<AnomaliesResponse> {
    let months = Month::range(from, to, MAX_MONTHS)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let history_from = from.add_months(-super::HISTORY_MONTHS);
    let inputs = inputs(conn, org.id, history_from, to).await?;
    let series = series(&inputs, org, now);
    let mut found: Vec<Anomaly> = Vec::new();
    for ((kind, key), values) in &series.values {
        let Some(kind) = SeriesKind::parse(kind) else {
            continue;
        };
        for (month, value) in values.iter().filter(|(m, _)| months.contains(m)) {
            let history: Vec<(Month, f64)> =
                values.iter().filter(|(m, _)| m < month).copied().collect();
            let Some(score) = insight::score_series(&history, *month, *value) else {
                continue;
            };
            if score.is_anomaly {
                let run_rate = series.run_rate_month == Some(*month);
                // A series never below zero (hours, lost MRR) has no typical value below it.
                let never_negative = *value >= 0.0 && history.iter().all(|(_, v)| *v >= 0.0);
                found.extend(anomaly(kind, key, &score, run_rate, never_negative));
            }
        }
    }
    found.sort_by(|a, b| b.score.abs().total_cmp(&a.score.abs()));
    Ok(AnomaliesResponse {
        organization_id: org.id,
        from: from.to_string(),
        to: to.to_string(),
        threshold: insight::anomaly::THRESHOLD,
        anomalies: found,
    })
}

fn series(inputs: &BTreeMap<Month, Values>, org: &Org, now: DateTime<Utc>) -> Series {
    let (current, elapsed) = in_progress(org, now);
    let mut out = Series {
        values: BTreeMap::new(),
        run_rate_month: None,
    };
    for (month, values) in inputs {
        let values = if *month == current {
            if elapsed < RUN_RATE_FROM {
                continue;
            }
            out.run_rate_month = Some(current);
            run_rate_inputs(values, elapsed)
        } else if *month > current {
            continue;
        } else {
            values.clone()
        };
        for key in input_keys() {
            if let Some(v) = values.get(key) {
                out.values
                    .entry((SeriesKind::Input.as_str(), key))
                    .or_default()
                    .push((*month, *v));
            }
        }
        let all = with_derived(&values, None);
        for n in compute(&all, 1, org.working_hours) {
            if let (Some(v), Some(def)) = (n.value, smartnumber_def(n.key)) {
                if !def.quarters_only {
                    out.values
                        .entry((SeriesKind::SmartNumber.as_str(), def.key))
                        .or_default()
                        .push((*month, v));
                }
            }
        }
    }
    out
}

/// What an anomaly is of: its series, its words and how its values read.
pub(super) struct Subject<'a> {
    pub kind: SeriesKind,
    pub key: &'a str,
    pub label: &'a str,
    pub unit: Unit,
    /// A value for people ("216.0 h", "$142/h").
    pub fmt: &'a dyn Fn(f64) -> String,
    /// The value is never below 0 (a count, hours, an amount never negative in its
    /// history): the typical range starts at 0.
    pub non_negative: bool,
    /// The values are whole counts (tickets, not tickets per endpoint): the typical
    /// range reads in whole numbers.
    pub whole: bool,
}

/// The answer's entry for a scored month of an organization's input or SmartNumber.
fn anomaly(
    kind: SeriesKind,
    key: &str,
    s: &AnomalyScore,
    run_rate: bool,
    non_negative: bool,
) -> Option<Anomaly> {
    let (label, unit) = match kind {
        SeriesKind::Input => metric_def(key).map(|d| (d.label, d.unit))?,
        SeriesKind::SmartNumber => SMARTNUMBERS
            .iter()
            .find(|d| d.key == key)
            .map(|d| (d.label, d.unit))?,
        SeriesKind::ClientMetric | SeriesKind::ClientNumber => return None,
    };
    let fmt = |v: f64| format::value(unit, Some(v));
    let subject = Subject {
        kind,
        key,
        label,
        unit,
        fmt: &fmt,
        non_negative,
        whole: unit == Unit::Count,
    };
    Some(anomaly_of(&subject, s, run_rate))
}

/// The answer's entry for a scored month, with its explanation.
pub(super) fn anomaly_of(subject: &Subject, s: &AnomalyScore, run_rate: bool) -> Anomaly {
    let floor = |v: f64| if subject.non_negative { v.max(0.0) } else { v };
    let (low, high) = (floor(s.typical.low), floor(s.typical.high));
    let direction = if s.score >= 0.0 {
        Direction::Above
    } else {
        Direction::Below
    };
    Anomaly {
        key: subject.key.to_string(),
        kind: subject.kind,
        label: subject.label.to_string(),
        unit: subject.unit,
        month: s.month.to_string(),
        value: s.value,
        run_rate,
        score: s.score,
        typical_low: low,
        typical_high: high,
        direction,
        explanation: explanation(subject, s, (low, high), run_rate),
    }
}

/// "Total Time on Reactive Tickets in Oct 2025: 542.0 h, typical 250.0 h – 420.0 h for
/// October."
fn explanation(
    subject: &Subject,
    s: &AnomalyScore,
    (low, high): (f64, f64),
    run_rate: bool,
) -> String {
    let typical = if subject.whole {
        typical_range(subject.unit, low, high)
    } else {
        Bands::describe(Some(low), Some(high), subject.fmt)
    };
    let season = if s.seasonal {
        format!(" for {}", s.month.long_name())
    } else {
        String::new()
    };
    let pace = if run_rate {
        " (at its pace so far)"
    } else {
        ""
    };
    format!(
        "{} in {}: {}{pace}, typical {typical}{season}.",
        subject.label,
        s.month.label(),
        (subject.fmt)(s.value)
    )
}
