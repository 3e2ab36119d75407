//! `qbr-bench`: a benchmark of the read API against the goal "p99 under 5 ms at
//! 1,000 req/s". Not a test: it prints figures.
//!
//! It starts a throwaway PostgreSQL cluster, loads five years (60 months) of realistic
//! data for organization 1 through the store layer (as `qbr serve --demo` does, in one
//! transaction), serves the real service on a free loopback port in this process, and
//! drives it over real HTTP/1.1 keep-alive connections:
//!
//! - a closed-loop pass per scenario: `--clients` clients send requests back to back,
//!   which gives the maximum throughput (and the latency at saturation);
//! - a paced pass per scenario: the same clients send 1,000 req/s in total on a fixed
//!   schedule; latency counts from the scheduled send time, so a stall that delays
//!   later sends is charged to them (no coordinated omission).
//!
//! Every pass has a 1 s warm-up that is not recorded. Any response other than 200 is an
//! error: errors are counted, printed, and make the exit code 1.
//!
//! Run: `cargo build --release -p backend --bin qbr-bench && target/release/qbr-bench
//! [--seconds 10] [--clients 32]`.
use anyhow::{anyhow, bail, Context};
use backend::db;
use backend::demo::demo_values;
use backend::pg_cluster::PgCluster;
use backend::server;
use backend::state::AppState;
use backend::store::metrics::{self, ValueWrite};
use backend::store::{lock_organization_writes, org, recompute};
use chrono::Utc;
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use hdrhistogram::Histogram;
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::metric_def;
use qbr_shared::Month;
use std::collections::{BTreeSet, HashSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The goal: p99 under this many milliseconds …
const GOAL_P99_MS: f64 = 5.0;
/// … at this offered rate.
const GOAL_RPS: u32 = 1_000;
/// Months of data loaded, the current one included.
const MONTHS: i32 = 60;
/// Quarters the SmartNumbers scenario rotates through (the most recent ones).
const QUARTERS: usize = 20;
/// Months per range request.
const RANGE_MONTHS: i32 = 24;
const ORG_ID: i32 = 1;
const POOL_SIZE: usize = 16;
const WARMUP: Duration = Duration::from_secs(1);
const DB_NAME: &str = "qbr_bench";
/// Latencies are recorded in microseconds, up to an hour.
const MAX_US: u64 = 3_600_000_000;

#[derive(Parser, Debug)]
#[command(
    name = "qbr-bench",
    about = "Benchmarks the QBR read API (throwaway PostgreSQL, 5 years of data, real HTTP)"
)]
struct Args {
    /// Measured seconds per pass (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
}

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if args.seconds == 0 || args.clients == 0 {
        bail!("--seconds and --clients must be at least 1");
    }
    // WARN only: request logs would cost more than some requests.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(std::io::stderr)
        .init();

    println!("qbr-bench: QBR Dashboard read API against the goal \"p99 under {GOAL_P99_MS} ms at {GOAL_RPS} req/s\"");
    if cfg!(debug_assertions) {
        println!("WARNING: debug build; figures are meaningless, build with --release");
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
    let outcome = runtime.block_on(run(&args, &cluster));
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
async fn run(args: &Args, cluster: &PgCluster) -> anyhow::Result<bool> {
    let t = Instant::now();
    db::ensure_database(&cluster.database_url("postgres"), DB_NAME).await?;
    let url = cluster.database_url(DB_NAME);
    let applied = db::run_migrations(&url).await?;
    println!(
        "database: {} migration(s) applied in {:.2} s",
        applied.len(),
        t.elapsed().as_secs_f64()
    );

    let mut conn = AsyncPgConnection::establish(&url)
        .await
        .context("connecting to the benchmark database")?;
    let loaded = load_data(&mut conn).await?;
    let facts = db_facts(&mut conn).await?;
    drop(conn);
    println!(
        "data: organization {ORG_ID}, {} months {}..{}: {} input values ({} metrics) written \
         and derived values + SmartNumbers recomputed in one transaction in {:.2} s \
         (writes {:.2} s, recompute {:.2} s)",
        MONTHS,
        loaded.first,
        loaded.current,
        thousands(loaded.values as u64),
        loaded.metrics,
        loaded.writes.as_secs_f64() + loaded.recompute.as_secs_f64(),
        loaded.writes.as_secs_f64(),
        loaded.recompute.as_secs_f64()
    );
    println!(
        "      stored: {} monthly rows (inputs + calculated), {} SmartNumber rows; {}",
        thousands(facts.monthly_rows),
        thousands(facts.smartnumber_rows),
        facts.version
    );

    let pool = db::pool(&url, POOL_SIZE)?;
    // Requests are signed in like the SPA's: a session cookie, checked on every request.
    let token = backend::auth::session::random_token();
    {
        let mut conn = pool.get().await?;
        backend::store::sessions::create(
            &mut conn,
            backend::store::sessions::NewSession {
                id_hash: &backend::auth::session::hash(&token),
                email: BENCH_USER,
                name: Some("Benchmark"),
                expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(2),
                ip: None,
                user_agent: None,
            },
        )
        .await?;
    }
    let _ = SESSION_COOKIE.set(format!("qbr_session={token}"));
    let auth_config = backend::auth::AuthConfig::default();
    auth_config.allow_list.replace([BENCH_USER]);
    let service = server::service(
        AppState {
            pool,
            org_id: ORG_ID,
            auth: backend::auth::Auth::new(auth_config),
            caches: Default::default(),
        },
        std::path::Path::new("/nonexistent"),
    );
    let (base, handle, serving) = spawn_server(service).await?;
    println!("server: {base} (salvo, in this process; database pool {POOL_SIZE}; logs at WARN)");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cores} core(s) (available_parallelism), CPU {}, load average {}; the \
         server, the load generator ({} clients, tokio multi-thread runtime, {cores} workers) \
         and PostgreSQL share them",
        cpu_model(),
        load_average(),
        args.clients
    );

    let scenarios = scenarios(&base, &loaded);
    let postmaster = postmaster_pid(cluster);
    let outcome = bench_all(args, &scenarios, postmaster).await;
    handle.stop_graceful(Duration::from_secs(5));
    match tokio::time::timeout(Duration::from_secs(10), serving).await {
        Ok(joined) => joined.context("server task")?,
        Err(_) => println!("WARNING: the server did not stop within 10 s"),
    }
    println!("server stopped");
    let results = outcome?;
    print_summary(&results, cores, args);
    Ok(results.iter().all(|r| r.errors() == 0))
}

