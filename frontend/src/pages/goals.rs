//! Goals: a target for a SmartNumber over a quarter or a year, and how far the number
//! is from it. Everyone reads them; admins add one (numbers where higher or lower is
//! better: a range number's green band already is its goal), change its target or
//! remove it. Targets are typed in the number's unit, percentages in percent (15 for
//! 15 %), as on the Thresholds page. The server checks and records every change.
use super::{event_value, period_label};
use crate::api::{self, ApiError};
use crate::components::choice::Choice;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, RoleNote, Toast};
use crate::{time, Session};
use qbr_shared::catalogue::Unit;
use qbr_shared::format;
use qbr_shared::insight::api::{GoalStanding, GoalUpdate, GoalsResponse};
use qbr_shared::insight::goals::amount_text;
use qbr_shared::smartnumbers::{Better, SmartNumberDef, SMARTNUMBERS};
use qbr_shared::Period;
use yew::prelude::*;

async fn load(_reload: u32) -> Result<GoalsResponse, ApiError> {
    api::goals().await
}

/// The numbers that take goals.
fn goal_numbers() -> impl Iterator<Item = &'static SmartNumberDef> {
    SMARTNUMBERS.iter().filter(|d| d.better != Better::Range)
}

/// The unit a target is typed in, for the field's label.
fn unit_hint(unit: Unit) -> &'static str {
    match unit {
        Unit::Pct => " (%)",
        Unit::Usd => " ($)",
        Unit::Hours => " (h)",
        Unit::Count | Unit::Ratio => "",
    }
}

/// Parses a typed target: a number in the unit (percent for percentages).
fn parse_target(unit: Unit, text: &str) -> Result<f64, String> {
    format::parse_input(unit, text)?.ok_or_else(|| "type a target".to_string())
}

/// The periods a goal can be set for: the quarters from a year back to a year ahead of
/// the current one, and the previous, current and next year.
fn period_options(current_quarter: &str) -> Vec<(AttrValue, AttrValue)> {
    let Ok(Period::Quarter(now)) = current_quarter.parse::<Period>() else {
        return Vec::new();
    };
    let first = (0..4).fold(now, |q, _| q.prev());
    let quarters = std::iter::successors(Some(first), |q| Some(q.next())).take(9);
    let mut options: Vec<(AttrValue, AttrValue)> = quarters
        .map(|q| (q.to_string().into(), q.label().into()))
        .collect();
    for y in now.year() - 1..=now.year() + 1 {
        options.push((y.to_string().into(), format!("Year {y}").into()));
    }
    options
}

#[derive(Properties, PartialEq)]
struct AddGoalFormProps {
    current_quarter: AttrValue,
    ondone: Callback<Notice>,
}

/// Add (or replace) a goal: number, period, target.
#[function_component(AddGoalForm)]
fn add_goal_form(props: &AddGoalFormProps) -> Html {
    let first = goal_numbers().next().map_or("", |d| d.key);
    let key = use_state(|| first.to_string());
    let period = use_state(|| props.current_quarter.to_string());
    let target = use_state(String::new);
    let busy = use_state(|| false);
    let def = goal_numbers().find(|d| d.key == *key);
    let unit = def.map_or(Unit::Count, |d| d.unit);
    let onsubmit = {
        let (key, period, target, busy, ondone) = (
            key.clone(),
            period.clone(),
            target.clone(),
            busy.clone(),
            props.ondone.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = match parse_target(unit, &target) {
                Ok(v) => v,
                Err(why) => return ondone.emit(Notice::bad(format!("Target: {why}."))),
            };
            let req = GoalUpdate {
                organization_id: None,
                key: (*key).clone(),
                period: (*period).clone(),
                target: Some(value),
            };
            let (target, busy, ondone) = (target.clone(), busy.clone(), ondone.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                ondone.emit(match api::save_goal(&req).await {
                    Ok(_) => {
                        target.set(String::new());
                        Notice::ok(format!(
                            "Goal set: {} {} for {}.",
                            goal_label(&req.key),
                            format::value(unit, req.target),
                            period_label(&req.period)
                        ))
                    }
                    Err(e) => Notice::bad(format!("Goal not set: {}", e.message)),
                });
                busy.set(false);
            });
        })
    };
    let numbers: Vec<(AttrValue, AttrValue)> = goal_numbers()
        .map(|d| (d.key.into(), d.label.into()))
        .collect();
    let onkey = {
        let key = key.clone();
        Callback::from(move |v: String| key.set(v))
    };
    let onperiod = {
        let period = period.clone();
        Callback::from(move |v: String| period.set(v))
    };
    let ontarget = {
        let target = target.clone();
        Callback::from(move |e: InputEvent| target.set(event_value(&e)))
    };
    let better = def.map_or("", |d| match d.better {
        Better::Higher => "Higher is better: met at or above the target.",
        Better::Lower => "Lower is better: met at or below the target.",
        Better::Range => "",
    });
    html! {
        <form class="panel goal-form" id="goal-form" {onsubmit}>
            <h2>{ "Add a goal" }</h2>
            <label class="field"><span>{ "SmartNumber" }</span>
                <Choice id="goal-key" label="SmartNumber of the goal" options={numbers} value={(*key).clone()} onchange={onkey} />
            </label>
            <label class="field"><span>{ "Period" }</span>
                <Choice id="goal-period" label="Period of the goal" options={period_options(&props.current_quarter)}
                    value={(*period).clone()} onchange={onperiod} />
            </label>
            <label class="field"><span>{ format!("Target{}", unit_hint(unit)) }</span>
                <input id="goal-target" inputmode="decimal" value={(*target).clone()} oninput={ontarget}
                    placeholder={if unit == Unit::Pct { "15" } else { "" }} />
            </label>
            <button type="submit" class="btn primary" id="goal-submit" disabled={*busy}>{ "Set goal" }</button>
            <p class="muted small" style="width:100%;margin:0">{ format!("{better} A goal for a period that already has one replaces it.") }</p>
        </form>
    }
}

