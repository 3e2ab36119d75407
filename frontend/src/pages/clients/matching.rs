//! Matching: which vendor entities are which client. Every client with its linked
//! entities, then the unmatched and the internal ones; each entity can be linked to a
//! client, to a new client, or to none. Save sends only the rows changed here (the
//! server checks them whole); "Confirm all proposed" accepts the links made by name.
//! Viewers see the same page read only.
use super::detail::link_status_text;
use crate::api;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, RoleNote, Toast};
use crate::pages::event_value;
use crate::{Route, Session};
use qbr_shared::clients::api::{ClientsResponse, LinkChange, MatchingUpdate, VendorEntity};
use qbr_shared::clients::LinkStatus;
use qbr_shared::Vendor;
use std::collections::BTreeMap;
use yew::prelude::*;
use yew_router::prelude::*;

/// What an entity is linked to, as chosen.
#[derive(Clone, PartialEq, Debug)]
enum Choice {
    Client(i64),
    /// A new client of this name.
    New(String),
    NotClient,
    /// Left unmatched (only what an unmatched entity starts as).
    Unmatched,
}

type Key = (Vendor, String);

fn key(e: &VendorEntity) -> Key {
    (e.vendor, e.external_id.clone())
}

fn initial(e: &VendorEntity) -> Choice {
    match (e.client_id, e.status) {
        (Some(id), _) => Choice::Client(id),
        (None, LinkStatus::Unmatched) => Choice::Unmatched,
        (None, _) => Choice::NotClient,
    }
}

fn option_value(c: &Choice) -> String {
    match c {
        Choice::Client(id) => format!("c:{id}"),
        Choice::New(_) => "new".into(),
        Choice::NotClient => "none".into(),
        Choice::Unmatched => String::new(),
    }
}

/// The DOM id part of an entity: `ninjaone-5`.
fn dom_id(e: &VendorEntity) -> String {
    let safe: String = e
        .external_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}-{safe}", e.vendor.key())
}

fn change_of(k: &Key, c: &Choice) -> LinkChange {
    LinkChange {
        vendor: k.0,
        external_id: k.1.clone(),
        client_id: match c {
            Choice::Client(id) => Some(*id),
            _ => None,
        },
        new_client: match c {
            Choice::New(name) => Some(name.trim().to_string()),
            _ => None,
        },
    }
}

/// Where the page's editing goes: a row's new choice.
type OnChoose = Callback<(Key, Choice)>;

struct RowCtx<'a> {
    data: &'a ClientsResponse,
    drafts: &'a BTreeMap<Key, Choice>,
    can_edit: bool,
    on_choose: &'a OnChoose,
}