/// What the load wrote.
struct Loaded {
    current: Month,
    first: Month,
    values: usize,
    metrics: usize,
    writes: Duration,
    recompute: Duration,
}

/// Five years of demo values for organization 1, through the store layer in one
/// transaction: `demo_values` covers 24 months, so it is called for `current`, a year
/// earlier, … and the values are deduplicated by (month, metric), the most recent
/// call's first (which also fills most of the demo's deliberate gaps from another year).
async fn load_data(conn: &mut AsyncPgConnection) -> anyhow::Result<Loaded> {
    let org = org::load(conn, ORG_ID)
        .await?
        .with_context(|| format!("organization {ORG_ID} does not exist after migrations"))?;
    let now = Utc::now();
    let current = org.current_month(now);
    let first = current.add_months(-(MONTHS - 1));
    let mut seen = HashSet::new();
    let mut values = Vec::new();
    for back in (0..MONTHS).step_by(12) {
        for v in demo_values(current.add_months(-back)) {
            if v.month >= first && v.month <= current && seen.insert((v.month, v.metric)) {
                values.push(v);
            }
        }
    }
    values.sort_by_key(|v| v.month);
    let metrics: BTreeSet<&str> = values.iter().map(|v| v.metric).collect();
    let months: BTreeSet<Month> = values.iter().map(|v| v.month).collect();
    if months.len() != MONTHS as usize {
        bail!("the demo data covers {} months, not {MONTHS}", months.len());
    }
    let (writes, recompute) = conn
        .transaction::<_, anyhow::Error, _>(async |conn| {
            let t = Instant::now();
            lock_organization_writes(conn, org.id).await?;
            for v in &values {
                let vendor = metric_def(v.metric).map_or(1, |d| d.source.vendor_id());
                let w = ValueWrite {
                    metric: v.metric,
                    value: v.value,
                    vendor_id: if v.collected { vendor } else { 1 },
                    source: if v.collected {
                        DataSource::Collected
                    } else {
                        DataSource::Manual
                    },
                    flags: Vec::new(),
                    notes: None,
                    actor: "qbr-bench",
                    collected_at: v.collected.then_some(now),
                };
                metrics::write_value(conn, org.id, v.month, &w).await?;
            }
            let writes = t.elapsed();
            let t = Instant::now();
            recompute::after_inputs_changed(conn, &org, &months, now).await?;
            Ok((writes, t.elapsed()))
        })
        .await?;
    Ok(Loaded {
        current,
        first,
        values: values.len(),
        metrics: metrics.len(),
        writes,
        recompute,
    })
}

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

