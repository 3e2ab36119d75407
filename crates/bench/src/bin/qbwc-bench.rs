//! `qbwc-bench`: what a 13-month QuickBooks Desktop sync through the Web Connector
//! costs the server. Not a test: it prints figures and asserts no speed.
//!
//! It starts a throwaway PostgreSQL cluster, creates and migrates a database, hashes the
//! Web Connector's password as `qbr quickbooks hash-password` does, then starts
//! `qbr serve` (the `qbr` next to this program, or `--qbr PATH`) with
//! `QBWC_USERNAME`/`QBWC_PASSWORD_HASH` set and its log as JSON lines. The fake Web
//! Connector of `test-support` then runs `--syncs` complete sessions against
//! `/api/qbwc`, QuickBooks answering from the test company's books
//! (`Ledger::sample`, the 13 months up to organization 1's current month):
//! `serverVersion`, `clientVersion`, `authenticate`, then `sendRequestXML` /
//! `receiveResponseXML` for each request the server plans (preferences, the profit
//! and loss by month), `closeConnection`. The first sync is cold: it creates the
//! accounts and writes 13 months of values. The others are warm: the same books, so
//! the values do not change; they run back to back (`--pause-ms` apart), after an 11 s
//! wait that lets PostgreSQL's statistics separate the cold sync's WAL flushes.
//!
//! Per sync it measures the wall time of the whole session, its SOAP calls, and the
//! CPU time of the `qbr` process and of PostgreSQL (from `/proc`, as `qbr-bench`). From
//! the server's log it takes each call's handler time (which call dominates), from
//! `qbr_collection_log` each run's `duration_ms` and `values_written`, and from
//! PostgreSQL's statistics the WAL flushes (commits wait for the disk). Apart from the
//! sessions it times what QuickBooks' side takes (the fake ledger answering the same
//! requests, replayed in-process: the fake Web Connector does not time it), and the
//! argon2id verification every `authenticate` runs.
//!
//! Exit code 1 when a sync did not reach 100 %.
//!
//! Run (the two binaries side by side, in the same target dir):
//! `cargo build --release -p backend -p bench --bins && target/release/qbwc-bench
//! [--syncs 20] [--pause-ms 100] [--qbr PATH] [--server-log PATH]`.
use anyhow::{bail, ensure, Context};
use backend::collect::quickbooks::{hash_password, password_matches};
use bench::cpu::{self, CpuSnapshot, CpuUse, Watched};
use bench::{describe_binary, prepare_database, qbr_binary, thousands, QbrServer};
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use pg_cluster::PgCluster;
use qbr_shared::Month;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use test_support::quickbooks::{
    soap_envelope, FakeWebConnector, Ledger, WcCall, WcFaults, WcMethod, WcSession,
};

const DB_NAME: &str = "qbwc_bench";
/// The organization the Web Connector's user feeds (the server's default).
const ORG_ID: i32 = 1;
const QBWC_USER: &str = "qbwc-bench";
const QBWC_PASSWORD: &str = "correct horse battery staple";
/// Far above the syncs here: `authenticate` counts against the per-IP sign-in limit
/// (30 a minute by default), which would refuse a long run.
const SIGN_INS_PER_MINUTE: &str = "100000";
/// argon2id verifications timed in-process.
const ARGON2_RUNS: usize = 5;
/// How often each qbXML request is replayed against the fake ledger (median kept).
const LEDGER_REPLAYS: usize = 20;
/// Time for PostgreSQL's statistics to include the server's backends, which report
/// their last figures when they exit.
const STATS_SETTLE: Duration = Duration::from_millis(1500);
/// A backend that reported less than a second ago holds its statistics until it has
/// been idle for 10 s: the wait after the cold sync, so its figures are its own. (The
/// first warm sync then also finds the pool's connections idle, as the Web Connector's
/// next run would.)
const STATS_IDLE_FLUSH: Duration = Duration::from_secs(11);

