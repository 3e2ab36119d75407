//! The page's title, the month selector and the save button.
use crate::pages::{event_value, period_label};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EntryHeadProps {
    /// `YYYY-MM`.
    pub month: String,
    pub months: Vec<String>,
    /// How many fields changed.
    pub changes: usize,
    pub saving: bool,
    /// Whether the user's role may save (else no Save button).
    pub can_save: bool,
    pub onmonth: Callback<String>,
}

#[function_component(EntryHead)]
pub fn entry_head(props: &EntryHeadProps) -> Html {
    let save = if props.saving {
        "Saving…".to_string()
    } else {
        let n = props.changes;
        format!("Save {n} change{}", if n == 1 { "" } else { "s" })
    };
    html! {
        <div class="page-head">
            <div>
                <h1>{ format!("Data entry · {}", period_label(&props.month)) }</h1>
                <div class="meta">{ "Type this month's manual values; blank removes a value. Collected and calculated values can't be typed." }</div>
            </div>
            <div class="head-actions">
                <label class="field inline"><span>{ "Month" }</span>
                    <select id="entry-month" onchange={props.onmonth.reform(|e: Event| event_value(&e))}>
                        { for props.months.iter().map(|m| html! { <option value={m.clone()} selected={*m == props.month}>{ period_label(m) }</option> }) }
                    </select>
                </label>
                if props.can_save {
                    <button type="submit" class="btn primary" id="entry-save" disabled={props.saving}>{ save }</button>
                }
            </div>
        </div>
    }
}
