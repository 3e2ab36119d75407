//! What the QuickBooks page remembers: the mappings changed since the accounts were
//! loaded (by account), whether a save is under way and how it went, the Web
//! Connector's service URL and the month history is asked from.
use crate::components::notice::Notice;
use crate::pages::period_label;
use qbr_shared::quickbooks::api::{
    MappingChange, MappingsUpdateRequest, MappingsUpdateResponse, QuickBooksAccount,
};
use qbr_shared::quickbooks::MappedBy;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// An account's own mapping as chosen on the page: a metric key or `ignore`, or `None`
/// for none of its own (it follows its parent or the default rule).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Draft {
    pub target: Option<String>,
    pub reason: String,
}

impl Draft {
    /// The account's stored own mapping (none when it follows a parent or the default).
    pub fn stored(a: &QuickBooksAccount) -> Draft {
        match a.mapped_by {
            MappedBy::Own => Draft {
                target: a.target.clone(),
                reason: a.reason.clone().unwrap_or_default(),
            },
            _ => Draft::default(),
        }
    }

    /// Ignored: its amounts go to no metric, for a reason.
    pub fn ignored(&self) -> bool {
        self.target.as_deref() == Some("ignore")
    }

    /// Whether two drafts store the same thing (the reason is an ignored account's).
    fn same(&self, other: &Draft) -> bool {
        self.target == other.target
            && (!self.ignored() || self.reason.trim() == other.reason.trim())
    }

    /// Ignored without a reason: the server refuses it, so the page does first.
    pub fn needs_reason(&self) -> bool {
        self.ignored() && self.reason.trim().is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct State {
    /// Bumped by a save or a backfill request, to load the page again.
    pub reload: u32,
    /// The accounts whose mapping changed, with the new one.
    pub drafts: BTreeMap<String, Draft>,
    pub saving: bool,
    pub notice: Option<Notice>,
    /// The URL of `/api/qbwc` the `.qwc` file names.
    pub service_url: String,
    /// `YYYY-MM`: the month history is asked from.
    pub backfill_from: String,
    pub asking: bool,
    pub backfill_notice: Option<Notice>,
}

pub enum Action {
    /// An account's mapping or reason changed (`stored` is what the server has).
    Edit {
        account: String,
        stored: Draft,
        draft: Draft,
    },
    /// Back to the stored mappings.
    Cancel,
    /// Nothing was sent, and why.
    Refuse(String),
    Saving,
    /// The server stored the changes: load the accounts again.
    Saved(MappingsUpdateResponse),
    /// The server refused them (its message); they stay for another try.
    Failed(String),
    ServiceUrl(String),
    BackfillFrom(String),
    Asking,
    /// The month history was asked from, or why not.
    Asked(Result<String, String>),
}

/// "1 value", "3 values".
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

impl State {
    pub fn new(service_url: String, backfill_from: String) -> State {
        State {
            reload: 0,
            drafts: BTreeMap::new(),
            saving: false,
            notice: None,
            service_url,
            backfill_from,
            asking: false,
            backfill_notice: None,
        }
    }

    /// The request that saves the changed mappings, or why there is none to send.
    pub fn request(&self) -> Result<MappingsUpdateRequest, String> {
        if self.drafts.is_empty() {
            return Err("Nothing changed.".into());
        }
        if let Some((account, _)) = self.drafts.iter().find(|(_, d)| d.needs_reason()) {
            return Err(format!(
                "Give a reason for ignoring {account} (e.g. \"not operating income\")."
            ));
        }
        let mappings = self
            .drafts
            .iter()
            .map(|(account, d)| MappingChange {
                account: account.clone(),
                metric: d.target.clone(),
                reason: Some(d.reason.trim().to_string()).filter(|_| d.ignored()),
            })
            .collect();
        Ok(MappingsUpdateRequest {
            organization_id: None,
            mappings,
        })
    }
}

/// What a save did, in words.
fn saved_text(r: &MappingsUpdateResponse) -> String {
    let changed = plural(r.changed as usize, "mapping");
    match (r.remapped_months.first(), r.remapped_months.last()) {
        (Some(first), Some(last)) => format!(
            "Saved {changed}: {} mapped again from the stored reports ({} – {}), {} written.",
            plural(r.remapped_months.len(), "month"),
            period_label(first),
            period_label(last),
            plural(r.values_written as usize, "value"),
        ),
        _ => format!(
            "Saved {changed}. No QuickBooks report is stored yet, so no month was mapped again."
        ),
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Edit {
                account,
                stored,
                draft,
            } => {
                if draft.same(&stored) {
                    s.drafts.remove(&account);
                } else {
                    s.drafts.insert(account, draft);
                }
            }
            Action::Cancel => {
                s.drafts.clear();
                s.notice = None;
            }
            Action::Refuse(why) => s.notice = Some(Notice::bad(why)),
            Action::Saving => {
                s.saving = true;
                s.notice = None;
            }
            Action::Saved(r) => {
                s.saving = false;
                s.drafts.clear();
                s.reload = s.reload.wrapping_add(1);
                s.notice = Some(Notice::ok(saved_text(&r)));
            }
            Action::Failed(message) => {
                s.saving = false;
                s.notice = Some(Notice::bad(format!("Nothing was saved: {message}")));
            }
            Action::ServiceUrl(url) => s.service_url = url,
            Action::BackfillFrom(month) => s.backfill_from = month,
            Action::Asking => {
                s.asking = true;
                s.backfill_notice = None;
            }
            Action::Asked(Ok(month)) => {
                s.asking = false;
                s.reload = s.reload.wrapping_add(1);
                s.backfill_notice = Some(Notice::ok(format!(
                    "Asked for history from {}: the Web Connector's next run sends it.",
                    period_label(&month)
                )));
            }
            Action::Asked(Err(message)) => {
                s.asking = false;
                s.backfill_notice = Some(Notice::bad(format!("Not asked: {message}")));
            }
        }
        Rc::new(s)
    }
}
