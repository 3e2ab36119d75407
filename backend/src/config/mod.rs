//! Settings, all from the environment (every variable is listed in the README):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | unset | PostgreSQL to use; unset = start a private cluster under `QBR_DATA_DIR/postgres` |
//! | `QBR_DATA_DIR` | `./data` | where the private cluster lives |
//! | `QBR_LISTEN` | `127.0.0.1:5400` | address the server listens on |
//! | `QBR_DIST_DIR` | `./dist` | the built SPA, served under the public path when present |
//! | `QBR_PUBLIC_PATH` | empty (`/`) | path prefix the server answers under behind a reverse proxy (`/qbr`) |
//! | `QBR_TRUSTED_PROXIES` | empty | reverse proxies (IPs, CIDR blocks) whose `X-Forwarded-For` names the client |
//! | `QBR_DB_POOL_SIZE` | `16` | database connections per server process |
//! | `QBR_BODY_TIMEOUT_SECS` | `30` | a request body that stalls this long is cut |
//! | `QBR_LOG_FORMAT` | `text` | `json` for one JSON object per log line |
//! | `QBR_METRICS_TOKEN` | unset | bearer token `GET /metrics` needs; unset = clients on this machine only |
//! | `RUST_LOG` | `info` | log filter |
//!
//! Sign-in settings (`QBR_AUTHORIZED_USERS`, `AZURE_*`, `CORS_ORIGINS`, ...) are read by
//! `auth::config::AuthConfig::from_env`, which lists them; mail and webhooks
//! (`SMTP_URL`, `QBR_MAIL_FROM`, `QBR_WEBHOOK_HOSTS`) by [`notify::NotifyConfig`].
pub mod env;
pub mod hosting;
pub mod notify;

pub use env::Env;

use hosting::Site;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How long a request body may stall (no bytes arriving) before the request is cut,
/// like a request head that does not arrive (salvo cuts those at 30 s too).
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Where the server is published and the SPA it serves.
    pub site: Site,
    pub pool_size: usize,
    /// How long a request body may stall before the request is cut.
    pub body_timeout: std::time::Duration,
    pub log_json: bool,
    /// `GET /metrics` needs this bearer token; `None`: clients on this machine only.
    pub metrics_token: Option<String>,
}

/// A metrics token shorter than this is refused: it would be guessed.
const MIN_METRICS_TOKEN: usize = 16;

impl Config {
    /// Reads the environment; a malformed value is an error naming the variable.
    pub fn from_env(env: &Env) -> anyhow::Result<Config> {
        let listen = env
            .var("QBR_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:5400".into());
        Ok(Config {
            database_url: env.var("DATABASE_URL"),
            data_dir: env
                .var("QBR_DATA_DIR")
                .map_or_else(|| PathBuf::from("data"), PathBuf::from),
            listen: listen
                .parse()
                .with_context(|| format!("QBR_LISTEN must be host:port, got '{listen}'"))?,
            site: Site::from_env(env)?,
            pool_size: env.parsed("QBR_DB_POOL_SIZE", 16)?,
            body_timeout: std::time::Duration::from_secs(
                env.parsed("QBR_BODY_TIMEOUT_SECS", DEFAULT_BODY_TIMEOUT.as_secs())?
                    .max(1),
            ),
            log_json: env
                .var("QBR_LOG_FORMAT")
                .is_some_and(|v| v.eq_ignore_ascii_case("json")),
            metrics_token: metrics_token(env)?,
        })
    }
}

fn metrics_token(env: &Env) -> anyhow::Result<Option<String>> {
    let token = env.var("QBR_METRICS_TOKEN");
    if let Some(t) = &token {
        anyhow::ensure!(
            t.chars().count() >= MIN_METRICS_TOKEN && t.chars().all(|c| c.is_ascii_graphic()),
            "QBR_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} printable characters without \
             spaces (e.g. `openssl rand -hex 24`)"
        );
    }
    Ok(token)
}
