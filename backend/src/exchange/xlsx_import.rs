//! Reading a Monthly Business Review workbook: each year sheet's header row of months,
//! its title's year, every labelled row's month cells (text such as `$1,234` or
//! `12.5%` too). The archive is checked first (`zip_guard`).
use super::file::{add_value, column_name, issue, parse_number_text, FileValue, ParsedFile};
use super::zip_guard::check_zip;
use calamine::{Data, Reader, Xlsx};
use qbr_shared::catalogue::{metric_by_label, Category};
use qbr_shared::workbook::MONTH_HEADERS;
use qbr_shared::Month;
use std::collections::HashMap;
use std::io::Cursor;

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

pub(super) fn parse_xlsx(bytes: &[u8]) -> ParsedFile {
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
