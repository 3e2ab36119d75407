//! Test harness: one throwaway PostgreSQL cluster per test binary (temp dir, free
//! port, Unix socket), a template database migrated once, a fresh database per test,
//! and the real server on a free loopback port, driven over real HTTP.
//!
//! `TestApp::spawn()` is signed in: the harness allow-lists [`TEST_USER`] (named
//! `local`, the actor older tests expect), creates a session for it directly in the
//! database, and `get`/`post`/`post_raw`/`http` send its cookie and a same-origin
//! `Origin`. `TestApp::spawn_with(config)` takes any `AuthConfig` and an anonymous
//! client (`anon`) for the sign-in tests.

use backend::auth::{Auth, AuthConfig};
use backend::config::hosting::Site;
use backend::db::{self, DbPool};
use backend::http::AppState;
use backend::server;
use backend::service::Actor;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pg_cluster::PgCluster;
use qbr_shared::access::ApiKeyScope;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use tokio::sync::{Mutex, OnceCell};

const TEMPLATE: &str = "qbr_template";

struct Cluster {
    pg: PgCluster,
    _dir: tempfile::TempDir,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static TEMPLATE_READY: OnceCell<()> = OnceCell::const_new();
/// CREATE DATABASE … TEMPLATE needs the template to be idle: one copy at a time.
static CREATE_LOCK: Mutex<()> = Mutex::const_new(());
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Test binaries never drop their static cluster, so its folder outlives them: remove
/// the folders of earlier runs whose server is gone (and that are not being set up now).
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("qbr-test-pg"));
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
            t.elapsed()
                .is_ok_and(|age| age > std::time::Duration::from_secs(600))
        });
        let pid: Option<i32> = std::fs::read_to_string(path.join("pg/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
        let running = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if is_ours && old && !running {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn cluster() -> &'static PgCluster {
    &CLUSTER
        .get_or_init(|| {
            remove_stale_clusters();
            let dir = tempfile::Builder::new()
                .prefix("qbr-test-pg")
                .tempdir()
                .expect("temp dir");
            let pg = PgCluster::start(&dir.path().join("pg"), None).expect("start test PostgreSQL");
            Cluster { pg, _dir: dir }
        })
        .pg
}

async fn execute(url: &str, sql: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.expect("connect");
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A fresh, migrated database of its own.
pub struct TestDb {
    pub url: String,
    pub pool: DbPool,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let pg = tokio::task::spawn_blocking(cluster).await.unwrap();
        TEMPLATE_READY
            .get_or_init(|| async {
                execute(
                    &pg.database_url("postgres"),
                    &format!("CREATE DATABASE {TEMPLATE}"),
                )
                .await;
                db::run_migrations(&pg.database_url(TEMPLATE))
                    .await
                    .expect("migrate template");
            })
            .await;
        let name = format!(
            "t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        {
            let _guard = CREATE_LOCK.lock().await;
            execute(
                &pg.database_url("postgres"),
                &format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"),
            )
            .await;
        }
        let url = pg.database_url(&name);
        let pool = db::pool(&url, 8).expect("pool");
        TestDb { url, pool }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect")
    }
}

/// The user the default harness signs in as (the actor older tests expect).
pub const TEST_USER: &str = "local";

/// The settings `TestApp::spawn()` uses: [`TEST_USER`] allow-listed, limits that
/// ordinary tests never reach.
pub fn test_auth_config() -> AuthConfig {
    let mut config = AuthConfig::default();
    config.allow_list.replace([TEST_USER]);
    config.limits.key_reads_per_minute = 1_000_000;
    config.limits.key_writes_per_minute = 1_000_000;
    config.limits.sign_in_per_minute = 1_000_000;
    config
}

/// Makes `email` an admin of organization 1, as `QBR_AUTHORIZED_USERS` does at start
/// (for tests that build the service themselves).
pub async fn make_admin(db: &TestDb, email: &str) {
    let mut conn = db.conn().await;
    backend::service::tenants::bootstrap_admins(&mut conn, 1, &[email.to_string()])
        .await
        .expect("bootstrap admin");
}

/// Creates a session for `email` directly in the database; returns the cookie value.
pub async fn create_session(db: &TestDb, email: &str, hours: i64) -> String {
    let token = backend::secrets::random_token();
    let mut conn = db.conn().await;
    backend::store::sessions::create(
        &mut conn,
        backend::store::sessions::NewSession {
            id_hash: &backend::secrets::hash(&token),
            email,
            name: Some("Test User"),
            expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(hours),
            ip: None,
            user_agent: None,
        },
    )
    .await
    .unwrap();
    token
}

/// Creates an API key (`read` or `write`) directly in the database; returns the key.
pub async fn create_api_key(db: &TestDb, name: &str, scope: &str) -> String {
    let mut conn = db.conn().await;
    let scope = ApiKeyScope::parse(scope).expect("read or write");
    let by = Actor {
        name: "tests",
        ip: None,
    };
    backend::service::api_keys::create(&mut conn, 1, name, scope, None, by)
        .await
        .unwrap()
        .key
}

/// A running server on a free loopback port.
pub struct Running {
    pub base: String,
    pub auth: std::sync::Arc<Auth>,
}

/// What a test server runs with besides its sign-in settings.
#[derive(Clone)]
pub struct Extras {
    /// Request bodies that stall this long are cut.
    pub body_timeout: std::time::Duration,
    pub quickbooks: backend::collect::quickbooks::QuickBooksSettings,
    /// The vendors Collect now reads (none by default).
    pub collectors: Option<backend::collect::CollectorConfig>,
    /// Mail and webhooks (none by default).
    pub notifier: std::sync::Arc<backend::notify::Notifier>,
}

impl Default for Extras {
    fn default() -> Self {
        Extras {
            body_timeout: backend::config::DEFAULT_BODY_TIMEOUT,
            quickbooks: Default::default(),
            collectors: None,
            notifier: Default::default(),
        }
    }
}

/// Starts the real server over `pool` with the settings `config` makes from the
/// server's base URL (known once the port is bound).
pub async fn start_server(
    pool: DbPool,
    config: impl FnOnce(&str) -> AuthConfig,
    dist: &Path,
) -> Running {
    start_server_with(pool, config, dist, Extras::default()).await
}

/// [`start_server`] with `extras`.
pub async fn start_server_with(
    pool: DbPool,
    config: impl FnOnce(&str) -> AuthConfig,
    dist: &Path,
    extras: Extras,
) -> Running {
    use salvo::conn::Acceptor;
    use salvo::prelude::*;
    let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
    let addr = acceptor.holdings()[0].local_addr.clone();
    let port = addr.into_std().expect("tcp address").port();
    let base = format!("http://127.0.0.1:{port}");
    let auth = Auth::new(config(&base)).expect("sign-in settings");
    // As `qbr serve` does: the allow-list's emails administer the first organization.
    {
        let mut conn = pool.get().await.expect("a connection");
        backend::service::tenants::bootstrap_admins(&mut conn, 1, &auth.config.allow_list.emails())
            .await
            .expect("bootstrap admins");
    }
    let mut state = AppState::new(pool.clone(), 1);
    state.quickbooks = std::sync::Arc::new(extras.quickbooks);
    if let Some(collectors) = extras.collectors {
        state.launcher = std::sync::Arc::new(backend::collect::launcher::Launcher::new(
            pool.clone(),
            collectors,
            1,
        ));
    }
    state.notifier = extras.notifier;
    let service = server::service(state, auth.clone(), &Site::at_root(dist));
    let timeouts = server::connection_timeouts(extras.body_timeout);
    tokio::spawn(async move {
        Server::new(acceptor)
            .fuse_config(timeouts)
            .serve(service)
            .await
    });
    Running { base, auth }
}

/// The real server on a free loopback port.
pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    /// Signed in as [`TEST_USER`] (cookie and same-origin `Origin` on every request).
    pub http: reqwest::Client,
    /// No credentials, follows no redirects.
    pub anon: reqwest::Client,
    pub auth: std::sync::Arc<Auth>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with_dist(Path::new("/nonexistent")).await
    }

    pub async fn spawn_with_dist(dist: &Path) -> TestApp {
        Self::start(|_| test_auth_config(), dist).await
    }

    /// A server with the settings `config` makes from its base URL; `http` is still
    /// signed in as [`TEST_USER`], which works when the settings allow-list it.
    pub async fn spawn_with(config: impl FnOnce(&str) -> AuthConfig) -> TestApp {
        Self::start(config, Path::new("/nonexistent")).await
    }

    /// The sign-in settings `config` makes, and `extras`.
    pub async fn spawn_full(config: impl FnOnce(&str) -> AuthConfig, extras: Extras) -> TestApp {
        Self::start_with(config, Path::new("/nonexistent"), extras).await
    }

    /// The default settings with `extras`.
    pub async fn spawn_with_extras(extras: Extras) -> TestApp {
        Self::start_with(|_| test_auth_config(), Path::new("/nonexistent"), extras).await
    }

    /// The default settings with `extras`, over a database the test prepared.
    pub async fn spawn_on(db: TestDb, extras: Extras) -> TestApp {
        Self::start_on(
            db,
            |_| test_auth_config(),
            Path::new("/nonexistent"),
            extras,
        )
        .await
    }

    async fn start(config: impl FnOnce(&str) -> AuthConfig, dist: &Path) -> TestApp {
        Self::start_with(config, dist, Extras::default()).await
    }

    async fn start_with(
        config: impl FnOnce(&str) -> AuthConfig,
        dist: &Path,
        extras: Extras,
    ) -> TestApp {
        Self::start_on(TestDb::new().await, config, dist, extras).await
    }

    async fn start_on(
        db: TestDb,
        config: impl FnOnce(&str) -> AuthConfig,
        dist: &Path,
        extras: Extras,
    ) -> TestApp {
        let running = start_server_with(db.pool.clone(), config, dist, extras).await;
        let token = create_session(&db, TEST_USER, 8).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cookie", format!("qbr_session={token}").parse().unwrap());
        headers.insert("origin", running.base.parse().unwrap());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            db,
            base: running.base,
            http,
            anon,
            auth: running.auth,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let res = self.http.get(self.url(path)).send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Asserts an error envelope with `code` and `status`.
pub fn assert_error(resp: &(u16, Value), status: u16, code: &str) {
    assert_eq!(resp.0, status, "status of {}", resp.1);
    assert_eq!(resp.1["success"], false, "{}", resp.1);
    assert_eq!(resp.1["error"]["code"], code, "{}", resp.1);
    assert_eq!(resp.1["error"]["status"], status, "{}", resp.1);
    assert!(
        resp.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        resp.1
    );
}

/// `reference-data/q1_2025_inputs.csv` (beside the repository, in `../shared/spec`), as a
/// manual-entry body per month. Empty cells are left out.
pub fn reference_inputs() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/spec/reference-data/q1_2025_inputs.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut bodies: Vec<Vec<Value>> = vec![Vec::new(); header.len() - 1];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        for (i, cell) in cells.iter().enumerate().skip(1) {
            if !cell.trim().is_empty() {
                let v: f64 = cell.trim().parse().unwrap();
                bodies[i - 1].push(serde_json::json!({"metric_name": cells[0], "metric_value": v}));
            }
        }
    }
    header[1..]
        .iter()
        .zip(bodies)
        .map(|(p, metrics)| serde_json::json!({"period": p, "metrics": metrics}))
        .collect()
}

/// Posts the reference inputs through the manual-entry endpoint.
pub async fn load_reference(app: &TestApp) {
    for body in reference_inputs() {
        let (status, resp) = app.post("/api/qbr/metrics/manual", &body).await;
        assert_eq!(status, 200, "{resp}");
    }
}

/// A checksum of every row of the data tables, to prove a failed request changed nothing.
pub async fn checksum(db: &TestDb) -> String {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = Text)]
        sum: String,
    }
    let mut conn = db.conn().await;
    let tables = [
        "qbr_metrics_monthly",
        "qbr_metric_history",
        "qbr_smartnumbers",
        "qbr_thresholds",
        "audit_log",
        "organization_logos",
    ];
    let mut out = String::new();
    for t in tables {
        let q = format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM {t} t"
        );
        let s: Sum = diesel::sql_query(q).get_result(&mut conn).await.unwrap();
        out.push_str(&s.sum);
    }
    out
}
