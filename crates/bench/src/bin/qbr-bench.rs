//! `qbr-bench`: a benchmark of every read endpoint of the API, served by the real `qbr`
//! binary in a process of its own. Not a test: it prints figures. Its goals: p99 under
//! 5 ms at 1,000 req/s, and at most 200 µs of `qbr` CPU per warm request (CPU per
//! request is steadier than req/s on a shared machine).
//!
//! It starts a throwaway PostgreSQL cluster, loads five years (60 months) of realistic
//! data for organization 1 through the store layer (as `qbr serve --demo` does, in one
//! transaction), creates a read-scope API key and a session of an allow-listed user,
//! then starts `qbr serve` (the `qbr` next to this program, or `--qbr PATH`) on a free
//! loopback port with that database, `RUST_LOG=info` (one log line per request, written
//! to a file), no SPA, and a per-key rate limit far above the load. Then, per scenario
//! (one read endpoint), over real HTTP/1.1 keep-alive connections:
//!
//! - a closed-loop pass: `--clients` clients send requests back to back, which gives
//!   the maximum throughput (and the latency at saturation);
//! - a paced pass: the same clients send 1,000 req/s in total on a fixed schedule;
//!   latency counts from the scheduled send time, so a stall that delays later sends
//!   is charged to them (no coordinated omission).
//!
//! Every pass has a 1 s warm-up that is not recorded. Around the measured window of
//! each pass it reads the CPU time (utime + stime of `/proc/<pid>/stat`) of the `qbr`
//! process and, separately, of PostgreSQL (the postmaster, its children and its reaped
//! children), and divides it by the responses of the window: CPU µs per request.
//! Requests carry the API key (`Authorization: Bearer`); `smartnumbers+cookie` repeats
//! the SmartNumbers scenario with the session cookie a browser sends.
//!
//! Last, `cancel`: the clients abort requests 1–4 ms after sending them (the end of a
//! load run, a browser navigating away) for `--seconds`, after a normal pass of the
//! same requests; for both it prints the new PostgreSQL sessions the server opened
//! (`pg_stat_database.sessions`). A healthy pool keeps its connections: about 0.
//!
//! Any response other than 200 in a normal pass (the prechecks, the closed-loop and
//! paced passes, and the requests right after the cancellation) is an error: errors
//! are counted, printed, and make the exit code 1. Failures during the cancellation
//! pass itself are printed, not counted.
//!
//! Run (the two binaries side by side, in the same target dir):
//! `cargo build --release -p backend -p bench --bins && target/release/qbr-bench
//! [--seconds 3] [--clients 32] [--only smartnumbers,metrics/range,cancel] [--qbr PATH]
//! [--server-log PATH]` (about 2 minutes with the defaults). Names with `?` need
//! quotes: `--only 'smartnumbers?shape=flat'`.
use anyhow::{anyhow, bail, Context};
use bench::cpu::{self, CpuUse, Watched};
use bench::data::{load_months, Loaded};
use bench::load::{
    fetch, fmt_opt, http_client, measure_cpu, ms, percentiles, report_cpu, report_errors, run_pass,
    Start, Tally, Target, WARMUP,
};
use bench::{
    count_lines, describe_binary, prepare_database, qbr_binary, thousands, QbrServer, POOL_SIZE,
};
use chrono::Utc;
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use pg_cluster::PgCluster;
use qbr_shared::{Month, Quarter};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The latency goal: p99 under this many milliseconds …
const GOAL_P99_MS: f64 = 5.0;
/// … at this offered rate.
const GOAL_RPS: u32 = 1_000;
/// The CPU goal: at most this many µs of `qbr` CPU per warm request.
const GOAL_CPU_US: f64 = 200.0;
/// Months of data loaded, the current one included.
const MONTHS: i32 = 60;
/// Quarters the per-quarter scenarios rotate through (the most recent ones).
const QUARTERS: usize = 20;
/// Months per range request.
const RANGE_MONTHS: i32 = 24;
/// Quarters per trend request.
const TREND_QUARTERS: usize = 8;
const ORG_ID: i32 = 1;
const DB_NAME: &str = "qbr_bench";
/// The signed-in user of the cookie scenario (allow-listed for the server).
const BENCH_USER: &str = "bench@example.com";
/// Far above any load here: the default (120 per minute) would refuse nearly all.
const KEY_READS_PER_MINUTE: &str = "100000000";
/// The cancellation pass aborts each request this many ms after sending it, in turn:
/// tokio's timer has 1 ms steps, and a spread catches requests at different stages.
const CANCEL_AFTER_MS: [u64; 4] = [1, 2, 3, 4];
/// Time for PostgreSQL's statistics to include sessions that just started or ended
/// (a backend reports its first figures when it first goes idle, and at exit).
const STATS_SETTLE: Duration = Duration::from_millis(1500);

