//! The integration tests, in one binary so the backend is linked once: a module per
//! area, all sharing one throwaway PostgreSQL cluster (`common`). Run one area with
//! `cargo test -p backend --test it -- collect_runs::`.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod collect_data;
mod common;

mod api_entry;
mod api_general;
mod api_smartnumbers;
mod audit_reads;
mod auth_access;
mod auth_microsoft;
mod browser;
mod browser_clients;
mod browser_harness;
mod browser_insight;
mod browser_notify;
mod browser_tenants;
mod clients;
mod collect_cli;
mod collect_clients_cw;
mod collect_now;
mod collect_runs;
mod collect_tenants;
#[cfg(feature = "demo")]
mod demo_collection;
mod durability;
mod hardening;
mod hosting;
mod hosting_cli;
mod insight;
mod io_cli;
mod io_roundtrip;
mod layers;
mod logo;
mod notifications;
mod observability;
mod openapi_conformance;
mod operations_backup;
mod quickbooks_desktop;
mod quickbooks_online;
mod report_pdf;
mod schema_agrees;
mod settings;
mod tenant_isolation;
mod tenants;
