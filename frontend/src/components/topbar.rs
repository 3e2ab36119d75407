//! The top bar: the product and the organization shown (a switcher when the user has
//! more than one, and the user's role there), the groups of pages of that organization
//! the role may use (`nav`), and the user's corner: Organizations for platform administrators, the
//! theme toggle, logout.
use crate::api;
use crate::components::nav::GroupNav;
use crate::components::org_switcher::OrgSwitcher;
use crate::Route;
use qbr_shared::api::{AuthStatus, OrganizationRole};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TopBarProps {
    /// Who is signed in (`None` while loading).
    pub status: Option<Rc<AuthStatus>>,
    /// The organization shown.
    pub org: Option<OrganizationRole>,
    pub dark: bool,
    pub on_theme: Callback<()>,
}

#[function_component(TopBar)]
pub fn top_bar(props: &TopBarProps) -> Html {
    let route = use_route::<Route>();
    let navigator = use_navigator();
    let on_logout = Callback::from(move |_| {
        let navigator = navigator.clone();
        wasm_bindgen_futures::spawn_local(async move {
            api::logout().await;
            if let Some(n) = navigator {
                n.push(&Route::Login);
            }
        });
    });
    let nav = props
        .org
        .as_ref()
        .map(|org| html! { <GroupNav org={org.clone()} /> });
    let orgs = props
        .status
        .as_ref()
        .map(|s| s.organizations.clone())
        .unwrap_or_default();
    let org_line = match &props.org {
        Some(org) if orgs.len() > 1 => {
            html! { <OrgSwitcher organizations={orgs.clone()} current={org.clone()} /> }
        }
        Some(org) => html! { <span class="org" data-testid="org">{ &org.name }</span> },
        None => html! {},
    };
    let user = props.status.as_ref().map(|s| s.user.clone());
    let platform_admin = props.status.as_ref().is_some_and(|s| s.platform_admin);
    let on_theme = props.on_theme.reform(|_: MouseEvent| ());
    let dark = props.dark;
    html! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true">{ "Q" }</span>
                <div class="brand-text">
                    <span class="product">{ "QBR Dashboard" }</span>
                    <div class="org-line">
                        { org_line }
                        if let Some(org) = &props.org {
                            <span class="role" id="org-role" title={format!("Your role in {}", org.name)}>{ org.role.as_str() }</span>
                        }
                    </div>
                </div>
            </div>
            { nav.unwrap_or_default() }
            <div class="top-actions">
                if platform_admin {
                    <Link<Route> to={Route::Organizations} classes={classes!("nav-link", "organizations-link",
                        (route == Some(Route::Organizations)).then_some("active"))}>{ "Organizations" }</Link<Route>>
                }
                if let Some(u) = &user {
                    <span class="user" title={u.email.clone()}>{ u.name.clone().unwrap_or_else(|| u.email.clone()) }</span>
                }
                <button class="icon-btn" id="theme-toggle" onclick={on_theme}
                    aria-label={if dark { "Switch to light theme" } else { "Switch to dark theme" }}
                    title={if dark { "Light theme" } else { "Dark theme" }}>
                    { if dark { "☀" } else { "☾" } }
                </button>
                if user.is_some() {
                    <button class="btn ghost" onclick={on_logout}>{ "Log out" }</button>
                }
            </div>
        </header>
    }
}
