//! The Monthly Business Review table: the owners' sheet for one year, with the previous
//! year's totals in italics, and manual cells editable in place (validated, saved
//! through the manual-entry API, undone visibly on error).
use super::event_value;
use crate::api::{self, ApiError};
use crate::components::downloads::{ExportButtons, ReportButton};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::Session;
use qbr_shared::api::{DataSource, ManualEntryRequest, ManualMetricInput, RangeResponse};
use qbr_shared::catalogue::{Aggregation, MetricDef};
use qbr_shared::format;
use qbr_shared::period::Quarter;
use qbr_shared::workbook::{self, COMPARED_WITH_PREVIOUS_YEAR, MONTH_HEADERS};
use std::collections::HashMap;
use yew::prelude::*;

type Loaded = (RangeResponse, Option<RangeResponse>);

async fn load((year, _reload): (i32, u32)) -> Result<Loaded, ApiError> {
    let this = api::range(&format!("{year}-01"), &format!("{year}-12")).await?;
    let prev = api::range(&format!("{}-01", year - 1), &format!("{}-12", year - 1))
        .await
        .ok();
    Ok((this, prev))
}

fn row_values(r: &RangeResponse, key: &str) -> (Vec<Option<f64>>, Vec<Option<DataSource>>) {
    r.metrics
        .iter()
        .find(|m| m.metric_name == key)
        .map(|m| (m.values.clone(), m.sources.clone()))
        .unwrap_or_else(|| (vec![None; r.months.len()], vec![None; r.months.len()]))
}

/// Whether a person may type this row's values (not derived; collected values stay
/// read-only in the table).
fn editable(def: &MetricDef) -> bool {
    !def.is_derived() && def.aggregation != Aggregation::Recompute
}

#[derive(Clone, PartialEq)]
struct Editing {
    key: &'static str,
    month: String,
    text: String,
    error: Option<String>,
}

