//! A request's progress as state, and how pages show loading and errors alike.
use crate::api::ApiError;
use qbr_shared::ErrorCode;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use yew::prelude::*;

/// A request's progress.
#[derive(Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Done(T),
    Failed(ApiError),
}

impl<T> Fetch<T> {
    pub fn done(&self) -> Option<&T> {
        match self {
            Fetch::Done(v) => Some(v),
            _ => None,
        }
    }
}

/// Runs `f(deps)` whenever `deps` change; a late answer to older deps is dropped.
#[hook]
pub fn use_fetch<T, D, F, Fut>(deps: D, f: F) -> UseStateHandle<Fetch<T>>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let state = use_state(|| Fetch::Loading);
    let generation = use_mut_ref(|| Rc::new(Cell::new(0u32)));
    {
        let state = state.clone();
        let counter = generation.borrow().clone();
        use_effect_with(deps, move |deps| {
            let mine = counter.get().wrapping_add(1);
            counter.set(mine);
            let fut = f(deps.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = fut.await;
                if counter.get() == mine {
                    state.set(match result {
                        Ok(v) => Fetch::Done(v),
                        Err(e) => Fetch::Failed(e),
                    });
                }
            });
        });
    }
    state
}

/// Shows a loading placeholder, an error box, or `ok(value)`.
pub fn view_fetch<T>(what: &str, f: &Fetch<T>, ok: impl FnOnce(&T) -> Html) -> Html {
    match f {
        Fetch::Loading => html! {
            <div class="loading" role="status" aria-live="polite">
                <span class="spinner" aria-hidden="true"></span>{ format!("Loading {what}…") }
            </div>
        },
        Fetch::Failed(e) => error_box(what, e),
        Fetch::Done(v) => ok(v),
    }
}

/// An error as a readable box (no raw codes unless useful).
pub fn error_box(what: &str, e: &ApiError) -> Html {
    let hint = match e.code {
        None => "Check that the server is running, then reload the page.",
        Some(ErrorCode::NoData) => "There is no data for this selection yet.",
        Some(ErrorCode::Unauthenticated) => "Your session ended; sign in again.",
        Some(_) => "Try again; if it keeps failing, the server log has the details.",
    };
    html! {
        <div class="error-box" role="alert">
            <strong>{ format!("Could not load {what}.") }</strong>
            <span>{ format!(" {} ", e.message) }</span>
            <span class="muted">{ hint }</span>
        </div>
    }
}
