//! Revenue per client from the books: QuickBooks' "Sales by Customer Summary" report by
//! month (Desktop: `SalesByCustomerSummary` in qbXML; Online: the `CustomerSales`
//! report), read into [`CustomerSales`] and stored as each customer's `revenue`, the
//! client numbers' effective rate and margin then use it.
//!
//! A customer's jobs (sub-customers, `Acme Dental:Office move`) are added to the
//! customer: the client is the customer, a job is a piece of work for it. Customers are
//! known by their full name (QuickBooks keeps customer names unique, and the Desktop
//! report carries no list id); the matching page links them to clients by name like
//! the other vendors' entities.
use crate::collect::collector::{ClientReading, ClientValue};
use qbr_shared::clients::ClientMetric;
use qbr_shared::Month;
use std::collections::BTreeMap;

/// What each customer was sold, per month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerSales {
    /// The report's months, oldest first.
    pub months: Vec<Month>,
    /// Top-level customer name → one amount per month (its jobs included).
    pub customers: BTreeMap<String, Vec<f64>>,
}

/// The largest difference, per month, tolerated between the customers' sum and the
/// report's total: rounding of the cents shown.
const CENTS: f64 = 0.015;

/// Why a report's customers could not be taken.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CustomerSalesError {
    #[error(
        "the customers' sales of {month} add up to {sum:.2}, the report's total is {total:.2}"
    )]
    Unbalanced { month: Month, sum: f64, total: f64 },
}

impl CustomerSales {
    /// An empty report of `months` (no customer had sales).
    pub fn empty(months: Vec<Month>) -> CustomerSales {
        CustomerSales {
            months,
            customers: BTreeMap::new(),
        }
    }

    /// Adds `amounts` (one per month) to the customer of `full_name` (a job's sales go
    /// to its customer).
    pub fn add(&mut self, full_name: &str, amounts: &[f64]) {
        let customer = top_level(full_name);
        if customer.is_empty() {
            return;
        }
        let sums = self
            .customers
            .entry(customer.to_string())
            .or_insert_with(|| vec![0.0; self.months.len()]);
        for (sum, a) in sums.iter_mut().zip(amounts) {
            *sum += a;
        }
    }

    /// Checks the customers against the report's own total row: a row read twice or
    /// missed would put revenue on the wrong client, quietly.
    pub fn check_total(&self, total: &[f64]) -> Result<(), CustomerSalesError> {
        for (i, (month, total)) in self.months.iter().zip(total).enumerate() {
            let sum: f64 = self.customers.values().filter_map(|a| a.get(i)).sum();
            if (sum - total).abs() > CENTS {
                return Err(CustomerSalesError::Unbalanced {
                    month: *month,
                    sum,
                    total: *total,
                });
            }
        }
        Ok(())
    }

    /// The per-client reading of the report's months up to `current`: every customer is
    /// an entity, with its revenue in every month (zero when it bought nothing: that
    /// month's revenue is known to be nothing). `closed_through` freezes the months the
    /// books have closed.
    pub fn client_reading(&self, current: Month, closed_through: Option<Month>) -> ClientReading {
        let entities = self
            .customers
            .keys()
            .map(|name| (name.clone(), name.clone()))
            .collect();
        let mut values = Vec::new();
        for (name, amounts) in &self.customers {
            for (month, amount) in self.months.iter().zip(amounts) {
                if *month <= current {
                    values.push(ClientValue {
                        external_id: name.clone(),
                        month: *month,
                        metric: ClientMetric::Revenue,
                        value: round_cents(*amount),
                    });
                }
            }
        }
        ClientReading {
            entities,
            values,
            tickets: Vec::new(),
            closed_through,
        }
    }
}

/// `Acme Dental:Office move` → `Acme Dental`.
pub fn top_level(full_name: &str) -> &str {
    full_name.split(':').next().unwrap_or_default().trim()
}

fn round_cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn jobs_add_to_their_customer_and_the_total_is_checked() {
        let mut sales = CustomerSales::empty(vec![month("2026-01"), month("2026-02")]);
        sales.add("Acme Dental", &[100.0, 50.0]);
        sales.add("Acme Dental:Office move", &[20.5, 0.0]);
        sales.add("Blue Sky", &[0.0, 10.0]);
        assert_eq!(sales.customers["Acme Dental"], vec![120.5, 50.0]);
        assert!(sales.check_total(&[120.5, 60.0]).is_ok());
        assert_eq!(
            sales.check_total(&[120.5, 61.0]),
            Err(CustomerSalesError::Unbalanced {
                month: month("2026-02"),
                sum: 60.0,
                total: 61.0
            })
        );
    }

    #[test]
    fn the_reading_has_every_customer_and_month_up_to_the_current_one() {
        let mut sales = CustomerSales::empty(vec![month("2026-01"), month("2026-02")]);
        sales.add("Acme Dental", &[100.004, 0.0]);
        let r = sales.client_reading(month("2026-01"), Some(month("2025-12")));
        assert_eq!(
            r.entities,
            vec![("Acme Dental".into(), "Acme Dental".into())]
        );
        assert_eq!(r.values.len(), 1);
        assert_eq!(r.values[0].value, 100.0);
        assert_eq!(r.closed_through, Some(month("2025-12")));
    }
}
