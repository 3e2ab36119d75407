//! One client: the vendor entities linked to it, the latest quarter's numbers as cards
//! with the change since the quarter before, a number's trend by month, and each
//! month's inputs with where they came from.
use super::unusual::ClientUnusual;
use super::{change_text, improved, last_closed_quarter, short_input, value_text};
use crate::api;
use crate::components::chart::{ChartSpec, EChart};
use crate::components::charts::{trend_chart_with, Overlay, SeriesData, UnusualMark};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::status::StatusPill;
use crate::pages::{event_value, period_label};
use crate::{Route, Session};
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::Unit;
use qbr_shared::clients::api::{ClientMetricsResponse, ClientPeriod, VendorEntity};
use qbr_shared::clients::{ClientMetric, ClientNumber, ClientUnit, LinkStatus};
use qbr_shared::insight::api::{ClientAnomaly, SeriesKind};
use qbr_shared::{Month, Period};
use yew::prelude::*;
use yew_router::prelude::*;

/// Months shown: four quarters up to the last closed one.
const MONTHS: i32 = 12;

#[derive(Properties, PartialEq)]
pub struct ClientPageProps {
    /// The client's id, as the address has it.
    pub id: String,
}

pub fn link_status_text(s: LinkStatus) -> &'static str {
    match s {
        LinkStatus::Proposed => "Proposed",
        LinkStatus::Confirmed => "Confirmed",
        LinkStatus::Unmatched => "Unmatched",
        LinkStatus::Internal => "Internal",
    }
}

