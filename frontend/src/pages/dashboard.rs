//! The dashboard: the business health block (score, trend, sections, summary), the
//! 18 SmartNumbers of a period in five sections (with the quarter's forecast and goals),
//! the alerts strip (threshold alerts and unusual values), and the period's header
//! (organization, period, last updated, collection status).
use super::{event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::card::Card;
use crate::components::downloads::{ExportButtons, ReportButton};
use crate::components::fetch::{use_fetch, view_fetch, Fetch};
use crate::components::health::HealthBlock;
use crate::{time, Route, Session};
use qbr_shared::api::{
    AlertKind, AlertsResponse, CollectionStatusResponse, SmartNumbersResponse, VendorStatus,
};
use qbr_shared::collection::Freshness;
use qbr_shared::insight::api::{
    AnomaliesResponse, ForecastResponse, GoalStanding, GoalsResponse, HealthScoreResponse,
    NumberForecast, SummaryResponse,
};
use qbr_shared::smartnumbers::SmartCategory;
use qbr_shared::Period;
use std::sync::atomic::{AtomicBool, Ordering};
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DashboardProps {
    pub period: Option<String>,
}

type Loaded = (
    SmartNumbersResponse,
    Option<AlertsResponse>,
    Option<CollectionStatusResponse>,
);

async fn load(period: String) -> Result<Loaded, ApiError> {
    let numbers = api::smartnumbers(&period).await?;
    // The strip and the badge are extras: the cards show even if they fail.
    let alerts = api::alerts(&period).await.ok();
    let collection = api::collection_status().await.ok();
    Ok((numbers, alerts, collection))
}

// The insight extras load beside the numbers, each on its own: the cards never wait
// for them, and one that fails (no data, an older server) leaves only its part out.

/// The health trend's range in months (`from`/`to` are months): the last 12 months
/// for a month, else the 8 quarters up to the period's last (the year's two years).
fn health_range(p: &Period) -> (String, String) {
    let last = p.last_month();
    let first = match *p {
        Period::Month(m) => m.add_months(-11),
        Period::Quarter(q) => (0..7).fold(q, |q, _| q.prev()).months()[0],
        Period::Year(y) => Period::Year(y - 1).first_month(),
    };
    (first.to_string(), last.to_string())
}

fn parse(period: &str) -> Result<Period, ApiError> {
    period
        .parse()
        .map_err(|e: qbr_shared::PeriodError| ApiError {
            code: Some(qbr_shared::ErrorCode::InvalidPeriod),
            message: e.to_string(),
        })
}

async fn load_history(period: String) -> Result<HealthScoreResponse, ApiError> {
    let (from, to) = health_range(&parse(&period)?);
    api::health_score(&from, &to).await
}

async fn load_summary(period: String) -> Result<SummaryResponse, ApiError> {
    api::summary(&period).await
}

/// The forecast of a quarter still in progress; `None` for other periods.
async fn load_forecast(period: String) -> Result<Option<ForecastResponse>, ApiError> {
    if !matches!(parse(&period)?, Period::Quarter(_)) {
        return Ok(None);
    }
    let f = api::forecast(&period).await?;
    Ok((f.months_elapsed < 3).then_some(f))
}

async fn load_anomalies(period: String) -> Result<AnomaliesResponse, ApiError> {
    let p = parse(&period)?;
    api::anomalies(&p.first_month().to_string(), &p.last_month().to_string()).await
}

async fn load_goals(_period: String) -> Result<GoalsResponse, ApiError> {
    api::goals().await
}

/// The goal shown on a card: the period's own (a quarter, or a month's quarter), else
/// its year's.
fn goal_for(goals: &GoalsResponse, key: &str, period: &str) -> Option<GoalStanding> {
    let p: Period = period.parse().ok()?;
    let quarter = p.last_month().quarter().to_string();
    let year = p.last_month().year().to_string();
    let of = |wanted: &str| {
        goals
            .goals
            .iter()
            .find(|g| g.key == key && g.period == wanted)
    };
    let own = match p {
        Period::Year(_) => None,
        _ => of(&quarter),
    };
    own.or_else(|| of(&year)).cloned()
}

fn forecast_for(f: &Fetch<Option<ForecastResponse>>, key: &str) -> Option<NumberForecast> {
    f.done()?
        .as_ref()?
        .numbers
        .iter()
        .find(|n| n.key == key && n.expected.is_some())
        .cloned()
}

static FIRST_CARD_MARKED: AtomicBool = AtomicBool::new(false);

/// Marks the first paint of SmartNumber cards for the benchmark (`first-card`).
fn mark_first_card() {
    if !FIRST_CARD_MARKED.swap(true, Ordering::Relaxed) {
        if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
            let _ = p.mark("first-card");
        }
    }
}

