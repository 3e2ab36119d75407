//! The Accounting API's `ProfitAndLoss` report (JSON, `summarize_column_by=Month`) as
//! the shared model (`qbr_shared::quickbooks::PnlReport`).
//!
//! The report's columns are the account, one `Money` column per month (its `MetaData`
//! has `StartDate` and `EndDate`) and a `Total` (dropped). Its rows nest: a top-level
//! `Section` per part of the report, named by `group` (`Income`, `COGS`, `Expenses`,
//! `OtherIncome`, `OtherExpenses`; `GrossProfit`, `NetIncome` and the like only sum
//! them up), with a `Summary` whose cells are the part's totals. Inside, a `Data` row is
//! an account without sub-accounts; a parent account is a `Section` whose `Header` names
//! it, whose `Rows` are its sub-accounts and whose `Summary` is its total. A parent's own
//! postings are the amounts on its `Header` cells; older or unusual answers leave them
//! blank, so what the `Summary` holds beyond the sub-accounts counts as its own too.
use chrono::NaiveDate;
use qbr_shared::quickbooks::{PnlAccount, PnlReport, Section};
use qbr_shared::Month;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How deep accounts may nest (QuickBooks Online allows five levels): a malformed answer
/// must not recurse without end.
const MAX_DEPTH: usize = 16;

/// Why a report could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("the report is not the JSON of a report by month: {0}")]
    Json(String),
    #[error("{0}")]
    Unbalanced(String),
    #[error("the report has no month columns (was it asked with summarize_column_by=Month?)")]
    NoMonths,
    #[error("the report's month columns are not in order: {0}")]
    Months(String),
    #[error("'{value}' in the row of '{row}' is not an amount")]
    Amount { row: String, value: String },
    #[error("accounts nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