#[derive(Parser, Debug)]
#[command(
    name = "qbwc-bench",
    about = "Benchmarks a 13-month QuickBooks Desktop sync through the Web Connector: the \
             real `qbr serve`, a throwaway PostgreSQL, the fake Web Connector; wall time, \
             SOAP calls and CPU of qbr and PostgreSQL per sync"
)]
struct Args {
    /// Complete Web Connector sessions; the first is cold, the others warm.
    #[arg(long, default_value_t = 20)]
    syncs: usize,
    /// An unmeasured pause after each warm sync, in ms: the default keeps one sync's
    /// tail (the log writer's flush, PostgreSQL's WAL writer) out of the next; 11000
    /// or more lets each sync find the server idle, as the Web Connector's runs (every
    /// few minutes at most) do.
    #[arg(long, default_value_t = 100)]
    pause_ms: u64,
    /// The `qbr` binary to serve with (default: `qbr` next to this program).
    #[arg(long)]
    qbr: Option<PathBuf>,
    /// Keep the server's log in this file (default: a temporary file, removed).
    #[arg(long)]
    server_log: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if args.syncs == 0 {
        bail!("--syncs must be at least 1");
    }
    let qbr = qbr_binary(args.qbr.as_deref())?;
    println!(
        "qbwc-bench: the server's side of a 13-month QuickBooks Desktop sync through the \
         Web Connector ({} syncs)",
        args.syncs
    );
    if cfg!(debug_assertions) {
        println!("WARNING: debug build of qbwc-bench; build with --release");
    }
    let dir = tempfile::Builder::new()
        .prefix("qbwc-bench")
        .tempdir()
        .context("creating a temporary directory")?;
    let started = Instant::now();
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

/// Everything after the cluster is up. Returns false when a sync did not complete.
async fn run(args: &Args, qbr: &Path, cluster: &PgCluster, dir: &Path) -> anyhow::Result<bool> {
    let url = prepare_database(cluster, DB_NAME).await?;
    let mut conn = AsyncPgConnection::establish(&url)
        .await
        .context("connecting to the benchmark database")?;
    let current = current_month(&mut conn).await?;
    let ledger = Ledger::sample(current);
    print_ledger(&ledger);
    // Before the server starts, so that nothing competes with it for the cores.
    let argon2 = Argon2Cost::measure()?;

    let log = args
        .server_log
        .clone()
        .unwrap_or_else(|| dir.join("qbr.log"));
    let server = start_server(qbr, &url, &log, &argon2.hash).await?;
    let watched = Watched::new(server.pid, cluster);
    let plan = SyncPlan {
        endpoint: format!("{}/api/qbwc", server.base),
        ledger: &ledger,
        count: args.syncs,
        pause: Duration::from_millis(args.pause_ms),
    };
    let outcome = run_syncs(&plan, &watched, &mut conn).await;
    server.stop().await;
    let Syncs {
        runs: syncs,
        pg_start,
        pg_after_cold,
    } = outcome?;
    tokio::time::sleep(STATS_SETTLE).await;
    let pg_end = PgCounters::read(&mut conn).await?;
    let pg = PgPhases {
        cold: pg_after_cold.since(&pg_start),
        warm: pg_end.since(&pg_after_cold),
    };

    let runs = collection_runs(&mut conn).await?;
    let server_calls = ServerCalls::from_log(&log, &syncs);
    let last = syncs.last().context("no sync ran")?;
    let quickbooks = time_quickbooks(&ledger, &last.session);
    print_summary(&Summary {
        syncs: &syncs,
        server_calls: server_calls.as_ref(),
        runs: &runs,
        pg: &pg,
        quickbooks: &quickbooks,
        argon2: &argon2,
        ticks_per_second: watched.ticks_per_second,
    });
    Ok(syncs.iter().all(SyncRun::complete))
}

/// `qbr serve` with the Web Connector set up; prints where it runs and on what.
async fn start_server(
    qbr: &Path,
    url: &str,
    log: &Path,
    password_hash: &str,
) -> anyhow::Result<QbrServer> {
    let server = QbrServer::start(qbr, url, log, &server_env(password_hash)).await?;
    println!(
        "server: {} (`qbr serve`, pid {}, {}; Web Connector user {QBWC_USER}; JSON log to {})",
        server.base,
        server.pid,
        describe_binary(qbr),
        server.log.display()
    );
    println!(
        "machine: {} core(s), CPU {}, load average {}; qbr, PostgreSQL and the fake Web \
         Connector share them",
        cpu::cores(),
        cpu::cpu_model(),
        cpu::load_average()
    );
    Ok(server)
}

/// Organization 1's current month (in its time zone): the last month of the report.
async fn current_month(conn: &mut AsyncPgConnection) -> anyhow::Result<Month> {
    let org = backend::store::org::load(conn, ORG_ID)
        .await?
        .with_context(|| format!("organization {ORG_ID} does not exist after migrations"))?;
    Ok(org.current_month(chrono::Utc::now()))
}

fn print_ledger(ledger: &Ledger) {
    let span = ledger
        .span()
        .map_or_else(|| "no postings".to_string(), |(a, b)| format!("{a}..{b}"));
    println!(
        "books: {} ({} accounts, postings {span}), as QuickBooks Desktop answers them",
        ledger.company_name,
        ledger.accounts.len()
    );
}

/// What `qbr serve` needs beyond the defaults: the Web Connector's sign-in, a sign-in
/// limit the syncs stay under, and log lines a program can read.
fn server_env(password_hash: &str) -> [(&'static str, String); 4] {
    [
        ("QBWC_USERNAME", QBWC_USER.to_string()),
        ("QBWC_PASSWORD_HASH", password_hash.to_string()),
        ("QBR_SIGN_IN_PER_MINUTE", SIGN_INS_PER_MINUTE.to_string()),
        ("QBR_LOG_FORMAT", "json".to_string()),
    ]
}

// ---------------------------------------------------------------------------------
// The password

/// The password's hash, and how long verifying it takes.
struct Argon2Cost {
    hash: String,
    hashing: Duration,
    /// Sorted.
    verifications: Vec<Duration>,
}

impl Argon2Cost {
    /// Hashes the password as `qbr quickbooks hash-password` does, then verifies it
    /// [`ARGON2_RUNS`] times with the function `authenticate` calls.
    fn measure() -> anyhow::Result<Argon2Cost> {
        let t = Instant::now();
        let hash = hash_password(QBWC_PASSWORD)?;
        let hashing = t.elapsed();
        let mut verifications = Vec::with_capacity(ARGON2_RUNS);
        for _ in 0..ARGON2_RUNS {
            let t = Instant::now();
            let matched = password_matches(QBWC_PASSWORD, &hash);
            verifications.push(t.elapsed());
            ensure!(matched, "the password does not match its own hash");
        }
        verifications.sort();
        Ok(Argon2Cost {
            hash,
            hashing,
            verifications,
        })
    }
}

// ---------------------------------------------------------------------------------
// The syncs

/// One Web Connector session and what it cost.
struct SyncRun {
    session: WcSession,
    /// The whole session, from `serverVersion` to `closeConnection`'s answer.
    wall: Duration,
    cpu: Option<CpuUse>,
}

impl SyncRun {
    /// Signed in and told 100 %: everything was stored.
    fn complete(&self) -> bool {
        self.session.auth_status() == Some("") && self.session.percents().last() == Some(&100)
    }

    fn ms(&self) -> f64 {
        self.wall.as_secs_f64() * 1000.0
    }
}

/// The sessions, and PostgreSQL's counters before, between the cold sync and the
/// warm ones, and after.
struct Syncs {
    runs: Vec<SyncRun>,
    pg_start: PgCounters,
    pg_after_cold: PgCounters,
}

/// What the fake Web Connector does.
struct SyncPlan<'a> {
    /// `<base>/api/qbwc`.
    endpoint: String,
    /// The books QuickBooks answers from.
    ledger: &'a Ledger,
    /// Sessions, the cold one included.
    count: usize,
    /// After each warm session.
    pause: Duration,
}

/// The plan's sessions, one after the other (as the Web Connector runs them).
async fn run_syncs(
    plan: &SyncPlan<'_>,
    watched: &Watched,
    conn: &mut AsyncPgConnection,
) -> anyhow::Result<Syncs> {
    // Built once: building its HTTP client loads the TLS roots (tens of ms), which is
    // not the server's time.
    let wc = FakeWebConnector::new();
    let sync = async || one_sync(&wc, plan, watched).await;
    let pg_start = PgCounters::read(conn).await?;
    let cold = sync().await;
    print_sync(0, &cold);
    if !cold.complete() {
        bail!("the first sync failed: {:#?}", cold.session.calls);
    }
    println!(
        "(waiting {} s: PostgreSQL's backends report their statistics after 10 s idle)",
        STATS_IDLE_FLUSH.as_secs()
    );
    tokio::time::sleep(STATS_IDLE_FLUSH).await;
    let pg_after_cold = PgCounters::read(conn).await?;
    let mut runs = Vec::with_capacity(plan.count);
    runs.push(cold);
    for i in 1..plan.count {
        let warm = sync().await;
        print_sync(i, &warm);
        runs.push(warm);
        tokio::time::sleep(plan.pause).await;
    }
    Ok(Syncs {
        runs,
        pg_start,
        pg_after_cold,
    })
}

/// One session, timed, with the CPU it took.
async fn one_sync(wc: &FakeWebConnector, plan: &SyncPlan<'_>, watched: &Watched) -> SyncRun {
    // /proc is read outside the timed span: scanning it is the benchmark's work.
    let before = CpuSnapshot::take(watched);
    let t = Instant::now();
    let session = wc
        .run(
            &plan.endpoint,
            QBWC_USER,
            QBWC_PASSWORD,
            plan.ledger,
            WcFaults::default(),
        )
        .await;
    let wall = t.elapsed();
    let cpu = CpuSnapshot::usage(before, CpuSnapshot::take(watched), watched.ticks_per_second);
    SyncRun { session, wall, cpu }
}

fn print_sync(i: usize, s: &SyncRun) {
    let kind = if i == 0 { "cold" } else { "warm" };
    let cpu = s.cpu.as_ref().map_or_else(
        || "CPU unknown".to_string(),
        |c| {
            format!(
                "CPU ms qbr {:.0}, PostgreSQL {:.0}, qbwc-bench {:.0}",
                c.qbr * 1000.0,
                c.postgres * 1000.0,
                c.bench * 1000.0
            )
        },
    );
    let outcome = if s.complete() {
        "100 %".to_string()
    } else {
        format!(
            "!! NOT COMPLETE (percents {:?}, last error {:?})",
            s.session.percents(),
            s.session.last_error()
        )
    };
    println!(
        "sync {:>3} ({kind}): {:>7.1} ms, {} SOAP calls, {outcome}; {cpu}",
        i + 1,
        s.ms(),
        s.session.calls.len()
    );
}

// ---------------------------------------------------------------------------------
// The server's view

/// The server's handler time of each call (its log's `micros`), per sync.
struct ServerCalls {
    /// Per sync: (label, µs) of each call, in order.
    per_sync: Vec<Vec<(String, u64)>>,
}

impl ServerCalls {
    /// Pairs the `/api/qbwc` request lines of the log with the calls of the sessions:
    /// the calls were made one at a time, so the log has them in the same order. `None`
    /// when the counts differ (then nothing can be attributed).
    fn from_log(log: &Path, syncs: &[SyncRun]) -> Option<ServerCalls> {
        let micros = qbwc_request_micros(log);
        let calls: usize = syncs.iter().map(|s| s.session.calls.len()).sum();
        if micros.len() != calls {
            println!(
                "NOTE: the server log has {} /api/qbwc requests for {calls} calls: no per-call \
                 server times",
                micros.len()
            );
            return None;
        }
        let mut rest = micros.as_slice();
        let per_sync = syncs
            .iter()
            .map(|s| {
                let (mine, others) = rest.split_at(s.session.calls.len());
                rest = others;
                s.session
                    .calls
                    .iter()
                    .map(call_label)
                    .zip(mine.iter().copied())
                    .collect()
            })
            .collect();
        Some(ServerCalls { per_sync })
    }