#[derive(Parser, Debug)]
#[command(
    name = "qbr-bench",
    about = "Benchmarks the QBR read API: the real `qbr serve`, a throwaway PostgreSQL with \
             5 years of data, real HTTP; req/s, latency and `qbr` CPU per request"
)]
struct Args {
    /// Measured seconds per pass (after a 1 s warm-up).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Only these scenarios (comma-separated or repeated), by the names the summary
    /// prints, e.g. `smartnumbers,metrics/range,cancel`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// The `qbr` binary to serve with (default: `qbr` next to this program).
    #[arg(long)]
    qbr: Option<PathBuf>,
    /// Keep the server's log in this file (default: a temporary file, removed).
    #[arg(long)]
    server_log: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if args.seconds == 0 || args.clients == 0 {
        bail!("--seconds and --clients must be at least 1");
    }
    check_only(&args.only)?;
    let qbr = qbr_binary(args.qbr.as_deref())?;

    println!(
        "qbr-bench: QBR Dashboard read API against the goals \"p99 under {GOAL_P99_MS} ms at \
         {GOAL_RPS} req/s\" and \"at most {GOAL_CPU_US} µs of qbr CPU per warm request\""
    );
    if cfg!(debug_assertions) {
        println!(
            "WARNING: debug build of qbr-bench; the load generator is slow, build with --release"
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("qbr-bench")
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

/// Everything after the cluster is up. Returns false when any request failed.
async fn run(args: &Args, qbr: &Path, cluster: &PgCluster, dir: &Path) -> anyhow::Result<bool> {
    let url = prepare_database(cluster, DB_NAME).await?;
    let mut conn = AsyncPgConnection::establish(&url)
        .await
        .context("connecting to the benchmark database")?;
    let loaded = load_months(&mut conn, ORG_ID, MONTHS, "qbr-bench").await?;
    print_loaded(&loaded, &db_facts(&mut conn).await?);
    let secrets = create_credentials(&mut conn).await?;

    let log = args
        .server_log
        .clone()
        .unwrap_or_else(|| dir.join("qbr.log"));
    let server = QbrServer::start(qbr, &url, &log, &server_env()).await?;
    println!(
        "server: {} (`qbr serve`, pid {}, {}; database pool {POOL_SIZE}; RUST_LOG=info to {})",
        server.base,
        server.pid,
        describe_binary(qbr),
        server.log.display()
    );
    let cores = cpu::cores();
    println!(
        "machine: {cores} core(s), CPU {}, load average {}; qbr, PostgreSQL and the load \
         generator ({} clients, tokio multi-thread runtime) share them",
        cpu::cpu_model(),
        cpu::load_average(),
        args.clients
    );
    let watched = Watched::new(server.pid, cluster);
    let mut bench = Bench {
        base: server.base.clone(),
        secrets,
        clients: HashMap::new(),
        watched,
        monitor: conn,
        server_log: server.log.clone(),
        clients_per_pass: args.clients,
        measure: Duration::from_secs(args.seconds),
    };
    let scenarios = scenarios(&bench.base, &loaded, &args.only);
    let outcome = bench_all(&mut bench, &scenarios).await;
    drop(bench);
    server.stop().await;
    let results = outcome?;
    print_summary(&results, cores, args);
    Ok(results.iter().all(|r| r.errors() == 0))
}

// ---------------------------------------------------------------------------------
// Data

struct DbFacts {
    monthly_rows: u64,
    smartnumber_rows: u64,
    version: String,
}

async fn db_facts(conn: &mut AsyncPgConnection) -> anyhow::Result<DbFacts> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        monthly: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        smartnumbers: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let c: Counts = diesel::sql_query(
        "SELECT (SELECT count(*) FROM qbr_metrics_monthly) AS monthly, \
                (SELECT count(*) FROM qbr_smartnumbers) AS smartnumbers, \
                'PostgreSQL ' || current_setting('server_version') AS version",
    )
    .get_result(conn)
    .await
    .context("counting rows")?;
    Ok(DbFacts {
        monthly_rows: u64::try_from(c.monthly).unwrap_or(0),
        smartnumber_rows: u64::try_from(c.smartnumbers).unwrap_or(0),
        version: c.version,
    })
}

fn print_loaded(loaded: &Loaded, facts: &DbFacts) {
    println!(
        "data: organization {ORG_ID}, {} months {}..{}: {} input values ({} metrics) written \
         and derived values + SmartNumbers recomputed in one transaction in {:.2} s \
         (writes {:.2} s, recompute {:.2} s)",
        MONTHS,
        loaded.first,
        loaded.current,
        thousands(loaded.values as u64),
        loaded.metrics,
        loaded.total().as_secs_f64(),
        loaded.writes.as_secs_f64(),
        loaded.recompute.as_secs_f64()
    );
    println!(
        "      stored: {} monthly rows (inputs + calculated), {} SmartNumber rows; {}",
        thousands(facts.monthly_rows),
        thousands(facts.smartnumber_rows),
        facts.version
    );
}

// ---------------------------------------------------------------------------------
// Credentials and the server process

/// How the load proves who it is.
struct Secrets {
    /// A read-scope API key, as other programs call the API.
    api_key: String,
    /// A session token of [`BENCH_USER`], as a signed-in browser sends it.
    session: String,
}

/// Stored before the server starts, as `qbr apikey create` and a sign-in would.
async fn create_credentials(conn: &mut AsyncPgConnection) -> anyhow::Result<Secrets> {
    let created = backend::service::api_keys::create(
        conn,
        ORG_ID,
        "qbr-bench",
        qbr_shared::access::ApiKeyScope::Read,
        None,
        backend::service::Actor {
            name: "qbr-bench",
            ip: None,
        },
    )
    .await
    .map_err(|e| anyhow!("creating the API key: {}", e.message))?;
    let session = backend::secrets::random_token();
    backend::store::sessions::create(
        conn,
        backend::store::sessions::NewSession {
            id_hash: &backend::secrets::hash(&session),
            email: BENCH_USER,
            name: Some("Benchmark"),
            expires_at: Utc::now() + chrono::TimeDelta::hours(2),
            ip: None,
            user_agent: None,
        },
    )
    .await
    .context("creating the session")?;
    Ok(Secrets {
        api_key: created.key,
        session,
    })
}

/// What `qbr serve` needs beyond the defaults: the cookie scenario's user may sign in,
/// and the per-key rate limit stays far above the load.
fn server_env() -> [(&'static str, String); 2] {
    [
        ("QBR_AUTHORIZED_USERS", BENCH_USER.to_string()),
        (
            "QBR_API_KEY_READS_PER_MINUTE",
            KEY_READS_PER_MINUTE.to_string(),
        ),
    ]
}

// ---------------------------------------------------------------------------------
// Scenarios

/// Which secret a scenario's requests carry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Credential {
    ApiKey,
    Cookie,
}

/// What a scenario does with its URLs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A closed-loop and a paced pass.
    Read,
    /// A normal pass, then one whose requests are aborted mid-flight.
    Cancel,
}

/// One endpoint under load, with the URLs it rotates through.
struct Scenario {
    name: &'static str,
    what: String,
    urls: Arc<Vec<Target>>,
    credential: Credential,
    kind: Kind,
}

/// Every scenario name, in the order they run (`--only` checks against it).
const NAMES: [&str; 14] = [
    "smartnumbers",
    "smartnumbers+cookie",
    "smartnumbers?shape=flat",
    "metrics/quarterly",
    "metrics/monthly",
    "metrics/range",
    "smartnumbers/trend",
    "alerts",
    "periods",
    "thresholds",
    "metric-definitions",
    "metrics/history",
    "collection/status",
    "cancel",
];

fn check_only(only: &[String]) -> anyhow::Result<()> {
    for name in only {
        if !NAMES.contains(&name.as_str()) {
            bail!(
                "--only {name}: unknown scenario; known: {}",
                NAMES.join(", ")
            );
        }
    }
    Ok(())
}

/// The periods the scenarios rotate through.
struct Periods {
    /// The last [`QUARTERS`] quarters, oldest first.
    quarters: Vec<Quarter>,
    /// Every loaded month, oldest first.
    months: Vec<Month>,
}

impl Periods {
    fn new(loaded: &Loaded) -> Periods {
        let mut quarters = Vec::new();
        let mut q = loaded.current.quarter();
        for _ in 0..QUARTERS {
            quarters.push(q);
            q = q.prev();
        }
        quarters.reverse();
        let months = (0..MONTHS).map(|k| loaded.first.add_months(k)).collect();
        Periods { quarters, months }
    }

