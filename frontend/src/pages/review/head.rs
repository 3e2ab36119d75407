//! The page's title, the year and report-quarter selectors, and the downloads.
use crate::components::downloads::{ExportButtons, ReportButton};
use crate::pages::event_value;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ReviewHeadProps {
    pub year: i32,
    /// The years with data, newest first.
    pub years: Vec<String>,
    /// The report's quarter (1–4).
    pub quarter: u32,
    pub onyear: Callback<i32>,
    pub onquarter: Callback<u32>,
}

/// A select's `onchange` that passes on its value when it parses as a `T`.
fn on_parsed<T: std::str::FromStr + 'static>(cb: &Callback<T>) -> Callback<Event> {
    let cb = cb.clone();
    Callback::from(move |e: Event| {
        if let Ok(v) = event_value(&e).parse() {
            cb.emit(v);
        }
    })
}

#[function_component(ReviewHead)]
pub fn review_head(props: &ReviewHeadProps) -> Html {
    let (year, quarter) = (props.year, props.quarter);
    html! {
        <div class="page-head">
            <div>
                <h1>{ format!("Monthly Business Review {year}") }</h1>
                <div class="meta">{ "Click a manual cell to edit it; Enter saves, Escape cancels. Collected and calculated values are read-only." }</div>
            </div>
            <div class="head-actions">
                <label class="field inline"><span>{ "Year" }</span>
                    <select id="year-select" onchange={on_parsed(&props.onyear)}>
                        { for props.years.iter().map(|y| html! { <option value={y.clone()} selected={y.parse::<i32>().ok() == Some(year)}>{ y }</option> }) }
                    </select>
                </label>
                <label class="field inline"><span>{ "Quarter" }</span>
                    <select id="quarter-select" onchange={on_parsed(&props.onquarter)}>
                        { for (1..=4).map(|q| html! { <option value={q.to_string()} selected={q == quarter}>{ format!("Q{q}") }</option> }) }
                    </select>
                </label>
                <ReportButton quarter={format!("{year}-Q{quarter}")} />
                <ExportButtons {year} />
            </div>
        </div>
    }
}
