//! Import and export of monthly values: the long CSV layout
//! (`period,metric,value,data_source,notes`) and the owners' "Monthly Business Review"
//! workbook (`workbook.md`, one sheet per year), shared by the API and `qbr import`.
use crate::error::{AppError, AppResult};
use crate::store::metrics::{self as store, ValueWrite, WriteOutcome};
use crate::store::org::Org;
use crate::store::{audit, lock_organization_writes, recompute, smartnumbers};
use calamine::{Data, Reader, Xlsx};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::{DataSource, ImportAction, ImportCell, ImportIssue, ImportResponse};
use qbr_shared::catalogue::{metric_by_label, metric_def, Category, MetricDef, Unit};
use qbr_shared::workbook::{sections, year_total, COMPARED_WITH_PREVIOUS_YEAR, MONTH_HEADERS};
use qbr_shared::Month;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read};

/// Largest accepted import file.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// Largest unpacked size of an imported workbook (its parts' declared sizes), and
/// most parts: a zip bomb is refused before it is unpacked.
const MAX_UNZIPPED_BYTES: u64 = 100 * 1024 * 1024;
const MAX_ZIP_ENTRIES: usize = 10_000;
/// Most validation errors listed in one answer.
const MAX_LISTED_ERRORS: usize = 50;
/// Longest note kept with a value.
const MAX_NOTES: usize = 2000;

/// One stored value for the export: period, metric, value, data_source, notes.
pub struct StoredValue {
    pub month: Month,
    pub metric: String,
    pub value: f64,
    pub source: DataSource,
    pub notes: Option<String>,
}

/// Loads every stored value (inputs and calculated) of the given months.
pub async fn load_values(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> AppResult<Vec<StoredValue>> {
    let rows = store::rows_for_months(conn, org, months).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(StoredValue {
                month: r.month()?,
                metric: r.metric_name.clone(),
                value: r.value(),
                source: r.source(),
                notes: r.notes.clone(),
            })
        })
        .collect())
}

/// The long CSV layout: one row per stored input value (derived values excluded).
pub fn export_csv(values: &[StoredValue]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::internal(anyhow::anyhow!("csv: {e}"));
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
            v.notes.clone().unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))
}

fn xlsx_err(e: XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("xlsx: {e}"))
}

fn number_format(unit: Unit) -> &'static str {
    match unit {
        Unit::Usd => "$#,##0;-$#,##0",
        Unit::Pct => "0.00%",
        Unit::Ratio => "0.00",
        Unit::Count | Unit::Hours => "#,##0.##",
    }
}

/// One quarter's SmartNumbers for the export's "SmartNumbers" sheet.
pub struct QuarterNumbers {
    pub quarter: String,
    pub values: Vec<(String, Option<f64>)>,
}

