//! Organizations (platform administrators): every organization of this server — create
//! one with its first admin, rename, archive or restore. An organization the user was
//! made admin of joins the switcher at once, with a link to open it.
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, Toast};
use crate::{time, Account, Route};
use qbr_shared::api::{
    OrganizationCreateRequest, OrganizationInfo, OrganizationList, OrganizationUpdateRequest,
};
use yew::prelude::*;
use yew_router::prelude::*;

async fn load(_reload: u32) -> Result<OrganizationList, ApiError> {
    api::organizations().await
}

/// A text field's state and its `oninput`.
#[hook]
fn use_text(initial: String) -> (UseStateHandle<String>, Callback<InputEvent>) {
    let value = use_state(move || initial);
    let oninput = {
        let value = value.clone();
        Callback::from(move |e: InputEvent| value.set(super::event_value(&e)))
    };
    (value, oninput)
}

/// Blank → absent (the server's default).
fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Properties, PartialEq)]
struct CreateFormProps {
    /// The signed-in user's email: the first admin unless changed.
    me: String,
    /// The organization made, or why not.
    ondone: Callback<Result<OrganizationInfo, String>>,
}

/// Create: a name, a slug (from the name if blank), a time zone (the browser's unless
/// changed) and the first admin's email.
#[function_component(CreateForm)]
fn create_form(props: &CreateFormProps) -> Html {
    let (name, on_name) = use_text(String::new());
    let (slug, on_slug) = use_text(String::new());
    let (zone, on_zone) = use_text(api::browser_time_zone().to_string());
    let (admin, on_admin) = use_text(props.me.clone());
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, slug, zone, admin, busy) = (
            name.clone(),
            slug.clone(),
            zone.clone(),
            admin.clone(),
            busy.clone(),
        );
        let ondone = props.ondone.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let req = OrganizationCreateRequest {
                name: name.trim().to_string(),
                slug: optional(&slug),
                timezone: optional(&zone),
                admin_email: admin.trim().to_string(),
            };
            if req.name.is_empty() || req.admin_email.is_empty() {
                return ondone.emit(Err(
                    "Give the organization a name and its first admin's email.".into(),
                ));
            }
            let (name, slug, busy, ondone) =
                (name.clone(), slug.clone(), busy.clone(), ondone.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let made = api::create_organization(&req).await;
                if made.is_ok() {
                    name.set(String::new());
                    slug.set(String::new());
                }
                ondone.emit(made.map_err(|e| e.message));
                busy.set(false);
            });
        })
    };
    html! {
        <form class="panel inline-form org-form" {onsubmit}>
            <h2>{ "Create an organization" }</h2>
            <label class="field grow"><span>{ "Name" }</span>
                <input id="org-name" value={(*name).clone()} oninput={on_name} placeholder="Gamma IT, Inc." />
            </label>
            <label class="field"><span>{ "Slug (optional)" }</span>
                <input id="org-slug" value={(*slug).clone()} oninput={on_slug} placeholder="from the name" />
            </label>
            <label class="field"><span>{ "Time zone" }</span>
                <input id="org-timezone" value={(*zone).clone()} oninput={on_zone} placeholder="America/Chicago" />
            </label>
            <label class="field grow"><span>{ "First admin's email" }</span>
                <input id="org-admin" type="email" value={(*admin).clone()} oninput={on_admin} />
            </label>
            <button type="submit" class="btn primary" id="org-create" disabled={*busy}>{ "Create" }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct OrgRowProps {
    org: OrganizationInfo,
    /// Whether the user has a role there (its name links to it).
    member: bool,
    ondone: Callback<Notice>,
}

/// An organization: rename in place, archive or restore.
#[function_component(OrgRow)]
fn org_row(props: &OrgRowProps) -> Html {
    let o = &props.org;
    let renaming = use_state(|| None::<String>);
    let update = {
        let (id, ondone) = (o.id, props.ondone.clone());
        move |req: OrganizationUpdateRequest, done: String| {
            let ondone = ondone.clone();
            wasm_bindgen_futures::spawn_local(async move {
                ondone.emit(match api::update_organization(id, &req).await {
                    Ok(_) => Notice::ok(done),
                    Err(e) => Notice::bad(e.message),
                });
            });
        }
    };
    let on_archive = {
        let update = update.clone();
        let (archived, name) = (o.archived_at.is_some(), o.name.clone());
        Callback::from(move |_: MouseEvent| {
            let req = OrganizationUpdateRequest {
                name: None,
                archived: Some(!archived),
            };
            let done = if archived { "Restored" } else { "Archived" };
            update(req, format!("{done} {name}."));
        })
    };
    let on_rename = {
        let renaming = renaming.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(name) = optional(renaming.as_deref().unwrap_or_default()) {
                let req = OrganizationUpdateRequest {
                    name: Some(name.clone()),
                    archived: None,
                };
                update(req, format!("Renamed to {name}."));
            }
        })
    };
    let start = {
        let (renaming, name) = (renaming.clone(), o.name.clone());
        Callback::from(move |_: MouseEvent| renaming.set(Some(name.clone())))
    };
    let cancel = {
        let renaming = renaming.clone();
        Callback::from(move |_: MouseEvent| renaming.set(None))
    };
    let on_name = {
        let renaming = renaming.clone();
        Callback::from(move |e: InputEvent| renaming.set(Some(super::event_value(&e))))
    };
    let name = match (&*renaming, props.member && o.archived_at.is_none()) {
        (Some(text), _) => html! {
            <form class="rename" onsubmit={on_rename}>
                <input class="org-rename" value={text.clone()} oninput={on_name} aria-label={format!("New name of {}", o.name)} />
                <button type="submit" class="btn small primary">{ "Save" }</button>
                <button type="button" class="btn small" onclick={cancel}>{ "Cancel" }</button>
            </form>
        },
        (None, true) => html! {
            <Link<Route> to={Route::Home { org: o.slug.clone() }}>{ &o.name }</Link<Route>>
        },
        (None, false) => html! { { &o.name } },
    };
    let (badge, label) = match o.archived_at {
        Some(_) => ("none", "archived"),
        None => ("green", "active"),
    };
    html! {
        <tr data-slug={o.slug.clone()} class={classes!(o.archived_at.is_some().then_some("archived"))}>
            <th scope="row">
                { name }
                // The slug under the name: its URL is /o/{slug}/.
                <div class="small muted"><code class="slug">{ &o.slug }</code></div>
            </th>
            <td class="timezone">{ &o.timezone }</td>
            <td class="nowrap" title={time::format_timestamp(&o.created_at)}>{ time::format_date(&o.created_at) }</td>
            <td><span class={classes!("badge", badge)}><span class="dot" aria-hidden="true"></span>{ label }</span></td>
            <td class="actions">
                if renaming.is_none() {
                    <button type="button" class="btn small org-rename-btn" onclick={start}>{ "Rename" }</button>
                    <button type="button" class="btn small org-archive" onclick={on_archive}>
                        { if o.archived_at.is_some() { "Restore" } else { "Archive" } }
                    </button>
                }
            </td>
        </tr>
    }
}

