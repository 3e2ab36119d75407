//! A `<select>` that always shows the value it is given: the value is set on the
//! element after every change, because `selected` attributes stop counting once a
//! person has picked an option (a refused change, or the browser's Back button, would
//! otherwise leave the old choice showing).
use crate::pages::event_value;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChoiceProps {
    /// `(value, label)`, in order.
    pub options: Vec<(AttrValue, AttrValue)>,
    pub value: AttrValue,
    /// The value picked.
    pub onchange: Callback<String>,
    /// For screen readers (the select has no visible label).
    pub label: AttrValue,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub disabled: bool,
}

#[function_component(Choice)]
pub fn choice(props: &ChoiceProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.value.clone(), move |value| {
            if let Some(select) = node.cast::<web_sys::HtmlSelectElement>() {
                select.set_value(value);
            }
        });
    }
    html! {
        <select ref={node} id={props.id.clone()} class={props.class.clone()} aria-label={props.label.clone()}
            disabled={props.disabled} onchange={props.onchange.reform(|e: Event| event_value(&e))}>
            { for props.options.iter().map(|(value, label)| html! {
                <option value={value.clone()} selected={*value == props.value}>{ label.clone() }</option>
            }) }
        </select>
    }
}
