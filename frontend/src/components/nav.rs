//! The navigation: five groups in the top bar (Dashboard, Review, Clients, Data,
//! Settings), and the pages of the group shown as tabs under it. Five links fit a top bar from 768 px
//! up, however many pages a group gains; a page and its group are one table
//! ([`GROUPS`]), and a role sees only the pages it may use (by the server's own rule,
//! `shared::access::required_role`).
use crate::api;
use crate::session::may;
use crate::Route;
use qbr_shared::api::OrganizationRole;
use yew::prelude::*;
use yew_router::prelude::*;

/// A page of a group: its label, its address in an organization, and the API path the
/// role must be able to use for it to show (read, or write with `write`).
pub struct Page {
    pub label: &'static str,
    pub route: fn(String) -> Route,
    pub api: &'static str,
    pub write: bool,
}

/// A group of pages: a link of the top bar.
pub struct Group {
    pub label: &'static str,
    pub pages: &'static [Page],
}

pub const GROUPS: [Group; 5] = [
    Group {
        label: "Dashboard",
        pages: &[Page {
            label: "Dashboard",
            route: |org| Route::Home { org },
            api: api::SMARTNUMBERS,
            write: false,
        }],
    },
    Group {
        label: "Review",
        pages: &[
            Page {
                label: "Business Review",
                route: |org| Route::Review { org },
                api: api::SMARTNUMBERS,
                write: false,
            },
            Page {
                label: "Trends",
                route: |org| Route::Trends { org },
                api: api::SMARTNUMBERS,
                write: false,
            },
        ],
    },
    Group {
        label: "Clients",
        pages: &[
            Page {
                label: "Clients",
                route: |org| Route::Clients { org },
                api: api::CLIENTS,
                write: false,
            },
            // Viewers see the links read only.
            Page {
                label: "Matching",
                route: |org| Route::Matching { org },
                api: api::CLIENTS_MATCHING,
                write: false,
            },
        ],
    },
    Group {
        label: "Data",
        pages: &[
            Page {
                label: "Data entry",
                route: |org| Route::Entry { org },
                api: api::MANUAL_ENTRY,
                write: true,
            },
            Page {
                label: "Import",
                route: |org| Route::Import { org },
                api: api::IMPORT,
                write: true,
            },
            Page {
                label: "Collection",
                route: |org| Route::Collection { org },
                api: api::COLLECTION_RUNS,
                write: false,
            },
            Page {
                label: "Thresholds",
                route: |org| Route::Thresholds { org },
                api: api::THRESHOLDS,
                write: false,
            },
            Page {
                label: "Goals",
                route: |org| Route::Goals { org },
                api: api::GOALS,
                write: false,
            },
        ],
    },
    Group {
        label: "Settings",
        pages: &[
            Page {
                label: "Organization",
                route: |org| Route::Settings { org },
                api: api::SETTINGS,
                write: false,
            },
            Page {
                label: "Users",
                route: |org| Route::Users { org },
                api: api::USERS,
                write: false,
            },
            Page {
                label: "API keys",
                route: |org| Route::ApiKeys { org },
                api: api::API_KEYS,
                write: false,
            },
            Page {
                label: "QuickBooks",
                route: |org| Route::QuickBooks { org },
                api: api::QUICKBOOKS_STATUS,
                write: false,
            },
            Page {
                label: "Notifications",
                route: |org| Route::Notifications { org },
                api: api::NOTIFICATIONS,
                write: false,
            },
            Page {
                label: "Report delivery",
                route: |org| Route::ReportDelivery { org },
                api: api::REPORT_DELIVERY,
                write: false,
            },
        ],
    },
];

/// The pages of `group` that `org`'s role may use, with their addresses.
fn visible(group: &Group, org: &OrganizationRole) -> Vec<(&'static str, Route)> {
    group
        .pages
        .iter()
        .filter(|p| may(org.role, p.api, p.write))
        .map(|p| (p.label, (p.route)(org.slug.clone())))
        .collect()
}

/// The group a page is in (the same page in any organization).
fn group_of(route: &Route) -> Option<&'static Group> {
    let slug = route.org()?;
    let same = |r: &Route| std::mem::discriminant(r) == std::mem::discriminant(route);
    // A drill-down and a dashboard of a period are the Dashboard's.
    if matches!(route, Route::Dashboard { .. } | Route::Number { .. }) {
        return GROUPS.first();
    }
    // A client's page is the Clients list's.
    if matches!(route, Route::Client { .. }) {
        return group_of(&Route::Clients {
            org: slug.to_string(),
        });
    }
    GROUPS
        .iter()
        .find(|g| g.pages.iter().any(|p| same(&(p.route)(slug.to_string()))))
}

#[derive(Properties, PartialEq)]
pub struct NavProps {
    pub org: OrganizationRole,
}

/// The top bar's links: each group the role has a page in, to its first page.
#[function_component(GroupNav)]
pub fn group_nav(props: &NavProps) -> Html {
    let route = use_route::<Route>();
    let current = route.as_ref().and_then(group_of).map(|g| g.label);
    html! {
        <nav class="nav" aria-label="Main">
            { for GROUPS.iter().filter_map(|g| {
                let (_, first) = visible(g, &props.org).into_iter().next()?;
                let active = current == Some(g.label);
                Some(html! {
                    <Link<Route> to={first} classes={classes!("nav-link", active.then_some("active"))}>
                        <span aria-current={active.then_some("true")}>{ g.label }</span>
                    </Link<Route>>
                })
            }) }
        </nav>
    }
}

/// The pages of the group shown, as tabs under the top bar (none for a group of one
/// page).
#[function_component(SubNav)]
pub fn sub_nav(props: &NavProps) -> Html {
    let route = use_route::<Route>();
    let Some(group) = route.as_ref().and_then(group_of) else {
        return html! {};
    };
    let pages = visible(group, &props.org);
    if pages.len() < 2 {
        return html! {};
    }
    html! {
        <nav class="tabs subnav" aria-label={group.label}>
            { for pages.into_iter().map(|(label, to)| {
                let current = route.as_ref() == Some(&to);
                html! {
                    <Link<Route> {to} classes={classes!("tab", current.then_some("active"))}>
                        <span aria-current={current.then_some("page")}>{ label }</span>
                    </Link<Route>>
                }
            }) }
        </nav>
    }
}
