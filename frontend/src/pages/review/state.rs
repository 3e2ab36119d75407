//! What the Business Review page remembers: the year and quarter shown, the cell being
//! edited, values saved but not yet reloaded, and how the last save went.
use crate::components::notice::Notice;
use qbr_shared::period::Quarter;
use std::collections::HashMap;
use std::rc::Rc;
use yew::prelude::*;

/// A cell of the sheet: (metric key, month).
pub type CellKey = (&'static str, String);

/// The cell being edited: its text as typed, and why that text was refused.
#[derive(Clone, PartialEq, Debug)]
pub struct Editing {
    pub key: &'static str,
    pub month: String,
    pub text: String,
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct State {
    pub year: i32,
    /// The report's quarter; `None`: the year's latest quarter with data.
    pub quarter: Option<u32>,
    /// Bumped by a save, to load the year again.
    pub reload: u32,
    pub editing: Option<Editing>,
    /// Values on their way to the server, shown in their cells until it answers.
    pub pending: HashMap<CellKey, Option<f64>>,
    pub notice: Option<Notice>,
}

pub enum Action {
    /// Another year: its cells and its latest quarter.
    Year(i32),
    Quarter(u32),
    /// Start editing a cell.
    Edit(Editing),
    /// The edited text changed.
    Type(String),
    /// The edited text is not a value of the metric: say why, keep editing.
    Reject(String),
    /// Stop editing without sending (Escape, or the value didn't change).
    Cancel,
    /// A cell's new value is on its way to the server.
    Saving {
        cell: CellKey,
        value: Option<f64>,
    },
    /// The server stored it (`label` names the cell): load the year again.
    Saved {
        cell: CellKey,
        label: String,
    },
    /// The server refused it: the cell shows the stored value again.
    Failed {
        cell: CellKey,
        label: String,
        message: String,
    },
}

impl State {
    pub fn new(year: i32) -> State {
        State {
            year,
            quarter: None,
            reload: 0,
            editing: None,
            pending: HashMap::new(),
            notice: None,
        }
    }

    /// The report's quarter: the one chosen, else the year's latest with data among
    /// `quarters` (`YYYY-Qn`), else Q1.
    pub fn shown_quarter(&self, quarters: &[String]) -> u32 {
        self.quarter.unwrap_or_else(|| {
            quarters
                .iter()
                .filter_map(|q| q.parse::<Quarter>().ok())
                .filter(|q| q.year() == self.year)
                .map(Quarter::quarter)
                .max()
                .unwrap_or(1)
        })
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Year(year) => {
                s.year = year;
                s.quarter = None;
                // The edited cell is not on the page any more.
                s.editing = None;
            }
            Action::Quarter(q) => s.quarter = Some(q),
            Action::Edit(editing) => s.editing = Some(editing),
            Action::Type(text) => {
                if let Some(e) = &mut s.editing {
                    e.text = text;
                    e.error = None;
                }
            }
            Action::Reject(why) => {
                if let Some(e) = &mut s.editing {
                    e.error = Some(why);
                }
            }
            Action::Cancel => s.editing = None,
            Action::Saving { cell, value } => {
                s.editing = None;
                s.pending.insert(cell, value);
            }
            Action::Saved { cell, label } => {
                s.pending.remove(&cell);
                s.notice = Some(Notice::ok(format!("Saved {label}.")));
                s.reload = s.reload.wrapping_add(1);
            }
            Action::Failed {
                cell,
                label,
                message,
            } => {
                s.pending.remove(&cell);
                s.notice = Some(Notice::bad(format!(
                    "Could not save {label}: {message} — the change was undone."
                )));
            }
        }
        Rc::new(s)
    }
}
