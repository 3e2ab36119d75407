//! How the clients' values add up to the organization's, per metric: "Clients 1,203 +
//! unmatched 2 = organization 1,205 endpoints", and plainly when they do not (a missing
//! link, or values the organization counts that no vendor entity has).
use super::value_text;
use qbr_shared::clients::api::Reconciliation;
use yew::prelude::*;

/// Within rounding.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

fn line(r: &Reconciliation) -> Html {
    let u = r.metric.unit();
    let v = |x: f64| value_text(u, Some(x));
    let what = r.metric.label().to_lowercase();
    let mut sum = format!("Clients {} + unmatched {}", v(r.clients), v(r.unmatched));
    let counted = r.clients + r.unmatched;
    let Some(org) = r.organization else {
        return html! {
            <li class="recon none" data-metric={r.metric.as_str()}>
                <span aria-hidden="true">{ "– " }</span>
                { format!("{sum} {what}; the organization has no value to compare.") }
            </li>
        };
    };
    // Internal entities are the MSP's own: the organization's value may leave them out
    // (devices) or count them (tickets); either way adds up.
    let adds_up = if same(counted, org) {
        true
    } else if r.internal != 0.0 && same(counted + r.internal, org) {
        sum = format!("{sum} + internal {}", v(r.internal));
        true
    } else {
        false
    };
    if adds_up {
        html! {
            <li class="recon ok" data-metric={r.metric.as_str()}>
                <span aria-hidden="true">{ "✓ " }</span>{ format!("{sum} = organization {} {what}", v(org)) }
            </li>
        }
    } else {
        let internal = if r.internal != 0.0 {
            format!(" (internal {} not counted)", v(r.internal))
        } else {
            String::new()
        };
        html! {
            <li class="recon bad" data-metric={r.metric.as_str()}>
                <span aria-hidden="true">{ "✕ " }</span>
                <strong>{ "Does not add up: " }</strong>
                { format!("{sum} = {}{internal}, but the organization has {} {what} (difference {}).",
                    v(counted), v(org), v(org - counted)) }
            </li>
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ReconcileProps {
    pub rows: Vec<Reconciliation>,
}

#[function_component(Reconcile)]
pub fn reconcile(props: &ReconcileProps) -> Html {
    html! {
        <section class="panel" aria-labelledby="recon-title">
            <h2 id="recon-title">{ "Reconciliation with the organization" }</h2>
            <ul class="recon-list" id="reconciliation">
                { for props.rows.iter().map(line) }
            </ul>
        </section>
    }
}