/// The workbook: one sheet per year in the Monthly Business Review layout, and a
/// "SmartNumbers" sheet with each quarter's numbers.
pub fn export_xlsx(
    years: &[i32],
    values: &[StoredValue],
    numbers: &[QuarterNumbers],
) -> AppResult<Vec<u8>> {
    let mut index: HashMap<(Month, &str), f64> = HashMap::new();
    for v in values {
        index.insert((v.month, v.metric.as_str()), v.value);
    }
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let right = Format::new().set_bold().set_align(FormatAlign::Right);
    let mut wb = Workbook::new();
    for &year in years {
        let ws = wb.add_worksheet();
        ws.set_name(year.to_string()).map_err(xlsx_err)?;
        ws.set_column_width(0, 40).map_err(xlsx_err)?;
        ws.write_string_with_format(0, 0, format!("Monthly Business Review {year}"), &title)
            .map_err(xlsx_err)?;
        for (i, h) in MONTH_HEADERS.iter().enumerate() {
            ws.write_string_with_format(1, i as u16 + 1, *h, &bold)
                .map_err(xlsx_err)?;
        }
        ws.write_string_with_format(1, 13, "Total", &bold)
            .map_err(xlsx_err)?;
        let mut row: u32 = 2;
        for section in sections() {
            ws.write_string_with_format(row, 0, section.category.label(), &bold)
                .map_err(xlsx_err)?;
            row += 1;
            for def in section.rows {
                let fmt = Format::new().set_num_format(number_format(def.unit));
                let label_fmt = if qbr_shared::workbook::is_total_row(def.key) {
                    right.clone()
                } else {
                    Format::new()
                };
                ws.write_string_with_format(row, 0, def.label, &label_fmt)
                    .map_err(xlsx_err)?;
                let year_values = month_values(&index, year, def.key);
                write_months(ws, row, &year_values, &fmt)?;
                if let Some(t) = year_total(def, &year_values) {
                    ws.write_number_with_format(row, 13, t, &fmt)
                        .map_err(xlsx_err)?;
                }
                row += 1;
                if COMPARED_WITH_PREVIOUS_YEAR.contains(&def.key) {
                    let italic = Format::new().set_italic();
                    let fmt = fmt.clone().set_italic();
                    ws.write_string_with_format(row, 0, (year - 1).to_string(), &italic)
                        .map_err(xlsx_err)?;
                    let prev = month_values(&index, year - 1, def.key);
                    write_months(ws, row, &prev, &fmt)?;
                    if let Some(t) = year_total(def, &prev) {
                        ws.write_number_with_format(row, 13, t, &fmt)
                            .map_err(xlsx_err)?;
                    }
                    row += 1;
                }
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("SmartNumbers").map_err(xlsx_err)?;
    ws.set_column_width(0, 40).map_err(xlsx_err)?;
    ws.write_string_with_format(0, 0, "SmartNumber", &bold)
        .map_err(xlsx_err)?;
    let names: Vec<&str> = qbr_shared::smartnumbers::SMARTNUMBERS
        .iter()
        .map(|s| s.key)
        .collect();
    for (i, q) in numbers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16 + 1, &q.quarter, &bold)
            .map_err(xlsx_err)?;
    }
    for (r, name) in names.iter().enumerate() {
        let row = r as u32 + 1;
        ws.write_string(row, 0, *name).map_err(xlsx_err)?;
        for (i, q) in numbers.iter().enumerate() {
            if let Some(Some(v)) = q.values.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
                ws.write_number(row, i as u16 + 1, *v).map_err(xlsx_err)?;
            }
        }
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

fn month_values(index: &HashMap<(Month, &str), f64>, year: i32, key: &str) -> Vec<Option<f64>> {
    (1..=12)
        .map(|m| {
            Month::new(year, m)
                .ok()
                .and_then(|month| index.get(&(month, key)).copied())
        })
        .collect()
}

fn write_months(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    values: &[Option<f64>],
    fmt: &Format,
) -> AppResult<()> {
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            ws.write_number_with_format(row, i as u16 + 1, *v, fmt)
                .map_err(xlsx_err)?;
        }
    }
    Ok(())
}

