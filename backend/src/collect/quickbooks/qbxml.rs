//! qbXML, the language of QuickBooks Desktop (through the Web Connector): the requests
//! the server asks QuickBooks to run, and the reading of QuickBooks' answers. Answers
//! are read as a stream (quick-xml): no DTD, no entity beyond XML's five, a size and a
//! depth limit, so a hostile or broken answer costs little and is refused clearly.
//!
//! The signatures of [`request_xml`] and [`read_answer`] are the contract the Web
//! Connector service (`qbwc.rs`) uses.
//!
//! ## What QuickBooks answers (Intuit's qbXML reference, `qbxmlops` message definitions,
//! and the "Processing report responses" page of the Desktop SDK guide)
//! - Every answer is `<QBXML><QBXMLMsgsRs><XxxRs requestID statusCode statusSeverity
//!   statusMessage>`; `statusCode` 0 is success, 1 is "no matching object" (an empty query
//!   result, severity `Info`), other codes with severity `Error` are failures; `Warn`
//!   answers still carry their data.
//! - A report (`ReportRet`) describes its columns first (`ColDesc colID dataType` with
//!   `ColTitle titleRow value` and `ColType`: the first column is the `Label`, a month
//!   column is titled like `Jan 25`, the last one `TOTAL`), then `ReportData`: a FLAT list
//!   of `TextRow`, `DataRow`, `SubtotalRow` and `TotalRow`. Nesting is only implied by
//!   the order: a `TextRow` opens a group (a section heading such as `Income`, or a parent
//!   account), the `SubtotalRow` `Total <name>` closes it.
//! - In a profit-and-loss report each account's `DataRow` carries `RowData
//!   rowType="account" value="<full name>"` (`Amex:Amex sub`) while its label `ColData`
//!   shows the leaf (`Amex sub`); the parent opens with a `TextRow` of its leaf name and
//!   closes with a `SubtotalRow` whose `RowData` names it again (`Amex`). A parent's own
//!   postings come as a `DataRow` inside its group, `RowData` naming the parent, labelled
//!   `<parent> - Other`. Section subtotals (`Total Income`, `Total COGS`, ...) carry no
//!   `RowData`. The reader also accepts leaf names in `RowData`, or none at all (the name
//!   then comes from the label and the open groups), so the full name comes out the same.
use super::customers::CustomerSales;
use chrono::{Datelike, NaiveDate};
use qbr_shared::period::Month;
use qbr_shared::quickbooks::{PnlAccount, PnlReport, Section};
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use std::collections::{BTreeMap, HashMap};

/// The qbXML version the requests declare (QuickBooks 2015 and later understand 13.0).
pub const QBXML_VERSION: &str = "13.0";

/// Largest answer read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 20 * 1024 * 1024;

/// Deepest element nesting read. A report answer nests 7 deep (`QBXML`, `QBXMLMsgsRs`,
/// the `...Rs`, `ReportRet`, `ReportData`, `DataRow`, `ColData`); the limit leaves room
/// for what QuickBooks may add and stops a nesting bomb early.
pub const MAX_DEPTH: usize = 32;

/// Accrual or cash basis of the profit-and-loss report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Accrual,
    Cash,
}

impl Basis {
    /// The `ReportBasis` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Accrual => "Accrual",
            Basis::Cash => "Cash",
        }
    }
}

/// What the server asks QuickBooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `GeneralSummaryReportQueryRq`, `ProfitAndLossStandard`, by month, `from`..=`to`.
    ProfitAndLoss {
        from: NaiveDate,
        to: NaiveDate,
        basis: Basis,
    },
    /// `GeneralSummaryReportQueryRq`, `SalesByCustomerSummary`, by month: revenue per
    /// client.
    SalesByCustomer {
        from: NaiveDate,
        to: NaiveDate,
        basis: Basis,
    },
    /// `EmployeeQueryRq`, active employees only.
    ActiveEmployees,
    /// `PreferencesQueryRq`, for the closing date.
    Preferences,
}

impl Request {
    /// The request element.
    pub fn rq_name(&self) -> &'static str {
        match self {
            Request::ProfitAndLoss { .. } | Request::SalesByCustomer { .. } => {
                "GeneralSummaryReportQueryRq"
            }
            Request::ActiveEmployees => "EmployeeQueryRq",
            Request::Preferences => "PreferencesQueryRq",
        }
    }

    /// The answer element.
    pub fn rs_name(&self) -> &'static str {
        match self {
            Request::ProfitAndLoss { .. } | Request::SalesByCustomer { .. } => {
                "GeneralSummaryReportQueryRs"
            }
            Request::ActiveEmployees => "EmployeeQueryRs",
            Request::Preferences => "PreferencesQueryRs",
        }
    }
}

/// What QuickBooks answered to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    ProfitAndLoss(PnlReport),
    CustomerSales(CustomerSales),
    ActiveEmployees(u32),
    /// The closing date of the books, when one is set.
    Preferences {
        closing_date: Option<NaiveDate>,
    },
    /// A `statusSeverity="Error"` answer (`statusCode` other than 0, or 1 "no match" for
    /// queries, which is not an error).
    Error {
        code: i64,
        message: String,
    },
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QbxmlError {
    #[error("the answer is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the answer declares a DTD or an entity, which are not accepted")]
    Dtd,
    #[error("the answer is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the answer is not what was asked: {0}")]
    Unexpected(String),
}

// ------------------------------------------------------------------ requests

/// The qbXML document of `request` (with its `<?qbxml?>` version and `requestID`).
///
/// qbXML is validated against its schema, so the children come in the schema's order:
/// for `GeneralSummaryReportQueryRq` that is `GeneralSummaryReportType`, `DisplayReport`,
/// `ReportPeriod` (`FromReportDate`, `ToReportDate`), the filters, `SummarizeColumnsBy`,
/// `IncludeSubcolumns`, `ReportCalendar`, `ReturnRows`, `ReturnColumns`, `ReportBasis`.
pub fn request_xml(request: &Request, request_id: &str) -> String {
    let mut body = String::new();
    match request {
        Request::ProfitAndLoss { from, to, basis } => {
            summary_report(&mut body, "ProfitAndLossStandard", (*from, *to), *basis);
        }
        Request::SalesByCustomer { from, to, basis } => {
            summary_report(&mut body, "SalesByCustomerSummary", (*from, *to), *basis);
        }
        Request::ActiveEmployees => {
            leaf(&mut body, "ActiveStatus", "ActiveOnly");
            // Only the count matters: ask for the ListID alone, so names, social security
            // numbers and pay never leave QuickBooks.
            leaf(&mut body, "IncludeRetElement", "ListID");
        }
        Request::Preferences => {}
    }
    let rq = request.rq_name();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?qbxml version=\"{QBXML_VERSION}\"?>\n\
         <QBXML><QBXMLMsgsRq onError=\"stopOnError\"><{rq} requestID=\"{id}\">{body}</{rq}>\
         </QBXMLMsgsRq></QBXML>",
        id = escape(request_id),
    )
}

/// A summary report of `report_type` by month over `from..=to`.
fn summary_report(
    body: &mut String,
    report_type: &str,
    (from, to): (NaiveDate, NaiveDate),
    basis: Basis,
) {
    leaf(body, "GeneralSummaryReportType", report_type);
    body.push_str("<ReportPeriod>");
    leaf(body, "FromReportDate", &qb_date(from));
    leaf(body, "ToReportDate", &qb_date(to));
    body.push_str("</ReportPeriod>");
    leaf(body, "SummarizeColumnsBy", "Month");
    // QuickBooks' default shows only the months with activity; every month of the
    // window must come back, even an empty one.
    leaf(body, "ReturnColumns", "All");
    leaf(body, "ReportBasis", basis.as_str());
}

/// Appends `<name>value</name>`.
fn leaf(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// qbXML's `DATETYPE`: `YYYY-MM-DD`.
fn qb_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ------------------------------------------------------------------ the answer

/// Reads QuickBooks' answer to `asked`.
pub fn read_answer(xml: &str, asked: &Request) -> Result<Answer, QbxmlError> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(QbxmlError::TooLarge);
    }
    let mut doc = Doc::new(xml);
    let rs = doc.open_response()?;
    if rs.name != asked.rs_name() {
        return Err(QbxmlError::Unexpected(format!(
            "{} answers a request that was not made ({} was asked)",
            rs.name,
            asked.rq_name()
        )));
    }
    let answer = match Status::of(&rs)?.outcome() {
        Outcome::Failed { code, message } => {
            doc.skip()?;
            Answer::Error { code, message }
        }
        Outcome::NoMatch => {
            doc.skip()?;
            empty_answer(asked)
        }
        Outcome::Data => read_data(&mut doc, asked)?,
    };
    doc.finish()?;
    Ok(answer)
}

/// What a query that found nothing means.
fn empty_answer(asked: &Request) -> Answer {
    match asked {
        Request::ProfitAndLoss { from, to, .. } => Answer::ProfitAndLoss(PnlReport {
            months: months_between(*from, *to),
            ..PnlReport::default()
        }),
        Request::SalesByCustomer { from, to, .. } => {
            Answer::CustomerSales(CustomerSales::empty(months_between(*from, *to)))
        }
        Request::ActiveEmployees => Answer::ActiveEmployees(0),
        Request::Preferences => Answer::Preferences { closing_date: None },
    }
}

