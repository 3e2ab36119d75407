//! `qbr import FILE [--commit] [--overwrite]`.
use crate::db::Database;
use crate::exchange::{self, ImportOptions, MAX_IMPORT_BYTES};
use anyhow::Context;
use qbr_shared::api::ImportResponse;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The file to read.
    file: PathBuf,
    /// Apply the import (all or nothing) instead of previewing it.
    #[arg(long)]
    commit: bool,
    /// Replace collected and manual values too.
    #[arg(long)]
    overwrite: bool,
}

pub async fn run(database: &Database, args: ImportArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.len() > MAX_IMPORT_BYTES {
        anyhow::bail!("{} exceeds 20 MiB", file.display());
    }
    let parsed = exchange::parse_file(file.to_str(), &bytes);
    let mut conn = super::conn(database).await?;
    let org = super::organization(&mut conn).await?;
    let options = ImportOptions {
        overwrite: args.overwrite,
        commit: args.commit,
        actor: "cli",
        ip: None,
    };
    let out = exchange::import(&mut conn, &org, &parsed, options).await?;
    print_preview(&out, args.commit);
    Ok(())
}

/// One line per cell, the totals that disagree, then the counts.
fn print_preview(out: &ImportResponse, commit: bool) {
    println!("period\tmetric\taction\told\tnew\twhere");
    for c in &out.cells {
        let old = c.old_value.map(|v| v.to_string()).unwrap_or_default();
        println!(
            "{}\t{}\t{:?}\t{old}\t{}\t{} row {} column {}",
            c.period, c.metric_name, c.action, c.new_value, c.sheet, c.row, c.column
        );
    }
    for m in &out.total_mismatches {
        println!("total mismatch: {} row {}: {}", m.sheet, m.row, m.message);
    }
    println!(
        "{}: {} created, {} changed, {} unchanged, {} skipped (collected/manual; --overwrite replaces them)",
        if commit { "imported" } else { "dry run (--commit applies it)" },
        out.created_count,
        out.changed_count,
        out.unchanged_count,
        out.skipped_count
    );
}
