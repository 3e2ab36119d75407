//! QuickBooks: profit-and-loss by month (revenue and expense metrics) and the active
//! employee count, from QuickBooks Desktop through the Web Connector (which calls this
//! server: `qbwc`) or from QuickBooks Online. The account mapping is
//! `qbr_shared::quickbooks`.
pub mod qbxml;