/// Reads the children of the `...Rs` element.
fn read_data(doc: &mut Doc, asked: &Request) -> Result<Answer, QbxmlError> {
    Ok(match asked {
        Request::ProfitAndLoss { from, to, basis } => Answer::ProfitAndLoss(
            read_report::<Builder>(doc, Period::new(*from, *to), *basis)?,
        ),
        Request::SalesByCustomer { from, to, basis } => {
            Answer::CustomerSales(read_report::<CustomerRows>(
                doc,
                Period::new(*from, *to),
                *basis,
            )?)
        }
        Request::ActiveEmployees => Answer::ActiveEmployees(count_children(doc, "EmployeeRet")?),
        Request::Preferences => Answer::Preferences {
            closing_date: read_closing_date(doc)?,
        },
    })
}

/// The months `from..=to` touches, oldest first.
fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<Month> {
    let (first, last) = (Month::from_date(from), Month::from_date(to));
    let mut out = Vec::new();
    let mut m = first;
    while m <= last && out.len() < 1200 {
        out.push(m);
        if m == m.next() {
            break; // the last supported month
        }
        m = m.next();
    }
    out
}

// ------------------------------------------------------------------ status

/// The status attributes of an `...Rs` element.
struct Status {
    code: i64,
    severity: Severity,
    message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Severity {
    Info,
    Warn,
    Error,
}

/// What a status means for reading the answer.
enum Outcome {
    Data,
    NoMatch,
    Failed { code: i64, message: String },
}

/// `statusCode` 1: "A query request did not find a matching object in QuickBooks".
const NO_MATCH: i64 = 1;

impl Status {
    fn of(rs: &Tag) -> Result<Status, QbxmlError> {
        let code = rs
            .attr("statusCode")
            .ok_or_else(|| QbxmlError::Unexpected(format!("{} has no statusCode", rs.name)))?;
        let code = code.trim().parse::<i64>().map_err(|_| {
            QbxmlError::Unexpected(format!("{} has the statusCode {code:?}", rs.name))
        })?;
        // An unknown severity on a failure code is taken for an error: better to stop
        // than to read a half answer as a whole one.
        let severity = match rs.attr("statusSeverity").map(str::trim) {
            Some(s) if s.eq_ignore_ascii_case("info") => Severity::Info,
            Some(s) if s.eq_ignore_ascii_case("warn") || s.eq_ignore_ascii_case("warning") => {
                Severity::Warn
            }
            _ if code == 0 => Severity::Info,
            _ => Severity::Error,
        };
        let message = rs
            .attr("statusMessage")
            .unwrap_or_default()
            .trim()
            .to_string();
        Ok(Status {
            code,
            severity,
            message,
        })
    }

    fn outcome(self) -> Outcome {
        match (self.code, self.severity) {
            (0, _) => Outcome::Data,
            (NO_MATCH, Severity::Info | Severity::Warn) => Outcome::NoMatch,
            (code, Severity::Error) => Outcome::Failed {
                code,
                message: if self.message.is_empty() {
                    format!("QuickBooks status {code}")
                } else {
                    self.message
                },
            },
            // A warning (e.g. 500, "not fully completed") still carries the data.
            _ => Outcome::Data,
        }
    }
}

// ------------------------------------------------------------------ employees and preferences

/// Counts the `name` children of the current element (and consumes it).
fn count_children(doc: &mut Doc, name: &str) -> Result<u32, QbxmlError> {
    let mut n: u32 = 0;
    while let Some(tag) = doc.next_child()? {
        if tag.name == name {
            n = n.saturating_add(1);
        }
        doc.skip()?;
    }
    Ok(n)
}

/// `PreferencesRet` / `AccountingPreferences` / `ClosingDate`, when set.
fn read_closing_date(doc: &mut Doc) -> Result<Option<NaiveDate>, QbxmlError> {
    let mut closing = None;
    while let Some(ret) = doc.next_child()? {
        if ret.name != "PreferencesRet" {
            doc.skip()?;
            continue;
        }
        while let Some(group) = doc.next_child()? {
            if group.name != "AccountingPreferences" {
                doc.skip()?;
                continue;
            }
            while let Some(field) = doc.next_child()? {
                if field.name == "ClosingDate" {
                    closing = parse_date(&doc.text()?)?;
                } else {
                    doc.skip()?;
                }
            }
        }
    }
    Ok(closing)
}

/// A `DATETYPE`; empty is no date.
fn parse_date(text: &str) -> Result<Option<NaiveDate>, QbxmlError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| QbxmlError::Unexpected(format!("the date {text:?} is not YYYY-MM-DD")))
}

// ------------------------------------------------------------------ the report

/// The period asked for.
#[derive(Clone, Copy)]
struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

impl Period {
    fn new(from: NaiveDate, to: NaiveDate) -> Period {
        Period { from, to }
    }

    fn months(self) -> Vec<Month> {
        months_between(self.from, self.to)
    }
}

/// One `ColDesc`.
struct Column {
    id: String,
    data_type: String,
    col_type: String,
    /// The `ColTitle` values, title rows in order, joined by a space.
    title: String,
}

impl Column {
    fn is_label(&self) -> bool {
        self.col_type.eq_ignore_ascii_case("label")
    }

    fn is_total(&self) -> bool {
        self.title.trim().eq_ignore_ascii_case("total")
            || self.col_type.eq_ignore_ascii_case("total")
    }

    /// An amount column (a month or the total): `ColType` `Amount` or `dataType`
    /// `AMTTYPE`, or neither said.
    fn is_amount(&self) -> bool {
        let amount_type = self.col_type.eq_ignore_ascii_case("amount");
        let amount_data = self.data_type.eq_ignore_ascii_case("amttype");
        amount_type || amount_data || (self.col_type.is_empty() && self.data_type.is_empty())
    }
}

/// What a report's rows are read into: the profit and loss's accounts or the
/// customers' sales.
trait ReportRows: Sized {
    type Report;
    fn new(layout: Layout) -> Self;
    fn row(&mut self, row: Row) -> Result<(), QbxmlError>;
    fn finish(self) -> Result<Self::Report, QbxmlError>;
}

fn read_report<R: ReportRows>(
    doc: &mut Doc,
    period: Period,
    basis: Basis,
) -> Result<R::Report, QbxmlError> {
    let mut report = None;
    while let Some(tag) = doc.next_child()? {
        if tag.name == "ReportRet" && report.is_none() {
            report = Some(read_report_ret::<R>(doc, period, basis)?);
        } else {
            doc.skip()?;
        }
    }
    report.ok_or_else(|| QbxmlError::Unexpected("the answer has no ReportRet".into()))
}

fn read_report_ret<R: ReportRows>(
    doc: &mut Doc,
    period: Period,
    basis: Basis,
) -> Result<R::Report, QbxmlError> {
    let mut columns = Vec::new();
    let mut built: Option<R> = None;
    while let Some(tag) = doc.next_child()? {
        match tag.name.as_str() {
            "ReportBasis" => check_basis(&doc.text()?, basis)?,
            "ColDesc" => columns.push(read_column(doc, &tag)?),
            "ReportData" => {
                let mut rows = R::new(Layout::of(&columns, period)?);
                while let Some(row) = doc.next_child()? {
                    let row = read_row(doc, row)?;
                    rows.row(row)?;
                }
                built = Some(rows);
            }
            _ => doc.skip()?,
        }
    }
    match built {
        Some(rows) => rows.finish(),
        // A report without rows: nothing had activity.
        None => R::new(Layout::of(&columns, period)?).finish(),
    }
}

/// Refuses a report of another basis than asked (a cash report read as accrual would
/// store wrong numbers quietly).
fn check_basis(said: &str, asked: Basis) -> Result<(), QbxmlError> {
    let said = said.trim();
    let other = match asked {
        Basis::Accrual => Basis::Cash,
        Basis::Cash => Basis::Accrual,
    };
    if said.eq_ignore_ascii_case(other.as_str()) {
        return Err(QbxmlError::Unexpected(format!(
            "a {said} basis report, {} was asked",
            asked.as_str()
        )));
    }
    Ok(())
}

fn read_column(doc: &mut Doc, tag: &Tag) -> Result<Column, QbxmlError> {
    let mut titles: Vec<(u32, String)> = Vec::new();
    let mut col_type = String::new();
    while let Some(child) = doc.next_child()? {
        match child.name.as_str() {
            "ColTitle" => {
                let row = child.attr("titleRow").and_then(|r| r.trim().parse().ok());
                // Some writers put the title in the text instead of `value`.
                let text = doc.text()?;
                let value = child.attr("value").map(str::to_string).unwrap_or(text);
                titles.push((row.unwrap_or(u32::MAX), value.trim().to_string()));
            }
            "ColType" => col_type = doc.text()?.trim().to_string(),
            _ => doc.skip()?,
        }
    }
    titles.sort_by_key(|(row, _)| *row);
    let title = titles
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Column {
        id: tag.attr("colID").unwrap_or_default().trim().to_string(),
        data_type: tag.attr("dataType").unwrap_or_default().trim().to_string(),
        col_type,
        title,
    })
}

