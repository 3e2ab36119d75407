//! Settings / Users (admins): the organization's members and their roles — invite an
//! email with a role, change a role, remove a member (after a confirm step). Every
//! action ends in a notice (the server's message when refused, e.g. "An organization
//! needs an admin") and a fresh list.
use crate::api::{self, ApiError};
use crate::components::choice::Choice;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, Toast};
use crate::{time, Account, Session};
use qbr_shared::access::Role;
use qbr_shared::api::{MemberInfo, MemberInviteRequest, MemberList};
use yew::prelude::*;

async fn load(_reload: u32) -> Result<MemberList, ApiError> {
    api::members().await
}

/// The roles as a `<select>` offers them.
fn role_options() -> Vec<(AttrValue, AttrValue)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().into(), r.as_str().into()))
        .collect()
}

#[derive(Properties, PartialEq)]
struct InviteFormProps {
    /// What happened, for the page to say (and to list the members again).
    ondone: Callback<Notice>,
}

/// Invite: an email and its role.
#[function_component(InviteForm)]
fn invite_form(props: &InviteFormProps) -> Html {
    let email = use_state(String::new);
    let role = use_state(|| Role::Viewer);
    let busy = use_state(|| false);
    let onsubmit = {
        let (email, role, busy, ondone) = (
            email.clone(),
            role.clone(),
            busy.clone(),
            props.ondone.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let req = MemberInviteRequest {
                email: email.trim().to_string(),
                role: *role,
            };
            if req.email.is_empty() {
                return ondone.emit(Notice::bad("Type the email of the person to invite."));
            }
            let (email, busy, ondone) = (email.clone(), busy.clone(), ondone.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                ondone.emit(match api::invite_member(&req).await {
                    Ok(m) => {
                        email.set(String::new());
                        Notice::ok(format!(
                            "Invited {} as {}: they can sign in now.",
                            m.email, m.role
                        ))
                    }
                    Err(e) => Notice::bad(format!("Not invited: {}", e.message)),
                });
                busy.set(false);
            });
        })
    };
    let oninput = {
        let email = email.clone();
        Callback::from(move |e: InputEvent| email.set(super::event_value(&e)))
    };
    let onrole = {
        let role = role.clone();
        Callback::from(move |v: String| role.set(Role::parse(&v).unwrap_or(Role::Viewer)))
    };
    html! {
        <form class="panel inline-form invite-form" {onsubmit}>
            <h2>{ "Invite" }</h2>
            <label class="field grow"><span>{ "Email" }</span>
                <input id="invite-email" type="email" value={(*email).clone()} {oninput} placeholder="name@example.com" />
            </label>
            <label class="field"><span>{ "Role" }</span>
                <Choice id="invite-role" label="Role of the person invited" options={role_options()}
                    value={role.as_str()} onchange={onrole} />
            </label>
            <button type="submit" class="btn primary" id="invite-submit" disabled={*busy}>{ "Invite" }</button>
            <p class="muted small roles-help">{ "Viewers read everything; editors also enter, import and re-collect data; admins also change thresholds, settings, QuickBooks, API keys and members." }</p>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct MemberRowProps {
    member: MemberInfo,
    /// The signed-in user's own row.
    me: bool,
    ondone: Callback<Notice>,
}

/// A member: role select, when and by whom added, Remove (then Remove/Cancel).
#[function_component(MemberRow)]
fn member_row(props: &MemberRowProps) -> Html {
    let m = &props.member;
    let confirming = use_state(|| false);
    // A change of my own role (or my removal) changes what I may do: the top bar and
    // the pages follow once the account is read again.
    let account = use_context::<Account>().filter(|_| props.me);
    let ondone = props.ondone.reform(move |n: Notice| {
        if let (true, Some(a)) = (n.ok, &account) {
            a.reload.emit(());
        }
        n
    });
    let onrole = {
        let (id, email, ondone) = (m.user_id, m.email.clone(), ondone.clone());
        Callback::from(move |v: String| {
            let Some(role) = Role::parse(&v) else { return };
            let (email, ondone) = (email.clone(), ondone.clone());
            wasm_bindgen_futures::spawn_local(async move {
                ondone.emit(match api::change_member_role(id, role).await {
                    Ok(m) => Notice::ok(format!("{} is now {}.", m.email, m.role)),
                    Err(e) => Notice::bad(format!("{email} keeps the role: {}", e.message)),
                });
            });
        })
    };
    let onremove = {
        let (id, email, ondone) = (m.user_id, m.email.clone(), ondone.clone());
        Callback::from(move |_: MouseEvent| {
            let (email, ondone) = (email.clone(), ondone.clone());
            wasm_bindgen_futures::spawn_local(async move {
                ondone.emit(match api::remove_member(id).await {
                    Ok(m) => Notice::ok(format!("Removed {}.", m.email)),
                    Err(e) => Notice::bad(format!("{email} not removed: {}", e.message)),
                });
            });
        })
    };
    let ask = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    };
    let cancel = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(false))
    };
    html! {
        <tr data-email={m.email.clone()}>
            <th scope="row">
                <div>{ &m.email }if props.me { <span class="muted">{ " (you)" }</span> }</div>
                if let Some(name) = &m.name { <div class="muted small">{ name }</div> }
            </th>
            <td>
                <Choice class="member-role" label={format!("Role of {}", m.email)} options={role_options()}
                    value={m.role.as_str()} onchange={onrole} />
            </td>
            <td title={time::format_timestamp(&m.added_at)}>
                <div class="nowrap">{ time::format_date(&m.added_at) }</div>
                <div class="muted small">{ format!("by {}", m.added_by) }</div>
            </td>
            <td class="actions">
                if *confirming {
                    <div class="confirm" role="group" aria-label={format!("Remove {}?", m.email)}>
                        <span class="confirm-text">{ if props.me { "Remove yourself?" } else { "Remove? Access ends at once." } }</span>
                        <span>
                            <button type="button" class="btn small danger member-remove-confirm" onclick={onremove}>{ "Remove" }</button>
                            <button type="button" class="btn small" onclick={cancel}>{ "Cancel" }</button>
                        </span>
                    </div>
                } else {
                    <button type="button" class="btn small member-remove" onclick={ask}>{ "Remove" }</button>
                }
            </td>
        </tr>
    }
}

