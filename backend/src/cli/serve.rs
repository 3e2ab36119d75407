//! `qbr serve [--demo]`: the web server, its background upkeep, the notification
//! worker, scheduled report delivery, the nightly collection schedule and the nightly
//! backup; with `--demo`, the demo's data and vendors (`demo::startup`).
use crate::auth::{Auth, AuthConfig};
use crate::collect::quickbooks::QuickBooksSettings;
use crate::collect::{schedule, CollectorConfig};
use crate::config::{Config, Env};
use crate::db::Database;
use crate::http::AppState;
use crate::notify::{self, Notifier};
use crate::{demo, maintenance, server};
use anyhow::Context;

/// The demo's user when `QBR_AUTHORIZED_USERS` is unset.
const DEMO_USER: &str = "demo@example.com";

/// The sign-in settings of `qbr serve`; refuses unsafe ones, and a SPA built for
/// another public path, before anything starts.
pub fn settings(env: &Env, config: &Config, demo: bool) -> anyhow::Result<AuthConfig> {
    server::check_spa(&config.site)?;
    let mut auth_config = AuthConfig::from_env(env, config.listen, &config.site.public_path)?;
    if demo {
        auth_config.dev_login = true;
        if auth_config.allow_list.is_empty() {
            auth_config.allow_list.replace([DEMO_USER]);
        }
    }
    auth_config.check(config.listen, config.site.trusted_proxies.is_set())?;
    Ok(auth_config)
}

/// Says at start what sign-in allows; returns the development sign-in URL, if on.
fn announce(auth_config: &AuthConfig) -> Option<String> {
    if auth_config.dev_login {
        tracing::warn!("development sign-in is ON (AUTH_DEV_LOGIN / --demo): anyone on this machine can sign in as an allow-listed user");
    }
    if auth_config.microsoft.is_none() {
        tracing::info!("Microsoft sign-in is not configured (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)");
    }
    if auth_config.allow_list.is_empty() {
        tracing::info!("QBR_AUTHORIZED_USERS is empty: only existing members can sign in");
    }
    auth_config.dev_login.then(|| {
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
    })
}

/// `QBR_AUTHORIZED_USERS` (or the demo's user) administer the first organization.
async fn bootstrap_admins(
    database: &Database,
    org_id: i32,
    auth_config: &AuthConfig,
) -> anyhow::Result<()> {
    // Users and memberships are platform tables.
    let mut conn = crate::db::tenant::checkout_platform(&database.pool)
        .await
        .context("connecting to add the admins")?;
    let emails = auth_config.allow_list.emails();
    crate::service::tenants::bootstrap_admins(&mut conn, org_id, &emails)
        .await
        .map_err(|e| anyhow::anyhow!("adding the admins of QBR_AUTHORIZED_USERS: {}", e.message))
}

pub async fn run(
    env: &Env,
    config: &Config,
    database: &Database,
    auth_config: AuthConfig,
    demo: bool,
) -> anyhow::Result<()> {
    let dev_login_url = announce(&auth_config);
    let mut state = AppState::new(database.pool.clone(), super::ORG_ID);
    state.quickbooks = std::sync::Arc::new(QuickBooksSettings::from_env(env)?);
    state.metrics_token = config.metrics_token.as_deref().map(std::sync::Arc::from);
    bootstrap_admins(database, state.org_id, &auth_config).await?;
    let mut notifier = Notifier::from_env(env)?;
    notifier.dashboard_url = Some(auth_config.frontend_url.clone());
    notifier.announce();
    state.notifier = std::sync::Arc::new(notifier);
    let auth = Auth::new(auth_config)?;
    let mut collectors = CollectorConfig::from_env(env)?;
    // The demo's data, and its vendors (simulated unless the environment names some).
    let demo = if demo {
        let started = demo::startup::start(&database.pool, state.org_id, collectors).await?;
        collectors = started.collectors.clone();
        Some(started)
    } else {
        None
    };
    crate::observe::spawn_upkeep();
    maintenance::spawn_refresh(database.pool.clone(), state.org_id);
    maintenance::spawn_auth_cleanup(database.pool.clone(), auth.clone());
    maintenance::spawn_report_delivery(database.pool.clone(), state.notifier.clone());
    notify::worker::spawn(
        database.pool.clone(),
        state.notifier.clone(),
        notify::worker::DEFAULT_INTERVAL,
    );
    state.launcher = std::sync::Arc::new(crate::collect::launcher::Launcher::new(
        database.pool.clone(),
        collectors.clone(),
        state.org_id,
    ));
    let schedule = schedule::start_with_quickbooks(
        database.pool.clone(),
        collectors,
        state.quickbooks.clone(),
        state.org_id,
    )
    .await?;
    let nightly_backup = match crate::backup::nightly::NightlySettings::from_env(env, config)? {
        Some(settings) => {
            Some(crate::backup::nightly::start(settings, database.url.clone()).await?)
        }
        None => None,
    };
    println!("QBR Dashboard: {}", auth.config.frontend_url);
    if !auth
        .config
        .frontend_url
        .starts_with(&auth.config.api_base_url)
    {
        println!("API: {}", auth.config.api_base_url);
    }
    if let Some(url) = dev_login_url {
        println!("Development sign-in: {url}");
    }
    if let Some(demo) = &demo {
        println!("{}", demo.note);
    }
    let service = server::service(state, auth, &config.site);
    let served = server::serve(service, config.listen, config.body_timeout).await;
    if let Some(schedule) = schedule {
        schedule.shutdown().await;
    }
    if let Some(job) = nightly_backup {
        job.shutdown().await;
    }
    served
}
