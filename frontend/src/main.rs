//! QBR Dashboard SPA: routing (`route.rs`), the page layout and what pages read
//! (`session.rs`: who is signed in, the organization shown, its periods, the theme).
//! Pages live in `pages/`, reusable pieces in `components/`, every backend call in
//! `api.rs`.
mod api;
mod components;
mod pages;
mod route;
mod session;
mod theme;
mod time;

use components::layout::Layout;
pub use route::Route;
pub use session::{Account, Session};
use yew::prelude::*;
use yew_router::prelude::*;

fn switch(route: Route) -> Html {
    use pages::*;
    let page = match route {
        Route::Login => return html! { <login::Login /> },
        Route::NotFound => html! { <not_found::NotFound /> },
        Route::Organizations => html! { <organizations::Organizations /> },
        Route::Home { .. } => html! { <dashboard::Dashboard period={None::<String>} /> },
        Route::Dashboard { period, .. } => {
            html! { <dashboard::Dashboard period={Some(period)} /> }
        }
        Route::Number { key, period, .. } => {
            html! { <drilldown::Drilldown number={key} {period} /> }
        }
        Route::Trends { .. } => html! { <trends::Trends /> },
        Route::Review { .. } => html! { <review::Review /> },
        Route::Entry { .. } => html! { <entry::Entry /> },
        Route::Thresholds { .. } => html! { <thresholds::Thresholds /> },
        Route::Goals { .. } => html! { <goals::Goals /> },
        Route::Collection { .. } => html! { <collection::Collection /> },
        Route::Settings { .. } => html! { <org_settings::OrgSettings /> },
        Route::ApiKeys { .. } => html! { <api_keys::ApiKeys /> },
        Route::QuickBooks { .. } => html! { <quickbooks::QuickBooks /> },
        Route::Notifications { .. } => html! { <notifications::Notifications /> },
        Route::ReportDelivery { .. } => html! { <report_delivery::ReportDelivery /> },
        Route::Users { .. } => html! { <users::Users /> },
        Route::Import { .. } => html! { <import::Import /> },
        Route::Clients { .. } => html! { <clients::list::Clients /> },
        Route::Matching { .. } => html! { <clients::matching::Matching /> },
        Route::Client { id, .. } => html! { <clients::detail::ClientPage {id} /> },
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
