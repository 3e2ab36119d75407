//! One SmartNumber as a dashboard card: value, status, change against the previous
//! period (arrow coloured by improvement), or N/A with what is missing.
use crate::components::status::{self, StatusPill};
use crate::{Route, Session};
use qbr_shared::api::SmartNumber;
use qbr_shared::format;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CardProps {
    pub number: SmartNumber,
    pub period: AttrValue,
}

fn change_line(n: &SmartNumber) -> Html {
    let Some(delta) = n.change else {
        let text = if n.value.is_some() && n.previous.value.is_none() {
            format!(
                "No value for {}",
                crate::pages::period_label(&n.previous.period)
            )
        } else {
            String::new()
        };
        return html! { <div class="change neutral">{ text }</div> };
    };
    let (arrow, class, word) = match (delta.partial_cmp(&0.0), n.improved) {
        (Some(std::cmp::Ordering::Equal), _) | (None, _) => ("→", "neutral", "unchanged"),
        (Some(o), improved) => {
            let arrow = if o == std::cmp::Ordering::Greater {
                "▲"
            } else {
                "▼"
            };
            match improved {
                Some(true) => (arrow, "better", "better"),
                Some(false) => (arrow, "worse", "worse"),
                None => (arrow, "neutral", "changed"),
            }
        }
    };
    html! {
        <div class={classes!("change", class)} title={format!("{word} than {}", crate::pages::period_label(&n.previous.period))}>
            <span class="arrow" aria-hidden="true">{ arrow }</span>
            { format!(" {} vs {}", format::change(n.unit, delta), crate::pages::period_label(&n.previous.period)) }
            <span class="sr-only">{ format!(" ({word})") }</span>
        </div>
    }
}

#[function_component(Card)]
pub fn card(props: &CardProps) -> Html {
    let n = &props.number;
    let org = use_context::<Session>()
        .map(|s| s.slug())
        .unwrap_or_default();
    let route = Route::Number {
        org,
        key: n.key.clone(),
        period: props.period.to_string(),
    };
    let value = format::value(n.unit, n.value);
    html! {
        <Link<Route> to={route} classes={classes!("card", status::class(n.status))}>
            <div class="card-inner" data-key={n.key.clone()} data-status={n.status.label()}>
                <div class="card-top">
                    <span class="card-label">{ &n.label }</span>
                    if n.value.is_some() { <StatusPill status={n.status} /> }
                </div>
                <div class={classes!("card-value", n.value.is_none().then_some("na"))}>{ value }</div>
                if let Some(reason) = &n.null_reason {
                    <div class="na-reason">{ format!("N/A — {reason}") }</div>
                } else {
                    { change_line(n) }
                }
            </div>
        </Link<Route>>
    }
}
