//! A test company's books, and the qbXML answers QuickBooks Desktop gives about them:
//! `GeneralSummaryReportQueryRq` (`ProfitAndLossStandard`), `EmployeeQueryRq` and
//! `PreferencesQueryRq`, with the request checked against the qbXML schema first (an
//! element out of order or an unknown enum value is a parse error, as in QuickBooks).
use super::{parse_xml, xml_escape, Document, Element};
use chrono::{Datelike, NaiveDate};
use qbr_shared::period::Month;
use qbr_shared::quickbooks::Section;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One account of the chart of accounts and its postings by month (its own, not its
/// sub-accounts'; a negative amount is a refund or a credit).
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerAccount {
    /// `Managed Services:Backup`: parents first, `:` between (QuickBooks' `FullName`).
    pub full_name: String,
    pub section: Section,
    pub postings: BTreeMap<Month, f64>,
}

/// The kinds of request the fake QuickBooks answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QbRequestKind {
    ProfitAndLoss,
    SalesByCustomer,
    Employees,
    Preferences,
}

impl QbRequestKind {
    fn rs_name(self) -> &'static str {
        match self {
            QbRequestKind::ProfitAndLoss | QbRequestKind::SalesByCustomer => {
                "GeneralSummaryReportQueryRs"
            }
            QbRequestKind::Employees => "EmployeeQueryRs",
            QbRequestKind::Preferences => "PreferencesQueryRs",
        }
    }
}

/// An answer with an error status instead of data (`statusCode`, `statusSeverity`,
/// `statusMessage` as QuickBooks writes them).
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerFault {
    /// The kind of request that fails; `None` fails every request.
    pub kind: Option<QbRequestKind>,
    pub status_code: i64,
    /// `Error`, `Warn` or `Info`.
    pub severity: String,
    pub message: String,
}

impl LedgerFault {
    /// A `statusSeverity="Error"` answer to every request.
    pub fn error(status_code: i64, message: &str) -> LedgerFault {
        LedgerFault {
            kind: None,
            status_code,
            severity: "Error".into(),
            message: message.into(),
        }
    }

    /// 3120: QuickBooks' "object not found".
    pub fn object_not_found() -> LedgerFault {
        LedgerFault::error(
            3120,
            "Object \"80000001-1234567890\" specified in the request cannot be found.",
        )
    }

    /// 500 with `Warn`: QuickBooks answered only part of the request.
    pub fn incomplete() -> LedgerFault {
        LedgerFault {
            kind: None,
            status_code: 500,
            severity: "Warn".into(),
            message: "The query request has not been fully completed. There was a required \
                      element that could not be found in QuickBooks."
                .into(),
        }
    }

    /// Only requests of `kind` fail.
    pub fn on(mut self, kind: QbRequestKind) -> LedgerFault {
        self.kind = Some(kind);
        self
    }
}

/// QuickBooks could not run the request at all: the Web Connector passes this HRESULT
/// and message to `receiveResponseXML` instead of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComError {
    /// `0x80040400`.
    pub hresult: String,
    pub message: String,
}

impl ComError {
    /// The request is not valid qbXML (not well-formed, an element out of the schema's
    /// order, an unknown value).
    pub fn parse() -> ComError {
        ComError {
            hresult: "0x80040400".into(),
            message: "QuickBooks found an error when parsing the provided XML text stream.".into(),
        }
    }

    /// The request declares a qbXML version this QuickBooks does not know.
    pub fn version() -> ComError {
        ComError {
            hresult: "0x80042500".into(),
            message: "The version of QBXML that was requested is not supported or is unknown."
                .into(),
        }
    }
}

/// The highest qbXML version the fake QuickBooks (Desktop 2021 and later) understands.
pub const MAX_QBXML: (u32, u32) = (16, 0);

/// A test company's books.
#[derive(Clone, Debug, PartialEq)]
pub struct Ledger {
    pub company_name: String,
    pub accounts: Vec<LedgerAccount>,
    pub employees_active: u32,
    /// Invoices and sales receipts by customer (`Customer:Job`), for the sales by
    /// customer report.
    pub sales: Vec<crate::intuit::Sale>,
    /// The closing date of the books (Accounting preferences), when set.
    pub closing_date: Option<NaiveDate>,
    /// Answer with an error status instead (see [`LedgerFault`]).
    pub fault: Option<LedgerFault>,
}

/// An amount in cents, as money.
fn cents(c: i64) -> f64 {
    c as f64 / 100.0
}

/// Sales of the sample's 13 months from `first`: a customer with a job and own sales,
/// one with a credit memo larger than a month's billing, one with sales in some months
/// only; amounts with cents.
fn sample_sales(first: Month) -> Vec<crate::intuit::Sale> {
    let mut out = Vec::new();
    for i in 0..13 {
        let month = first.add_months(i);
        let mut sale = |day: u32, customer: &str, c: i64| {
            if c != 0 {
                out.push(crate::intuit::Sale {
                    date: month.first_day().with_day(day).unwrap_or(month.first_day()),
                    customer: customer.into(),
                    amount: cents(c),
                });
            }
        };
        let i = i64::from(i);
        sale(3, "Acme Dental", 410_000 + i * 1_250);
        sale(
            17,
            "Acme Dental:Office move",
            if i % 4 == 1 { 95_050 } else { 0 },
        );
        sale(5, "Blue Sky Partners Inc.", 288_833);
        sale(
            21,
            "Blue Sky Partners Inc.",
            if i == 6 { -300_000 } else { 0 },
        );
        sale(9, "Gamma & Sons", if i % 2 == 0 { 12_999 + i } else { 0 });
    }
    out
}