#[derive(Debug, Deserialize)]
pub(super) struct Report {
    #[serde(rename = "Columns", default)]
    pub(super) columns: Columns,
    #[serde(rename = "Rows", default)]
    pub(super) rows: Rows,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Columns {
    #[serde(rename = "Column", default)]
    pub(super) column: Vec<Column>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Column {
    #[serde(rename = "ColType", default)]
    pub(super) col_type: String,
    #[serde(rename = "MetaData", default)]
    pub(super) meta_data: Vec<NameValue>,
}

#[derive(Debug, Deserialize)]
pub(super) struct NameValue {
    #[serde(rename = "Name", default)]
    pub(super) name: String,
    #[serde(rename = "Value", default)]
    pub(super) value: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Rows {
    #[serde(rename = "Row", default)]
    pub(super) row: Vec<Row>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Row {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) group: Option<String>,
    #[serde(rename = "Header", default)]
    pub(super) header: Option<Cells>,
    #[serde(rename = "Rows", default)]
    pub(super) rows: Option<Rows>,
    #[serde(rename = "Summary", default)]
    pub(super) summary: Option<Cells>,
    #[serde(rename = "ColData", default)]
    pub(super) col_data: Option<Vec<Cell>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Cells {
    #[serde(rename = "ColData", default)]
    pub(super) col_data: Vec<Cell>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Cell {
    #[serde(default)]
    pub(super) value: String,
}

/// Reads the JSON of a `ProfitAndLoss` report by month.
pub fn parse(json: &str) -> Result<PnlReport, ReportError> {
    let report: Report =
        serde_json::from_str(json).map_err(|e| ReportError::Json(e.to_string()))?;
    let columns = month_columns(&report.columns.column)?;
    let mut reader = Reader {
        columns: &columns,
        accounts: Vec::new(),
        totals: BTreeMap::new(),
    };
    for row in &report.rows.row {
        reader.part(row)?;
    }
    Ok(PnlReport {
        months: columns.iter().map(|(_, m)| *m).collect(),
        accounts: reader.accounts,
        totals: reader.totals,
    })
}

/// The index and month of every month column, oldest first (the `Total` column has no
/// `StartDate`, so it is left out).
pub(super) fn month_columns(columns: &[Column]) -> Result<Vec<(usize, Month)>, ReportError> {
    let mut out: Vec<(usize, Month)> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        if !c.col_type.eq_ignore_ascii_case("money") {
            continue;
        }
        let Some(start) = c.meta_data.iter().find(|m| m.name == "StartDate") else {
            continue;
        };
        let date: NaiveDate = start
            .value
            .parse()
            .map_err(|_| ReportError::Months(format!("StartDate '{}'", start.value)))?;
        let month = Month::from_date(date);
        if out.last().is_some_and(|(_, last)| *last >= month) {
            return Err(ReportError::Months(format!("{month} after a later one")));
        }
        out.push((i, month));
    }
    if out.is_empty() {
        return Err(ReportError::NoMonths);
    }
    Ok(out)
}

/// The section of a top-level row: its `group`, else its heading.
fn section_of(row: &Row) -> Option<Section> {
    let by_group = match row.group.as_deref() {
        Some("Income") => Some(Section::Income),
        Some("COGS") => Some(Section::CostOfGoodsSold),
        Some("Expenses") => Some(Section::Expense),
        Some("OtherIncome") => Some(Section::OtherIncome),
        Some("OtherExpenses") => Some(Section::OtherExpense),
        _ => None,
    };
    by_group.or_else(|| {
        let heading = row.header.as_ref()?.col_data.first()?;
        Section::of_heading(&heading.value)
    })
}

struct Reader<'a> {
    columns: &'a [(usize, Month)],
    accounts: Vec<PnlAccount>,
    totals: BTreeMap<String, Vec<f64>>,
}

impl Reader<'_> {
    /// A top-level row: a part of the report (its accounts and total) or a line that
    /// only sums parts up (gross profit, net income), which is skipped.
    fn part(&mut self, row: &Row) -> Result<(), ReportError> {
        let Some(section) = section_of(row) else {
            return Ok(());
        };
        let name = section.as_str();
        let children = row.rows.as_ref().map_or(&[][..], |r| &r.row[..]);
        let mut sum = vec![0.0; self.columns.len()];
        for child in children {
            let total = self.account(child, section, None, 0)?;
            add(&mut sum, &total);
        }
        let total = match &row.summary {
            Some(s) => self.amounts(&s.col_data, name)?,
            None => sum,
        };
        self.totals.insert(name.to_string(), total);
        Ok(())
    }

    /// An account row and its sub-accounts; returns its total (own and sub-accounts').
    fn account(
        &mut self,
        row: &Row,
        section: Section,
        parent: Option<&str>,
        depth: usize,
    ) -> Result<Vec<f64>, ReportError> {
        if depth > MAX_DEPTH {
            return Err(ReportError::TooDeep);
        }
        let is_section = row.kind.as_deref() == Some("Section") || row.header.is_some();
        let cells = if is_section {
            row.header.as_ref().map_or(&[][..], |h| &h.col_data[..])
        } else {
            row.col_data.as_deref().unwrap_or(&[])
        };
        let Some(name) = cells
            .first()
            .map(|c| c.value.trim())
            .filter(|n| !n.is_empty())
        else {
            return Ok(vec![0.0; self.columns.len()]);
        };
        let full_name = match parent {
            Some(p) => format!("{p}:{name}"),
            None => name.to_string(),
        };
        let own = self.amounts(cells, &full_name)?;
        if !is_section {
            self.push(full_name, section, own.clone());
            return Ok(own);
        }
        let at = self.accounts.len();
        let children = row.rows.as_ref().map_or(&[][..], |r| &r.row[..]);
        let mut sub = vec![0.0; self.columns.len()];
        for child in children {
            let total = self.account(child, section, Some(&full_name), depth + 1)?;
            add(&mut sub, &total);
        }
        let own = match &row.summary {
            Some(s) if own.iter().all(|v| *v == 0.0) => {
                let total = self.amounts(&s.col_data, &full_name)?;
                total.iter().zip(&sub).map(|(t, s)| cents(t - s)).collect()
            }
            _ => own,
        };
        let mut total = own.clone();
        add(&mut total, &sub);
        // A parent with postings of its own is an account like any other; one without
        // only groups its sub-accounts.
        if own.iter().any(|v| *v != 0.0) {
            let account = PnlAccount {
                full_name,
                section,
                amounts: own,
            };
            self.accounts.insert(at, account);
        }
        Ok(total)
    }

    fn push(&mut self, full_name: String, section: Section, amounts: Vec<f64>) {
        self.accounts.push(PnlAccount {
            full_name,
            section,
            amounts,
        });
    }

    fn amounts(&self, cells: &[Cell], row: &str) -> Result<Vec<f64>, ReportError> {
        amounts(self.columns, cells, row)
    }
}

/// The amounts of `cells` in the month `columns` (a blank cell is zero); `row` names
/// the row in the error.
pub(super) fn amounts(
    columns: &[(usize, Month)],
    cells: &[Cell],
    row: &str,
) -> Result<Vec<f64>, ReportError> {
    columns
        .iter()
        .map(|(i, _)| {
            let text = cells.get(*i).map_or("", |c| c.value.trim());
            amount(text).ok_or_else(|| ReportError::Amount {
                row: row.to_string(),
                value: text.to_string(),
            })
        })
        .collect()
}

/// `"1234.50"`, `"-50.00"`, `""` (zero); thousands separators tolerated.
pub(super) fn amount(text: &str) -> Option<f64> {
    if text.is_empty() {
        return Some(0.0);
    }
    let v: f64 = text.replace(',', "").parse().ok()?;
    v.is_finite().then_some(v)
}

fn add(sum: &mut [f64], more: &[f64]) {
    for (s, m) in sum.iter_mut().zip(more) {
        *s += m;
    }
}

/// Rounds to cents (a difference of binary floats drifts in the last digits).
fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn month(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn cells(name: &str, id: Option<&str>, values: &[&str]) -> Value {
        let mut out = vec![match id {
            Some(id) => json!({"value": name, "id": id}),
            None => json!({"value": name}),
        }];
        out.extend(values.iter().map(|v| json!({"value": v})));
        Value::Array(out)
    }

    fn data(name: &str, id: &str, values: &[&str]) -> Value {
        json!({"ColData": cells(name, Some(id), values), "type": "Data"})
    }

    /// A report shaped like the sandbox company's: three months and a Total; Income with
    /// a parent that has postings of its own (on its header) and sub-accounts nested two
    /// deep; a refund; COGS; Expenses with a parent without postings of its own; other
    /// income; and the summary-only lines.
    fn sample() -> String {
        sample_with(&["1000.00", "1000.00", "", "2000.00"])
    }

    /// [`sample`] with these cells on the header of `Managed Services` (its own postings).
    fn sample_with(own: &[&str]) -> String {
        let month_col = |title: &str, start: &str, end: &str| {
            json!({"ColTitle": title, "ColType": "Money", "MetaData": [
                {"Name": "StartDate", "Value": start}, {"Name": "EndDate", "Value": end},
                {"Name": "ColKey", "Value": title}]})
        };
        json!({
            "Header": {
                "Time": "2025-04-02T03:04:05-07:00", "ReportName": "ProfitAndLoss",
                "ReportBasis": "Accrual", "StartPeriod": "2025-01-01", "EndPeriod": "2025-03-31",
                "SummarizeColumnsBy": "Month", "Currency": "USD",
                "Option": [{"Name": "AccountingStandard", "Value": "GAAP"},
                           {"Name": "NoReportData", "Value": "false"}]
            },
            "Columns": {"Column": [
                {"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]},
                month_col("Jan 2025", "2025-01-01", "2025-01-31"),
                month_col("Feb 2025", "2025-02-01", "2025-02-28"),
                month_col("Mar 2025", "2025-03-01", "2025-03-31"),
                {"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]}
            ]},
            "Rows": {"Row": [
                {
                    "Header": {"ColData": cells("Income", None, &["", "", "", ""])},
                    "Rows": {"Row": [
                        {
                            "Header": {"ColData": cells("Managed Services", Some("45"), own)},
                            "Rows": {"Row": [
                                data("Backup", "46", &["100.00", "", "100.00", "200.00"]),
                                {
                                    "Header": {"ColData": cells("Security", Some("47"), &["", "", "", ""])},
                                    "Rows": {"Row": [data("EDR", "48", &["50.00", "50.00", "50.00", "150.00"])]},
                                    "Summary": {"ColData": cells("Total Security", None, &["50.00", "50.00", "50.00", "150.00"])},
                                    "type": "Section"
                                }
                            ]},
                            "Summary": {"ColData": cells("Total Managed Services", None, &["1150.00", "1050.00", "150.00", "2350.00"])},
                            "type": "Section"
                        },
                        data("Projects", "50", &["400.00", "-120.50", "", "279.50"]),
                        data("Grant Income", "51", &["", "75.00", "", "75.00"])
                    ]},
                    "Summary": {"ColData": cells("Total Income", None, &["1550.00", "1004.50", "150.00", "2704.50"])},
                    "type": "Section", "group": "Income"
                },
                {
                    "Header": {"ColData": cells("Cost of Goods Sold", None, &["", "", "", ""])},
                    "Rows": {"Row": [data("Cost of Goods Sold", "80", &["200.00", "", "", "200.00"])]},
                    "Summary": {"ColData": cells("Total Cost of Goods Sold", None, &["200.00", "", "", "200.00"])},
                    "type": "Section", "group": "COGS"
                },
                {"Summary": {"ColData": cells("Gross Profit", None, &["1350.00", "1004.50", "150.00", "2504.50"])},
                 "type": "Section", "group": "GrossProfit"},
                {
                    "Header": {"ColData": cells("Expenses", None, &["", "", "", ""])},
                    "Rows": {"Row": [
                        {
                            "Header": {"ColData": cells("Payroll Expenses", Some("60"), &["", "", "", ""])},
                            "Rows": {"Row": [data("Wages", "61", &["600.00", "600.00", "600.00", "1800.00"])]},
                            "Summary": {"ColData": cells("Total Payroll Expenses", None, &["600.00", "600.00", "600.00", "1800.00"])},
                            "type": "Section"
                        },
                        data("Rent or Lease", "62", &["300.00", "300.00", "300.00", "900.00"])
                    ]},
                    "Summary": {"ColData": cells("Total Expenses", None, &["900.00", "900.00", "900.00", "2700.00"])},
                    "type": "Section", "group": "Expenses"
                },
                {"Summary": {"ColData": cells("Net Operating Income", None, &["450.00", "104.50", "-750.00", "-195.50"])},
                 "type": "Section", "group": "NetOperatingIncome"},
                {
                    "Header": {"ColData": cells("Other Income", None, &["", "", "", ""])},
                    "Rows": {"Row": [data("Interest Earned", "70", &["", "", "1.25", "1.25"])]},
                    "Summary": {"ColData": cells("Total Other Income", None, &["", "", "1.25", "1.25"])},
                    "type": "Section", "group": "OtherIncome"
                },
                {"Summary": {"ColData": cells("Net Income", None, &["450.00", "104.50", "-748.75", "-194.25"])},
                 "type": "Section", "group": "NetIncome"}
            ]}
        })
        .to_string()
    }

    fn account<'a>(r: &'a PnlReport, name: &str) -> &'a PnlAccount {
        r.accounts
            .iter()
            .find(|a| a.full_name == name)
            .unwrap_or_else(|| panic!("{name} missing: {:?}", r.accounts))
    }

    #[test]
    fn reads_months_accounts_and_totals() {
        let r = parse(&sample()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.months,
            vec![month("2025-01"), month("2025-02"), month("2025-03")],
            "the Total column is dropped"
        );
        let names: Vec<&str> = r.accounts.iter().map(|a| a.full_name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "Managed Services",
                "Managed Services:Backup",
                "Managed Services:Security:EDR",
                "Projects",
                "Grant Income",
                "Cost of Goods Sold",
                "Payroll Expenses:Wages",
                "Rent or Lease",
                "Interest Earned",
            ],
            "parents before their sub-accounts; a parent without postings of its own is no account"
        );
        let ms = account(&r, "Managed Services");
        assert_eq!(ms.amounts, vec![1000.0, 1000.0, 0.0], "own postings only");
        assert_eq!(ms.section, Section::Income);
        assert_eq!(
            account(&r, "Projects").amounts,
            vec![400.0, -120.5, 0.0],
            "a refund stays negative"
        );
        assert_eq!(
            account(&r, "Cost of Goods Sold").section,
            Section::CostOfGoodsSold
        );
        assert_eq!(
            account(&r, "Payroll Expenses:Wages").section,
            Section::Expense
        );
        assert_eq!(account(&r, "Interest Earned").section, Section::OtherIncome);
        assert_eq!(r.total(Section::Income, 1), Some(1004.5));
        assert_eq!(r.total(Section::CostOfGoodsSold, 1), Some(0.0));
        assert_eq!(r.total(Section::Expense, 2), Some(900.0));
        assert_eq!(r.total(Section::OtherIncome, 2), Some(1.25));
        assert_eq!(r.total(Section::OtherExpense, 0), None, "not in the report");
        assert_eq!(r.totals.len(), 4, "summary-only lines are no section");
    }

    #[test]
    fn the_default_mapping_reconciles_but_for_the_unmapped_account() {
        let r = parse(&sample()).unwrap_or_else(|e| panic!("{e}"));
        let mapped = qbr_shared::quickbooks::map_report(&r, &BTreeMap::new());
        let v = |m: &str, k: &'static str| mapped.values.get(&(month(m), k)).copied();
        assert_eq!(v("2025-01", "mrr"), Some(1150.0));
        assert_eq!(v("2025-02", "nrr"), Some(-120.5));
        assert_eq!(v("2025-01", "product_cogs"), Some(200.0));
        assert_eq!(v("2025-03", "employee_expense"), Some(600.0));
        assert_eq!(v("2025-03", "misc_revenue"), Some(1.25));
        let unreconciled: Vec<(&str, Vec<String>)> = mapped
            .unreconciled
            .iter()
            .map(|u| (u.period.as_str(), u.unmapped_accounts.clone()))
            .collect();
        assert_eq!(
            unreconciled,
            vec![("2025-02", vec!["Grant Income".to_string()])]
        );
    }

    #[test]
    fn a_parent_with_blank_header_cells_keeps_what_its_total_has_beyond_its_sub_accounts() {
        let text = sample_with(&["", "", "", ""]);
        let r = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            account(&r, "Managed Services").amounts,
            vec![1000.0, 1000.0, 0.0]
        );
    }

