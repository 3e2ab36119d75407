//! Settings › Report delivery (admins): the printable QBR report mailed as a PDF, with
//! the status summary in the body, on a chosen day after each quarter closes (and,
//! optionally, the quarter to date after each month); who receives it, on what paper;
//! "Send a test now" to the addresses on the form; the latest deliveries.
use super::notifications::{status_badge, test_results};
use super::{event_checked, event_value};
use crate::api::{self, ApiError};
use crate::components::choice::Choice;
use crate::components::fetch::{use_fetch, view_fetch};
use crate::components::notice::{Notice, Toast};
use crate::time;
use qbr_shared::api::{
    PaperSize, ReportDeliveryRecord, ReportDeliverySettings, ReportDeliveryUpdate, TestSendResponse,
};
use qbr_shared::notify::{ReportKind, LAST_DELIVERY_DAY};
use yew::prelude::*;

async fn load(_reload: u32) -> Result<ReportDeliverySettings, ApiError> {
    api::report_delivery().await
}

/// The form as typed.
#[derive(Clone, PartialEq)]
struct Draft {
    enabled: bool,
    day: String,
    hour: String,
    monthly: bool,
    recipients: String,
    paper: PaperSize,
    /// The quarter a test sends (empty: the last closed one).
    test_period: String,
}

impl Draft {
    fn of(s: &ReportDeliverySettings) -> Draft {
        Draft {
            enabled: s.enabled,
            day: s.day.to_string(),
            hour: s.hour.to_string(),
            monthly: s.monthly,
            recipients: s.recipients.join("\n"),
            paper: s.paper,
            test_period: String::new(),
        }
    }

    /// The addresses, one per line (commas and semicolons also separate).
    fn addresses(&self) -> Vec<String> {
        self.recipients
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect()
    }

    fn request(&self) -> Result<ReportDeliveryUpdate, String> {
        let whole = |what: &str, v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{what}: '{v}' is not a whole number."))
        };
        Ok(ReportDeliveryUpdate {
            organization_id: None,
            enabled: self.enabled,
            day: whole("Day", &self.day)?,
            hour: Some(whole("Hour", &self.hour)?),
            monthly: self.monthly,
            recipients: self.addresses(),
            paper: Some(self.paper),
        })
    }

    /// Whether the schedule differs from what is stored (the test period is no setting).
    fn differs(&self, s: &ReportDeliverySettings) -> bool {
        let stored = Draft::of(s);
        Draft {
            test_period: String::new(),
            ..self.clone()
        } != stored
    }
}

/// "the Q4 2026 report", "the Q4 2026 report to date".
fn describe(kind: ReportKind, quarter: &str) -> String {
    let q = super::period_label(quarter);
    match kind {
        ReportKind::Quarterly => format!("the {q} report"),
        ReportKind::Monthly => format!("the {q} report to date"),
    }
}

