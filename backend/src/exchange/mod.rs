//! Data in and out: the long CSV layout and the owners' Monthly Business Review workbook
//! (`workbook.md`), exported from the store and imported into it (preview, then all or
//! nothing), shared by the API and `qbr import`. Errors are [`ExchangeError`]s, which
//! the API turns into its error envelope.
pub mod client_import;
mod csv;
pub mod file;
pub mod plan;
pub mod xlsx_export;
pub mod xlsx_import;
pub mod zip_guard;

pub use file::{parse_file, ParsedFile};
pub use plan::{import, ImportOptions};
pub use xlsx_export::QuarterNumbers;

use crate::error::AppError;
use crate::store::metrics as store;
use crate::store::smartnumbers;
use diesel_async::AsyncPgConnection;
use qbr_shared::api::DataSource;
use qbr_shared::{Month, Period};
use std::collections::BTreeSet;

/// Largest accepted import file.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The file can't be imported; the message says why (400 `INVALID_BODY`).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Writing a CSV or XLSX file failed (a server error).
    #[error("writing the {format} file: {message}")]
    Write {
        format: &'static str,
        message: String,
    },
}

impl From<ExchangeError> for AppError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Invalid(message) => AppError::invalid_body(message),
            ExchangeError::Database(e) => AppError::from(e),
            write @ ExchangeError::Write { .. } => AppError::internal(write),
        }
    }
}

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
) -> Result<Vec<StoredValue>, ExchangeError> {
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

/// The SmartNumbers of the quarters of the given years, from the store.
pub async fn load_numbers(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> Result<Vec<QuarterNumbers>, ExchangeError> {
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

/// What an export can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The long layout, inputs only.
    Csv,
    /// The Monthly Business Review workbook.
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The stored values of `months` as a file: CSV (the months' inputs) or XLSX (one
/// sheet per year, whole years with the previous year's totals, and the quarters'
/// SmartNumbers).
pub async fn export(
    conn: &mut AsyncPgConnection,
    org: i32,
    format: Format,
    months: &[Month],
) -> Result<Vec<u8>, ExchangeError> {
    match format {
        Format::Csv => csv::export_csv(&load_values(conn, org, months).await?),
        Format::Xlsx => {
            let years = years_of(months);
            let first = years.first().copied().unwrap_or_default();
            let all: Vec<Month> = std::iter::once(first - 1)
                .chain(years.iter().copied())
                .flat_map(|y| Period::Year(y).months())
                .collect();
            let values = load_values(conn, org, &all).await?;
            let numbers = load_numbers(conn, org, months).await?;
            xlsx_export::export_xlsx(&years, &values, &numbers)
        }
    }
}

/// The years of the given months, in order.
fn years_of(months: &[Month]) -> Vec<i32> {
    months
        .iter()
        .map(|m| m.year())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