fn entity_row(e: &VendorEntity, cx: &RowCtx) -> Html {
    let k = key(e);
    let start = initial(e);
    let chosen = cx.drafts.get(&k).cloned().unwrap_or_else(|| start.clone());
    let changed = cx.drafts.contains_key(&k);
    let id = dom_id(e);
    let onchange = {
        let (k, on, name) = (k.clone(), cx.on_choose.clone(), e.name.clone());
        Callback::from(move |ev: Event| {
            let v = event_value(&ev);
            let c = match v.as_str() {
                "new" => Choice::New(name.clone()),
                "none" => Choice::NotClient,
                "" => Choice::Unmatched,
                other => other
                    .strip_prefix("c:")
                    .and_then(|id| id.parse().ok())
                    .map_or(Choice::Unmatched, Choice::Client),
            };
            on.emit((k.clone(), c));
        })
    };
    let new_name = if let Choice::New(name) = &chosen {
        let (k, on) = (k.clone(), cx.on_choose.clone());
        let oninput = Callback::from(move |ev: InputEvent| {
            use wasm_bindgen::JsCast;
            let v = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .map(|i| i.value())
                .unwrap_or_default();
            on.emit((k.clone(), Choice::New(v)));
        });
        html! { <input class="new-client" id={format!("new-{id}")} value={name.clone()} {oninput} aria-label={format!("Name of the new client for {}", e.name)} maxlength="200" /> }
    } else {
        html! {}
    };
    let value = option_value(&chosen);
    html! {
        <tr id={format!("entity-{id}")} class={classes!(changed.then_some("changed"))} data-status={e.status.as_str()}>
            <td>{ e.vendor.label() }</td>
            <th scope="row">{ &e.name }<div class="muted small">{ format!("id {}", e.external_id) }</div></th>
            <td><span class={classes!("link-status", e.status.as_str())}>
                if e.status == LinkStatus::Proposed { <span aria-hidden="true">{ "? " }</span> }
                { link_status_text(e.status) }
            </span></td>
            <td><div class="link-cell">
                <select id={format!("link-{id}")} {onchange} disabled={!cx.can_edit} aria-label={format!("Link {} to client", e.name)}>
                    if start == Choice::Unmatched {
                        <option value="" selected={value.is_empty()}>{ "Unmatched: link to client…" }</option>
                    }
                    <optgroup label="Clients">
                    { for cx.data.clients.iter().map(|c| {
                        let v = format!("c:{}", c.id);
                        html! { <option value={v.clone()} selected={v == value}>{ &c.name }</option> }
                    }) }
                    </optgroup>
                    <option value="new" selected={value == "new"}>{ format!("New client named “{}”…", e.name) }</option>
                    <option value="none" selected={value == "none"}>{ "Not a client" }</option>
                </select>
                { new_name }
            </div></td>
        </tr>
    }
}

fn entity_table(id: &str, list: &[VendorEntity], cx: &RowCtx) -> Html {
    html! {
        <div class="table-scroll">
        <table class="table matching-table" id={id.to_string()}>
            <colgroup><col class="c-vendor" /><col class="c-entity" /><col class="c-link" /><col /></colgroup>
            <thead><tr>
                <th scope="col">{ "Vendor" }</th><th scope="col">{ "Entity" }</th>
                <th scope="col">{ "Link" }</th><th scope="col">{ "Counts for" }</th>
            </tr></thead>
            <tbody>{ for list.iter().map(|e| entity_row(e, cx)) }</tbody>
        </table>
        </div>
    }
}

fn body(cx: &RowCtx, org: &str) -> Html {
    let d = cx.data;
    html! {
        <>
            <section class="panel" aria-labelledby="unmatched-title">
                <h2 id="unmatched-title">{ format!("Unmatched ({})", d.unmatched.len()) }</h2>
                if d.unmatched.is_empty() {
                    <div class="muted" id="no-unmatched">{ "Every vendor entity is a client's or internal." }</div>
                } else {
                    <div class="muted small">{ "Their values are counted for no client until linked." }</div>
                    { entity_table("unmatched-table", &d.unmatched, cx) }
                }
            </section>
            <section class="panel" aria-labelledby="matched-title">
                <h2 id="matched-title">{ format!("Clients ({})", d.clients.len()) }</h2>
                { for d.clients.iter().map(|c| html! {
                    <div class="client-block" id={format!("client-{}", c.id)}>
                        <h3>
                            <Link<Route> to={Route::Client { org: org.to_string(), id: c.id.to_string() }}>{ &c.name }</Link<Route>>
                            if c.confirmed { <span class="muted small">{ " · confirmed" }</span> }
                            else { <span class="link-status proposed small">{ " · has proposed links" }</span> }
                        </h3>
                        if c.entities.is_empty() { <div class="muted small">{ "No linked entity." }</div> }
                        else { { entity_table(&format!("client-{}-entities", c.id), &c.entities, cx) } }
                    </div>
                }) }
            </section>
            <section class="panel" aria-labelledby="internal-title">
                <h2 id="internal-title">{ format!("Internal ({})", d.internal.len()) }</h2>
                <div class="muted small">{ "The organization's own: no client's." }</div>
                if !d.internal.is_empty() { { entity_table("internal-table", &d.internal, cx) } }
            </section>
        </>
    }
}

