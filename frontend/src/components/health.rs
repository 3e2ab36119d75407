//! The dashboard's "Business health" block: the period's score (0–100) with its change,
//! a small trend of the last quarters or months, the five sections as bars with their
//! weights, the sections pulling it down, how the score is made, and the period's
//! written summary. Each part shows only what its answer has: a failed call leaves the
//! block (or that part of it) out, never a fake 0.
use crate::components::status::StatusPill;
use crate::pages::period_label;
use qbr_shared::insight::api::{HealthScoreResponse, PeriodHealth, SummaryResponse};
use qbr_shared::insight::health::{HealthScore, DEFINITION, PULLING_DOWN_BELOW};
use qbr_shared::insight::join_list;
use qbr_shared::thresholds::Status;
use qbr_shared::{Period, PeriodKind};
use yew::prelude::*;

/// Where a score stands, by the score's own bands: 70–100 green, 40–70 yellow, below
/// red (the definition's ranges).
pub fn score_status(score: Option<f64>) -> Status {
    match score {
        None => Status::None,
        Some(s) if s >= PULLING_DOWN_BELOW => Status::Green,
        Some(s) if s >= 40.0 => Status::Yellow,
        Some(_) => Status::Red,
    }
}

/// A score as people read it: whole points.
fn points(score: f64) -> String {
    format!("{}", score.round())
}

#[derive(Properties, PartialEq)]
pub struct HealthProps {
    /// The period shown (`2025-Q4`, `2025-10`, `2025`).
    pub period: AttrValue,
    /// `GET /summary` for the period; `None` while loading or when it failed.
    pub summary: Option<SummaryResponse>,
    /// `GET /health-score` over the trend's range; `None` while loading or failed.
    pub history: Option<HealthScoreResponse>,
    /// Whether either answer is still awaited.
    pub loading: bool,
}

/// The periods of the trend (quarters, or months for a month), oldest first.
fn trend_of<'a>(period: &str, history: &'a HealthScoreResponse) -> &'a [PeriodHealth] {
    let monthly = period
        .parse::<Period>()
        .is_ok_and(|p| p.kind() == PeriodKind::Month);
    if monthly {
        &history.months
    } else {
        &history.quarters
    }
}

/// The trend as small bars, the period shown last and strongest.
fn sparkline(trend: &[PeriodHealth]) -> Html {
    if trend.len() < 2 {
        return html! {};
    }
    let (w, h, gap) = (12.0, 36.0, 4.0);
    let width = trend.len() as f64 * (w + gap) - gap;
    let last = trend.len() - 1;
    let bars = trend.iter().enumerate().map(|(i, p)| {
        let x = i as f64 * (w + gap);
        let title = format!(
            "{}: {}",
            period_label(&p.period),
            p.health.score.map_or_else(|| "no score".to_string(), points)
        );
        let class = classes!(
            "spark-bar",
            crate::components::status::class(score_status(p.health.score)),
            (i != last).then_some("past")
        );
        match p.health.score {
            Some(s) => {
                let bh = (s / 100.0 * h).clamp(2.0, h);
                html! { <rect {class} x={x.to_string()} y={(h - bh).to_string()} width={w.to_string()} height={bh.to_string()} rx="2"><title>{ title }</title></rect> }
            }
            None => html! {
                <rect {class} x={x.to_string()} y={(h - 2.0).to_string()} width={w.to_string()} height="2"><title>{ title }</title></rect>
            },
        }
    });
    let (first, end) = (&trend[0].period, &trend[last].period);
    html! {
        <div class="health-trend" id="health-trend">
            <svg viewBox={format!("0 0 {width} {h}")} width={width.to_string()} height={h.to_string()} role="img"
                aria-label={format!("Health score from {} to {}", period_label(first), period_label(end))}>
                { for bars }
            </svg>
            <div class="health-trend-axis small muted"><span>{ period_label(first) }</span><span>{ period_label(end) }</span></div>
        </div>
    }
}

/// The change against the previous period, in whole points.
fn change_line(score: Option<f64>, previous: Option<f64>, previous_period: Option<String>) -> Html {
    let (Some(now), Some(before)) = (score, previous) else {
        return html! {};
    };
    let delta = now.round() - before.round();
    let against = previous_period
        .map(|p| format!(" vs {}", period_label(&p)))
        .unwrap_or_default();
    let (arrow, class, text) = if delta > 0.0 {
        ("▲", "better", format!("+{delta}"))
    } else if delta < 0.0 {
        ("▼", "worse", format!("{delta}"))
    } else {
        ("→", "neutral", "unchanged".to_string())
    };
    html! {
        <div class={classes!("change", class)} id="health-change">
            <span class="arrow" aria-hidden="true">{ arrow }</span>{ format!(" {text}{against}") }
        </div>
    }
}