/// Serves `service` on a free loopback port; returns its base URL, a handle to stop it
/// and its task.
async fn spawn_server(
    service: salvo::Service,
) -> anyhow::Result<(
    String,
    salvo::server::ServerHandle,
    tokio::task::JoinHandle<()>,
)> {
    use salvo::conn::{Acceptor, Listener};
    let acceptor = salvo::conn::TcpListener::new("127.0.0.1:0")
        .try_bind()
        .await
        .map_err(|e| anyhow!("binding 127.0.0.1:0: {e}"))?;
    let port = acceptor
        .holdings()
        .first()
        .and_then(|h| h.local_addr.clone().into_std())
        .map(|a| a.port())
        .context("the listener has no TCP address")?;
    let server = salvo::Server::new(acceptor);
    let handle = server.handle();
    let serving = tokio::spawn(async move { server.serve(service).await });
    Ok((format!("http://127.0.0.1:{port}"), handle, serving))
}

/// One endpoint under load, with the URLs it rotates through.
struct Scenario {
    name: &'static str,
    what: String,
    urls: Arc<Vec<String>>,
}

fn scenarios(base: &str, loaded: &Loaded) -> Vec<Scenario> {
    let mut quarters = Vec::new();
    let mut q = loaded.current.quarter();
    for _ in 0..QUARTERS {
        quarters.push(q);
        q = q.prev();
    }
    quarters.reverse();
    let smartnumbers: Vec<String> = quarters
        .iter()
        .map(|q| format!("{base}/api/qbr/smartnumbers?period={q}"))
        .collect();
    let starts: Vec<Month> = (0..=MONTHS - RANGE_MONTHS)
        .map(|k| loaded.first.add_months(k))
        .collect();
    let ranges: Vec<String> = starts
        .iter()
        .map(|m| {
            let to = m.add_months(RANGE_MONTHS - 1);
            format!("{base}/api/qbr/metrics/range?from={m}&to={to}")
        })
        .collect();
    let quarter_span = match (quarters.first(), quarters.last()) {
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => String::new(),
    };
    let start_span = match (starts.first(), starts.last()) {
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => String::new(),
    };
    vec![
        Scenario {
            name: "smartnumbers",
            what: format!(
                "GET /api/qbr/smartnumbers?period=<quarter> ({} quarters {quarter_span})",
                quarters.len()
            ),
            urls: Arc::new(smartnumbers),
        },
        Scenario {
            name: "metrics/range",
            what: format!(
                "GET /api/qbr/metrics/range?from=<m>&to=<m+{}> ({RANGE_MONTHS} months, all \
                 metrics; {} start months {start_span})",
                RANGE_MONTHS - 1,
                starts.len()
            ),
            urls: Arc::new(ranges),
        },
    ]
}

/// The figures of one scenario.
struct ScenarioResult {
    name: &'static str,
    /// Closed loop: clients back to back.
    closed: Tally,
    closed_rps: f64,
    /// Paced at the goal rate.
    paced: Tally,
    paced_rps: f64,
    precheck_errors: u64,
}

impl ScenarioResult {
    fn errors(&self) -> u64 {
        self.closed.all_errors() + self.paced.all_errors() + self.precheck_errors
    }

    fn paced_pass(&self) -> bool {
        self.errors() == 0
            && ms(self.paced.latency.value_at_quantile(0.99)) < GOAL_P99_MS
            && self.paced_rps >= 0.98 * f64::from(GOAL_RPS)
            && self.paced.unsent == 0
    }
}