/// The vendors' freshness as one: stale if any vendor is stale, never if none has been
/// collected yet (or none is configured), else fresh.
fn overall_freshness(vendors: &[VendorStatus]) -> Freshness {
    let mut overall = Freshness::Never;
    for v in vendors {
        match v.freshness {
            Freshness::Stale => return Freshness::Stale,
            Freshness::Fresh => overall = Freshness::Fresh,
            Freshness::Never => {}
        }
    }
    overall
}

fn collection_badge(org: String, c: &Option<CollectionStatusResponse>) -> Html {
    let (class, text) = match c {
        None => ("none", "Collection: unknown"),
        Some(c) if c.running.is_some() => ("yellow", "Collection: running"),
        Some(c) => match overall_freshness(&c.vendors) {
            Freshness::Never => ("none", "Collection: not configured"),
            Freshness::Stale => ("red", "Collection: stale"),
            Freshness::Fresh => ("green", "Collection: up to date"),
        },
    };
    html! {
        <Link<Route> to={Route::Collection { org }} classes={classes!("badge", class)}>
            <span class="dot" aria-hidden="true"></span>{ text }
        </Link<Route>>
    }
}

/// "3 alerts", "1 alert · 2 unusual values".
fn strip_title(alerts: usize, unusual: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut parts = Vec::new();
    if alerts > 0 {
        parts.push(format!("{alerts} alert{}", plural(alerts)));
    }
    if unusual > 0 {
        parts.push(format!("{unusual} unusual value{}", plural(unusual)));
    }
    parts.join(" · ")
}

fn alerts_strip(a: &Option<AlertsResponse>, unusual: Option<&AnomaliesResponse>) -> Html {
    let Some(a) = a else { return html! {} };
    let anomalies = unusual.map_or(&[][..], |u| u.anomalies.as_slice());
    if a.alerts.is_empty() && anomalies.is_empty() {
        return html! { <div class="alerts ok" role="status"><span aria-hidden="true">{ "✓ " }</span>{ "No alerts for this period." }</div> };
    }
    let shown = 8;
    let more = a.alerts.len().saturating_sub(shown);
    let shown_unusual = 5;
    let more_unusual = anomalies.len().saturating_sub(shown_unusual);
    html! {
        <section class={classes!("alerts", a.alerts.is_empty().then_some("only-unusual"))} aria-label="Alerts">
            <div class="alerts-title">{ strip_title(a.alerts.len(), anomalies.len()) }</div>
            <ul>
                { for a.alerts.iter().take(shown).map(|al| {
                    let (icon, kind, class) = match al.kind {
                        AlertKind::Red => ("✕", "Off target", "red"),
                        AlertKind::Worsened => ("▼", "Worsened", "yellow"),
                        AlertKind::DataQuality => ("⚑", "Data quality", "dq"),
                    };
                    html! {
                        <li class={classes!("alert", class)} title={al.band.clone().unwrap_or_default()}>
                            <span class="alert-icon" aria-hidden="true">{ icon }</span>
                            <span class="alert-kind">{ kind }</span>
                            <span>{ &al.message }</span>
                        </li>
                    }
                }) }
                if more > 0 { <li class="alert more">{ format!("and {more} more") }</li> }
                { for anomalies.iter().take(shown_unusual).map(|an| html! {
                    <li class="alert unusual" data-key={an.key.clone()} data-month={an.month.clone()}
                        title={an.hint()}>
                        <span class="alert-icon" aria-hidden="true">{ "◆" }</span>
                        <span class="tag unusual-tag">{ "Unusual" }</span>
                        <span>{ &an.explanation }</span>
                    </li>
                }) }
                if more_unusual > 0 { <li class="alert more">{ format!("and {more_unusual} more unusual") }</li> }
            </ul>
        </section>
    }
}

