//! `tenants-bench`: does the SmartNumbers read slow down when the server holds many
//! organizations? Issue 14's goal: with 100 organizations loaded, `GET
//! /api/qbr/smartnumbers?period=<quarter>` stays within 10 % of one organization's
//! figures. Not a test: it prints figures.
//!
//! It starts a throwaway PostgreSQL cluster with two databases, migrated like
//! production's:
//!
//! - `tenants_one`: organization 1 with five years (60 months) of realistic data, written
//!   through the store layer as `qbr-bench` writes it (one transaction);
//! - `tenants_many`: the same, plus `--organizations` − 1 more organizations made with
//!   `service::tenants::create_organization` (default thresholds, an admin), each with
//!   the same 60 months in a transaction of its own: organization 1's stored rows
//!   copied (`--load copy`, the default: seconds), or written through the store layer
//!   like organization 1's (`--load store`, `--load-connections` at once: about 5 s of
//!   a busy 2-core machine per organization).
//!
//! In both, every organization gets a read-scope API key, and one signed-in user (a
//! session) is a member of every organization. Both databases are vacuumed, analyzed
//! and checkpointed, then a `qbr serve` is started on each (the `qbr` next to this
//! program, or `--qbr PATH`), as `qbr-bench` starts it.
//!
//! 1. Cold and warm: on each fresh server, one client reads every (organization,
//!    quarter) pair once, quarter by quarter, so the first requests are each
//!    organization's first read (the server's answer cache empty), then reads them all
//!    again (warm). It prints latency and CPU µs per request for the first read per
//!    organization, for all first reads, and for the warm reads.
//! 2. Throughput, per credential (a key per organization in `Authorization: Bearer`,
//!    or the session cookie with `?organization_id=N`): `--rounds` rounds, each a
//!    closed-loop pass (`--clients` clients back to back) and a pass paced at 1,000
//!    req/s (latency from the scheduled send time), first on the one-organization
//!    server, then on the many-organization server with the requests spread over all
//!    organizations (every (organization, quarter) pair in turn), then on the same
//!    server reading organization 1 only (what the data's size alone costs). The
//!    clients start evenly apart over the targets (`Start::Spread`), so every pair is
//!    equally hot; `qbr-bench`'s clients move through their URLs side by side, which
//!    over 2,000 targets would make a small hot set that any cache holds. Rounds
//!    alternate so a change in the shared machine's load hits both sides alike.
//!    Around each measured window it reads the CPU time of that `qbr` and of
//!    PostgreSQL from `/proc`.
//! 3. The summary: per credential and side, p50/p99, req/s and CPU µs per request
//!    (rounds merged), and the ratio many ÷ one of each figure, with whether it is
//!    within 10 %. The verdict rests on CPU per request (of `qbr`, of PostgreSQL, and
//!    both), steadier than latency and throughput when other work shares the machine;
//!    how many of the latency and throughput figures are within 10 % is printed beside
//!    it.
//!
//! `--explain` then restarts each server with PostgreSQL's `auto_explain` logging every
//! statement of its sessions (with `ANALYZE` and `BUFFERS`), sends a cold read with a
//! key, then warm reads with the key and with the cookie, and prints the plans
//! PostgreSQL logged: the guard's key or session query (and the key function's own
//! query) and the SmartNumbers and thresholds queries, as the server runs them. `--pg-setting NAME=VALUE` sets a
//! PostgreSQL setting for both databases first (e.g. `random_page_cost=1.1`).
//!
//! Any response other than 200 is an error: counted, printed, exit code 1.
//!
//! Run: `cargo build --release -p backend -p bench --bins && target/release/tenants-bench
//! [--organizations 100] [--seconds 3] [--clients 32] [--rounds 3]
//! [--credentials key,cookie] [--load copy|store] [--explain] [--pg-setting NAME=VALUE]`
//! (about 4 minutes with the defaults on 2 cores).
use anyhow::{anyhow, bail, Context};
use backend::service::tenants::{create_organization, NewOrganization};
use backend::service::Actor;
use bench::cpu::{self, CpuSnapshot, Watched};
use bench::data::{load_months, Loaded};
use bench::load::{
    fetch, fmt_opt, http_client, micros, ms, percentiles, report_cpu, report_errors, run_pass,
    Start, Tally, Target, WARMUP,
};
use bench::{describe_binary, prepare_database, qbr_binary, thousands, QbrServer, POOL_SIZE};
use chrono::Utc;
use clap::{Parser, ValueEnum};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use pg_cluster::PgCluster;
use qbr_shared::access::ApiKeyScope;
use qbr_shared::Quarter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The goal: 100 organizations within this fraction of one organization.
const GOAL_RATIO: f64 = 0.10;
/// The paced passes' offered rate.
const PACED_RPS: u32 = 1_000;
/// Months of data per organization, the current one included.
const MONTHS: i32 = 60;
/// Quarters the reads rotate through (the most recent ones), as in `qbr-bench`.
const QUARTERS: usize = 20;
const FIRST_ORG: i32 = 1;
/// The signed-in user, a member of every organization (allow-listed for the server,
/// which makes it an admin of organization 1).
const BENCH_USER: &str = "bench@example.com";
/// Far above any load here: the default (120 per minute) would refuse nearly all.
const KEY_READS_PER_MINUTE: &str = "100000000";
const ACTOR: &str = "tenants-bench";

