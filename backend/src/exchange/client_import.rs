//! Per-client history from a file, for the months before collection started: a CSV,
//! or a workbook's first sheet, with the columns `client, month, metric, value` (in
//! any order, by their header). Every row is checked first; clients are found by their
//! normalized name (and created only when asked); values are stored as imported for
//! the client, where they win over collected ones. All or nothing, audited.
use super::file::{column_name, issue, parse_number_text};
use super::zip_guard::check_zip;
use super::ExchangeError;
use crate::store::audit::{self, AuditEvent};
use crate::store::clients as store;
use crate::store::lock_organization_writes;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{DataSource, ImportIssue};
use qbr_shared::clients::api::ClientImportResponse;
use qbr_shared::clients::{normalize_name, ClientMetric};
use qbr_shared::Month;
use std::collections::HashMap;
use std::io::Cursor;

/// The most rows of one file.
const MAX_ROWS: usize = 100_000;
/// The most errors listed in the refusal.
const MAX_LISTED: usize = 10;

/// A row of the file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFileValue {
    pub client: String,
    pub month: Month,
    pub metric: ClientMetric,
    pub value: f64,
    /// The file's row (1 is the header).
    pub row: u32,
}

/// What a file holds.
#[derive(Debug, Default)]
pub struct ClientFile {
    pub format: &'static str,
    pub values: Vec<ClientFileValue>,
    pub errors: Vec<ImportIssue>,
}

/// A metric by its word (`reactive_hours`) or its label (`Reactive hours`).
fn metric_named(s: &str) -> Option<ClientMetric> {
    let t = s.trim();
    ClientMetric::parse(&t.to_ascii_lowercase()).or_else(|| {
        ClientMetric::ALL
            .iter()
            .copied()
            .find(|m| m.label().eq_ignore_ascii_case(t))
    })
}

/// Reads the rows of a CSV or of a workbook's first sheet as text cells.
fn rows_of(name: Option<&str>, bytes: &[u8]) -> Result<(&'static str, Vec<Vec<String>>), String> {
    let named_xlsx = name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".xlsx"));
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(("xlsx", xlsx_rows(bytes)?));
    }
    if named_xlsx {
        return Err("The file is not a workbook (.xlsx): it is not a zip archive".into());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "The file is neither a workbook (.xlsx) nor a UTF-8 CSV file".to_string())?;
    let mut rdr = ::csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .trim(::csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut rows = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| format!("Unreadable CSV: {e}"))?;
        rows.push(record.iter().map(str::to_string).collect());
        if rows.len() > MAX_ROWS + 1 {
            return Err(format!("The file has more than {MAX_ROWS} rows"));
        }
    }
    Ok(("csv", rows))
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    check_zip(bytes)?;
    let mut book = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("The workbook has no sheet")?
        .map_err(|e| format!("The first sheet can't be read: {e}"))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(format!("The sheet has more than {MAX_ROWS} rows"));
    }
    Ok(range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        // A month typed as a date: its year and month.
        Data::DateTime(dt) => excel_month(dt.as_f64()).unwrap_or_default(),
        Data::DateTimeIso(s) => s.chars().take(7).collect(),
        _ => String::new(),
    }
}

/// `YYYY-MM` of an Excel date serial (days since 1899-12-30).
fn excel_month(serial: f64) -> Option<String> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    #[allow(clippy::cast_possible_truncation)]
    let day = epoch.checked_add_signed(chrono::Duration::days(serial.floor() as i64))?;
    Some(day.format("%Y-%m").to_string())
}

