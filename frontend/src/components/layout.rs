//! The frame around every signed-in page: top bar (product, organization, navigation,
//! user, theme toggle, logout) and the session every page reads.
use crate::api::{self, ApiError};
use crate::components::fetch::{view_fetch, Fetch};
use crate::{theme, Route, Session};
use qbr_shared::api::{AuthUser, PeriodsResponse};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    pub children: Html,
}

async fn load_session() -> Result<(Option<AuthUser>, PeriodsResponse), ApiError> {
    let status = api::auth_status().await?;
    let user = match status {
        // No sign-in on this server (404): proceed.
        None => None,
        Some(None) => {
            api::go_to_login();
            return Err(ApiError {
                code: Some(qbr_shared::ErrorCode::Unauthenticated),
                message: "Please sign in.".into(),
            });
        }
        Some(Some(s)) => Some(s.user),
    };
    Ok((user, api::periods().await?))
}

const NAV: [(&str, Route); 8] = [
    ("Dashboard", Route::Home),
    ("Trends", Route::Trends),
    ("Business Review", Route::Review),
    ("Data entry", Route::Entry),
    ("Thresholds", Route::Thresholds),
    ("Collection", Route::Collection),
    ("Import", Route::Import),
    ("Settings", Route::Settings),
];

#[function_component(Layout)]
pub fn layout(props: &LayoutProps) -> Html {
    let session = use_state(|| Fetch::<(Option<AuthUser>, Rc<PeriodsResponse>)>::Loading);
    let dark = use_state(theme::is_dark);
    let route = use_route::<Route>();
    let navigator = use_navigator();
    {
        let session = session.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                session.set(match load_session().await {
                    Ok((u, p)) => Fetch::Done((u, Rc::new(p))),
                    Err(e) => Fetch::Failed(e),
                });
            });
        });
    }
    let on_theme = {
        let dark = dark.clone();
        Callback::from(move |_| dark.set(theme::toggle()))
    };
    let on_logout = Callback::from(move |_| {
        let navigator = navigator.clone();
        wasm_bindgen_futures::spawn_local(async move {
            api::logout().await;
            if let Some(n) = navigator {
                n.push(&Route::Login);
            }
        });
    });
    let active = |r: &Route| match (&route, r) {
        (Some(Route::Dashboard { .. } | Route::Number { .. } | Route::Home), Route::Home) => true,
        (Some(Route::QuickBooks), Route::Settings) => true,
        (Some(cur), r) => cur == r,
        _ => false,
    };
    let (org, user) = match &*session {
        Fetch::Done((u, p)) => (p.organization_name.clone(), u.clone()),
        _ => (String::new(), None),
    };
    let body = view_fetch("the organization", &session, |(u, p)| {
        let ctx = Session {
            user: u.clone(),
            periods: p.clone(),
            dark: *dark,
        };
        html! {
            <ContextProvider<Session> context={ctx}>{ props.children.clone() }</ContextProvider<Session>>
        }
    });
    html! {
        <>
            <a class="skip-link" href="#main">{ "Skip to content" }</a>
            <header class="topbar">
                <div class="brand">
                    <span class="logo" aria-hidden="true">{ "Q" }</span>
                    <div class="brand-text">
                        <span class="product">{ "QBR Dashboard" }</span>
                        <span class="org" data-testid="org">{ org }</span>
                    </div>
                </div>
                <nav class="nav" aria-label="Main">
                    { for NAV.iter().map(|(label, r)| html! {
                        <Link<Route> to={r.clone()} classes={classes!("nav-link", active(r).then_some("active"))}>{ *label }</Link<Route>>
                    }) }
                </nav>
                <div class="top-actions">
                    if let Some(u) = &user {
                        <span class="user" title={u.email.clone()}>{ u.name.clone().unwrap_or_else(|| u.email.clone()) }</span>
                    }
                    <button class="icon-btn" id="theme-toggle" onclick={on_theme}
                        aria-label={if *dark { "Switch to light theme" } else { "Switch to dark theme" }}
                        title={if *dark { "Light theme" } else { "Dark theme" }}>
                        { if *dark { "☀" } else { "☾" } }
                    </button>
                    if user.is_some() {
                        <button class="btn ghost" onclick={on_logout}>{ "Log out" }</button>
                    }
                </div>
            </header>
            <main id="main" class="main">{ body }</main>
        </>
    }
}

/// The pages under Settings.
const SETTINGS: [(&str, Route); 2] = [
    ("API keys", Route::Settings),
    ("QuickBooks", Route::QuickBooks),
];

#[derive(Properties, PartialEq)]
pub struct SettingsTabsProps {
    /// The page shown.
    pub active: Route,
}

/// The menu of the Settings pages, under the page's title.
#[function_component(SettingsTabs)]
pub fn settings_tabs(props: &SettingsTabsProps) -> Html {
    html! {
        <nav class="tabs" aria-label="Settings">
            { for SETTINGS.iter().map(|(label, r)| {
                let current = *r == props.active;
                html! {
                    <Link<Route> to={r.clone()} classes={classes!("tab", current.then_some("active"))}>
                        <span aria-current={current.then_some("page")}>{ *label }</span>
                    </Link<Route>>
                }
            }) }
        </nav>
    }
}