    fn quarter_span(&self) -> String {
        span(&self.quarters)
    }
}

fn span<T: std::fmt::Display>(items: &[T]) -> String {
    match (items.first(), items.last()) {
        (Some(a), Some(b)) => format!("{} {a}..{b}", items.len()),
        _ => "none".to_string(),
    }
}

/// The scenarios `only` names (all when empty), in [`NAMES`] order.
fn scenarios(base: &str, loaded: &Loaded, only: &[String]) -> Vec<Scenario> {
    let p = Periods::new(loaded);
    let api = format!("{base}/api/qbr");
    let per_quarter = |path: &str, extra: &str| -> Vec<String> {
        p.quarters
            .iter()
            .map(|q| format!("{api}/{path}?period={q}{extra}"))
            .collect()
    };
    let read = |name, what: String, urls: Vec<String>| Scenario {
        name,
        what,
        urls: Arc::new(urls.into_iter().map(Target::plain).collect()),
        credential: Credential::ApiKey,
        kind: Kind::Read,
    };
    let one = |name: &'static str, path: &str| {
        read(
            name,
            format!("GET /api/qbr/{path}"),
            vec![format!("{api}/{path}")],
        )
    };
    let qs = p.quarter_span();
    let smartnumbers = per_quarter("smartnumbers", "");
    let quarterly = per_quarter("metrics/quarterly", "");
    let ranges = range_urls(&api, &p);
    let trends = trend_urls(&api, &p);
    // The cancelled requests: the endpoints that work longest, interleaved.
    let mix = interleave(&[&smartnumbers, &quarterly, &ranges.0, &trends.0]);
    let all = vec![
        read(
            "smartnumbers",
            format!("GET /api/qbr/smartnumbers?period=<quarter> ({qs} quarters)"),
            smartnumbers.clone(),
        ),
        Scenario {
            credential: Credential::Cookie,
            ..read(
                "smartnumbers+cookie",
                format!(
                    "GET /api/qbr/smartnumbers?period=<quarter> ({qs} quarters), signed in \
                     with a session cookie as a browser is"
                ),
                smartnumbers,
            )
        },
        read(
            "smartnumbers?shape=flat",
            format!("GET /api/qbr/smartnumbers?period=<quarter>&shape=flat ({qs} quarters)"),
            per_quarter("smartnumbers", "&shape=flat"),
        ),
        read(
            "metrics/quarterly",
            format!("GET /api/qbr/metrics/quarterly?period=<quarter> ({qs} quarters)"),
            quarterly,
        ),
        read(
            "metrics/monthly",
            format!(
                "GET /api/qbr/metrics/monthly?period=<month> ({} months)",
                span(&p.months)
            ),
            p.months
                .iter()
                .map(|m| format!("{api}/metrics/monthly?period={m}"))
                .collect(),
        ),
        read("metrics/range", ranges.1, ranges.0),
        read("smartnumbers/trend", trends.1, trends.0),
        read(
            "alerts",
            format!("GET /api/qbr/alerts?period=<quarter> ({qs} quarters)"),
            per_quarter("alerts", ""),
        ),
        one("periods", "periods"),
        one("thresholds", "thresholds"),
        one("metric-definitions", "metric-definitions"),
        one("metrics/history", "metrics/history?limit=50"),
        one("collection/status", "collection/status"),
        Scenario {
            kind: Kind::Cancel,
            ..read(
                "cancel",
                format!(
                    "requests aborted {}–{} ms after sending, rotating over smartnumbers, \
                     metrics/quarterly, metrics/range and smartnumbers/trend ({} URLs)",
                    CANCEL_AFTER_MS[0],
                    CANCEL_AFTER_MS[CANCEL_AFTER_MS.len() - 1],
                    mix.len()
                ),
                mix,
            )
        },
    ];
    all.into_iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name))
        .collect()
}

