//! Settings › Notifications (admins): who is told of what — email addresses, Microsoft
//! Teams and Slack channels, each with the events it chooses — when QuickBooks counts
//! as stale, a "Send a test now" per recipient or for all, and the latest messages.
//! The list is saved whole; the server checks every recipient before storing any. A
//! stored webhook's URL never comes back (it is the secret that lets anyone post to the
//! channel): the page shows its hint and keeps it unless a new URL is typed.
use super::event_value;
use crate::api::{self, ApiError};
use crate::components::choice::Choice;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, Toast};
use crate::time;
use qbr_shared::api::{
    NotificationDelivery, NotificationRecipient, NotificationRecipientInput, NotificationSettings,
    NotificationSettingsUpdate, TestSendResponse,
};
use qbr_shared::notify::{Channel, DeliveryStatus, NotifyEvent};
use yew::prelude::*;

async fn load(_reload: u32) -> Result<NotificationSettings, ApiError> {
    api::notifications().await
}

/// A recipient as typed.
#[derive(Clone, PartialEq)]
struct RecipientDraft {
    /// The stored recipient's id (none for one added on the page).
    id: Option<i64>,
    channel: Channel,
    name: String,
    /// The email address, or a webhook's new URL (empty: keep the stored one).
    address: String,
    /// A stored webhook's hint.
    hint: Option<String>,
    events: Vec<NotifyEvent>,
}

impl RecipientDraft {
    fn of(r: &NotificationRecipient) -> RecipientDraft {
        RecipientDraft {
            id: Some(r.id),
            channel: r.channel,
            name: r.name.clone(),
            address: r.email.clone().unwrap_or_default(),
            hint: r.webhook_hint.clone(),
            events: r.events.clone(),
        }
    }

    /// A new recipient: email, told of everything but recoveries.
    fn new() -> RecipientDraft {
        RecipientDraft {
            id: None,
            channel: Channel::Email,
            name: String::new(),
            address: String::new(),
            hint: None,
            events: NotifyEvent::ALL
                .iter()
                .copied()
                .filter(|e| *e != NotifyEvent::SmartNumberRecovered)
                .collect(),
        }
    }

    fn input(&self) -> NotificationRecipientInput {
        let address = Some(self.address.trim().to_string()).filter(|a| !a.is_empty());
        let email = self.channel == Channel::Email;
        NotificationRecipientInput {
            id: self.id,
            channel: self.channel,
            name: Some(self.name.trim().to_string()).filter(|n| !n.is_empty()),
            email: if email { address.clone() } else { None },
            webhook_url: if email { None } else { address },
            // In the catalogue's order, whatever order they were ticked in.
            events: NotifyEvent::ALL
                .iter()
                .copied()
                .filter(|e| self.events.contains(e))
                .collect(),
        }
    }

    fn placeholder(&self) -> String {
        match (self.channel, &self.hint) {
            (Channel::Email, _) => "owner@example.com".into(),
            (_, Some(hint)) => format!("kept: {hint}"),
            (Channel::Teams, None) => "https://….webhook.office.com/…".into(),
            (Channel::Slack, None) => "https://hooks.slack.com/services/…".into(),
        }
    }
}

/// The page's form.
#[derive(Clone, PartialEq)]
struct Draft {
    recipients: Vec<RecipientDraft>,
    stale_hours: String,
}

impl Draft {
    fn of(s: &NotificationSettings) -> Draft {
        Draft {
            recipients: s.recipients.iter().map(RecipientDraft::of).collect(),
            stale_hours: s.quickbooks_stale_hours.to_string(),
        }
    }

    fn request(&self) -> Result<NotificationSettingsUpdate, String> {
        let hours: u32 = self.stale_hours.trim().parse().map_err(|_| {
            format!(
                "QuickBooks stale after: '{}' is not a whole number of hours.",
                self.stale_hours
            )
        })?;
        Ok(NotificationSettingsUpdate {
            organization_id: None,
            recipients: self.recipients.iter().map(RecipientDraft::input).collect(),
            quickbooks_stale_hours: Some(hours),
        })
    }
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Email => "Email",
        Channel::Teams => "Microsoft Teams",
        Channel::Slack => "Slack",
    }
}