#[derive(Parser, Debug)]
#[command(
    name = "tenants-bench",
    about = "SmartNumbers reads with one organization loaded vs many: the real `qbr serve`, \
             a throwaway PostgreSQL, real HTTP; req/s, latency and CPU per request, and their \
             ratios"
)]
struct Args {
    /// Organizations in the many-organization database (each with 60 months).
    #[arg(long, default_value_t = 100)]
    organizations: i32,
    /// Measured seconds per pass (after a 1 s warm-up).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Rounds of (one organization, many, many reading organization 1) per credential.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// How the requests prove who they are (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', default_values = ["key", "cookie"])]
    credentials: Vec<Credential>,
    /// How organizations 2.. get their 60 months: `copy` organization 1's stored rows
    /// (monthly values, their history, SmartNumbers) in one transaction per
    /// organization (seconds), or write them through the store layer as organization
    /// 1's (`store`, minutes).
    #[arg(long, value_enum, default_value_t = Load::Copy)]
    load: Load,
    /// Database connections loading organizations at once (`--load store`).
    #[arg(long, default_value_t = 2)]
    load_connections: usize,
    /// Afterwards, print the plans of the server's queries (PostgreSQL's auto_explain).
    #[arg(long)]
    explain: bool,
    /// A PostgreSQL setting for both databases' sessions (`ALTER DATABASE … SET`), e.g.
    /// `random_page_cost=1.1`; repeatable. For trying the planner's settings.
    #[arg(long = "pg-setting", value_name = "NAME=VALUE")]
    pg_settings: Vec<String>,
    /// The `qbr` binary to serve with (default: `qbr` next to this program).
    #[arg(long)]
    qbr: Option<PathBuf>,
}

/// How organizations 2.. are loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Load {
    /// Organization 1's stored rows copied, `INSERT … SELECT` per table and organization.
    Copy,
    /// Every value written through the store layer, and everything recomputed.
    Store,
}

/// How a request proves who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Credential {
    /// A read-scope API key per organization; the organization is the key's.
    Key,
    /// One signed-in user, a member of every organization; `?organization_id=N`.
    Cookie,
}