/// Every 24-month window of the loaded months, and its description.
fn range_urls(api: &str, p: &Periods) -> (Vec<String>, String) {
    let starts = &p.months[..=(MONTHS - RANGE_MONTHS) as usize];
    let urls = starts
        .iter()
        .map(|m| {
            let to = m.add_months(RANGE_MONTHS - 1);
            format!("{api}/metrics/range?from={m}&to={to}")
        })
        .collect();
    let what = format!(
        "GET /api/qbr/metrics/range?from=<m>&to=<m+{}> ({RANGE_MONTHS} months, all metrics; \
         {} start months)",
        RANGE_MONTHS - 1,
        span(starts)
    );
    (urls, what)
}

/// Every 8-quarter window of the rotated quarters (all 18 keys), and its description.
fn trend_urls(api: &str, p: &Periods) -> (Vec<String>, String) {
    let windows: Vec<(Quarter, Quarter)> = p
        .quarters
        .windows(TREND_QUARTERS)
        .filter_map(|w| Some((*w.first()?, *w.last()?)))
        .collect();
    let urls = windows
        .iter()
        .map(|(from, to)| format!("{api}/smartnumbers/trend?from={from}&to={to}"))
        .collect();
    let ends: Vec<Quarter> = windows.iter().map(|w| w.1).collect();
    let what = format!(
        "GET /api/qbr/smartnumbers/trend?from=<q-{}>&to=<q> ({TREND_QUARTERS} quarters, all \
         keys; end quarters {})",
        TREND_QUARTERS - 1,
        span(&ends)
    );
    (urls, what)
}

/// a1, b1, c1, a2, b2, … (shorter lists simply run out).
fn interleave(lists: &[&Vec<String>]) -> Vec<String> {
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| lists.iter().filter_map(move |l| l.get(i).cloned()))
        .collect()
}

// ---------------------------------------------------------------------------------
// Running the scenarios

/// What every pass needs.
struct Bench {
    base: String,
    secrets: Secrets,
    /// The load's HTTP clients per credential, built once: building one loads the TLS
    /// roots (tens of ms each), which must not eat into a schedule.
    clients: HashMap<Credential, Vec<reqwest::Client>>,
    watched: Watched,
    /// The benchmark's own connection, for PostgreSQL's statistics.
    monitor: AsyncPgConnection,
    /// One line per request the server finished (`RUST_LOG=info`).
    server_log: PathBuf,
    clients_per_pass: usize,
    measure: Duration,
}

impl Bench {
    fn clients(&mut self, credential: Credential) -> anyhow::Result<Vec<reqwest::Client>> {
        if !self.clients.contains_key(&credential) {
            let (name, value) = match credential {
                Credential::ApiKey => ("authorization", format!("Bearer {}", self.secrets.api_key)),
                Credential::Cookie => ("cookie", format!("qbr_session={}", self.secrets.session)),
            };
            let built = (0..self.clients_per_pass)
                .map(|_| http_client(Some((name, &value))))
                .collect::<anyhow::Result<Vec<_>>>()?;
            self.clients.insert(credential, built);
        }
        Ok(self.clients.get(&credential).cloned().unwrap_or_default())
    }

    async fn sessions(&mut self) -> anyhow::Result<PgSessions> {
        pg_sessions(&mut self.monitor).await
    }
}

