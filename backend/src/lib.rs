//! QBR Dashboard backend: the `qbr` server and command line. The layers, each using
//! only those below it (`docs/ARCHITECTURE.md`; `scripts/check-layers.sh` checks it):
//!
//! - `cli` — the `qbr` subcommands; `server` — the HTTP service and its hoops;
//! - `demo` — the demo's data, and its simulated vendors for `qbr serve --demo`;
//! - `api` — thin REST handlers; `auth` — the guard and sign-in;
//! - `http` — the request context, parameters, envelope and per-request hoops;
//! - `service` — the product's operations (reads through `cache`), shared by handlers,
//!   the CLI, the report and the scheduler; `exchange` — CSV/XLSX in and out;
//!   `collect` — the vendor collectors and runs; `report` — the PDF; `maintenance`;
//! - `notify` — notification events, their outbox and worker, mail and webhooks;
//!   `backup` — `qbr backup`/`qbr restore` and the nightly backup (pg_dump, pg_restore);
//!   `jobs` — jobs at a cron time in a time zone (the nightly collection and backup);
//! - `store` — queries over `schema`; `db` — pool, migrations, private cluster;
//! - `error`, `config`, `secrets`, `cache`, `demo`, `observe` (metrics) — used by all.
pub mod api;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod collect;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod exchange;
pub mod http;
pub mod jobs;
pub mod maintenance;
pub mod notify;
pub mod observe;
pub mod report;
pub mod schema;
pub mod secrets;
pub mod server;
pub mod service;
pub mod store;
