//! `qbr`: the QBR Dashboard server and its command line.
use anyhow::Context;
use backend::auth::{Auth, AuthConfig};
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
    /// Manage API keys for other programs.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Collect metric values from ConnectWise and NinjaOne (one all-or-nothing run).
    Collect(CollectArgs),
    /// Import a CSV (`period,metric,value,notes`) or a Monthly Business Review workbook
    /// (.xlsx): prints the preview; writes only with --commit.
    Import {
        /// The file to read.
        file: std::path::PathBuf,
        /// Apply the import (all or nothing) instead of previewing it.
        #[arg(long)]
        commit: bool,
        /// Replace collected and manual values too.
        #[arg(long)]
        overwrite: bool,
    },
    /// Write the printable QBR report of a quarter (PDF), as `GET /api/qbr/report` does.
    Report {
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
        out: Option<std::path::PathBuf>,
    },
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

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key and print it (shown this once).
    Create {
        #[arg(long)]
        name: String,
        /// `read` (GET only) or `write` (also POST/PUT/DELETE).
        #[arg(long, value_parser = ["read", "write"])]
        scope: String,
        /// Who asked for the key (recorded with it).
        #[arg(long, default_value = "cli")]
        created_by: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key: it stops working at once.
    Revoke { id: i64 },
}

/// The demo's user when `QBR_AUTHORIZED_USERS` is unset.
const DEMO_USER: &str = "demo@example.com";

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
    let auth_config = match &command {
        Command::Serve { demo } => auth_config(&config, *demo)?,
        _ => AuthConfig::default(),
    };
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
        Command::Serve { demo } => serve(&config, &database, auth_config, demo).await,
        Command::Apikey { command } => apikey(&database, command).await,
        Command::Collect(args) => collect(&database, args).await,
        Command::Import {
            file,
            commit,
            overwrite,
        } => import(&database, &file, commit, overwrite).await,
        Command::Report {
            period,
            paper,
            tz,
            out,
        } => report(&database, period, &paper, tz, out).await,
    };
    // The private cluster (if any) stops when `database` is dropped, after the server.
    drop(database);
    outcome
}

async fn import(
    database: &db::Database,
    file: &std::path::Path,
    commit: bool,
    overwrite: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if bytes.len() > backend::io::MAX_IMPORT_BYTES {
        anyhow::bail!("{} exceeds 20 MiB", file.display());
    }
    let parsed = backend::io::parse_file(file.to_str(), &bytes);
    let mut conn = database.pool.get().await.context("connecting")?;
    let org = backend::store::org::load(&mut conn, 1)
        .await?
        .context("organization 1 does not exist")?;
    let out = backend::io::import(&mut conn, &org, &parsed, overwrite, commit, "cli", None)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
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
    Ok(())
}

async fn report(
    database: &db::Database,
    period: Option<qbr_shared::Quarter>,
    paper: &str,
    tz: Option<chrono_tz::Tz>,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use backend::api::report::{default_quarter, gather};
    let fail = |e: backend::error::AppError| anyhow::anyhow!("{}", e.message);
    let paper = backend::report::Paper::parse(paper).context("paper: letter or a4")?;
    let mut conn = database.pool.get().await.context("connecting")?;
    let org = backend::store::org::load(&mut conn, 1)
        .await?
        .context("organization 1 does not exist")?;
    let quarter = match period {
        Some(q) => q,
        None => default_quarter(&mut conn, &org).await.map_err(fail)?,
    };
    let tz = tz.unwrap_or(org.timezone);
    let data = gather(&mut conn, &org, quarter, tz).await.map_err(fail)?;
    let pdf = backend::report::render(&data, paper)?;
    let out = out.unwrap_or_else(|| format!("qbr-{quarter}.pdf").into());
    std::fs::write(&out, &pdf).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), pdf.len());
    Ok(())
}

async fn apikey(database: &db::Database, command: ApikeyCommand) -> anyhow::Result<()> {
    use backend::auth::apikey;
    let mut conn = database.pool.get().await.context("connecting")?;
    let fail = |e: backend::error::AppError| anyhow::anyhow!("{}", e.message);
    match command {
        ApikeyCommand::Create {
            name,
            scope,
            created_by,
        } => {
            let created = apikey::create(&mut conn, 1, &name, &scope, &created_by, None)
                .await
                .map_err(fail)?;
            println!("{}", created.key);
            eprintln!(
                "API key {} '{}' ({}) created; the key above is shown only once.",
                created.info.id,
                created.info.name,
                created.info.scopes.join(",")
            );
        }
        ApikeyCommand::List => {
            println!("id\tname\tprefix\tscopes\tcreated_by\tcreated_at\tlast_used_at\trevoked_at");
            for k in backend::store::api_keys::list(&mut conn, None).await? {
                let at = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.name,
                    k.key_prefix,
                    k.scopes.join(","),
                    k.created_by,
                    k.created_at.to_rfc3339(),
                    at(k.last_used_at),
                    at(k.revoked_at)
                );
            }
        }
        ApikeyCommand::Revoke { id } => {
            match apikey::revoke(&mut conn, id, "cli", None)
                .await
                .map_err(fail)?
            {
                Some(k) => println!("revoked API key {} '{}'", k.id, k.name),
                None => anyhow::bail!("no active API key with id {id}"),
            }
        }
    }
    Ok(())
}

/// The sign-in settings of `qbr serve`; refuses unsafe ones before anything starts.
fn auth_config(config: &Config, demo: bool) -> anyhow::Result<AuthConfig> {
    let mut auth_config = AuthConfig::from_env(config.listen)?;
    if demo {
        auth_config.dev_login = true;
        if auth_config.allow_list.is_empty() {
            auth_config.allow_list.replace([DEMO_USER]);
        }
    }
    auth_config.check(config.listen)?;
    Ok(auth_config)
}

async fn serve(
    config: &Config,
    database: &db::Database,
    auth_config: AuthConfig,
    demo: bool,
) -> anyhow::Result<()> {
    if auth_config.dev_login {
        tracing::warn!("development sign-in is ON (AUTH_DEV_LOGIN / --demo): anyone on this machine can sign in as an allow-listed user");
    }
    if auth_config.microsoft.is_none() {
        tracing::info!("Microsoft sign-in is not configured (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)");
    }
    if auth_config.allow_list.is_empty() {
        tracing::warn!("QBR_AUTHORIZED_USERS is empty: nobody can sign in (API keys still work)");
    }
    let dev_login_url = auth_config.dev_login.then(|| {
        let email = auth_config
            .allow_list
            .emails()
            .into_iter()
            .next()
            .unwrap_or_default();
        format!(
            "{}/api/auth/dev/login?email={email}",
            auth_config.api_base_url
        )
    });
    let state = AppState {
        pool: database.pool.clone(),
        org_id: 1,
        auth: Auth::new(auth_config),
        caches: Default::default(),
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
    backend::maintenance::spawn_auth_cleanup(database.pool.clone(), state.auth.clone());
    let schedule = backend::collect::schedule::start(
        database.pool.clone(),
        CollectorConfig::from_env()?,
        state.org_id,
    )
    .await?;
    println!("QBR Dashboard: http://{}/", config.listen);
    if let Some(url) = dev_login_url {
        println!("Development sign-in: {url}");
    }
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
