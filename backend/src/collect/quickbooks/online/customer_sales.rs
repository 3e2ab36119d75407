//! The Accounting API's `CustomerSales` report (JSON, `summarize_column_by=Month`) as
//! [`CustomerSales`]: revenue per client.
//!
//! Its columns are the customer, one `Money` column per month (as the profit and
//! loss's) and a `Total`. A customer without sub-customers is a `Data` row whose first
//! cell names it (with its `id`); a customer with sub-customers (jobs) is a `Section`
//! whose `Header` names it (its own sales on the header's cells), whose `Rows` are the
//! jobs and whose `Summary` is its total; the last row is the `GrandTotal` section,
//! checked against the customers' sum.
use super::report::{amounts, month_columns, Cell, Report, ReportError, Row};
use crate::collect::quickbooks::customers::CustomerSales;
use crate::collect::quickbooks::online::report::Rows;

/// How deep sub-customers may nest (QuickBooks Online allows five levels).
const MAX_DEPTH: usize = 16;

/// Reads the JSON of a `CustomerSales` report by month.
pub fn parse(json: &str) -> Result<CustomerSales, ReportError> {
    let report: Report =
        serde_json::from_str(json).map_err(|e| ReportError::Json(e.to_string()))?;
    let columns = month_columns(&report.columns.column)?;
    let mut reader = Reader {
        columns: &columns,
        sales: CustomerSales::empty(columns.iter().map(|(_, m)| *m).collect()),
        total: None,
    };
    for row in &report.rows.row {
        reader.row(row, None, 0)?;
    }
    if let Some(total) = &reader.total {
        reader
            .sales
            .check_total(total)
            .map_err(|e| ReportError::Unbalanced(e.to_string()))?;
    }
    Ok(reader.sales)
}

struct Reader<'a> {
    columns: &'a [(usize, qbr_shared::Month)],
    sales: CustomerSales,
    total: Option<Vec<f64>>,
}

impl Reader<'_> {
    /// A customer row (with its jobs) or the grand total; `customer` is the top-level
    /// customer a job row belongs to.
    fn row(&mut self, row: &Row, customer: Option<&str>, depth: usize) -> Result<(), ReportError> {
        if depth > MAX_DEPTH {
            return Err(ReportError::TooDeep);
        }
        if row.group.as_deref() == Some("GrandTotal") {
            if let Some(summary) = &row.summary {
                self.total = Some(self.amounts(&summary.col_data, "TOTAL")?);
            }
            return Ok(());
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
            return Ok(());
        };
        let owner = customer.unwrap_or(name).to_string();
        let own = self.amounts(cells, name)?;
        self.sales.add(&owner, &own);
        if is_section {
            let children = row.rows.as_ref().map_or(&[][..], |r: &Rows| &r.row[..]);
            for child in children {
                self.row(child, Some(&owner), depth + 1)?;
            }
        }
        Ok(())
    }

    fn amounts(&self, cells: &[Cell], row: &str) -> Result<Vec<f64>, ReportError> {
        amounts(self.columns, cells, row)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{
      "Header": {"ReportName": "CustomerSales", "SummarizeColumnsBy": "Month", "Currency": "USD"},
      "Columns": {"Column": [
        {"ColTitle": "", "ColType": "Customer"},
        {"ColTitle": "Jan 2026", "ColType": "Money", "MetaData": [{"Name": "StartDate", "Value": "2026-01-01"}, {"Name": "EndDate", "Value": "2026-01-31"}]},
        {"ColTitle": "Feb 2026", "ColType": "Money", "MetaData": [{"Name": "StartDate", "Value": "2026-02-01"}, {"Name": "EndDate", "Value": "2026-02-28"}]},
        {"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]}
      ]},
      "Rows": {"Row": [
        {"ColData": [{"value": "Acme Dental, LLC", "id": "58"}, {"value": "1200.00"}, {"value": ""}, {"value": "1200.00"}], "type": "Data"},
        {"Header": {"ColData": [{"value": "Blue Sky", "id": "8"}, {"value": "10.00"}, {"value": ""}, {"value": ""}]},
         "Rows": {"Row": [
           {"ColData": [{"value": "Server move", "id": "9"}, {"value": "300.50"}, {"value": "99.50"}, {"value": "400.00"}], "type": "Data"}
         ]},
         "Summary": {"ColData": [{"value": "Total Blue Sky"}, {"value": "310.50"}, {"value": "99.50"}, {"value": "410.00"}]},
         "type": "Section"},
        {"Summary": {"ColData": [{"value": "TOTAL"}, {"value": "1510.50"}, {"value": "99.50"}, {"value": "1610.00"}]}, "type": "Section", "group": "GrandTotal"}
      ]}
    }"#;

    #[test]
    fn customers_and_their_jobs_by_month() {
        let sales = parse(REPORT).unwrap();
        assert_eq!(sales.months.len(), 2);
        assert_eq!(sales.customers["Acme Dental, LLC"], vec![1200.0, 0.0]);
        assert_eq!(sales.customers["Blue Sky"], vec![310.5, 99.5]);
        assert_eq!(sales.customers.len(), 2);
    }

    #[test]
    fn a_total_that_does_not_add_up_is_refused() {
        let wrong = REPORT.replace(
            r#"{"value": "TOTAL"}, {"value": "1510.50"}"#,
            r#"{"value": "TOTAL"}, {"value": "1500.50"}"#,
        );
        assert!(parse(&wrong).is_err());
    }
}
