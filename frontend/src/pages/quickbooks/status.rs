//! The Web Connector's setup and last session, the accounts that go nowhere, and the
//! newest reports QuickBooks sent.
use super::accounts::money;
use crate::api;
use crate::pages::period_label;
use crate::time;
use qbr_shared::quickbooks::api::{QuickBooksStatus, QuickBooksSync};
use qbr_shared::quickbooks::{Side, Unreconciled};
use yew::prelude::*;

/// How many reports the table lists.
const SHOWN_SYNCS: usize = 5;

/// Where a report came from: QuickBooks Desktop (through the Web Connector) or Online.
fn source_label(source: &str) -> &str {
    match source {
        "desktop" => "Desktop",
        "online" => "Online",
        other => other,
    }
}

/// "Jan 2025: income 1,500.00 in the report, 1,550.00 accounted for; unmapped: Grant Income".
fn unreconciled_text(u: &Unreconciled) -> String {
    let side = match u.side {
        Side::Income => "income",
        Side::Expenses => "expenses",
    };
    let mut text = format!(
        "{}: {side} {} in the report, {} accounted for",
        period_label(&u.period),
        money(u.report_total),
        money(u.accounted)
    );
    if !u.unmapped_accounts.is_empty() {
        text.push_str(&format!("; unmapped: {}", u.unmapped_accounts.join(", ")));
    }
    text
}

/// A report: when it came, from where, its months, whether they added up; then, on a
/// row of its own, each month that did not.
fn sync_rows(s: &QuickBooksSync) -> Html {
    let off = s.unreconciled.len();
    html! {
        <>
            <tr class={classes!((off > 0).then_some("has-detail"))}>
                <td class="nowrap">{ time::format_timestamp(&s.received_at) }</td>
                <td>{ source_label(&s.source) }</td>
                <td class="nowrap">{ format!("{} – {}", period_label(&s.from_month), period_label(&s.to_month)) }
                    <span class="muted small">{ format!(" ({})", s.months) }</span></td>
                <td class="nowrap">
                    if off == 0 {
                        <span class="badge green"><span class="dot" aria-hidden="true"></span>{ "all months add up" }</span>
                    } else {
                        <span class="badge red"><span class="dot" aria-hidden="true"></span>
                            { format!("{off} {} not add up", if off == 1 { "month did" } else { "months did" }) }</span>
                    }
                </td>
            </tr>
            if off > 0 {
                <tr class="sync-detail">
                    <td colspan="4">
                        { for s.unreconciled.iter().map(|u| html! { <div class="small error-text">{ unreconciled_text(u) }</div> }) }
                    </td>
                </tr>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct StatusPanelProps {
    pub status: QuickBooksStatus,
}

#[function_component(StatusPanel)]
pub fn status_panel(props: &StatusPanelProps) -> Html {
    let s = &props.status;
    // Connecting QuickBooks Online is an admin's.
    let can_connect =
        use_context::<crate::Session>().is_some_and(|x| x.may_read(api::QUICKBOOKS_ONLINE_CONNECT));
    let setup = if s.web_connector_configured {
        html! {
            <dl class="facts">
                <dt>{ "Web Connector" }</dt>
                <dd><span class="badge green" id="qb-configured"><span class="dot" aria-hidden="true"></span>{ "set up" }</span></dd>
                <dt>{ "User name" }</dt>
                <dd><code>{ s.web_connector_username.clone().unwrap_or_default() }</code></dd>
                <dt>{ "Last session" }</dt>
                <dd id="qb-last-session">{ s.last_session_at.as_ref().map_or_else(|| "never".to_string(), time::format_timestamp) }</dd>
                if let Some(e) = &s.last_error {
                    <dt>{ "Last error" }</dt>
                    <dd class="error-text" id="qb-last-error">{ e }</dd>
                }
                if let Some(m) = &s.backfill_from {
                    <dt>{ "History" }</dt>
                    <dd id="qb-pending">{ format!("from {} asked for, with the next run", period_label(m)) }</dd>
                }
            </dl>
        }
    } else {
        html! {
            <div id="qb-not-configured">
                <p><span class="badge yellow"><span class="dot" aria-hidden="true"></span>{ "not set up" }</span>
                    { " The QuickBooks Web Connector can't sign in to this server yet. On the server, run" }</p>
                <pre class="command">{ "qbr quickbooks hash-password" }</pre>
                <p>{ "and set, in the server's environment, then restart it:" }</p>
                <pre class="command">{ "QBWC_USERNAME=<the Web Connector's user name>\nQBWC_PASSWORD_HASH=<what hash-password printed>" }</pre>
                if let Some(m) = &s.backfill_from {
                    <p id="qb-pending">{ format!("History from {} is asked for with the next run.", period_label(m)) }</p>
                }
            </div>
        }
    };
    html! {
        <div class="panel qb-status">
            <h2>{ "QuickBooks Desktop" }</h2>
            { setup }
            { online(s, can_connect) }
            if !s.unmapped_accounts.is_empty() {
                <div class="warning" role="alert" id="qb-unmapped">
                    <strong>{ format!("{} of the newest report go{} nowhere: ",
                        if s.unmapped_accounts.len() == 1 { "1 account".to_string() } else { format!("{} accounts", s.unmapped_accounts.len()) },
                        if s.unmapped_accounts.len() == 1 { "es" } else { "" }) }</strong>
                    { s.unmapped_accounts.join(", ") }
                    <div class="small">{ "Their months don't add up to QuickBooks' totals. Map each to a metric, or ignore it with a reason, below." }</div>
                </div>
            }
            <h2 class="spaced">{ "Newest reports" }</h2>
            if s.syncs.is_empty() {
                <div class="empty small">{ "QuickBooks has not sent a report yet." }</div>
            } else {
                <div class="table-scroll">
                    <table class="table" id="qb-syncs">
                        <thead><tr><th scope="col">{ "Received" }</th><th scope="col">{ "Source" }</th><th scope="col">{ "Months" }</th><th scope="col">{ "When received" }</th></tr></thead>
                        <tbody>{ for s.syncs.iter().take(SHOWN_SYNCS).map(sync_rows) }</tbody>
                    </table>
                </div>
            }
        </div>
    }
}

/// QuickBooks Online: connect (a link: the server sends the browser to Intuit and back),
/// or what it is connected to.
fn online(s: &QuickBooksStatus, can_connect: bool) -> Html {
    if !s.online_configured {
        return html! {};
    }
    html! {
        <>
            <h2 class="spaced">{ "QuickBooks Online" }</h2>
            if s.online_connected {
                <dl class="facts" id="qbo-connected">
                    <dt>{ "Connected" }</dt>
                    <dd><span class="badge green"><span class="dot" aria-hidden="true"></span>
                        { format!("company {}", s.online_realm_id.clone().unwrap_or_default()) }</span></dd>
                    if let Some(e) = &s.online_last_error {
                        <dt>{ "Last error" }</dt>
                        <dd class="error-text">{ e }</dd>
                    }
                </dl>
            } else if can_connect {
                <p id="qbo-connect">
                    <a class="btn primary" id="qbo-connect-link" href={api::quickbooks_online_connect_url()}>{ "Connect QuickBooks Online" }</a>
                    <span class="small">{ " Intuit asks you to sign in and allow the QBR Dashboard to read your books." }</span>
                </p>
            }
        </>
    }
}
