//! What the data-entry page remembers: the month shown, the values and notes typed so
//! far, whether a save is under way, and how the last one went.
use crate::components::notice::Notice;
use qbr_shared::api::{ManualEntryRequest, ManualEntryResponse, ManualMetricInput};
use qbr_shared::catalogue::metric_def;
use qbr_shared::format;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// A metric's value and notes as typed.
#[derive(Clone, PartialEq, Debug)]
pub struct Field {
    pub text: String,
    pub notes: String,
}

#[derive(Clone, Debug)]
pub struct State {
    /// `YYYY-MM`.
    pub month: String,
    /// Bumped by a save, to load the month again.
    pub reload: u32,
    /// The fields changed since the month was loaded, by metric key.
    pub edits: BTreeMap<&'static str, Field>,
    pub saving: bool,
    pub notice: Option<Notice>,
}

pub enum Action {
    /// Another month: what was typed for this one is dropped.
    Month(String),
    /// A field's value or notes changed.
    Edit(&'static str, Field),
    /// Nothing was sent, and why.
    Refuse(&'static str),
    Saving,
    /// The server stored the edits: load the month again.
    Saved(ManualEntryResponse),
    /// The server refused them (its message); they stay for another try.
    Failed(String),
}

impl State {
    pub fn new(month: String) -> State {
        State {
            month,
            reload: 0,
            edits: BTreeMap::new(),
            saving: false,
            notice: None,
        }
    }

    /// The changed fields whose text is not a value of their metric, with why.
    pub fn errors(&self) -> BTreeMap<&'static str, String> {
        self.edits
            .iter()
            .filter_map(|(k, f)| {
                let def = metric_def(k)?;
                format::parse_input(def.unit, &f.text)
                    .err()
                    .map(|e| (*k, e))
            })
            .collect()
    }

    /// The request that saves the changed fields, or why there is none to send.
    pub fn request(&self) -> Result<ManualEntryRequest, &'static str> {
        if !self.errors().is_empty() {
            return Err("Fix the highlighted fields first.");
        }
        let metrics: Vec<ManualMetricInput> = self
            .edits
            .iter()
            .filter_map(|(k, f)| {
                let def = metric_def(k)?;
                Some(ManualMetricInput {
                    metric_name: k.to_string(),
                    metric_value: format::parse_input(def.unit, &f.text).ok()?,
                    notes: Some(f.notes.clone()).filter(|n| !n.trim().is_empty()),
                })
            })
            .collect();
        if metrics.is_empty() {
            return Err("Nothing changed.");
        }
        Ok(ManualEntryRequest {
            period: self.month.clone(),
            organization_id: None,
            metrics,
        })
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Month(month) => {
                s.month = month;
                s.edits.clear();
            }
            Action::Edit(key, field) => {
                s.edits.insert(key, field);
            }
            Action::Refuse(why) => s.notice = Some(Notice::bad(why)),
            Action::Saving => s.saving = true,
            Action::Saved(r) => {
                s.saving = false;
                s.edits.clear();
                s.reload = s.reload.wrapping_add(1);
                s.notice = Some(Notice::ok(format!(
                    "Saved: {} value{} changed; SmartNumbers recalculated for {}.",
                    r.updated_count,
                    if r.updated_count == 1 { "" } else { "s" },
                    r.recomputed_periods.join(", ")
                )));
            }
            Action::Failed(message) => {
                s.saving = false;
                s.notice = Some(Notice::bad(format!("Nothing was saved: {message}")));
            }
        }
        Rc::new(s)
    }
}
