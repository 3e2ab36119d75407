//! What the server counts and times for Prometheus (`GET /metrics`, `api::prometheus`):
//! requests per route, collection runs, vendor calls, backups and the database pool.
//!
//! The `metrics` facade records into one process-wide recorder, installed once by
//! [`install`] (`qbr serve`, or the first service built in a test process); before that,
//! and in the CLI's one-shot commands, recording does nothing. Labels take bounded
//! values only: the route's pattern (`/api/qbr/users/{user_id}`), never the raw path;
//! the method, the status, a vendor's key, a run's trigger and status.
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use qbr_shared::collection::{RunStatus, Trigger};
use qbr_shared::Vendor;
use std::sync::OnceLock;
use std::time::Duration;

pub const HTTP_REQUESTS: &str = "qbr_http_requests_total";
pub const HTTP_DURATION: &str = "qbr_http_request_duration_seconds";
pub const RUNS: &str = "qbr_collection_runs_total";
pub const RUN_DURATION: &str = "qbr_collection_run_duration_seconds";
pub const VENDOR_REQUESTS: &str = "qbr_vendor_requests_total";
pub const VENDOR_ERRORS: &str = "qbr_vendor_request_errors_total";
pub const VENDOR_DURATION: &str = "qbr_vendor_request_duration_seconds";
pub const BACKUPS: &str = "qbr_backups_total";
pub const BACKUP_LAST_SUCCESS: &str = "qbr_backup_last_success_timestamp_seconds";
pub const BACKUP_SIZE: &str = "qbr_backup_size_bytes";
pub const POOL_MAX: &str = "qbr_db_pool_max_connections";
pub const POOL_CONNECTIONS: &str = "qbr_db_pool_connections";
pub const POOL_WAITING: &str = "qbr_db_pool_waiting_requests";
pub const BUILD_INFO: &str = "qbr_build_info";

/// Upper bounds of the request-latency buckets, in seconds: a cached read takes a
/// millisecond or less, a report a second or more.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Collection runs: seconds (a QuickBooks delivery) to an hour (a long backfill).
const RUN_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// One vendor call, retries not included.
const VENDOR_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// How often histogram samples are folded into their buckets between scrapes, so a
/// server nobody scrapes keeps no growing list of samples.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle). `None`
/// when another recorder was installed first: then there is nothing to render.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = builder().and_then(|b| b.install_recorder().map_err(|e| e.to_string()));
            match handle {
                Ok(handle) => {
                    describe();
                    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: no recorder");
                    None
                }
            }
        })
        .as_ref()
}

fn builder() -> Result<PrometheusBuilder, String> {
    let buckets = |b: PrometheusBuilder, name: &str, values: &[f64]| {
        b.set_buckets_for_metric(Matcher::Full(name.to_string()), values)
            .map_err(|e| e.to_string())
    };
    let b = buckets(PrometheusBuilder::new(), HTTP_DURATION, &HTTP_BUCKETS)?;
    let b = buckets(b, RUN_DURATION, &RUN_BUCKETS)?;
    buckets(b, VENDOR_DURATION, &VENDOR_BUCKETS)
}

/// The `# HELP` lines.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern"
    );
    describe_counter!(
        RUNS,
        "Collection runs ended, by trigger and status (success, failed, refused)"
    );
    describe_histogram!(
        RUN_DURATION,
        metrics::Unit::Seconds,
        "Duration of collection runs that got the run lock, by trigger and status"
    );
    describe_counter!(
        VENDOR_REQUESTS,
        "Requests sent to vendors (each retry counts), by vendor"
    );
    describe_counter!(
        VENDOR_ERRORS,
        "Vendor requests that failed, by vendor and reason (connect, timeout, http_4xx, http_429, http_5xx, other)"
    );
    describe_histogram!(
        VENDOR_DURATION,
        metrics::Unit::Seconds,
        "Time of one vendor request, by vendor"
    );
    describe_counter!(BACKUPS, "Nightly backups, by outcome (success, failed)");
    describe_gauge!(
        BACKUP_LAST_SUCCESS,
        "When the newest nightly backup in QBR_BACKUP_DIR was written (Unix time)"
    );
    describe_gauge!(BACKUP_SIZE, "Size of the newest nightly backup in bytes");
    describe_gauge!(
        POOL_MAX,
        "Largest number of database connections the pool opens"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Open database connections of the pool, by state (idle, in_use)"
    );
    describe_gauge!(POOL_WAITING, "Requests waiting for a database connection");
    describe_gauge!(BUILD_INFO, "The running qbr's version (always 1)");
}

/// The scrape: every metric in Prometheus' text format (0.0.4). `None` without a recorder.
pub fn render() -> Option<String> {
    install().map(PrometheusHandle::render)
}

/// Folds histogram samples into their buckets every few seconds (`qbr serve`).
pub fn spawn_upkeep() -> Option<tokio::task::JoinHandle<()>> {
    let handle = install()?.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    }))
}

/// One answered request. `route` is the pattern the request matched.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let (method, route) = (method.to_string(), route.to_string());
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(elapsed.as_secs_f64());
}

/// A collection run that ended (`duration`: `None` for a run refused before it began).
pub fn collection_run(trigger: Trigger, status: RunStatus, duration: Option<Duration>) {
    let labels = [("trigger", trigger.as_str()), ("status", status.as_str())];
    counter!(RUNS, &labels).increment(1);
    if let Some(d) = duration {
        histogram!(RUN_DURATION, &labels).record(d.as_secs_f64());
    }
}

/// Why a vendor request failed, as [`VENDOR_ERRORS`] counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VendorFailure {
    Connect,
    Timeout,
    /// 4xx other than 429.
    Client,
    TooManyRequests,
    Server,
    Other,
}

impl VendorFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            VendorFailure::Connect => "connect",
            VendorFailure::Timeout => "timeout",
            VendorFailure::Client => "http_4xx",
            VendorFailure::TooManyRequests => "http_429",
            VendorFailure::Server => "http_5xx",
            VendorFailure::Other => "other",
        }
    }
}

/// One request to a vendor (a try: retries count again) and how it failed, if it did.
pub fn vendor_request(vendor: Vendor, elapsed: Duration, failure: Option<VendorFailure>) {
    counter!(VENDOR_REQUESTS, "vendor" => vendor.key()).increment(1);
    histogram!(VENDOR_DURATION, "vendor" => vendor.key()).record(elapsed.as_secs_f64());
    if let Some(f) = failure {
        counter!(VENDOR_ERRORS, "vendor" => vendor.key(), "reason" => f.as_str()).increment(1);
    }
}

/// A nightly backup that failed.
pub fn backup_failed() {
    counter!(BACKUPS, "outcome" => "failed").increment(1);
}

/// A nightly backup that was written (`counted`: by this process, not found at start).
pub fn backup_written(at: chrono::DateTime<chrono::Utc>, bytes: u64, counted: bool) {
    if counted {
        counter!(BACKUPS, "outcome" => "success").increment(1);
    }
    gauge!(BACKUP_LAST_SUCCESS).set(at.timestamp() as f64);
    gauge!(BACKUP_SIZE).set(bytes as f64);
}

/// The database pool's state, read at each scrape.
pub fn db_pool(max_size: usize, open: usize, idle: usize, waiting: usize) {
    gauge!(POOL_MAX).set(max_size as f64);
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set(open.saturating_sub(idle) as f64);
    gauge!(POOL_WAITING).set(waiting as f64);
}
