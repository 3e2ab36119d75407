//! Types and pure rules of the QBR Dashboard, compiled by both the backend and the SPA.
//!
//! Every business rule lives here exactly once: periods, the metric catalogue and its
//! derived formulas, aggregation, the 18 SmartNumbers, thresholds and alerts, value
//! formatting, notifications and report delivery, and the REST API's request/response
//! types.
pub mod access;
pub mod alerts;
pub mod api;
pub mod catalogue;
pub mod clients;
pub mod collection;
pub mod error;
pub mod expr;
pub mod format;
pub mod insight;
pub mod notify;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod period;
pub mod quickbooks;
pub mod reference;
pub mod smartnumbers;
pub mod text;
pub mod thresholds;
pub mod values;
pub mod vendor;
mod words;
pub mod workbook;

pub use error::ErrorCode;
pub use period::{Month, Period, PeriodError, PeriodKind, Quarter};
pub use vendor::Vendor;