/// What a "send a test now" did, one line per destination.
pub fn test_results(r: &TestSendResponse) -> Html {
    html! {
        <ul class="send-results" id="test-results">
            { for r.results.iter().map(|t| {
                let (class, word) = if t.delivered { ("ok", "Delivered") } else { ("bad", "Not delivered") };
                html! {
                    <li class={class}>
                        <strong>{ word }</strong>{ format!(" · {} · {}", channel_label(t.channel), t.destination) }
                        if let Some(e) = &t.error { <span class="muted">{ format!(" — {e}") }</span> }
                    </li>
                }
            }) }
        </ul>
    }
}

/// A delivery's status as a coloured word.
pub fn status_badge(s: DeliveryStatus) -> Html {
    let class = match s {
        DeliveryStatus::Sent => "green",
        DeliveryStatus::Failed => "red",
        DeliveryStatus::Sending => "yellow",
    };
    html! { <span class={classes!("badge", class)}>{ s.as_str() }</span> }
}

fn recent_table(recent: &[NotificationDelivery]) -> Html {
    if recent.is_empty() {
        return html! { <p class="muted empty" id="recent-empty">{ "No message sent yet." }</p> };
    }
    html! {
        <div class="table-wrap">
            <table class="table" id="recent-messages">
                <thead><tr><th>{ "When" }</th><th>{ "Event" }</th><th>{ "To" }</th><th>{ "Status" }</th><th>{ "Tries" }</th></tr></thead>
                <tbody>
                    { for recent.iter().map(|d| html! {
                        <tr>
                            <td>{ time::format_timestamp(&d.created_at) }</td>
                            <td>{ d.event.label() }
                                if d.suppressed > 0 { <span class="muted small">{ format!(" (+{} the same day, not sent)", d.suppressed) }</span> }
                            </td>
                            <td>{ format!("{} · {}", channel_label(d.channel), d.destination) }</td>
                            <td>{ status_badge(d.status) }
                                if let Some(e) = &d.error { <div class="muted small">{ e.clone() }</div> }
                            </td>
                            <td class="num">{ d.attempts }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct RecipientProps {
    index: usize,
    recipient: RecipientDraft,
    /// The changed recipient.
    onchange: Callback<(usize, RecipientDraft)>,
    onremove: Callback<usize>,
    /// Send a test to this (stored) recipient.
    ontest: Callback<i64>,
    busy: bool,
}

#[function_component(RecipientEditor)]
fn recipient_editor(props: &RecipientProps) -> Html {
    let r = &props.recipient;
    let i = props.index;
    let change = |edit: fn(&mut RecipientDraft, String)| {
        let (r, onchange) = (r.clone(), props.onchange.clone());
        Callback::from(move |v: String| {
            let mut r = r.clone();
            edit(&mut r, v);
            onchange.emit((i, r));
        })
    };
    let on_channel = change(|r, v| {
        let channel = Channel::parse(&v).unwrap_or(Channel::Email);
        if channel != r.channel {
            // An address of one kind is no address of the other.
            r.address.clear();
            r.channel = channel;
        }
    });
    let text = |edit: fn(&mut RecipientDraft, String)| {
        let f = change(edit);
        Callback::from(move |e: InputEvent| f.emit(event_value(&e)))
    };
    let events = NotifyEvent::ALL.iter().map(|&ev| {
        let checked = r.events.contains(&ev);
        let (r, onchange) = (r.clone(), props.onchange.clone());
        let toggle = Callback::from(move |_: Event| {
            let mut r = r.clone();
            if r.events.contains(&ev) {
                r.events.retain(|e| *e != ev);
            } else {
                r.events.push(ev);
            }
            onchange.emit((i, r));
        });
        html! {
            <label class="check-row">
                <input type="checkbox" class="r-event" value={ev.as_str()} {checked} onchange={toggle} />
                <span>{ ev.label() }</span>
            </label>
        }
    });
    let channels = Channel::ALL
        .iter()
        .map(|c| {
            (
                AttrValue::from(c.as_str()),
                AttrValue::from(channel_label(*c)),
            )
        })
        .collect::<Vec<_>>();
    let address_label = match r.channel {
        Channel::Email => "Email address",
        _ => "Incoming webhook URL",
    };
    let onremove = props.onremove.reform(move |_| i);
    html! {
        <fieldset class="recipient panel" id={format!("recipient-{i}")}>
            <legend>{ if r.name.is_empty() { format!("Recipient {}", i + 1) } else { r.name.clone() } }</legend>
            <div class="form-grid">
                <label class="field"><span>{ "Channel" }</span>
                    <Choice options={channels} value={AttrValue::from(r.channel.as_str())} onchange={on_channel}
                        label="Channel" class={classes!("r-channel")} />
                </label>
                <label class="field"><span>{ "Name" }</span>
                    <input class="r-name" value={r.name.clone()} oninput={text(|r, v| r.name = v)} placeholder="Owners" maxlength="100" />
                </label>
                <label class="field wide"><span>{ address_label }</span>
                    <input class="r-address" value={r.address.clone()} oninput={text(|r, v| r.address = v)}
                        placeholder={r.placeholder()} type={if r.channel == Channel::Email { "email" } else { "url" }} />
                </label>
            </div>
            <div class="events" role="group" aria-label="Events">{ for events }</div>
            <div class="row-actions">
                if let Some(id) = r.id {
                    <button type="button" class="btn r-test" disabled={props.busy}
                        onclick={props.ontest.reform(move |_| id)}>{ "Send a test" }</button>
                }
                <button type="button" class="btn danger r-remove" onclick={onremove}>{ "Remove" }</button>
            </div>
        </fieldset>
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    settings: NotificationSettings,
    onsaved: Callback<Notice>,
}

#[function_component(NotificationsForm)]
fn notifications_form(props: &FormProps) -> Html {
    let draft = use_state(|| Draft::of(&props.settings));
    let busy = use_state(|| false);
    let results = use_state(|| None::<TestSendResponse>);
    let dirty = *draft != Draft::of(&props.settings);
    let onchange = {
        let draft = draft.clone();
        Callback::from(move |(i, r): (usize, RecipientDraft)| {
            let mut d = (*draft).clone();
            d.recipients[i] = r;
            draft.set(d);
        })
    };
    let onremove = {
        let draft = draft.clone();
        Callback::from(move |i: usize| {
            let mut d = (*draft).clone();
            d.recipients.remove(i);
            draft.set(d);
        })
    };
    let onadd = {
        let draft = draft.clone();
        Callback::from(move |_| {
            let mut d = (*draft).clone();
            d.recipients.push(RecipientDraft::new());
            draft.set(d);
        })
    };
    let on_hours = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            d.stale_hours = event_value(&e);
            draft.set(d);
        })
    };
    let ontest = {
        let (busy, results, onsaved) = (busy.clone(), results.clone(), props.onsaved.clone());
        Callback::from(move |recipient: Option<i64>| {
            let (busy, results, onsaved) = (busy.clone(), results.clone(), onsaved.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::test_notifications(recipient).await {
                    Ok(r) => results.set(Some(r)),
                    Err(e) => onsaved.emit(Notice::bad(format!("No test sent: {}", e.message))),
                }
                busy.set(false);
            });
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
                onsaved.emit(match api::save_notifications(&req).await {
                    Ok(s) => Notice::ok(format!(
                        "Saved: {} recipient{}.",
                        s.recipients.len(),
                        if s.recipients.len() == 1 { "" } else { "s" }
                    )),
                    Err(e) => Notice::bad(format!("Not saved: {}", e.message)),
                });
                busy.set(false);
            });
        })
    };
    let s = &props.settings;
    let d = &*draft;
    let test_all = ontest.reform(|_| None);
    html! {
        <>
        <form class="settings-form" id="notifications-form" novalidate=true {onsubmit}>
            if !s.email_available || !s.webhooks_available {
                <div class="note" id="channels-note" role="note">
                    if !s.email_available { <p>{ "Email is off: the server has no SMTP_URL. Email recipients are refused until it has." }</p> }
                    if !s.webhooks_available { <p>{ "Teams and Slack are off: the server has no QBR_SECRET_KEY to seal webhook URLs with." }</p> }
                </div>
            }
            if d.recipients.is_empty() {
                <p class="muted empty" id="no-recipients">{ "Nobody is told of anything yet. Add a recipient: an address, or a Teams or Slack channel's incoming webhook." }</p>
            }
            { for d.recipients.iter().enumerate().map(|(index, r)| html! {
                <RecipientEditor key={format!("{index}-{:?}", r.id)} {index} recipient={r.clone()}
                    onchange={onchange.clone()} onremove={onremove.clone()} ontest={ontest.reform(Some)} busy={*busy || dirty} />
            }) }
            <div class="panel">
                <div class="form-grid">
                    <label class="field"><span>{ "QuickBooks is stale after (hours without a sync, 24–720)" }</span>
                        <input id="n-stale-hours" inputmode="numeric" value={d.stale_hours.clone()} oninput={on_hours} />
                    </label>
                </div>
                <p class="muted small">{ "Each recipient gets at most one message per event type per day; later events of that day are counted, not sent." }</p>
            </div>
            <div class="actions">
                <button type="button" class="btn" id="add-recipient" onclick={onadd}>{ "Add recipient" }</button>
                <button type="button" class="btn" id="test-all" onclick={test_all}
                    disabled={*busy || dirty || s.recipients.is_empty()}
                    title={if dirty { "Save first: tests go to the saved recipients" } else { "" }}>{ "Send a test now" }</button>
                <button type="submit" class="btn primary" id="notifications-save" disabled={*busy}>{ "Save" }</button>
            </div>
        </form>
        if let Some(r) = &*results {
            <div class="panel"><h2>{ "Test" }</h2>{ test_results(r) }</div>
        }
        <div class="panel">
            <h2>{ "Latest messages" }</h2>
            { recent_table(&s.recent) }
        </div>
        </>
    }
}