/// Reads and checks every row of a file.
pub fn parse_client_file(name: Option<&str>, bytes: &[u8]) -> ClientFile {
    let (format, rows) = match rows_of(name, bytes) {
        Ok(r) => r,
        Err(e) => {
            return ClientFile {
                errors: vec![issue("", 0, None, e)],
                ..ClientFile::default()
            }
        }
    };
    let mut file = ClientFile {
        format,
        ..ClientFile::default()
    };
    let sheet = if format == "csv" { "csv" } else { "" };
    let Some(header) = rows.first() else {
        file.errors.push(issue(sheet, 0, None, "The file is empty"));
        return file;
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(cc), Some(mc), Some(kc), Some(vc)) =
        (col("client"), col("month"), col("metric"), col("value"))
    else {
        file.errors.push(issue(
            sheet,
            1,
            None,
            "The first row must name the columns client, month, metric and value",
        ));
        return file;
    };
    for (i, cells) in rows.iter().enumerate().skip(1) {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let cell = |c: usize| cells.get(c).map_or("", |s| s.trim());
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match read_row(cell(cc), cell(mc), cell(kc), cell(vc)) {
            Ok((client, month, metric, value)) => file.values.push(ClientFileValue {
                client,
                month,
                metric,
                value,
                row,
            }),
            Err((c, message)) => {
                let column = [cc, mc, kc, vc][c];
                let col_name = u32::try_from(column).ok().map(column_name);
                file.errors.push(issue(sheet, row, col_name, message));
            }
        }
    }
    file
}

/// One row's cells checked; the error names which of the four cells is wrong.
fn read_row(
    client: &str,
    month: &str,
    metric: &str,
    value: &str,
) -> Result<(String, Month, ClientMetric, f64), (usize, String)> {
    if client.is_empty() || client.chars().count() > 200 {
        return Err((0, "a client's name has 1 to 200 characters".into()));
    }
    let month: Month = month
        .parse()
        .map_err(|_| (1, format!("'{month}' is not a month as YYYY-MM")))?;
    let metric = metric_named(metric).ok_or_else(|| {
        (
            2,
            format!(
                "'{metric}' is no client metric (one of {})",
                ClientMetric::WORDS.join(", ")
            ),
        )
    })?;
    let v = parse_number_text(value).ok_or_else(|| (3, format!("'{value}' is not a number")))?;
    metric.accepts(v).map_err(|e| (3, e))?;
    Ok((client.to_string(), month, metric, v))
}

fn errors_message(errors: &[ImportIssue]) -> String {
    let listed: Vec<String> = errors
        .iter()
        .take(MAX_LISTED)
        .map(|e| match (&e.column, e.row) {
            (Some(c), r) if r > 0 => format!("row {r}, column {c}: {}", e.message),
            (None, r) if r > 0 => format!("row {r}: {}", e.message),
            _ => e.message.clone(),
        })
        .collect();
    let more = errors.len().saturating_sub(MAX_LISTED);
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

/// Who imports, and how.
#[derive(Clone, Copy, Debug)]
pub struct ClientImportOptions<'a> {
    pub commit: bool,
    /// Create the clients the file names that do not exist yet (else they are refused).
    pub create_clients: bool,
    pub actor: &'a str,
    pub ip: Option<&'a str>,
}

/// Previews or applies a checked file.
pub async fn import_clients(
    conn: &mut AsyncPgConnection,
    org: i32,
    file: &ClientFile,
    opts: ClientImportOptions<'_>,
) -> Result<ClientImportResponse, ExchangeError> {
    if !file.errors.is_empty() {
        return Err(ExchangeError::Invalid(errors_message(&file.errors)));
    }
    if file.values.is_empty() {
        return Err(ExchangeError::Invalid("The file holds no values".into()));
    }
    if opts.commit {
        conn.transaction::<_, ExchangeError, _>(async |conn| {
            lock_organization_writes(conn, org).await?;
            apply(conn, org, file, opts).await
        })
        .await
    } else {
        apply(conn, org, file, opts).await
    }
}

