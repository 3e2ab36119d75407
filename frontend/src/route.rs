//! Every page's address. A page of an organization's data lives under `/o/{slug}/`
//! (`/o/acme/dashboard/2025-Q1`): the URL says which organization, so a link or a
//! bookmark shows the same data to whoever may see it. The addresses from before
//! organizations (`/dashboard/2025-Q1`, `/review`, `/`) are the same paths without
//! `/o/{slug}`; `pages::not_found` sends them on with [`Route::page_in`].
use yew_router::prelude::*;

#[derive(Clone, Routable, PartialEq, Debug)]
pub enum Route {
    #[at("/o/:org")]
    Home { org: String },
    #[at("/o/:org/dashboard/:period")]
    Dashboard { org: String, period: String },
    #[at("/o/:org/numbers/:key/:period")]
    Number {
        org: String,
        key: String,
        period: String,
    },
    #[at("/o/:org/trends")]
    Trends { org: String },
    #[at("/o/:org/review")]
    Review { org: String },
    #[at("/o/:org/entry")]
    Entry { org: String },
    #[at("/o/:org/thresholds")]
    Thresholds { org: String },
    #[at("/o/:org/goals")]
    Goals { org: String },
    #[at("/o/:org/collection")]
    Collection { org: String },
    #[at("/o/:org/settings")]
    Settings { org: String },
    #[at("/o/:org/settings/api-keys")]
    ApiKeys { org: String },
    #[at("/o/:org/settings/quickbooks")]
    QuickBooks { org: String },
    #[at("/o/:org/settings/notifications")]
    Notifications { org: String },
    #[at("/o/:org/settings/report-delivery")]
    ReportDelivery { org: String },
    #[at("/o/:org/users")]
    Users { org: String },
    #[at("/o/:org/import")]
    Import { org: String },
    #[at("/o/:org/clients")]
    Clients { org: String },
    /// Before `Client`: "matching" is no client id.
    #[at("/o/:org/clients/matching")]
    Matching { org: String },
    #[at("/o/:org/clients/:id")]
    Client { org: String, id: String },
    /// Every organization of the server (platform administrators).
    #[at("/admin/organizations")]
    Organizations,
    #[at("/login")]
    Login,
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// The slug of the organization the page shows, if it shows one.
    pub fn org(&self) -> Option<&str> {
        match self {
            Route::Home { org }
            | Route::Dashboard { org, .. }
            | Route::Number { org, .. }
            | Route::Trends { org }
            | Route::Review { org }
            | Route::Entry { org }
            | Route::Thresholds { org }
            | Route::Goals { org }
            | Route::Collection { org }
            | Route::Settings { org }
            | Route::ApiKeys { org }
            | Route::QuickBooks { org }
            | Route::Notifications { org }
            | Route::ReportDelivery { org }
            | Route::Users { org }
            | Route::Import { org }
            | Route::Clients { org }
            | Route::Matching { org }
            | Route::Client { org, .. } => Some(org),
            Route::Organizations | Route::Login | Route::NotFound => None,
        }
    }

    /// The page at `page_path` (`/trends`, `/dashboard/2025-Q1`, `""` for the
    /// dashboard) in organization `slug`; [`Route::NotFound`] for no page.
    pub fn page_in(slug: &str, page_path: &str) -> Route {
        let path = format!("/o/{}{page_path}", js_sys::encode_uri_component(slug));
        Route::recognize(&path).unwrap_or(Route::NotFound)
    }

    /// The same page in organization `slug` (the organization switcher); a page of no
    /// organization becomes that organization's dashboard.
    pub fn in_org(&self, slug: &str) -> Route {
        let path = self.to_path();
        // `/o/{org}/trends` → `/trends`; `/o/{org}` → ``.
        let page = match (self.org(), path.strip_prefix("/o/")) {
            (Some(_), Some(rest)) => rest.find('/').map_or("", |i| &rest[i..]),
            _ => "",
        };
        Route::page_in(slug, page)
    }
}