    /// The server's time of sync `i`, all its calls, in ms.
    fn total_ms(&self, i: usize) -> f64 {
        self.per_sync.get(i).map_or(0.0, |calls| {
            calls.iter().map(|(_, us)| *us as f64 / 1000.0).sum()
        })
    }
}

/// `micros` of every `/api/qbwc` request line of the server's JSON log, in order.
fn qbwc_request_micros(log: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| {
            let fields = line.get("fields")?;
            let is_call = fields.get("message")?.as_str()? == "request"
                && fields.get("path")?.as_str()? == "/api/qbwc";
            if is_call {
                fields.get("micros")?.as_u64()
            } else {
                None
            }
        })
        .collect()
}

/// The method, and for the request loop what the request was about.
fn call_label(call: &WcCall) -> String {
    let about = match call.method {
        WcMethod::SendRequestXml => call.text().map(qbxml_kind),
        WcMethod::ReceiveResponseXml => call.arg("response").map(qbxml_kind),
        _ => None,
    };
    match about {
        Some(kind) => format!("{} ({kind})", call.method.as_str()),
        None => call.method.as_str().to_string(),
    }
}

/// What a qbXML request or answer is about.
fn qbxml_kind(xml: &str) -> &'static str {
    if xml.contains("GeneralSummaryReportQuery") {
        "P&L"
    } else if xml.contains("PreferencesQuery") {
        "preferences"
    } else if xml.contains("EmployeeQuery") {
        "employees"
    } else if xml.trim().is_empty() {
        "none"
    } else {
        "other"
    }
}

