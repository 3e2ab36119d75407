//! One metric's row of the sheet, and the italic row of the year before under the
//! totals compared with it.
use super::cell::{CellEvents, ValueCell};
use super::editor::CellEditor;
use super::state::Editing;
use crate::{api, Session};
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::{Aggregation, MetricDef};
use qbr_shared::format;
use qbr_shared::workbook::{self, MONTH_HEADERS};
use std::collections::HashMap;
use yew::prelude::*;

/// Whether a person may type this row's values (not derived; collected values stay
/// read-only in the table).
fn editable(def: &MetricDef) -> bool {
    !def.is_derived() && def.aggregation != Aggregation::Recompute
}

/// A row's yearly total as shown (empty for rows without one).
fn total_text(def: &MetricDef, values: &[Option<f64>]) -> String {
    workbook::year_total(def, values)
        .map(|x| format::value(def.unit, Some(x)))
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct MetricRowProps {
    pub def: &'static MetricDef,
    pub months: Vec<String>,
    /// One per month: the stored value and where it came from.
    pub values: Vec<Option<f64>>,
    pub sources: Vec<Option<DataSource>>,
    /// This row's values on their way to the server, by month.
    pub pending: HashMap<String, Option<f64>>,
    /// The cell of this row being edited.
    pub editing: Option<Editing>,
    /// Later months can't be typed yet (empty: not known).
    pub current_month: AttrValue,
    pub events: CellEvents,
}

#[function_component(MetricRow)]
pub fn metric_row(props: &MetricRowProps) -> Html {
    let def = props.def;
    let may_type = use_context::<Session>().is_some_and(|s| s.may_write(api::MANUAL_ENTRY));
    let cell = |(i, month): (usize, &String)| {
        let header = MONTH_HEADERS.get(i).copied().unwrap_or_default();
        let stored = props.values.get(i).copied().flatten();
        let source = props.sources.get(i).copied().flatten();
        if let Some(ed) = props.editing.as_ref().filter(|e| e.month == *month) {
            return html! { <CellEditor {def} {header} editing={ed.clone()} {stored} events={props.events.clone()} /> };
        }
        let pending = props.pending.get(month).copied();
        let future = !props.current_month.is_empty() && month.as_str() > &*props.current_month;
        let editable =
            may_type && editable(def) && source != Some(DataSource::Collected) && !future;
        html! {
            <ValueCell {def} {header} month={month.clone()} value={pending.unwrap_or(stored)} {source}
                pending={pending.is_some()} {editable} onedit={props.events.onedit.clone()} />
        }
    };
    let total_row = workbook::is_total_row(def.key);
    html! {
        <tr class={classes!(total_row.then_some("total-row"), def.is_derived().then_some("derived"))} data-key={def.key}>
            <th scope="row" class={classes!("label-col", total_row.then_some("right"))} title={def.description}>{ def.label }</th>
            { for props.months.iter().enumerate().map(cell) }
            <td class="num total">{ total_text(def, &props.values) }</td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
pub struct PrevYearRowProps {
    pub def: &'static MetricDef,
    pub year: Option<i32>,
    pub values: Vec<Option<f64>>,
}

#[function_component(PrevYearRow)]
pub fn prev_year_row(props: &PrevYearRowProps) -> Html {
    let def = props.def;
    html! {
        <tr class="prev-year">
            <th scope="row" class="label-col right"><em>{ props.year.map(|y| y.to_string()).unwrap_or_default() }</em></th>
            { for props.values.iter().map(|v| html! { <td class="num"><em>{ v.map(|x| format::value(def.unit, Some(x))).unwrap_or_default() }</em></td> }) }
            <td class="num total"><em>{ total_text(def, &props.values) }</em></td>
        </tr>
    }
}