impl Ledger {
    /// A managed-service provider's books for the 13 months ending at `last`: nested
    /// income accounts (`Managed Services` posts on itself and on `Backup` and
    /// `Security`), a refund month in `Professional Services`, months without hardware
    /// sales, `Grant Income` (no default mapping), cost of goods sold, payroll in a
    /// parent without own postings, three levels under `Utilities`, an `&` in a name,
    /// interest as other income and other expense. Amounts have cents and are
    /// deterministic.
    pub fn sample(last: Month) -> Ledger {
        let first = last.add_months(-12);
        let mut accounts: Vec<LedgerAccount> = Vec::new();
        let mut add = |name: &str, section: Section, f: &dyn Fn(i64) -> i64| {
            let postings = (0..13)
                .map(|i| (first.add_months(i as i32), f(i)))
                .filter(|(_, c)| *c != 0)
                .map(|(m, c)| (m, cents(c)))
                .collect();
            accounts.push(LedgerAccount {
                full_name: name.into(),
                section,
                postings,
            });
        };
        let hardware = |i: i64| if i % 4 == 2 { 0 } else { 90_040 + i * 3_333 };
        let wages = |i: i64| 1_250_000 + i * 5_000;
        add("Managed Services", Section::Income, &|i| {
            250_000 + i * 1_525
        });
        add("Managed Services:Backup", Section::Income, &|i| {
            85_050 + i * 1_000 + (i % 3) * 17
        });
        add("Managed Services:Security", Section::Income, &|i| {
            143_025 + i * 2_210
        });
        add("Professional Services", Section::Income, &|i| {
            if i == 5 {
                -35_000 // a refund larger than the month's billing
            } else {
                230_075 + (i * 7_919) % 50_000
            }
        });
        add("Hardware Sales", Section::Income, &hardware);
        add("Grant Income", Section::Income, &|i| match i {
            3 => 500_000,
            9 => 250_000,
            _ => 0,
        });
        add("Cost of Goods Sold", Section::CostOfGoodsSold, &|i| {
            hardware(i) * 6 / 10
        });
        add("Vendor Licenses", Section::CostOfGoodsSold, &|i| {
            45_000 + i * 120
        });
        add("Payroll Expenses:Wages", Section::Expense, &wages);
        add("Payroll Expenses:Taxes", Section::Expense, &|i| {
            wages(i) * 765 / 10_000
        });
        add("Rent Expense", Section::Expense, &|_| 320_000);
        add("Meals & Entertainment", Section::Expense, &|i| {
            12_345 + (i * 4_321) % 9_000
        });
        add("Utilities:Telecom:Internet", Section::Expense, &|_| 18_999);
        add("Utilities:Electricity", Section::Expense, &|i| {
            22_150 + (i % 6) * 1_111
        });
        add("Office Supplies", Section::Expense, &|i| {
            if i == 7 {
                -2_500 // a returned purchase
            } else {
                8_765 + i * 101
            }
        });
        add("Interest Income", Section::OtherIncome, &|i| 1_234 + i * 11);
        add("Interest Expense", Section::OtherExpense, &|i| {
            5_000 + i * 25
        });
        let closing = last.add_months(-2).first_day().pred_opt();
        Ledger {
            company_name: "Northwind MSP LLC".into(),
            accounts,
            employees_active: 12,
            sales: sample_sales(first),
            closing_date: closing,
            fault: None,
        }
    }

    /// The account's own posting in `month` (0 when none).
    pub fn amount(&self, full_name: &str, month: Month) -> f64 {
        self.accounts
            .iter()
            .filter(|a| a.full_name == full_name)
            .filter_map(|a| a.postings.get(&month))
            .sum()
    }

    /// The sum of a section's postings in `month`, rounded to cents.
    pub fn section_total(&self, section: Section, month: Month) -> f64 {
        let sum: f64 = self
            .accounts
            .iter()
            .filter(|a| a.section == section)
            .filter_map(|a| a.postings.get(&month))
            .sum();
        round_cents(sum)
    }

    /// The first and last month with a posting.
    pub fn span(&self) -> Option<(Month, Month)> {
        let months = self.accounts.iter().flat_map(|a| a.postings.keys());
        let first = months.clone().min()?;
        let last = months.max()?;
        Some((*first, *last))
    }

    /// QuickBooks' answer to `request_xml`, or an empty string when QuickBooks would not
    /// run it at all (see [`Ledger::respond`] for the HRESULT).
    pub fn answer(&self, request_xml: &str) -> String {
        self.respond(request_xml).unwrap_or_default()
    }

    /// QuickBooks' answer to `request_xml` (every request of the message, in order;
    /// with `onError="stopOnError"` nothing after a failed one), or the error the Web
    /// Connector would pass on.
    pub fn respond(&self, request_xml: &str) -> Result<String, ComError> {
        let doc = parse_xml(request_xml).map_err(|_| ComError::parse())?;
        check_version(&doc)?;
        if doc.root.name != "QBXML" {
            return Err(ComError::parse());
        }
        let msgs = doc.root.child("QBXMLMsgsRq").ok_or_else(ComError::parse)?;
        let stop_on_error = match msgs.attr("onError") {
            Some("stopOnError") => true,
            Some("continueOnError" | "rollbackOnError") => false,
            _ => return Err(ComError::parse()),
        };
        // QuickBooks validates the whole message before running any of it.
        let queries = msgs
            .children
            .iter()
            .map(Query::read)
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = String::from("<?xml version=\"1.0\" ?>\n<QBXML>\n<QBXMLMsgsRs>\n");
        for query in &queries {
            let (rs, failed) = self.run(query);
            out.push_str(&rs);
            if failed && stop_on_error {
                break;
            }
        }
        out.push_str("</QBXMLMsgsRs>\n</QBXML>\n");
        Ok(out)
    }

