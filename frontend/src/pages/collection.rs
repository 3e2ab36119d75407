//! Collection: freshness per vendor, the run in progress, latest runs with failures
//! and drift notes, and the per-client device counts.
use super::{event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::{time, Session};
use qbr_shared::api::{CollectionLogResponse, CollectionStatusResponse, DevicesByClientResponse};
use qbr_shared::format;
use yew::prelude::*;

type Loaded = (CollectionStatusResponse, CollectionLogResponse);

async fn load(_: ()) -> Result<Loaded, ApiError> {
    Ok((
        api::collection_status().await?,
        api::collection_log(20).await?,
    ))
}

fn json_notes(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Null => vec![],
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| {
                format!(
                    "{k}: {}",
                    x.as_str().map_or_else(|| x.to_string(), str::to_string)
                )
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

#[function_component(Collection)]
pub fn collection() -> Html {
    let session = use_context::<Session>();
    let data = use_fetch((), load);
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
                    if let Some(r) = &s.running {
                        <div class="note" role="status">{ format!("Run #{} in progress: {} of {} steps", r.id, r.progress_done, r.progress_total) }</div>
                    }
                    if s.vendors.is_empty() {
                        <div class="empty small">{ "No collector is configured yet: values are typed in or imported." }</div>
                    } else {
                        <table class="table">
                            <thead><tr><th scope="col">{ "Vendor" }</th><th scope="col">{ "Freshness" }</th><th scope="col">{ "Last success" }</th><th scope="col">{ "Last failure" }</th><th scope="col">{ "Last error" }</th></tr></thead>
                            <tbody>
                            { for s.vendors.iter().map(|v| {
                                let class = match v.freshness.as_str() { "fresh" => "green", "stale" => "red", _ => "none" };
                                html! {
                                    <tr>
                                        <th scope="row">{ &v.vendor }</th>
                                        <td><span class={classes!("badge", class)}><span class="dot" aria-hidden="true"></span>{ &v.freshness }</span>
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
                                let class = match r.status.as_str() { "success" | "succeeded" => "green", "failed" | "error" => "red", _ => "yellow" };
                                let mut notes = json_notes(&r.drift);
                                notes.extend(json_notes(&r.flags));
                                html! {
                                    <tr>
                                        <td>{ time::format_timestamp(&r.started_at) }</td>
                                        <td>{ &r.trigger }</td>
                                        <td><span class={classes!("badge", class)}><span class="dot" aria-hidden="true"></span>{ &r.status }</span></td>
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
                <div><h1>{ "Collection" }</h1><div class="meta">{ "Collection runs on its schedule; re-runs and backfills are done with the CLI on the server." }</div></div>
            </div>
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