/// The figures of one read scenario.
struct ScenarioResult {
    name: &'static str,
    /// Closed loop: clients back to back.
    closed: Tally,
    closed_rps: f64,
    /// Paced at the goal rate.
    paced: Tally,
    paced_rps: f64,
    precheck_errors: u64,
    /// PostgreSQL sessions opened during the scenario (its two passes).
    new_sessions: Option<i64>,
    /// Set for the cancellation scenario only.
    cancel: Option<CancelResult>,
}

impl ScenarioResult {
    fn errors(&self) -> u64 {
        self.closed.all_errors()
            + self.paced.all_errors()
            + self.precheck_errors
            + self.cancel.as_ref().map_or(0, |c| c.after_errors)
    }

    fn paced_meets_latency(&self) -> bool {
        self.errors() == 0
            && ms(self.paced.latency.value_at_quantile(0.99)) < GOAL_P99_MS
            && self.paced_rps >= 0.98 * f64::from(GOAL_RPS)
            && self.paced.unsent == 0
    }

    /// `qbr` CPU µs per request of the closed-loop pass: the goal's load (32
    /// connections sending back to back, as the reference was measured). The paced pass
    /// costs more per request (each request finds idle threads and cold caches) and is
    /// printed beside it.
    fn meets_cpu(&self) -> Option<bool> {
        Some(self.closed.qbr_us_per_request()? <= GOAL_CPU_US)
    }
}

async fn bench_all(
    bench: &mut Bench,
    scenarios: &[Scenario],
) -> anyhow::Result<Vec<ScenarioResult>> {
    println!(
        "load: {} clients, HTTP/1.1 keep-alive (one connection each), {} s warm-up + {} s \
         measured per pass; CPU from /proc at {} ticks/s",
        bench.clients_per_pass,
        WARMUP.as_secs(),
        bench.measure.as_secs(),
        bench.watched.ticks_per_second
    );
    if let Some(first) = scenarios.first() {
        fill_pool(bench, first).await?;
    }
    let mut results = Vec::new();
    for s in scenarios {
        println!();
        println!("== {}: {}", s.name, s.what);
        let r = match s.kind {
            Kind::Read => bench_read(bench, s).await?,
            Kind::Cancel => bench_cancel(bench, s).await?,
        };
        if r.errors() > 0 {
            println!(
                "  !!!!! {} FAILED REQUEST(S) in {} — figures are not valid !!!!!",
                r.errors(),
                s.name
            );
        }
        results.push(r);
    }
    Ok(results)
}

/// One unrecorded second of closed-loop load, so that the server's pool opens its
/// connections before any scenario counts new PostgreSQL sessions.
async fn fill_pool(bench: &mut Bench, s: &Scenario) -> anyhow::Result<()> {
    let clients = bench.clients(s.credential)?;
    let before = bench.sessions().await?;
    let t = run_pass(
        &s.urls,
        Start::Together,
        &clients,
        Duration::from_millis(1),
        None,
        &bench.watched,
    )
    .await?;
    tokio::time::sleep(STATS_SETTLE).await;
    let after = bench.sessions().await?;
    println!(
        "pool warm-up ({} for {} s, errors: {}): {} PostgreSQL sessions opened (the pool \
         filling up, {POOL_SIZE} at most); {} client backends connected",
        s.name,
        WARMUP.as_secs(),
        t.all_errors(),
        after.since(&before).opened,
        after.backends
    );
    Ok(())
}

/// Precheck, closed-loop pass, paced pass; the PostgreSQL sessions opened meanwhile.
async fn bench_read(bench: &mut Bench, s: &Scenario) -> anyhow::Result<ScenarioResult> {
    let clients = bench.clients(s.credential)?;
    let sessions_before = bench.sessions().await.ok();
    let precheck_errors = precheck(&clients[0], s).await?;

    let closed = run_pass(
        &s.urls,
        Start::Together,
        &clients,
        bench.measure,
        None,
        &bench.watched,
    )
    .await?;
    let closed_rps = closed.requests as f64 / bench.measure.as_secs_f64();
    print_closed(&closed, closed_rps, clients.len());

    // Each client sends one request every `period`; the clients are phase-shifted so
    // the sends are spread evenly.
    let period = Duration::from_secs_f64(clients.len() as f64 / f64::from(GOAL_RPS));
    let paced = run_pass(
        &s.urls,
        Start::Together,
        &clients,
        bench.measure,
        Some(period),
        &bench.watched,
    )
    .await?;
    // Responses that arrived within the window: below the offered rate when the
    // server fell behind the schedule.
    let paced_rps = paced.completed_in_window as f64 / bench.measure.as_secs_f64();
    print_paced(&paced, paced_rps, clients.len(), period);

    let new_sessions = match (sessions_before, bench.sessions().await.ok()) {
        (Some(b), Some(a)) => Some(a.sessions - b.sessions),
        _ => None,
    };
    let r = ScenarioResult {
        name: s.name,
        closed,
        closed_rps,
        paced,
        paced_rps,
        precheck_errors,
        new_sessions,
        cancel: None,
    };
    print_verdict(&r);
    Ok(r)
}