#[function_component(Organizations)]
pub fn organizations() -> Html {
    let account = use_context::<Account>();
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let notice = use_state(|| None::<Notice>);
    // The organization just made, when the user is its admin: a link to open it.
    let opened = use_state(|| None::<OrganizationInfo>);
    let Some(account) = account else {
        return html! {};
    };
    // After any change the account is read again: the switcher shows new names, new
    // organizations and no archived ones.
    let changed = {
        let (notice, reload, refresh) = (notice.clone(), reload.clone(), account.reload.clone());
        Callback::from(move |n: Notice| {
            if n.ok {
                refresh.emit(());
            }
            notice.set(Some(n));
            reload.set(*reload + 1);
        })
    };
    let me = account.status.user.email.clone();
    let on_created = {
        let (changed, opened) = (changed.clone(), opened.clone());
        Callback::from(move |made: Result<OrganizationInfo, String>| match made {
            Ok(o) => {
                changed.emit(Notice::ok(format!("Created {} ({}).", o.name, o.slug)));
                opened.set(Some(o));
            }
            Err(why) => {
                changed.emit(Notice::bad(format!("Not created: {why}")));
                opened.set(None);
            }
        })
    };
    if !account.status.platform_admin {
        return html! {
            <div class="empty" id="not-platform-admin">
                <h1>{ "Organizations" }</h1>
                <p>{ "Only platform administrators manage the organizations of this server." }</p>
            </div>
        };
    }
    // Open it: only once the switcher knows it (the user is a member).
    let open = opened
        .as_ref()
        .filter(|o| account.org(&o.slug).is_some())
        .map(|o| html! {
            <Link<Route> to={Route::Home { org: o.slug.clone() }} classes="btn small open-created">
                { format!("Open {}", o.name) }
            </Link<Route>>
        });
    let list = view_fetch("the organizations", &data, |list: &OrganizationList| {
        html! {
            <div class="table-scroll">
                <table class="table organizations" id="organizations">
                    <thead><tr>
                        <th scope="col">{ "Name / slug" }</th>
                        <th scope="col">{ "Time zone" }</th><th scope="col">{ "Created" }</th>
                        <th scope="col">{ "Status" }</th><th scope="col"></th>
                    </tr></thead>
                    <tbody>
                        { for list.organizations.iter().map(|o| html! {
                            <OrgRow key={format!("{}-{}", o.id, *reload)} org={o.clone()}
                                member={account.org(&o.slug).is_some()} ondone={changed.clone()} />
                        }) }
                    </tbody>
                </table>
            </div>
        }
    });
    html! {
        <div class="page organizations-page">
            <div class="page-head"><div>
                <h1>{ "Organizations" }</h1>
                <div class="meta">{ "Every organization of this server: each has its own data, settings, thresholds, members and API keys. An archived one can't be used until restored." }</div>
            </div></div>
            if let Some(n) = &*notice {
                <div class="notice-line">
                    <Toast notice={n.clone()} id="organizations-notice" />
                    { open.unwrap_or_default() }
                </div>
            }
            <CreateForm {me} ondone={on_created} />
            <div class="panel"><h2>{ "All organizations" }</h2>{ list }</div>
        </div>
    }
}
