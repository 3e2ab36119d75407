//! Data entry: one month's manual metrics as a form grouped by category, with
//! validation, notes, and collected/derived values shown read-only.
use super::{event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::{time, Session};
use qbr_shared::api::{DataSource, ManualEntryRequest, ManualMetricInput, MonthlyMetricsResponse};
use qbr_shared::catalogue::{Category, MetricDef, METRICS};
use qbr_shared::format;
use std::collections::BTreeMap;
use yew::prelude::*;

async fn load((month, _reload): (String, u32)) -> Result<MonthlyMetricsResponse, ApiError> {
    match api::monthly(&month).await {
        // A month without any value yet: an empty form.
        Err(e) if e.status == 404 => Ok(MonthlyMetricsResponse {
            period: month,
            organization_id: 0,
            metrics: vec![],
        }),
        other => other,
    }
}

#[derive(Clone, PartialEq, Default)]
struct Field {
    text: String,
    notes: String,
}

fn read_only(def: &MetricDef, stored: Option<DataSource>) -> Option<&'static str> {
    if def.is_derived() {
        Some("calculated")
    } else if def.source.is_collected() && stored == Some(DataSource::Collected) {
        Some("collected")
    } else {
        None
    }
}

#[function_component(Entry)]
pub fn entry() -> Html {
    let session = use_context::<Session>();
    let months: Vec<String> = session
        .as_ref()
        .map(|s| {
            let mut m = s.periods.months.clone();
            if !m.contains(&s.periods.current_month) {
                m.insert(0, s.periods.current_month.clone());
            }
            m
        })
        .unwrap_or_default();
    let month = use_state(|| months.first().cloned().unwrap_or_default());
    let reload = use_state(|| 0u32);
    let data = use_fetch(((*month).clone(), *reload), load);
    let edits = use_state(BTreeMap::<&'static str, Field>::new);
    let notice = use_state(|| None::<(bool, String)>);
    let saving = use_state(|| false);

    let on_month = {
        let month = month.clone();
        let edits = edits.clone();
        Callback::from(move |e: Event| {
            edits.set(BTreeMap::new());
            month.set(event_value(&e));
        })
    };
    let errors: BTreeMap<&'static str, String> = edits
        .iter()
        .filter_map(|(k, f)| {
            let def = qbr_shared::catalogue::metric_def(k)?;
            format::parse_input(def.unit, &f.text)
                .err()
                .map(|e| (*k, e))
        })
        .collect();

    let on_submit = {
        let edits = edits.clone();
        let notice = notice.clone();
        let saving = saving.clone();
        let reload = reload.clone();
        let month = month.clone();
        let has_errors = !errors.is_empty();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if has_errors {
                notice.set(Some((false, "Fix the highlighted fields first.".into())));
                return;
            }
            let metrics: Vec<ManualMetricInput> = edits
                .iter()
                .filter_map(|(k, f)| {
                    let def = qbr_shared::catalogue::metric_def(k)?;
                    Some(ManualMetricInput {
                        metric_name: k.to_string(),
                        metric_value: format::parse_input(def.unit, &f.text).ok()?,
                        notes: Some(f.notes.clone()).filter(|n| !n.trim().is_empty()),
                    })
                })
                .collect();
            if metrics.is_empty() {
                notice.set(Some((false, "Nothing changed.".into())));
                return;
            }
            let req = ManualEntryRequest {
                period: (*month).clone(),
                organization_id: None,
                metrics,
            };
            let (edits, notice, saving, reload) = (
                edits.clone(),
                notice.clone(),
                saving.clone(),
                reload.clone(),
            );
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::save_manual(&req).await {
                    Ok(r) => {
                        notice.set(Some((
                            true,
                            format!(
                                "Saved: {} value{} changed; SmartNumbers recalculated for {}.",
                                r.updated_count,
                                if r.updated_count == 1 { "" } else { "s" },
                                r.recomputed_periods.join(", ")
                            ),
                        )));
                        edits.set(BTreeMap::new());
                        reload.set(*reload + 1);
                    }
                    Err(e) => {
                        notice.set(Some((false, format!("Nothing was saved: {}", e.message))))
                    }
                }
                saving.set(false);
            });
        })
    };

    let form = view_fetch("the month's values", &data, |m| {
        let field = |def: &'static MetricDef| {
            let stored = m.metrics.iter().find(|v| v.metric_name == def.key);
            let value = stored.and_then(|v| v.value);
            let src = stored.map(|v| v.data_source);
            let id = format!("f-{}", def.key);
            let meta = stored
                .map(|v| {
                    format!(
                        "{} · {} · {}",
                        v.data_source.as_str(),
                        v.entered_by.clone().unwrap_or_else(|| "system".into()),
                        time::format_timestamp(&v.updated_at)
                    )
                })
                .unwrap_or_else(|| "no value".into());
            if let Some(why) = read_only(def, src) {
                return html! {
                    <div class="form-row readonly">
                        <label for={id.clone()}>{ def.label }</label>
                        <input id={id} value={value.map(|x| format::value(def.unit, Some(x))).unwrap_or_else(|| "—".into())} readonly=true />
                        <span class={classes!("src", why)}>{ why }</span>
                        <span class="muted small">{ meta }</span>
                    </div>
                };
            }
            let edit = edits.get(def.key).cloned();
            let text = edit.as_ref().map(|f| f.text.clone()).unwrap_or_else(|| {
                value
                    .map(|x| format::input_text(def.unit, x))
                    .unwrap_or_default()
            });
            let notes = edit
                .as_ref()
                .map(|f| f.notes.clone())
                .unwrap_or_else(|| stored.and_then(|v| v.notes.clone()).unwrap_or_default());
            let err = errors.get(def.key).cloned();
            let oninput = {
                let edits = edits.clone();
                let notes = notes.clone();
                Callback::from(move |e: InputEvent| {
                    use wasm_bindgen::JsCast;
                    let t = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .map(|i| i.value())
                        .unwrap_or_default();
                    let mut m = (*edits).clone();
                    let f = m.entry(def.key).or_insert(Field {
                        text: String::new(),
                        notes: notes.clone(),
                    });
                    f.text = t;
                    edits.set(m);
                })
            };
            let onnotes = {
                let edits = edits.clone();
                let text = text.clone();
                Callback::from(move |e: InputEvent| {
                    use wasm_bindgen::JsCast;
                    let t = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .map(|i| i.value())
                        .unwrap_or_default();
                    let mut m = (*edits).clone();
                    let f = m.entry(def.key).or_insert(Field {
                        text: text.clone(),
                        notes: String::new(),
                    });
                    f.notes = t;
                    edits.set(m);
                })
            };
            let unit_hint = match def.unit {
                qbr_shared::catalogue::Unit::Usd => "$",
                qbr_shared::catalogue::Unit::Hours => "h",
                qbr_shared::catalogue::Unit::Pct => "%",
                _ => "",
            };
            html! {
                <div class={classes!("form-row", edit.is_some().then_some("changed"), err.is_some().then_some("invalid"))}>
                    <label for={id.clone()} title={def.description}>{ def.label }</label>
                    <div class="input-unit">
                        <input id={id.clone()} inputmode="decimal" value={text} {oninput} aria-invalid={err.is_some().to_string()} aria-describedby={format!("{id}-msg")} />
                        <span class="unit" aria-hidden="true">{ unit_hint }</span>
                    </div>
                    <input class="notes" placeholder="Notes" aria-label={format!("Notes for {}", def.label)} value={notes} oninput={onnotes} />
                    <span id={format!("{id}-msg")} class={classes!("small", if err.is_some() { "error-text" } else { "muted" })}>{ err.unwrap_or(meta) }</span>
                </div>
            }
        };
        html! {
            <div class="entry-grid">
            { for Category::ALL.iter().map(|cat| html! {
                <fieldset class="panel">
                    <legend>{ cat.label() }</legend>
                    { for METRICS.iter().filter(|d| d.category == *cat).map(field) }
                </fieldset>
            }) }
            </div>
        }
    });

    html! {
        <form class="page entry" onsubmit={on_submit} novalidate=true>
            <div class="page-head">
                <div>
                    <h1>{ format!("Data entry · {}", period_label(&month)) }</h1>
                    <div class="meta">{ "Type this month's manual values; blank removes a value. Collected and calculated values can't be typed." }</div>
                </div>
                <div class="head-actions">
                    <label class="field inline"><span>{ "Month" }</span>
                        <select id="entry-month" onchange={on_month}>
                            { for months.iter().map(|m| html! { <option value={m.clone()} selected={*m == *month}>{ period_label(m) }</option> }) }
                        </select>
                    </label>
                    <button type="submit" class="btn primary" id="entry-save" disabled={*saving}>
                        { if *saving { "Saving…".to_string() } else { format!("Save {} change{}", edits.len(), if edits.len() == 1 { "" } else { "s" }) } }
                    </button>
                </div>
            </div>
            if let Some((ok, msg)) = &*notice {
                <div class={classes!("toast", if *ok { "ok" } else { "bad" })} role="status" aria-live="polite">{ msg }</div>
            }
            { form }
        </form>
    }
}
