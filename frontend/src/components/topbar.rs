//! The top bar: the product and the organization shown (a switcher when the user has
//! more than one, and the user's role there), the pages of that organization the role
//! may use, and the user's corner: Organizations for platform administrators, the
//! theme toggle, logout.
use crate::api;
use crate::components::layout::settings_route;
use crate::components::org_switcher::OrgSwitcher;
use crate::session::may;
use crate::Route;
use qbr_shared::api::{AuthStatus, OrganizationRole};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// A link of the main navigation: its label, its page in an organization, and the API
/// write it exists for (shown only to roles that may make it).
struct NavLink {
    label: &'static str,
    route: fn(&OrganizationRole) -> Route,
    writes: Option<&'static str>,
}

const NAV: [NavLink; 8] = [
    NavLink {
        label: "Dashboard",
        route: |o| Route::Home {
            org: o.slug.clone(),
        },
        writes: None,
    },
    NavLink {
        label: "Trends",
        route: |o| Route::Trends {
            org: o.slug.clone(),
        },
        writes: None,
    },
    NavLink {
        label: "Business Review",
        route: |o| Route::Review {
            org: o.slug.clone(),
        },
        writes: None,
    },
    NavLink {
        label: "Data entry",
        route: |o| Route::Entry {
            org: o.slug.clone(),
        },
        writes: Some(api::MANUAL_ENTRY),
    },
    NavLink {
        label: "Thresholds",
        route: |o| Route::Thresholds {
            org: o.slug.clone(),
        },
        writes: None,
    },
    NavLink {
        label: "Collection",
        route: |o| Route::Collection {
            org: o.slug.clone(),
        },
        writes: None,
    },
    NavLink {
        label: "Import",
        route: |o| Route::Import {
            org: o.slug.clone(),
        },
        writes: Some(api::IMPORT),
    },
    NavLink {
        label: "Settings",
        route: settings_route,
        writes: None,
    },
];

/// The link of [`NAV`] a page is under.
fn nav_label(route: &Route) -> Option<&'static str> {
    Some(match route {
        Route::Home { .. } | Route::Dashboard { .. } | Route::Number { .. } => "Dashboard",
        Route::Trends { .. } => "Trends",
        Route::Review { .. } => "Business Review",
        Route::Entry { .. } => "Data entry",
        Route::Thresholds { .. } => "Thresholds",
        Route::Collection { .. } => "Collection",
        Route::Import { .. } => "Import",
        Route::Settings { .. } | Route::QuickBooks { .. } | Route::Users { .. } => "Settings",
        Route::Organizations | Route::Login | Route::NotFound => return None,
    })
}

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
    let current = route.as_ref().and_then(nav_label);
    let nav = props.org.as_ref().map(|org| {
        html! {
            <nav class="nav" aria-label="Main">
                { for NAV.iter().filter(|l| l.writes.is_none_or(|w| may(org.role, w, true))).map(|l| {
                    let active = current == Some(l.label);
                    html! {
                        <Link<Route> to={(l.route)(org)} classes={classes!("nav-link", active.then_some("active"))}>{ l.label }</Link<Route>>
                    }
                }) }
            </nav>
        }
    });
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