/// Plans the file against the stored clients and values; writes it when committing.
async fn apply(
    conn: &mut AsyncPgConnection,
    org: i32,
    file: &ClientFile,
    opts: ClientImportOptions<'_>,
) -> Result<ClientImportResponse, ExchangeError> {
    let mut ids: HashMap<String, i64> = store::clients(conn, org)
        .await?
        .into_iter()
        .map(|c| (normalize_name(&c.name), c.id))
        .collect();
    let mut new_clients: Vec<String> = Vec::new();
    for v in &file.values {
        let key = normalize_name(&v.client);
        if !ids.contains_key(&key) && !new_clients.iter().any(|n| normalize_name(n) == key) {
            new_clients.push(v.client.clone());
        }
    }
    if !new_clients.is_empty() && !opts.create_clients {
        return Err(ExchangeError::Invalid(format!(
            "No client is named {}: link them on the matching page, fix the names, or \
             import with create_clients=true to create them",
            new_clients
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let now = Utc::now();
    if opts.commit {
        for name in &new_clients {
            let id = store::create_client(conn, org, name, opts.actor, now).await?;
            ids.insert(normalize_name(name), id);
        }
    }
    let months: Vec<Month> = {
        let mut m: Vec<Month> = file.values.iter().map(|v| v.month).collect();
        m.sort();
        m.dedup();
        m
    };
    let stored: HashMap<(i64, Month, String), f64> = store::manual_in(conn, org, &months)
        .await?
        .into_iter()
        .map(|r| {
            let month = Month::from_date(r.month);
            (
                (r.client_id, month, r.metric.clone()),
                crate::store::numeric::to_f64(&r.value),
            )
        })
        .collect();
    let (mut created, mut changed, mut unchanged) = (0u32, 0u32, 0u32);
    for v in &file.values {
        let client = ids.get(&normalize_name(&v.client)).copied();
        let before = client.and_then(|c| stored.get(&(c, v.month, v.metric.as_str().to_string())));
        match before {
            Some(b) if (b - v.value).abs() < 1e-9 => unchanged += 1,
            Some(_) => changed += 1,
            None => created += 1,
        }
        if let (true, Some(client)) = (opts.commit, client) {
            write(conn, org, client, v, opts.actor, now).await?;
        }
    }
    if opts.commit {
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: opts.actor,
                action: AuditAction::ClientsImport,
                target: None,
                details: serde_json::json!({
                    "format": file.format,
                    "rows": file.values.len(),
                    "created": created,
                    "changed": changed,
                    "new_clients": new_clients,
                }),
                ip: opts.ip,
            },
        )
        .await?;
    }
    Ok(ClientImportResponse {
        organization_id: org,
        format: file.format.to_string(),
        committed: opts.commit,
        rows: u32::try_from(file.values.len()).unwrap_or(u32::MAX),
        created_count: created,
        changed_count: changed,
        unchanged_count: unchanged,
        new_clients,
    })
}

async fn write(
    conn: &mut AsyncPgConnection,
    org: i32,
    client: i64,
    v: &ClientFileValue,
    actor: &str,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    let w = store::ManualWrite {
        client_id: client,
        month: v.month,
        metric: v.metric,
        value: v.value,
        source: DataSource::Imported,
        actor,
        now,
    };
    store::write_manual(conn, org, w).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_csv_is_read_by_its_header_and_every_row_checked() {
        let csv = "Month,Client,Metric,Value\n\
                   2024-01,Acme Dental,revenue,\"$4,500.00\"\n\
                   2024-01,Acme Dental,Reactive hours,12.5\n\
                   ,,,\n\
                   2024-13,Acme Dental,revenue,1\n\
                   2024-02,,revenue,1\n\
                   2024-02,Acme,tickets,1\n\
                   2024-02,Acme,service_hours,-5\n";
        let f = parse_client_file(Some("history.csv"), csv.as_bytes());
        assert_eq!(f.format, "csv");
        assert_eq!(f.values.len(), 2);
        assert_eq!(f.values[0].value, 4500.0);
        assert_eq!(f.values[1].metric, ClientMetric::ReactiveHours);
        assert_eq!(f.values[1].row, 3);
        let at: Vec<(u32, Option<&str>)> = f
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            [
                (5, Some("A")),
                (6, Some("B")),
                (7, Some("C")),
                (8, Some("D"))
            ]
        );
        let bad = parse_client_file(None, b"client,month,value\nA,2024-01,1\n");
        assert!(bad.errors[0]
            .message
            .contains("client, month, metric and value"));
    }
}