/// One row of `qbr_collection_log`.
#[derive(diesel::QueryableByName)]
struct CollectionRun {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    duration_ms: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    values_written: i32,
}

/// The runs the Web Connector's sessions stored, oldest first.
async fn collection_runs(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<CollectionRun>> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "SELECT status, duration_ms, values_written FROM qbr_collection_log \
          WHERE trigger = 'web_connector' ORDER BY id",
    )
    .load(conn)
    .await
    .context("reading qbr_collection_log")
}

/// PostgreSQL's cumulative counts: what the syncs made it do and wait for.
struct PgCounters {
    /// WAL flushes to disk (`pg_stat_wal.wal_sync`): with `synchronous_commit=on`, a
    /// commit that wrote anything waits for one.
    wal_syncs: i64,
    /// Transactions committed in the benchmark database, read-only ones included.
    commits: i64,
    /// `fsync` and `synchronous_commit`, which decide whether commits wait for the disk.
    durability: String,
}

impl PgCounters {
    async fn read(conn: &mut AsyncPgConnection) -> anyhow::Result<PgCounters> {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            wal_syncs: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            commits: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            durability: String,
        }
        // Clears this connection's cached statistics snapshot, so the counts are current.
        diesel::sql_query("SELECT pg_stat_clear_snapshot()")
            .execute(conn)
            .await
            .context("clearing the statistics snapshot")?;
        let r: Row = diesel::sql_query(
            "SELECT (SELECT wal_sync FROM pg_stat_wal) AS wal_syncs, \
                    (SELECT xact_commit FROM pg_stat_database WHERE datname = $1) AS commits, \
                    'fsync ' || current_setting('fsync') || ', synchronous_commit ' \
                      || current_setting('synchronous_commit') AS durability",
        )
        .bind::<diesel::sql_types::Text, _>(DB_NAME)
        .get_result(conn)
        .await
        .context("reading pg_stat_wal and pg_stat_database")?;
        Ok(PgCounters {
            wal_syncs: r.wal_syncs,
            commits: r.commits,
            durability: r.durability,
        })
    }

    fn since(&self, before: &PgCounters) -> PgCounters {
        PgCounters {
            wal_syncs: self.wal_syncs - before.wal_syncs,
            commits: self.commits - before.commits,
            durability: self.durability.clone(),
        }
    }
}

