//! Collect now, on the Collection page (editors and admins): which vendors and months,
//! the run in progress with its steps, and Cancel. The page reads the status again
//! every second while a run is in progress (`Collection`), so this shows what the
//! server says, whoever started the run.
use super::{event_value, period_label};
use crate::api;
use crate::components::notice::{Notice, Toast};
use qbr_shared::api::{CollectNowRequest, CollectionRun};
use qbr_shared::collection::Trigger;
use qbr_shared::Vendor;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CollectNowProps {
    /// The run in progress, if any.
    pub running: Option<CollectionRun>,
    /// Months with data, newest first (the range's choices).
    pub months: Vec<String>,
    /// Something started or stopped: read the status again.
    pub onchange: Callback<()>,
}

/// `Some(vendor)` for one vendor, `None` for all configured.
fn vendor_choice(key: &str) -> Option<Vendor> {
    Vendor::from_key(key).filter(|v| v.is_collected())
}

#[function_component(CollectNow)]
pub fn collect_now(props: &CollectNowProps) -> Html {
    let vendor = use_state(String::new);
    let from = use_state(String::new);
    let to = use_state(String::new);
    let force = use_state(|| false);
    let busy = use_state(|| false);
    let notice = use_state(|| None::<Notice>);

    let on_start = {
        let (vendor, from, to, force, busy, notice, onchange) = (
            vendor.clone(),
            from.clone(),
            to.clone(),
            force.clone(),
            busy.clone(),
            notice.clone(),
            props.onchange.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (from_month, to_month) = match (from.as_str(), to.as_str()) {
                ("", "") => (None, None),
                ("", _) | (_, "") => {
                    notice.set(Some(Notice::bad(
                        "Choose both months of the range, or neither (the usual window).",
                    )));
                    return;
                }
                (f, t) => (Some(f.to_string()), Some(t.to_string())),
            };
            let req = CollectNowRequest {
                organization_id: None,
                vendor: vendor_choice(&vendor),
                from: from_month,
                to: to_month,
                force: Some(*force),
            };
            let (busy, notice, onchange) = (busy.clone(), notice.clone(), onchange.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                notice.set(Some(match api::collect_now(&req).await {
                    Ok(r) => Notice::ok(format!("Run #{} started.", r.run_id)),
                    Err(e) => Notice::bad(format!("Not started: {}", e.message)),
                }));
                busy.set(false);
                onchange.emit(());
            });
        })
    };

    let on_cancel = {
        let (notice, onchange) = (notice.clone(), props.onchange.clone());
        let id = props.running.as_ref().map(|r| r.id);
        Callback::from(move |_: MouseEvent| {
            let Some(id) = id else { return };
            let (notice, onchange) = (notice.clone(), onchange.clone());
            wasm_bindgen_futures::spawn_local(async move {
                notice.set(Some(match api::cancel_run(id).await {
                    Ok(_) => Notice::ok(format!(
                        "Run #{id} is stopping: nothing it read will be written."
                    )),
                    Err(e) => Notice::bad(format!("Not cancelled: {}", e.message)),
                }));
                onchange.emit(());
            });
        })
    };

    let select = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: Event| state.set(event_value(&e)))
    };
    let month_options = |selected: &str| {
        html! {
            <>
                <option value="" selected={selected.is_empty()}>{ "—" }</option>
                { for props.months.iter().map(|m| html! {
                    <option value={m.clone()} selected={m == selected}>{ period_label(m) }</option>
                }) }
            </>
        }
    };
    let running = props.running.as_ref();
    html! {
        <form class="panel collect-now" id="collect-now" onsubmit={on_start}>
            <div class="panel-head">
                <h2>{ "Collect now" }</h2>
                <span class="muted small">{ "Same rules as the nightly run: closed months keep their values unless re-collected." }</span>
            </div>
            if let Some(r) = running {
                <div class="run-progress" role="status" aria-live="polite" id="run-progress">
                    <div>{ format!("Run #{} ({}) in progress: {} of {} steps", r.id, r.trigger.as_str(), r.progress_done, r.progress_total) }</div>
                    <progress max={r.progress_total.max(1).to_string()} value={r.progress_done.to_string()}></progress>
                    if r.trigger == Trigger::Api {
                        <button type="button" class="btn" id="collect-cancel" onclick={on_cancel}>{ "Cancel" }</button>
                    }
                </div>
            } else {
                <div class="inline-form">
                    <label class="field"><span>{ "Vendors" }</span>
                        <select id="collect-vendor" onchange={select(&vendor)}>
                            <option value="" selected={vendor.is_empty()}>{ "All configured" }</option>
                            { for Vendor::ALL.iter().filter(|v| v.is_collected()).map(|v| html! {
                                <option value={v.key()} selected={*vendor == v.key()}>{ v.label() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="field"><span>{ "From" }</span>
                        <select id="collect-from" onchange={select(&from)}>{ month_options(&from) }</select>
                    </label>
                    <label class="field"><span>{ "To" }</span>
                        <select id="collect-to" onchange={select(&to)}>{ month_options(&to) }</select>
                    </label>
                    <label class="field check">
                        <input type="checkbox" id="collect-force" checked={*force}
                            onchange={let force = force.clone(); Callback::from(move |_: Event| force.set(!*force))} />
                        <span>{ "Re-collect closed months" }</span>
                    </label>
                    <button type="submit" class="btn primary" id="collect-start" disabled={*busy}>{ "Collect now" }</button>
                </div>
            }
            if let Some(n) = &*notice {
                <Toast notice={n.clone()} id="collect-notice" />
            }
        </form>
    }
}
