//! Database access: the connection pool, embedded migrations, and the choice between
//! `DATABASE_URL` and the private PostgreSQL cluster started by `qbr` itself.
use anyhow::Context;
use diesel::sql_query;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use pg_cluster::PgCluster;
use std::path::Path;

pub mod tenant;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// A pool of async PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;
/// One pooled connection.
pub type DbConn = Object<AsyncPgConnection>;

/// Advisory-lock key that serializes migrations when several servers start at once.
const MIGRATION_LOCK: i64 = 0x5142_5201;
/// Name of the database inside the private cluster.
pub const LOCAL_DB_NAME: &str = "qbr";

/// A connection idle for longer than this is checked with a round trip before it is
/// used again (the database may have restarted meanwhile). Busy connections are not:
/// that saves a round trip per request, and a request cancelled while it waits for a
/// connection then has no check in flight that would make the pool throw it away.
const VERIFY_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// Builds a pool; connections are opened lazily. Every connection acts as the
/// application role [`tenant::APP_ROLE`] (`SET ROLE` once it is open): the login user
/// owns the tables (or is a superuser), and row-level security does not apply to
/// owners and superusers.
///
/// A connection comes out of the pool as its last user left it, possibly still in that
/// user's organization: the pool itself runs no statement at checkout (see
/// `VERIFY_IDLE`). So nothing takes one with `pool.get()` but [`tenant::checkout`] and
/// [`tenant::checkout_platform`], which enter an organization or leave it before
/// handing the connection out, and the request's own (`http::context::conn`), which the
/// auth guard enters (test `tenant_isolation::every_checkout_decides_its_organization`).
pub fn pool(url: &str, size: usize) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    // Broken connections (a failed transaction, a closed socket) are still refused.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        let url = url.to_string();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&format!("SET ROLE {}", tenant::APP_ROLE))
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .pre_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics| {
            Box::pin(async move {
                if metrics.last_used() < VERIFY_IDLE {
                    return Ok(());
                }
                diesel_async::RunQueryDsl::execute(sql_query("SELECT 1"), conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| HookError::Backend(PoolError::QueryError(e)))
            })
        }))
        .build()
        .context("building the database pool")
}

/// Runs pending migrations (blocking work on a blocking thread), holding an advisory
/// lock so concurrent servers migrate one after the other.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;
        let mut conn = <SyncConn as diesel::Connection>::establish(&url)
            .context("connecting to run migrations")?;
        diesel::RunQueryDsl::execute(
            sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")),
            &mut conn,
        )?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .iter()
            .map(|v| v.to_string())
            .collect();
        diesel::RunQueryDsl::execute(
            sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")),
            &mut conn,
        )?;
        Ok(applied)
    })
    .await
    .context("migration task")?
}

/// Creates `name` in the cluster at `admin_url` unless it exists.
pub async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .context("connecting to the postgres database")?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        one: i32,
    }
    let found: Vec<Found> = sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .load(&mut conn)
        .await?;
    if found.is_empty() {
        // Identifiers can't be bound; `name` is ours, never user input.
        sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// The database the server uses, and the private cluster when it started one.
pub struct Database {
    pub url: String,
    pub pool: DbPool,
    pub cluster: Option<PgCluster>,
}

/// Opens `DATABASE_URL`, or starts the private cluster under `data_dir/postgres`;
/// then runs pending migrations.
pub async fn open(
    database_url: Option<&str>,
    data_dir: &Path,
    pool_size: usize,
) -> anyhow::Result<Database> {
    let (url, cluster) = match database_url {
        Some(url) => (url.to_string(), None),
        None => {
            let dir = data_dir.join("postgres");
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let cluster =
                tokio::task::spawn_blocking(move || PgCluster::start(&dir, None)).await??;
            ensure_database(&cluster.database_url("postgres"), LOCAL_DB_NAME).await?;
            (cluster.database_url(LOCAL_DB_NAME), Some(cluster))
        }
    };
    let applied = run_migrations(&url).await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    let pool = pool(&url, pool_size)?;
    // The server acts as the application role: say so now, and how to fix it, if it can't.
    drop(pool.get().await.map_err(|e| {
        anyhow::anyhow!(
            "connecting as the role {} failed: {e} (the login user must be a member of it: \
             README, Production)",
            tenant::APP_ROLE
        )
    })?);
    Ok(Database { url, pool, cluster })
}
