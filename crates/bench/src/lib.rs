//! What the benchmark binaries share: the real `qbr serve` in a process of its own
//! ([`server`]), the CPU time of that process and of PostgreSQL read from `/proc`
//! ([`cpu`]), a throwaway database migrated like production's, realistic data written
//! through the store layer ([`data`]) and load passes over HTTP ([`load`]).
use pg_cluster::PgCluster;
use std::time::Instant;

pub mod cpu;
pub mod data;
pub mod load;
pub mod server;

pub use server::{count_lines, describe_binary, qbr_binary, QbrServer, POOL_SIZE};

/// Creates the database `name` in `cluster` and migrates it; returns its URL.
pub async fn prepare_database(cluster: &PgCluster, name: &str) -> anyhow::Result<String> {
    let t = Instant::now();
    backend::db::ensure_database(&cluster.database_url("postgres"), name).await?;
    let url = cluster.database_url(name);
    let applied = backend::db::run_migrations(&url).await?;
    println!(
        "database: {} migration(s) applied in {:.2} s",
        applied.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(url)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