/// Which column holds what.
struct Layout {
    /// The `colID` of the row labels.
    label: Option<String>,
    months: Vec<Month>,
    /// `colID` → index in `months`.
    month_of: HashMap<String, usize>,
}

impl Layout {
    fn of(columns: &[Column], period: Period) -> Result<Layout, QbxmlError> {
        // The label column is typed `Label`; else it is the first one.
        let label = columns
            .iter()
            .find(|c| c.is_label())
            .or_else(|| {
                columns
                    .first()
                    .filter(|c| !c.is_amount() || c.title.is_empty())
            })
            .map(|c| c.id.clone());
        let month_columns: Vec<&Column> = columns
            .iter()
            .filter(|c| Some(&c.id) != label.as_ref() && !c.is_total() && c.is_amount())
            .collect();
        if month_columns.is_empty() {
            return Err(QbxmlError::Unexpected(
                "the report has no month columns".into(),
            ));
        }
        let months = column_months(&month_columns, period)?;
        let month_of = month_columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        Ok(Layout {
            label,
            months,
            month_of,
        })
    }

    /// The amounts of a row, one per month (missing or empty is 0).
    fn amounts(&self, cols: &[(String, String)]) -> Result<Vec<f64>, QbxmlError> {
        let mut out = vec![0.0; self.months.len()];
        for (id, value) in cols {
            if let Some(i) = self.month_of.get(id) {
                out[*i] = parse_amount(value)?;
            }
        }
        Ok(out)
    }

    /// The row's label (`ColData` of the label column).
    fn label<'r>(&self, row: &'r Row) -> &'r str {
        let id = self.label.as_deref();
        row.cols
            .iter()
            .find(|(c, _)| Some(c.as_str()) == id)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    }
}

/// The month of each month column: from the titles (`Jan 25`, `Jan 2025`, `January
/// 2025`, `Jan 15 - 31, 25` for a part of a month) when they all read as increasing
/// months of the period, else by position when there is one column per month asked.
fn column_months(columns: &[&Column], period: Period) -> Result<Vec<Month>, QbxmlError> {
    let expected = period.months();
    let (Some(&first), Some(&last)) = (expected.first(), expected.last()) else {
        return Err(QbxmlError::Unexpected("the period asked is empty".into()));
    };
    let titled: Option<Vec<Month>> = columns
        .iter()
        .map(|c| month_of_title(&c.title, period.from.year()))
        .collect();
    if let Some(months) = titled {
        let increasing = months.windows(2).all(|w| w[0] < w[1]);
        let inside = months.iter().all(|m| (first..=last).contains(m));
        if increasing && inside {
            return Ok(months);
        }
    }
    if columns.len() == expected.len() {
        return Ok(expected);
    }
    let titles: Vec<&str> = columns.iter().map(|c| c.title.as_str()).collect();
    Err(QbxmlError::Unexpected(format!(
        "the report's columns {titles:?} are not the months {first} to {last}"
    )))
}

/// The month a column title names, or `None`. Two-digit years are taken in the century
/// nearest `near_year`.
fn month_of_title(title: &str, near_year: i32) -> Option<Month> {
    let lower = title.to_ascii_lowercase().replace('\'', " ");
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .filter(|t| !t.is_empty())
        .collect();
    let month = month_number(tokens.first()?)?;
    // `Jan 25` / `Jan 2025`, or `Jan 15 - 31, 25` where the year follows the comma.
    let year = match tokens.len() {
        2 => tokens[1],
        n if n > 2 && lower.contains(',') => tokens[n - 1],
        _ => return None,
    };
    if !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = match (year.len(), year.parse::<i32>().ok()?) {
        (2, yy) => nearest_century(yy, near_year),
        (4, yyyy) => yyyy,
        _ => return None,
    };
    Month::new(year, month).ok()
}

fn month_number(word: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let position = NAMES.iter().position(|n| word.starts_with(n))?;
    u32::try_from(position + 1).ok()
}

fn nearest_century(yy: i32, near_year: i32) -> i32 {
    let century = near_year.div_euclid(100) * 100;
    [century - 100, century, century + 100]
        .into_iter()
        .map(|c| c + yy)
        .min_by_key(|y| (y - near_year).abs())
        .unwrap_or(century + yy)
}

/// An `AMTTYPE` value: `1234.56`, `-50.00`; empty is 0. Thousands separators and
/// parentheses for negatives are accepted too.
fn parse_amount(value: &str) -> Result<f64, QbxmlError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(0.0);
    }
    let (negative, digits) = match v.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(inner) => (true, inner),
        None => (false, v),
    };
    let cleaned: String = digits.chars().filter(|c| *c != ',').collect();
    let n = cleaned
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| QbxmlError::Unexpected(format!("the amount {value:?} is not a number")))?;
    Ok(if negative { -n } else { n })
}

/// One row of `ReportData`.
struct Row {
    kind: RowKind,
    /// A `TextRow`'s `value`.
    value: Option<String>,
    /// `RowData rowType value`.
    row_data: Option<(String, String)>,
    /// `ColData colID value`, in order.
    cols: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Text,
    Data,
    Subtotal,
    Total,
    Other,
}

impl Row {
    /// The account `RowData` names, when it names one.
    fn account(&self) -> Option<&str> {
        match &self.row_data {
            Some((kind, value))
                if kind.eq_ignore_ascii_case("account") && !value.trim().is_empty() =>
            {
                Some(value.trim())
            }
            _ => None,
        }
    }
}

fn read_row(doc: &mut Doc, tag: Tag) -> Result<Row, QbxmlError> {
    let kind = match tag.name.as_str() {
        "TextRow" => RowKind::Text,
        "DataRow" => RowKind::Data,
        "SubtotalRow" => RowKind::Subtotal,
        "TotalRow" => RowKind::Total,
        _ => RowKind::Other,
    };
    let mut row = Row {
        kind,
        value: tag.attr("value").map(str::to_string),
        row_data: None,
        cols: Vec::new(),
    };
    while let Some(child) = doc.next_child()? {
        match child.name.as_str() {
            "RowData" => {
                let kind = child.attr("rowType").unwrap_or_default().to_string();
                let value = child.attr("value").unwrap_or_default().to_string();
                row.row_data = Some((kind, value));
            }
            "ColData" => {
                let id = child.attr("colID").unwrap_or_default().trim().to_string();
                let value = child.attr("value").unwrap_or_default().to_string();
                row.cols.push((id, value));
            }
            _ => {}
        }
        doc.skip()?;
    }
    Ok(row)
}

/// A group the rows are inside of.
#[derive(Clone, Debug)]
enum Group {
    /// `Ordinary Income/Expense`, `Other Income/Expense`.
    Heading(String),
    /// `Income`, `Cost of Goods Sold`, `Expense`, `Other Income`, `Other Expense`.
    Section(Section, String),
    /// A parent account: its full name and its leaf (as the report shows it).
    Account { full: String, leaf: String },
}

impl Group {
    /// Whether a `Total <name>` row closes this group.
    fn closed_by(&self, name: &str) -> bool {
        let name = name.trim();
        match self {
            Group::Heading(h) => h.eq_ignore_ascii_case(name),
            Group::Section(s, h) => {
                h.eq_ignore_ascii_case(name) || Section::of_heading(name) == Some(*s)
            }
            Group::Account { full, leaf } => {
                let name = strip_number(name);
                name == leaf || name == full
            }
        }
    }
}

/// Builds the report from its rows, keeping the groups open.
struct Builder {
    layout: Layout,
    groups: Vec<Group>,
    accounts: Vec<PnlAccount>,
    /// Full name → index in `accounts`.
    index: HashMap<String, usize>,
    totals: BTreeMap<String, Vec<f64>>,
}

impl ReportRows for Builder {
    type Report = PnlReport;

    fn new(layout: Layout) -> Builder {
        Builder {
            layout,
            groups: Vec::new(),
            accounts: Vec::new(),
            index: HashMap::new(),
            totals: BTreeMap::new(),
        }
    }

    fn finish(self) -> Result<PnlReport, QbxmlError> {
        Ok(PnlReport {
            months: self.layout.months,
            accounts: self.accounts,
            totals: self.totals,
        })
    }

    fn row(&mut self, row: Row) -> Result<(), QbxmlError> {
        match row.kind {
            RowKind::Text => {
                self.text_row(&row);
                Ok(())
            }
            RowKind::Data => self.data_row(&row),
            RowKind::Subtotal => self.subtotal_row(&row),
            // `Net Income`: the report is over.
            RowKind::Total => {
                self.groups.clear();
                Ok(())
            }
            RowKind::Other => Ok(()),
        }
    }
}

impl Builder {
    fn section(&self) -> Option<Section> {
        self.groups.iter().rev().find_map(|g| match g {
            Group::Section(s, _) => Some(*s),
            _ => None,
        })
    }

    /// The innermost open parent account (its full name and leaf).
    fn parent(&self) -> Option<(&str, &str)> {
        match self.groups.last() {
            Some(Group::Account { full, leaf }) => Some((full, leaf)),
            _ => None,
        }
    }

