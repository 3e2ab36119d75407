//! One module per page of `frontend.md`.
pub mod api_keys;
pub mod clients;
pub mod collect_now;
pub mod collection;
pub mod dashboard;
pub mod drilldown;
pub mod entry;
pub mod goals;
pub mod import;
pub mod login;
pub mod not_found;
pub mod notifications;
pub mod org_logo;
pub mod org_settings;
pub mod organizations;
pub mod quickbooks;
pub mod report_delivery;
pub mod review;
pub mod thresholds;
pub mod trends;
pub mod users;

/// A period's label for people: "Q1 2025", "Jan 2025", "2025".
pub fn period_label(p: &str) -> String {
    p.parse::<qbr_shared::Period>()
        .map(|p| p.label())
        .unwrap_or_else(|_| p.to_string())
}

/// A callback that dispatches to a page's reducer the action made of what a
/// component reports (`on(&state, Action::Year)`).
pub fn on<S, T>(state: &yew::UseReducerHandle<S>, action: fn(T) -> S::Action) -> yew::Callback<T>
where
    S: yew::Reducible + 'static,
    T: 'static,
{
    let dispatcher = state.dispatcher();
    yew::Callback::from(move |v| dispatcher.dispatch(action(v)))
}

/// The value of an `<input>`/`<select>`/`<textarea>` that fired an event.
pub fn event_value(e: &yew::Event) -> String {
    use wasm_bindgen::JsCast;
    let Some(t) = e.target() else {
        return String::new();
    };
    if let Some(i) = t.dyn_ref::<web_sys::HtmlInputElement>() {
        i.value()
    } else if let Some(s) = t.dyn_ref::<web_sys::HtmlSelectElement>() {
        s.value()
    } else if let Some(a) = t.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        a.value()
    } else {
        String::new()
    }
}

/// The `<input>` that fired an event (a file input's files, its value reset).
pub fn input_of(e: &yew::Event) -> Option<web_sys::HtmlInputElement> {
    use wasm_bindgen::JsCast;
    e.target().and_then(|t| t.dyn_into().ok())
}

/// Whether an `<input type=checkbox>` that fired an event is checked.
pub fn event_checked(e: &yew::Event) -> bool {
    use wasm_bindgen::JsCast;
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}
