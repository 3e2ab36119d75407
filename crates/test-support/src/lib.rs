//! What the tests and benchmarks need besides the product: local servers that speak the
//! vendors' protocols exactly (paging, errors, rate limits), so the code under test
//! runs unchanged against them.
pub mod intuit;
pub mod quickbooks;
pub mod vendors;