    /// The answer to one request, and whether it failed.
    fn run(&self, query: &Query) -> (String, bool) {
        let kind = query.kind();
        if let Some(fault) = self
            .fault
            .as_ref()
            .filter(|f| f.kind.is_none_or(|k| k == kind))
        {
            let status = Status {
                code: fault.status_code,
                severity: &fault.severity,
                message: &fault.message,
            };
            let failed = fault.severity == "Error";
            return (rs_element(kind, query.request_id(), &status, ""), failed);
        }
        let (status, body) = match query {
            Query::ProfitAndLoss(p) => (Status::OK, self.report(p)),
            Query::SalesByCustomer(p) => (Status::OK, self.sales_report(p)),
            Query::Employees(e) if self.employees_active == 0 || !e.active_only => {
                (Status::NO_MATCH, String::new())
            }
            Query::Employees(e) => (Status::OK, self.employees(e)),
            Query::Preferences { .. } => (Status::OK, self.preferences_ret()),
        };
        (rs_element(kind, query.request_id(), &status, &body), false)
    }

    // -------------------------------------------------------------- employees, preferences

    fn employees(&self, q: &EmployeeQuery) -> String {
        let mut out = String::new();
        for k in 1..=self.employees_active {
            let fields = [
                (
                    "ListID",
                    format!("{:X}-1700000{:03}", 0x8000_0000u32 + k, k),
                ),
                ("TimeCreated", "2023-01-05T09:00:00-08:00".to_string()),
                ("TimeModified", "2024-06-01T10:30:00-08:00".to_string()),
                ("EditSequence", format!("17000{k:05}")),
                ("Name", format!("Employee {k}")),
                ("IsActive", "true".to_string()),
                ("FirstName", "Employee".to_string()),
                ("LastName", format!("Number {k}")),
                ("SSN", format!("123-45-{k:04}")),
            ];
            out.push_str("<EmployeeRet>\n");
            for (name, value) in fields {
                if q.include.is_empty() || q.include.iter().any(|i| i == name) {
                    let _ = writeln!(out, "<{name}>{}</{name}>", xml_escape(&value));
                }
            }
            out.push_str("</EmployeeRet>\n");
        }
        out
    }