fn proposed_count(d: &ClientsResponse) -> usize {
    d.clients
        .iter()
        .flat_map(|c| &c.entities)
        .filter(|e| e.status == LinkStatus::Proposed)
        .count()
}

#[function_component(Matching)]
pub fn matching() -> Html {
    let session = use_context::<Session>();
    let can_edit = session
        .as_ref()
        .is_some_and(|s| s.may_write(api::CLIENTS_MATCHING));
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, |_| api::clients());
    let drafts = use_state(BTreeMap::<Key, Choice>::new);
    let notice = use_state(|| None::<Notice>);
    let saving = use_state(|| false);

    let on_choose: OnChoose = {
        let (drafts, data) = (drafts.clone(), data.clone());
        Callback::from(move |(k, c): (Key, Choice)| {
            let start = data.done().and_then(|d| {
                d.clients
                    .iter()
                    .flat_map(|c| &c.entities)
                    .chain(&d.unmatched)
                    .chain(&d.internal)
                    .find(|e| key(e) == k)
                    .map(initial)
            });
            let mut m = (*drafts).clone();
            if start.as_ref() == Some(&c) {
                m.remove(&k);
            } else {
                m.insert(k, c);
            }
            drafts.set(m);
        })
    };
    let send = {
        let (drafts, notice, saving, reload) = (
            drafts.clone(),
            notice.clone(),
            saving.clone(),
            reload.clone(),
        );
        Callback::from(move |confirm_proposed: bool| {
            let changes: Vec<LinkChange> = if confirm_proposed {
                Vec::new()
            } else {
                drafts.iter().map(|(k, c)| change_of(k, c)).collect()
            };
            let n = changes.len();
            let req = MatchingUpdate {
                organization_id: None,
                changes,
                confirm_proposed,
            };
            let (drafts, notice, saving, reload) = (
                drafts.clone(),
                notice.clone(),
                saving.clone(),
                reload.clone(),
            );
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::save_matching(&req).await {
                    Ok(_) => {
                        if !confirm_proposed {
                            drafts.set(BTreeMap::new());
                        }
                        notice.set(Some(Notice::ok(if confirm_proposed {
                            "Every proposed link is confirmed.".to_string()
                        } else {
                            format!("Saved {n} change{}.", if n == 1 { "" } else { "s" })
                        })));
                        reload.set(*reload + 1);
                    }
                    Err(e) => notice.set(Some(Notice::bad(format!("Not saved: {}", e.message)))),
                }
                saving.set(false);
            });
        })
    };
    let Some(session) = session else {
        return html! {};
    };
    let proposed = data.done().map_or(0, proposed_count);
    let on_save = send.reform(|_: MouseEvent| false);
    let on_confirm = send.reform(|_: MouseEvent| true);
    html! {
        <div class="page matching-page">
            <div class="page-head">
                <div>
                    <h1>{ "Matching" }</h1>
                    <div class="meta">{ "Which ConnectWise company, NinjaOne organization and QuickBooks customer is which client. Links made by name are proposed until a person confirms them." }</div>
                </div>
                if can_edit {
                    <div class="head-actions">
                        <button type="button" class="btn" id="confirm-proposed" onclick={on_confirm} disabled={proposed == 0 || *saving}>
                            { format!("Confirm all proposed ({proposed})") }
                        </button>
                        <button type="button" class="btn primary" id="matching-save" onclick={on_save} disabled={drafts.is_empty() || *saving}>
                            { format!("Save ({})", drafts.len()) }
                        </button>
                    </div>
                }
            </div>
            if !can_edit { <RoleNote what="link vendor entities to clients" /> }
            if let Some(n) = &*notice { <Toast notice={n.clone()} id="matching-notice" /> }
            { view_fetch("the clients", &data, |d| {
                let cx = RowCtx { data: d, drafts: &drafts, can_edit, on_choose: &on_choose };
                body(&cx, &session.slug())
            }) }
        </div>
    }
}
