//! The download buttons shared by the dashboard and the Business Review page:
//! "Report (PDF)" for a quarter, with a small paper-size select (Letter or A4, remembered
//! in localStorage like the theme; Letter by default) and the browser's time zone, and
//! Export CSV / Export XLSX for a year.
use crate::api;
use crate::pages::{event_value, period_label};
use yew::prelude::*;

const PAPER_KEY: &str = "qbr-paper";

/// The report's paper size.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Paper {
    Letter,
    A4,
}

impl Paper {
    const ALL: [Paper; 2] = [Paper::Letter, Paper::A4];

    /// The `paper` parameter of the report endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::Letter => "letter",
            Paper::A4 => "a4",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Paper::Letter => "Letter",
            Paper::A4 => "A4",
        }
    }

    fn parse(s: &str) -> Option<Paper> {
        Paper::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The remembered choice, else Letter.
    pub fn saved() -> Paper {
        storage()
            .and_then(|s| s.get_item(PAPER_KEY).ok().flatten())
            .and_then(|v| Paper::parse(&v))
            .unwrap_or(Paper::Letter)
    }

    fn remember(self) {
        if let Some(s) = storage() {
            let _ = s.set_item(PAPER_KEY, self.as_str());
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[derive(Properties, PartialEq)]
pub struct ReportButtonProps {
    /// `YYYY-Qn`.
    pub quarter: String,
}

/// The paper select and the "Report (PDF)" link of a quarter.
#[function_component(ReportButton)]
pub fn report_button(props: &ReportButtonProps) -> Html {
    let paper = use_state(Paper::saved);
    let on_paper = {
        let paper = paper.clone();
        Callback::from(move |e: Event| {
            if let Some(p) = Paper::parse(&event_value(&e)) {
                p.remember();
                paper.set(p);
            }
        })
    };
    let label = period_label(&props.quarter);
    html! {
        <>
            <label class="field inline">
                <span>{ "Paper" }</span>
                <select id="report-paper" onchange={on_paper}>
                    { for Paper::ALL.iter().map(|p| html! {
                        <option value={p.as_str()} selected={*p == *paper}>{ p.label() }</option>
                    }) }
                </select>
            </label>
            <a class="btn" id="report-pdf" download=""
                href={api::report_url(&props.quarter, paper.as_str())}
                title={format!("Download the {label} report as a PDF ({} paper)", paper.label())}>
                { "Report (PDF)" }
            </a>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ExportButtonsProps {
    pub year: i32,
}

/// Export CSV / Export XLSX of a year's stored inputs.
#[function_component(ExportButtons)]
pub fn export_buttons(props: &ExportButtonsProps) -> Html {
    let year = props.year;
    html! {
        <>
            <a class="btn" id="export-csv" download="" href={api::export_url("csv", year)}
                title={format!("Download {year}'s stored inputs as CSV (period,metric,value,data_source,notes)")}>
                { "Export CSV" }
            </a>
            <a class="btn" id="export-xlsx" download="" href={api::export_url("xlsx", year)}
                title={format!("Download {year} as a Monthly Business Review workbook")}>
                { "Export XLSX" }
            </a>
        </>
    }
}