#[function_component(Notifications)]
pub fn notifications() -> Html {
    let reload = use_state(|| 0u32);
    let data = use_fetch(*reload, load);
    let notice = use_state(|| None::<Notice>);
    let onsaved = {
        let (notice, reload) = (notice.clone(), reload.clone());
        Callback::from(move |n: Notice| {
            if n.ok {
                reload.set(*reload + 1);
            }
            notice.set(Some(n));
        })
    };
    let form = view_fetch("the notification settings", &data, |s| {
        // A save reads again and the form starts from what was stored (keyed by what
        // was stored, not by the reload: the new answer arrives after the reload).
        let stored: Vec<_> = s.recipients.iter().map(|r| (r.id, r.updated_at)).collect();
        let key = format!("{stored:?}-{}", s.quickbooks_stale_hours);
        html! { <NotificationsForm {key} settings={s.clone()} onsaved={onsaved.clone()} /> }
    });
    html! {
        <div class="page notifications">
            <div class="page-head"><div><h1>{ "Settings · Notifications" }</h1>
                <div class="meta">{ "Who hears of a failed collection, drift, a SmartNumber turning red or a stale QuickBooks sync." }</div></div></div>
            if let Some(n) = &*notice {
                <Toast notice={n.clone()} id="notifications-notice" />
            }
            { form }
        </div>
    }
}
