//! `qbr backup [--out FILE]` and `qbr restore FILE [--force]` (`crate::backup`).
//!
//! The database is `DATABASE_URL`'s, else the private cluster under
//! `$QBR_DATA_DIR/postgres`: a backup uses it through a running `qbr serve` that holds
//! it, or starts it for the while; a restore needs it to itself (stop `qbr serve`
//! first) and creates it on a machine that has none yet.
use crate::backup::{self, PgTools, RestoreOptions};
use crate::config::Config;
use crate::db;
use anyhow::{bail, Context};
use pg_cluster::PgCluster;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Where to write it (default: qbr-YYYYMMDDTHHMMSSZ.dump in the current folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file written by `qbr backup` (or the nightly backup).
    file: PathBuf,
    /// Replace a database that holds data, even while others are connected to it.
    #[arg(long)]
    force: bool,
}

/// The database a command works on, and the private cluster it started, if any (stopped
/// when this is dropped).
struct Opened {
    url: String,
    what: String,
    cluster: Option<PgCluster>,
}

impl Opened {
    async fn close(mut self) {
        if let Some(cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}

fn cluster_dir(config: &Config) -> PathBuf {
    config.data_dir.join("postgres")
}

/// `DATABASE_URL`, the private cluster of a running `qbr serve`, or the private cluster
/// started now (`create`: even on a machine that has none yet).
async fn open(config: &Config, create: bool) -> anyhow::Result<Opened> {
    if let Some(url) = &config.database_url {
        return Ok(Opened {
            what: backup::display_url(url),
            url: url.clone(),
            cluster: None,
        });
    }
    let dir = cluster_dir(config);
    if let Some(url) = pg_cluster::running_url(&dir, db::LOCAL_DB_NAME) {
        return Ok(Opened {
            url,
            what: format!("the private cluster under {} (running)", dir.display()),
            cluster: None,
        });
    }
    if !create && !dir.join("PG_VERSION").exists() {
        bail!(
            "there is no database under {} (and DATABASE_URL is not set): nothing to back up",
            dir.display()
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let start_dir = dir.clone();
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&start_dir, None)).await??;
    db::ensure_database(&cluster.database_url("postgres"), db::LOCAL_DB_NAME).await?;
    Ok(Opened {
        url: cluster.database_url(db::LOCAL_DB_NAME),
        what: format!("the private cluster under {}", dir.display()),
        cluster: Some(cluster),
    })
}

/// `qbr backup`.
pub async fn run_backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    let tools = PgTools::find()?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(backup::nightly::file_name(chrono::Utc::now())));
    let opened = open(config, false).await?;
    let result = async {
        let contents = backup::contents(&opened.url).await?;
        let written = backup::backup(&tools, &opened.url, &out).await?;
        Ok::<_, anyhow::Error>((contents, written))
    }
    .await;
    let what = opened.what.clone();
    opened.close().await;
    let (contents, written) = result?;
    println!(
        "backed up {what} to {}: {}, {} tables, {:.1} s",
        written.path.display(),
        size(written.bytes),
        written.tables,
        written.duration.as_secs_f64()
    );
    if let Some(c) = contents {
        println!("it holds {c}");
    }
    println!("restore it with: qbr restore {}", written.path.display());
    Ok(())
}

/// `qbr restore`.
pub async fn run_restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let tools = PgTools::find()?;
    if config.database_url.is_none()
        && pg_cluster::running_url(&cluster_dir(config), db::LOCAL_DB_NAME).is_some()
    {
        bail!(
            "a qbr serve holds the private cluster under {}: stop it first, then restore",
            cluster_dir(config).display()
        );
    }
    if !args.file.is_file() {
        bail!("{} does not exist", args.file.display());
    }
    let opened = open(config, true).await?;
    let opts = RestoreOptions { force: args.force };
    let result = backup::restore(&tools, &opened.url, &args.file, opts).await;
    let what = opened.what.clone();
    opened.close().await;
    let restored = result?;
    println!(
        "restored {} ({} tables) into {what}: {:.1} s",
        args.file.display(),
        restored.archive.tables,
        restored.duration.as_secs_f64()
    );
    if !restored.migrated.is_empty() {
        println!("migrated it to this qbr: {}", restored.migrated.join(", "));
    }
    if let Some(c) = restored.contents {
        println!("it holds {c}");
    }
    Ok(())
}

/// `1.2 MiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} bytes"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_well() {
        assert_eq!(super::size(512), "512 bytes");
        assert_eq!(super::size(1536), "1.5 KiB");
        assert_eq!(super::size(3 * 1024 * 1024), "3.0 MiB");
    }
}
