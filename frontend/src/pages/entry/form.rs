//! The month's metrics as fieldsets, one per category, in catalogue order.
use super::field::{MetricField, ReadOnlyField};
use super::state::Field;
use qbr_shared::api::{DataSource, MonthlyMetricsResponse};
use qbr_shared::catalogue::{Category, MetricDef, METRICS};
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// Why a metric can't be typed: derived ones are calculated, and a collected value
/// stays unless a person replaced it.
fn read_only(def: &MetricDef, stored: Option<DataSource>) -> Option<&'static str> {
    if def.is_derived() {
        Some("calculated")
    } else if def.source.is_collected() && stored == Some(DataSource::Collected) {
        Some("collected")
    } else {
        None
    }
}

#[derive(Properties, PartialEq)]
pub struct EntryFormProps {
    pub stored: Rc<MonthlyMetricsResponse>,
    pub edits: BTreeMap<&'static str, Field>,
    pub errors: BTreeMap<&'static str, String>,
    pub onedit: Callback<(&'static str, Field)>,
    /// Whether the user's role may type values (else every field is disabled).
    pub editable: bool,
}

#[function_component(EntryForm)]
pub fn entry_form(props: &EntryFormProps) -> Html {
    let field = |def: &'static MetricDef| {
        let stored = props
            .stored
            .metrics
            .iter()
            .find(|v| v.metric_name == def.key)
            .cloned();
        if let Some(why) = read_only(def, stored.as_ref().map(|v| v.data_source)) {
            return html! { <ReadOnlyField {def} {stored} {why} /> };
        }
        html! {
            <MetricField {def} {stored} edit={props.edits.get(def.key).cloned()}
                error={props.errors.get(def.key).cloned()}
                onchange={props.onedit.reform(move |f| (def.key, f))} />
        }
    };
    html! {
        <div class="entry-grid">
        { for Category::ALL.iter().map(|cat| html! {
            <fieldset class="panel" disabled={!props.editable}>
                <legend>{ cat.label() }</legend>
                { for METRICS.iter().filter(|d| d.category == *cat).map(field) }
            </fieldset>
        }) }
        </div>
    }
}