async fn bench_all(
    args: &Args,
    scenarios: &[Scenario],
    postmaster: Option<u32>,
) -> anyhow::Result<Vec<ScenarioResult>> {
    let measure = Duration::from_secs(args.seconds);
    println!(
        "load: {} clients, HTTP/1.1 keep-alive (one connection each), {} s warm-up + {} s \
         measured per pass",
        args.clients,
        WARMUP.as_secs(),
        args.seconds
    );
    let mut results = Vec::new();
    for s in scenarios {
        println!();
        println!("== {}: {}", s.name, s.what);
        let precheck_errors = precheck(s).await?;

        let closed = run_pass(s, args.clients, measure, None, postmaster).await?;
        let closed_rps = closed.requests as f64 / measure.as_secs_f64();
        println!(
            "  closed loop ({} clients back to back): {} requests, {:.1} req/s, avg response \
             {:.1} KiB",
            args.clients,
            thousands(closed.requests),
            closed_rps,
            closed.avg_kib()
        );
        println!("    latency ms: {}", percentiles(&closed.latency));
        report_cpu(&closed);
        report_errors(&closed);

        // Each client sends one request every `period`; the clients are phase-shifted so
        // the sends are spread evenly.
        let period = Duration::from_secs_f64(args.clients as f64 / f64::from(GOAL_RPS));
        let paced = run_pass(s, args.clients, measure, Some(period), postmaster).await?;
        // Responses that arrived within the window: below the offered rate when the
        // server fell behind the schedule.
        let paced_rps = paced.completed_in_window as f64 / measure.as_secs_f64();
        println!(
            "  paced at {GOAL_RPS} req/s ({} clients, one request every {:.2} ms each): {} \
             requests scheduled in the window answered (the last {:.2} s after it opened); \
             {:.1} req/s delivered within the window",
            args.clients,
            period.as_secs_f64() * 1000.0,
            thousands(paced.requests),
            paced.span.as_secs_f64(),
            paced_rps
        );
        if paced.unsent > 0 {
            println!(
                "    !! {} scheduled request(s) never sent: the server fell behind and the pass \
                 hit its deadline (recorded with the time they had waited, a lower bound)",
                thousands(paced.unsent)
            );
        }
        println!(
            "    latency ms from scheduled send: {}",
            percentiles(&paced.latency)
        );
        println!(
            "    service time ms (from actual send): {}",
            percentiles(&paced.service)
        );
        report_cpu(&paced);
        report_errors(&paced);

        let r = ScenarioResult {
            name: s.name,
            closed,
            closed_rps,
            paced,
            paced_rps,
            precheck_errors,
        };
        let p99 = ms(r.paced.latency.value_at_quantile(0.99));
        println!(
            "  verdict: max throughput {:.1} req/s = {:.2}x the {GOAL_RPS} req/s goal; p99 at \
             {GOAL_RPS} req/s = {p99:.2} ms {} {GOAL_P99_MS} ms -> {}",
            r.closed_rps,
            r.closed_rps / f64::from(GOAL_RPS),
            if p99 < GOAL_P99_MS { "<" } else { ">=" },
            if r.paced_pass() {
                "MEETS the goal"
            } else {
                "MISSES the goal"
            }
        );
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

/// One request to every URL before the load: any failure is printed at once.
async fn precheck(s: &Scenario) -> anyhow::Result<u64> {
    let client = http_client()?;
    let mut errors = 0;
    let mut bytes = 0;
    for url in s.urls.iter() {
        match fetch(&client, url).await {
            Ok(n) => bytes += n,
            Err(e) => {
                errors += 1;
                println!("  !!!!! precheck {url}: {e}");
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

/// The signed-in user of the load.
const BENCH_USER: &str = "bench@example.com";
/// The session cookie every request sends.
static SESSION_COOKIE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn http_client() -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(cookie) = SESSION_COOKIE.get() {
        headers.insert(
            reqwest::header::COOKIE,
            cookie.parse().context("session cookie")?,
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .no_proxy()
        .pool_max_idle_per_host(1)
        .build()
        .context("building the HTTP client")
}

/// One GET; the body is read in full. Anything but 200 is an error.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<usize, String> {
    let res = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
    let status = res.status();
    let body = res
        .bytes()
        .await
        .map_err(|e| format!("reading the body: {:#}", anyhow::Error::from(e)))?;
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    Ok(body.len())
}

/// What clients saw during a pass.
struct Tally {
    /// Closed loop: from send to full body. Paced: from the scheduled send time.
    latency: Histogram<u64>,
    /// From the actual send (paced passes; equals `latency` in closed loop).
    service: Histogram<u64>,
    /// Requests of the measured window (sent, or scheduled, within it), errors excluded.
    requests: u64,
    bytes: u64,
    /// Failed requests of the measured window.
    errors: u64,
    /// Failed requests of the warm-up.
    warmup_errors: u64,
    first_error: Option<String>,
    /// Paced: scheduled requests of the measured window never sent because the pass hit
    /// its deadline (the server could not keep up); recorded with the time they had
    /// waited, a lower bound.
    unsent: u64,
    /// When the last measured request completed.
    last_done: Option<Instant>,
    /// Successful responses that arrived within the measured window, whenever they were
    /// scheduled (the throughput actually delivered).
    completed_in_window: u64,
    /// CPU used during the measured window.
    cpu: Option<CpuUse>,
    /// From the start of the measured window to the last measured completion (at
    /// least the window).
    span: Duration,
}

impl Tally {
    fn new() -> anyhow::Result<Tally> {
        let h = || {
            Histogram::<u64>::new_with_bounds(1, MAX_US, 3).map_err(|e| anyhow!("histogram: {e:?}"))
        };
        Ok(Tally {
            latency: h()?,
            service: h()?,
            requests: 0,
            bytes: 0,
            errors: 0,
            warmup_errors: 0,
            first_error: None,
            unsent: 0,
            last_done: None,
            completed_in_window: 0,
            cpu: None,
            span: Duration::ZERO,
        })
    }

    fn merge(&mut self, other: Tally) -> anyhow::Result<()> {
        self.latency
            .add(&other.latency)
            .map_err(|e| anyhow!("merging histograms: {e:?}"))?;
        self.service
            .add(&other.service)
            .map_err(|e| anyhow!("merging histograms: {e:?}"))?;
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.errors += other.errors;
        self.warmup_errors += other.warmup_errors;
        self.unsent += other.unsent;
        self.last_done = self.last_done.max(other.last_done);
        self.completed_in_window += other.completed_in_window;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }

    fn all_errors(&self) -> u64 {
        self.errors + self.warmup_errors
    }

    fn avg_kib(&self) -> f64 {
        self.bytes as f64 / 1024.0 / self.requests.max(1) as f64
    }

    fn failed(&mut self, measured: bool, error: String) {
        if measured {
            self.errors += 1;
        } else {
            self.warmup_errors += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(error);
        }
    }
}

/// Runs `clients` clients for the warm-up then `measure`: back to back when `period`
/// is `None`, else each on a fixed schedule of one request every `period`.
async fn run_pass(
    s: &Scenario,
    clients: usize,
    measure: Duration,
    period: Option<Duration>,
    postmaster: Option<u32>,
) -> anyhow::Result<Tally> {
    // Clients first: building one loads the TLS roots (tens of ms each), which must not
    // eat into the schedule (it once delayed the first paced sends by a second).
    let clients_http: Vec<reqwest::Client> = (0..clients)
        .map(|_| http_client())
        .collect::<anyhow::Result<_>>()?;
    // A short lead so every client is spawned before the schedule starts.
    let start = Instant::now() + Duration::from_millis(20);
    let record_from = start + WARMUP;
    let end = record_from + measure;
    // A paced pass whose server falls behind would otherwise run until every scheduled
    // request is sent; it gets at most `measure` again to catch up.
    let hard_stop = end + measure;
    let mut tasks = Vec::with_capacity(clients);
    for (c, client) in clients_http.into_iter().enumerate() {
        let urls = Arc::clone(&s.urls);
        let window = Window {
            start,
            record_from,
            end,
            hard_stop,
        };
        tasks.push(tokio::spawn(async move {
            match period {
                None => closed_client(client, urls, c, window).await,
                Some(p) => {
                    let phase = p.mul_f64(c as f64 / clients as f64);
                    paced_client(client, urls, c, window, p, phase).await
                }
            }
        }));
    }
    tokio::time::sleep_until(record_from).await;
    let before = CpuSnapshot::take(postmaster);
    tokio::time::sleep_until(end).await;
    let after = CpuSnapshot::take(postmaster);
    let mut total = Tally::new()?;
    for t in tasks {
        total.merge(t.await.context("client task")??)?;
    }
    total.cpu = CpuSnapshot::usage(before, after);
    total.span = total
        .last_done
        .map_or(measure, |d| d.saturating_duration_since(record_from))
        .max(measure);
    Ok(total)
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    record_from: Instant,
    end: Instant,
    hard_stop: Instant,
}

async fn closed_client(
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    offset: usize,
    w: Window,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let mut i = offset;
    tokio::time::sleep_until(w.start).await;
    loop {
        let sent = Instant::now();
        if sent >= w.end {
            break;
        }
        let url = &urls[i % urls.len()];
        i += 1;
        let result = fetch(&client, url).await;
        let done = Instant::now();
        let took = done - sent;
        let measured = sent >= w.record_from;
        if result.is_ok() && done >= w.record_from && done < w.end {
            tally.completed_in_window += 1;
        }
        match result {
            Ok(n) if measured => {
                tally.latency.saturating_record(micros(took));
                tally.service.saturating_record(micros(took));
                tally.requests += 1;
                tally.bytes += n as u64;
                tally.last_done = Some(done);
            }
            Ok(_) => {}
            Err(e) => tally.failed(measured, e),
        }
    }
    Ok(tally)
}

async fn paced_client(
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    offset: usize,
    w: Window,
    period: Duration,
    phase: Duration,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let mut i = offset;
    let mut k: u32 = 0;
    loop {
        let scheduled = w.start + phase + period * k;
        k += 1;
        if scheduled >= w.end {
            break;
        }
        // Behind schedule (a slow response): send at once; the wait counts as latency.
        tokio::time::sleep_until(scheduled).await;
        let sent = Instant::now();
        if sent >= w.hard_stop {
            // Out of time: this and the rest of the schedule are never sent.
            let mut late = scheduled;
            while late < w.end {
                if late >= w.record_from {
                    tally.unsent += 1;
                    tally.latency.saturating_record(micros(sent - late));
                }
                late = w.start + phase + period * k;
                k += 1;
            }
            break;
        }
        let url = &urls[i % urls.len()];
        i += 1;
        let result = fetch(&client, url).await;
        let done = Instant::now();
        let measured = scheduled >= w.record_from;
        if result.is_ok() && done >= w.record_from && done < w.end {
            tally.completed_in_window += 1;
        }
        match result {
            Ok(n) if measured => {
                tally.latency.saturating_record(micros(done - scheduled));
                tally.service.saturating_record(micros(done - sent));
                tally.requests += 1;
                tally.bytes += n as u64;
                tally.last_done = Some(done);
            }
            Ok(_) => {}
            Err(e) => tally.failed(measured, e),
        }
    }
    Ok(tally)
}

fn report_errors(t: &Tally) {
    if t.all_errors() == 0 {
        println!("    errors: 0");
    } else {
        println!(
            "    !!!!! ERRORS: {} measured + {} warm-up; first: {}",
            t.errors,
            t.warmup_errors,
            t.first_error.as_deref().unwrap_or("?")
        );
    }
}

fn print_summary(results: &[ScenarioResult], cores: usize, args: &Args) {
    println!();
    println!(
        "== summary ({} clients, {} s per pass, {cores} core(s); goal: p99 < {GOAL_P99_MS} ms \
         at {GOAL_RPS} req/s)",
        args.clients, args.seconds
    );
    println!(
        "{:<14} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}  goal",
        "scenario",
        "max req/s",
        "x goal",
        "sat p50",
        "sat p90",
        "sat p99",
        "sat max",
        "1k p50",
        "1k p99",
        "1k max",
        "errors",
    );
    for r in results {
        let c = &r.closed.latency;
        let p = &r.paced.latency;
        println!(
            "{:<14} {:>9.1} {:>6.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6}  {}",
            r.name,
            r.closed_rps,
            r.closed_rps / f64::from(GOAL_RPS),
            ms(c.value_at_quantile(0.50)),
            ms(c.value_at_quantile(0.90)),
            ms(c.value_at_quantile(0.99)),
            ms(c.max()),
            ms(p.value_at_quantile(0.50)),
            ms(p.value_at_quantile(0.99)),
            ms(p.max()),
            r.errors(),
            if r.paced_pass() { "MEETS" } else { "MISSES" }
        );
    }
    println!(
        "(latencies in ms; sat = closed loop at saturation; 1k = paced at {GOAL_RPS} req/s, \
         from the scheduled send time)"
    );
    println!("CPU during the measured windows, in cores (of {cores}):");
    println!(
        "{:<14} {:<7} {:>9} {:>10} {:>7} {:>6}",
        "scenario", "pass", "qbr-bench", "PostgreSQL", "other", "idle"
    );
    for r in results {
        for (pass, t) in [("closed", &r.closed), ("paced", &r.paced)] {
            if let Some(c) = &t.cpu {
                println!(
                    "{:<14} {:<7} {:>9.2} {:>10.2} {:>7.2} {:>6.2}",
                    r.name, pass, c.bench, c.postgres, c.other, c.idle
                );
            }
        }
    }
    println!(
        "(qbr-bench = this process: the server and the load generator; other = the rest of \
         the machine)"
    );
    let errors: u64 = results.iter().map(ScenarioResult::errors).sum();
    if errors > 0 {
        println!("!!!!! {errors} FAILED REQUEST(S): exit code 1 !!!!!");
    }
}

fn percentiles(h: &Histogram<u64>) -> String {
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn report_cpu(t: &Tally) {
    if let Some(c) = &t.cpu {
        println!(
            "    CPU in cores: qbr-bench (server + load generator) {:.2}, PostgreSQL {:.2}, \
             other processes {:.2}, idle {:.2}",
            c.bench, c.postgres, c.other, c.idle
        );
    }
}

/// CPU time, in cores (CPU seconds per second of wall time), over a measured window.
struct CpuUse {
    bench: f64,
    postgres: f64,
    other: f64,
    idle: f64,
}

/// Cumulative CPU ticks (USER_HZ, 100 per second on Linux) at one instant.
struct CpuSnapshot {
    at: Instant,
    bench: u64,
    postgres: u64,
    /// Whole machine, from /proc/stat: busy and idle (+ iowait).
    busy: u64,
    idle: u64,
}

const TICKS_PER_SECOND: f64 = 100.0;

impl CpuSnapshot {
    fn take(postmaster: Option<u32>) -> Option<CpuSnapshot> {
        let at = Instant::now();
        let bench = proc_ticks("/proc/self/stat")?.1;
        let postgres = postmaster.map_or(0, postgres_ticks);
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is in user already).
        let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
        let busy = fields.iter().take(8).sum::<u64>() - idle;
        Some(CpuSnapshot {
            at,
            bench,
            postgres,
            busy,
            idle,
        })
    }

    fn usage(before: Option<CpuSnapshot>, after: Option<CpuSnapshot>) -> Option<CpuUse> {
        let (b, a) = (before?, after?);
        let wall = (a.at - b.at).as_secs_f64();
        if wall <= 0.0 {
            return None;
        }
        let cores = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / wall;
        let bench = cores(a.bench.saturating_sub(b.bench));
        let postgres = cores(a.postgres.saturating_sub(b.postgres));
        let busy = cores(a.busy.saturating_sub(b.busy));
        Some(CpuUse {
            bench,
            postgres,
            other: (busy - bench - postgres).max(0.0),
            idle: cores(a.idle.saturating_sub(b.idle)),
        })
    }
}

/// (parent pid, user + system ticks) of a /proc/<pid>/stat file.
fn proc_ticks(path: &str) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// CPU ticks of the postmaster and its children (backends, background processes).
fn postgres_ticks(postmaster: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let (ppid, ticks) = proc_ticks(&format!("/proc/{pid}/stat"))?;
            (pid == postmaster || ppid == postmaster).then_some(ticks)
        })
        .sum()
}

/// The postmaster's pid, from the first line of `postmaster.pid`.
fn postmaster_pid(cluster: &PgCluster) -> Option<u32> {
    std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}