    /// `PreferencesRet` (also part of the Web Connector's `strHCPResponse`).
    pub(super) fn preferences_ret(&self) -> String {
        let closing = self
            .closing_date
            .map(|d| format!("<ClosingDate>{}</ClosingDate>\n", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        format!(
            "<PreferencesRet>\n<AccountingPreferences>\n\
             <IsUsingAccountNumbers>false</IsUsingAccountNumbers>\n\
             <IsRequiringAccounts>true</IsRequiringAccounts>\n\
             <IsUsingClassTracking>false</IsUsingClassTracking>\n\
             <IsUsingAuditTrail>true</IsUsingAuditTrail>\n\
             <IsAssigningJournalEntryNumbers>true</IsAssigningJournalEntryNumbers>\n\
             {closing}</AccountingPreferences>\n\
             <FinanceChargePreferences>\n<GracePeriod>0</GracePeriod>\n\
             <IsAssessingForOverdueCharges>false</IsAssessingForOverdueCharges>\n\
             <CalculateChargesFrom>DueDate</CalculateChargesFrom>\n\
             <IsMarkedToBePrinted>false</IsMarkedToBePrinted>\n</FinanceChargePreferences>\n\
             <ReportsPreferences>\n<AgingReportBasis>AgeFromDueDate</AgingReportBasis>\n\
             <SummaryReportBasis>Accrual</SummaryReportBasis>\n</ReportsPreferences>\n\
             </PreferencesRet>\n"
        )
    }

    // -------------------------------------------------------------- the report

    /// `ReportRet` of the profit-and-loss report.
    fn report(&self, q: &PnlQuery) -> String {
        let (from, to) = self.period(q);
        let columns = self.columns(q, from, to);
        let mut writer = RowWriter::new(columns.len());
        let tree = |section: Section| self.tree(section, &columns, q.rows_all);
        let sections: BTreeMap<&str, Node> = Section::ALL
            .iter()
            .map(|s| (s.as_str(), tree(*s)))
            .collect();
        let income = &sections[Section::Income.as_str()];
        let cogs = &sections[Section::CostOfGoodsSold.as_str()];
        let expense = &sections[Section::Expense.as_str()];
        let other_income = &sections[Section::OtherIncome.as_str()];
        let other_expense = &sections[Section::OtherExpense.as_str()];
        let ordinary = [income, cogs, expense].iter().any(|n| n.has_rows());
        let other = [other_income, other_expense].iter().any(|n| n.has_rows());
        let gross = minus(&income.sum(), &cogs.sum());
        let net_ordinary = minus(&gross, &expense.sum());
        let net_other = minus(&other_income.sum(), &other_expense.sum());
        if ordinary {
            writer.text("Ordinary Income/Expense");
            writer.section(income, "Income", "Total Income");
            writer.section(cogs, "Cost of Goods Sold", "Total COGS");
            if cogs.has_rows() {
                writer.subtotal(None, "Gross Profit", &gross);
            }
            writer.section(expense, "Expense", "Total Expense");
            writer.subtotal(None, "Net Ordinary Income", &net_ordinary);
        }
        if other {
            writer.text("Other Income/Expense");
            writer.section(other_income, "Other Income", "Total Other Income");
            writer.section(other_expense, "Other Expense", "Total Other Expense");
            writer.subtotal(None, "Net Other Income", &net_other);
        }
        writer.total("Net Income", &plus(&net_ordinary, &net_other));
        report_ret("Profit & Loss", q, (from, to), &columns, &writer)
    }

    /// The report's dates: as asked, else the ledger's months.
    fn period(&self, q: &PnlQuery) -> (NaiveDate, NaiveDate) {
        let span = self.span();
        let from = q
            .from
            .or(span.map(|(f, _)| f.first_day()))
            .unwrap_or_default();
        let to =
            q.to.or(span.and_then(|(_, l)| l.next().first_day().pred_opt()))
                .unwrap_or_default();
        (from, to)
    }

    /// The amount columns before `TOTAL`: one per month (`Jan 25`, or `Jan 15 - 31, 25`
    /// for part of a month), only months with activity unless `ReturnColumns` is `All`;
    /// or none when not summarized by month (the `TOTAL` column alone).
    fn columns(&self, q: &PnlQuery, from: NaiveDate, to: NaiveDate) -> Vec<ReportColumn> {
        let mut all = Vec::new();
        let mut m = Month::from_date(from);
        while m <= Month::from_date(to) && from <= to {
            all.push(m);
            if m == m.next() {
                break;
            }
            m = m.next();
        }
        if !q.by_month {
            return Vec::new();
        }
        all.into_iter()
            .filter(|m| q.columns_all || self.accounts.iter().any(|a| a.postings.contains_key(m)))
            .map(|m| ReportColumn {
                title: month_title(m, from, to),
                months: vec![m],
            })
            .collect()
    }

    /// A section's accounts as a tree, with amounts per column.
    fn tree(&self, section: Section, columns: &[ReportColumn], rows_all: bool) -> Node {
        let mut root = Node::default();
        for account in self.accounts.iter().filter(|a| a.section == section) {
            let own: Vec<f64> = columns
                .iter()
                .map(|c| {
                    c.months
                        .iter()
                        .filter_map(|m| account.postings.get(m))
                        .sum()
                })
                .collect();
            let mut node = &mut root;
            let mut full = String::new();
            for part in account.full_name.split(':') {
                if !full.is_empty() {
                    full.push(':');
                }
                full.push_str(part);
                node = node
                    .children
                    .entry(part.to_string())
                    .or_insert_with(|| Node {
                        leaf: part.to_string(),
                        full: full.clone(),
                        own: vec![0.0; columns.len()],
                        ..Node::default()
                    });
            }
            for (sum, a) in node.own.iter_mut().zip(own) {
                *sum += a;
            }
            node.listed |= rows_all;
        }
        root.own = vec![0.0; columns.len()];
        root
    }
}

impl Ledger {
    /// `ReportRet` of the sales by customer summary: a `DataRow` per customer
    /// (`RowData rowType="customer"`), a customer with jobs as a `TextRow`, its jobs,
    /// its own sales as `<name> - Other` and `Total <name>`; `TOTAL` last.
    fn sales_report(&self, q: &PnlQuery) -> String {
        let (from, to) = self.period(q);
        let columns = self.columns(q, from, to);
        let mut root = Node {
            own: vec![0.0; columns.len()],
            ..Node::default()
        };
        for sale in &self.sales {
            let Some(col) = columns
                .iter()
                .position(|c| c.months.contains(&Month::from_date(sale.date)))
            else {
                continue;
            };
            if sale.date < from || sale.date > to {
                continue;
            }
            let mut node = &mut root;
            let mut full = String::new();
            for part in sale.customer.split(':') {
                if !full.is_empty() {
                    full.push(':');
                }
                full.push_str(part);
                node = node
                    .children
                    .entry(part.to_string())
                    .or_insert_with(|| Node {
                        leaf: part.to_string(),
                        full: full.clone(),
                        own: vec![0.0; columns.len()],
                        ..Node::default()
                    });
            }
            node.own[col] += sale.amount;
        }
        let mut writer = RowWriter::new(columns.len());
        writer.row_type = "customer";
        for child in root.children.values().filter(|c| c.shown()) {
            writer.account(child);
        }
        writer.total("TOTAL", &root.sum());
        report_ret(
            "Sales by Customer Summary",
            q,
            (from, to),
            &columns,
            &writer,
        )
    }
}

/// A `ReportRet` of `title`: subtitle, basis, row and column counts, the label column,
/// a column per month (`columns`), `TOTAL`, and `writer`'s rows.
fn report_ret(
    title: &str,
    q: &PnlQuery,
    (from, to): (NaiveDate, NaiveDate),
    columns: &[ReportColumn],
    writer: &RowWriter,
) -> String {
    let mut out = String::new();
    out.push_str("<ReportRet>\n");
    let _ = writeln!(out, "<ReportTitle>{}</ReportTitle>", xml_escape(title));
    let _ = writeln!(
        out,
        "<ReportSubtitle>{}</ReportSubtitle>",
        subtitle(from, to)
    );
    let _ = writeln!(out, "<ReportBasis>{}</ReportBasis>", q.basis);
    let _ = writeln!(out, "<NumRows>{}</NumRows>", writer.rows);
    let _ = writeln!(out, "<NumColumns>{}</NumColumns>", columns.len() + 2);
    out.push_str("<NumColTitleRows>1</NumColTitleRows>\n");
    out.push_str(
        "<ColDesc colID=\"1\" dataType=\"STRTYPE\">\n<ColTitle titleRow=\"1\" />\n\
         <ColType>Label</ColType>\n</ColDesc>\n",
    );
    for (i, c) in columns.iter().enumerate() {
        let _ = write!(
            out,
            "<ColDesc colID=\"{}\" dataType=\"AMTTYPE\">\n<ColTitle titleRow=\"1\" \
         value=\"{}\" />\n<ColType>Amount</ColType>\n</ColDesc>\n",
            i + 2,
            xml_escape(&c.title)
        );
    }
    let _ = write!(
        out,
        "<ColDesc colID=\"{}\" dataType=\"AMTTYPE\">\n<ColTitle titleRow=\"1\" \
         value=\"TOTAL\" />\n<ColType>Total</ColType>\n</ColDesc>\n",
        columns.len() + 2
    );
    out.push_str("<ReportData>\n");
    out.push_str(&writer.out);
    out.push_str("</ReportData>\n</ReportRet>\n");
    out
}

/// `<?qbxml version="13.0"?>` must be there, and known.
fn check_version(doc: &Document) -> Result<(), ComError> {
    let pi = doc
        .instructions
        .iter()
        .find(|pi| pi.trim_start().starts_with("qbxml"))
        .ok_or_else(ComError::parse)?;
    let version = pi
        .split('"')
        .nth(1)
        .or_else(|| pi.split('\'').nth(1))
        .ok_or_else(ComError::parse)?;
    let (major, minor) = version.split_once('.').ok_or_else(ComError::parse)?;
    let parsed = (major.parse::<u32>(), minor.parse::<u32>());
    let (Ok(major), Ok(minor)) = parsed else {
        return Err(ComError::version());
    };
    if (major, minor) > MAX_QBXML || major < 2 {
        return Err(ComError::version());
    }
    Ok(())
}

/// `Jan 25`, or `Jan 15 - 31, 25` when the period covers part of the month.
fn month_title(m: Month, from: NaiveDate, to: NaiveDate) -> String {
    let first = m.first_day();
    let last = m.next().first_day().pred_opt().unwrap_or(first);
    let start = first.max(from);
    let end = last.min(to);
    let yy = m.year().rem_euclid(100);
    if start == first && end == last {
        format!("{} {yy:02}", m.short_name())
    } else {
        format!(
            "{} {} - {}, {yy:02}",
            m.short_name(),
            start.day(),
            end.day()
        )
    }
}

/// `January 2024 through January 2025`, or with days for parts of months.
fn subtitle(from: NaiveDate, to: NaiveDate) -> String {
    let whole = from.day() == 1 && to.succ_opt().is_some_and(|d| d.day() == 1);
    if whole {
        format!("{} through {}", from.format("%B %Y"), to.format("%B %Y"))
    } else {
        format!(
            "{} through {}",
            from.format("%B %-d, %Y"),
            to.format("%B %-d, %Y")
        )
    }
}

fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// An amount as QuickBooks writes it: `1234.56`, `-50.00`.
fn money(v: f64) -> String {
    let c = (v * 100.0).round() as i64;
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

fn minus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// A month column of the report.
struct ReportColumn {
    title: String,
    months: Vec<Month>,
}

/// An account and its sub-accounts.
#[derive(Default)]
struct Node {
    leaf: String,
    full: String,
    /// Own amounts per column.
    own: Vec<f64>,
    /// Shown even without activity (`ReturnRows` `All`).
    listed: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn own_active(&self) -> bool {
        self.own.iter().any(|a| a.abs() >= 0.005)
    }

    /// Shown: QuickBooks' default (`ReturnRows` `ActiveOnly`) shows accounts with
    /// activity in the period, and parents of such accounts.
    fn shown(&self) -> bool {
        self.listed || self.own_active() || self.children.values().any(Node::shown)
    }

    fn has_rows(&self) -> bool {
        self.children.values().any(Node::shown)
    }

    /// Own amounts plus every sub-account's.
    fn sum(&self) -> Vec<f64> {
        let mut sum = self.own.clone();
        for child in self.children.values() {
            for (s, c) in sum.iter_mut().zip(child.sum()) {
                *s += c;
            }
        }
        sum
    }
}

/// Writes `ReportData` rows as QuickBooks does: flat, numbered, labels in column 1.
struct RowWriter {
    out: String,
    rows: usize,
    columns: usize,
    /// `RowData`'s `rowType`: `account` in a profit and loss, `customer` in sales.
    row_type: &'static str,
}

impl RowWriter {
    fn new(columns: usize) -> RowWriter {
        RowWriter {
            out: String::new(),
            rows: 0,
            columns,
            row_type: "account",
        }
    }

    fn number(&mut self) -> usize {
        self.rows += 1;
        self.rows
    }

    /// `ColData` for the label, each column and `TOTAL`.
    fn cols(&self, label: &str, amounts: &[f64]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<ColData colID=\"1\" value=\"{}\" />",
            xml_escape(label)
        );
        for (i, a) in amounts.iter().enumerate().take(self.columns) {
            let _ = writeln!(
                out,
                "<ColData colID=\"{}\" value=\"{}\" />",
                i + 2,
                money(*a)
            );
        }
        let total: f64 = amounts.iter().sum();
        let _ = writeln!(
            out,
            "<ColData colID=\"{}\" value=\"{}\" />",
            self.columns + 2,
            money(total)
        );
        out
    }

    fn text(&mut self, value: &str) {
        let n = self.number();
        let _ = writeln!(
            self.out,
            "<TextRow rowNumber=\"{n}\" value=\"{}\" />",
            xml_escape(value)
        );
    }

    fn data(&mut self, full_name: &str, label: &str, amounts: &[f64]) {
        let n = self.number();
        let cols = self.cols(label, amounts);
        let _ = write!(
            self.out,
            "<DataRow rowNumber=\"{n}\">\n<RowData rowType=\"{}\" value=\"{}\" />\n{cols}</DataRow>\n",
            self.row_type,
            xml_escape(full_name)
        );
    }

    fn subtotal(&mut self, account: Option<&str>, label: &str, amounts: &[f64]) {
        let n = self.number();
        let cols = self.cols(label, amounts);
        let row_data = account
            .map(|a| {
                format!(
                    "<RowData rowType=\"{}\" value=\"{}\" />\n",
                    self.row_type,
                    xml_escape(a)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            self.out,
            "<SubtotalRow rowNumber=\"{n}\">\n{row_data}{cols}</SubtotalRow>\n"
        );
    }

    fn total(&mut self, label: &str, amounts: &[f64]) {
        let n = self.number();
        let cols = self.cols(label, amounts);
        let _ = write!(
            self.out,
            "<TotalRow rowNumber=\"{n}\">\n{cols}</TotalRow>\n"
        );
    }

    /// A section: its heading, its accounts, its total; nothing when it has no rows.
    fn section(&mut self, root: &Node, heading: &str, total: &str) {
        if !root.has_rows() {
            return;
        }
        self.text(heading);
        for child in root.children.values().filter(|c| c.shown()) {
            self.account(child);
        }
        self.subtotal(None, total, &root.sum());
    }

    /// An account without shown sub-accounts is one row; a parent is a `TextRow`, its
    /// sub-accounts, its own postings as `<name> - Other`, and `Total <name>`.
    fn account(&mut self, node: &Node) {
        let children: Vec<&Node> = node.children.values().filter(|c| c.shown()).collect();
        if children.is_empty() {
            self.data(&node.full, &node.leaf, &node.sum());
            return;
        }
        self.text(&node.leaf);
        for child in children {
            self.account(child);
        }
        if node.own_active() {
            self.data(&node.full, &format!("{} - Other", node.leaf), &node.own);
        }
        let label = format!("Total {}", node.leaf);
        self.subtotal(Some(&node.full), &label, &node.sum());
    }
}

// ------------------------------------------------------------------ requests

/// The status attributes of an answer.
struct Status<'a> {
    code: i64,
    severity: &'a str,
    message: &'a str,
}

impl Status<'static> {
    const OK: Status<'static> = Status {
        code: 0,
        severity: "Info",
        message: "Status OK",
    };
    const NO_MATCH: Status<'static> = Status {
        code: 1,
        severity: "Info",
        message: "A query request did not find a matching object in QuickBooks",
    };
}

