//! QBR Dashboard backend: storage, REST API, CLI plumbing.
pub mod pg_cluster;