fn entities(list: &[VendorEntity]) -> Html {
    html! {
        <section class="panel" aria-labelledby="entities-title">
            <h2 id="entities-title">{ "Linked vendor entities" }</h2>
            if list.is_empty() {
                <div class="muted">{ "None: link some on Matching." }</div>
            } else {
                <div class="table-scroll">
                <table class="table" id="client-entities">
                    <thead><tr><th scope="col">{ "Vendor" }</th><th scope="col">{ "Name" }</th><th scope="col">{ "Id" }</th><th scope="col">{ "Link" }</th></tr></thead>
                    <tbody>
                    { for list.iter().map(|e| html! {
                        <tr>
                            <td>{ e.vendor.label() }</td>
                            <th scope="row">{ &e.name }</th>
                            <td class="muted">{ &e.external_id }</td>
                            <td><span class={classes!("link-status", e.status.as_str())}>{ link_status_text(e.status) }</span>
                                if let Some(by) = &e.confirmed_by { <span class="muted small">{ format!(" by {by}") }</span> }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
                </div>
            }
        </section>
    }
}

/// The newest quarter with any input (the range's last when none has).
fn latest_quarter(r: &ClientMetricsResponse) -> Option<&ClientPeriod> {
    r.quarters
        .iter()
        .rev()
        .find(|q| !q.inputs.is_empty())
        .or(r.quarters.last())
}

fn cards(q: &ClientPeriod) -> Html {
    html! {
        <section aria-labelledby="numbers-title">
            <h2 id="numbers-title">{ format!("Numbers · {}", period_label(&q.period)) }</h2>
            <div class="client-cards" id="client-numbers">
            { for q.numbers.iter().map(|n| {
                let change = match (n.value, n.previous) {
                    (Some(v), Some(p)) if v != p => {
                        let d = v - p;
                        let good = improved(n.number, d);
                        html! { <div class={classes!("change", if good { "better" } else { "worse" })}>
                            <span aria-hidden="true">{ if d > 0.0 { "▲ " } else { "▼ " } }</span>
                            { format!("{} vs previous ({})", change_text(n.number.unit(), d), if good { "better" } else { "worse" }) }
                        </div> }
                    }
                    (Some(_), Some(_)) => html! { <div class="change muted">{ "Same as previous" }</div> },
                    _ => html! { <div class="change muted">{ "No previous value" }</div> },
                };
                html! {
                    <div class="panel client-card" data-number={n.number.as_str()}>
                        <div class="card-label" title={n.number.label()}>{ n.number.label() }</div>
                        <div class="card-value">{ value_text(n.number.unit(), n.value) }</div>
                        { change }
                        if n.value.is_some() { <StatusPill status={n.status} /> }
                    </div>
                }
            }) }
            </div>
        </section>
    }
}

fn chart_unit(u: ClientUnit) -> Unit {
    match u {
        ClientUnit::Count => Unit::Count,
        ClientUnit::Hours => Unit::Hours,
        ClientUnit::Usd | ClientUnit::UsdPerHour => Unit::Usd,
        ClientUnit::Share => Unit::Pct,
    }
}

/// The number's unusual months, marked on its trend.
fn unusual_marks(
    r: &ClientMetricsResponse,
    number: ClientNumber,
    unusual: &[ClientAnomaly],
) -> Vec<UnusualMark> {
    unusual
        .iter()
        .map(|c| &c.anomaly)
        .filter(|a| a.kind == SeriesKind::ClientNumber && a.key == number.as_str())
        .filter_map(|a| {
            let index = r.months.iter().position(|m| m.period == a.month)?;
            Some(UnusualMark::of(a, index, a.value))
        })
        .collect()
}

fn trend(
    r: &ClientMetricsResponse,
    number: ClientNumber,
    unusual: &[ClientAnomaly],
    on_pick: Callback<Event>,
) -> Html {
    let labels: Vec<String> = r.months.iter().map(|m| period_label(&m.period)).collect();
    let values: Vec<Option<f64>> = r
        .months
        .iter()
        .map(|m| {
            m.numbers
                .iter()
                .find(|n| n.number == number)
                .and_then(|n| n.value)
        })
        .collect();
    let bands = number.default_bands();
    let marks = unusual_marks(r, number, unusual);
    let notes: Vec<String> = marks.iter().map(|m| m.text.clone()).collect();
    let spec = ChartSpec::new(trend_chart_with(
        &labels,
        chart_unit(number.unit()),
        vec![SeriesData {
            name: number.label().to_string(),
            values,
            dashed: false,
        }],
        bands.as_ref(),
        Overlay {
            forecast: None,
            unusual: marks,
        },
    ));
    html! {
        <section class="panel" aria-labelledby="trend-title">
            <div class="panel-head">
                <h2 id="trend-title">{ "Trend by month" }</h2>
                <label class="field inline"><span>{ "Number" }</span>
                    <select id="trend-number" onchange={on_pick}>
                        { for ClientNumber::ALL.iter().map(|n| html! {
                            <option value={n.as_str()} selected={*n == number}>{ n.label() }</option>
                        }) }
                    </select>
                </label>
            </div>
            <EChart id="client-trend" {spec} height={300} label={format!("{} by month", number.label())} />
            if !notes.is_empty() {
                <ul class="drill-unusual" id="client-trend-unusual">
                    { for notes.iter().map(|n| html! { <li>{ n }</li> }) }
                </ul>
            }
        </section>
    }
}

fn source_tag(s: DataSource) -> Html {
    html! { <span class={classes!("src", s.as_str())}>{ s.as_str() }</span> }
}

fn inputs_table(r: &ClientMetricsResponse) -> Html {
    html! {
        <section class="panel" aria-labelledby="inputs-title">
            <h2 id="inputs-title">{ "Inputs by month" }</h2>
            <div class="muted small">{ "Collected values are the sum over the client's linked entities; typed-in or imported ones are marked and never overwritten by collection." }</div>
            <div class="table-scroll">
            <table class="table client-inputs" id="client-inputs">
                <thead><tr>
                    <th scope="col">{ "Month" }</th>
                    { for ClientMetric::ALL.iter().map(|m| html! { <th scope="col" class="num" title={m.label()}>{ short_input(*m) }</th> }) }
                </tr></thead>
                <tbody>
                { for r.months.iter().rev().map(|p| html! {
                    <tr data-period={p.period.clone()}>
                        <th scope="row">{ period_label(&p.period) }</th>
                        { for ClientMetric::ALL.iter().map(|m| match p.inputs.iter().find(|i| i.metric == *m) {
                            Some(i) => html! {
                                <td class="num" data-metric={m.as_str()} title={format!("{}: {}", m.label(), i.source.as_str())}>
                                    { value_text(m.unit(), Some(i.value)) }
                                    if i.source != DataSource::Collected { { " " }{ source_tag(i.source) } }
                                </td>
                            },
                            None => html! { <td class="num muted" data-metric={m.as_str()}>{ "–" }</td> },
                        }) }
                    </tr>
                }) }
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// The months shown: `MONTHS` up to the last month of the last closed quarter.
fn range(session: &Session) -> Option<(String, String)> {
    let q: Period = last_closed_quarter(session).parse().ok()?;
    let to: Month = q.last_month();
    Some((to.add_months(1 - MONTHS).to_string(), to.to_string()))
}

#[function_component(ClientPage)]
pub fn client_page(props: &ClientPageProps) -> Html {
    let session = use_context::<Session>();
    let number = use_state(|| ClientNumber::Rhem);
    let id = props.id.parse::<i64>().ok().filter(|id| *id > 0);
    let query = session.as_ref().and_then(range).zip(id);
    let data = use_fetch(
        query.clone(),
        |q: Option<((String, String), i64)>| async move {
            match q {
                Some(((from, to), id)) => api::client_metrics(id, &from, &to).await,
                None => Err(api::ApiError {
                    code: Some(qbr_shared::ErrorCode::NotFound),
                    message: "No such client.".into(),
                }),
            }
        },
    );
    let unusual = use_fetch(query, |q: Option<((String, String), i64)>| async move {
        match q {
            Some(((from, to), id)) => api::client_anomalies(id, &from, &to).await.map(Some),
            None => Ok(None),
        }
    });
    let Some(session) = session else {
        return html! {};
    };
    let on_pick = {
        let number = number.clone();
        Callback::from(move |e: Event| {
            if let Some(n) = ClientNumber::parse(&event_value(&e)) {
                number.set(n);
            }
        })
    };
    let org = session.slug();
    let name = data.done().map(|r| r.client.name.clone());
    let unusual_list: &[ClientAnomaly] = match unusual.done() {
        Some(Some(u)) => &u.anomalies,
        _ => &[],
    };
    html! {
        <div class="page client-page">
            <Link<Route> to={Route::Clients { org }} classes="back">{ "← All clients" }</Link<Route>>
            <div class="page-head">
                <div>
                    <h1 id="client-name">{ name.unwrap_or_else(|| "Client".into()) }</h1>
                    <div class="meta">{ "Numbers per month and quarter; status by the organization's bands." }</div>
                </div>
            </div>
            { view_fetch("the client", &data, |r| html! {
                <>
                    if let Some(q) = latest_quarter(r) { { cards(q) } }
                    if let Some(Some(u)) = unusual.done() {
                        <ClientUnusual anomalies={u.anomalies.clone()} span={format!("the last {MONTHS} months")} />
                    }
                    <div class="grid-2">
                        { trend(r, *number, unusual_list, on_pick.clone()) }
                        { entities(&r.client.entities) }
                    </div>
                    { inputs_table(r) }
                    if r.loaded_cost_per_hour.is_none() {
                        <div class="muted small">{ "Service cost and margin need the loaded labour cost per hour (Settings › Organization)." }</div>
                    }
                </>
            }) }
        </div>
    }
}