fn rs_element(
    kind: QbRequestKind,
    request_id: Option<&str>,
    status: &Status,
    body: &str,
) -> String {
    let name = kind.rs_name();
    let id = request_id
        .map(|id| format!(" requestID=\"{}\"", xml_escape(id)))
        .unwrap_or_default();
    format!(
        "<{name}{id} statusCode=\"{}\" statusSeverity=\"{}\" statusMessage=\"{}\">\n{body}</{name}>\n",
        status.code,
        xml_escape(status.severity),
        xml_escape(status.message)
    )
}

/// A request of the message, checked against the schema.
enum Query {
    ProfitAndLoss(PnlQuery),
    SalesByCustomer(PnlQuery),
    Employees(EmployeeQuery),
    Preferences { request_id: Option<String> },
}

struct PnlQuery {
    request_id: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by_month: bool,
    columns_all: bool,
    rows_all: bool,
    basis: String,
}

struct EmployeeQuery {
    request_id: Option<String>,
    active_only: bool,
    include: Vec<String>,
}

/// `GeneralSummaryReportQueryRq`'s children, in the schema's order (qbxmlops).
const SUMMARY_REPORT_ORDER: [&str; 19] = [
    "GeneralSummaryReportType",
    "DisplayReport",
    "ReportPeriod",
    "ReportDateMacro",
    "ReportAccountFilter",
    "ReportEntityFilter",
    "ReportItemFilter",
    "ReportClassFilter",
    "ReportTxnTypeFilter",
    "ReportModifiedDateRangeFilter",
    "ReportModifiedDateRangeMacro",
    "ReportDetailLevelFilter",
    "ReportPostingStatusFilter",
    "SummarizeColumnsBy",
    "IncludeSubcolumns",
    "ReportCalendar",
    "ReturnRows",
    "ReturnColumns",
    "ReportBasis",
];

