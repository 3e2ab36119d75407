//! The clients' unusual months: each client's inputs and numbers far from what is
//! typical for that client (the server's robust score), as a strip like the
//! dashboard's — on the clients' list for every client, on a client's page for it.
use crate::Route;
use qbr_shared::insight::api::{by_client_month, ClientAnomaly};
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct UnusualProps {
    pub anomalies: Vec<ClientAnomaly>,
    /// The organization's slug, for links to the clients' pages; `None` on one client's
    /// page (no client name, no link).
    #[prop_or_default]
    pub org: Option<String>,
    /// The months looked at, in words ("Q3 2026", "the last 12 months").
    pub span: String,
    /// The most shown; the rest are counted.
    #[prop_or(5)]
    pub limit: usize,
}

/// The strip: "◆ Unusual  Acme Dental · Reactive tickets created in Mar 2026: 31, …
/// Also unusual: RHEM, Reactive hours."
#[function_component(ClientUnusual)]
pub fn client_unusual(p: &UnusualProps) -> Html {
    if p.anomalies.is_empty() {
        return html! {
            <div class="alerts ok unusual-none" role="status" id="client-unusual">
                <span aria-hidden="true">{ "✓ " }</span>
                { format!("Nothing unusual in {}.", p.span) }
            </div>
        };
    }
    let groups = by_client_month(&p.anomalies);
    let more = groups.len().saturating_sub(p.limit);
    let count = p.anomalies.len();
    html! {
        <section class="alerts only-unusual client-unusual" id="client-unusual" aria-label="Unusual months">
            <div class="alerts-title">{ format!("{count} unusual value{} in {}", if count == 1 { "" } else { "s" }, p.span) }</div>
            <ul>
                { for groups.iter().take(p.limit).map(|g| {
                    let (c, a) = (g.first, &g.first.anomaly);
                    html! {
                        <li class="alert unusual" data-client={c.client_id.to_string()} data-key={a.key.clone()} data-month={a.month.clone()} title={a.hint()}>
                            <span class="alert-icon" aria-hidden="true">{ "◆" }</span>
                            <span class="tag unusual-tag">{ "Unusual" }</span>
                            <span>
                                if let Some(org) = &p.org {
                                    <Link<Route> to={Route::Client { org: org.clone(), id: c.client_id.to_string() }} classes="client-link">{ &c.client_name }</Link<Route>>
                                    { " · " }
                                }
                                { &a.explanation }
                                if let Some(also) = g.also_text() {
                                    <span class="muted also">{ format!(" {also}") }</span>
                                }
                            </span>
                        </li>
                    }
                }) }
                if more > 0 { <li class="alert more">{ format!("and {more} more client month{}", if more == 1 { "" } else { "s" }) }</li> }
            </ul>
        </section>
    }
}
