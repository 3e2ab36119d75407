//! Settings › Organization: name, time zone, working hours per technician, the NinjaOne
//! organizations that are not clients, the nightly collection's schedule, and the
//! weights of the health score's five sections. Admins
//! change them (the server checks every field and says what a change meant); other
//! roles read them. Below, the logo for client reports (`org_logo`).
use super::org_logo::OrgLogo;
use super::{event_checked, event_value};
use crate::api::{self, ApiError};
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, RoleNote, Toast};
use crate::Session;
use qbr_shared::api::{CollectionSchedule, OrganizationSettings, SettingsUpdateRequest};
use qbr_shared::insight::health::HealthWeights;
use qbr_shared::smartnumbers::SmartCategory;
use yew::prelude::*;

async fn load(_reload: u32) -> Result<OrganizationSettings, ApiError> {
    api::settings().await
}

/// The form's fields, as typed.
#[derive(Clone, PartialEq, Default)]
struct Draft {
    name: String,
    timezone: String,
    hours: String,
    excluded: String,
    enabled: bool,
    time: String,
    zone: String,
    loaded_cost: String,
    /// The section weights, in `SmartCategory::ALL` order.
    weights: [String; 5],
}

/// Reads the five weights as typed.
fn parse_weights(typed: &[String; 5]) -> Result<HealthWeights, String> {
    let mut w = [0u32; 5];
    for ((slot, text), category) in w.iter_mut().zip(typed).zip(SmartCategory::ALL) {
        *slot = text.trim().parse().map_err(|_| {
            format!(
                "{} weight: '{}' is not a whole number from 0 to 100.",
                category.label(),
                text
            )
        })?;
    }
    let [operations, profit, revenue, leverage, sales] = w;
    let weights = HealthWeights {
        operations,
        profit,
        revenue,
        leverage,
        sales,
    };
    weights
        .validate()
        .map_err(|e| format!("Health weights: {e}."))?;
    Ok(weights)
}

impl Draft {
    fn of(s: &OrganizationSettings) -> Draft {
        Draft {
            name: s.name.clone(),
            timezone: s.timezone.clone(),
            hours: qbr_shared::format::plain_number(s.working_hours_per_tech),
            excluded: s.excluded_device_organizations.join("\n"),
            enabled: s.collection.enabled,
            time: s.collection.time.clone().unwrap_or_default(),
            zone: s.collection.timezone.clone().unwrap_or_default(),
            loaded_cost: s
                .loaded_cost_per_hour
                .map(qbr_shared::format::plain_number)
                .unwrap_or_default(),
            weights: SmartCategory::ALL.map(|c| s.health_weights.get(c).to_string()),
        }
    }