/// `EmployeeQueryRq`'s children, in the schema's order.
const EMPLOYEE_ORDER: [&str; 10] = [
    "ListID",
    "FullName",
    "MaxReturned",
    "ActiveStatus",
    "FromModifiedDate",
    "ToModifiedDate",
    "NameFilter",
    "NameRangeFilter",
    "IncludeRetElement",
    "OwnerID",
];

const RETURN_VALUES: [&str; 3] = ["ActiveOnly", "NonZero", "All"];

impl Query {
    fn read(rq: &Element) -> Result<Query, ComError> {
        let request_id = rq.attr("requestID").map(str::to_string);
        match rq.name.as_str() {
            "GeneralSummaryReportQueryRq" => {
                in_order(rq, &SUMMARY_REPORT_ORDER)?;
                let report = rq.text_at("GeneralSummaryReportType").map(str::trim);
                let query = PnlQuery::read(rq, request_id)?;
                // The fake knows the two reports the server asks for.
                match report {
                    Some("ProfitAndLossStandard") => Ok(Query::ProfitAndLoss(query)),
                    Some("SalesByCustomerSummary") => Ok(Query::SalesByCustomer(query)),
                    _ => Err(ComError::parse()),
                }
            }
            "EmployeeQueryRq" => {
                in_order(rq, &EMPLOYEE_ORDER)?;
                let active = one_of(rq, "ActiveStatus", &["ActiveOnly", "InactiveOnly", "All"])?;
                Ok(Query::Employees(EmployeeQuery {
                    request_id,
                    active_only: active.is_none_or(|a| a != "InactiveOnly"),
                    include: rq
                        .children
                        .iter()
                        .filter(|c| c.name == "IncludeRetElement")
                        .map(|c| c.text.trim().to_string())
                        .collect(),
                }))
            }
            "PreferencesQueryRq" => {
                in_order(rq, &["IncludeRetElement"])?;
                Ok(Query::Preferences { request_id })
            }
            _ => Err(ComError::parse()),
        }
    }

    fn kind(&self) -> QbRequestKind {
        match self {
            Query::ProfitAndLoss(_) => QbRequestKind::ProfitAndLoss,
            Query::SalesByCustomer(_) => QbRequestKind::SalesByCustomer,
            Query::Employees(_) => QbRequestKind::Employees,
            Query::Preferences { .. } => QbRequestKind::Preferences,
        }
    }