fn print_closed(t: &Tally, rps: f64, clients: usize) {
    println!(
        "  closed loop ({clients} clients back to back): {} requests, {rps:.1} req/s, avg \
         response {:.1} KiB",
        thousands(t.requests),
        t.avg_kib()
    );
    println!("    latency ms: {}", percentiles(&t.latency));
    report_cpu(t);
    report_errors(t);
}

fn print_paced(t: &Tally, rps: f64, clients: usize, period: Duration) {
    println!(
        "  paced at {GOAL_RPS} req/s ({clients} clients, one request every {:.2} ms each): {} \
         requests scheduled in the window answered (the last {:.2} s after it opened); \
         {rps:.1} req/s delivered within the window",
        period.as_secs_f64() * 1000.0,
        thousands(t.requests),
        t.span.as_secs_f64(),
    );
    if t.unsent > 0 {
        println!(
            "    !! {} scheduled request(s) never sent: the server fell behind and the pass \
             hit its deadline (recorded with the time they had waited, a lower bound)",
            thousands(t.unsent)
        );
    }
    println!(
        "    latency ms from scheduled send: {}",
        percentiles(&t.latency)
    );
    println!(
        "    service time ms (from actual send): {}",
        percentiles(&t.service)
    );
    report_cpu(t);
    report_errors(t);
}

fn print_verdict(r: &ScenarioResult) {
    let p99 = ms(r.paced.latency.value_at_quantile(0.99));
    println!(
        "  verdict: max {:.1} req/s = {:.2}x the {GOAL_RPS} req/s goal; p99 at {GOAL_RPS} \
         req/s {p99:.2} ms -> {}; qbr CPU {} / {} µs per request (closed / paced) -> {}; \
         new PostgreSQL sessions: {}",
        r.closed_rps,
        r.closed_rps / f64::from(GOAL_RPS),
        if r.paced_meets_latency() {
            "meets p99"
        } else {
            "MISSES p99"
        },
        fmt_opt(r.closed.qbr_us_per_request(), 0),
        fmt_opt(r.paced.qbr_us_per_request(), 0),
        match r.meets_cpu() {
            Some(true) => "meets CPU",
            Some(false) => "MISSES CPU",
            None => "CPU unknown",
        },
        r.new_sessions.map_or("?".to_string(), |n| n.to_string()),
    );
}

/// One request to every URL before the load: any failure is printed at once.
async fn precheck(client: &reqwest::Client, s: &Scenario) -> anyhow::Result<u64> {
    let mut errors = 0;
    let mut bytes = 0;
    for target in s.urls.iter() {
        match fetch(client, target).await {
            Ok(n) => bytes += n,
            Err(e) => {
                errors += 1;
                println!("  !!!!! precheck {}: {e}", target.url);
            }
        }
    }
    println!(
        "  precheck: {} URL(s), {} error(s), {:.1} KiB per response on average",
        s.urls.len(),
        errors,
        bytes as f64 / 1024.0 / s.urls.len().max(1) as f64
    );
    Ok(errors)
}

// ---------------------------------------------------------------------------------
// Cancellation

/// What the cancellation scenario saw.
struct CancelResult {
    /// The normal pass: new sessions while nothing was cancelled.
    normal_new: PgSessionsDelta,
    cancelled: u64,
    completed: u64,
    /// Responses other than 200 (or transport errors) among requests not cancelled.
    failed: u64,
    first_error: Option<String>,
    cancel_new: PgSessionsDelta,
    /// Client backends of the benchmark database once it was over (the pool's size
    /// when the server kept its connections).
    backends_after: i64,
    /// Failures of one request to every URL right after the cancellation pass.
    after_errors: u64,
    /// Requests the server finished (logged) during the cancellation pass.
    server_finished: Option<u64>,
    cancel_cpu: Option<CpuUse>,
}

/// A closed-loop pass of the same URLs, then a pass whose requests are aborted; the
/// PostgreSQL sessions opened during each.
async fn bench_cancel(bench: &mut Bench, s: &Scenario) -> anyhow::Result<ScenarioResult> {
    let clients = bench.clients(s.credential)?;
    let precheck_errors = precheck(&clients[0], s).await?;

    let before = bench.sessions().await?;
    let closed = run_pass(
        &s.urls,
        Start::Together,
        &clients,
        bench.measure,
        None,
        &bench.watched,
    )
    .await?;
    tokio::time::sleep(STATS_SETTLE).await;
    let middle = bench.sessions().await?;
    let closed_rps = closed.requests as f64 / bench.measure.as_secs_f64();
    print_closed(&closed, closed_rps, clients.len());
    let normal_new = middle.since(&before);
    println!(
        "    new PostgreSQL sessions during this normal pass: {}",
        normal_new.describe()
    );

    let lines_before = count_lines(&bench.server_log);
    let mut cancel = cancel_pass(s, &clients, bench.measure, &bench.watched).await?;
    // Also long enough for the server's log writer to catch up.
    tokio::time::sleep(STATS_SETTLE).await;
    let after = bench.sessions().await?;
    cancel.server_finished = count_lines(&bench.server_log)
        .zip(lines_before)
        .map(|(a, b)| a.saturating_sub(b));
    cancel.normal_new = normal_new;
    cancel.cancel_new = after.since(&middle);
    cancel.backends_after = after.backends;
    println!("  after the cancellation pass, one request to every URL:");
    cancel.after_errors = precheck(&clients[0], s).await?;
    print_cancel(&cancel, clients.len(), bench.measure);

    let new_sessions = Some(after.sessions - before.sessions);
    Ok(ScenarioResult {
        name: s.name,
        closed,
        closed_rps,
        paced: Tally::new()?,
        paced_rps: 0.0,
        precheck_errors,
        new_sessions,
        cancel: Some(cancel),
    })
}