#[function_component(Dashboard)]
pub fn dashboard(props: &DashboardProps) -> Html {
    let session = use_context::<Session>();
    let navigator = use_navigator();
    let period = props
        .period
        .clone()
        .or_else(|| session.as_ref().map(Session::default_period))
        .unwrap_or_default();
    let data = use_fetch(period.clone(), load);
    let history = use_fetch(period.clone(), load_history);
    let summary = use_fetch(period.clone(), load_summary);
    let forecast = use_fetch(period.clone(), load_forecast);
    let anomalies = use_fetch(period.clone(), load_anomalies);
    let goals = use_fetch(period.clone(), load_goals);
    use_effect_with(data.done().is_some(), |done| {
        if *done {
            mark_first_card();
        }
    });
    let Some(session) = session else {
        return html! {};
    };
    let p = &session.periods;

    let org = session.slug();
    let on_period = Callback::from(move |e: Event| {
        if let Some(n) = &navigator {
            n.push(&Route::Dashboard {
                org: org.clone(),
                period: event_value(&e),
            });
        }
    });
    let selector = html! {
        <label class="field inline">
            <span>{ "Period" }</span>
            <select id="period-select" onchange={on_period} aria-label="Period">
                if !p.quarters.contains(&period) && !p.months.contains(&period) {
                    <option value={period.clone()} selected=true>{ period_label(&period) }</option>
                }
                <optgroup label="Quarters">
                    { for p.quarters.iter().map(|q| html! { <option value={q.clone()} selected={*q == period}>{ period_label(q) }</option> }) }
                </optgroup>
                <optgroup label="Months">
                    { for p.months.iter().map(|m| html! { <option value={m.clone()} selected={*m == period}>{ period_label(m) }</option> }) }
                </optgroup>
            </select>
        </label>
    };
    // The report covers the quarter shown (a month's quarter when a month is shown);
    // the exports its year.
    let quarter = period
        .parse::<qbr_shared::Period>()
        .ok()
        .map(|p| p.last_month().quarter());
    let downloads = match quarter {
        Some(q) => html! {
            <>
                <ReportButton quarter={q.to_string()} />
                <ExportButtons year={q.year()} />
            </>
        },
        None => html! {},
    };
    let (updated, badge) = match data.done() {
        Some((n, _, c)) => (
            n.calculated_at
                .as_ref()
                .map_or_else(|| "not yet calculated".to_string(), time::format_timestamp),
            collection_badge(session.slug(), c),
        ),
        None => (String::new(), html! {}),
    };
    html! {
        <div class="page dashboard">
            <div class="page-head">
                <div>
                    <h1>{ format!("{} · {}", p.organization_name, period_label(&period)) }</h1>
                    <div class="meta">
                        if !updated.is_empty() {
                            <span id="last-updated">{ format!("Last updated {updated}") }</span>
                        }
                        { badge }
                    </div>
                </div>
                <div class="head-actions">{ selector }{ downloads }</div>
            </div>
            <HealthBlock period={period.clone()} summary={summary.done().cloned()} history={history.done().cloned()}
                loading={matches!(*summary, Fetch::Loading) || matches!(*history, Fetch::Loading)} />
            { view_fetch("the SmartNumbers", &data, |(numbers, alerts, _)| html! {
                <>
                    { alerts_strip(alerts, anomalies.done()) }
                    if numbers.months_counted > 0 && numbers.monthly_periods.len() as u32 > numbers.months_counted {
                        <div class="note">{ format!("Period in progress: per-month numbers count {} elapsed month{}.", numbers.months_counted, if numbers.months_counted == 1 { "" } else { "s" }) }</div>
                    }
                    <div class="sections">
                    { for SmartCategory::ALL.iter().map(|cat| html! {
                        <section class="section" aria-labelledby={format!("sec-{}", cat.label())}
                            style={format!("--span:{}", numbers.smartnumbers.iter().filter(|n| n.category == *cat).count().clamp(1, 5))}>
                            <h2 id={format!("sec-{}", cat.label())}>{ cat.label() }</h2>
                            <div class="cards">
                                { for numbers.smartnumbers.iter().filter(|n| n.category == *cat).map(|n| html! {
                                    <Card number={n.clone()} period={numbers.period.clone()}
                                        forecast={forecast_for(&forecast, &n.key)}
                                        goal={goals.done().and_then(|g| goal_for(g, &n.key, &numbers.period))} />
                                }) }
                            </div>
                        </section>
                    }) }
                    </div>
                </>
            }) }
        </div>
    }
}
