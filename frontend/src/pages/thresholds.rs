//! The thresholds editor: green and yellow bands per SmartNumber, validated as typed,
//! with a live preview of how the current values would be coloured.
use super::period_label;
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::RoleNote;
use crate::components::status::StatusPill;
use crate::{time, Session};
use qbr_shared::api::{
    SmartNumbersResponse, ThresholdInput, ThresholdsResponse, ThresholdsUpdateRequest,
};
use qbr_shared::catalogue::Unit;
use qbr_shared::format;
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::thresholds::Bands;
use std::collections::BTreeMap;
use yew::prelude::*;

type Loaded = (ThresholdsResponse, Option<SmartNumbersResponse>);

async fn load((period, _r): (String, u32)) -> Result<Loaded, ApiError> {
    let t = api::thresholds().await?;
    let n = api::smartnumbers(&period).await.ok();
    Ok((t, n))
}

/// The four band ends as typed.
#[derive(Clone, PartialEq, Default)]
struct Draft([String; 4]);

impl Draft {
    fn from_bands(unit: Unit, b: &Bands) -> Draft {
        let t = |v: Option<f64>| v.map(|v| format::input_text(unit, v)).unwrap_or_default();
        Draft([
            t(b.green_min),
            t(b.green_max),
            t(b.yellow_min),
            t(b.yellow_max),
        ])
    }

    fn bands(&self, unit: Unit) -> Result<Bands, String> {
        let p = |i: usize| {
            format::parse_input(
                if unit == Unit::Pct {
                    Unit::Pct
                } else {
                    Unit::Usd
                },
                &self.0[i],
            )
        };
        let b = Bands {
            green_min: p(0)?,
            green_max: p(1)?,
            yellow_min: p(2)?,
            yellow_max: p(3)?,
        };
        b.validate()?;
        Ok(b)
    }
}

