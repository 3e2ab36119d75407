//! The long CSV layout `period,metric,value,data_source,notes`: export of the stored
//! inputs and import (a `period,metric,value[,notes]` file).
use super::file::{add_value, issue, parse_number_text, FileValue, ParsedFile};
use super::{ExchangeError, StoredValue};
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::{metric_by_label, metric_def};
use qbr_shared::text;
use qbr_shared::Month;
use std::collections::HashMap;

/// The long CSV layout: one row per stored input value (derived values excluded).
pub fn export_csv(values: &[StoredValue]) -> Result<Vec<u8>, ExchangeError> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let io = |e: ::csv::Error| ExchangeError::Write {
        format: "CSV",
        message: e.to_string(),
    };
    w.write_record(["period", "metric", "value", "data_source", "notes"])
        .map_err(io)?;
    let mut inputs: Vec<&StoredValue> = values
        .iter()
        .filter(|v| v.source != DataSource::Calculated)
        .filter(|v| metric_def(&v.metric).is_none_or(|d| !d.is_derived()))
        .collect();
    inputs.sort_by(|a, b| (a.month, &a.metric).cmp(&(b.month, &b.metric)));
    for v in inputs {
        w.write_record([
            v.month.to_string(),
            v.metric.clone(),
            v.value.to_string(),
            v.source.as_str().to_string(),
            // A note is the one free text: never let a spreadsheet run it.
            text::neutralize_formula(v.notes.as_deref().unwrap_or_default()).into_owned(),
        ])
        .map_err(io)?;
    }
    w.into_inner().map_err(|e| ExchangeError::Write {
        format: "CSV",
        message: e.to_string(),
    })
}

pub(super) fn parse_csv(content: &str, parsed: &mut ParsedFile) {
    const SHEET: &str = "csv";
    let mut rdr = ::csv::ReaderBuilder::new()
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(content.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => {
            parsed
                .errors
                .push(issue(SHEET, 1, None, format!("Unreadable CSV header: {e}")));
            return;
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(pc), Some(mc), Some(vc)) = (col("period"), col("metric"), col("value")) else {
        parsed.errors.push(issue(
            SHEET,
            1,
            None,
            "The file is neither a workbook (.xlsx) nor a CSV file with the columns period,metric,value[,notes]",
        ));
        return;
    };
    let nc = col("notes");
    let mut seen = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i as u32 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                parsed
                    .errors
                    .push(issue(SHEET, row, None, format!("Unreadable row: {e}")));
                continue;
            }
        };
        let get = |c: usize| rec.get(c).unwrap_or("").trim();
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let month: Month = match get(pc).parse() {
            Ok(m) => m,
            Err(e) => {
                parsed.errors.push(issue(
                    SHEET,
                    row,
                    Some("period".into()),
                    format!("period '{}': {e}", get(pc)),
                ));
                continue;
            }
        };
        let name = get(mc);
        let Some(def) = metric_def(name).or_else(|| metric_by_label(name)) else {
            parsed.errors.push(issue(
                SHEET,
                row,
                Some("metric".into()),
                format!("Unknown metric label '{name}'"),
            ));
            continue;
        };
        let raw = get(vc);
        if raw.is_empty() {
            continue;
        }
        let Some(value) = parse_number_text(raw) else {
            parsed.errors.push(issue(
                SHEET,
                row,
                Some("value".into()),
                format!("'{raw}' is not a number"),
            ));
            continue;
        };
        // Exports write formula-like notes with a leading `'` (see `write`): take it off.
        let notes = nc
            .map(|c| text::unneutralize(get(c)))
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if let Some(problem) = notes
            .as_deref()
            .and_then(|n| text::check(n, text::NOTES).err())
        {
            parsed.errors.push(issue(
                SHEET,
                row,
                Some("notes".into()),
                format!("notes {problem}"),
            ));
            continue;
        }
        add_value(
            parsed,
            &mut seen,
            FileValue {
                month,
                def,
                value,
                notes,
                sheet: SHEET.into(),
                row,
                column: "value".into(),
            },
        );
    }
}