    /// A heading, a section or a parent account.
    fn text_row(&mut self, row: &Row) {
        let text = row
            .value
            .as_deref()
            .or(row.row_data.as_ref().map(|(_, v)| v.as_str()))
            .or(row.cols.first().map(|(_, v)| v.as_str()))
            .unwrap_or_default()
            .trim()
            .to_string();
        if text.is_empty() {
            return; // a spacer
        }
        let in_account = self.parent().is_some();
        // `Ordinary Income/Expense` and `Other Income/Expense` start over.
        if !in_account && text.to_ascii_lowercase().contains("income/expense") {
            self.groups.clear();
            self.groups.push(Group::Heading(text));
            return;
        }
        // A section heading, unless an account of the section has the section's name
        // (a section never opens inside itself).
        if let Some(section) = Section::of_heading(&text) {
            if !in_account && self.section() != Some(section) {
                self.groups.retain(|g| matches!(g, Group::Heading(_)));
                self.groups.push(Group::Section(section, text));
                return;
            }
        }
        if self.section().is_none() {
            self.groups.push(Group::Heading(text));
            return;
        }
        let leaf = strip_number(&text).to_string();
        let full = match (row.account(), self.parent()) {
            (Some(named), _) if named.contains(':') => named.to_string(),
            (_, Some((parent, _))) => format!("{parent}:{leaf}"),
            (_, None) => leaf.clone(),
        };
        self.groups.push(Group::Account { full, leaf });
    }

    fn data_row(&mut self, row: &Row) -> Result<(), QbxmlError> {
        let label = self.layout.label(row).to_string();
        if let Some((kind, _)) = &row.row_data {
            if !kind.eq_ignore_ascii_case("account") && !kind.is_empty() {
                return Ok(()); // not an account row
            }
        }
        let Some(full_name) = self.account_name(row.account(), &label) else {
            return Ok(());
        };
        let section = self.section().ok_or_else(|| {
            QbxmlError::Unexpected(format!("the account {full_name:?} is outside any section"))
        })?;
        let amounts = self.layout.amounts(&row.cols)?;
        self.add(full_name, section, amounts);
        Ok(())
    }

    /// The full name of a data row's account, from its `RowData` (a full name, or a
    /// leaf) or else its label, and the open parent account.
    fn account_name(&self, named: Option<&str>, label: &str) -> Option<String> {
        let parent = self.parent();
        let name = match (named, parent) {
            (Some(n), _) if n.contains(':') => n.to_string(),
            // The parent's own postings (`Managed Services - Other`).
            (Some(n), Some((full, leaf))) if n == full || n == leaf => full.to_string(),
            (Some(n), Some((full, _))) => format!("{full}:{n}"),
            (Some(n), None) => n.to_string(),
            (None, _) if label.is_empty() => return None,
            (None, Some((full, leaf))) => {
                let l = strip_number(label);
                let own = l
                    .strip_suffix(" - Other")
                    .is_some_and(|p| strip_number(p) == leaf);
                if l == leaf || own {
                    full.to_string()
                } else {
                    format!("{full}:{l}")
                }
            }
            (None, None) => strip_number(label).to_string(),
        };
        Some(name)
    }

    fn add(&mut self, full_name: String, section: Section, amounts: Vec<f64>) {
        match self.index.get(&full_name) {
            Some(i) => {
                for (sum, a) in self.accounts[*i].amounts.iter_mut().zip(amounts) {
                    *sum += a;
                }
            }
            None => {
                self.index.insert(full_name.clone(), self.accounts.len());
                self.accounts.push(PnlAccount {
                    full_name,
                    section,
                    amounts,
                });
            }
        }
    }

    /// Closes the group it totals; a section's total is kept.
    fn subtotal_row(&mut self, row: &Row) -> Result<(), QbxmlError> {
        let label = self.layout.label(row).to_string();
        let closes = match row.account() {
            Some(account) => self.groups.iter().rposition(|g| match g {
                Group::Account { full, leaf } => account == full || account == leaf,
                _ => false,
            }),
            None => strip_total(&label)
                .and_then(|name| self.groups.iter().rposition(|g| g.closed_by(name))),
        };
        match closes {
            Some(at) => {
                let closed = self.groups.split_off(at);
                if let Some(Group::Section(section, _)) = closed.first() {
                    let amounts = self.layout.amounts(&row.cols)?;
                    self.totals.insert(section.as_str().to_string(), amounts);
                }
            }
            // A section's total whose heading was not seen.
            None if row.account().is_none() => {
                if let Some(section) = strip_total(&label).and(Section::of_heading(&label)) {
                    let amounts = self.layout.amounts(&row.cols)?;
                    self.totals.insert(section.as_str().to_string(), amounts);
                }
            }
            // `Gross Profit`, `Net Ordinary Income`: nothing to keep.
            None => {}
        }
        Ok(())
    }
}

/// The rows of a sales-by-customer report. A customer without jobs is one `DataRow`
/// (`RowData rowType="customer" value="<full name>"`); a customer with jobs opens with a
/// `TextRow` of its name, its jobs' `DataRow`s (full names `Customer:Job`) and its own
/// sales (`<customer> - Other`) follow, and a `SubtotalRow` closes it; the `TotalRow`
/// is the report's total, checked against the customers' sum.
struct CustomerRows {
    layout: Layout,
    /// The customers (and jobs with jobs of their own) open around the row.
    open: Vec<String>,
    sales: CustomerSales,
    total: Option<Vec<f64>>,
}

impl ReportRows for CustomerRows {
    type Report = CustomerSales;

    fn new(layout: Layout) -> CustomerRows {
        let sales = CustomerSales::empty(layout.months.clone());
        CustomerRows {
            layout,
            open: Vec::new(),
            sales,
            total: None,
        }
    }

    fn row(&mut self, row: Row) -> Result<(), QbxmlError> {
        match row.kind {
            RowKind::Text => {
                let name = row
                    .value
                    .as_deref()
                    .or(row.row_data.as_ref().map(|(_, v)| v.as_str()))
                    .unwrap_or_else(|| self.layout.label(&row))
                    .trim()
                    .to_string();
                if !name.is_empty() {
                    self.open.push(name);
                }
            }
            RowKind::Data => {
                let name = self.customer_of(&row);
                let amounts = self.layout.amounts(&row.cols)?;
                self.sales.add(&name, &amounts);
            }
            RowKind::Subtotal => {
                self.open.pop();
            }
            RowKind::Total => self.total = Some(self.layout.amounts(&row.cols)?),
            RowKind::Other => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<CustomerSales, QbxmlError> {
        if let Some(total) = &self.total {
            self.sales
                .check_total(total)
                .map_err(|e| QbxmlError::Unexpected(e.to_string()))?;
        }
        Ok(self.sales)
    }
}

impl CustomerRows {
    /// The name of a data row's customer: its `RowData` when that is a full name
    /// (`Customer:Job`), else the outermost open customer (a job named by its leaf, or
    /// the customer's own sales), else the `RowData` or the label.
    fn customer_of(&self, row: &Row) -> String {
        let named = row
            .row_data
            .as_ref()
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty());
        match (named, self.open.first()) {
            (Some(n), _) if n.contains(':') => n.to_string(),
            (_, Some(outer)) => outer.clone(),
            (Some(n), None) => n.to_string(),
            (None, None) => self.layout.label(row).to_string(),
        }
    }
}

/// `Total Income` → `Income` (any case of `Total`).
fn strip_total(label: &str) -> Option<&str> {
    let label = label.trim();
    let head = label.get(..6)?;
    head.eq_ignore_ascii_case("total ")
        .then(|| label[6..].trim())
}

/// `4000 · Managed Services` → `Managed Services`: QuickBooks prefixes labels with the
/// account number when account numbers are on.
fn strip_number(label: &str) -> &str {
    let label = label.trim();
    match label.split_once(" \u{b7} ") {
        Some((number, name)) if !number.is_empty() && !number.contains(':') => name.trim(),
        _ => label,
    }
}

// ------------------------------------------------------------------ the stream

/// An element start, with its local name and unescaped attributes.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the stream yields.
enum Node {
    Open(Tag),
    Close,
    Text(String),
    Eof,
}

/// A checked stream of the answer: refuses DTDs and unknown entities, limits depth,
/// merges text and references, and keeps a single root.
struct Doc<'a> {
    reader: Reader<&'a [u8]>,
    depth: usize,
    roots: usize,
    pending: Option<Node>,
}