impl Credential {
    fn describe(self) -> &'static str {
        match self {
            Credential::Key => "an API key per organization (Authorization: Bearer)",
            Credential::Cookie => {
                "one signed-in user, member of every organization (session cookie, \
                 ?organization_id=N)"
            }
        }
    }
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if args.seconds == 0 || args.clients == 0 || args.rounds == 0 || args.load_connections == 0 {
        bail!("--seconds, --clients, --rounds and --load-connections must be at least 1");
    }
    if args.organizations < 2 {
        bail!("--organizations must be at least 2");
    }
    let qbr = qbr_binary(args.qbr.as_deref())?;
    println!(
        "tenants-bench: GET /api/qbr/smartnumbers?period=<quarter> with 1 organization loaded \
         vs {} organizations; goal: within {:.0} %",
        args.organizations,
        GOAL_RATIO * 100.0
    );
    if cfg!(debug_assertions) {
        println!(
            "WARNING: debug build of tenants-bench; the load generator is slow, build with \
             --release"
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("tenants-bench")
        .tempdir()
        .context("creating a temporary directory")?;
    let started = std::time::Instant::now();
    let cluster = PgCluster::start(&dir.path().join("pg"), None)?;
    println!(
        "PostgreSQL: throwaway cluster started in {:.2} s ({})",
        started.elapsed().as_secs_f64(),
        cluster.data_dir().display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let outcome = runtime.block_on(run(&args, &qbr, &cluster, dir.path()));
    drop(runtime);
    let stopped = cluster.stop();
    drop(dir);
    let ok = outcome?;
    stopped.context("stopping PostgreSQL")?;
    println!("PostgreSQL stopped, temporary directory removed");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run(args: &Args, qbr: &Path, cluster: &PgCluster, dir: &Path) -> anyhow::Result<bool> {
    let one = Dataset::prepare(cluster, "tenants_one", 1, args).await?;
    let many = Dataset::prepare(cluster, "tenants_many", args.organizations, args).await?;
    let quarters = quarters(&one.loaded);
    println!(
        "reads: GET /api/qbr/smartnumbers?period=<quarter>, {} quarters {}..{}",
        quarters.len(),
        quarters.first().map_or(String::new(), Quarter::to_string),
        quarters.last().map_or(String::new(), Quarter::to_string)
    );

    let mut servers = Vec::new();
    for d in [&one, &many] {
        let log = dir.join(format!("{}.log", d.db));
        let server = QbrServer::start(qbr, &d.url, &log, &server_env()).await?;
        println!(
            "server on {}: {} (`qbr serve`, pid {}, {}; database pool {POOL_SIZE})",
            d.db,
            server.base,
            server.pid,
            describe_binary(qbr)
        );
        servers.push(server);
    }
    let cores = cpu::cores();
    println!(
        "machine: {cores} core(s), CPU {}, load average {}; both servers, PostgreSQL and the \
         load generator ({} clients) share them",
        cpu::cpu_model(),
        cpu::load_average(),
        args.clients
    );
    let mut bench = Bench {
        measure: Duration::from_secs(args.seconds),
        clients: args.clients,
        errors: 0,
    };
    let sides = [
        Side::new(&one, &servers[0], cluster, &quarters, Spread::All)?,
        Side::new(&many, &servers[1], cluster, &quarters, Spread::All)?,
        Side::new(&many, &servers[1], cluster, &quarters, Spread::FirstOnly)?,
    ];
    let outcome = measure_all(&mut bench, args, &sides).await;
    let explained = match &outcome {
        Ok(_) if args.explain => explain(qbr, cluster, dir, &sides[..2], servers)
            .await
            .map(Some),
        _ => {
            for s in servers {
                s.stop().await;
            }
            Ok(None)
        }
    };
    let (cold, results) = outcome?;
    print_summary(args, &sides, &cold, &results);
    if let Some(errors) = explained? {
        bench.errors += errors;
    }
    if bench.errors > 0 {
        println!(
            "!!!!! {} FAILED REQUEST(S): exit code 1 !!!!!",
            bench.errors
        );
    }
    Ok(bench.errors == 0)
}

fn server_env() -> [(&'static str, String); 2] {
    [
        ("QBR_AUTHORIZED_USERS", BENCH_USER.to_string()),
        (
            "QBR_API_KEY_READS_PER_MINUTE",
            KEY_READS_PER_MINUTE.to_string(),
        ),
    ]
}

/// The last [`QUARTERS`] quarters, oldest first.
fn quarters(loaded: &Loaded) -> Vec<Quarter> {
    let mut quarters = Vec::new();
    let mut q = loaded.current.quarter();
    for _ in 0..QUARTERS {
        quarters.push(q);
        q = q.prev();
    }
    quarters.reverse();
    quarters
}

// ---------------------------------------------------------------------------------
// Data

/// A database with its organizations, loaded, and their credentials.
struct Dataset {
    db: &'static str,
    url: String,
    /// Organization ids, the first one first.
    orgs: Vec<i32>,
    /// A read-scope key per organization, in the order of `orgs`.
    keys: Vec<String>,
    /// A session of [`BENCH_USER`].
    session: String,
    /// Organization 1's load (the months every organization has).
    loaded: Loaded,
}

impl Dataset {
    /// Creates the database and `organizations` organizations (organization 1 and
    /// more), loads them, stores the credentials, and settles the database.
    async fn prepare(
        cluster: &PgCluster,
        db: &'static str,
        organizations: i32,
        args: &Args,
    ) -> anyhow::Result<Dataset> {
        println!();
        println!("== {db}: {organizations} organization(s)");
        let url = prepare_database(cluster, db).await?;
        let mut conn = AsyncPgConnection::establish(&url)
            .await
            .context("connecting to the benchmark database")?;
        let t = std::time::Instant::now();
        let mut orgs = vec![FIRST_ORG];
        for k in 2..=organizations {
            let name = format!("Bench organization {k:03}");
            let created = create_organization(
                &mut conn,
                NewOrganization {
                    name: &name,
                    slug: None,
                    timezone: None,
                    admin_email: BENCH_USER,
                },
                actor(),
            )
            .await
            .map_err(|e| anyhow!("creating {name}: {}", e.message))?;
            orgs.push(created.id);
        }
        if organizations > 1 {
            println!(
                "organizations: {} created with create_organization in {:.2} s",
                organizations - 1,
                t.elapsed().as_secs_f64()
            );
        }
        let loaded = match args.load {
            Load::Store => load_all(&url, &orgs, args.load_connections).await?,
            Load::Copy => {
                let first = load_all(&url, &orgs[..1], 1).await?;
                copy_first(&mut conn, &orgs[1..]).await?;
                first
            }
        };
        let keys = create_keys(&mut conn, &orgs).await?;
        let session = create_session(&mut conn).await?;
        settle(&mut conn).await?;
        apply_settings(&mut conn, db, &args.pg_settings).await?;
        print_facts(&mut conn).await?;
        Ok(Dataset {
            db,
            url,
            orgs,
            keys,
            session,
            loaded,
        })
    }
}

fn actor() -> Actor<'static> {
    Actor {
        name: ACTOR,
        ip: None,
    }
}

/// Loads every organization (one transaction each, `connections` at once); returns
/// the first organization's load.
async fn load_all(url: &str, orgs: &[i32], connections: usize) -> anyhow::Result<Loaded> {
    let t = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let workers = (0..connections.min(orgs.len())).map(|_| load_worker(url, orgs, &next));
    let mut all: Vec<(usize, Loaded)> = futures::future::try_join_all(workers)
        .await?
        .into_iter()
        .flatten()
        .collect();
    all.sort_by_key(|(i, _)| *i);
    let wall = t.elapsed();
    let per_org: Vec<f64> = all.iter().map(|(_, l)| l.total().as_secs_f64()).collect();
    let (_, first) = all
        .into_iter()
        .next()
        .context("no organization was loaded")?;
    println!(
        "data: {} organization(s) × {MONTHS} months {}..{}: {} input values ({} metrics) each, \
         written and derived values + SmartNumbers recomputed in one transaction per \
         organization; {:.1} s in all ({} connection(s)), {:.2} s per organization on average \
         (organization 1: writes {:.2} s, recompute {:.2} s)",
        per_org.len(),
        first.first,
        first.current,
        thousands(first.values as u64),
        first.metrics,
        wall.as_secs_f64(),
        connections.min(orgs.len()),
        per_org.iter().sum::<f64>() / per_org.len().max(1) as f64,
        first.writes.as_secs_f64(),
        first.recompute.as_secs_f64()
    );
    Ok(first)
}

/// The tables a load writes for an organization.
const LOADED_TABLES: [&str; 3] = [
    "qbr_metrics_monthly",
    "qbr_metric_history",
    "qbr_smartnumbers",
];

/// Copies organization 1's rows of [`LOADED_TABLES`] to each of `orgs`, in one
/// transaction per organization: what loading them through the store layer writes
/// (the same inputs give the same derived values and SmartNumbers), in a fraction of
/// the time. The triggers bump each organization's `data_version` as for any write.
async fn copy_first(conn: &mut AsyncPgConnection, orgs: &[i32]) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Columns {
        #[diesel(sql_type = diesel::sql_types::Text)]
        columns: String,
    }
    if orgs.is_empty() {
        return Ok(());
    }
    let t = std::time::Instant::now();
    let mut statements = Vec::new();
    for table in LOADED_TABLES {
        let c: Columns = diesel::sql_query(
            "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) \
                    AS columns \
               FROM information_schema.columns \
              WHERE table_schema = current_schema() AND table_name = $1 \
                AND column_name NOT IN ('id', 'organization_id')",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result(conn)
        .await
        .with_context(|| format!("the columns of {table}"))?;
        statements.push(format!(
            "INSERT INTO {table} (organization_id, {cols}) SELECT $1, {cols} FROM {table} \
             WHERE organization_id = {FIRST_ORG} ORDER BY id",
            cols = c.columns
        ));
    }
    let mut rows = 0;
    for &org in orgs {
        rows += conn
            .transaction::<_, anyhow::Error, _>(async |conn| {
                let mut rows = 0;
                for sql in &statements {
                    rows += diesel::sql_query(sql)
                        .bind::<diesel::sql_types::Integer, _>(org)
                        .execute(conn)
                        .await
                        .with_context(|| format!("copying to organization {org}"))?;
                }
                Ok(rows)
            })
            .await?;
    }
    println!(
        "copied: organization {FIRST_ORG}'s {} rows ({}) to each of {} organization(s), one \
         transaction each, in {:.2} s ({} rows)",
        thousands((rows / orgs.len()) as u64),
        LOADED_TABLES.join(", "),
        orgs.len(),
        t.elapsed().as_secs_f64(),
        thousands(rows as u64)
    );
    Ok(())
}

/// Loads the organizations of `orgs` not taken yet (`next`) on a connection of its own;
/// returns them with their index in `orgs`.
async fn load_worker(
    url: &str,
    orgs: &[i32],
    next: &AtomicUsize,
) -> anyhow::Result<Vec<(usize, Loaded)>> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to load")?;
    let mut done = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&org) = orgs.get(i) else {
            return Ok(done);
        };
        let loaded = load_months(&mut conn, org, MONTHS, ACTOR)
            .await
            .with_context(|| format!("loading organization {org}"))?;
        done.push((i, loaded));
    }
}