    fn request_id(&self) -> Option<&str> {
        match self {
            Query::ProfitAndLoss(p) | Query::SalesByCustomer(p) => p.request_id.as_deref(),
            Query::Employees(e) => e.request_id.as_deref(),
            Query::Preferences { request_id } => request_id.as_deref(),
        }
    }
}

impl PnlQuery {
    fn read(rq: &Element, request_id: Option<String>) -> Result<PnlQuery, ComError> {
        if let Some(period) = rq.child("ReportPeriod") {
            in_order(period, &["FromReportDate", "ToReportDate"])?;
        }
        let date = |path: &str| -> Result<Option<NaiveDate>, ComError> {
            rq.text_at(path)
                .map(|t| {
                    NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| ComError::parse())
                })
                .transpose()
        };
        let by = one_of(rq, "SummarizeColumnsBy", &["TotalOnly", "Month"])?;
        let rows = one_of(rq, "ReturnRows", &RETURN_VALUES)?;
        let columns = one_of(rq, "ReturnColumns", &RETURN_VALUES)?;
        let basis = one_of(rq, "ReportBasis", &["Accrual", "Cash", "None"])?;
        Ok(PnlQuery {
            request_id,
            from: date("ReportPeriod/FromReportDate")?,
            to: date("ReportPeriod/ToReportDate")?,
            by_month: by == Some("Month"),
            columns_all: columns == Some("All"),
            rows_all: rows == Some("All"),
            // `None` (the default) is the company's preference: accrual here.
            basis: match basis {
                Some("Cash") => "Cash".into(),
                _ => "Accrual".into(),
            },
        })
    }
}

/// The children follow `order` (repeats allowed where they stand), as the schema wants.
fn in_order(e: &Element, order: &[&str]) -> Result<(), ComError> {
    let mut at = 0;
    for child in &e.children {
        match order[at..].iter().position(|n| *n == child.name) {
            Some(p) => at += p,
            None => return Err(ComError::parse()),
        }
    }
    Ok(())
}