impl<'a> Doc<'a> {
    fn new(xml: &'a str) -> Doc<'a> {
        let mut reader = Reader::from_str(xml);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Doc {
            reader,
            depth: 0,
            roots: 0,
            pending: None,
        }
    }

    fn next(&mut self) -> Result<Node, QbxmlError> {
        if let Some(node) = self.pending.take() {
            return Ok(node);
        }
        let mut text = String::new();
        loop {
            let depth_before = self.depth;
            let node = match self.reader.read_event().map_err(xml_error)? {
                Event::Start(e) => Node::Open(self.open(&e)?),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Node::Close
                }
                // Not produced with `expand_empty_elements`; kept for completeness.
                Event::Empty(e) => {
                    let tag = self.open(&e)?;
                    self.depth = self.depth.saturating_sub(1);
                    self.pending = Some(Node::Close);
                    Node::Open(tag)
                }
                Event::Text(t) => {
                    text.push_str(&t.decode().map_err(|e| xml_error(e.into()))?);
                    continue;
                }
                Event::CData(t) => {
                    text.push_str(&t.decode().map_err(|e| xml_error(e.into()))?);
                    continue;
                }
                Event::GeneralRef(r) => {
                    text.push(resolve_reference(&r)?);
                    continue;
                }
                Event::DocType(_) => return Err(QbxmlError::Dtd),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
                Event::Eof if self.depth > 0 => return Err(ended_inside()),
                Event::Eof if self.roots == 0 => {
                    return Err(QbxmlError::Malformed("the answer holds no element".into()))
                }
                Event::Eof => Node::Eof,
            };
            if text.trim().is_empty() {
                return Ok(node);
            }
            if depth_before == 0 {
                return Err(QbxmlError::Malformed(
                    "text outside the root element".into(),
                ));
            }
            self.pending = Some(node);
            return Ok(Node::Text(text));
        }
    }

    /// An element starts: depth and root checks, name and attributes read.
    fn open(&mut self, e: &BytesStart) -> Result<Tag, QbxmlError> {
        if self.depth == 0 {
            self.roots += 1;
            if self.roots > 1 {
                return Err(QbxmlError::Malformed("more than one root element".into()));
            }
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QbxmlError::Unexpected(format!(
                "elements nested deeper than {MAX_DEPTH}"
            )));
        }
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let decoder = self.reader.decoder();
        let mut attrs = Vec::new();
        for attr in e.attributes() {
            let attr = attr.map_err(|e| xml_error(e.into()))?;
            let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
            let value = attr
                .decode_and_unescape_value_with(decoder, resolve_predefined_entity)
                .map_err(xml_error)?;
            attrs.push((key, value.into_owned()));
        }
        Ok(Tag { name, attrs })
    }

    /// The next child element of the current one, or `None` when the current one closes.
    fn next_child(&mut self) -> Result<Option<Tag>, QbxmlError> {
        loop {
            match self.next()? {
                Node::Open(tag) => return Ok(Some(tag)),
                Node::Close => return Ok(None),
                Node::Text(_) => {}
                Node::Eof => return Err(ended_inside()),
            }
        }
    }

    /// Consumes the rest of the current element.
    fn skip(&mut self) -> Result<(), QbxmlError> {
        let mut level = 1usize;
        loop {
            match self.next()? {
                Node::Open(_) => level += 1,
                Node::Close => {
                    level -= 1;
                    if level == 0 {
                        return Ok(());
                    }
                }
                Node::Text(_) => {}
                Node::Eof => return Err(ended_inside()),
            }
        }
    }

    /// The text of the current element (nested elements skipped), consuming it.
    fn text(&mut self) -> Result<String, QbxmlError> {
        let mut out = String::new();
        loop {
            match self.next()? {
                Node::Open(_) => self.skip()?,
                Node::Close => return Ok(out),
                Node::Text(t) => out.push_str(&t),
                Node::Eof => return Err(ended_inside()),
            }
        }
    }

    /// Reads `<QBXML><QBXMLMsgsRs>` and opens the first `...Rs`.
    fn open_response(&mut self) -> Result<Tag, QbxmlError> {
        self.expect_child("QBXML")?;
        self.expect_child("QBXMLMsgsRs")?;
        self.next_child()?
            .ok_or_else(|| QbxmlError::Unexpected("QBXMLMsgsRs holds no answer".into()))
    }

    fn expect_child(&mut self, name: &str) -> Result<Tag, QbxmlError> {
        let tag = loop {
            match self.next()? {
                Node::Open(tag) => break tag,
                Node::Text(_) => {}
                Node::Close | Node::Eof => {
                    return Err(QbxmlError::Unexpected(format!("no {name} element")))
                }
            }
        };
        if tag.name != name {
            return Err(QbxmlError::Unexpected(format!(
                "{} where {name} was expected",
                tag.name
            )));
        }
        Ok(tag)
    }

    /// Reads the rest of the document, so a broken end is refused too.
    fn finish(&mut self) -> Result<(), QbxmlError> {
        loop {
            if let Node::Eof = self.next()? {
                return Ok(());
            }
        }
    }
}

/// `&lt;` and the other four, and character references; any other entity would need a
/// declaration, which is refused.
fn resolve_reference(r: &BytesRef) -> Result<char, QbxmlError> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .map_err(xml_error)?
            .ok_or_else(|| QbxmlError::Malformed("a bad character reference".into()));
    }
    let name = r.decode().map_err(|e| xml_error(e.into()))?;
    resolve_predefined_entity(&name)
        .and_then(|s| s.chars().next())
        .ok_or(QbxmlError::Dtd)
}

fn ended_inside() -> QbxmlError {
    QbxmlError::Malformed("the answer ends inside an element".into())
}

