//! `qbr`: the QBR Dashboard server and its command line.
use anyhow::Context;
use backend::auth::{Auth, AuthConfig};
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
    /// Manage API keys for other programs.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
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
    };
    // The private cluster (if any) stops when `database` is dropped, after the server.
    drop(database);
    outcome
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
    println!("QBR Dashboard: http://{}/", config.listen);
    if let Some(url) = dev_login_url {
        println!("Development sign-in: {url}");
    }
    server::serve(server::service(state, &config.dist_dir), config.listen).await
}