/// A read-scope key per organization, as `qbr apikey create --org` makes it.
async fn create_keys(conn: &mut AsyncPgConnection, orgs: &[i32]) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    for &org in orgs {
        let created =
            backend::service::api_keys::create(conn, org, ACTOR, ApiKeyScope::Read, None, actor())
                .await
                .map_err(|e| {
                    anyhow!("creating the API key of organization {org}: {}", e.message)
                })?;
        keys.push(created.key);
    }
    Ok(keys)
}

/// A session of [`BENCH_USER`], as a sign-in stores it.
async fn create_session(conn: &mut AsyncPgConnection) -> anyhow::Result<String> {
    let session = backend::secrets::random_token();
    backend::store::sessions::create(
        conn,
        backend::store::sessions::NewSession {
            id_hash: &backend::secrets::hash(&session),
            email: BENCH_USER,
            name: Some("Benchmark"),
            expires_at: Utc::now() + chrono::TimeDelta::hours(3),
            ip: None,
            user_agent: None,
        },
    )
    .await
    .context("creating the session")?;
    Ok(session)
}

/// Vacuums, analyzes and checkpoints, so that no autovacuum or checkpoint of the load
/// runs during the measurements and the planner knows the tables' sizes.
async fn settle(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    let t = std::time::Instant::now();
    for sql in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
        diesel::sql_query(sql)
            .execute(conn)
            .await
            .with_context(|| sql.to_string())?;
    }
    println!(
        "settled: VACUUM (ANALYZE) and CHECKPOINT in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `--pg-setting`s, for the sessions the server will open.
async fn apply_settings(
    conn: &mut AsyncPgConnection,
    db: &str,
    settings: &[String],
) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    for setting in settings {
        let (name, value) = setting
            .split_once('=')
            .with_context(|| format!("--pg-setting {setting}: NAME=VALUE expected"))?;
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !name_ok || value.contains('\'') {
            bail!("--pg-setting {setting}: a setting name and a value without quotes expected");
        }
        let sql = format!("ALTER DATABASE {db} SET {name} = '{value}'");
        diesel::sql_query(&sql)
            .execute(conn)
            .await
            .with_context(|| sql.clone())?;
        println!("setting: {sql}");
    }
    Ok(())
}

async fn print_facts(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Facts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        orgs: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        monthly: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        smartnumbers: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        memberships: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        keys: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        size: String,
    }
    let f: Facts = diesel::sql_query(
        "SELECT (SELECT count(*) FROM organization) AS orgs, \
                (SELECT count(*) FROM qbr_metrics_monthly) AS monthly, \
                (SELECT count(*) FROM qbr_smartnumbers) AS smartnumbers, \
                (SELECT count(*) FROM memberships) AS memberships, \
                (SELECT count(*) FROM api_keys) AS keys, \
                pg_size_pretty(pg_database_size(current_database())) AS size",
    )
    .get_result(conn)
    .await
    .context("counting rows")?;
    println!(
        "stored: {} organization(s), {} monthly rows (inputs + calculated), {} SmartNumber \
         rows, {} membership(s) (the server adds organization 1's at start), {} API key(s); \
         database {}",
        f.orgs,
        thousands(u64::try_from(f.monthly).unwrap_or(0)),
        thousands(u64::try_from(f.smartnumbers).unwrap_or(0)),
        f.memberships,
        f.keys,
        f.size
    );
    Ok(())
}

// ---------------------------------------------------------------------------------
// Sides and targets

/// Which organizations a side's requests go to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spread {
    /// Every organization of the database, in turn.
    All,
    /// Organization 1 only.
    FirstOnly,
}

/// One server and the requests sent to it.
struct Side<'a> {
    name: String,
    dataset: &'a Dataset,
    base: String,
    watched: Watched,
    /// Organizations the requests go to.
    orgs: usize,
    quarters: Vec<Quarter>,
    spread: Spread,
}

