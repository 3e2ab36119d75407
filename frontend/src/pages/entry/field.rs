//! One metric of the month: an input with its unit, notes and what is stored, or, for
//! collected and calculated values, the value read-only.
use super::state::Field;
use crate::pages::event_value;
use crate::time;
use qbr_shared::api::MetricValue;
use qbr_shared::catalogue::{MetricDef, Unit};
use qbr_shared::format;
use yew::prelude::*;

/// Where the stored value came from, who entered it and when ("no value" without one).
fn stored_meta(stored: Option<&MetricValue>) -> String {
    stored.map_or_else(
        || "no value".into(),
        |v| {
            format!(
                "{} · {} · {}",
                v.data_source.as_str(),
                v.entered_by.as_deref().unwrap_or("system"),
                time::format_timestamp(&v.updated_at)
            )
        },
    )
}

/// The sign shown after a field of this unit.
fn unit_hint(unit: Unit) -> &'static str {
    match unit {
        Unit::Usd => "$",
        Unit::Hours => "h",
        Unit::Pct => "%",
        Unit::Count | Unit::Ratio => "",
    }
}

#[derive(Properties, PartialEq)]
pub struct MetricFieldProps {
    pub def: &'static MetricDef,
    pub stored: Option<MetricValue>,
    /// What was typed, when the field changed.
    pub edit: Option<Field>,
    /// Why the typed text is not a value of the metric.
    pub error: Option<String>,
    pub onchange: Callback<Field>,
}

#[function_component(MetricField)]
pub fn metric_field(props: &MetricFieldProps) -> Html {
    let def = props.def;
    let stored = props.stored.as_ref();
    // Until changed, the field shows what is stored.
    let field = props.edit.clone().unwrap_or_else(|| Field {
        text: stored
            .and_then(|v| v.value)
            .map(|x| format::input_text(def.unit, x))
            .unwrap_or_default(),
        notes: stored.and_then(|v| v.notes.clone()).unwrap_or_default(),
    });
    let oninput = {
        let field = field.clone();
        props.onchange.reform(move |e: InputEvent| Field {
            text: event_value(&e),
            ..field.clone()
        })
    };
    let onnotes = {
        let field = field.clone();
        props.onchange.reform(move |e: InputEvent| Field {
            notes: event_value(&e),
            ..field.clone()
        })
    };
    let id = format!("f-{}", def.key);
    let err = props.error.clone();
    html! {
        <div class={classes!("form-row", props.edit.is_some().then_some("changed"), err.is_some().then_some("invalid"))}>
            <label for={id.clone()} title={def.description}>{ def.label }</label>
            <div class="input-unit">
                <input id={id.clone()} inputmode="decimal" value={field.text} {oninput} aria-invalid={err.is_some().to_string()} aria-describedby={format!("{id}-msg")} />
                <span class="unit" aria-hidden="true">{ unit_hint(def.unit) }</span>
            </div>
            <input class="notes" placeholder="Notes" aria-label={format!("Notes for {}", def.label)} value={field.notes} oninput={onnotes} />
            <span id={format!("{id}-msg")} class={classes!("small", if err.is_some() { "error-text" } else { "muted" })}>{ err.unwrap_or_else(|| stored_meta(stored)) }</span>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReadOnlyFieldProps {
    pub def: &'static MetricDef,
    pub stored: Option<MetricValue>,
    /// `collected` or `calculated`.
    pub why: &'static str,
}

#[function_component(ReadOnlyField)]
pub fn read_only_field(props: &ReadOnlyFieldProps) -> Html {
    let (def, stored, why) = (props.def, props.stored.as_ref(), props.why);
    let id = format!("f-{}", def.key);
    let value = stored
        .and_then(|v| v.value)
        .map_or_else(|| "—".into(), |x| format::value(def.unit, Some(x)));
    html! {
        <div class="form-row readonly">
            <label for={id.clone()}>{ def.label }</label>
            <input {id} {value} readonly=true />
            <span class={classes!("src", why)}>{ why }</span>
            <span class="muted small">{ stored_meta(stored) }</span>
        </div>
    }
}
