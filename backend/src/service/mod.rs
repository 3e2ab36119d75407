//! What handlers, the CLI, the report and the scheduler share: the business operations
//! of the product, one function per question or change. Each takes a connection (so a
//! caller can run several in one transaction, or hand in its own), the organization it
//! acts on and, for reads, the server's [`Caches`](crate::cache::Caches); each returns
//! typed data or an [`AppError`](crate::error::AppError). Nothing here knows about HTTP.
//!
//! Reads answer from the versioned caches when the organization's data has not changed
//! since the answer was built, so a warm read costs one small query (the organization
//! row, read with the session) and no JSON work.
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod client_numbers;
pub mod clients;
pub mod collection;
pub mod definitions;
pub mod entry;
pub mod insight;
pub mod metrics;
pub mod notifications;
pub mod periods;
pub mod quickbooks;
pub mod report;
pub mod report_delivery;
pub mod settings;
pub mod smartnumbers;
pub mod tenants;
pub mod thresholds;

use crate::cache::Encoded;
use crate::error::AppError;
use serde::Serialize;
use std::sync::Arc;

/// A read's answer: the value and its JSON, shared with the cache.
pub type Answer<T> = Arc<Encoded<T>>;

/// Encodes a freshly built answer for the cache.
fn encode<T: Serialize>(value: T) -> Result<Encoded<T>, AppError> {
    Encoded::new(value).map_err(AppError::internal)
}

/// Who makes a change: the name kept in histories and the audit log (an email,
/// `apikey:<name>`, `cli`) and the client's address.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub ip: Option<&'a str>,
}
