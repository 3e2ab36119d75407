//! One SmartNumber as a dashboard card: value, status, change against the previous
//! period (arrow coloured by improvement), or N/A with what is missing; in a quarter in
//! progress where it is expected to end, and its goal with the way still to go.
use crate::components::status::{self, StatusPill};
use crate::{Route, Session};
use qbr_shared::api::SmartNumber;
use qbr_shared::catalogue::Unit;
use qbr_shared::format;
use qbr_shared::insight::api::{GoalStanding, NumberForecast};
use qbr_shared::insight::goals::amount_text;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CardProps {
    pub number: SmartNumber,
    pub period: AttrValue,
    /// Where it is expected to end the quarter in progress.
    #[prop_or_default]
    pub forecast: Option<NumberForecast>,
    /// Its goal for the period shown (or the year containing it).
    #[prop_or_default]
    pub goal: Option<GoalStanding>,
}

/// A value short enough for a card's small line: hours without the minutes.
fn short(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Hours => format!("{} h", format::grouped(v, 2)),
        _ => format::value(unit, Some(v)),
    }
}

/// A range's end without its unit where the expected value just before says it.
fn bare(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Hours => format::grouped(v, 2),
        Unit::Pct => format::grouped(v * 100.0, 1),
        _ => format::value(unit, Some(v)),
    }
}

/// "On track for 0.31 h (0.28–0.34), yellow".
fn forecast_line(f: &NumberForecast) -> Html {
    let Some(expected) = f.expected else {
        return html! {};
    };
    let range = match (f.low, f.high) {
        (Some(lo), Some(hi)) => format!(" ({}–{})", bare(f.unit, lo), bare(f.unit, hi)),
        _ => String::new(),
    };
    let so_far = f
        .so_far
        .map(|v| format!("; so far {}", short(f.unit, v)))
        .unwrap_or_default();
    let word = match f.status {
        qbr_shared::thresholds::Status::None => String::new(),
        s => format!(", {}", s.label()),
    };
    html! {
        <div class={classes!("forecast", status::class(f.status))} data-forecast={f.key.clone()}
            title={format!("Expected at the end of the quarter, with the range 8 quarters in 10 end in{so_far}.")}>
            <span class="forecast-icon" aria-hidden="true">{ status::icon(f.status) }</span>
            { format!("On track for {}{range}{word}", short(f.unit, expected)) }
        </div>
    }
}

/// "Goal 15.0% (2026): 2.6 points to go", "Goal 15.0%: met".
fn goal_line(g: &GoalStanding, period: &str) -> Html {
    let whose = if g.period == period {
        String::new()
    } else {
        format!(" ({})", crate::pages::period_label(&g.period))
    };
    let target = format::value(g.unit, Some(g.target));
    let (class, outcome) = match &g.progress {
        Some(p) if p.met => ("met", "met".to_string()),
        Some(p) => ("short", format!("{} to go", amount_text(g.unit, p.gap))),
        None => ("none", "no value yet".to_string()),
    };
    html! {
        <div class={classes!("goal-line", class)} data-goal={g.key.clone()} title={g.sentence.clone().unwrap_or_default()}>
            <span class="goal-icon" aria-hidden="true">{ if class == "met" { "★" } else { "◎" } }</span>
            { format!("Goal {target}{whose}: {outcome}") }
            if let Some(share) = g.progress.as_ref().and_then(|p| p.share).filter(|_| class == "short") {
                <span class="goal-track" aria-hidden="true"><span class="goal-fill" style={format!("width:{:.0}%", share * 100.0)}></span></span>
            }
        </div>
    }
}

fn change_line(n: &SmartNumber) -> Html {
    let Some(delta) = n.change else {
        let text = if n.value.is_some() && n.previous.value.is_none() {
            format!(
                "No value for {}",
                crate::pages::period_label(&n.previous.period)
            )
        } else {
            String::new()
        };
        return html! { <div class="change neutral">{ text }</div> };
    };
    let (arrow, class, word) = match (delta.partial_cmp(&0.0), n.improved) {
        (Some(std::cmp::Ordering::Equal), _) | (None, _) => ("→", "neutral", "unchanged"),
        (Some(o), improved) => {
            let arrow = if o == std::cmp::Ordering::Greater {
                "▲"
            } else {
                "▼"
            };
            match improved {
                Some(true) => (arrow, "better", "better"),
                Some(false) => (arrow, "worse", "worse"),
                None => (arrow, "neutral", "changed"),
            }
        }
    };
    html! {
        <div class={classes!("change", class)} title={format!("{word} than {}", crate::pages::period_label(&n.previous.period))}>
            <span class="arrow" aria-hidden="true">{ arrow }</span>
            { format!(" {} vs {}", format::change(n.unit, delta), crate::pages::period_label(&n.previous.period)) }
            <span class="sr-only">{ format!(" ({word})") }</span>
        </div>
    }
}

#[function_component(Card)]
pub fn card(props: &CardProps) -> Html {
    let n = &props.number;
    let org = use_context::<Session>()
        .map(|s| s.slug())
        .unwrap_or_default();
    let route = Route::Number {
        org,
        key: n.key.clone(),
        period: props.period.to_string(),
    };
    let value = format::value(n.unit, n.value);
    html! {
        <Link<Route> to={route} classes={classes!("card", status::class(n.status))}>
            <div class="card-inner" data-key={n.key.clone()} data-status={n.status.label()}>
                <div class="card-top">
                    <span class="card-label">{ &n.label }</span>
                    if n.value.is_some() { <StatusPill status={n.status} /> }
                </div>
                <div class={classes!("card-value", n.value.is_none().then_some("na"))}>{ value }</div>
                if let Some(reason) = &n.null_reason {
                    <div class="na-reason">{ format!("N/A — {reason}") }</div>
                } else {
                    { change_line(n) }
                }
                if let Some(f) = &props.forecast { { forecast_line(f) } }
                if let Some(g) = &props.goal { { goal_line(g, &props.period) } }
            </div>
        </Link<Route>>
    }
}
