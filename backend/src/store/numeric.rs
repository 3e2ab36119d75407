//! NUMERIC ⇄ f64. Values are computed in f64 (ample for money and ratios) and stored
//! as NUMERIC with full precision; the shortest decimal form of the f64 is stored so
//! 146.46 stays 146.46.
use bigdecimal::{BigDecimal, ToPrimitive};
use std::str::FromStr;

pub fn to_f64(v: &BigDecimal) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

pub fn opt_to_f64(v: &Option<BigDecimal>) -> Option<f64> {
    v.as_ref().map(to_f64)
}

/// A finite f64 as a decimal (NaN and infinities are rejected earlier by validation).
pub fn from_f64(v: f64) -> BigDecimal {
    BigDecimal::from_str(&format!("{v}")).unwrap_or_default()
}

/// Largest magnitude `qbr_metrics_monthly.metric_value` (NUMERIC(20, 6)) holds.
pub const VALUE_LIMIT: f64 = 1e14;
/// Largest magnitude `qbr_smartnumbers.kpi_value` (NUMERIC(30, 10)) holds.
pub const KPI_LIMIT: f64 = 1e20;

/// `v` when a column of magnitude `limit` can hold it. A computed value beyond it (a
/// ratio over a near-zero denominator, from extreme but valid inputs) is no number
/// anyone can use: it is stored as missing instead of failing the whole write.
pub fn storable(v: f64, limit: f64) -> Option<f64> {
    (v.is_finite() && v.abs() < limit).then_some(v)
}

pub fn opt_from_f64(v: Option<f64>) -> Option<BigDecimal> {
    v.map(from_f64)
}
