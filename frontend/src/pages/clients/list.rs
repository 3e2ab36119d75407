//! Clients: every client's inputs and numbers for a period, sortable by any column,
//! filtered by name, with the totals row, how the totals reconcile with the
//! organization's values, and the clients that moved most.
use super::movers::TopMovers;
use super::period_select::PeriodSelect;
use super::reconcile::Reconcile;
use super::sort::{Column, Sort};
use super::unusual::ClientUnusual;
use super::{
    input_value, last_closed_quarter, number_value, short_input, short_label, status_value,
    value_text, LIST_INPUTS,
};
use crate::api;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::pages::period_label;
use crate::{Route, Session};
use qbr_shared::clients::api::{ClientRankingResponse, ClientRow};
use qbr_shared::clients::ClientNumber;
use qbr_shared::Period;
use yew::prelude::*;
use yew_router::prelude::*;

/// The numbers the list shows (service cost and margin in dollars are on the client's
/// page: they have no bands, and the margin % says the same here).
const LIST_NUMBERS: [ClientNumber; 6] = [
    ClientNumber::Rhem,
    ClientNumber::TicketsPerEndpoint,
    ClientNumber::HoursPerSeat,
    ClientNumber::EffectiveRate,
    ClientNumber::MarginPct,
    ClientNumber::AgreementCoverage,
];

fn header(label: &str, title: &str, column: Column, sort: &UseStateHandle<Sort>) -> Html {
    let s = **sort;
    let onclick = {
        let sort = sort.clone();
        Callback::from(move |_| sort.set(sort.clicked(column)))
    };
    let arrow = match s.aria(column) {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    let num = !matches!(column, Column::Name);
    html! {
        <th scope="col" class={classes!(num.then_some("num"))} aria-sort={s.aria(column)}>
            <button type="button" class="sort-btn" {onclick} title={title.to_string()}>{ label }{ arrow }</button>
        </th>
    }
}

fn cells(row: &ClientRow) -> Html {
    html! {
        <>
            { for LIST_INPUTS.iter().map(|m| html! {
                <td class="num" data-metric={m.as_str()}>{ value_text(m.unit(), input_value(&row.inputs, *m)) }</td>
            }) }
            { for LIST_NUMBERS.iter().map(|n| html! {
                <td class="num" data-number={n.as_str()}>{ status_value(number_value(&row.numbers, *n), *n) }</td>
            }) }
        </>
    }
}

fn table(r: &ClientRankingResponse, sort: &UseStateHandle<Sort>, filter: &str, org: &str) -> Html {
    let needle = filter.trim().to_lowercase();
    let mut rows: Vec<&ClientRow> = r
        .rows
        .iter()
        .filter(|row| needle.is_empty() || row.name.to_lowercase().contains(&needle))
        .collect();
    sort.apply(&mut rows);
    let hidden = r.rows.len() - rows.len();
    html! {
        <div class="panel">
            <div class="table-scroll">
            <table class="table clients-table" id="clients-table">
                <thead><tr>
                    { header("Client", "Client name", Column::Name, sort) }
                    { for LIST_INPUTS.iter().map(|m| header(short_input(*m), m.label(), Column::Input(*m), sort)) }
                    { for LIST_NUMBERS.iter().map(|n| header(short_label(*n), n.label(), Column::Number(*n), sort)) }
                </tr></thead>
                <tbody>
                { for rows.iter().map(|row| html! {
                    <tr data-client={row.client_id.to_string()}>
                        <th scope="row" class="client-name">
                            <Link<Route> to={Route::Client { org: org.to_string(), id: row.client_id.to_string() }}>{ &row.name }</Link<Route>>
                        </th>
                        { cells(row) }
                    </tr>
                }) }
                if rows.is_empty() {
                    <tr><td colspan="14" class="empty">{
                        if r.rows.is_empty() { "No clients yet: collection lists them, or link vendor entities on Matching." }
                        else { "No client's name contains that." }
                    }</td></tr>
                }
                </tbody>
                <tfoot>
                    <tr class="totals" id="clients-totals">
                        <th scope="row">{ format!("All clients ({})", r.rows.len()) }</th>
                        { cells(&r.totals) }
                    </tr>
                </tfoot>
            </table>
            </div>
            if hidden > 0 {
                <div class="muted small" id="filter-note">{ format!("{hidden} client{} hidden by the filter; the totals are of every client.", if hidden == 1 { "" } else { "s" }) }</div>
            }
        </div>
    }
}

#[function_component(Clients)]
pub fn clients() -> Html {
    let session = use_context::<Session>();
    let period = use_state(|| {
        session
            .as_ref()
            .map(last_closed_quarter)
            .unwrap_or_default()
    });
    let sort = use_state(Sort::default);
    let filter = use_state(String::new);
    // The order is the page's own (any column); the server's `by` only ranks.
    let data = use_fetch((*period).clone(), |p: String| async move {
        api::client_ranking(&p, ClientNumber::Rhem).await
    });
    let unusual = use_fetch((*period).clone(), |p: String| async move {
        let period: Period = p.parse().map_err(|e| api::ApiError {
            code: None,
            message: format!("{e}"),
        })?;
        let (from, to) = (period.first_month(), period.last_month());
        api::clients_anomalies(&from.to_string(), &to.to_string()).await
    });
    let Some(session) = session else {
        return html! {};
    };
    let org = session.slug();
    let on_period = {
        let period = period.clone();
        Callback::from(move |p: String| period.set(p))
    };
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: InputEvent| {
            use wasm_bindgen::JsCast;
            let v = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|i| i.value())
                .unwrap_or_default();
            filter.set(v);
        })
    };
    html! {
        <div class="page clients-page">
            <div class="page-head">
                <div>
                    <h1>{ format!("Clients · {}", period_label(&period)) }</h1>
                    <div class="meta">{ "Each client's inputs and numbers; click a heading to sort by it. Changes are against the previous period." }</div>
                </div>
                <div class="head-actions">
                    <label class="field inline"><span>{ "Filter" }</span>
                        <input type="search" id="client-filter" placeholder="Name contains…" value={(*filter).clone()} oninput={on_filter} aria-label="Filter clients by name" />
                    </label>
                    <PeriodSelect value={(*period).clone()} onchange={on_period} />
                    <Link<Route> to={Route::Matching { org: org.clone() }} classes="btn">{ "Matching" }</Link<Route>>
                </div>
            </div>
            if let Some(u) = unusual.done() {
                <ClientUnusual anomalies={u.anomalies.clone()} org={Some(org.clone())} span={period_label(&period)} />
            }
            { view_fetch("the clients", &data, |r| html! {
                <>
                    { table(r, &sort, &filter, &org) }
                    <div class="grid-2">
                        <Reconcile rows={r.reconciliation.clone()} />
                        <TopMovers rows={r.rows.clone()} number={sort.number()} org={org.clone()} />
                    </div>
                </>
            }) }
        </div>
    }
}