/// The SmartNumbers of the quarters of the given years, from the store.
pub async fn load_numbers(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> AppResult<Vec<QuarterNumbers>> {
    let quarters: BTreeSet<String> = months.iter().map(|m| m.quarter().to_string()).collect();
    let periods: Vec<String> = quarters.iter().cloned().collect();
    let rows = smartnumbers::load(conn, org, &periods).await?;
    Ok(quarters
        .into_iter()
        .filter(|q| rows.iter().any(|r| &r.period == q))
        .map(|q| QuarterNumbers {
            values: rows
                .iter()
                .filter(|r| r.period == q)
                .map(|r| (r.kpi_name.clone(), r.value()))
                .collect(),
            quarter: q,
        })
        .collect())
}

// ---------------------------------------------------------------------------------
// Import

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

fn issue(sheet: &str, row: u32, column: Option<String>, message: impl Into<String>) -> ImportIssue {
    ImportIssue {
        sheet: sheet.to_string(),
        row,
        column,
        message: message.into(),
    }
}

/// Spreadsheet column name of a 0-based index (0 → A, 26 → AA).
fn column_name(mut col: u32) -> String {
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

fn check_value(def: &MetricDef, v: f64) -> Result<(), String> {
    if !v.is_finite() || v.abs() >= 1e14 {
        return Err(format!("{v} is not a usable number"));
    }
    if v < 0.0 && !def.allows_negative() {
        return Err(format!("{} can't be negative (got {v})", def.label));
    }
    Ok(())
}

/// Parses a number cell written as text: `$1,234`, `-$2,044`, `12.5%`, `(300)`.
fn parse_number_text(s: &str) -> Option<f64> {
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

fn add_value(
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

fn parse_csv(text: &str, parsed: &mut ParsedFile) {
    const SHEET: &str = "csv";
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
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
        let notes = nc.map(get).filter(|n| !n.is_empty()).map(str::to_string);
        if notes
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTES)
        {
            parsed.errors.push(issue(
                SHEET,
                row,
                Some("notes".into()),
                format!("notes may be at most {MAX_NOTES} characters"),
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

/// Month number of a header cell: the owners' spellings, three-letter and full names.
fn month_of_header(s: &str) -> Option<u32> {
    let t = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if t.len() < 3 {
        return None;
    }
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.iter()
        .zip(MONTH_HEADERS.iter())
        .position(|(full, owners)| t == *full || t == full[..3] || t == owners.to_ascii_lowercase())
        .map(|i| i as u32 + 1)
}

fn year_in(s: &str) -> Option<i32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 4)
        .filter_map(|w| w.parse::<i32>().ok())
        .find(|y| (1900..=2999).contains(y))
}

fn cell_text(d: &Data) -> Option<String> {
    match d {
        Data::String(s) => Some(s.trim().to_string()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// Refuses archives that would unpack to too much (or have too many parts).
fn check_zip(bytes: &[u8]) -> Result<(), String> {
    let mut ar = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
    if ar.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "The workbook has {} parts (at most {MAX_ZIP_ENTRIES}): refused",
            ar.len()
        ));
    }
    let mut total: u64 = 0;
    for i in 0..ar.len() {
        let f = ar
            .by_index_raw(i)
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        total = total.saturating_add(f.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(bomb_message(total, MAX_UNZIPPED_BYTES));
    }
    unpacked_size_within_cap(&mut ar, MAX_UNZIPPED_BYTES)
}

fn bomb_message(bytes: u64, cap: u64) -> String {
    format!(
        "The workbook unpacks to more than {} MiB (at most {} MiB): refused as a possible zip bomb",
        bytes / 1024 / 1024,
        cap / 1024 / 1024
    )
}

/// The declared sizes can lie: unpacks every part into a counting sink (nothing is
/// kept in memory) and stops as soon as the real total passes the cap. A part that
/// does not unpack (bad data, CRC mismatch) makes the file unreadable. The zip crate
/// (9.x) itself stops a part at its declared size ("File is larger than its declared
/// uncompressed size"), so a lying part fails here, after at most its declared size
/// was unpacked, before calamine reads anything; the count keeps the cap independent
/// of that behaviour.
fn unpacked_size_within_cap(
    ar: &mut zip::ZipArchive<Cursor<&[u8]>>,
    cap: u64,
) -> Result<(), String> {
    let mut total: u64 = 0;
    for i in 0..ar.len() {
        let mut part = ar
            .by_index(i)
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        let room = cap - total;
        let read = std::io::copy(&mut (&mut part).take(room + 1), &mut std::io::sink())
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        total += read;
        if total > cap {
            return Err(bomb_message(total, cap));
        }
    }
    Ok(())
}

fn parse_xlsx(bytes: &[u8]) -> ParsedFile {
    let mut parsed = ParsedFile {
        format: "xlsx",
        ..ParsedFile::default()
    };
    if let Err(msg) = check_zip(bytes) {
        parsed.errors.push(issue("", 0, None, msg));
        return parsed;
    }
    let mut wb: Xlsx<_> = match calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())) {
        Ok(wb) => wb,
        Err(e) => {
            parsed.errors.push(issue(
                "",
                0,
                None,
                format!("The file is not a readable workbook: {e}"),
            ));
            return parsed;
        }
    };
    let mut seen = HashMap::new();
    for name in wb.sheet_names() {
        if name.eq_ignore_ascii_case("SmartNumbers") {
            continue;
        }
        let range = match wb.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                parsed
                    .errors
                    .push(issue(&name, 0, None, format!("Unreadable sheet: {e}")));
                continue;
            }
        };
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let rows: Vec<&[Data]> = range.rows().collect();
        // The header row: the first with month names.
        let Some((hi, months)) = rows.iter().enumerate().find_map(|(i, r)| {
            let cols: Vec<(usize, u32)> = r
                .iter()
                .enumerate()
                .filter_map(|(c, d)| match d {
                    Data::String(s) => month_of_header(s).map(|m| (c, m)),
                    _ => None,
                })
                .collect();
            (cols.len() >= 3).then_some((i, cols))
        }) else {
            parsed.errors.push(issue(
                &name,
                0,
                None,
                "No header row with the months (Jan … Dec) found",
            ));
            continue;
        };
        let title_year = rows[..hi]
            .iter()
            .flat_map(|r| r.iter())
            .filter_map(cell_text)
            .find_map(|t| {
                t.to_ascii_lowercase()
                    .contains("business review")
                    .then(|| year_in(&t))
                    .flatten()
            });
        if let (Some(t), Some(n)) = (title_year, year_in(&name)) {
            if t != n {
                parsed.errors.push(issue(
                    &name,
                    r0 + 1,
                    None,
                    format!("Wrong year: the title says {t}, the sheet's name {n}"),
                ));
                continue;
            }
        }
        let Some(year) = title_year.or_else(|| year_in(&name)) else {
            parsed.errors.push(issue(
                &name,
                r0 + 1,
                None,
                "The sheet's year is neither in its title (\"Monthly Business Review 2025\") nor its name",
            ));
            continue;
        };
        let label_col = 0usize;
        for (i, r) in rows.iter().enumerate().skip(hi + 1) {
            let row_no = r0 + i as u32 + 1;
            let Some(label) = r
                .get(label_col)
                .and_then(cell_text)
                .filter(|l| !l.is_empty())
            else {
                continue;
            };
            // Previous-year comparison rows: not data of this sheet's year.
            if label.len() == 4 && label.parse::<i32>().is_ok() {
                continue;
            }
            let def = match metric_by_label(&label) {
                Some(d) => d,
                None => {
                    let is_section = Category::ALL
                        .iter()
                        .any(|c| c.label().eq_ignore_ascii_case(&label))
                        || label.eq_ignore_ascii_case("financial health");
                    let has_values = months
                        .iter()
                        .any(|(c, _)| r.get(*c).is_some_and(|d| !matches!(d, Data::Empty)));
                    if !is_section || has_values {
                        parsed.errors.push(issue(
                            &name,
                            row_no,
                            Some(column_name(c0 + label_col as u32)),
                            format!("Unknown label '{label}'"),
                        ));
                    }
                    continue;
                }
            };
            for (c, m) in &months {
                let column = column_name(c0 + *c as u32);
                let Ok(month) = Month::new(year, *m) else {
                    continue;
                };
                let value = match r.get(*c).unwrap_or(&Data::Empty) {
                    Data::Empty => continue,
                    Data::Float(f) => *f,
                    Data::Int(i) => *i as f64,
                    Data::String(s) if s.trim().is_empty() => continue,
                    Data::String(s) => match parse_number_text(s) {
                        Some(v) => v,
                        None => {
                            parsed.errors.push(issue(
                                &name,
                                row_no,
                                Some(column),
                                format!("'{}' in {} is not a number", s.trim(), def.label),
                            ));
                            continue;
                        }
                    },
                    other => {
                        parsed.errors.push(issue(
                            &name,
                            row_no,
                            Some(column),
                            format!("{other:?} in {} is not a number", def.label),
                        ));
                        continue;
                    }
                };
                add_value(
                    &mut parsed,
                    &mut seen,
                    FileValue {
                        month,
                        def,
                        value,
                        notes: None,
                        sheet: name.clone(),
                        row: row_no,
                        column,
                    },
                );
            }
        }
    }
    parsed
}

/// A planned write with the existing notes (kept when the file has none).
struct Planned {
    cell: ImportCell,
    def: &'static MetricDef,
    month: Month,
    notes: Option<String>,
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Compares a file with the store: what each value would do, and the totals that differ.
async fn plan(
    conn: &mut AsyncPgConnection,
    org: i32,
    parsed: &ParsedFile,
    overwrite: bool,
) -> AppResult<(Vec<Planned>, Vec<ImportIssue>)> {
    let months: Vec<Month> = parsed
        .inputs
        .iter()
        .chain(parsed.derived.iter())
        .map(|v| v.month)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = store::rows_for_months(conn, org, &months).await?;
    let existing: HashMap<(String, String), &store::MetricRow> = rows
        .iter()
        .map(|r| ((r.period.clone(), r.metric_name.clone()), r))
        .collect();
    let mut planned = Vec::new();
    for v in &parsed.inputs {
        let old = existing.get(&(v.month.to_string(), v.def.key.to_string()));
        let notes = v
            .notes
            .clone()
            .or_else(|| old.and_then(|o| o.notes.clone()));
        let action = match old {
            None => ImportAction::Created,
            Some(o) if same(o.value(), v.value) && o.notes == notes => ImportAction::Unchanged,
            Some(o)
                if !overwrite
                    && matches!(o.source(), DataSource::Collected | DataSource::Manual) =>
            {
                ImportAction::Skipped
            }
            Some(_) => ImportAction::Changed,
        };
        planned.push(Planned {
            cell: ImportCell {
                period: v.month.to_string(),
                metric_name: v.def.key.to_string(),
                action,
                old_value: old.map(|o| o.value()),
                old_source: old.map(|o| o.source()),
                new_value: v.value,
                notes: v.notes.clone(),
                sheet: v.sheet.clone(),
                row: v.row,
                column: v.column.clone(),
            },
            def: v.def,
            month: v.month,
            notes,
        });
    }
    // Derived rows: compare with the values computed from the month's inputs (stored,
    // overlaid with the file's).
    let mut inputs = store::inputs_by_month(&rows);
    for v in &parsed.inputs {
        inputs
            .entry(v.month)
            .or_default()
            .insert(v.def.key.to_string(), v.value);
    }
    let mut mismatches = Vec::new();
    for v in &parsed.derived {
        let Some(month_inputs) = inputs.get(&v.month) else {
            continue;
        };
        let computed = recompute::period_values(&[month_inputs], None);
        let Some(c) = computed.get(v.def.key).copied() else {
            continue;
        };
        let tolerance = if v.def.unit == Unit::Usd { 0.5 } else { 1e-4 };
        if (c - v.value).abs() > tolerance {
            mismatches.push(issue(
                &v.sheet,
                v.row,
                Some(v.column.clone()),
                format!(
                    "{} for {}: the file has {}, the values give {}",
                    v.def.label, v.month, v.value, c
                ),
            ));
        }
    }
    Ok((planned, mismatches))
}

fn errors_message(errors: &[ImportIssue]) -> String {
    let listed: Vec<String> = errors
        .iter()
        .take(MAX_LISTED_ERRORS)
        .map(|e| {
            let mut at = Vec::new();
            if !e.sheet.is_empty() {
                at.push(format!("sheet {}", e.sheet));
            }
            if e.row > 0 {
                at.push(format!("row {}", e.row));
            }
            if let Some(c) = &e.column {
                at.push(format!("column {c}"));
            }
            if at.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", at.join(", "), e.message)
            }
        })
        .collect();
    let more = errors.len().saturating_sub(MAX_LISTED_ERRORS);
    let tail = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(
        "The file has {} error(s); nothing was imported: {}{tail}",
        errors.len(),
        listed.join("; ")
    )
}

/// Previews (`commit` false) or applies (`commit` true, all or nothing) an import.
/// Any validation error fails with 400 `INVALID_BODY` listing them, writing nothing.
pub async fn import(
    conn: &mut AsyncPgConnection,
    org: &Org,
    parsed: &ParsedFile,
    overwrite: bool,
    commit: bool,
    actor: &str,
    ip: Option<&str>,
) -> AppResult<ImportResponse> {
    if !parsed.errors.is_empty() {
        return Err(AppError::invalid_body(errors_message(&parsed.errors)));
    }
    if parsed.inputs.is_empty() && parsed.derived.is_empty() {
        return Err(AppError::invalid_body("The file holds no values"));
    }
    let org_id = org.id;
    let (planned, mismatches, periods) = if commit {
        conn.transaction::<_, AppError, _>(async |conn| {
            lock_organization_writes(conn, org_id).await?;
            let (planned, mismatches) = plan(conn, org_id, parsed, overwrite).await?;
            let mut changed = BTreeSet::new();
            for p in &planned {
                if !matches!(p.cell.action, ImportAction::Created | ImportAction::Changed) {
                    continue;
                }
                let w = ValueWrite {
                    metric: p.def.key,
                    value: p.cell.new_value,
                    vendor_id: 1,
                    source: DataSource::Imported,
                    flags: Vec::new(),
                    notes: p.notes.as_deref(),
                    actor,
                    collected_at: None,
                };
                if store::write_value(conn, org_id, p.month, &w).await? != WriteOutcome::Unchanged {
                    changed.insert(p.month);
                }
            }
            let periods = if changed.is_empty() {
                Vec::new()
            } else {
                recompute::after_inputs_changed(conn, org, &changed, Utc::now()).await?
            };
            let count = |a: ImportAction| planned.iter().filter(|p| p.cell.action == a).count();
            audit::record(
                conn,
                audit::AuditEvent {
                    organization_id: Some(org_id),
                    actor,
                    action: "metrics.import",
                    target: Some(parsed.format),
                    details: serde_json::json!({
                        "created": count(ImportAction::Created),
                        "changed": count(ImportAction::Changed),
                        "unchanged": count(ImportAction::Unchanged),
                        "skipped": count(ImportAction::Skipped),
                        "overwrite": overwrite,
                        "months": changed.iter().map(Month::to_string).collect::<Vec<_>>(),
                    }),
                    ip,
                },
            )
            .await?;
            Ok((planned, mismatches, periods))
        })
        .await?
    } else {
        let (planned, mismatches) = plan(conn, org_id, parsed, overwrite).await?;
        (planned, mismatches, Vec::new())
    };
    let count = |a: ImportAction| planned.iter().filter(|p| p.cell.action == a).count() as u32;
    Ok(ImportResponse {
        organization_id: org_id,
        format: parsed.format.to_string(),
        committed: commit,
        overwrite,
        created_count: count(ImportAction::Created),
        changed_count: count(ImportAction::Changed),
        unchanged_count: count(ImportAction::Unchanged),
        skipped_count: count(ImportAction::Skipped),
        cells: planned.into_iter().map(|p| p.cell).collect(),
        total_mismatches: mismatches,
        recomputed_periods: periods,
    })
}

/// The months of a range of years.
pub fn year_months(years: &[i32]) -> Vec<Month> {
    years
        .iter()
        .flat_map(|&y| (1..=12).filter_map(move |m| Month::new(y, m).ok()))
        .collect()
}

/// The years of the given months, in order.
pub fn years_of(months: &[Month]) -> Vec<i32> {
    months
        .iter()
        .map(|m| m.year())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(parts: &[(&str, usize)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, size) in parts {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file(*name, options).unwrap();
            z.write_all(&vec![b'x'; *size]).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn the_unpacked_count_stops_at_the_cap() {
        let bytes = archive(&[("a.xml", 3000), ("b.xml", 3000)]);
        let mut ar = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        assert!(unpacked_size_within_cap(&mut ar, 6000).is_ok());
        let err = unpacked_size_within_cap(&mut ar, 5000).unwrap_err();
        assert!(err.contains("zip bomb"), "{err}");
        // The check itself passes an honest small workbook.
        assert!(check_zip(&bytes).is_ok());
    }
}
