//! The frame around every signed-in page: the top bar, and what the pages read — the
//! [`Account`] (who is signed in, their organizations) and, on a page of an
//! organization, its [`Session`]. The organization shown is the URL's (`/o/{slug}`);
//! a page of none (Organizations, an old address) shows the one shown last, else the
//! user's default.
use crate::api::{self, ApiError};
use crate::components::fetch::{error_box, use_fetch, Fetch};
use crate::components::nav::SubNav;
use crate::components::topbar::TopBar;
use crate::{theme, Account, Route, Session};
use qbr_shared::api::{AuthStatus, OrganizationRole, PeriodsResponse};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    pub children: Html,
}

async fn load_status(_reload: u32) -> Result<Rc<AuthStatus>, ApiError> {
    match api::auth_status().await? {
        Some(status) => Ok(Rc::new(status)),
        None => {
            api::go_to_login();
            Err(ApiError {
                code: Some(qbr_shared::ErrorCode::Unauthenticated),
                message: "Please sign in.".into(),
            })
        }
    }
}

/// The periods of organization `org` (tagged with it: an answer for the organization
/// shown before is never shown as this one's). Nothing until it is known.
async fn load_periods(org: Option<i32>) -> Result<Option<(i32, Rc<PeriodsResponse>)>, ApiError> {
    match org {
        Some(id) => Ok(Some((id, Rc::new(api::periods().await?)))),
        None => Ok(None),
    }
}

/// The organization a page shows, or why none.
#[derive(Clone, PartialEq)]
enum Shown {
    Org(OrganizationRole),
    /// The URL names an organization the user has no role in.
    NotMember(String),
    /// The user has no organization at all.
    Nothing,
}

fn shown(account: &Account, asked: Option<&str>, last: Option<&str>) -> Shown {
    if let Some(slug) = asked {
        return account
            .org(slug)
            .cloned()
            .map_or_else(|| Shown::NotMember(slug.to_string()), Shown::Org);
    }
    last.and_then(|slug| account.org(slug))
        .or_else(|| account.default_org())
        .cloned()
        .map_or(Shown::Nothing, Shown::Org)
}

fn loading(what: &str) -> Html {
    html! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>{ format!("Loading {what}…") }
        </div>
    }
}

#[function_component(Layout)]
pub fn layout(props: &LayoutProps) -> Html {
    let route = use_route::<Route>();
    let dark = use_state(theme::is_dark);
    let reload = use_state(|| 0u32);
    let status = use_fetch(*reload, load_status);
    // The organization shown last: a page of none still links to it.
    let last = use_mut_ref(|| None::<String>);
    let asked = route.as_ref().and_then(Route::org).map(str::to_string);

    let account = status.done().map(|s| Account {
        status: s.clone(),
        reload: {
            let reload = reload.clone();
            Callback::from(move |()| reload.set(*reload + 1))
        },
    });
    let shown = account
        .as_ref()
        .map(|a| shown(a, asked.as_deref(), last.borrow().as_deref()));
    let org = match &shown {
        Some(Shown::Org(o)) => Some(o.clone()),
        _ => None,
    };
    if let Some(o) = &org {
        *last.borrow_mut() = Some(o.slug.clone());
    }
    // Now, while rendering: the page below renders next and asks for its data
    // right after, for this organization (see `api::set_organization`).
    api::set_organization(org.as_ref().map(|o| o.id));
    let periods = use_fetch(org.as_ref().map(|o| o.id), load_periods);
    {
        // An organization the user is not known to be in may be new (created since
        // the status was read): ask once more.
        let reload = reload.clone();
        let unknown = match &shown {
            Some(Shown::NotMember(slug)) => Some(slug.clone()),
            _ => None,
        };
        use_effect_with(unknown, move |unknown| {
            if unknown.is_some() {
                reload.set(*reload + 1);
            }
        });
    }

    let on_theme = {
        let dark = dark.clone();
        Callback::from(move |()| dark.set(theme::toggle()))
    };
    let page = match (&shown, &*periods) {
        // A page of no organization (Organizations, an old address): the account is enough.
        _ if asked.is_none() => props.children.clone(),
        (Some(Shown::Org(org)), Fetch::Done(Some((id, p)))) if *id == org.id => {
            let session = Session {
                org: org.clone(),
                periods: p.clone(),
                dark: *dark,
            };
            // Keyed by the organization: another one starts its pages afresh (their
            // state, their data).
            html! {
                <ContextProvider<Session> context={session} key={org.slug.clone()}>
                    { props.children.clone() }
                </ContextProvider<Session>>
            }
        }
        (Some(Shown::Org(_)), Fetch::Failed(e)) => error_box("the organization", e),
        (Some(Shown::NotMember(slug)), _) => not_member(slug, account.as_ref()),
        (Some(Shown::Nothing), _) => html! {
            <div class="empty" id="no-organization">
                <h1>{ "No organization yet" }</h1>
                <p>{ "You have no role in any organization of this server. Ask one of its admins to invite you." }</p>
            </div>
        },
        _ => loading("the organization"),
    };
    let body = match (&*status, account) {
        (Fetch::Failed(e), _) => error_box("your organizations", e),
        (_, Some(account)) => html! {
            <ContextProvider<Account> context={account}>{ page }</ContextProvider<Account>>
        },
        _ => loading("your organizations"),
    };
    html! {
        <>
            <a class="skip-link" href="#main">{ "Skip to content" }</a>
            <TopBar status={status.done().cloned()} org={org.clone()} dark={*dark} {on_theme} />
            <main id="main" class="main">
                if let (Some(org), Some(_)) = (&org, &asked) {
                    <SubNav org={org.clone()} />
                }
                { body }
            </main>
        </>
    }
}

/// A URL of an organization the user has no role in (or that does not exist: the
/// same answer, so slugs can't be probed).
fn not_member(slug: &str, account: Option<&Account>) -> Html {
    let orgs = account
        .map(|a| a.status.organizations.clone())
        .unwrap_or_default();
    html! {
        <div class="empty" id="not-member">
            <h1>{ "Not one of your organizations" }</h1>
            <p>{ format!("You have no role in “{slug}”.") }</p>
            if !orgs.is_empty() {
                <p>{ "Yours: " }
                    { for orgs.iter().enumerate().map(|(i, o)| html! {
                        <>
                            if i > 0 { { ", " } }
                            <Link<Route> to={Route::Home { org: o.slug.clone() }}>{ &o.name }</Link<Route>>
                        </>
                    }) }
                </p>
            }
        </div>
    }
}
