//! How the clients' list is ordered: by the column whose header was clicked, in the
//! direction that puts the best (numbers) or the largest (inputs) first, again to turn
//! it round; clients without a value always last, ties by name.
use super::{input_value, number_value};
use qbr_shared::clients::api::ClientRow;
use qbr_shared::clients::{Better, ClientMetric, ClientNumber};
use std::cmp::Ordering;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Column {
    Name,
    Input(ClientMetric),
    Number(ClientNumber),
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Default for Sort {
    /// RHEM, best (lowest) first: the ranking the issue asks for.
    fn default() -> Sort {
        Sort::first_click(Column::Number(ClientNumber::Rhem))
    }
}

impl Sort {
    fn first_click(column: Column) -> Sort {
        let descending = match column {
            Column::Name => false,
            Column::Input(_) => true,
            Column::Number(n) => n.better() == Better::Higher,
        };
        Sort { column, descending }
    }

    /// The order after a click on `column`'s header.
    pub fn clicked(self, column: Column) -> Sort {
        if self.column == column {
            Sort {
                column,
                descending: !self.descending,
            }
        } else {
            Sort::first_click(column)
        }
    }

    /// `aria-sort` of `column`'s header.
    pub fn aria(self, column: Column) -> &'static str {
        match (self.column == column, self.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }

    /// The number the "Top movers" follow: the sorted one, else RHEM.
    pub fn number(self) -> ClientNumber {
        match self.column {
            Column::Number(n) => n,
            _ => ClientNumber::Rhem,
        }
    }

    pub fn apply(self, rows: &mut [&ClientRow]) {
        rows.sort_by(|a, b| {
            let ord = match self.column {
                Column::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                col => {
                    let (x, y) = (value(a, col), value(b, col));
                    match (x, y) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        // No value: last whichever way round.
                        (Some(_), None) => return Ordering::Less,
                        (None, Some(_)) => return Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    }
                }
            };
            let ord = if self.descending { ord.reverse() } else { ord };
            ord.then_with(|| a.name.cmp(&b.name))
        });
    }
}

fn value(row: &ClientRow, column: Column) -> Option<f64> {
    match column {
        Column::Name => None,
        Column::Input(m) => input_value(&row.inputs, m),
        Column::Number(n) => number_value(&row.numbers, n).and_then(|v| v.value),
    }
}
