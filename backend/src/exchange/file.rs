//! What an import file holds, whatever its format: values with where they were found,
//! and the problems met. `parse_file` tells a workbook from a CSV file.
use super::csv::parse_csv;
use super::xlsx_import::parse_xlsx;
use qbr_shared::api::ImportIssue;
use qbr_shared::catalogue::MetricDef;
use qbr_shared::Month;
use std::collections::HashMap;

/// A value read from a file, with where it was.
#[derive(Debug, Clone)]
pub struct FileValue {
    pub month: Month,
    pub def: &'static MetricDef,
    pub value: f64,
    pub notes: Option<String>,
    pub sheet: String,
    pub row: u32,
    pub column: String,
}

/// What a file holds: input values, derived values (to compare), problems.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub format: &'static str,
    pub inputs: Vec<FileValue>,
    pub derived: Vec<FileValue>,
    pub errors: Vec<ImportIssue>,
}

pub(super) fn issue(
    sheet: &str,
    row: u32,
    column: Option<String>,
    message: impl Into<String>,
) -> ImportIssue {
    ImportIssue {
        sheet: sheet.to_string(),
        row,
        column,
        message: message.into(),
    }
}

/// Spreadsheet column name of a 0-based index (0 → A, 26 → AA).
pub(super) fn column_name(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Reads an import file: XLSX (by its zip signature or `.xlsx` name) or CSV.
pub fn parse_file(name: Option<&str>, bytes: &[u8]) -> ParsedFile {
    let looks_xlsx = bytes.starts_with(b"PK\x03\x04");
    let named_xlsx = name.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".xlsx") || n.ends_with(".xlsm") || n.ends_with(".xls")
    });
    if looks_xlsx {
        return parse_xlsx(bytes);
    }
    let mut parsed = ParsedFile {
        format: if named_xlsx { "xlsx" } else { "csv" },
        ..ParsedFile::default()
    };
    if named_xlsx {
        parsed.errors.push(issue(
            "",
            0,
            None,
            "The file is not a workbook (.xlsx): it is not a zip archive",
        ));
        return parsed;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_csv(text, &mut parsed),
        Err(_) => parsed.errors.push(issue(
            "",
            0,
            None,
            "The file is neither a workbook (.xlsx) nor a UTF-8 CSV file",
        )),
    }
    parsed
}

pub(super) fn check_value(def: &MetricDef, v: f64) -> Result<(), String> {
    if !v.is_finite() || v.abs() >= 1e14 {
        return Err(format!("{v} is not a usable number"));
    }
    if v < 0.0 && !def.allows_negative() {
        return Err(format!("{} can't be negative (got {v})", def.label));
    }
    Ok(())
}

/// Parses a number cell written as text: `$1,234`, `-$2,044`, `12.5%`, `(300)`.
pub(super) fn parse_number_text(s: &str) -> Option<f64> {
    let t = s.trim();
    let (neg_paren, t) = match t.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (true, inner),
        None => (false, t),
    };
    let pct = t.ends_with('%');
    let cleaned: String = t
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | '%' | ' '))
        .collect();
    let mut v: f64 = cleaned.parse().ok()?;
    if pct {
        v /= 100.0;
    }
    if neg_paren {
        v = -v;
    }
    Some(v)
}

pub(super) fn add_value(
    parsed: &mut ParsedFile,
    seen: &mut HashMap<(Month, &'static str), u32>,
    fv: FileValue,
) {
    if let Some(first) = seen.get(&(fv.month, fv.def.key)) {
        let msg = format!(
            "{} for {} appears twice (also in row {first}): duplicated row",
            fv.def.label, fv.month
        );
        parsed
            .errors
            .push(issue(&fv.sheet, fv.row, Some(fv.column.clone()), msg));
        return;
    }
    seen.insert((fv.month, fv.def.key), fv.row);
    if fv.def.is_derived() {
        parsed.derived.push(fv);
    } else if let Err(msg) = check_value(fv.def, fv.value) {
        parsed
            .errors
            .push(issue(&fv.sheet, fv.row, Some(fv.column.clone()), msg));
    } else {
        parsed.inputs.push(fv);
    }
}
