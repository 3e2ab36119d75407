//! The cell being edited: an input that saves on Enter or when left, and cancels on
//! Escape; a refused text stays, with why under it.
use super::cell::{cell_id, CellEvents};
use super::state::Editing;
use crate::pages::event_value;
use qbr_shared::catalogue::MetricDef;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CellEditorProps {
    pub def: &'static MetricDef,
    /// The month's column header ("Jan"), for screen readers.
    pub header: &'static str,
    pub editing: Editing,
    /// The stored value, to tell an unchanged one.
    pub stored: Option<f64>,
    pub events: CellEvents,
}

#[function_component(CellEditor)]
pub fn cell_editor(props: &CellEditorProps) -> Html {
    let (ed, stored) = (&props.editing, props.stored);
    let onkeydown = {
        let (onsave, oncancel) = (props.events.onsave.clone(), props.events.oncancel.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                onsave.emit(stored);
            }
            "Escape" => oncancel.emit(()),
            _ => {}
        })
    };
    let oninput = props.events.ontype.reform(|e: InputEvent| event_value(&e));
    let onblur = props.events.onsave.reform(move |_: FocusEvent| stored);
    let invalid = ed.error.is_some();
    html! {
        <td class="num editing">
            <input id={cell_id(ed.key, &ed.month)} class={classes!("cell-input", invalid.then_some("invalid"))} value={ed.text.clone()}
                aria-label={format!("{} {}", props.def.label, props.header)} aria-invalid={invalid.to_string()}
                {onkeydown} {oninput} {onblur} autofocus=true />
            if let Some(err) = &ed.error { <div class="cell-error" role="alert">{ err }</div> }
        </td>
    }
}