/// PostgreSQL's counts during the cold sync, and during all the warm ones.
struct PgPhases {
    cold: PgCounters,
    warm: PgCounters,
}

// ---------------------------------------------------------------------------------
// QuickBooks' side

/// How long the fake QuickBooks takes to answer one request of a session.
struct QuickBooksTime {
    kind: &'static str,
    median: Duration,
    answer_bytes: usize,
}

/// Replays each qbXML request of `session` against the ledger (`Ledger::answer`),
/// in-process: the fake Web Connector has the ledger answer inside its session without
/// timing it.
fn time_quickbooks(ledger: &Ledger, session: &WcSession) -> Vec<QuickBooksTime> {
    session
        .requests
        .iter()
        .map(|request| {
            let mut times: Vec<Duration> = (0..LEDGER_REPLAYS)
                .map(|_| {
                    let t = Instant::now();
                    let answer = ledger.answer(request);
                    let elapsed = t.elapsed();
                    std::hint::black_box(answer);
                    elapsed
                })
                .collect();
            times.sort();
            QuickBooksTime {
                kind: qbxml_kind(request),
                median: times[times.len() / 2],
                answer_bytes: ledger.answer(request).len(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Summary

/// Everything the summary prints.
struct Summary<'a> {
    syncs: &'a [SyncRun],
    server_calls: Option<&'a ServerCalls>,
    runs: &'a [CollectionRun],
    pg: &'a PgPhases,
    quickbooks: &'a [QuickBooksTime],
    argon2: &'a Argon2Cost,
    ticks_per_second: f64,
}

/// p50, p95 and max of some values (nearest rank).
struct Spread {
    p50: f64,
    p95: f64,
    max: f64,
}

impl Spread {
    fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Spread {
            p50: rank(0.50),
            p95: rank(0.95),
            max: v[v.len() - 1],
        })
    }

    fn describe(&self, decimals: usize) -> String {
        format!(
            "p50 {:.d$}, p95 {:.d$}, max {:.d$}",
            self.p50,
            self.p95,
            self.max,
            d = decimals
        )
    }
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn print_summary(s: &Summary) {
    let warm = &s.syncs[1..];
    println!();
    println!(
        "== summary: {} sync(s) of 13 months through /api/qbwc (1 cold, {} warm), {} core(s)",
        s.syncs.len(),
        warm.len(),
        cpu::cores()
    );
    print_wall(s, warm);
    print_cpu(s, warm);
    if let Some(calls) = s.server_calls {
        print_calls(calls);
    }
    print_runs(s.runs, s.syncs.len());
    print_pg(s.pg, s.syncs.len());
    print_quickbooks(s);
    print_argon2(s.argon2);
    let failed = s.syncs.iter().filter(|x| !x.complete()).count();
    if failed > 0 {
        println!("!!!!! {failed} SYNC(S) DID NOT REACH 100 %: exit code 1 !!!!!");
    }
}

fn print_wall(s: &Summary, warm: &[SyncRun]) {
    let cold = &s.syncs[0];
    let spread = |v: Option<Spread>| v.map_or_else(|| "no warm syncs".into(), |v| v.describe(1));
    println!(
        "wall ms per sync (the whole session): cold {:.1}; warm {}",
        cold.ms(),
        spread(Spread::of(warm.iter().map(SyncRun::ms)))
    );
    if let Some(calls) = s.server_calls {
        println!(
            "server ms per sync (its handler time of the calls, from its log): cold {:.1}; \
             warm {}",
            calls.total_ms(0),
            spread(Spread::of((1..s.syncs.len()).map(|i| calls.total_ms(i))))
        );
        let rest = (1..s.syncs.len()).map(|i| s.syncs[i].ms() - calls.total_ms(i));
        println!(
            "  the rest of the wall time (fake Web Connector, QuickBooks, loopback HTTP): \
             cold {:.1}; warm {}",
            cold.ms() - calls.total_ms(0),
            spread(Spread::of(rest))
        );
    }
    let methods: Vec<&str> = cold.session.methods().iter().map(|m| m.as_str()).collect();
    println!(
        "SOAP calls per sync: {} ({}); a session sends {} bytes of SOAP",
        cold.session.calls.len(),
        methods.join(", "),
        thousands(soap_bytes_sent(&cold.session) as u64)
    );
}

fn print_cpu(s: &Summary, warm: &[SyncRun]) {
    let ms = |f: fn(&CpuUse) -> f64, syncs: &[SyncRun]| {
        mean(
            syncs
                .iter()
                .filter_map(|x| x.cpu.as_ref())
                .map(|c| f(c) * 1000.0),
        )
        .map_or("?".to_string(), |v| format!("{v:.1}"))
    };
    let line = |syncs: &[SyncRun]| {
        format!(
            "qbr {}, PostgreSQL {}, qbwc-bench (fake Web Connector and QuickBooks) {}",
            ms(|c| c.qbr, syncs),
            ms(|c| c.postgres, syncs),
            ms(|c| c.bench, syncs)
        )
    };
    println!("CPU ms per sync: cold {}", line(&s.syncs[..1]));
    if !warm.is_empty() {
        println!("                 warm (mean) {}", line(warm));
    }
    println!(
        "  (/proc counts in ticks of {:.0} ms: one sync's figure is rounded to that, the \
         warm mean less so)",
        1000.0 / s.ticks_per_second
    );
}

/// Where the server's time goes, call by call: the cold sync, and the warm mean.
fn print_calls(calls: &ServerCalls) {
    let Some(cold) = calls.per_sync.first() else {
        return;
    };
    let warm = &calls.per_sync[1..];
    let cold_total: u64 = cold.iter().map(|(_, us)| us).sum();
    let warm_total = mean(
        warm.iter()
            .map(|c| c.iter().map(|(_, us)| *us as f64).sum()),
    );
    println!("server ms by call (handler time from the log):");
    println!(
        "  {:<36} {:>9} {:>6} {:>11} {:>6}",
        "call", "cold", "share", "warm mean", "share"
    );
    for (k, (label, us)) in cold.iter().enumerate() {
        // Every session makes the same calls in the same order: the k-th call of each.
        let warm_mean = mean(
            warm.iter()
                .filter_map(|c| c.get(k))
                .map(|(_, us)| *us as f64),
        );
        let (w, w_share) = match (warm_mean, warm_total) {
            (Some(m), Some(t)) if t > 0.0 => (
                format!("{:.2}", m / 1000.0),
                format!("{:.0} %", 100.0 * m / t),
            ),
            _ => ("-".to_string(), "-".to_string()),
        };
        println!(
            "  {:<36} {:>9.2} {:>6} {:>11} {:>6}",
            label,
            *us as f64 / 1000.0,
            format!("{:.0} %", 100.0 * *us as f64 / cold_total.max(1) as f64),
            w,
            w_share
        );
    }
}

fn print_runs(runs: &[CollectionRun], syncs: usize) {
    if runs.len() != syncs {
        println!(
            "NOTE: qbr_collection_log has {} web_connector runs for {syncs} syncs",
            runs.len()
        );
    }
    let Some(cold) = runs.first() else {
        println!("collection runs: none stored");
        return;
    };
    let describe = |r: &CollectionRun| {
        format!(
            "{} ms, {} values written ({})",
            r.duration_ms.map_or("?".to_string(), |d| d.to_string()),
            r.values_written,
            r.status
        )
    };
    println!(
        "collection run (qbr_collection_log, trigger web_connector): cold {}",
        describe(cold)
    );
    let warm = &runs[1..];
    if let Some(d) = Spread::of(warm.iter().filter_map(|r| r.duration_ms).map(|d| d as f64)) {
        let values = Spread::of(warm.iter().map(|r| f64::from(r.values_written)));
        let statuses: std::collections::BTreeSet<&str> =
            warm.iter().map(|r| r.status.as_str()).collect();
        println!(
            "  warm: duration_ms {}; values written {}; status {}",
            d.describe(0),
            values.map_or("?".to_string(), |v| v.describe(0)),
            statuses.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
}

fn print_pg(pg: &PgPhases, syncs: usize) {
    let warm = syncs.saturating_sub(1);
    let mean = |n: i64| {
        if warm == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", n as f64 / warm as f64)
        }
    };
    println!(
        "PostgreSQL ({}), per sync: WAL flushes cold {}, warm mean {}; transactions (read-only \
         ones included) cold {}, warm mean {}",
        pg.cold.durability,
        pg.cold.wal_syncs,
        mean(pg.warm.wal_syncs),
        pg.cold.commits,
        mean(pg.warm.commits)
    );
}

fn print_quickbooks(s: &Summary) {
    let total: Duration = s.quickbooks.iter().map(|q| q.median).sum();
    let parts: Vec<String> = s
        .quickbooks
        .iter()
        .map(|q| {
            format!(
                "{} {:.0} µs ({} bytes)",
                q.kind,
                q.median.as_secs_f64() * 1e6,
                thousands(q.answer_bytes as u64)
            )
        })
        .collect();
    println!(
        "QuickBooks' side (the fake ledger answering each request, replayed in-process, \
         median of {LEDGER_REPLAYS}; the fake Web Connector does not time it in a session): \
         {}; {:.2} ms per sync",
        parts.join(", "),
        total.as_secs_f64() * 1000.0
    );
    if let Some((qbxml, soap)) = pnl_sizes(&s.syncs[0].session) {
        println!(
            "P&L answer: {} bytes of qbXML, {} bytes as the receiveResponseXML SOAP call \
             (escaped)",
            thousands(qbxml as u64),
            thousands(soap as u64)
        );
    }
}

fn print_argon2(a: &Argon2Cost) {
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let (min, median, max) = (
        a.verifications.first(),
        a.verifications.get(a.verifications.len() / 2),
        a.verifications.last(),
    );
    if let (Some(min), Some(median), Some(max)) = (min, median, max) {
        println!(
            "argon2id (password_matches in-process, {} runs): {:.1} ms median (min {:.1}, max \
             {:.1}); hashing {:.1} ms. Every session's authenticate verifies once (on a \
             blocking thread).",
            a.verifications.len(),
            ms(median),
            ms(min),
            ms(max),
            ms(&a.hashing)
        );
    }
}

/// Bytes of every call the session sent, as SOAP envelopes.
fn soap_bytes_sent(session: &WcSession) -> usize {
    session.calls.iter().map(|c| envelope(c).len()).sum()
}

/// The profit and loss QuickBooks answered, in bytes: as qbXML, and as the SOAP call
/// that carried it to the server.
fn pnl_sizes(session: &WcSession) -> Option<(usize, usize)> {
    let call = session.calls_of(WcMethod::ReceiveResponseXml).find(|c| {
        c.arg("response")
            .is_some_and(|r| r.contains("GeneralSummaryReportQueryRs"))
    })?;
    Some((call.arg("response")?.len(), envelope(call).len()))
}

/// The SOAP envelope the fake Web Connector sent for `call`.
fn envelope(call: &WcCall) -> String {
    let args: Vec<(&str, &str)> = call
        .args
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    soap_envelope(call.method.as_str(), &args)
}
