//! The nightly backup inside `qbr serve`: at `QBR_BACKUP_CRON` in `QBR_BACKUP_TIMEZONE`
//! a backup goes to `QBR_BACKUP_DIR` as `qbr-YYYYMMDDTHHMMSSZ.dump` (UTC), and the
//! oldest of those files beyond `QBR_BACKUP_KEEP` are removed, only after a backup
//! succeeded (a week of failures never deletes the last good backups) and never a file
//! of another name (`qbr backup --out` copies, say). Failures are logged and counted
//! (`qbr_backups_total{outcome="failed"}`).
//!
//! On by default for the private cluster (into `$QBR_DATA_DIR/backups`): a zero-setup
//! install has no other backup. With `DATABASE_URL`, only when `QBR_BACKUP_DIR` is set
//! (the database's own backups are usually someone else's job).
use super::{PgTools, Written};
use crate::config::{Config, Env};
use crate::jobs::ZonedJob;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Backups kept by default: two weeks of nights.
const DEFAULT_KEEP: usize = 14;
/// 02:00, after the nightly collection (22:30 by default) has finished.
const DEFAULT_CRON: &str = "0 0 2 * * *";
const PREFIX: &str = "qbr-";
const SUFFIX: &str = ".dump";
/// `20261203T020000Z`.
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// Where, when and how many.
#[derive(Debug, Clone)]
pub struct NightlySettings {
    pub dir: PathBuf,
    pub keep: usize,
    pub cron: String,
    pub timezone: chrono_tz::Tz,
}

impl NightlySettings {
    /// The settings, or `None` (logged) when nightly backups are off.
    pub fn from_env(env: &Env, config: &Config) -> anyhow::Result<Option<NightlySettings>> {
        let keep = env.parsed("QBR_BACKUP_KEEP", DEFAULT_KEEP)?;
        let dir = match (env.var("QBR_BACKUP_DIR"), &config.database_url) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, None) => config.data_dir.join("backups"),
            (None, Some(_)) => {
                tracing::info!(
                    "nightly backups are off: DATABASE_URL is set and QBR_BACKUP_DIR is not"
                );
                return Ok(None);
            }
        };
        if keep == 0 {
            tracing::info!("nightly backups are off (QBR_BACKUP_KEEP=0)");
            return Ok(None);
        }
        let zone = env
            .var("QBR_BACKUP_TIMEZONE")
            .or_else(|| env.var("COLLECTOR_TIMEZONE"))
            .unwrap_or_else(|| "America/Chicago".into());
        let timezone = zone.parse().map_err(|_| {
            anyhow::anyhow!("QBR_BACKUP_TIMEZONE: '{zone}' is not an IANA time zone")
        })?;
        Ok(Some(NightlySettings {
            dir,
            keep,
            cron: env
                .var("QBR_BACKUP_CRON")
                .unwrap_or_else(|| DEFAULT_CRON.into()),
            timezone,
        }))
    }
}

/// Starts the nightly backup of the database at `url` (checks the folder and the tools
/// first, so a setup that can't work stops `qbr serve` at once).
pub async fn start(settings: NightlySettings, url: String) -> anyhow::Result<ZonedJob> {
    std::fs::create_dir_all(&settings.dir)
        .with_context(|| format!("creating QBR_BACKUP_DIR {}", settings.dir.display()))?;
    let tools = Arc::new(PgTools::find()?);
    if let Some((at, bytes)) = newest(&settings.dir) {
        crate::observe::backup_written(at, bytes, false);
    }
    let settings = Arc::new(settings);
    let (cron, tz) = (settings.cron.clone(), settings.timezone);
    let job_settings = settings.clone();
    let job = ZonedJob::start("QBR_BACKUP_CRON", &cron, tz, move || {
        let (tools, settings, url) = (tools.clone(), job_settings.clone(), url.clone());
        async move {
            let _ = run_once(&tools, &settings, &url).await;
        }
    })
    .await?;
    tracing::info!(dir = %settings.dir.display(), keep = settings.keep, cron = %cron, timezone = %tz, "nightly backup scheduled");
    Ok(job)
}

/// One night's backup and pruning, logged and counted.
pub async fn run_once(
    tools: &PgTools,
    settings: &NightlySettings,
    url: &str,
) -> anyhow::Result<Written> {
    let now = Utc::now();
    let out = settings.dir.join(file_name(now));
    match super::backup(tools, url, &out).await {
        Ok(written) => {
            crate::observe::backup_written(now, written.bytes, true);
            let removed = prune(&settings.dir, settings.keep);
            tracing::info!(
                file = %written.path.display(),
                bytes = written.bytes,
                millis = written.duration.as_millis() as u64,
                removed = removed.len(),
                "nightly backup written"
            );
            Ok(written)
        }
        Err(e) => {
            crate::observe::backup_failed();
            tracing::error!(error = %format!("{e:#}"), dir = %settings.dir.display(), "nightly backup failed");
            Err(e)
        }
    }
}

/// `qbr-20261203T020000Z.dump`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(STAMP))
}

/// When a nightly backup's file was made, from its name; `None` for other files.
fn stamp_of(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    chrono::NaiveDateTime::parse_from_str(stamp, STAMP)
        .ok()
        .map(|t| t.and_utc())
}

/// The nightly backups in `dir`, newest first.
fn nightly_files(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let mut found: Vec<(DateTime<Utc>, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((stamp_of(e.file_name().to_str()?)?, e.path())))
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found
}

/// The newest nightly backup: when, and its size.
fn newest(dir: &Path) -> Option<(DateTime<Utc>, u64)> {
    let (at, path) = nightly_files(dir).into_iter().next()?;
    Some((at, std::fs::metadata(path).ok()?.len()))
}

/// Removes the nightly backups beyond the newest `keep`; the files removed.
pub fn prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for (_, path) in nightly_files(dir).into_iter().skip(keep) {
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "could not remove an old backup")
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nightly_files_are_pruned_oldest_first() {
        let dir = std::env::temp_dir().join(format!("qbr-prune-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let names = [
            "qbr-20261201T020000Z.dump",
            "qbr-20261202T020000Z.dump",
            "qbr-20261203T020000Z.dump",
            "before-upgrade.dump",
            "qbr-2026.dump",
        ];
        for n in names {
            std::fs::write(dir.join(n), b"x").unwrap_or_default();
        }
        let removed = prune(&dir, 2);
        let left: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(removed, vec![dir.join("qbr-20261201T020000Z.dump")]);
        assert_eq!(
            left.into_iter().collect::<Vec<_>>(),
            vec![
                "before-upgrade.dump",
                "qbr-2026.dump",
                "qbr-20261202T020000Z.dump",
                "qbr-20261203T020000Z.dump"
            ]
        );
    }

    #[test]
    fn names_carry_the_time() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T02:00:05Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(file_name(at), "qbr-20261203T020005Z.dump");
        assert_eq!(stamp_of(&file_name(at)), Some(at));
        assert_eq!(stamp_of(".qbr-20261203T020005Z.dump.partial"), None);
    }
}