fn recent_table(recent: &[ReportDeliveryRecord]) -> Html {
    if recent.is_empty() {
        return html! { <p class="muted empty" id="deliveries-empty">{ "No report mailed yet." }</p> };
    }
    html! {
        <div class="table-wrap">
            <table class="table" id="recent-deliveries">
                <thead><tr><th>{ "When" }</th><th>{ "Report" }</th><th>{ "To" }</th><th>{ "Status" }</th><th>{ "Tries" }</th></tr></thead>
                <tbody>
                    { for recent.iter().map(|d| html! {
                        <tr>
                            <td>{ time::format_timestamp(&d.started_at) }</td>
                            <td>{ match d.kind {
                                ReportKind::Quarterly => super::period_label(&d.quarter),
                                ReportKind::Monthly => format!("{} to date ({})", super::period_label(&d.quarter), super::period_label(&d.period)),
                            } }</td>
                            <td>{ d.email.clone() }</td>
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
struct FormProps {
    settings: ReportDeliverySettings,
    onsaved: Callback<Notice>,
}

#[function_component(DeliveryForm)]
fn delivery_form(props: &FormProps) -> Html {
    let draft = use_state(|| Draft::of(&props.settings));
    let busy = use_state(|| false);
    let results = use_state(|| None::<TestSendResponse>);
    let text = |edit: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = (*draft).clone();
            edit(&mut d, event_value(&e));
            draft.set(d);
        })
    };
    let check = |edit: fn(&mut Draft, bool)| {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let mut d = (*draft).clone();
            edit(&mut d, event_checked(&e));
            draft.set(d);
        })
    };
    let on_paper = {
        let draft = draft.clone();
        Callback::from(move |v: String| {
            let mut d = (*draft).clone();
            d.paper = PaperSize::parse(&v).unwrap_or(PaperSize::Letter);
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
                onsaved.emit(match api::save_report_delivery(&req).await {
                    Ok(s) => Notice::ok(match &s.next {
                        Some(n) if s.enabled => format!(
                            "Saved. Next: {} on {}.",
                            describe(n.kind, &n.quarter),
                            n.at.replace('T', " at ")
                        ),
                        _ => "Saved. Scheduled delivery is off.".to_string(),
                    }),
                    Err(e) => Notice::bad(format!("Not saved: {}", e.message)),
                });
                busy.set(false);
            });
        })
    };
    let ontest = {
        let (draft, busy, results, onsaved) = (
            draft.clone(),
            busy.clone(),
            results.clone(),
            props.onsaved.clone(),
        );
        Callback::from(move |_| {
            let to = draft.addresses();
            if to.is_empty() {
                return onsaved.emit(Notice::bad("Add an address to send the test to."));
            }
            let period = Some(draft.test_period.trim().to_string()).filter(|p| !p.is_empty());
            let (busy, results, onsaved) = (busy.clone(), results.clone(), onsaved.clone());
            busy.set(true);
            results.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::test_report_delivery(period, Some(to)).await {
                    Ok(r) => results.set(Some(r)),
                    Err(e) => onsaved.emit(Notice::bad(format!("No report sent: {}", e.message))),
                }
                busy.set(false);
            });
        })
    };
    let s = &props.settings;
    let d = &*draft;
    let papers = PaperSize::ALL
        .iter()
        .map(|p| {
            let label = match p {
                PaperSize::Letter => "Letter",
                PaperSize::A4 => "A4",
            };
            (AttrValue::from(p.as_str()), AttrValue::from(label))
        })
        .collect::<Vec<_>>();
    let next = match (&s.next, s.enabled) {
        (Some(n), true) => format!(
            "Next: {} on {} ({}).",
            describe(n.kind, &n.quarter),
            n.at.replace('T', " at "),
            s.timezone
        ),
        _ => "Scheduled delivery is off.".to_string(),
    };
    html! {
        <>
        <form class="settings-form" id="delivery-form" novalidate=true {onsubmit}>
            if !s.email_available {
                <div class="note" id="mail-note" role="note">{ "Email is off: the server has no SMTP_URL, so no report can be mailed." }</div>
            }
            <div class="panel">
                <h2>{ "Schedule" }</h2>
                <div class="form-grid">
                    <label class="field check-row">
                        <input type="checkbox" id="d-enabled" checked={d.enabled} onchange={check(|d, v| d.enabled = v)} />
                        <span>{ "Mail the report after each quarter closes" }</span>
                    </label>
                    <label class="field"><span>{ format!("Day of the month after (1–{LAST_DELIVERY_DAY})") }</span>
                        <input id="d-day" type="number" min="1" max={LAST_DELIVERY_DAY.to_string()} value={d.day.clone()} oninput={text(|d, v| d.day = v)} />
                    </label>
                    <label class="field"><span>{ format!("Not before (hour, 0–23, {})", s.timezone) }</span>
                        <input id="d-hour" type="number" min="0" max="23" value={d.hour.clone()} oninput={text(|d, v| d.hour = v)} />
                    </label>
                    <label class="field check-row">
                        <input type="checkbox" id="d-monthly" checked={d.monthly} onchange={check(|d, v| d.monthly = v)} />
                        <span>{ "Also the quarter to date after each month" }</span>
                    </label>
                    <label class="field"><span>{ "Paper" }</span>
                        <Choice options={papers} value={AttrValue::from(d.paper.as_str())} onchange={on_paper} label="Paper" id="d-paper" />
                    </label>
                </div>
                <p class="muted small" id="d-next">{ next }</p>
            </div>
            <div class="panel">
                <h2>{ "Recipients" }</h2>
                <label class="field"><span>{ "Email addresses, one per line" }</span>
                    <textarea id="d-recipients" rows="4" value={d.recipients.clone()} oninput={text(|d, v| d.recipients = v)}
                        placeholder="owners@example.com" />
                </label>
            </div>
            <div class="panel">
                <h2>{ "Send a test" }</h2>
                <div class="form-grid">
                    <label class="field"><span>{ "Quarter (empty: the last closed one)" }</span>
                        <input id="d-test-period" value={d.test_period.clone()} oninput={text(|d, v| d.test_period = v)} placeholder="2026-Q3" />
                    </label>
                </div>
                <p class="muted small">{ "The test goes to the addresses above, saved or not; it is not recorded as the quarter's delivery." }</p>
            </div>
            <div class="actions">
                <button type="button" class="btn" id="delivery-test" onclick={ontest} disabled={*busy}>{ "Send a test now" }</button>
                <button type="submit" class="btn primary" id="delivery-save" disabled={*busy || !d.differs(s)}>{ "Save" }</button>
            </div>
        </form>
        if let Some(r) = &*results {
            <div class="panel" id="delivery-test-result"><h2>{ r.quarter.as_deref().map(|q| format!("Test · {}", super::period_label(q))).unwrap_or_else(|| "Test".into()) }</h2>{ test_results(r) }</div>
        }
        <div class="panel">
            <h2>{ "Latest deliveries" }</h2>
            { recent_table(&s.recent) }
        </div>
        </>
    }
}

#[function_component(ReportDelivery)]
pub fn report_delivery() -> Html {
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
    let form = view_fetch("the report delivery settings", &data, |s| {
        // Keyed by what was stored: the new answer arrives after the reload.
        let key = format!("{:?}", s.updated_at);
        html! { <DeliveryForm {key} settings={s.clone()} onsaved={onsaved.clone()} /> }
    });
    html! {
        <div class="page report-delivery">
            <div class="page-head"><div><h1>{ "Settings · Report delivery" }</h1>
                <div class="meta">{ "The printable QBR report by email, with the status summary in the message." }</div></div></div>
            if let Some(n) = &*notice {
                <Toast notice={n.clone()} id="delivery-notice" />
            }
            { form }
        </div>
    }
}
