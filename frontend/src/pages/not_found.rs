//! An address that is no page. One from before organizations (`/`, `/review`,
//! `/dashboard/2025-Q1`: a page's path without `/o/{slug}`) goes on to the same page in
//! the user's default organization, its query kept; anything else is "Page not found".
use crate::api;
use crate::{Account, Route};
use yew::prelude::*;
use yew_router::history::{BrowserHistory, History};
use yew_router::prelude::*;

/// The page an old address stands for, in organization `slug`.
fn moved_to(slug: &str, path: &str) -> Option<Route> {
    if path.starts_with("/o/") {
        return None;
    }
    Some(Route::page_in(slug, path)).filter(|r| *r != Route::NotFound)
}

#[function_component(NotFound)]
pub fn not_found() -> Html {
    let account = use_context::<Account>();
    let location = use_location();
    let default = account.as_ref().and_then(|a| a.default_org()).cloned();
    let (path, query) = location
        .map(|l| (l.path().to_string(), l.query_str().to_string()))
        .unwrap_or_default();
    let base = api::public_path();
    let page_path = path
        .strip_prefix(base.as_str())
        .unwrap_or(&path)
        .to_string();
    let target = default
        .as_ref()
        .and_then(|org| moved_to(&org.slug, &page_path));
    use_effect_with(target.clone(), move |target| {
        if let Some(route) = target {
            // Replaced, not pushed: Back skips the old address.
            BrowserHistory::new().replace(format!("{base}{}{query}", route.to_path()));
        }
    });
    if target.is_some() {
        return html! {};
    }
    html! {
        <div class="empty" id="not-found">
            <h1>{ "Page not found" }</h1>
            if let Some(org) = default {
                <Link<Route> to={Route::Home { org: org.slug }}>{ "Back to the dashboard" }</Link<Route>>
            }
        </div>
    }
}
