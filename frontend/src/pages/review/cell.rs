//! A cell of the sheet as read: its value, and for manual cells a button that starts
//! editing it.
use super::state::Editing;
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::MetricDef;
use qbr_shared::format;
use yew::prelude::*;

/// What a cell may ask of the page.
#[derive(Clone, PartialEq)]
pub struct CellEvents {
    pub onedit: Callback<Editing>,
    pub ontype: Callback<String>,
    pub oncancel: Callback<()>,
    /// With the stored value, to tell an unchanged one.
    pub onsave: Callback<Option<f64>>,
}

/// The id of a cell's button, input or `<td>` (`cell-new_mrr-2025-03`).
pub fn cell_id(key: &str, month: &str) -> String {
    format!("cell-{key}-{month}")
}

#[derive(Properties, PartialEq)]
pub struct ValueCellProps {
    pub def: &'static MetricDef,
    /// The month's column header ("Jan"), for screen readers.
    pub header: &'static str,
    pub month: String,
    /// The value shown: the stored one, or the one being saved.
    pub value: Option<f64>,
    pub source: Option<DataSource>,
    /// Whether `value` is still being saved.
    pub pending: bool,
    pub editable: bool,
    pub onedit: Callback<Editing>,
}

#[function_component(ValueCell)]
pub fn value_cell(props: &ValueCellProps) -> Html {
    let def = props.def;
    let id = cell_id(def.key, &props.month);
    let text = props
        .value
        .map(|x| format::value(def.unit, Some(x)))
        .unwrap_or_default();
    let class = classes!(
        "num",
        props.source.map(DataSource::as_str),
        props.pending.then_some("pending"),
        props.value.is_some_and(|x| x < 0.0).then_some("neg")
    );
    if !props.editable {
        let title = props
            .source
            .map(|s| format!("{} value", s.as_str()))
            .unwrap_or_default();
        return html! { <td {id} {class} {title}>{ text }</td> };
    }
    let onclick = {
        let (onedit, month, value) = (props.onedit.clone(), props.month.clone(), props.value);
        Callback::from(move |_: MouseEvent| {
            onedit.emit(Editing {
                key: def.key,
                month: month.clone(),
                text: value
                    .map(|x| format::input_text(def.unit, x))
                    .unwrap_or_default(),
                error: None,
            })
        })
    };
    let shown = if text.is_empty() { "empty" } else { &text };
    let label = format!("{} {}: {shown} (edit)", def.label, props.header);
    html! {
        <td class={classes!(class, "editable")}>
            <button {id} class="cell-btn" {onclick} aria-label={label}>{ text }</button>
        </td>
    }
}