fn xml_error(e: quick_xml::Error) -> QbxmlError {
    match e {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(..)) => {
            QbxmlError::Dtd
        }
        other => QbxmlError::Malformed(other.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use qbr_shared::quickbooks::map_report;
    use test_support::quickbooks::{parse_xml, Element, Ledger, LedgerFault, QbRequestKind};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn first_quarter(basis: Basis) -> Request {
        Request::ProfitAndLoss {
            from: date("2025-01-01"),
            to: date("2025-03-31"),
            basis,
        }
    }

    fn names(e: &Element) -> Vec<&str> {
        e.children.iter().map(|c| c.name.as_str()).collect()
    }

    // -------------------------------------------------------------- requests

    #[test]
    fn the_profit_and_loss_request_follows_the_schema() {
        let xml = request_xml(&first_quarter(Basis::Cash), "pl-1");
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?qbxml version=\"13.0\"?>\n"
        ));
        let doc = parse_xml(&xml).unwrap();
        assert_eq!(doc.instructions, ["qbxml version=\"13.0\""]);
        assert_eq!(doc.root.name, "QBXML");
        let msgs = doc.root.child("QBXMLMsgsRq").unwrap();
        assert_eq!(msgs.attr("onError"), Some("stopOnError"));
        let rq = &msgs.children[0];
        assert_eq!(rq.name, "GeneralSummaryReportQueryRq");
        assert_eq!(rq.attr("requestID"), Some("pl-1"));
        // Intuit's qbxmlops order: type, period, SummarizeColumnsBy, ..., ReturnColumns,
        // ReportBasis last.
        assert_eq!(
            names(rq),
            [
                "GeneralSummaryReportType",
                "ReportPeriod",
                "SummarizeColumnsBy",
                "ReturnColumns",
                "ReportBasis"
            ]
        );
        assert_eq!(
            rq.text_at("GeneralSummaryReportType"),
            Some("ProfitAndLossStandard")
        );
        let period = rq.child("ReportPeriod").unwrap();
        assert_eq!(names(period), ["FromReportDate", "ToReportDate"]);
        assert_eq!(period.text_at("FromReportDate"), Some("2025-01-01"));
        assert_eq!(period.text_at("ToReportDate"), Some("2025-03-31"));
        assert_eq!(rq.text_at("SummarizeColumnsBy"), Some("Month"));
        assert_eq!(rq.text_at("ReturnColumns"), Some("All"));
        assert_eq!(rq.text_at("ReportBasis"), Some("Cash"));
    }

    #[test]
    fn the_employee_and_preferences_requests() {
        let doc = parse_xml(&request_xml(&Request::ActiveEmployees, "e<&\"1")).unwrap();
        let rq = &doc.root.child("QBXMLMsgsRq").unwrap().children[0];
        assert_eq!(rq.name, "EmployeeQueryRq");
        assert_eq!(rq.attr("requestID"), Some("e<&\"1"), "the id is escaped");
        assert_eq!(names(rq), ["ActiveStatus", "IncludeRetElement"]);
        assert_eq!(rq.text_at("ActiveStatus"), Some("ActiveOnly"));
        assert_eq!(rq.text_at("IncludeRetElement"), Some("ListID"));
        let doc = parse_xml(&request_xml(&Request::Preferences, "p")).unwrap();
        let rq = &doc.root.child("QBXMLMsgsRq").unwrap().children[0];
        assert_eq!(rq.name, "PreferencesQueryRq");
        assert!(rq.children.is_empty());
    }

    #[test]
    fn the_fake_quickbooks_accepts_every_request() {
        // The fake validates element order and values against the schema, as QuickBooks.
        let ledger = Ledger::sample(month("2025-06"));
        for r in [
            first_quarter(Basis::Accrual),
            Request::SalesByCustomer {
                from: date("2025-01-01"),
                to: date("2025-06-30"),
                basis: Basis::Cash,
            },
            Request::ActiveEmployees,
            Request::Preferences,
        ] {
            let answer = ledger.respond(&request_xml(&r, "1"));
            assert!(answer.is_ok(), "{r:?}: {answer:?}");
        }
    }

    #[test]
    fn sales_by_customer_add_jobs_to_their_customer() {
        let last = month("2025-06");
        let ledger = Ledger::sample(last);
        let asked = Request::SalesByCustomer {
            from: date("2024-06-01"),
            to: date("2025-06-30"),
            basis: Basis::Accrual,
        };
        let xml = ledger.answer(&request_xml(&asked, "3"));
        assert!(xml.contains("SalesByCustomerSummary") || xml.contains("Sales by Customer"));
        let Ok(Answer::CustomerSales(sales)) = read_answer(&xml, &asked) else {
            panic!("not read: {xml}");
        };
        assert_eq!(sales.months.len(), 13);
        let names: Vec<&str> = sales.customers.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["Acme Dental", "Blue Sky Partners Inc.", "Gamma & Sons"]
        );
        // Every sale lands on its top-level customer's month, the job's on Acme Dental.
        for (i, m) in sales.months.iter().enumerate() {
            for (name, amounts) in &sales.customers {
                let expected: f64 = ledger
                    .sales
                    .iter()
                    .filter(|s| Month::from_date(s.date) == *m)
                    .filter(|s| s.customer.split(':').next() == Some(name.as_str()))
                    .map(|s| s.amount)
                    .sum();
                assert!((amounts[i] - expected).abs() < 0.005, "{name} {m}");
            }
        }
        // The job's months are in Acme Dental's amounts (a job sale of 950.50).
        let with_job = sales.customers["Acme Dental"][1];
        assert!((with_job - (4_112.50 + 950.50)).abs() < 0.005, "{with_job}");
    }

    #[test]
    fn a_sales_report_whose_rows_miss_the_total_is_refused() {
        let ledger = Ledger::sample(month("2025-06"));
        let asked = Request::SalesByCustomer {
            from: date("2024-06-01"),
            to: date("2025-06-30"),
            basis: Basis::Accrual,
        };
        let xml = ledger.answer(&request_xml(&asked, "3"));
        // Drop the first customer's row: the rows no longer add up to TOTAL.
        let start = xml.find("<DataRow").unwrap_or_default();
        let end = xml[start..].find("</DataRow>").unwrap_or_default() + start + 10;
        let broken = format!("{}{}", &xml[..start], &xml[end..]);
        let read = read_answer(&broken, &asked);
        assert!(
            matches!(&read, Err(QbxmlError::Unexpected(m)) if m.contains("add up to")),
            "{read:?}"
        );
    }

    // -------------------------------------------------------------- a report as QuickBooks writes it

    /// How a report names its accounts in `RowData`.
    #[derive(Clone, Copy)]
    enum Naming {
        /// Full names (what QuickBooks Desktop writes).
        Full,
        /// Leaf names only.
        Leaf,
        /// No `RowData`: the label alone.
        Label,
    }

    struct Fixture {
        naming: Naming,
        rows: String,
        n: usize,
    }

    impl Fixture {
        fn new(naming: Naming) -> Fixture {
            Fixture {
                naming,
                rows: String::new(),
                n: 0,
            }
        }

        fn row_data(&self, full: Option<&str>) -> String {
            let value = match (self.naming, full) {
                (_, None) | (Naming::Label, _) => return String::new(),
                (Naming::Full, Some(f)) => f,
                (Naming::Leaf, Some(f)) => f.rsplit(':').next().unwrap(),
            };
            format!(
                "<RowData rowType=\"account\" value=\"{}\" />",
                escape(value)
            )
        }

        fn cols(label: &str, amounts: [&str; 3]) -> String {
            let mut out = format!("<ColData colID=\"1\" value=\"{}\" />", escape(label));
            for (i, a) in amounts.iter().enumerate() {
                out.push_str(&format!("<ColData colID=\"{}\" value=\"{a}\" />", i + 2));
            }
            out + "<ColData colID=\"5\" value=\"999.99\" />"
        }

        fn text(&mut self, value: &str) -> &mut Self {
            self.n += 1;
            self.rows += &format!(
                "<TextRow rowNumber=\"{}\" value=\"{}\" />\n",
                self.n,
                escape(value)
            );
            self
        }

        fn data(&mut self, full: &str, label: &str, amounts: [&str; 3]) -> &mut Self {
            self.n += 1;
            let rd = self.row_data(Some(full));
            self.rows += &format!(
                "<DataRow rowNumber=\"{}\">{rd}{}</DataRow>\n",
                self.n,
                Self::cols(label, amounts)
            );
            self
        }

        fn subtotal(
            &mut self,
            account: Option<&str>,
            label: &str,
            amounts: [&str; 3],
        ) -> &mut Self {
            self.n += 1;
            let rd = self.row_data(account);
            self.rows += &format!(
                "<SubtotalRow rowNumber=\"{}\">{rd}{}</SubtotalRow>\n",
                self.n,
                Self::cols(label, amounts)
            );
            self
        }

        fn total(&mut self, label: &str, amounts: [&str; 3]) -> &mut Self {
            self.n += 1;
            self.rows += &format!(
                "<TotalRow rowNumber=\"{}\">{}</TotalRow>\n",
                self.n,
                Self::cols(label, amounts)
            );
            self
        }

        /// The first quarter of a small MSP: three levels of sub-accounts, a parent with
        /// its own postings, a refund, thousands separators, empty cells, `&` and `é`.
        fn quarter(naming: Naming) -> Fixture {
            let mut f = Fixture::new(naming);
            f.text("Ordinary Income/Expense")
                .text("Income")
                .text("Managed Services")
                .data(
                    "Managed Services:Backup",
                    "Backup",
                    ["100.00", "110.50", ""],
                )
                .text("Security")
                .data(
                    "Managed Services:Security:Firewall",
                    "Firewall",
                    ["50.00", "50.00", "50.00"],
                )
                .subtotal(
                    Some("Managed Services:Security"),
                    "Total Security",
                    ["50.00", "50.00", "50.00"],
                )
                .data(
                    "Managed Services",
                    "Managed Services - Other",
                    ["1,000.00", "1000.00", "1000"],
                )
                .subtotal(
                    Some("Managed Services"),
                    "Total Managed Services",
                    ["1150.00", "1160.50", "1050.00"],
                )
                .data(
                    "Professional Services",
                    "Professional Services",
                    ["-50.00", "200.00", "300.25"],
                )
                .subtotal(None, "Total Income", ["1100.00", "1360.50", "1350.25"])
                .text("Cost of Goods Sold")
                .data(
                    "Cost of Goods Sold",
                    "Cost of Goods Sold",
                    ["10.00", "20.00", "30.00"],
                )
                .subtotal(None, "Total COGS", ["10.00", "20.00", "30.00"])
                .subtotal(None, "Gross Profit", ["1090.00", "1340.50", "1320.25"])
                .text("Expense")
                .text("Payroll Expenses")
                .data(
                    "Payroll Expenses:Wages",
                    "Wages",
                    ["500.00", "500.00", "500.00"],
                )
                .subtotal(
                    Some("Payroll Expenses"),
                    "Total Payroll Expenses",
                    ["500.00", "500.00", "500.00"],
                )
                .data(
                    "Meals & Entertainment",
                    "Meals & Entertainment",
                    ["12.34", "0.00", ""],
                )
                .data("Caf\u{e9}", "Caf\u{e9}", ["1.00", "2.00", "3.00"])
                .subtotal(None, "Total Expense", ["513.34", "502.00", "503.00"])
                .subtotal(None, "Net Ordinary Income", ["576.66", "838.50", "817.25"])
                .text("Other Income/Expense")
                .text("Other Income")
                .data(
                    "Interest Income",
                    "Interest Income",
                    ["0.50", "0.50", "0.50"],
                )
                .subtotal(None, "Total Other Income", ["0.50", "0.50", "0.50"])
                .subtotal(None, "Net Other Income", ["0.50", "0.50", "0.50"])
                .total("Net Income", ["577.16", "839.00", "817.75"]);
            f
        }

        fn answer(&self, titles: [&str; 3]) -> String {
            let mut cols = String::from(
                "<ColDesc colID=\"1\" dataType=\"STRTYPE\"><ColTitle titleRow=\"1\" /><ColType>Label</ColType></ColDesc>",
            );
            for (i, t) in titles.iter().enumerate() {
                cols += &format!(
                    "<ColDesc colID=\"{}\" dataType=\"AMTTYPE\"><ColTitle titleRow=\"1\" value=\"{t}\" /><ColType>Amount</ColType></ColDesc>",
                    i + 2
                );
            }
            cols += "<ColDesc colID=\"5\" dataType=\"AMTTYPE\"><ColTitle titleRow=\"1\" value=\"TOTAL\" /><ColType>Total</ColType></ColDesc>";
            // Names with `&` and `é` as QuickBooks escapes them.
            let rows = self.rows.replace('\u{e9}', "&#233;");
            format!(
                "<?xml version=\"1.0\" ?>\n<QBXML>\n<QBXMLMsgsRs>\n<GeneralSummaryReportQueryRs requestID=\"pl-1\" \
                 statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">\n<ReportRet>\n\
                 <ReportTitle>Profit &amp; Loss</ReportTitle>\n<ReportSubtitle>January through March 2025</ReportSubtitle>\n\
                 <ReportBasis>Accrual</ReportBasis>\n<NumRows>{}</NumRows>\n<NumColumns>5</NumColumns>\n\
                 <NumColTitleRows>1</NumColTitleRows>\n{cols}\n<ReportData>\n{rows}</ReportData>\n</ReportRet>\n\
                 </GeneralSummaryReportQueryRs>\n</QBXMLMsgsRs>\n</QBXML>\n",
                self.n
            )
        }
    }

    const TITLES: [&str; 3] = ["Jan 25", "Feb 25", "Mar 25"];

    fn report(xml: &str) -> PnlReport {
        match read_answer(xml, &first_quarter(Basis::Accrual)).unwrap() {
            Answer::ProfitAndLoss(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn expected_accounts() -> Vec<(&'static str, Section, [f64; 3])> {
        vec![
            (
                "Managed Services:Backup",
                Section::Income,
                [100.0, 110.5, 0.0],
            ),
            (
                "Managed Services:Security:Firewall",
                Section::Income,
                [50.0, 50.0, 50.0],
            ),
            (
                "Managed Services",
                Section::Income,
                [1000.0, 1000.0, 1000.0],
            ),
            (
                "Professional Services",
                Section::Income,
                [-50.0, 200.0, 300.25],
            ),
            (
                "Cost of Goods Sold",
                Section::CostOfGoodsSold,
                [10.0, 20.0, 30.0],
            ),
            (
                "Payroll Expenses:Wages",
                Section::Expense,
                [500.0, 500.0, 500.0],
            ),
            ("Meals & Entertainment", Section::Expense, [12.34, 0.0, 0.0]),
            ("Caf\u{e9}", Section::Expense, [1.0, 2.0, 3.0]),
            ("Interest Income", Section::OtherIncome, [0.5, 0.5, 0.5]),
        ]
    }

    fn check_quarter(report: &PnlReport) {
        assert_eq!(
            report.months,
            [month("2025-01"), month("2025-02"), month("2025-03")]
        );
        let got: Vec<(&str, Section, Vec<f64>)> = report
            .accounts
            .iter()
            .map(|a| (a.full_name.as_str(), a.section, a.amounts.clone()))
            .collect();
        let want: Vec<(&str, Section, Vec<f64>)> = expected_accounts()
            .into_iter()
            .map(|(n, s, a)| (n, s, a.to_vec()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(report.totals["income"], [1100.0, 1360.5, 1350.25]);
        assert_eq!(report.totals["cogs"], [10.0, 20.0, 30.0]);
        assert_eq!(report.totals["expense"], [513.34, 502.0, 503.0]);
        assert_eq!(report.totals["other_income"], [0.5, 0.5, 0.5]);
        assert_eq!(
            report.totals.len(),
            4,
            "Gross Profit and the nets are no section"
        );
    }

    #[test]
    fn a_report_gives_full_names_own_amounts_and_section_totals() {
        check_quarter(&report(&Fixture::quarter(Naming::Full).answer(TITLES)));
    }

    #[test]
    fn leaf_names_or_labels_alone_give_the_same_full_names() {
        check_quarter(&report(&Fixture::quarter(Naming::Leaf).answer(TITLES)));
        check_quarter(&report(&Fixture::quarter(Naming::Label).answer(TITLES)));
    }

    #[test]
    fn month_titles_in_other_forms_or_none() {
        let f = Fixture::quarter(Naming::Full);
        check_quarter(&report(&f.answer(["Jan 2025", "February 2025", "Mar '25"])));
        check_quarter(&report(&f.answer([
            "Jan 1 - 31, 25",
            "Feb 25",
            "Mar 1 - 31, 25",
        ])));
        // Titles that name no month: by position, one column per month asked.
        check_quarter(&report(&f.answer(["Period 1", "Period 2", "Period 3"])));
        // Titles outside the period with the wrong count of columns are refused.
        let xml = f.answer(["Jan 24", "Feb 24", "Mar 24"]).replace(
            "<ColDesc colID=\"4\"",
            "<ColDesc colID=\"6\" dataType=\"AMTTYPE\"><ColTitle titleRow=\"1\" value=\"Apr 24\" /></ColDesc><ColDesc colID=\"4\"",
        );
        assert!(matches!(
            read_answer(&xml, &first_quarter(Basis::Accrual)),
            Err(QbxmlError::Unexpected(_))
        ));
    }

    #[test]
    fn account_numbers_are_not_part_of_names() {
        let mut f = Fixture::new(Naming::Label);
        f.text("Ordinary Income/Expense")
            .text("Income")
            .text("4000 \u{b7} Managed Services")
            .data("", "4010 \u{b7} Backup", ["1.00", "2.00", "3.00"])
            .data(
                "",
                "4000 \u{b7} Managed Services - Other",
                ["4.00", "5.00", "6.00"],
            )
            .subtotal(
                None,
                "Total 4000 \u{b7} Managed Services",
                ["5.00", "7.00", "9.00"],
            )
            .subtotal(None, "Total Income", ["5.00", "7.00", "9.00"]);
        let r = report(&f.answer(TITLES));
        let names: Vec<&str> = r.accounts.iter().map(|a| a.full_name.as_str()).collect();
        assert_eq!(names, ["Managed Services:Backup", "Managed Services"]);
        assert_eq!(r.totals["income"], [5.0, 7.0, 9.0]);
    }

    #[test]
    fn a_report_of_another_basis_is_refused() {
        let xml = Fixture::quarter(Naming::Full).answer(TITLES);
        let err = read_answer(&xml, &first_quarter(Basis::Cash)).unwrap_err();
        assert!(
            matches!(err, QbxmlError::Unexpected(ref m) if m.contains("Accrual")),
            "{err}"
        );
    }

    // -------------------------------------------------------------- statuses

    fn rs(name: &str, attrs: &str, body: &str) -> String {
        format!("<?xml version=\"1.0\" ?><QBXML><QBXMLMsgsRs><{name} requestID=\"1\" {attrs}>{body}</{name}></QBXMLMsgsRs></QBXML>")
    }

    #[test]
    fn an_error_status_is_an_error_answer() {
        let xml = rs(
            "GeneralSummaryReportQueryRs",
            "statusCode=\"3120\" statusSeverity=\"Error\" statusMessage=\"Object &quot;X&quot; specified in the request cannot be found.\"",
            "",
        );
        assert_eq!(
            read_answer(&xml, &first_quarter(Basis::Accrual)).unwrap(),
            Answer::Error {
                code: 3120,
                message: "Object \"X\" specified in the request cannot be found.".into()
            }
        );
    }

    #[test]
    fn no_match_is_an_empty_result() {
        let no_match = "statusCode=\"1\" statusSeverity=\"Info\" statusMessage=\"A query request did not find a matching object in QuickBooks\"";
        let xml = rs("EmployeeQueryRs", no_match, "");
        assert_eq!(
            read_answer(&xml, &Request::ActiveEmployees).unwrap(),
            Answer::ActiveEmployees(0)
        );
        let xml = rs("GeneralSummaryReportQueryRs", no_match, "");
        let Answer::ProfitAndLoss(r) = read_answer(&xml, &first_quarter(Basis::Accrual)).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.months.len(), 3);
        assert!(r.accounts.is_empty() && r.totals.is_empty());
    }

    #[test]
    fn a_warning_still_carries_data() {
        let body = "<EmployeeRet><ListID>1</ListID></EmployeeRet><EmployeeRet><ListID>2</ListID></EmployeeRet>";
        let xml = rs(
            "EmployeeQueryRs",
            "statusCode=\"500\" statusSeverity=\"Warn\" statusMessage=\"partial\"",
            body,
        );
        assert_eq!(
            read_answer(&xml, &Request::ActiveEmployees).unwrap(),
            Answer::ActiveEmployees(2)
        );
    }

    #[test]
    fn employees_and_the_closing_date() {
        let ok = "statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\"";
        let body = "<EmployeeRet><ListID>80000001-1</ListID></EmployeeRet>\n<EmployeeRet><ListID>80000002-1</ListID></EmployeeRet><EmployeeRet/>";
        assert_eq!(
            read_answer(&rs("EmployeeQueryRs", ok, body), &Request::ActiveEmployees).unwrap(),
            Answer::ActiveEmployees(3)
        );
        let prefs = "<PreferencesRet><AccountingPreferences><IsUsingAccountNumbers>false</IsUsingAccountNumbers>\
                     <ClosingDate>2024-12-31</ClosingDate></AccountingPreferences>\
                     <ReportsPreferences><SummaryReportBasis>Accrual</SummaryReportBasis></ReportsPreferences></PreferencesRet>";
        assert_eq!(
            read_answer(&rs("PreferencesQueryRs", ok, prefs), &Request::Preferences).unwrap(),
            Answer::Preferences {
                closing_date: Some(date("2024-12-31"))
            }
        );
        let open = "<PreferencesRet><AccountingPreferences><IsUsingAccountNumbers>false</IsUsingAccountNumbers></AccountingPreferences></PreferencesRet>";
        assert_eq!(
            read_answer(&rs("PreferencesQueryRs", ok, open), &Request::Preferences).unwrap(),
            Answer::Preferences { closing_date: None }
        );
        let bad = prefs.replace("2024-12-31", "12/31/2024");
        assert!(matches!(
            read_answer(&rs("PreferencesQueryRs", ok, &bad), &Request::Preferences),
            Err(QbxmlError::Unexpected(_))
        ));
    }

    #[test]
    fn an_answer_to_another_question_is_refused() {
        let ok = "statusCode=\"0\" statusSeverity=\"Info\"";
        let err = read_answer(&rs("EmployeeQueryRs", ok, ""), &Request::Preferences).unwrap_err();
        assert!(matches!(err, QbxmlError::Unexpected(_)), "{err}");
        let err =
            read_answer("<?xml version=\"1.0\"?><Other/>", &Request::Preferences).unwrap_err();
        assert!(matches!(err, QbxmlError::Unexpected(_)), "{err}");
        let err = read_answer(
            &rs("PreferencesQueryRs", "statusSeverity=\"Info\"", ""),
            &Request::Preferences,
        )
        .unwrap_err();
        assert!(
            matches!(err, QbxmlError::Unexpected(_)),
            "no statusCode: {err}"
        );
    }

    // -------------------------------------------------------------- hostile and broken answers

    #[test]
    fn dtds_and_entities_are_refused() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE QBXML [\n<!ENTITY a \"aaaaaaaaaa\">\n\
                    <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n\
                    <QBXML><QBXMLMsgsRs><EmployeeQueryRs statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"&c;\">\
                    </EmployeeQueryRs></QBXMLMsgsRs></QBXML>";
        assert!(matches!(
            read_answer(bomb, &Request::ActiveEmployees),
            Err(QbxmlError::Dtd)
        ));
        let external =
            "<?xml version=\"1.0\"?><!DOCTYPE QBXML SYSTEM \"file:///etc/passwd\"><QBXML/>";
        assert!(matches!(
            read_answer(external, &Request::ActiveEmployees),
            Err(QbxmlError::Dtd)
        ));
        // An entity nobody declared, in an attribute or in text.
        let ok = "statusCode=\"0\" statusSeverity=\"Info\"";
        let attr = rs(
            "EmployeeQueryRs",
            "statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"&xxe;\"",
            "",
        );
        assert!(matches!(
            read_answer(&attr, &Request::ActiveEmployees),
            Err(QbxmlError::Dtd)
        ));
        let text = rs("PreferencesQueryRs", ok, "<PreferencesRet><AccountingPreferences><ClosingDate>&xxe;</ClosingDate></AccountingPreferences></PreferencesRet>");
        assert!(matches!(
            read_answer(&text, &Request::Preferences),
            Err(QbxmlError::Dtd)
        ));
        // XML's own entities and character references are fine.
        let fine = rs("PreferencesQueryRs", ok, "<PreferencesRet><AccountingPreferences><ClosingDate>&#50;024-01-3&#x31;</ClosingDate></AccountingPreferences></PreferencesRet>");
        assert_eq!(
            read_answer(&fine, &Request::Preferences).unwrap(),
            Answer::Preferences {
                closing_date: Some(date("2024-01-31"))
            }
        );
    }

    #[test]
    fn malformed_answers_are_refused() {
        let ok = "statusCode=\"0\" statusSeverity=\"Info\"";
        let cases = [
            String::new(),
            "not xml at all".into(),
            "<QBXML><QBXMLMsgsRs><EmployeeQueryRs statusCode=\"0\" statusSeverity=\"Info\"></QBXMLMsgsRs></QBXML>".into(),
            rs("EmployeeQueryRs", ok, "<EmployeeRet>").replace("</QBXML>", ""),
            rs("EmployeeQueryRs", ok, "") + "<QBXML/>",
            rs("EmployeeQueryRs", ok, "<EmployeeRet a=\"1\" a=\"2\"/>"),
            rs("EmployeeQueryRs", ok, "<EmployeeRet>&amp</EmployeeRet>"),
            rs("EmployeeQueryRs", ok, "") + "trailing",
        ];
        for xml in cases {
            let got = read_answer(&xml, &Request::ActiveEmployees);
            assert!(
                matches!(got, Err(QbxmlError::Malformed(_))),
                "{xml:?} gave {got:?}"
            );
        }
        // A report whose amounts are not numbers.
        let xml = Fixture::quarter(Naming::Full)
            .answer(TITLES)
            .replace("300.25", "three hundred");
        assert!(matches!(
            read_answer(&xml, &first_quarter(Basis::Accrual)),
            Err(QbxmlError::Unexpected(_))
        ));
    }

    #[test]
    fn oversized_and_deeply_nested_answers_are_refused() {
        let big = format!("<QBXML>{}</QBXML>", " ".repeat(MAX_RESPONSE_BYTES));
        assert!(matches!(
            read_answer(&big, &Request::ActiveEmployees),
            Err(QbxmlError::TooLarge)
        ));
        let deep = rs(
            "EmployeeQueryRs",
            "statusCode=\"0\" statusSeverity=\"Info\"",
            &format!("{}{}", "<a>".repeat(100), "</a>".repeat(100)),
        );
        assert!(matches!(
            read_answer(&deep, &Request::ActiveEmployees),
            Err(QbxmlError::Unexpected(_))
        ));
    }

    // -------------------------------------------------------------- against the fake QuickBooks

    fn round_trip(ledger: &Ledger, request: &Request) -> PnlReport {
        let answer = ledger.respond(&request_xml(request, "rt")).unwrap();
        match read_answer(&answer, request).unwrap() {
            Answer::ProfitAndLoss(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn cents(v: f64) -> i64 {
        (v * 100.0).round() as i64
    }

    #[test]
    fn the_sample_ledger_reads_back_account_by_account() {
        let last = month("2025-06");
        let ledger = Ledger::sample(last);
        let request = Request::ProfitAndLoss {
            from: last.add_months(-12).first_day(),
            to: last.next().first_day().pred_opt().unwrap(),
            basis: Basis::Accrual,
        };
        let report = round_trip(&ledger, &request);
        let months: Vec<Month> = (0..13).map(|i| last.add_months(i - 12)).collect();
        assert_eq!(report.months, months);
        assert_eq!(report.accounts.len(), ledger.accounts.len());
        for account in &ledger.accounts {
            let got = report
                .accounts
                .iter()
                .find(|a| a.full_name == account.full_name)
                .unwrap_or_else(|| panic!("{} missing", account.full_name));
            assert_eq!(got.section, account.section, "{}", account.full_name);
            for (i, m) in months.iter().enumerate() {
                assert_eq!(
                    cents(got.amounts[i]),
                    cents(ledger.amount(&account.full_name, *m)),
                    "{} {m}",
                    account.full_name
                );
            }
        }
        for section in Section::ALL {
            let totals = &report.totals[section.as_str()];
            for (i, m) in months.iter().enumerate() {
                assert_eq!(
                    cents(totals[i]),
                    cents(ledger.section_total(*section, *m)),
                    "{section} {m}"
                );
                let sum: f64 = report
                    .accounts
                    .iter()
                    .filter(|a| a.section == *section)
                    .map(|a| a.amounts[i])
                    .sum();
                assert_eq!(cents(totals[i]), cents(sum), "{section} {m} adds up");
            }
        }
        // With the default mapping only Grant Income is left over, in its two months.
        let mapped = map_report(&report, &std::collections::BTreeMap::new());
        let periods: Vec<&str> = mapped
            .unreconciled
            .iter()
            .map(|u| u.period.as_str())
            .collect();
        assert_eq!(periods, ["2024-09", "2025-03"]);
        assert!(mapped
            .unreconciled
            .iter()
            .all(|u| u.unmapped_accounts == ["Grant Income"]));
    }

    #[test]
    fn months_outside_the_ledger_are_zero_and_part_months_count() {
        let last = month("2025-06");
        let ledger = Ledger::sample(last);
        // Two empty months before the books start, and a window starting mid-month.
        let request = Request::ProfitAndLoss {
            from: date("2024-04-15"),
            to: date("2024-07-31"),
            basis: Basis::Cash,
        };
        let report = round_trip(&ledger, &request);
        assert_eq!(
            report.months,
            [
                month("2024-04"),
                month("2024-05"),
                month("2024-06"),
                month("2024-07")
            ]
        );
        let ms = report
            .accounts
            .iter()
            .find(|a| a.full_name == "Managed Services")
            .unwrap();
        assert_eq!(ms.amounts[..2], [0.0, 0.0]);
        assert_eq!(
            ms.amounts[2],
            ledger.amount("Managed Services", month("2024-06"))
        );
    }

    #[test]
    fn quickbooks_errors_from_the_fake() {
        let mut ledger = Ledger::sample(month("2025-06"));
        ledger.fault = Some(LedgerFault::object_not_found().on(QbRequestKind::ProfitAndLoss));
        let request = first_quarter(Basis::Accrual);
        let answer = ledger.respond(&request_xml(&request, "x")).unwrap();
        assert!(matches!(
            read_answer(&answer, &request).unwrap(),
            Answer::Error { code: 3120, .. }
        ));
        ledger.fault = None;
        ledger.employees_active = 0;
        let answer = ledger
            .respond(&request_xml(&Request::ActiveEmployees, "e"))
            .unwrap();
        assert_eq!(
            read_answer(&answer, &Request::ActiveEmployees).unwrap(),
            Answer::ActiveEmployees(0)
        );
        let answer = ledger
            .respond(&request_xml(&Request::Preferences, "p"))
            .unwrap();
        assert_eq!(
            read_answer(&answer, &Request::Preferences).unwrap(),
            Answer::Preferences {
                closing_date: ledger.closing_date
            }
        );
    }
}
