//! A status as colour, icon and text (colour is never the only signal).
use qbr_shared::thresholds::Status;
use yew::prelude::*;

pub fn class(s: Status) -> &'static str {
    match s {
        Status::Green => "green",
        Status::Yellow => "yellow",
        Status::Red => "red",
        Status::None => "none",
    }
}

pub fn icon(s: Status) -> &'static str {
    match s {
        Status::Green => "✓",
        Status::Yellow => "!",
        Status::Red => "✕",
        Status::None => "–",
    }
}

pub fn text(s: Status) -> &'static str {
    match s {
        Status::Green => "On target",
        Status::Yellow => "Watch",
        Status::Red => "Off target",
        Status::None => "No status",
    }
}

#[derive(Properties, PartialEq)]
pub struct PillProps {
    pub status: Status,
}

/// A small status pill: "✓ On target".
#[function_component(StatusPill)]
pub fn status_pill(props: &PillProps) -> Html {
    let s = props.status;
    html! {
        <span class={classes!("pill", class(s))} data-status={s.label()}>
            <span class="pill-icon" aria-hidden="true">{ icon(s) }</span>{ text(s) }
        </span>
    }
}
