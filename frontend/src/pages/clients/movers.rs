//! "Top movers": the clients whose number changed most since the previous period
//! (from each row's `previous`), better or worse, so a QBR starts with what moved.
use super::{change_text, improved, number_value, value_text};
use crate::Route;
use qbr_shared::clients::api::ClientRow;
use qbr_shared::clients::ClientNumber;
use yew::prelude::*;
use yew_router::prelude::*;

const SHOWN: usize = 5;

/// The rows with a value now and before, the largest change first.
fn movers(rows: &[ClientRow], number: ClientNumber) -> Vec<(&ClientRow, f64, f64)> {
    let mut out: Vec<(&ClientRow, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let n = number_value(&r.numbers, number)?;
            Some((r, n.value?, n.previous?))
        })
        .filter(|(_, now, before)| now != before)
        .collect();
    out.sort_by(|a, b| (b.1 - b.2).abs().total_cmp(&(a.1 - a.2).abs()));
    out.truncate(SHOWN);
    out
}

#[derive(Properties, PartialEq)]
pub struct TopMoversProps {
    pub rows: Vec<ClientRow>,
    pub number: ClientNumber,
    pub org: String,
}

#[function_component(TopMovers)]
pub fn top_movers(props: &TopMoversProps) -> Html {
    let n = props.number;
    let list = movers(&props.rows, n);
    html! {
        <section class="panel" aria-labelledby="movers-title">
            <h2 id="movers-title">{ format!("Top movers · {}", super::short_label(n)) }</h2>
            if list.is_empty() {
                <div class="muted" id="no-movers">{ "No client's value changed since the previous period (or there is none to compare)." }</div>
            } else {
                <ol class="movers" id="top-movers">
                { for list.into_iter().map(|(r, now, before)| {
                    let delta = now - before;
                    let good = improved(n, delta);
                    html! {
                        <li data-client={r.client_id.to_string()}>
                            <Link<Route> to={Route::Client { org: props.org.clone(), id: r.client_id.to_string() }}>{ &r.name }</Link<Route>>
                            <span class="muted">{ format!(" {} → {} ", value_text(n.unit(), Some(before)), value_text(n.unit(), Some(now))) }</span>
                            <span class={classes!("move", if good { "better" } else { "worse" })}>
                                <span aria-hidden="true">{ if delta > 0.0 { "▲ " } else { "▼ " } }</span>
                                { format!("{} ({})", change_text(n.unit(), delta), if good { "better" } else { "worse" }) }
                            </span>
                        </li>
                    }
                }) }
                </ol>
            }
        </section>
    }
}
