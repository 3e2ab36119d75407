//! `qbr`: the QBR Dashboard server and its command line.
use anyhow::Context;
use backend::collect::run::{RunError, RunOptions, Trigger};
use backend::collect::{CollectorConfig, VendorChoice};
use backend::config::Config;
use backend::{db, demo_load, server, state::AppState};
use clap::{Parser, Subcommand};
use qbr_shared::Month;

#[derive(Parser)]
#[command(
    name = "qbr",
    version,
    about = "QBR Dashboard: SmartNumbers for MSP quarterly business reviews"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (API and, when built, the SPA).
    Serve {
        /// Load the synthetic demo organization into an empty database.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Collect metric values from ConnectWise and NinjaOne (one all-or-nothing run).
    Collect(CollectArgs),
}

#[derive(clap::Args)]
struct CollectArgs {
    /// Which vendor to read: connectwise, ninjaone or all.
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
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match Config::from_env() {
        Ok(config) => {
            init_logging(config.log_json);
            run(cli.command, config).await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("qbr: {e:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let database = db::open(
        config.database_url.as_deref(),
        &config.data_dir,
        config.pool_size,
    )
    .await?;
    let outcome = match command {
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::Serve { demo } => serve(&config, &database, demo).await,
        Command::Collect(args) => collect(&database, args).await,
    };
    // The private cluster (if any) stops when `database` is dropped, after the server.
    drop(database);
    outcome
}

async fn serve(config: &Config, database: &db::Database, demo: bool) -> anyhow::Result<()> {
    let state = AppState {
        pool: database.pool.clone(),
        org_id: 1,
    };
    if demo {
        let mut conn = database
            .pool
            .get()
            .await
            .context("connecting to load the demo")?;
        let written = demo_load::load_if_empty(&mut conn, state.org_id).await?;
        if written > 0 {
            tracing::info!(values = written, "loaded the demo organization");
        } else {
            tracing::info!("database already has data; demo not loaded");
        }
    }
    backend::maintenance::spawn_refresh(database.pool.clone(), state.org_id);
    let schedule = backend::collect::schedule::start(
        database.pool.clone(),
        CollectorConfig::from_env()?,
        state.org_id,
    )
    .await?;
    if !config.listen.ip().is_loopback() {
        tracing::warn!(addr = %config.listen, "listening beyond this machine: the API answers only loopback clients until sign-in is configured");
    }
    println!("QBR Dashboard: http://{}/", config.listen);
    let served = server::serve(server::service(state, &config.dist_dir), config.listen).await;
    if let Some(schedule) = schedule {
        schedule.shutdown().await;
    }
    served
}

async fn collect(database: &db::Database, args: CollectArgs) -> anyhow::Result<()> {
    let cfg = CollectorConfig::from_env()?;
    let opts = RunOptions {
        organization_id: 1,
        trigger: Trigger::Cli,
        vendors: args.vendor,
        months: args.month.map(|m| (m, m)).or(args.from.zip(args.to)),
        force: args.force,
        dry_run: args.dry_run,
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} collecting [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let progress = |done: u32, total: u32| {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
    };
    let outcome = backend::collect::run::run(&database.pool, &cfg, &opts, &progress).await;
    bar.finish_and_clear();
    match outcome {
        Ok(report) => {
            print!("{}", report.summary_table());
            Ok(())
        }
        Err(RunError::Refused) => anyhow::bail!("refused: another collection run is in progress"),
        Err(RunError::Failed(e)) => {
            anyhow::bail!("collection failed: {}", one_line(&format!("{e:#}")))
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
