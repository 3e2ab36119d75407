//! `qbr`: the QBR Dashboard server and its command line.
use anyhow::Context;
use backend::config::Config;
use backend::{db, demo_load, server, state::AppState};
use clap::{Parser, Subcommand};

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
    if !config.listen.ip().is_loopback() {
        tracing::warn!(addr = %config.listen, "listening beyond this machine: the API answers only loopback clients until sign-in is configured");
    }
    println!("QBR Dashboard: http://{}/", config.listen);
    server::serve(server::service(state, &config.dist_dir), config.listen).await
}
