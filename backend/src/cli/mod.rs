//! The `qbr` command line: one module per subcommand. Every subcommand reads the
//! settings, opens the database (migrating it) and does its job through the service
//! layer, like the API.
mod apikey;
mod backup;
mod collect;
mod import;
mod logging;
mod org;
mod quickbooks;
mod report;
mod serve;
mod spa;

use crate::config::{Config, Env};
use crate::db;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "qbr",
    version,
    about = "QBR Dashboard: SmartNumbers for MSP quarterly business reviews"
)]
pub struct Cli {
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
    /// Manage API keys for other programs.
    Apikey {
        #[command(subcommand)]
        command: apikey::ApikeyCommand,
    },
    /// Collect metric values from the configured vendors (one all-or-nothing run).
    Collect(collect::CollectArgs),
    /// Import a CSV (`period,metric,value,notes`) or a Monthly Business Review workbook
    /// (.xlsx): prints the preview; writes only with --commit.
    Import(import::ImportArgs),
    /// Write the printable QBR report of a quarter (PDF), as `GET /api/qbr/report` does.
    Report(report::ReportArgs),
    /// QuickBooks: the Web Connector's password hash, .qwc file and backfill; a
    /// QuickBooks Online sync.
    Quickbooks {
        #[command(subcommand)]
        command: quickbooks::QuickBooksCommand,
    },
    /// Organizations and their members.
    Org {
        #[command(subcommand)]
        command: org::OrgCommand,
    },
    /// The SPA's files on a static web server apart from the API (`spa configure`).
    Spa {
        #[command(subcommand)]
        command: spa::SpaCommand,
    },
    /// Write a backup of the whole database (pg_dump, custom format) to a file.
    Backup(backup::BackupArgs),
    /// Restore a backup written by `qbr backup` (refused over data without --force).
    Restore(backup::RestoreArgs),
}

/// The organization the CLI acts on.
const ORG_ID: i32 = 1;

/// Logs to stdout through a batching writer (see `logging`); keep the guard.
fn init_logging(json: bool) -> logging::LogGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = logging::batch_writer(std::io::stdout());
    // Colours only for a person at a terminal: a file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    logging::install(filter, json, ansi, writer);
    guard
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = Env::process();
    let config = Config::from_env(&env)?;
    let _log = init_logging(config.log_json);
    // Backups and restores open the database themselves: a restore must not migrate
    // first, and a backup may use the private cluster a running server holds.
    let cli = match cli.command {
        Command::Spa { command } => return spa::run(command),
        Command::Backup(args) => return backup::run_backup(&config, args).await,
        Command::Restore(args) => return backup::run_restore(&config, args).await,
        command => Cli { command },
    };
    if let Command::Quickbooks { command } = &cli.command {
        if !command.needs_database() {
            return quickbooks::run_offline(command);
        }
    }
    // Sign-in settings are checked before anything starts.
    let serve_settings = match &cli.command {
        Command::Serve { demo } => Some(serve::settings(&env, &config, *demo)?),
        _ => None,
    };
    let database = db::open(
        config.database_url.as_deref(),
        &config.data_dir,
        config.pool_size,
    )
    .await?;
    let outcome = match cli.command {
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::Serve { demo } => match serve_settings {
            Some(settings) => serve::run(&env, &config, &database, settings, demo).await,
            None => Ok(()),
        },
        Command::Apikey { command } => apikey::run(&database, command).await,
        Command::Collect(args) => collect::run(&env, &database, args).await,
        Command::Import(args) => import::run(&database, args).await,
        Command::Report(args) => report::run(&database, args).await,
        Command::Quickbooks { command } => quickbooks::run(&env, &database, command).await,
        Command::Org { command } => org::run(&env, &database, command).await,
        Command::Spa { .. } | Command::Backup(_) | Command::Restore(_) => Ok(()),
    };
    // The private cluster (if any) stops when `database` is dropped, after the server.
    drop(database);
    outcome
}

/// A connection in organization [`ORG_ID`], which the CLI acts on (row-level security
/// shows its rows only).
async fn conn(database: &crate::db::Database) -> anyhow::Result<crate::db::DbConn> {
    use anyhow::Context;
    crate::db::tenant::checkout(&database.pool, ORG_ID)
        .await
        .context("connecting")
}

/// Organization [`ORG_ID`], which the CLI acts on.
async fn organization(
    conn: &mut diesel_async::AsyncPgConnection,
) -> anyhow::Result<crate::store::org::Org> {
    use anyhow::Context;
    crate::store::org::load(conn, ORG_ID)
        .await?
        .with_context(|| format!("organization {ORG_ID} does not exist"))
}

/// A service error as the CLI says it: its message (codes and statuses are for HTTP).
fn said(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message)
}
