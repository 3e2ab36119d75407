//! Collection: Collect now (editors), freshness per vendor, the run in progress, latest
//! runs with failures and drift notes, and the per-client device counts.
use super::collect_now::CollectNow;
use super::{event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::{time, Session};
use qbr_shared::alerts::flag_alert;
use qbr_shared::api::{
    CollectionLogResponse, CollectionRun, CollectionStatusResponse, DevicesByClientResponse,
};
use qbr_shared::catalogue::metric_def;
use qbr_shared::collection::{Freshness, RunStatus};
use qbr_shared::format;
use yew::prelude::*;

type Loaded = (CollectionStatusResponse, CollectionLogResponse);

/// How often the page reads the status again while a run is in progress.
const POLL_MS: u32 = 1000;

async fn load(_: u32) -> Result<Loaded, ApiError> {
    Ok((
        api::collection_status().await?,
        api::collection_log(20).await?,
    ))
}

/// The badge colour of a vendor's freshness.
fn freshness_class(f: Freshness) -> &'static str {
    match f {
        Freshness::Fresh => "green",
        Freshness::Stale => "red",
        Freshness::Never => "none",
    }
}

/// The badge colour of a run's status (a refused run did nothing: worth a look).
fn run_class(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Success => "green",
        RunStatus::Failed => "red",
        RunStatus::Running | RunStatus::Refused => "yellow",
        RunStatus::Cancelled => "none",
    }
}

/// What a run noted, a line each: closed months whose value drifted, then flagged
/// values in the words of the dashboard's data-quality alerts. Collectors write
/// catalogue metrics only, so other keys can't occur.
fn run_notes(r: &CollectionRun) -> Vec<String> {
    let drift = r.drift.iter().filter_map(|d| {
        let def = metric_def(&d.metric)?;
        Some(format!(
            "{} for {}: drift {} → {}",
            def.label,
            d.period,
            format::value(def.unit, Some(d.stored)),
            format::value(def.unit, Some(d.collected))
        ))
    });
    let flagged = r
        .flags
        .iter()
        .filter_map(|v| flag_alert(&v.period, &v.metric, Some(v.value), &v.flags))
        .map(|a| a.message);
    drift.chain(flagged).collect()
}

