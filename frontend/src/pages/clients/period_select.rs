//! The period picker of the clients' list: the organization's quarters and months, as
//! on the dashboard.
use crate::pages::{event_value, period_label};
use crate::Session;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PeriodSelectProps {
    pub value: String,
    pub onchange: Callback<String>,
}

#[function_component(PeriodSelect)]
pub fn period_select(props: &PeriodSelectProps) -> Html {
    let Some(session) = use_context::<Session>() else {
        return html! {};
    };
    let p = &session.periods;
    let period = &props.value;
    let onchange = props.onchange.reform(|e: Event| event_value(&e));
    html! {
        <label class="field inline">
            <span>{ "Period" }</span>
            <select id="client-period" {onchange} aria-label="Period">
                if !p.quarters.contains(period) && !p.months.contains(period) {
                    <option value={period.clone()} selected=true>{ period_label(period) }</option>
                }
                <optgroup label="Quarters">
                    { for p.quarters.iter().map(|q| html! { <option value={q.clone()} selected={q == period}>{ period_label(q) }</option> }) }
                </optgroup>
                <optgroup label="Months">
                    { for p.months.iter().map(|m| html! { <option value={m.clone()} selected={m == period}>{ period_label(m) }</option> }) }
                </optgroup>
            </select>
        </label>
    }
}
