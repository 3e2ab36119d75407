//! QBR Dashboard SPA. For now one page: the SmartNumbers of the default period as
//! status cards (the full SPA with routing, charts and editing builds on this).
mod api;

use qbr_shared::api::{PeriodsResponse, SmartNumber, SmartNumbersResponse};
use qbr_shared::format;
use qbr_shared::smartnumbers::SmartCategory;
use qbr_shared::thresholds::Status;
use yew::prelude::*;

/// A request's progress.
#[derive(Clone, PartialEq)]
enum Fetch<T> {
    Loading,
    Done(T),
    Failed(api::ApiError),
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Green => "green",
        Status::Yellow => "yellow",
        Status::Red => "red",
        Status::None => "none",
    }
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Green => "● On target",
        Status::Yellow => "▲ Watch",
        Status::Red => "■ Off target",
        Status::None => "No threshold",
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    number: SmartNumber,
}

#[function_component(Card)]
fn card(props: &CardProps) -> Html {
    let n = &props.number;
    let class = status_class(n.status);
    html! {
        <div class={classes!("card", class)} data-key={n.key.clone()}>
            <div class="label">{ &n.label }</div>
            <div class="value">{ format::value(n.unit, n.value) }</div>
            if let Some(reason) = &n.null_reason {
                <div class="na">{ format!("N/A — {reason}") }</div>
            } else {
                <span class={classes!("badge", class)}>{ status_text(n.status) }</span>
            }
        </div>
    }
}

#[function_component(App)]
fn app() -> Html {
    let data = use_state(|| Fetch::<(PeriodsResponse, SmartNumbersResponse)>::Loading);
    {
        let data = data.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let result = async {
                    let periods: PeriodsResponse = api::get("/api/qbr/periods").await?;
                    let numbers: SmartNumbersResponse = api::get("/api/qbr/smartnumbers").await?;
                    Ok((periods, numbers))
                }
                .await;
                data.set(match result {
                    Ok(v) => Fetch::Done(v),
                    Err(e) => Fetch::Failed(e),
                });
            });
        });
    }
    let body = match &*data {
        Fetch::Loading => html! { <div class="message">{ "Loading…" }</div> },
        Fetch::Failed(e) => {
            html! { <div class="message">{ format!("Could not load the dashboard: {}", e.message) }</div> }
        }
        Fetch::Done((_, numbers)) => html! {
            <>
            { for SmartCategory::ALL.iter().map(|cat| html! {
                <section>
                    <h2>{ cat.label() }</h2>
                    <div class="cards">
                        { for numbers.smartnumbers.iter().filter(|n| n.category == *cat).map(|n| html! { <Card number={n.clone()} /> }) }
                    </div>
                </section>
            }) }
            </>
        },
    };
    let (org, period) = match &*data {
        Fetch::Done((p, n)) => (p.organization_name.clone(), n.period.clone()),
        _ => (String::new(), String::new()),
    };
    html! {
        <>
            <header>
                <h1>{ "QBR Dashboard" }</h1>
                <span class="org">{ format!("{org} · {period}") }</span>
            </header>
            <main>{ body }</main>
        </>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