#[function_component(Users)]
pub fn users() -> Html {
    let session = use_context::<Session>();
    let account = use_context::<Account>();
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let notice = use_state(|| None::<Notice>);
    let ondone = {
        let (notice, reload) = (notice.clone(), reload.clone());
        Callback::from(move |n: Notice| {
            notice.set(Some(n));
            reload.set(*reload + 1);
        })
    };
    let (Some(session), Some(account)) = (session, account) else {
        return html! {};
    };
    let me = account.status.user.email.to_lowercase();
    let org = &session.org;
    let list = view_fetch("the members", &data, |list: &MemberList| {
        html! {
            <div class="table-scroll">
                <table class="table members" id="members">
                    <thead><tr>
                        <th scope="col">{ "Member" }</th><th scope="col">{ "Role" }</th>
                        <th scope="col">{ "Added" }</th><th scope="col"></th>
                    </tr></thead>
                    <tbody>
                        // Keyed by the list's generation too: a refused change shows the stored role again.
                        { for list.members.iter().map(|m| html! {
                            <MemberRow key={format!("{}-{}", m.user_id, *reload)} member={m.clone()}
                                me={m.email.to_lowercase() == me} ondone={ondone.clone()} />
                        }) }
                    </tbody>
                </table>
            </div>
        }
    });
    html! {
        <div class="page users">
            <div class="page-head"><div>
                <h1>{ "Settings · Users" }</h1>
                <div class="meta">{ format!("Who may see {} and what each may do. A removed member loses access at once.", org.name) }</div>
            </div></div>
            if let Some(n) = &*notice { <Toast notice={n.clone()} id="users-notice" /> }
            <InviteForm ondone={ondone.clone()} />
            <div class="panel"><h2>{ "Members" }</h2>{ list }</div>
        </div>
    }
}