    #[test]
    fn an_empty_report_has_months_and_no_accounts() {
        let text = json!({
            "Header": {"ReportName": "ProfitAndLoss", "Option": [{"Name": "NoReportData", "Value": "true"}]},
            "Columns": {"Column": [
                {"ColTitle": "", "ColType": "Account"},
                {"ColTitle": "Jan 2025", "ColType": "Money", "MetaData": [{"Name": "StartDate", "Value": "2025-01-01"}]},
                {"ColTitle": "Total", "ColType": "Money"}
            ]},
            "Rows": {}
        })
        .to_string();
        let r = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.months, vec![month("2025-01")]);
        assert!(r.accounts.is_empty() && r.totals.is_empty());
    }

    #[test]
    fn malformed_reports_are_refused() {
        assert!(matches!(parse("<xml/>"), Err(ReportError::Json(_))));
        let no_months = json!({"Columns": {"Column": [{"ColTitle": "Total", "ColType": "Money"}]}});
        assert_eq!(parse(&no_months.to_string()), Err(ReportError::NoMonths));
        let bad_amount = sample().replace("\"-120.50\"", "\"n/a\"");
        assert_eq!(
            parse(&bad_amount),
            Err(ReportError::Amount {
                row: "Projects".into(),
                value: "n/a".into()
            })
        );
        let backwards = sample().replace("\"2025-03-01\"", "\"2024-12-01\"");
        assert!(matches!(parse(&backwards), Err(ReportError::Months(_))));
        assert_eq!(amount("1,234.50"), Some(1234.5));
        assert_eq!(amount("NaN"), None);
    }
}
