//! `qbr collect [--vendor] [--month | --from --to] [--force] [--dry-run]`.
use crate::collect::credentials;
use crate::collect::run::{self, RunError, RunOptions};
use crate::collect::{CollectorConfig, VendorChoice};
use crate::config::Env;
use crate::db::{tenant, Database};
use qbr_shared::collection::Trigger;
use qbr_shared::Month;

#[derive(clap::Args)]
pub struct CollectArgs {
    /// Which vendor to read: a collected vendor's key (connectwise, ninjaone, …) or all.
    #[arg(long, default_value = "all")]
    vendor: VendorChoice,
    /// One month (YYYY-MM).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    month: Option<Month>,
    /// First month of a range (YYYY-MM); with --to.
    #[arg(long, requires = "to")]
    from: Option<Month>,
    /// Last month of a range (YYYY-MM); with --from.
    #[arg(long, requires = "from")]
    to: Option<Month>,
    /// Re-collect closed months that already have a collected value (manual values are kept).
    #[arg(long)]
    force: bool,
    /// Read and check everything, print what would be written, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The organization (slug) to collect, with its stored vendor settings; the first
    /// organization (with the environment's settings) if absent.
    #[arg(long)]
    org: Option<String>,
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} collecting [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

pub async fn run(env: &Env, database: &Database, args: CollectArgs) -> anyhow::Result<()> {
    let base = CollectorConfig::from_env(env)?;
    let mut conn = tenant::checkout_platform(&database.pool).await?;
    let org = match &args.org {
        Some(slug) => super::org::id_of(&mut conn, slug).await?,
        None => super::ORG_ID,
    };
    tenant::enter(&mut conn, org).await?;
    let cfg = credentials::config_for(
        &mut conn,
        org,
        &base,
        base.secret_key.as_ref(),
        super::ORG_ID,
    )
    .await?;
    drop(conn);
    let opts = RunOptions {
        organization_id: org,
        trigger: Trigger::Cli,
        vendors: args.vendor,
        months: args.month.map(|m| (m, m)).or(args.from.zip(args.to)),
        force: args.force,
        dry_run: args.dry_run,
    };
    let bar = progress_bar();
    let progress = |done: u32, total: u32| {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
    };
    let outcome = run::run(&database.pool, &cfg, &opts, &progress).await;
    bar.finish_and_clear();
    match outcome {
        Ok(report) => {
            print!("{}", report.summary_table());
            Ok(())
        }
        Err(RunError::Refused) => anyhow::bail!("refused: another collection run is in progress"),
        Err(RunError::Cancelled) => anyhow::bail!("cancelled: nothing was written"),
        Err(RunError::Failed(e)) => {
            anyhow::bail!("collection failed: {}", one_line(&format!("{e:#}")))
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
