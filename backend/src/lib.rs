//! QBR Dashboard backend: storage, REST API, CLI plumbing.
pub mod api;
pub mod auth;
pub mod collect;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_load;
pub mod error;
pub mod io;
pub mod maintenance;
pub mod middleware;
pub mod pg_cluster;
pub mod report;
pub mod schema;
pub mod server;
pub mod state;
pub mod store;