impl<'a> Side<'a> {
    fn new(
        dataset: &'a Dataset,
        server: &QbrServer,
        cluster: &PgCluster,
        quarters: &[Quarter],
        spread: Spread,
    ) -> anyhow::Result<Side<'a>> {
        let loaded = dataset.orgs.len();
        let (name, orgs) = match spread {
            Spread::All if loaded == 1 => ("1 org".to_string(), 1),
            Spread::All => (format!("{loaded} orgs"), loaded),
            Spread::FirstOnly => (format!("{loaded} orgs, org 1 only"), 1),
        };
        Ok(Side {
            name,
            dataset,
            base: server.base.clone(),
            watched: Watched::new(server.pid, cluster),
            orgs,
            quarters: quarters.to_vec(),
            spread,
        })
    }

    /// Every (organization, quarter) pair of the side, quarter by quarter (the first
    /// `orgs` requests are each organization's first), with `credential`.
    fn targets(&self, credential: Credential) -> anyhow::Result<Vec<Target>> {
        let mut targets = Vec::new();
        let orgs = &self.dataset.orgs[..self.orgs];
        for q in &self.quarters {
            for (i, org) in orgs.iter().enumerate() {
                let url = format!("{}/api/qbr/smartnumbers?period={q}", self.base);
                targets.push(match credential {
                    Credential::Key => Target::with_header(
                        url,
                        "authorization",
                        &format!("Bearer {}", self.dataset.keys[i]),
                    )?,
                    Credential::Cookie => Target::plain(format!("{url}&organization_id={org}")),
                });
            }
        }
        Ok(targets)
    }

    /// Clients for `credential`: the session cookie as a default header, or none (the
    /// key is each target's).
    fn clients(&self, credential: Credential, n: usize) -> anyhow::Result<Vec<reqwest::Client>> {
        let cookie = format!("qbr_session={}", self.dataset.session);
        (0..n)
            .map(|_| match credential {
                Credential::Key => http_client(None),
                Credential::Cookie => http_client(Some(("cookie", &cookie))),
            })
            .collect()
    }

    fn describe(&self) -> String {
        let loaded = self.dataset.orgs.len();
        match (self.spread, loaded) {
            (Spread::All, 1) => format!("{} (organization 1 only)", self.dataset.db),
            (Spread::All, n) => format!(
                "{} ({n} organizations, requests spread over all {} (organization, quarter) \
                 pairs)",
                self.dataset.db,
                thousands((n * self.quarters.len()) as u64)
            ),
            (Spread::FirstOnly, n) => format!(
                "{} ({n} organizations loaded, requests to organization 1 only)",
                self.dataset.db
            ),
        }
    }
}

// ---------------------------------------------------------------------------------
// Measuring

struct Bench {
    measure: Duration,
    clients: usize,
    /// Failed requests so far.
    errors: u64,
}

/// What the cold and warm passes of one side saw.
struct ColdWarm {
    side: String,
    first_per_org: Tally,
    cold: Tally,
    warm: Tally,
}

/// Rounds merged, per credential and side.
struct Merged {
    credential: Credential,
    side: usize,
    closed: Tally,
    closed_seconds: f64,
    paced: Tally,
    paced_seconds: f64,
}

impl Merged {
    fn closed_rps(&self) -> f64 {
        self.closed.completed_in_window as f64 / self.closed_seconds
    }

    fn paced_rps(&self) -> f64 {
        self.paced.completed_in_window as f64 / self.paced_seconds
    }
}