/// "Net Profit %" (the catalogue label without its explanation).
fn goal_label(key: &str) -> String {
    qbr_shared::smartnumbers::smartnumber_def(key).map_or_else(
        || key.to_string(),
        |d| qbr_shared::insight::short_label(d).to_string(),
    )
}

#[derive(Properties, PartialEq)]
struct GoalRowProps {
    goal: GoalStanding,
    editable: bool,
    ondone: Callback<Notice>,
}

/// One goal: number, period, target (editable), value, progress, who set it.
#[function_component(GoalRow)]
fn goal_row(props: &GoalRowProps) -> Html {
    let g = &props.goal;
    let editing = use_state(|| None::<String>);
    let confirming = use_state(|| false);
    let send = {
        let (key, period, ondone) = (g.key.clone(), g.period.clone(), props.ondone.clone());
        let label = g.label.clone();
        move |target: Option<f64>| {
            let req = GoalUpdate {
                organization_id: None,
                key: key.clone(),
                period: period.clone(),
                target,
            };
            let (ondone, label) = (ondone.clone(), label.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let what = match req.target {
                    Some(_) => "changed",
                    None => "removed",
                };
                ondone.emit(match api::save_goal(&req).await {
                    Ok(_) => Notice::ok(format!(
                        "Goal for {label} ({}) {what}.",
                        period_label(&req.period)
                    )),
                    Err(e) => Notice::bad(format!("Goal not {what}: {}", e.message)),
                });
            });
        }
    };
    let unit = g.unit;
    let onsave = {
        let (editing, send, ondone) = (editing.clone(), send.clone(), props.ondone.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(text) = &*editing else { return };
            match parse_target(unit, text) {
                Ok(v) => send(Some(v)),
                Err(why) => ondone.emit(Notice::bad(format!("Target: {why}."))),
            }
        })
    };
    let onremove = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send(None))
    };
    let set = |s: &UseStateHandle<bool>, v: bool| {
        let s = s.clone();
        Callback::from(move |_: MouseEvent| s.set(v))
    };
    let start_edit = {
        let (editing, text) = (editing.clone(), format::input_text(unit, g.target));
        Callback::from(move |_: MouseEvent| editing.set(Some(text.clone())))
    };
    let stop_edit = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(None))
    };
    let onedit = {
        let editing = editing.clone();
        Callback::from(move |e: InputEvent| editing.set(Some(event_value(&e))))
    };
    let (status_class, status) = match &g.progress {
        Some(p) if p.met => ("met", "Met".to_string()),
        Some(p) => ("short", format!("{} to go", amount_text(unit, p.gap))),
        None => ("none", "No value yet".to_string()),
    };
    let form_id = format!("goal-edit-{}-{}", g.key, g.period);
    html! {
        <tr data-key={g.key.clone()} data-period={g.period.clone()}>
            <th scope="row">{ &g.label }</th>
            <td class="nowrap">{ period_label(&g.period) }</td>
            <td class="num">
                if let Some(text) = &*editing {
                    <form id={form_id.clone()} onsubmit={onsave}>
                        <input class="goal-input" value={text.clone()} oninput={onedit} inputmode="decimal"
                            aria-label={format!("Target of {}{}", g.label, unit_hint(unit))} />
                    </form>
                } else {
                    { format::value(unit, Some(g.target)) }
                }
            </td>
            <td class="num">{ format::value(unit, g.value) }</td>
            <td class="progress">
                <div class={classes!("goal-status", status_class)}>{ status }</div>
                if let Some(share) = g.progress.as_ref().and_then(|p| p.share) {
                    <span class="goal-track" title={format!("{:.0} % of the way from {}", share * 100.0, format::value(unit, g.baseline))}>
                        <span class="goal-fill" style={format!("width:{:.0}%", share * 100.0)}></span>
                    </span>
                }
                if let Some(s) = &g.sentence { <div class="sentence">{ s }</div> }
            </td>
            <td title={time::format_timestamp(&g.set_at)}>
                <div class="nowrap">{ time::format_date(&g.set_at) }</div>
                <div class="muted small">{ format!("by {}", g.set_by) }</div>
            </td>
            <td class="actions">
                if props.editable {
                    if editing.is_some() {
                        <button type="submit" form={form_id} class="btn small primary goal-save">{ "Save" }</button>
                        <button type="button" class="btn small" onclick={stop_edit}>{ "Cancel" }</button>
                    } else if *confirming {
                        <div class="confirm" role="group" aria-label={format!("Remove the goal for {}?", g.label)}>
                            <span class="confirm-text">{ "Remove this goal?" }</span>
                            <span>
                                <button type="button" class="btn small danger goal-remove-confirm" onclick={onremove}>{ "Remove" }</button>
                                <button type="button" class="btn small" onclick={set(&confirming, false)}>{ "Cancel" }</button>
                            </span>
                        </div>
                    } else {
                        <button type="button" class="btn small goal-change" onclick={start_edit}>{ "Change" }</button>
                        <button type="button" class="btn small goal-remove" onclick={set(&confirming, true)}>{ "Remove" }</button>
                    }
                }
            </td>
        </tr>
    }
}

