//! `qbr report [--period] [--paper] [--tz] [--out]`: the PDF of `GET /api/qbr/report`.
use crate::cache::Caches;
use crate::db::Database;
use crate::report::Paper;
use crate::service::{periods, report};
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The quarter (YYYY-Qn); default: the quarter in progress if it has data, else
    /// the latest with data.
    #[arg(long)]
    period: Option<qbr_shared::Quarter>,
    /// letter or a4.
    #[arg(long, default_value = "letter", value_parser = ["letter", "a4"])]
    paper: String,
    /// IANA time zone of the generation time (default: the organization's).
    #[arg(long)]
    tz: Option<chrono_tz::Tz>,
    /// Where to write it (default: qbr-YYYY-Qn.pdf in the current folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn run(database: &Database, args: ReportArgs) -> anyhow::Result<()> {
    let paper = Paper::parse(&args.paper).context("paper: letter or a4")?;
    let mut conn = super::conn(database).await?;
    let org = super::organization(&mut conn).await?;
    let quarter = match args.period {
        Some(q) => q,
        None => periods::default_quarter(&mut conn, &Caches::default(), &org)
            .await
            .map_err(super::said)?,
    };
    let tz = args.tz.unwrap_or(org.timezone);
    let data = report::gather(&mut conn, &org, quarter, tz)
        .await
        .map_err(super::said)?;
    let pdf = crate::report::render(&data, paper)?;
    let out = args
        .out
        .unwrap_or_else(|| format!("qbr-{quarter}.pdf").into());
    std::fs::write(&out, &pdf).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), pdf.len());
    Ok(())
}