#[function_component(Collection)]
pub fn collection() -> Html {
    let session = use_context::<Session>();
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let running = match &*data {
        crate::components::fetch::Fetch::Done((s, _)) => s.running.clone(),
        _ => None,
    };
    // While a run is in progress, read again every second (its steps, then its end).
    {
        let reload = reload.clone();
        use_effect_with((*reload, running.as_ref().map(|r| r.id)), move |(n, id)| {
            let timer = id.map(|_| {
                let (reload, n) = (reload.clone(), *n);
                gloo_timers::callback::Timeout::new(POLL_MS, move || reload.set(n.wrapping_add(1)))
            });
            move || drop(timer)
        });
    }
    let on_change = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(reload.wrapping_add(1)))
    };
    let may_collect = session
        .as_ref()
        .is_some_and(|s| s.may_write(api::COLLECTION_RUNS));
    let months: Vec<String> = session
        .as_ref()
        .map(|s| s.periods.months.clone())
        .unwrap_or_default();
    let month = use_state(|| months.first().cloned().unwrap_or_default());
    let devices = use_fetch((*month).clone(), |m: String| async move {
        api::devices_by_client(&m).await
    });
    let on_month = {
        let month = month.clone();
        Callback::from(move |e: Event| month.set(event_value(&e)))
    };
    let status = view_fetch("the collection status", &data, |(s, log)| {
        html! {
            <>
                <div class="panel">
                    <h2>{ "Freshness by vendor" }</h2>
                    if let (Some(r), false) = (&s.running, may_collect) {
                        <div class="note" role="status">{ format!("Run #{} in progress: {} of {} steps", r.id, r.progress_done, r.progress_total) }</div>
                    }
                    if s.vendors.is_empty() {
                        <div class="empty small">{ "No collector is configured yet: values are typed in or imported." }</div>
                    } else {
                        <table class="table">
                            <thead><tr><th scope="col">{ "Vendor" }</th><th scope="col">{ "Freshness" }</th><th scope="col">{ "Last success" }</th><th scope="col">{ "Last failure" }</th><th scope="col">{ "Last error" }</th></tr></thead>
                            <tbody>
                            { for s.vendors.iter().map(|v| {
                                html! {
                                    <tr>
                                        <th scope="row">{ &v.vendor }</th>
                                        <td><span class={classes!("badge", freshness_class(v.freshness))}><span class="dot" aria-hidden="true"></span>{ v.freshness.as_str() }</span>
                                            { v.hours_since_success.map(|h| format!(" ({} h ago)", format::grouped(h, 1))).unwrap_or_default() }</td>
                                        <td>{ time::format_optional(v.last_success.as_ref()) }</td>
                                        <td>{ time::format_optional(v.last_failure.as_ref()) }</td>
                                        <td class="error-text">{ v.last_error.clone().unwrap_or_default() }</td>
                                    </tr>
                                }
                            }) }
                            </tbody>
                        </table>
                    }
                </div>
                <div class="panel">
                    <h2>{ "Latest runs" }</h2>
                    if log.runs.is_empty() {
                        <div class="empty small">{ "No collection runs yet." }</div>
                    } else {
                        <div class="table-scroll">
                        <table class="table">
                            <thead><tr><th scope="col">{ "Started" }</th><th scope="col">{ "Trigger" }</th><th scope="col">{ "Status" }</th><th scope="col">{ "Months" }</th><th scope="col" class="num">{ "Duration" }</th><th scope="col" class="num">{ "Values" }</th><th scope="col">{ "Failure / drift" }</th></tr></thead>
                            <tbody>
                            { for log.runs.iter().map(|r| {
                                let notes = run_notes(r);
                                html! {
                                    <tr>
                                        <td>{ time::format_timestamp(&r.started_at) }</td>
                                        <td>{ r.trigger.as_str() }</td>
                                        <td><span class={classes!("badge", run_class(r.status))}><span class="dot" aria-hidden="true"></span>{ r.status.as_str() }</span></td>
                                        <td>{ r.months.join(", ") }</td>
                                        <td class="num">{ r.duration_ms.map(|d| format!("{:.1} s", d as f64 / 1000.0)).unwrap_or_else(|| "—".into()) }</td>
                                        <td class="num">{ r.values_written }</td>
                                        <td>
                                            if let Some(e) = &r.error { <div class="error-text">{ e }</div> }
                                            { for notes.iter().map(|n| html! { <div class="small muted">{ n }</div> }) }
                                        </td>
                                    </tr>
                                }
                            }) }
                            </tbody>
                        </table>
                        </div>
                    }
                </div>
            </>
        }
    });
    let devices_view = view_fetch("the devices", &devices, |d: &DevicesByClientResponse| {
        html! {
            if d.clients.is_empty() {
                <div class="empty small">{ "No device snapshot for this month." }</div>
            } else {
                <table class="table">
                    <thead><tr><th scope="col">{ "Client" }</th><th scope="col" class="num">{ "Endpoints" }</th><th scope="col" class="num">{ "Seats" }</th></tr></thead>
                    <tbody>
                        { for d.clients.iter().map(|c| html! { <tr><th scope="row">{ &c.organization }</th><td class="num">{ format::grouped(c.endpoints as f64, 0) }</td><td class="num">{ format::grouped(c.seats as f64, 0) }</td></tr> }) }
                    </tbody>
                    <tfoot><tr><th scope="row">{ "Total" }</th><td class="num">{ format::grouped(d.total_endpoints as f64, 0) }</td><td class="num">{ format::grouped(d.total_seats as f64, 0) }</td></tr></tfoot>
                </table>
            }
        }
    });
    html! {
        <div class="page collection">
            <div class="page-head">
                <div><h1>{ "Collection" }</h1><div class="meta">{ "Collection runs every night on its schedule; Collect now runs it at once." }</div></div>
            </div>
            if may_collect {
                <CollectNow running={running} months={months.clone()} onchange={on_change} />
            }
            { status }
            <div class="panel">
                <div class="panel-head">
                    <h2>{ "Devices by client" }</h2>
                    <label class="field inline"><span>{ "Month" }</span>
                        <select id="devices-month" onchange={on_month}>
                            { for months.iter().map(|m| html! { <option value={m.clone()} selected={*m == *month}>{ period_label(m) }</option> }) }
                        </select>
                    </label>
                </div>
                { devices_view }
            </div>
        </div>
    }
}
