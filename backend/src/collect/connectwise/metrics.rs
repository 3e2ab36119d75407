//! Turning ConnectWise data into metric values (pure functions).
use super::client::TimeEntry;
use crate::collect::collector::Window;
use qbr_shared::Month;
use std::collections::BTreeMap;

/// Sums hours per month of the entries whose ticket is reactive.
pub fn reactive_hours(
    entries: &[TimeEntry],
    window: &Window,
    is_reactive: impl Fn(i64) -> bool,
) -> BTreeMap<Month, f64> {
    let mut out: BTreeMap<Month, f64> = window.months.iter().map(|b| (b.month, 0.0)).collect();
    for e in entries {
        let Some(ticket) = e.charge_to_id else {
            continue;
        };
        if !is_reactive(ticket) {
            continue;
        }
        if let Some(m) = window.month_of(e.date_entered) {
            *out.entry(m).or_default() += e.actual_hours.unwrap_or(0.0);
        }
    }
    // Hours are summed in f64: round to the stored precision so sums are exact.
    for v in out.values_mut() {
        *v = (*v * 1e6).round() / 1e6;
    }
    out
}
