//! Settings / QuickBooks: the Web Connector's setup and the newest reports (`status`),
//! its `.qwc` file, a request for more history, and the accounts QuickBooks reported
//! with where their amounts go (`accounts`), changed and saved together.
//!
//! As on the data-entry page, `state` holds what the page remembers and changes only
//! through its `Action`s; the components show it and report what the user does.
mod accounts;
mod state;
mod status;

use super::{event_value, on, period_label};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{RoleNote, Toast};
use crate::Session;
use accounts::AccountsTable;
use qbr_shared::quickbooks::api::{QuickBooksAccountsResponse, QuickBooksStatus};
use qbr_shared::Month;
use state::{Action, State};
use status::StatusPanel;
use std::rc::Rc;
use yew::prelude::*;

type Loaded = (QuickBooksStatus, Rc<QuickBooksAccountsResponse>);

async fn load(_reload: u32) -> Result<Loaded, ApiError> {
    Ok((
        api::quickbooks_status().await?,
        Rc::new(api::quickbooks_accounts().await?),
    ))
}

/// This server's Web Connector service, as the browser reaches it.
fn default_service_url() -> String {
    api::absolute_url("/api/qbwc")
}

/// Why the Web Connector would refuse `url` (it takes plain http only on this machine).
fn url_problem(url: &str) -> Option<&'static str> {
    let url = url.trim();
    let local = url.starts_with("http://localhost") || url.starts_with("http://127.0.0.1");
    if url.starts_with("https://") || local {
        None
    } else {
        Some("The Web Connector needs an https:// address (plain http only for localhost).")
    }
}

/// The month history is asked from by default: two years back.
fn default_backfill(current: Option<Month>) -> String {
    current.map_or_else(String::new, |m| m.add_months(-24).to_string())
}