#[function_component(Goals)]
pub fn goals() -> Html {
    let session = use_context::<Session>();
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let notice = use_state(|| None::<Notice>);
    let ondone = {
        let (notice, reload) = (notice.clone(), reload.clone());
        Callback::from(move |n: Notice| {
            notice.set(Some(n));
            reload.set(*reload + 1);
        })
    };
    let Some(session) = session else {
        return html! {};
    };
    let editable = session.may_write(api::GOALS);
    let list = view_fetch("the goals", &data, |list: &GoalsResponse| {
        if list.goals.is_empty() {
            return html! { <div class="empty" id="goals-empty">{ "No goals yet." }</div> };
        }
        html! {
            <div class="table-scroll">
                <table class="table goals-table" id="goals">
                    <thead><tr>
                        <th scope="col">{ "SmartNumber" }</th><th scope="col">{ "Period" }</th>
                        <th scope="col" class="num">{ "Goal" }</th><th scope="col" class="num">{ "Value" }</th>
                        <th scope="col">{ "Progress" }</th><th scope="col">{ "Set" }</th><th scope="col"></th>
                    </tr></thead>
                    <tbody>
                        // Keyed by the list's generation too: after a save the row shows what is stored.
                        { for list.goals.iter().map(|g| html! {
                            <GoalRow key={format!("{}-{}-{}", g.key, g.period, *reload)} goal={g.clone()}
                                {editable} ondone={ondone.clone()} />
                        }) }
                    </tbody>
                </table>
            </div>
        }
    });
    html! {
        <div class="page goals-page">
            <div class="page-head"><div>
                <h1>{ "Goals" }</h1>
                <div class="meta">{ "Targets for SmartNumbers over a quarter or a year. The dashboard's cards show the goal of the period and the way still to go." }</div>
            </div></div>
            if !editable { <RoleNote what="set goals" /> }
            if let Some(n) = &*notice { <Toast notice={n.clone()} id="goals-notice" /> }
            if editable {
                <AddGoalForm current_quarter={session.periods.current_quarter.clone()} ondone={ondone.clone()} />
            }
            <div class="panel"><h2>{ "Goals" }</h2>{ list }</div>
        </div>
    }
}