/// Clients send requests back to back, each aborted (the future dropped, which closes
/// its connection) if no response came within 1–4 ms.
async fn cancel_pass(
    s: &Scenario,
    clients: &[reqwest::Client],
    measure: Duration,
    watched: &Watched,
) -> anyhow::Result<CancelResult> {
    let start = Instant::now() + Duration::from_millis(20);
    let end = start + measure;
    let mut tasks = Vec::with_capacity(clients.len());
    for (c, client) in clients.iter().cloned().enumerate() {
        let urls = Arc::clone(&s.urls);
        tasks.push(tokio::spawn(cancelling_client(client, urls, c, start, end)));
    }
    let cpu = measure_cpu(watched, start, end).await;
    let mut total = CancelResult {
        normal_new: PgSessionsDelta::default(),
        cancelled: 0,
        completed: 0,
        failed: 0,
        first_error: None,
        cancel_new: PgSessionsDelta::default(),
        backends_after: 0,
        after_errors: 0,
        server_finished: None,
        cancel_cpu: cpu,
    };
    for t in tasks {
        let c = t.await.context("client task")?;
        total.cancelled += c.cancelled;
        total.completed += c.completed;
        total.failed += c.failed;
        if total.first_error.is_none() {
            total.first_error = c.first_error;
        }
    }
    Ok(total)
}

/// Counts of one cancelling client.
#[derive(Default)]
struct CancelCounts {
    cancelled: u64,
    completed: u64,
    failed: u64,
    first_error: Option<String>,
}

async fn cancelling_client(
    client: reqwest::Client,
    urls: Arc<Vec<Target>>,
    offset: usize,
    start: Instant,
    end: Instant,
) -> CancelCounts {
    let mut counts = CancelCounts::default();
    tokio::time::sleep_until(start).await;
    let mut i = offset;
    while Instant::now() < end {
        let url = &urls[i % urls.len()];
        let after = Duration::from_millis(CANCEL_AFTER_MS[i % CANCEL_AFTER_MS.len()]);
        i += 1;
        match tokio::time::timeout(after, fetch(&client, url)).await {
            Err(_) => counts.cancelled += 1,
            Ok(Ok(_)) => counts.completed += 1,
            Ok(Err(e)) => {
                counts.failed += 1;
                counts.first_error.get_or_insert(e);
            }
        }
    }
    counts
}

fn print_cancel(c: &CancelResult, clients: usize, measure: Duration) {
    println!(
        "  cancellation pass ({clients} clients, {} s): {} requests aborted mid-flight, {} \
         answered in time, {} failed{}",
        measure.as_secs(),
        thousands(c.cancelled),
        thousands(c.completed),
        thousands(c.failed),
        c.first_error
            .as_deref()
            .map_or(String::new(), |e| format!(" (first: {e})"))
    );
    if let Some(finished) = c.server_finished {
        // A dropped handler writes no log line: what the server finished beyond the
        // answers received ran to the end after its client had left.
        let answered = c.completed + c.failed;
        println!(
            "    the server finished (logged) {} requests: {} of the aborted ones ran to the \
             end anyway, the other {} were dropped mid-way or never read",
            thousands(finished),
            thousands(finished.saturating_sub(answered)),
            thousands((c.cancelled + answered).saturating_sub(finished.max(answered)))
        );
    }
    if let Some(cpu) = &c.cancel_cpu {
        println!(
            "    CPU in cores: qbr {:.2}, PostgreSQL {:.2}, qbr-bench {:.2}",
            cpu.cores(cpu.qbr),
            cpu.cores(cpu.postgres),
            cpu.cores(cpu.bench)
        );
    }
    println!(
        "    new PostgreSQL sessions during the cancellation pass: {}; client backends \
         afterwards: {} (pool size {POOL_SIZE})",
        c.cancel_new.describe(),
        c.backends_after
    );
    println!(
        "    healthy: about 0 new sessions in both passes (the pool keeps its {POOL_SIZE} \
         connections, all {POOL_SIZE} still connected afterwards). Hundreds of new \
         sessions mean the server threw away the connections that cancelled requests held \
         and opened new ones (a process start and sign-in each for PostgreSQL)."
    );
    if c.failed > 0 {
        println!(
            "    !! {} request(s) that were not cancelled failed: cancellations elsewhere \
             hurt other clients",
            thousands(c.failed)
        );
    }
}

// ---------------------------------------------------------------------------------
// PostgreSQL statistics

/// Cumulative session counts of the benchmark database (`pg_stat_database`), and the
/// client backends connected to it now.
struct PgSessions {
    sessions: i64,
    abandoned: i64,
    killed: i64,
    fatal: i64,
    backends: i64,
}

