//! QBR Dashboard SPA: routing, the page layout and the session (who is signed in,
//! the organization's periods, the theme). Pages live in `pages/`, reusable pieces in
//! `components/`, every backend call in `api.rs`.
mod api;
mod components;
mod pages;
mod theme;
mod time;

use components::layout::Layout;
use qbr_shared::api::{AuthUser, PeriodsResponse};
use std::rc::Rc;
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page of the SPA.
#[derive(Clone, Routable, PartialEq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/dashboard/:period")]
    Dashboard { period: String },
    #[at("/numbers/:key/:period")]
    Number { key: String, period: String },
    #[at("/trends")]
    Trends,
    #[at("/review")]
    Review,
    #[at("/entry")]
    Entry,
    #[at("/thresholds")]
    Thresholds,
    #[at("/collection")]
    Collection,
    #[at("/settings")]
    Settings,
    #[at("/settings/quickbooks")]
    QuickBooks,
    #[at("/import")]
    Import,
    #[at("/login")]
    Login,
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// What every page may read: the signed-in user (None without sign-in), the
/// organization's periods, and whether the dark theme is on.
#[derive(Clone, PartialEq)]
pub struct Session {
    pub user: Option<AuthUser>,
    pub periods: Rc<PeriodsResponse>,
    pub dark: bool,
}

impl Session {
    /// The default period of the dashboard: the current quarter when it has data,
    /// else the newest quarter (or month) with data.
    pub fn default_period(&self) -> String {
        let p = &self.periods;
        if p.quarters.contains(&p.current_quarter) {
            p.current_quarter.clone()
        } else {
            p.quarters
                .first()
                .or(p.months.first())
                .cloned()
                .unwrap_or_else(|| p.current_quarter.clone())
        }
    }
}

fn switch(route: Route) -> Html {
    use pages::*;
    match route {
        Route::Login => return html! { <login::Login /> },
        Route::NotFound => {
            return html! { <Layout><div class="empty"><h1>{ "Page not found" }</h1><Link<Route> to={Route::Home}>{ "Back to the dashboard" }</Link<Route>></div></Layout> }
        }
        _ => {}
    }
    let page = match route {
        Route::Home => html! { <dashboard::Dashboard period={None::<String>} /> },
        Route::Dashboard { period } => html! { <dashboard::Dashboard period={Some(period)} /> },
        Route::Number { key, period } => html! { <drilldown::Drilldown number={key} {period} /> },
        Route::Trends => html! { <trends::Trends /> },
        Route::Review => html! { <review::Review /> },
        Route::Entry => html! { <entry::Entry /> },
        Route::Thresholds => html! { <thresholds::Thresholds /> },
        Route::Collection => html! { <collection::Collection /> },
        Route::Settings => html! { <settings::Settings /> },
        Route::QuickBooks => html! { <quickbooks::QuickBooks /> },
        Route::Import => html! { <import::Import /> },
        Route::Login | Route::NotFound => html! {},
    };
    html! { <Layout>{ page }</Layout> }
}

#[function_component(App)]
fn app() -> Html {
    html! {
        <BrowserRouter>
            <Switch<Route> render={switch} />
        </BrowserRouter>
    }
}

fn main() {
    theme::apply(theme::is_dark());
    // Where the API is must be known before the first page asks it anything.
    wasm_bindgen_futures::spawn_local(async {
        api::load_config().await;
        yew::Renderer::<App>::new().render();
    });
}
