//! The Monthly Business Review table: the owners' sheet for one year, with the previous
//! year's totals in italics, and manual cells editable in place (validated, saved
//! through the manual-entry API, undone visibly on error).
//!
//! As in Yew's todomvc example, `state` holds what the page remembers and changes only
//! through its `Action`s; the components (`head`, `table` → `row` → `cell`/`editor`)
//! show it and report what the user does through `on…` callbacks.
mod cell;
mod editor;
mod head;
mod row;
mod state;
mod table;

use super::{on, period_label};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{RoleNote, Toast};
use crate::Session;
use cell::CellEvents;
use head::ReviewHead;
use qbr_shared::api::{ManualEntryRequest, ManualMetricInput};
use qbr_shared::catalogue::metric_def;
use qbr_shared::format;
use state::{Action, Editing, State};
use std::rc::Rc;
use table::{ReviewTable, Sheet};
use yew::prelude::*;

async fn load((year, _reload): (i32, u32)) -> Result<Rc<Sheet>, ApiError> {
    let this = api::range(&format!("{year}-01"), &format!("{year}-12")).await?;
    let prev = api::range(&format!("{}-01", year - 1), &format!("{}-12", year - 1))
        .await
        .ok();
    Ok(Rc::new(Sheet { this, prev }))
}

/// Checks an edited cell's text against its metric, and sends a changed value.
fn save(dispatcher: UseReducerDispatcher<State>, ed: Editing, stored: Option<f64>) {
    let Some(def) = metric_def(ed.key) else {
        return;
    };
    let value = match format::parse_input(def.unit, &ed.text) {
        Err(why) => return dispatcher.dispatch(Action::Reject(why)),
        Ok(v) if v == stored => return dispatcher.dispatch(Action::Cancel),
        Ok(v) => v,
    };
    let cell = (ed.key, ed.month.clone());
    dispatcher.dispatch(Action::Saving {
        cell: cell.clone(),
        value,
    });
    let label = format!("{} · {}", def.label, period_label(&ed.month));
    let req = ManualEntryRequest {
        period: ed.month,
        organization_id: None,
        metrics: vec![ManualMetricInput {
            metric_name: ed.key.to_string(),
            metric_value: value,
            notes: None,
        }],
    };
    wasm_bindgen_futures::spawn_local(async move {
        dispatcher.dispatch(match api::save_manual(&req).await {
            Ok(_) => Action::Saved { cell, label },
            Err(e) => Action::Failed {
                cell,
                label,
                message: e.message,
            },
        });
    });
}

#[function_component(Review)]
pub fn review() -> Html {
    let session = use_context::<Session>();
    let may_type = session
        .as_ref()
        .is_some_and(|s| s.may_write(api::MANUAL_ENTRY));
    let periods = session.map(|s| s.periods);
    let default_year = periods
        .as_ref()
        .and_then(|p| p.years.first().and_then(|y| y.parse().ok()))
        .unwrap_or(2025);
    let state = use_reducer(|| State::new(default_year));
    let data = use_fetch((state.year, state.reload), load);
    let (years, quarters, current_month) = periods
        .map(|p| (p.years.clone(), p.quarters.clone(), p.current_month.clone()))
        .unwrap_or_default();

    let events = CellEvents {
        onedit: on(&state, Action::Edit),
        ontype: on(&state, Action::Type),
        oncancel: on(&state, |()| Action::Cancel),
        onsave: {
            let state = state.clone();
            Callback::from(move |stored| {
                // Nothing to do once saved or cancelled (Enter, then the input's blur).
                if let Some(ed) = state.editing.clone() {
                    save(state.dispatcher(), ed, stored);
                }
            })
        },
    };
    let table = view_fetch("the Monthly Business Review", &data, |sheet| {
        html! {
            <ReviewTable sheet={sheet.clone()} editing={state.editing.clone()} pending={state.pending.clone()}
                current_month={current_month.clone()} {events} />
        }
    });

    html! {
        <div class="page review-page">
            <ReviewHead year={state.year} {years} quarter={state.shown_quarter(&quarters)}
                onyear={on(&state, Action::Year)} onquarter={on(&state, Action::Quarter)} />
            if let Some(notice) = &state.notice {
                <Toast notice={notice.clone()} id="review-notice" />
            }
            if !may_type { <RoleNote what="edit values" /> }
            <div class="legend-note small muted">
                <span class="src-key manual">{ if may_type { "manual (click to edit)" } else { "manual" } }</span>
                <span class="src-key collected">{ "collected (read-only)" }</span>
                <span class="src-key imported">{ "imported" }</span>
                <span class="src-key calculated">{ "calculated (grey, read-only)" }</span>
            </div>
            { table }
        </div>
    }
}