#[function_component(Review)]
pub fn review() -> Html {
    let session = use_context::<Session>();
    let default_year = session
        .as_ref()
        .and_then(|s| s.periods.years.first().and_then(|y| y.parse().ok()))
        .unwrap_or(2025);
    let year = use_state(|| default_year);
    // The report's quarter; None: the year's latest quarter with data (else Q1).
    let quarter = use_state(|| None::<u32>);
    let reload = use_state(|| 0u32);
    let data = use_fetch((*year, *reload), load);
    let editing = use_state(|| None::<Editing>);
    // Values saved but not yet reloaded (optimistic), by (key, month).
    let pending = use_state(HashMap::<(String, String), Option<f64>>::new);
    let notice = use_state(|| None::<(bool, String)>);
    let current_month = session
        .as_ref()
        .map(|s| s.periods.current_month.clone())
        .unwrap_or_default();

    let years: Vec<String> = session
        .as_ref()
        .map(|s| s.periods.years.clone())
        .unwrap_or_default();
    let on_year = {
        let (year, quarter) = (year.clone(), quarter.clone());
        Callback::from(move |e: Event| {
            if let Ok(y) = event_value(&e).parse() {
                year.set(y);
                quarter.set(None);
            }
        })
    };
    let on_quarter = {
        let quarter = quarter.clone();
        Callback::from(move |e: Event| {
            if let Ok(q) = event_value(&e).parse::<u32>() {
                quarter.set(Some(q));
            }
        })
    };
    let latest_with_data = session
        .as_ref()
        .and_then(|s| {
            s.periods
                .quarters
                .iter()
                .filter_map(|q| q.parse::<Quarter>().ok())
                .filter(|q| q.year() == *year)
                .map(Quarter::quarter)
                .max()
        })
        .unwrap_or(1);
    let shown_quarter = quarter.unwrap_or(latest_with_data);

    let save = {
        let editing = editing.clone();
        let pending = pending.clone();
        let notice = notice.clone();
        let reload = reload.clone();
        Callback::from(move |(ed, old): (Editing, Option<f64>)| {
            let Some(def) = qbr_shared::catalogue::metric_def(ed.key) else {
                return;
            };
            match format::parse_input(def.unit, &ed.text) {
                Err(msg) => editing.set(Some(Editing {
                    error: Some(msg),
                    ..ed
                })),
                Ok(v) if v == old => editing.set(None),
                Ok(v) => {
                    editing.set(None);
                    let cell = (ed.key.to_string(), ed.month.clone());
                    let mut p = (*pending).clone();
                    p.insert(cell.clone(), v);
                    pending.set(p.clone());
                    let pending = pending.clone();
                    let notice = notice.clone();
                    let reload = reload.clone();
                    let label = format!("{} · {}", def.label, super::period_label(&ed.month));
                    wasm_bindgen_futures::spawn_local(async move {
                        let req = ManualEntryRequest {
                            period: ed.month.clone(),
                            organization_id: None,
                            metrics: vec![ManualMetricInput {
                                metric_name: ed.key.to_string(),
                                metric_value: v,
                                notes: None,
                            }],
                        };
                        let result = api::save_manual(&req).await;
                        let mut p2 = p;
                        p2.remove(&cell);
                        match result {
                            Ok(_) => {
                                notice.set(Some((true, format!("Saved {label}."))));
                                reload.set(*reload + 1);
                            }
                            Err(e) => notice.set(Some((
                                false,
                                format!(
                                    "Could not save {label}: {} — the change was undone.",
                                    e.message
                                ),
                            ))),
                        }
                        pending.set(p2);
                    });
                }
            }
        })
    };

    let table = view_fetch("the Monthly Business Review", &data, |(this, prev)| {
        let cell = |def: &'static MetricDef,
                    i: usize,
                    month: &str,
                    v: Option<f64>,
                    src: Option<DataSource>| {
            let key = (def.key.to_string(), month.to_string());
            let shown = pending.get(&key).copied().unwrap_or(v);
            let is_pending = pending.contains_key(&key);
            let future = !current_month.is_empty() && month > current_month.as_str();
            let can_edit = editable(def) && src != Some(DataSource::Collected) && !future;
            let id = format!("cell-{}-{}", def.key, month);
            if let Some(ed) = editing
                .as_ref()
                .filter(|e| e.key == def.key && e.month == month)
            {
                let ed = ed.clone();
                let editing2 = editing.clone();
                let save2 = save.clone();
                let ed_for_key = ed.clone();
                let onkeydown = Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
                    "Enter" => {
                        e.prevent_default();
                        save2.emit((ed_for_key.clone(), v));
                    }
                    "Escape" => editing2.set(None),
                    _ => {}
                });
                let editing3 = editing.clone();
                let ed_for_input = ed.clone();
                let oninput = Callback::from(move |e: InputEvent| {
                    use wasm_bindgen::JsCast;
                    let text = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .map(|i| i.value())
                        .unwrap_or_default();
                    editing3.set(Some(Editing {
                        text,
                        error: None,
                        ..ed_for_input.clone()
                    }));
                });
                let save3 = save.clone();
                let ed_for_blur = ed.clone();
                let onblur = Callback::from(move |_| save3.emit((ed_for_blur.clone(), v)));
                return html! {
                    <td class="num editing">
                        <input id={id} class={classes!("cell-input", ed.error.is_some().then_some("invalid"))} value={ed.text.clone()}
                            aria-label={format!("{} {}", def.label, MONTH_HEADERS[i])} aria-invalid={ed.error.is_some().to_string()}
                            {onkeydown} {oninput} {onblur} autofocus=true />
                        if let Some(err) = &ed.error { <div class="cell-error" role="alert">{ err }</div> }
                    </td>
                };
            }
            let text = shown
                .map(|x| format::value(def.unit, Some(x)))
                .unwrap_or_default();
            let class = classes!(
                "num",
                src.map(|s| s.as_str()),
                is_pending.then_some("pending"),
                shown.is_some_and(|x| x < 0.0).then_some("neg")
            );
            if can_edit {
                let editing = editing.clone();
                let month = month.to_string();
                let start = Callback::from(move |_| {
                    editing.set(Some(Editing {
                        key: def.key,
                        month: month.clone(),
                        text: shown
                            .map(|x| format::input_text(def.unit, x))
                            .unwrap_or_default(),
                        error: None,
                    }))
                });
                html! {
                    <td class={classes!(class, "editable")}>
                        <button id={id} class="cell-btn" onclick={start}
                            aria-label={format!("{} {}: {} (edit)", def.label, MONTH_HEADERS[i], if text.is_empty() { "empty" } else { &text })}>
                            { text }
                        </button>
                    </td>
                }
            } else {
                html! { <td id={id} class={class} title={src.map(|s| format!("{} value", s.as_str())).unwrap_or_default()}>{ text }</td> }
            }
        };
        let prev_year = this
            .months
            .first()
            .and_then(|m| m.get(..4))
            .and_then(|y| y.parse::<i32>().ok())
            .map(|y| y - 1);
        html! {
            <div class="table-scroll review-scroll">
            <table class="table review" id="review-table">
                <thead><tr>
                    <th scope="col" class="label-col"></th>
                    { for MONTH_HEADERS.iter().map(|m| html! { <th scope="col" class="num">{ *m }</th> }) }
                    <th scope="col" class="num">{ "Total" }</th>
                </tr></thead>
                <tbody>
                { for workbook::sections().into_iter().map(|sec| html! {
                    <>
                        <tr class="section-row"><th colspan="14" scope="colgroup">{ sec.category.label() }</th></tr>
                        { for sec.rows.iter().map(|def| {
                            let def: &'static MetricDef = def;
                            let (vals, srcs) = row_values(this, def.key);
                            let total = workbook::year_total(def, &vals);
                            let prev_row = if COMPARED_WITH_PREVIOUS_YEAR.contains(&def.key) {
                                prev.as_ref().map(|p| {
                                    let (pv, _) = row_values(p, def.key);
                                    let ptotal = workbook::year_total(def, &pv);
                                    html! {
                                        <tr class="prev-year">
                                            <th scope="row" class="label-col right"><em>{ prev_year.map(|y| y.to_string()).unwrap_or_default() }</em></th>
                                            { for pv.iter().map(|v| html! { <td class="num"><em>{ v.map(|x| format::value(def.unit, Some(x))).unwrap_or_default() }</em></td> }) }
                                            <td class="num total"><em>{ ptotal.map(|x| format::value(def.unit, Some(x))).unwrap_or_default() }</em></td>
                                        </tr>
                                    }
                                })
                            } else { None };
                            html! {
                                <>
                                <tr class={classes!(workbook::is_total_row(def.key).then_some("total-row"), def.is_derived().then_some("derived"))} data-key={def.key}>
                                    <th scope="row" class={classes!("label-col", workbook::is_total_row(def.key).then_some("right"))} title={def.description}>{ def.label }</th>
                                    { for this.months.iter().enumerate().map(|(i, m)| cell(def, i, m, vals.get(i).copied().flatten(), srcs.get(i).copied().flatten())) }
                                    <td class="num total">{ total.map(|x| format::value(def.unit, Some(x))).unwrap_or_default() }</td>
                                </tr>
                                { prev_row.unwrap_or_default() }
                                </>
                            }
                        }) }
                    </>
                }) }
                </tbody>
            </table>
            </div>
        }
    });

    html! {
        <div class="page review-page">
            <div class="page-head">
                <div>
                    <h1>{ format!("Monthly Business Review {}", *year) }</h1>
                    <div class="meta">{ "Click a manual cell to edit it; Enter saves, Escape cancels. Collected and calculated values are read-only." }</div>
                </div>
                <div class="head-actions">
                    <label class="field inline"><span>{ "Year" }</span>
                        <select id="year-select" onchange={on_year}>
                            { for years.iter().map(|y| html! { <option value={y.clone()} selected={y.parse::<i32>().ok() == Some(*year)}>{ y }</option> }) }
                        </select>
                    </label>
                    <label class="field inline"><span>{ "Quarter" }</span>
                        <select id="quarter-select" onchange={on_quarter}>
                            { for (1..=4).map(|q| html! { <option value={q.to_string()} selected={q == shown_quarter}>{ format!("Q{q}") }</option> }) }
                        </select>
                    </label>
                    <ReportButton quarter={format!("{}-Q{shown_quarter}", *year)} />
                    <ExportButtons year={*year} />
                </div>
            </div>
            if let Some((ok, msg)) = &*notice {
                <div class={classes!("toast", if *ok { "ok" } else { "bad" })} role="status" aria-live="polite" id="review-notice">{ msg }</div>
            }
            <div class="legend-note small muted">
                <span class="src-key manual">{ "manual (click to edit)" }</span>
                <span class="src-key collected">{ "collected (read-only)" }</span>
                <span class="src-key imported">{ "imported" }</span>
                <span class="src-key calculated">{ "calculated (grey, read-only)" }</span>
            </div>
            { table }
        </div>
    }
}