#[function_component(QuickBooks)]
pub fn quickbooks() -> Html {
    let session = use_context::<Session>();
    let current: Option<Month> = session
        .as_ref()
        .and_then(|s| s.periods.current_month.parse().ok());
    let state = use_reducer(|| State::new(default_service_url(), default_backfill(current)));
    let data = use_fetch(state.reload, load);
    // What the role may do here: map accounts and download the .qwc file (admins),
    // ask for history (editors).
    let may = |path: &str, write: bool| {
        session.as_ref().is_some_and(|s| {
            if write {
                s.may_write(path)
            } else {
                s.may_read(path)
            }
        })
    };
    let (can_map, can_backfill, can_qwc) = (
        may(api::QUICKBOOKS_MAPPINGS, true),
        may(api::QUICKBOOKS_BACKFILL, true),
        may(api::QUICKBOOKS_QWC, false),
    );

    let onsubmit = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let req = match state.request() {
                Ok(req) => req,
                Err(why) => return state.dispatch(Action::Refuse(why)),
            };
            state.dispatch(Action::Saving);
            let dispatcher = state.dispatcher();
            wasm_bindgen_futures::spawn_local(async move {
                dispatcher.dispatch(match api::save_quickbooks_mappings(&req).await {
                    Ok(r) => Action::Saved(r),
                    Err(e) => Action::Failed(e.message),
                });
            });
        })
    };
    let on_backfill = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let from = state.backfill_from.clone();
            if from.is_empty() {
                return state.dispatch(Action::Asked(Err("choose a month first.".into())));
            }
            state.dispatch(Action::Asking);
            let dispatcher = state.dispatcher();
            wasm_bindgen_futures::spawn_local(async move {
                dispatcher.dispatch(Action::Asked(
                    api::quickbooks_backfill(&from)
                        .await
                        .map(|r| r.backfill_from)
                        .map_err(|e| e.message),
                ));
            });
        })
    };
    let on_cancel = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::Cancel))
    };
    let onedit = on(&state, |(account, stored, draft)| Action::Edit {
        account,
        stored,
        draft,
    });

    let configured = data.done().map(|(s, _)| s.web_connector_configured);
    let status = view_fetch("the QuickBooks status", &data, |(s, _)| {
        html! { <StatusPanel status={s.clone()} /> }
    });
    let accounts = view_fetch("the QuickBooks accounts", &data, |(_, a)| {
        if a.accounts.is_empty() {
            return html! {
                <div class="empty" id="qb-empty">
                    <strong>{ "No QuickBooks report yet: set up the Web Connector (above), add the .qwc file to it and let it run." }</strong>
                    <p class="muted">{ "The accounts of its profit-and-loss report appear here after its first run, each going to a metric by the default rules until you map it." }</p>
                </div>
            };
        }
        html! { <AccountsTable data={a.clone()} drafts={state.drafts.clone()} saving={state.saving} editable={can_map} onedit={onedit.clone()} /> }
    });
    let has_accounts = data.done().is_some_and(|(_, a)| !a.accounts.is_empty());
    let changes = state.drafts.len();
    let save = if state.saving {
        "Saving…".to_string()
    } else {
        format!(
            "Save {changes} change{}",
            if changes == 1 { "" } else { "s" }
        )
    };

    let url_problem = url_problem(&state.service_url);
    let qwc = match (configured, url_problem) {
        (Some(true), None) => html! {
            <a class="btn" id="qb-qwc" href={api::qwc_url(&state.service_url)} download="qbr-dashboard.qwc">{ "Download .qwc" }</a>
        },
        _ => {
            html! { <button type="button" class="btn" id="qb-qwc" disabled=true>{ "Download .qwc" }</button> }
        }
    };
    let min_month = current.map(|m| m.add_months(-120).to_string());
    let max_month = current.map(|m| m.to_string());

    html! {
        <div class="page quickbooks">
            <div class="page-head">
                <div>
                    <h1>{ "Settings · QuickBooks" }</h1>
                    <div class="meta">{ "Revenue and expenses come from QuickBooks' monthly profit and loss, account by account." }</div>
                </div>
            </div>
            { status }
            <div class="grid-2 even">
                if can_qwc {
                    <div class="panel">
                        <h2>{ "Web Connector file" }</h2>
                        <p class="muted small">{ "Add this file to the QuickBooks Web Connector (Add an application) on the computer with the company file." }</p>
                        <div class="inline-form">
                            <label class="field grow"><span>{ "Service URL" }</span>
                                <input id="qb-url" type="url" value={state.service_url.clone()}
                                    oninput={on(&state, Action::ServiceUrl).reform(|e: InputEvent| event_value(&e))} />
                            </label>
                            { qwc }
                        </div>
                        if let Some(p) = url_problem { <div class="small error-text">{ p }</div> }
                        if configured == Some(false) { <div class="small muted">{ "Set up the Web Connector's user first (above)." }</div> }
                    </div>
                }
                if can_backfill {
                    <form class="panel" onsubmit={on_backfill}>
                        <h2>{ "History" }</h2>
                        <p class="muted small">{ "Each run reads the last 13 months. For older months, ask once; the next run reads from that month." }</p>
                        <div class="inline-form">
                            <label class="field"><span>{ "From" }</span>
                                <input id="qb-backfill-month" type="month" value={state.backfill_from.clone()} min={min_month} max={max_month}
                                    oninput={on(&state, Action::BackfillFrom).reform(|e: InputEvent| event_value(&e))} />
                            </label>
                            <button type="submit" class="btn" id="qb-backfill" disabled={state.asking}>
                                { format!("Ask for history from {}", if state.backfill_from.is_empty() { "…".to_string() } else { period_label(&state.backfill_from) }) }
                            </button>
                        </div>
                        if let Some(n) = &state.backfill_notice { <Toast notice={n.clone()} id="qb-backfill-notice" /> }
                    </form>
                }
            </div>
            <form class="panel" id="qb-accounts-panel" {onsubmit} novalidate=true>
                <div class="panel-head">
                    <h2>{ "Accounts" }</h2>
                    if has_accounts && can_map {
                        <div class="head-actions">
                            <button type="button" class="btn" id="qb-cancel" onclick={on_cancel} disabled={changes == 0 || state.saving}>{ "Cancel" }</button>
                            <button type="submit" class="btn primary" id="qb-save" disabled={changes == 0 || state.saving}>{ save }</button>
                        </div>
                    }
                </div>
                if has_accounts {
                    <p class="muted small">{ "Each account's own amount goes to the metric chosen here, else to its parent's, else to the default rule for its name. Ignored accounts still count when a month is checked against QuickBooks' totals." }</p>
                }
                if has_accounts && !can_map { <RoleNote what="change where accounts go" /> }
                if let Some(n) = &state.notice { <Toast notice={n.clone()} id="qb-notice" /> }
                { accounts }
            </form>
        </div>
    }
}