/// The five sections as bars with their weights, and the ones pulling the score down.
fn sections_view(health: &HealthScore) -> Html {
    html! {
        <div class="health-sections">
            <ul class="section-bars" id="health-sections">
                { for health.sections.iter().map(|s| {
                    let status = score_status(s.score);
                    let share = if s.share > 0.0 { format!("; {:.0} % of the total", s.share * 100.0) } else { String::new() };
                    html! {
                        <li class="section-bar" data-category={s.category.label()}
                            title={format!("{}: weight {}{share}", s.category.label(), s.weight)}>
                            <span class="section-name">{ s.category.label() }</span>
                            <span class="bar-track" aria-hidden="true">
                                if let Some(v) = s.score {
                                    <span class={classes!("bar-fill", crate::components::status::class(status))} style={format!("width:{:.1}%", v.clamp(0.0, 100.0))}></span>
                                }
                            </span>
                            <span class="section-score">{ s.score.map_or_else(|| "–".to_string(), points) }</span>
                            <span class="section-weight muted">{ format!("weight {}", s.weight) }</span>
                        </li>
                    }
                }) }
            </ul>
            <div class="pulling small" id="health-pulling">
                if health.pulling_down.is_empty() {
                    if health.score.is_some() { { "No section scores below 70." } }
                } else {
                    <span class="pulling-label">{ "Pulling it down: " }</span>
                    { format!("{}.", join_list(&health.pulling_down.iter().map(|c| c.label()).collect::<Vec<_>>())) }
                }
            </div>
        </div>
    }
}

#[function_component(HealthBlock)]
pub fn health_block(props: &HealthProps) -> Html {
    let period = props.period.to_string();
    let trend: &[PeriodHealth] = props.history.as_ref().map_or(&[], |h| trend_of(&period, h));
    // The period's score: the summary's, else the trend's entry for it.
    let from_trend = trend.iter().position(|p| p.period == period);
    let health = props
        .summary
        .as_ref()
        .map(|s| &s.health)
        .or_else(|| from_trend.map(|i| &trend[i].health));
    let Some(health) = health else {
        if props.loading {
            return html! {
                <section class="panel health loading-block" aria-busy="true">
                    <h2>{ "Business health" }</h2><span class="spinner" aria-hidden="true"></span>
                </section>
            };
        }
        return html! {};
    };
    let previous = props.summary.as_ref().map_or_else(
        || {
            from_trend
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| trend[i].health.score)
        },
        |s| s.previous_score,
    );
    let previous_period = period
        .parse::<Period>()
        .ok()
        .map(|p| p.previous().to_string());
    // The trend ends at the period shown.
    let shown: &[PeriodHealth] = match from_trend {
        Some(i) => &trend[..=i],
        None => trend,
    };
    let definition = props
        .history
        .as_ref()
        .map_or(DEFINITION, |h| h.definition.as_str());
    let status = score_status(health.score);
    html! {
        <section class="panel health" id="health" aria-labelledby="health-title">
            <div class="health-main">
                <h2 id="health-title">{ "Business health" }</h2>
                <div class="health-value">
                    <span class={classes!("health-score", crate::components::status::class(status))} id="health-score">
                        { health.score.map_or_else(|| "–".to_string(), points) }
                    </span>
                    <span class="health-of muted">{ "/ 100" }</span>
                    if health.score.is_some() { <StatusPill {status} /> }
                </div>
                if health.score.is_none() {
                    <div class="muted small">{ "No SmartNumber of this period can be judged yet." }</div>
                }
                { change_line(health.score, previous, previous_period) }
                { sparkline(shown) }
                <details class="health-def">
                    <summary>{ "How is it scored?" }</summary>
                    <p id="health-definition">{ definition }</p>
                </details>
            </div>
            { sections_view(health) }
            <div class="health-summary">
                <h2>{ format!("Summary · {}", period_label(&period)) }</h2>
                { match &props.summary {
                    Some(s) if !s.summary.text.is_empty() => html! { <p class="summary-text" id="summary-text">{ &s.summary.text }</p> },
                    Some(_) => html! { <p class="muted">{ "Nothing to summarize for this period yet." }</p> },
                    None if props.loading => html! { <p class="muted">{ "Loading the summary…" }</p> },
                    None => html! { <p class="muted">{ "The summary could not be loaded." }</p> },
                } }
            </div>
        </section>
    }
}
