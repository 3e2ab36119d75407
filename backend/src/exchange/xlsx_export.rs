//! The owners' "Monthly Business Review" workbook (`workbook.md`): one sheet per year
//! with number formats and the previous year's comparison rows, and a SmartNumbers
//! sheet with each quarter's numbers.
use super::{ExchangeError, StoredValue};
use qbr_shared::catalogue::Unit;
use qbr_shared::workbook::{sections, year_total, COMPARED_WITH_PREVIOUS_YEAR, MONTH_HEADERS};
use qbr_shared::{Month, Period};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use std::collections::HashMap;

fn xlsx_err(e: XlsxError) -> ExchangeError {
    ExchangeError::Write {
        format: "XLSX",
        message: e.to_string(),
    }
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
) -> Result<Vec<u8>, ExchangeError> {
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
    Period::Year(year)
        .months()
        .into_iter()
        .map(|month| index.get(&(month, key)).copied())
        .collect()
}

fn write_months(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    values: &[Option<f64>],
    fmt: &Format,
) -> Result<(), ExchangeError> {
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            ws.write_number_with_format(row, i as u16 + 1, *v, fmt)
                .map_err(xlsx_err)?;
        }
    }
    Ok(())
}
