//! Data entry: one month's manual metrics as a form grouped by category, with
//! validation, notes, and collected/derived values shown read-only.
//!
//! As in Yew's todomvc example, `state` holds what the page remembers and changes only
//! through its `Action`s; the components (`head`, `form` → `field`) show it and report
//! what the user does through `on…` callbacks.
mod field;
mod form;
mod head;
mod state;

use super::on;
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{RoleNote, Toast};
use crate::Session;
use form::EntryForm;
use head::EntryHead;
use qbr_shared::api::MonthlyMetricsResponse;
use qbr_shared::ErrorCode;
use state::{Action, State};
use std::rc::Rc;
use yew::prelude::*;

async fn load((month, _reload): (String, u32)) -> Result<Rc<MonthlyMetricsResponse>, ApiError> {
    match api::monthly(&month).await {
        Ok(m) => Ok(Rc::new(m)),
        // A month without any value yet: an empty form.
        Err(e) if e.code == Some(ErrorCode::NoData) => Ok(Rc::new(MonthlyMetricsResponse {
            period: month,
            organization_id: 0,
            metrics: vec![],
        })),
        Err(e) => Err(e),
    }
}

/// The months one may type: those with data, and the month in progress.
fn months(session: Option<&Session>) -> Vec<String> {
    session
        .map(|s| {
            let mut m = s.periods.months.clone();
            if !m.contains(&s.periods.current_month) {
                m.insert(0, s.periods.current_month.clone());
            }
            m
        })
        .unwrap_or_default()
}

#[function_component(Entry)]
pub fn entry() -> Html {
    let session = use_context::<Session>();
    let months = months(session.as_ref());
    let can_save = session.is_some_and(|s| s.may_write(api::MANUAL_ENTRY));
    let state = use_reducer(|| State::new(months.first().cloned().unwrap_or_default()));
    let data = use_fetch((state.month.clone(), state.reload), load);

    let onsubmit = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let req = match state.request() {
                Ok(req) => req,
                Err(why) => return state.dispatch(Action::Refuse(why)),
            };
            state.dispatch(Action::Saving);
            let dispatcher = state.dispatcher();
            wasm_bindgen_futures::spawn_local(async move {
                dispatcher.dispatch(match api::save_manual(&req).await {
                    Ok(r) => Action::Saved(r),
                    Err(e) => Action::Failed(e.message),
                });
            });
        })
    };
    let onedit = on(&state, |(key, field)| Action::Edit(key, field));
    let form = view_fetch("the month's values", &data, |m| {
        html! { <EntryForm stored={m.clone()} edits={state.edits.clone()} errors={state.errors()} {onedit} editable={can_save} /> }
    });

    html! {
        <form class="page entry" {onsubmit} novalidate=true>
            <EntryHead month={state.month.clone()} {months} changes={state.edits.len()} saving={state.saving}
                {can_save} onmonth={on(&state, Action::Month)} />
            if !can_save { <RoleNote what="enter data" /> }
            if let Some(notice) = &state.notice { <Toast notice={notice.clone()} /> }
            { form }
        </form>
    }
}