#[function_component(Thresholds)]
pub fn thresholds() -> Html {
    let session = use_context::<Session>();
    let period = session
        .as_ref()
        .map(Session::default_period)
        .unwrap_or_default();
    // Admins change the bands; other roles see them.
    let can_edit = session
        .as_ref()
        .is_some_and(|s| s.may_write(api::THRESHOLDS));
    let reload = use_state(|| 0u32);
    let data = use_fetch((period.clone(), *reload), load);
    let drafts = use_state(BTreeMap::<&'static str, Draft>::new);
    let notice = use_state(|| None::<(bool, String)>);

    let save = {
        let drafts = drafts.clone();
        let notice = notice.clone();
        let reload = reload.clone();
        Callback::from(move |only: Option<&'static str>| {
            let mut items = Vec::new();
            for (k, d) in drafts.iter().filter(|(k, _)| only.is_none_or(|o| o == **k)) {
                let unit = SMARTNUMBERS
                    .iter()
                    .find(|s| s.key == *k)
                    .map_or(Unit::Count, |s| s.unit);
                match d.bands(unit) {
                    Ok(b) => items.push(ThresholdInput {
                        metric_name: k.to_string(),
                        bands: b,
                    }),
                    Err(e) => {
                        notice.set(Some((false, format!("{k}: {e}"))));
                        return;
                    }
                }
            }
            if items.is_empty() {
                return;
            }
            let keys: Vec<String> = items.iter().map(|i| i.metric_name.clone()).collect();
            let (drafts, notice, reload) = (drafts.clone(), notice.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::save_thresholds(&ThresholdsUpdateRequest { thresholds: items }).await {
                    Ok(_) => {
                        let mut d = (*drafts).clone();
                        d.retain(|k, _| !keys.iter().any(|x| x == k));
                        drafts.set(d);
                        notice.set(Some((
                            true,
                            format!(
                                "Saved {} threshold{}.",
                                keys.len(),
                                if keys.len() == 1 { "" } else { "s" }
                            ),
                        )));
                        reload.set(*reload + 1);
                    }
                    Err(e) => notice.set(Some((false, format!("Not saved: {}", e.message)))),
                }
            });
        })
    };

    let body = view_fetch("the thresholds", &data, |(t, numbers)| {
        html! {
            <div class="table-scroll">
            <table class="table thresholds" id="thresholds-table">
                <thead><tr>
                    <th scope="col">{ "SmartNumber" }</th>
                    <th scope="col">{ "Green min" }</th><th scope="col">{ "Green max" }</th>
                    <th scope="col">{ "Yellow min" }</th><th scope="col">{ "Yellow max" }</th>
                    <th scope="col" class="num">{ format!("Value ({})", period_label(&period)) }</th>
                    <th scope="col">{ "Preview" }</th>
                    <th scope="col"></th>
                </tr></thead>
                <tbody>
                { for SMARTNUMBERS.iter().map(|def| {
                    let stored = t.thresholds.iter().find(|x| x.metric_name == def.key);
                    let stored_bands = stored.map(|s| s.bands).unwrap_or_default();
                    let draft = drafts.get(def.key).cloned().unwrap_or_else(|| Draft::from_bands(def.unit, &stored_bands));
                    let changed = drafts.contains_key(def.key);
                    let parsed = draft.bands(def.unit);
                    let value = numbers.as_ref().and_then(|n| n.smartnumbers.iter().find(|s| s.key == def.key)).and_then(|s| s.value);
                    let status = parsed.as_ref().map(|b| b.status(value)).unwrap_or(qbr_shared::thresholds::Status::None);
                    let unit_note = match def.unit { Unit::Pct => " (%)", Unit::Usd => " ($)", Unit::Hours => " (h)", _ => "" };
                    let input = |i: usize, name: &str| {
                        let drafts = drafts.clone();
                        let current = draft.clone();
                        let oninput = Callback::from(move |e: InputEvent| {
                            use wasm_bindgen::JsCast;
                            let v = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).map(|i| i.value()).unwrap_or_default();
                            let mut d = (*drafts).clone();
                            let mut nd = current.clone();
                            nd.0[i] = v;
                            d.insert(def.key, nd);
                            drafts.set(d);
                        });
                        html! {
                            <td><input class="band-input" id={format!("th-{}-{}", def.key, i)} value={draft.0[i].clone()} placeholder="open"
                                inputmode="decimal" aria-label={format!("{} {name}{unit_note}", def.label)} {oninput} readonly={!can_edit} /></td>
                        }
                    };
                    let save = save.clone();
                    let onsave = Callback::from(move |_| save.emit(Some(def.key)));
                    html! {
                        <tr class={classes!(changed.then_some("changed"))} data-key={def.key}>
                            <th scope="row">
                                <div>{ def.label }{ unit_note }</div>
                                if let Some(s) = stored {
                                    if let Some(at) = &s.updated_at {
                                        <div class="muted small">{ format!("edited {}{}", time::format_timestamp(at), s.updated_by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()) }</div>
                                    }
                                }
                            </th>
                            { input(0, "green min") }{ input(1, "green max") }{ input(2, "yellow min") }{ input(3, "yellow max") }
                            <td class="num">{ format::value(def.unit, value) }</td>
                            <td>
                                if let Err(e) = &parsed { <span class="error-text small" role="alert">{ e }</span> }
                                else if value.is_some() { <StatusPill {status} /> }
                                else { <span class="muted small">{ "no value" }</span> }
                            </td>
                            <td>if can_edit {
                                <button type="button" class="btn small" id={format!("th-save-{}", def.key)} disabled={!changed || parsed.is_err()} onclick={onsave}>{ "Save" }</button>
                            }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            </div>
        }
    });
    let save_all = {
        let save = save.clone();
        Callback::from(move |_| save.emit(None))
    };
    html! {
        <div class="page thresholds-page">
            <div class="page-head">
                <div>
                    <h1>{ "Thresholds" }</h1>
                    <div class="meta">{ "Green must lie inside yellow; leave an end blank for an open band. Percentages in %. The preview shows how the current values would be coloured." }</div>
                </div>
                if can_edit {
                    <div class="head-actions">
                        <button type="button" class="btn primary" id="th-save-all" onclick={save_all} disabled={drafts.is_empty()}>{ format!("Save all ({})", drafts.len()) }</button>
                    </div>
                }
            </div>
            if !can_edit { <RoleNote what="change thresholds" /> }
            if let Some((ok, msg)) = &*notice {
                <div class={classes!("toast", if *ok { "ok" } else { "bad" })} role="status" aria-live="polite" id="thresholds-notice">{ msg }</div>
            }
            { body }
        </div>
    }
}
