//! The clients' pages: the list of every client's numbers for a period (`list`, sorted
//! by `sort`, with `movers` and `reconcile` under it), one client's page (`detail`),
//! and the linking of vendor entities to clients (`matching`). What they share: how a
//! client's values are written, and the default period.
pub mod detail;
pub mod list;
pub mod matching;
mod movers;
mod period_select;
mod reconcile;
mod sort;
mod unusual;

use crate::components::status;
use crate::Session;
use qbr_shared::clients::api::{ClientInput, ClientNumberValue};
use qbr_shared::clients::{Better, ClientMetric, ClientNumber, ClientUnit};
use qbr_shared::format;
use qbr_shared::Quarter;
use yew::prelude::*;

/// The inputs the list shows, in its order (the rest are on the client's page).
pub const LIST_INPUTS: [ClientMetric; 7] = [
    ClientMetric::Endpoints,
    ClientMetric::Seats,
    ClientMetric::ReactiveTicketsCreated,
    ClientMetric::ReactiveHours,
    ClientMetric::ServiceHours,
    ClientMetric::AgreementMrr,
    ClientMetric::Revenue,
];

/// A value for people: "$142/h", "23.2%", "N/A" when there is none.
pub fn value_text(u: ClientUnit, v: Option<f64>) -> String {
    match v {
        Some(v) => u.format(v),
        None => format::value(u.catalogue_unit(), None),
    }
}

/// A change between two periods: "+0.12 h", "+1.2 pts".
pub fn change_text(u: ClientUnit, delta: f64) -> String {
    let text = format::change(u.catalogue_unit(), delta);
    if u == ClientUnit::UsdPerHour {
        format!("{text}/h")
    } else {
        text
    }
}

/// Whether a change is for the better, by the number's direction.
pub fn improved(n: ClientNumber, delta: f64) -> bool {
    match n.better() {
        Better::Higher => delta > 0.0,
        Better::Lower => delta < 0.0,
    }
}

/// A short column heading for a number (the full label is its title).
pub fn short_label(n: ClientNumber) -> &'static str {
    match n {
        ClientNumber::TicketsPerEndpoint => "Tickets / endpoint",
        ClientNumber::Rhem => "RHEM",
        ClientNumber::HoursPerSeat => "Hours / seat",
        ClientNumber::EffectiveRate => "Eff. rate",
        ClientNumber::ServiceCost => "Service cost",
        ClientNumber::Margin => "Margin",
        ClientNumber::MarginPct => "Margin %",
        ClientNumber::AgreementCoverage => "On agreement",
        ClientNumber::FirstResponse => "First response",
    }
}

/// A short column heading for an input.
pub fn short_input(m: ClientMetric) -> &'static str {
    match m {
        ClientMetric::ReactiveTicketsCreated => "Reactive tickets",
        ClientMetric::ReactiveTicketsClosed => "Tickets closed",
        ClientMetric::AgreementHours => "Agreement hours",
        other => other.label(),
    }
}

pub fn input_value(inputs: &[ClientInput], m: ClientMetric) -> Option<f64> {
    inputs.iter().find(|i| i.metric == m).map(|i| i.value)
}

pub fn number_value(numbers: &[ClientNumberValue], n: ClientNumber) -> Option<&ClientNumberValue> {
    numbers.iter().find(|v| v.number == n)
}

/// A number's value with its status as icon and words (read out, and in the title),
/// so colour is never the only sign.
pub fn status_value(n: Option<&ClientNumberValue>, number: ClientNumber) -> Html {
    let Some(n) = n else {
        return html! { <span class="muted">{ "N/A" }</span> };
    };
    let s = n.status;
    html! {
        <span class={classes!("st", status::class(s))} title={status::text(s)} data-status={s.label()}>
            if n.value.is_some() { <span class="st-icon" aria-hidden="true">{ status::icon(s) }</span> }
            { value_text(number.unit(), n.value) }
            if n.value.is_some() { <span class="sr-only">{ format!(" ({})", status::text(s)) }</span> }
        </span>
    }
}

/// The newest closed quarter with data (the organization's periods), else the quarter
/// before the current one: a quarter in progress would rank clients on part of it.
pub fn last_closed_quarter(s: &Session) -> String {
    let p = &s.periods;
    p.quarters
        .iter()
        .find(|q| **q < p.current_quarter)
        .cloned()
        .or_else(|| {
            p.current_quarter
                .parse::<Quarter>()
                .ok()
                .map(|q| q.prev().to_string())
        })
        .unwrap_or_else(|| p.current_quarter.clone())
}