/// New sessions between two [`PgSessions`], and how the ones that ended ended.
#[derive(Default)]
struct PgSessionsDelta {
    opened: i64,
    abandoned: i64,
    killed: i64,
    fatal: i64,
}

impl PgSessions {
    fn since(&self, before: &PgSessions) -> PgSessionsDelta {
        PgSessionsDelta {
            opened: self.sessions - before.sessions,
            abandoned: self.abandoned - before.abandoned,
            killed: self.killed - before.killed,
            fatal: self.fatal - before.fatal,
        }
    }
}

impl PgSessionsDelta {
    fn describe(&self) -> String {
        format!(
            "{} (of the sessions that ended: {} abandoned by the client without a goodbye, \
             {} killed, {} fatal)",
            self.opened, self.abandoned, self.killed, self.fatal
        )
    }
}

async fn pg_sessions(conn: &mut AsyncPgConnection) -> anyhow::Result<PgSessions> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        sessions: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        abandoned: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        killed: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        fatal: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        backends: i64,
    }
    // Clears this connection's cached statistics snapshot, so the counts are current.
    diesel::sql_query("SELECT pg_stat_clear_snapshot()")
        .execute(conn)
        .await
        .context("clearing the statistics snapshot")?;
    let r: Row = diesel::sql_query(
        "SELECT d.sessions, d.sessions_abandoned AS abandoned, d.sessions_killed AS killed, \
                d.sessions_fatal AS fatal, \
                (SELECT count(*) FROM pg_stat_activity a \
                  WHERE a.datname = d.datname AND a.backend_type = 'client backend' \
                    AND a.pid <> pg_backend_pid()) AS backends \
           FROM pg_stat_database d WHERE d.datname = $1",
    )
    .bind::<diesel::sql_types::Text, _>(DB_NAME)
    .get_result(conn)
    .await
    .context("reading pg_stat_database")?;
    Ok(PgSessions {
        sessions: r.sessions,
        abandoned: r.abandoned,
        killed: r.killed,
        fatal: r.fatal,
        backends: r.backends,
    })
}

// ---------------------------------------------------------------------------------
// Summary

fn print_summary(results: &[ScenarioResult], cores: usize, args: &Args) {
    println!();
    println!(
        "== summary ({} clients, {} s per pass, {cores} core(s); goals: p99 < {GOAL_P99_MS} ms \
         at {GOAL_RPS} req/s, qbr CPU <= {GOAL_CPU_US} µs per request)",
        args.clients, args.seconds
    );
    println!(
        "{:<24} {:>9} {:>7} {:>7} {:>5} {:>10} {:>10} {:>7} {:>9} {:>9} {:>7} {:>6}",
        "endpoint",
        "max req/s",
        "1k p50",
        "1k p99",
        "p99ok",
        "qbr µs cl",
        "qbr µs 1k",
        "≤200µs",
        "pg µs cl",
        "pg µs 1k",
        "new PG",
        "errors",
    );
    for r in results.iter().filter(|r| r.cancel.is_none()) {
        print_row(r);
    }
    println!(
        "(max req/s: closed loop; 1k = paced at {GOAL_RPS} req/s, latency in ms from the \
         scheduled send time; qbr/pg µs = CPU µs per response of the `qbr` process / of \
         PostgreSQL, cl = closed loop, 1k = paced; ≤200µs: the closed loop (the goal's load) \
         within the goal; \
         new PG = PostgreSQL sessions opened during the scenario, healthy: 0)"
    );
    for r in results {
        if let Some(c) = &r.cancel {
            println!(
                "cancel: {} requests aborted mid-flight -> {} new PostgreSQL sessions, {} \
                 client backends left, {} other requests failed; a normal pass of the same \
                 requests ({} responses) -> {} new sessions; healthy: about 0 new sessions, \
                 {POOL_SIZE} backends, 0 failed",
                thousands(c.cancelled),
                c.cancel_new.opened,
                c.backends_after,
                thousands(c.failed),
                thousands(r.closed.completed_in_window),
                c.normal_new.opened
            );
        }
    }
    let errors: u64 = results.iter().map(ScenarioResult::errors).sum();
    if errors > 0 {
        println!("!!!!! {errors} FAILED REQUEST(S): exit code 1 !!!!!");
    }
}

fn print_row(r: &ScenarioResult) {
    let p = &r.paced.latency;
    println!(
        "{:<24} {:>9.1} {:>7.2} {:>7.2} {:>5} {:>10} {:>10} {:>7} {:>9} {:>9} {:>7} {:>6}",
        r.name,
        r.closed_rps,
        ms(p.value_at_quantile(0.50)),
        ms(p.value_at_quantile(0.99)),
        if r.paced_meets_latency() { "yes" } else { "NO" },
        fmt_opt(r.closed.qbr_us_per_request(), 0),
        fmt_opt(r.paced.qbr_us_per_request(), 0),
        match r.meets_cpu() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "?",
        },
        fmt_opt(r.closed.postgres_us_per_request(), 0),
        fmt_opt(r.paced.postgres_us_per_request(), 0),
        r.new_sessions.map_or("?".to_string(), |n| n.to_string()),
        r.errors(),
    );
}
