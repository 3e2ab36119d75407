//! Settings › API keys: create (the secret is shown once), list, revoke. A server
//! without the API-key endpoints answers `NOT_FOUND`, and the page says so.
use crate::api::{self, ApiError};
use crate::components::fetch::{error_box, use_fetch, Fetch};
use crate::time;
use qbr_shared::access::ApiKeyScope;
use qbr_shared::api::{ApiKeyCreateRequest, ApiKeyList};
use qbr_shared::ErrorCode;
use yew::prelude::*;

async fn load(_r: u32) -> Result<ApiKeyList, ApiError> {
    api::api_keys().await
}

#[function_component(ApiKeys)]
pub fn api_keys() -> Html {
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let name = use_state(String::new);
    let write = use_state(|| false);
    let created = use_state(|| None::<String>);
    let notice = use_state(|| None::<String>);

    let on_create = {
        let (name, write, created, notice, reload) = (
            name.clone(),
            write.clone(),
            created.clone(),
            notice.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if name.trim().is_empty() {
                notice.set(Some("Give the key a name (e.g. \"PSA sync\").".into()));
                return;
            }
            let req = ApiKeyCreateRequest {
                name: name.trim().to_string(),
                scope: if *write {
                    ApiKeyScope::Write
                } else {
                    ApiKeyScope::Read
                },
            };
            let (name, created, notice, reload) = (
                name.clone(),
                created.clone(),
                notice.clone(),
                reload.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::create_api_key(&req).await {
                    Ok(k) => {
                        created.set(Some(k.key));
                        notice.set(None);
                        name.set(String::new());
                        reload.set(*reload + 1);
                    }
                    Err(e) => notice.set(Some(e.message)),
                }
            });
        })
    };
    let revoke = |id: i64| {
        let (notice, reload) = (notice.clone(), reload.clone());
        Callback::from(move |_| {
            let (notice, reload) = (notice.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::revoke_api_key(id).await {
                    Ok(_) => reload.set(*reload + 1),
                    Err(e) => notice.set(Some(e.message)),
                }
            });
        })
    };
    let unavailable = matches!(&*data, Fetch::Failed(e) if e.code == Some(ErrorCode::NotFound));
    let list = match &*data {
        Fetch::Loading => {
            html! { <div class="loading" role="status">{ "Loading the API keys…" }</div> }
        }
        Fetch::Failed(_) if unavailable => html! {
            <div class="empty" id="keys-unavailable">
                <strong>{ "API keys are not available on this server yet." }</strong>
                <p class="muted">{ "They arrive with Microsoft 365 sign-in. Until then the API answers only on this machine." }</p>
            </div>
        },
        Fetch::Failed(e) => error_box("the API keys", e),
        Fetch::Done(k) if k.keys.is_empty() => {
            html! { <div class="empty small">{ "No API keys yet." }</div> }
        }
        Fetch::Done(k) => html! {
            <table class="table">
                <thead><tr><th scope="col">{ "Name" }</th><th scope="col">{ "Key" }</th><th scope="col">{ "Scopes" }</th><th scope="col">{ "Created" }</th><th scope="col">{ "Last used" }</th><th scope="col">{ "Status" }</th><th scope="col"></th></tr></thead>
                <tbody>
                { for k.keys.iter().map(|key| html! {
                    <tr>
                        <th scope="row">{ &key.name }</th>
                        <td><code>{ format!("{}…", key.key_prefix) }</code></td>
                        <td>{ key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ") }</td>
                        <td>{ format!("{}{}", time::format_timestamp(&key.created_at), format!(" by {}", key.created_by)) }</td>
                        <td>{ time::format_optional(key.last_used_at.as_ref()) }</td>
                        <td>{ if key.revoked_at.is_some() { html!{ <span class="badge red"><span class="dot"></span>{ "revoked" }</span> } } else { html!{ <span class="badge green"><span class="dot"></span>{ "active" }</span> } } }</td>
                        <td>if key.revoked_at.is_none() { <button class="btn small danger" onclick={revoke(key.id)}>{ "Revoke" }</button> }</td>
                    </tr>
                }) }
                </tbody>
            </table>
        },
    };
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            use wasm_bindgen::JsCast;
            name.set(
                e.target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default(),
            )
        })
    };
    let on_write = {
        let write = write.clone();
        Callback::from(move |e: Event| write.set(super::event_checked(&e)))
    };
    html! {
        <div class="page settings">
            <div class="page-head"><div><h1>{ "Settings · API keys" }</h1><div class="meta">{ "Keys let other programs read (or write) this organization's data through the REST API." }</div></div></div>
            if let Some(k) = &*created {
                <div class="panel secret" role="status">
                    <strong>{ "Copy the new key now — it is shown only once:" }</strong>
                    <code class="secret-key" id="new-key">{ k }</code>
                </div>
            }
            if let Some(n) = &*notice { <div class="toast bad" role="alert">{ n }</div> }
            <form class="panel key-form" onsubmit={on_create}>
                <h2>{ "Create a key" }</h2>
                <label class="field"><span>{ "Name" }</span><input id="key-name" value={(*name).clone()} oninput={on_name} disabled={unavailable} /></label>
                <label class="check"><input type="checkbox" checked={*write} onchange={on_write} disabled={unavailable} />{ " Allow writes (manual entry, thresholds)" }</label>
                <button type="submit" class="btn primary" disabled={unavailable}>{ "Create key" }</button>
            </form>
            <div class="panel"><h2>{ "Keys" }</h2>{ list }</div>
        </div>
    }
}