/// The value of an enum child, which must be one of `allowed`.
fn one_of<'e>(e: &'e Element, name: &str, allowed: &[&str]) -> Result<Option<&'e str>, ComError> {
    match e.text_at(name).map(str::trim) {
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(_) => Err(ComError::parse()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn pnl_request(from: &str, to: &str, extra: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"13.0\"?><QBXML>\
             <QBXMLMsgsRq onError=\"stopOnError\"><GeneralSummaryReportQueryRq requestID=\"7\">\
             <GeneralSummaryReportType>ProfitAndLossStandard</GeneralSummaryReportType>\
             <ReportPeriod><FromReportDate>{from}</FromReportDate><ToReportDate>{to}</ToReportDate>\
             </ReportPeriod><SummarizeColumnsBy>Month</SummarizeColumnsBy>{extra}\
             </GeneralSummaryReportQueryRq></QBXMLMsgsRq></QBXML>"
        )
    }

    fn rows(answer: &str) -> Vec<Element> {
        let doc = parse_xml(answer).unwrap();
        doc.root.find("ReportData").unwrap().children.clone()
    }

    fn label(row: &Element) -> String {
        row.attr("value")
            .map(str::to_string)
            .or_else(|| {
                row.child("ColData")
                    .and_then(|c| c.attr("value"))
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_sample_has_thirteen_months_with_cents_a_refund_and_nesting() {
        let ledger = Ledger::sample(month("2025-06"));
        assert_eq!(ledger.span(), Some((month("2024-06"), month("2025-06"))));
        assert!(ledger.amount("Professional Services", month("2024-11")) < 0.0);
        assert_eq!(ledger.amount("Hardware Sales", month("2024-08")), 0.0);
        assert_eq!(ledger.amount("Managed Services", month("2024-06")), 2500.0);
        assert_eq!(
            ledger.amount("Managed Services:Backup", month("2024-07")),
            860.67
        );
        assert_eq!(ledger.closing_date, NaiveDate::from_ymd_opt(2025, 3, 31));
    }

    #[test]
    fn the_report_nests_as_quickbooks_does() {
        let ledger = Ledger::sample(month("2025-06"));
        let answer = ledger.answer(&pnl_request(
            "2025-01-01",
            "2025-03-31",
            "<ReturnColumns>All</ReturnColumns><ReportBasis>Cash</ReportBasis>",
        ));
        let doc = parse_xml(&answer).unwrap();
        let rs = doc.root.find("GeneralSummaryReportQueryRs").unwrap();
        assert_eq!(rs.attr("requestID"), Some("7"));
        assert_eq!(rs.attr("statusCode"), Some("0"));
        assert_eq!(doc.root.find("ReportBasis").unwrap().text, "Cash");
        let titles: Vec<&str> = doc
            .root
            .find("ReportRet")
            .unwrap()
            .children
            .iter()
            .filter(|c| c.name == "ColDesc")
            .map(|c| c.child("ColTitle").unwrap().attr("value").unwrap_or(""))
            .collect();
        assert_eq!(titles, ["", "Jan 25", "Feb 25", "Mar 25", "TOTAL"]);
        let rows = rows(&answer);
        let labels: Vec<String> = rows.iter().map(label).collect();
        let at = |l: &str| {
            labels
                .iter()
                .position(|x| x == l)
                .unwrap_or_else(|| panic!("{l} in {labels:?}"))
        };
        assert_eq!(labels[0], "Ordinary Income/Expense");
        assert_eq!(labels[1], "Income");
        // Managed Services: its sub-accounts, its own postings, its total.
        let ms = at("Managed Services");
        assert_eq!(rows[ms].name, "TextRow");
        assert_eq!(labels[ms + 1], "Backup");
        assert_eq!(
            rows[ms + 1].child("RowData").unwrap().attr("value"),
            Some("Managed Services:Backup")
        );
        assert_eq!(labels[ms + 2], "Security");
        assert_eq!(labels[ms + 3], "Managed Services - Other");
        assert_eq!(
            rows[ms + 3].child("RowData").unwrap().attr("value"),
            Some("Managed Services")
        );
        assert_eq!(labels[ms + 4], "Total Managed Services");
        assert_eq!(rows[ms + 4].name, "SubtotalRow");
        // Payroll has no own postings: no "- Other" row.
        assert!(!labels.iter().any(|l| l == "Payroll Expenses - Other"));
        // Three levels.
        let telecom = at("Telecom");
        assert_eq!(
            rows[telecom + 1].child("RowData").unwrap().attr("value"),
            Some("Utilities:Telecom:Internet")
        );
        assert!(labels.contains(&"Meals & Entertainment".to_string()));
        for l in [
            "Total Income",
            "Total COGS",
            "Gross Profit",
            "Total Expense",
            "Net Ordinary Income",
            "Other Income/Expense",
            "Total Other Income",
            "Total Other Expense",
            "Net Other Income",
            "Net Income",
        ] {
            at(l);
        }
        assert_eq!(rows.last().unwrap().name, "TotalRow");
        let total_income = &rows[at("Total Income")];
        assert!(total_income.child("RowData").is_none());
        let feb = &total_income.children[2];
        assert_eq!(feb.attr("colID"), Some("3"));
        assert_eq!(
            feb.attr("value").unwrap(),
            money(ledger.section_total(Section::Income, month("2025-02")))
        );
    }

    #[test]
    fn months_without_activity_need_return_columns_all() {
        let mut ledger = Ledger::sample(month("2025-06"));
        for a in &mut ledger.accounts {
            a.postings.remove(&month("2025-02"));
        }
        let titles = |extra: &str| -> Vec<String> {
            let answer = ledger.answer(&pnl_request("2025-01-01", "2025-03-31", extra));
            let doc = parse_xml(&answer).unwrap();
            doc.root
                .find("ReportRet")
                .unwrap()
                .children
                .iter()
                .filter(|c| c.name == "ColDesc")
                .filter_map(|c| {
                    c.child("ColTitle")
                        .unwrap()
                        .attr("value")
                        .map(str::to_string)
                })
                .collect()
        };
        assert_eq!(titles(""), ["Jan 25", "Mar 25", "TOTAL"]);
        assert_eq!(
            titles("<ReturnColumns>All</ReturnColumns>"),
            ["Jan 25", "Feb 25", "Mar 25", "TOTAL"]
        );
    }

    #[test]
    fn part_months_are_titled_with_their_days() {
        let ledger = Ledger::sample(month("2025-06"));
        let answer = ledger.answer(&pnl_request(
            "2025-01-15",
            "2025-02-10",
            "<ReturnColumns>All</ReturnColumns>",
        ));
        assert!(answer.contains("value=\"Jan 15 - 31, 25\""), "{answer}");
        assert!(answer.contains("value=\"Feb 1 - 10, 25\""));
    }

    #[test]
    fn requests_out_of_schema_order_are_parse_errors() {
        let ledger = Ledger::sample(month("2025-06"));
        let wrong = pnl_request(
            "2025-01-01",
            "2025-03-31",
            "<ReportBasis>Accrual</ReportBasis><ReturnColumns>All</ReturnColumns>",
        );
        assert_eq!(ledger.respond(&wrong), Err(ComError::parse()));
        assert_eq!(ledger.answer(&wrong), "");
        let bad_value = pnl_request(
            "2025-01-01",
            "2025-03-31",
            "<ReportBasis>Modified</ReportBasis>",
        );
        assert_eq!(ledger.respond(&bad_value), Err(ComError::parse()));
        let no_version =
            pnl_request("2025-01-01", "2025-03-31", "").replace("<?qbxml version=\"13.0\"?>", "");
        assert_eq!(ledger.respond(&no_version), Err(ComError::parse()));
        let future = pnl_request("2025-01-01", "2025-03-31", "").replace("13.0", "99.0");
        assert_eq!(ledger.respond(&future), Err(ComError::version()));
        assert_eq!(ledger.respond("<QBXML"), Err(ComError::parse()));
    }

    #[test]
    fn employees_preferences_and_faults() {
        let mut ledger = Ledger::sample(month("2025-06"));
        let emp = "<?xml version=\"1.0\"?><?qbxml version=\"13.0\"?><QBXML><QBXMLMsgsRq onError=\"stopOnError\">\
                   <EmployeeQueryRq requestID=\"2\"><ActiveStatus>ActiveOnly</ActiveStatus>\
                   <IncludeRetElement>ListID</IncludeRetElement></EmployeeQueryRq>\
                   <PreferencesQueryRq requestID=\"3\" /></QBXMLMsgsRq></QBXML>";
        let answer = ledger.answer(emp);
        assert_eq!(answer.matches("<EmployeeRet>").count(), 12);
        assert!(
            !answer.contains("<SSN>"),
            "IncludeRetElement keeps only the ListID"
        );
        assert!(answer.contains("<ClosingDate>2025-03-31</ClosingDate>"));
        ledger.employees_active = 0;
        assert!(ledger.answer(emp).contains("statusCode=\"1\""));
        ledger.fault = Some(LedgerFault::error(3120, "not found").on(QbRequestKind::Employees));
        let answer = ledger.answer(emp);
        assert!(answer.contains("statusCode=\"3120\" statusSeverity=\"Error\""));
        assert!(
            !answer.contains("PreferencesQueryRs"),
            "stopOnError stops after the failure"
        );
    }
}
