//! Import: upload a CSV (`period,metric,value,notes`) or a Monthly Business Review
//! workbook, preview what would be created, changed (old → new), left unchanged or
//! skipped (collected/manual values, unless overwrite), then commit it.
use crate::api;
use crate::components::notice::RoleNote;
use crate::Session;
use qbr_shared::api::{ImportAction, ImportResponse};
use wasm_bindgen::JsCast;
use yew::prelude::*;

fn action_label(a: ImportAction) -> &'static str {
    match a {
        ImportAction::Created => "created",
        ImportAction::Changed => "changed",
        ImportAction::Unchanged => "unchanged",
        ImportAction::Skipped => "skipped (collected/manual)",
    }
}

/// The row's highlight: created and changed rows stand out, skipped ones are dimmed.
fn action_class(a: ImportAction) -> &'static str {
    match a {
        ImportAction::Created => "created",
        ImportAction::Changed => "changed",
        ImportAction::Unchanged => "unchanged",
        ImportAction::Skipped => "skipped",
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn preview_table(r: &ImportResponse) -> Html {
    let written = r.created_count + r.changed_count;
    html! {
        <>
            if r.committed {
                <div class="toast ok" role="status" id="import-done">{ format!(
                    "Imported {written} value{}{}.",
                    if written == 1 { "" } else { "s" },
                    if r.recomputed_periods.is_empty() {
                        String::new()
                    } else {
                        format!("; SmartNumbers recomputed for {}", r.recomputed_periods.join(", "))
                    }
                ) }</div>
            }
            <p id="import-summary">{ format!(
                "{}: {} created, {} changed, {} unchanged, {} skipped.",
                if r.committed { "Imported" } else { "Preview" },
                r.created_count, r.changed_count, r.unchanged_count, r.skipped_count
            ) }</p>
            if !r.total_mismatches.is_empty() {
                <div class="toast bad" role="status">
                    <strong>{ "Totals in the file that differ from the computed totals (not imported):" }</strong>
                    <ul>{ for r.total_mismatches.iter().map(|m| html! {
                        <li>{ format!("{} row {}: {}", m.sheet, m.row, m.message) }</li>
                    }) }</ul>
                </div>
            }
            <div class="table-scroll">
            <table class="table import-preview" id="import-preview">
                <thead><tr>
                    <th>{ "Period" }</th><th>{ "Metric" }</th><th>{ "Action" }</th>
                    <th class="num">{ "Stored" }</th><th class="num">{ "File" }</th><th>{ "Where" }</th>
                </tr></thead>
                <tbody>
                { for r.cells.iter().map(|c| html! {
                    <tr class={action_class(c.action)} data-period={c.period.clone()}
                        data-metric={c.metric_name.clone()}>
                        <td>{ &c.period }</td>
                        <td>{ &c.metric_name }</td>
                        <td>{ action_label(c.action) }</td>
                        <td class="num">{ num(c.old_value) }</td>
                        <td class="num">{ c.new_value.to_string() }</td>
                        <td class="small muted">{ format!("{} row {} column {}", c.sheet, c.row, c.column) }</td>
                    </tr>
                }) }
                </tbody>
            </table>
            </div>
        </>
    }
}

#[function_component(Import)]
pub fn import() -> Html {
    let file = use_state(|| None::<web_sys::File>);
    let overwrite = use_state(|| false);
    let preview = use_state(|| None::<ImportResponse>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let on_file = {
        let (file, preview, error) = (file.clone(), preview.clone(), error.clone());
        Callback::from(move |e: Event| {
            let f = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|l| l.get(0));
            file.set(f);
            preview.set(None);
            error.set(None);
        })
    };
    let on_overwrite = {
        let (overwrite, preview) = (overwrite.clone(), preview.clone());
        Callback::from(move |e: Event| {
            overwrite.set(super::event_checked(&e));
            preview.set(None);
        })
    };
    let run = {
        let (file, overwrite) = (file.clone(), overwrite.clone());
        let (preview, error, busy) = (preview.clone(), error.clone(), busy.clone());
        Callback::from(move |commit: bool| {
            let Some(f) = (*file).clone() else {
                return;
            };
            let (preview, error, busy) = (preview.clone(), error.clone(), busy.clone());
            let ow = *overwrite;
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::import_file(&f, commit, ow).await {
                    Ok(r) => {
                        preview.set(Some(r));
                        error.set(None);
                    }
                    Err(e) => {
                        preview.set(None);
                        error.set(Some(e.message));
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_preview = {
        let run = run.clone();
        Callback::from(move |_: MouseEvent| run.emit(false))
    };
    let on_commit = Callback::from(move |_: MouseEvent| run.emit(true));
    let can_commit = preview
        .as_ref()
        .is_some_and(|p| !p.committed && p.created_count + p.changed_count > 0);
    // Even a preview is a POST only editors may make.
    let may_import = use_context::<Session>().is_some_and(|s| s.may_write(api::IMPORT));
    if !may_import {
        return html! {
            <div class="page import-page">
                <div class="page-head"><div><h1>{ "Import" }</h1></div></div>
                <RoleNote what="import data" />
            </div>
        };
    }

    html! {
        <div class="page import-page">
            <div class="page-head">
                <div>
                    <h1>{ "Import" }</h1>
                    <div class="meta">{ "A CSV (period,metric,value,notes) or the Monthly Business Review workbook (.xlsx, one sheet per year). Preview first; nothing is written until you commit." }</div>
                </div>
            </div>
            <div class="head-actions">
                <input type="file" id="import-file" aria-label="File to import" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" onchange={on_file} />
                <label class="field inline">
                    <input type="checkbox" id="import-overwrite" checked={*overwrite} onchange={on_overwrite} />
                    <span>{ "Overwrite collected and manual values" }</span>
                </label>
                <button class="btn" id="import-preview-btn" disabled={file.is_none() || *busy} onclick={on_preview}>{ "Preview" }</button>
                <button class="btn primary" id="import-commit-btn" disabled={!can_commit || *busy} onclick={on_commit}>{ "Commit import" }</button>
            </div>
            if let Some(msg) = &*error {
                <div class="toast bad" role="alert" id="import-error">{ msg }</div>
            }
            if let Some(r) = &*preview {
                { preview_table(r) }
            }
        </div>
    }
}