async fn measure_all(
    bench: &mut Bench,
    args: &Args,
    sides: &[Side<'_>],
) -> anyhow::Result<(Vec<ColdWarm>, Vec<Merged>)> {
    println!();
    println!(
        "== pool warm-up: 1 s of GET /api/qbr/metric-definitions on each server (no answer \
         cache involved), so that the cold reads find the pools' connections open"
    );
    for side in &sides[..2] {
        let targets = Arc::new(vec![Target::with_header(
            format!("{}/api/qbr/metric-definitions", side.base),
            "authorization",
            &format!("Bearer {}", side.dataset.keys[0]),
        )?]);
        let clients = side.clients(Credential::Key, bench.clients)?;
        let t = run_pass(
            &targets,
            Start::Together,
            &clients,
            Duration::from_millis(1),
            None,
            &side.watched,
        )
        .await?;
        bench.errors += t.all_errors();
        println!("  {}: errors {}", side.name, t.all_errors());
    }

    let mut cold = Vec::new();
    for side in &sides[..2] {
        cold.push(cold_and_warm(bench, side).await?);
    }

    let mut merged: Vec<Merged> = Vec::new();
    for &credential in &args.credentials {
        println!();
        println!(
            "== throughput with {}: {} round(s) of a closed-loop pass ({} clients back to \
             back) and a pass paced at {PACED_RPS} req/s per side; {} s warm-up + {} s measured \
             per pass",
            credential.describe(),
            args.rounds,
            bench.clients,
            WARMUP.as_secs(),
            bench.measure.as_secs()
        );
        let mut prepared = Vec::new();
        for (i, side) in sides.iter().enumerate() {
            let targets = Arc::new(side.targets(credential)?);
            let clients = side.clients(credential, bench.clients)?;
            let errors = precheck(&clients[0], &targets).await;
            bench.errors += errors;
            println!(
                "  precheck {}: {} request(s), {} error(s)",
                side.name,
                thousands(targets.len() as u64),
                errors
            );
            prepared.push((i, targets, clients));
        }
        let mut rounds: Vec<Option<Merged>> = (0..sides.len()).map(|_| None).collect();
        for round in 1..=args.rounds {
            for (i, targets, clients) in &prepared {
                let side = &sides[*i];
                let closed = run_pass(
                    targets,
                    Start::Spread,
                    clients,
                    bench.measure,
                    None,
                    &side.watched,
                )
                .await?;
                let period = Duration::from_secs_f64(clients.len() as f64 / f64::from(PACED_RPS));
                let paced = run_pass(
                    targets,
                    Start::Spread,
                    clients,
                    bench.measure,
                    Some(period),
                    &side.watched,
                )
                .await?;
                bench.errors += closed.all_errors() + paced.all_errors();
                print_pass(round, side, &closed, &paced, bench.measure);
                let secs = bench.measure.as_secs_f64();
                match &mut rounds[*i] {
                    Some(m) => {
                        m.closed.absorb(closed)?;
                        m.closed_seconds += secs;
                        m.paced.absorb(paced)?;
                        m.paced_seconds += secs;
                    }
                    slot => {
                        *slot = Some(Merged {
                            credential,
                            side: *i,
                            closed,
                            closed_seconds: secs,
                            paced,
                            paced_seconds: secs,
                        })
                    }
                }
            }
        }
        merged.extend(rounds.into_iter().flatten());
    }
    Ok((cold, merged))
}

/// One request to every target; failures are printed (the first few) and counted.
async fn precheck(client: &reqwest::Client, targets: &[Target]) -> u64 {
    let mut errors = 0;
    for t in targets {
        if let Err(e) = fetch(client, t).await {
            errors += 1;
            if errors <= 3 {
                println!("  !!!!! precheck {}: {e}", t.url);
            }
        }
    }
    errors
}

fn print_pass(round: usize, side: &Side, closed: &Tally, paced: &Tally, measure: Duration) {
    let secs = measure.as_secs_f64();
    println!(
        "  round {round}, {:<20} closed: {:>7.1} req/s, p50 {:.2} p99 {:.2} ms, qbr {} µs, \
         PostgreSQL {} µs per request | paced: {:>6.1} req/s, p50 {:.2} p99 {:.2} ms, qbr {} \
         µs, PostgreSQL {} µs{}{}",
        side.name,
        closed.completed_in_window as f64 / secs,
        ms(closed.latency.value_at_quantile(0.5)),
        ms(closed.latency.value_at_quantile(0.99)),
        fmt_opt(closed.qbr_us_per_request(), 0),
        fmt_opt(closed.postgres_us_per_request(), 0),
        paced.completed_in_window as f64 / secs,
        ms(paced.latency.value_at_quantile(0.5)),
        ms(paced.latency.value_at_quantile(0.99)),
        fmt_opt(paced.qbr_us_per_request(), 0),
        fmt_opt(paced.postgres_us_per_request(), 0),
        if paced.unsent > 0 {
            format!("; !! {} never sent (fell behind)", paced.unsent)
        } else {
            String::new()
        },
        match closed.all_errors() + paced.all_errors() {
            0 => String::new(),
            n => format!(
                "; !!!!! {n} ERRORS, first: {}",
                closed
                    .first_error
                    .as_deref()
                    .or(paced.first_error.as_deref())
                    .unwrap_or("?")
            ),
        }
    );
}

/// On a fresh server: every (organization, quarter) once by one client, quarter by
/// quarter, then all again.
async fn cold_and_warm(bench: &mut Bench, side: &Side<'_>) -> anyhow::Result<ColdWarm> {
    let targets = side.targets(Credential::Key)?;
    let client = &side.clients(Credential::Key, 1)?[0];
    println!();
    println!(
        "== cold and warm, {}: one client reads each of {} (organization, quarter) pairs once \
         (the server's answer cache empty; the first {} requests are each organization's \
         first read), then all of them again",
        side.describe(),
        thousands(targets.len() as u64),
        side.orgs
    );
    let (first_targets, rest) = targets.split_at(side.orgs);
    let first_per_org = sequential(client, first_targets, &side.watched).await?;
    let rest = sequential(client, rest, &side.watched).await?;
    let mut cold = sequential_copy(&first_per_org)?;
    cold.absorb(rest)?;
    let warm = sequential(client, &targets, &side.watched).await?;
    for (what, t) in [
        (
            format!("cold, first read per organization ({})", side.orgs),
            &first_per_org,
        ),
        (
            format!("cold, every pair's first read ({})", targets.len()),
            &cold,
        ),
        (format!("warm, the same again ({})", targets.len()), &warm),
    ] {
        println!(
            "  {what}: latency ms {}; {:.1} KiB per response",
            percentiles(&t.latency),
            t.avg_kib()
        );
        report_cpu(t);
        report_errors(t);
    }
    bench.errors += cold.all_errors() + warm.all_errors();
    Ok(ColdWarm {
        side: side.name.clone(),
        first_per_org,
        cold,
        warm,
    })
}

/// Each target once, one after the other; CPU around the whole.
async fn sequential(
    client: &reqwest::Client,
    targets: &[Target],
    watched: &Watched,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let before = CpuSnapshot::take(watched);
    for t in targets {
        let sent = tokio::time::Instant::now();
        match fetch(client, t).await {
            Ok(n) => {
                tally.latency.saturating_record(micros(sent.elapsed()));
                tally.requests += 1;
                tally.completed_in_window += 1;
                tally.bytes += n as u64;
            }
            Err(e) => tally.failed(true, e),
        }
    }
    let after = CpuSnapshot::take(watched);
    tally.cpu = CpuSnapshot::usage(before, after, watched.ticks_per_second);
    Ok(tally)
}

/// A copy of a sequential pass's figures (to merge others into).
fn sequential_copy(t: &Tally) -> anyhow::Result<Tally> {
    let mut copy = Tally::new()?;
    copy.latency
        .add(&t.latency)
        .map_err(|e| anyhow!("copying a histogram: {e:?}"))?;
    copy.requests = t.requests;
    copy.completed_in_window = t.completed_in_window;
    copy.bytes = t.bytes;
    copy.errors = t.errors;
    copy.first_error = t.first_error.clone();
    copy.cpu = t.cpu;
    Ok(copy)
}

// ---------------------------------------------------------------------------------
// Summary

/// A figure, whether more is better, and its format.
struct Figure {
    name: &'static str,
    /// CPU per request (the verdict's figures: steadier than latency and throughput on
    /// a shared machine).
    cpu: bool,
    higher_is_better: bool,
    decimals: usize,
    get: fn(&Merged) -> Option<f64>,
}

const FIGURES: [Figure; 12] = [
    Figure {
        cpu: false,
        name: "closed req/s",
        higher_is_better: true,
        decimals: 0,
        get: |m| Some(m.closed_rps()),
    },
    Figure {
        cpu: false,
        name: "closed p50 ms",
        higher_is_better: false,
        decimals: 2,
        get: |m| Some(ms(m.closed.latency.value_at_quantile(0.5))),
    },
    Figure {
        cpu: false,
        name: "closed p99 ms",
        higher_is_better: false,
        decimals: 2,
        get: |m| Some(ms(m.closed.latency.value_at_quantile(0.99))),
    },
    Figure {
        cpu: true,
        name: "closed qbr µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| m.closed.qbr_us_per_request(),
    },
    Figure {
        cpu: true,
        name: "closed PG µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| m.closed.postgres_us_per_request(),
    },
    Figure {
        cpu: true,
        name: "closed CPU µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| Some(m.closed.qbr_us_per_request()? + m.closed.postgres_us_per_request()?),
    },
    Figure {
        cpu: false,
        name: "paced req/s",
        higher_is_better: true,
        decimals: 0,
        get: |m| Some(m.paced_rps()),
    },
    Figure {
        cpu: false,
        name: "paced p50 ms",
        higher_is_better: false,
        decimals: 2,
        get: |m| Some(ms(m.paced.latency.value_at_quantile(0.5))),
    },
    Figure {
        cpu: false,
        name: "paced p99 ms",
        higher_is_better: false,
        decimals: 2,
        get: |m| Some(ms(m.paced.latency.value_at_quantile(0.99))),
    },
    Figure {
        cpu: true,
        name: "paced qbr µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| m.paced.qbr_us_per_request(),
    },
    Figure {
        cpu: true,
        name: "paced PG µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| m.paced.postgres_us_per_request(),
    },
    Figure {
        cpu: true,
        name: "paced CPU µs/req",
        higher_is_better: false,
        decimals: 0,
        get: |m| Some(m.paced.qbr_us_per_request()? + m.paced.postgres_us_per_request()?),
    },
];

/// `many / one`, and whether it is within the goal (a drop of throughput or a rise
/// of latency or CPU of at most 10 %).
fn ratio(f: &Figure, one: Option<f64>, many: Option<f64>) -> Option<(f64, bool)> {
    let (one, many) = (one?, many?);
    if one <= 0.0 {
        return None;
    }
    let r = many / one;
    let ok = if f.higher_is_better {
        r >= 1.0 - GOAL_RATIO
    } else {
        r <= 1.0 + GOAL_RATIO
    };
    Some((r, ok))
}

fn print_summary(args: &Args, sides: &[Side], cold: &[ColdWarm], results: &[Merged]) {
    println!();
    println!(
        "== summary ({} clients, {} round(s) × {} s per pass merged; load average now {})",
        args.clients,
        args.rounds,
        args.seconds,
        cpu::load_average()
    );
    println!("cold vs warm (one client, key per organization; latency ms, CPU µs per request):");
    println!(
        "  {:<12} {:<38} {:>6} {:>7} {:>7} {:>7} {:>8} {:>8}",
        "side", "reads", "count", "p50", "p99", "max", "qbr µs", "PG µs"
    );
    for c in cold {
        for (what, t) in [
            ("cold, first read per organization", &c.first_per_org),
            ("cold, every (organization, quarter)", &c.cold),
            ("warm, the same again", &c.warm),
        ] {
            println!(
                "  {:<12} {:<38} {:>6} {:>7.2} {:>7.2} {:>7.2} {:>8} {:>8}",
                c.side,
                what,
                t.requests,
                ms(t.latency.value_at_quantile(0.5)),
                ms(t.latency.value_at_quantile(0.99)),
                ms(t.latency.max()),
                fmt_opt(t.qbr_us_per_request(), 0),
                fmt_opt(t.postgres_us_per_request(), 0),
            );
        }
    }
    for &credential in &args.credentials {
        println!();
        println!("throughput with {}:", credential.describe());
        let rows: Vec<&Merged> = results
            .iter()
            .filter(|m| m.credential == credential)
            .collect();
        print!("  {:<18}", "figure");
        for m in &rows {
            print!(" {:>22}", sides[m.side].name);
        }
        for m in rows.iter().skip(1) {
            print!(" {:>14}", format!("ratio {}", short(&sides[m.side].name)));
        }
        println!();
        let mut cpu_ok = true;
        let mut other = (0, 0);
        for f in &FIGURES {
            print!("  {:<18}", f.name);
            for m in &rows {
                print!(" {:>22}", fmt_opt((f.get)(m), f.decimals));
            }
            let one = rows.first().and_then(|m| (f.get)(m));
            for (k, m) in rows.iter().enumerate().skip(1) {
                match ratio(f, one, (f.get)(m)) {
                    Some((r, ok)) => {
                        print!(" {:>9.3} {:<4}", r, if ok { "ok" } else { "OVER" });
                        if k == 1 {
                            if f.cpu {
                                cpu_ok &= ok;
                            } else {
                                other.0 += usize::from(ok);
                                other.1 += 1;
                            }
                        }
                    }
                    None => print!(" {:>14}", "?"),
                }
            }
            println!();
        }
        let errors: u64 = rows
            .iter()
            .map(|m| m.closed.all_errors() + m.paced.all_errors())
            .sum();
        let many = sides.get(1).map_or("many", |s| s.name.as_str());
        println!(
            "  verdict ({many} ÷ 1 org): CPU per request (qbr, PostgreSQL, both; closed loop and \
             paced) {}; latency and throughput: {} of {} figures within 10 % (ok: throughput \
             at least 90 %, latency and CPU at most 110 % of 1 org's){}",
            if cpu_ok {
                "WITHIN 10 %"
            } else {
                "NOT within 10 %"
            },
            other.0,
            other.1,
            if errors > 0 {
                format!("; !!!!! {errors} errors: figures not valid")
            } else {
                String::new()
            }
        );
    }
}

/// "100 orgs, org 1 only" → "org1", "100 orgs" → "100".
fn short(name: &str) -> &str {
    if name.contains("only") {
        "org1"
    } else {
        name.split(' ').next().unwrap_or(name)
    }
}

// ---------------------------------------------------------------------------------
// Plans

/// Restarts each side's server with auto_explain on its database, sends a cold and a
/// warm read per credential, and prints the plans PostgreSQL logged. Returns the
/// failed requests.
async fn explain(
    qbr: &Path,
    cluster: &PgCluster,
    dir: &Path,
    sides: &[Side<'_>],
    servers: Vec<QbrServer>,
) -> anyhow::Result<u64> {
    for s in servers {
        s.stop().await;
    }
    let pg_log = cluster
        .data_dir()
        .parent()
        .context("the cluster's directory")?
        .join("postgres.log");
    let mut errors = 0;
    for side in sides {
        let d = side.dataset;
        let mut conn = AsyncPgConnection::establish(&d.url)
            .await
            .context("connecting to set auto_explain")?;
        set_auto_explain(&mut conn, d.db, true).await?;
        let log = dir.join(format!("{}-explain.log", d.db));
        let server = QbrServer::start(qbr, &d.url, &log, &server_env()).await?;
        // Organization 2 of 100 (or 1 of 1), a quarter in the middle.
        let org_index = d.orgs.len().min(2) - 1;
        let org = d.orgs[org_index];
        let q = side.quarters[side.quarters.len() / 2];
        let url = format!("{}/api/qbr/smartnumbers?period={q}", server.base);
        let key = Target::with_header(
            url.clone(),
            "authorization",
            &format!("Bearer {}", d.keys[org_index]),
        )?;
        let cookie = Target::plain(format!("{url}&organization_id={org}"));
        let key_client = http_client(None)?;
        let cookie_client = http_client(Some(("cookie", &format!("qbr_session={}", d.session))))?;
        println!();
        println!(
            "== plans on {} (auto_explain: every statement of the server's sessions, ANALYZE, \
             BUFFERS), organization {org}, {q}",
            d.db
        );
        // Warm reads are repeated: from a statement's 6th execution on a connection,
        // PostgreSQL may switch to a generic plan; the last one's plans are printed.
        // (Sequential requests to a fresh server all use the pool's one connection.)
        let requests: [(&str, &reqwest::Client, &Target, usize); 3] = [
            (
                "API key, cold (the guard's key query, then the SmartNumbers queries)",
                &key_client,
                &key,
                1,
            ),
            (
                "API key, warm, the 8th request (the guard's key query only)",
                &key_client,
                &key,
                8,
            ),
            (
                "session cookie, warm, the 8th request (the guard's session query only)",
                &cookie_client,
                &cookie,
                8,
            ),
        ];
        for (what, client, target, times) in requests {
            let mut offset = 0;
            for _ in 0..times {
                // The log is written by the backend as each statement ends.
                tokio::time::sleep(Duration::from_millis(100)).await;
                offset = std::fs::metadata(&pg_log).map_or(0, |m| m.len());
                if let Err(e) = fetch(client, target).await {
                    errors += 1;
                    println!("  !!!!! {what}: {e}");
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            println!("-- {what}:");
            print_plans(&pg_log, offset);
        }
        server.stop().await;
        set_auto_explain(&mut conn, d.db, false).await?;
    }
    Ok(errors)
}

async fn set_auto_explain(conn: &mut AsyncPgConnection, db: &str, on: bool) -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    let statements: Vec<String> = if on {
        [
            "session_preload_libraries = 'auto_explain'",
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_analyze = on",
            "auto_explain.log_buffers = on",
            "auto_explain.log_timing = on",
            // The key look-up's own query, inside `qbr_api_key_by_hash`.
            "auto_explain.log_nested_statements = on",
        ]
        .iter()
        .map(|s| format!("ALTER DATABASE {db} SET {s}"))
        .collect()
    } else {
        vec![format!("ALTER DATABASE {db} RESET ALL")]
    };
    for sql in statements {
        diesel::sql_query(&sql)
            .execute(conn)
            .await
            .with_context(|| sql.clone())?;
    }
    Ok(())
}

/// The plans logged since `offset`, without the log lines' prefixes.
fn print_plans(pg_log: &Path, offset: u64) {
    let Ok(bytes) = std::fs::read(pg_log) else {
        println!("   (the PostgreSQL log is unreadable)");
        return;
    };
    let from = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    let text = String::from_utf8_lossy(&bytes[from..]);
    let mut any = false;
    for line in text.lines() {
        // Statement lines start with a timestamp and "LOG:"; plan lines are indented.
        if let Some((_, rest)) = line.split_once("LOG:  ") {
            println!("   {}", rest.trim_end());
            any = true;
        } else if line.starts_with(' ') || line.starts_with('\t') {
            println!("   {}", line.trim_end());
            any = true;
        }
    }
    if !any {
        println!("   (nothing logged)");
    }
}