    /// The request, or what is wrong with a field the server can't read at all.
    fn request(&self) -> Result<SettingsUpdateRequest, String> {
        let hours: f64 = self
            .hours
            .trim()
            .parse()
            .map_err(|_| format!("Working hours: '{}' is not a number.", self.hours))?;
        let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        // Empty removes it (the server's 0).
        let loaded_cost: f64 = match self.loaded_cost.trim() {
            "" => 0.0,
            v => v.trim_start_matches('$').parse().map_err(|_| {
                format!(
                    "Loaded cost per hour: '{}' is not a number.",
                    self.loaded_cost
                )
            })?,
        };
        Ok(SettingsUpdateRequest {
            organization_id: None,
            name: Some(self.name.clone()),
            timezone: Some(self.timezone.clone()),
            working_hours_per_tech: Some(hours),
            excluded_device_organizations: Some(
                self.excluded
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            collection: Some(CollectionSchedule {
                enabled: self.enabled,
                time: optional(&self.time),
                timezone: optional(&self.zone),
            }),
            loaded_cost_per_hour: Some(loaded_cost),
            health_weights: Some(parse_weights(&self.weights)?),
        })
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    settings: OrganizationSettings,
    editable: bool,
    onsaved: Callback<Notice>,
}

#[function_component(SettingsForm)]
fn settings_form(props: &FormProps) -> Html {
    let draft = use_state(|| Draft::of(&props.settings));
    let busy = use_state(|| false);
    let field = |set: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            set(&mut d, event_value(&e));
            draft.set(d);
        })
    };
    let on_enabled = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let mut d = (*draft).clone();
            d.enabled = event_checked(&e);
            draft.set(d);
        })
    };
    let onsubmit = {
        let (draft, busy, onsaved) = (draft.clone(), busy.clone(), props.onsaved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let req = match draft.request() {
                Ok(r) => r,
                Err(why) => return onsaved.emit(Notice::bad(why)),
            };
            let (busy, onsaved) = (busy.clone(), onsaved.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                onsaved.emit(match api::update_settings(&req).await {
                    Ok(r) => {
                        let mut text = "Saved.".to_string();
                        if r.recomputed_periods > 0 {
                            text.push_str(&format!(
                                " SmartNumbers of {} periods computed again.",
                                r.recomputed_periods
                            ));
                        }
                        for n in &r.notes {
                            text.push(' ');
                            text.push_str(n);
                        }
                        Notice::ok(text)
                    }
                    Err(e) => Notice::bad(format!("Not saved: {}", e.message)),
                });
                busy.set(false);
            });
        })
    };
    let s = &props.settings;
    let d = &*draft;
    let ro = !props.editable;
    html! {
        <form class="settings-form" id="settings-form" {onsubmit}>
            <div class="panel">
                <h2>{ "Organization" }</h2>
                <div class="form-grid">
                    <label class="field"><span>{ "Name" }</span>
                        <input id="s-name" value={d.name.clone()} oninput={field(|d, v| d.name = v)} readonly={ro} />
                    </label>
                    <label class="field"><span>{ "Time zone (months are cut in it)" }</span>
                        <input id="s-timezone" value={d.timezone.clone()} oninput={field(|d, v| d.timezone = v)} readonly={ro}
                            placeholder="America/Chicago" />
                    </label>
                    <label class="field"><span>{ "Working hours per technician per month" }</span>
                        <input id="s-hours" inputmode="decimal" value={d.hours.clone()} oninput={field(|d, v| d.hours = v)} readonly={ro} />
                    </label>
                    <label class="field"><span>{ "Loaded labour cost per service hour ($; for client margins)" }</span>
                        <input id="s-loaded-cost" inputmode="decimal" value={d.loaded_cost.clone()} oninput={field(|d, v| d.loaded_cost = v)} readonly={ro}
                            placeholder="not set" />
                    </label>
                    <div class="field"><span>{ "Address" }</span><code>{ format!("/o/{}", s.slug) }</code></div>
                </div>
            </div>
            <div class="panel">
                <h2>{ "Devices" }</h2>
                <label class="field"><span>{ "NinjaOne organizations that are not clients (one per line): their devices never count" }</span>
                    <textarea id="s-excluded" rows="5" value={d.excluded.clone()} oninput={field(|d, v| d.excluded = v)} readonly={ro} />
                </label>
            </div>
            <div class="panel">
                <h2>{ "Nightly collection" }</h2>
                <div class="form-grid">
                    <label class="field check-row">
                        <input type="checkbox" id="s-enabled" checked={d.enabled} onchange={on_enabled} disabled={ro} />
                        <span>{ "Collect every night" }</span>
                    </label>
                    <label class="field"><span>{ "Time (empty: the server's schedule)" }</span>
                        <input id="s-time" type="time" value={d.time.clone()} oninput={field(|d, v| d.time = v)} readonly={ro} />
                    </label>
                    <label class="field"><span>{ "Its time zone (empty: the organization's)" }</span>
                        <input id="s-zone" value={d.zone.clone()} oninput={field(|d, v| d.zone = v)} readonly={ro}
                            placeholder={s.timezone.clone()} />
                    </label>
                </div>
                <p class="muted small" id="s-server-schedule">{ format!("The server's schedule: {}.", s.server_schedule) }</p>
            </div>
            <div class="panel">
                <h2>{ "Health score weights" }</h2>
                <p class="muted small">{ "How much each section counts in the dashboard's business health score, 0–100 each. They are relative: they need not add up to 100, and a section without numbers to judge is left out." }</p>
                <div class="weights-grid" id="s-weights">
                    { for SmartCategory::ALL.iter().enumerate().map(|(i, c)| {
                        let draft = draft.clone();
                        let oninput = Callback::from(move |e: InputEvent| {
                            let mut d = (*draft).clone();
                            d.weights[i] = event_value(&e);
                            draft.set(d);
                        });
                        html! {
                            <label class="field"><span>{ c.label() }</span>
                                <input id={format!("s-weight-{}", c.label().to_lowercase())} type="number" min="0" max="100" step="1"
                                    value={d.weights[i].clone()} {oninput} readonly={ro} />
                            </label>
                        }
                    }) }
                </div>
            </div>
            if props.editable {
                <div class="actions">
                    <button type="submit" class="btn primary" id="settings-save" disabled={*busy}>{ "Save settings" }</button>
                </div>
            }
        </form>
    }
}

#[function_component(OrgSettings)]
pub fn org_settings() -> Html {
    let session = use_context::<Session>();
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let notice = use_state(|| None::<Notice>);
    let editable = session.as_ref().is_some_and(|s| s.may_write(api::SETTINGS));
    let onsaved = {
        let (notice, reload) = (notice.clone(), reload.clone());
        Callback::from(move |n: Notice| {
            if n.ok {
                reload.set(*reload + 1);
            }
            notice.set(Some(n));
        })
    };
    let form = view_fetch("the settings", &data, |s| {
        // Keyed by what was read (not by the reload: the new answer arrives after it),
        // so after a save the form starts from what the server stored.
        let key = format!("{s:?}");
        html! { <SettingsForm {key} settings={s.clone()} {editable} onsaved={onsaved.clone()} /> }
    });
    html! {
        <div class="page org-settings">
            <div class="page-head"><div><h1>{ "Settings · Organization" }</h1>
                <div class="meta">{ "What the numbers are computed with and when collection runs. Changes apply at once." }</div></div></div>
            if !editable {
                <RoleNote what="change the settings" />
            }
            if let Some(n) = &*notice {
                <Toast notice={n.clone()} id="settings-notice" />
            }
            { form }
            <OrgLogo editable={session.as_ref().is_some_and(|s| s.may_write(api::LOGO))} />
        </div>
    }
}
