//! The one HTTP client of the collectors: a timeout on every call, retries with
//! exponential backoff and jitter (backon) on connection errors, timeouts, 5xx and 429
//! (honouring `Retry-After`), never on other 4xx; every request sent is counted, for the
//! run's log and, with its time and any failure, for the server's metrics (`observe`).
use crate::observe::{self, VendorFailure};
use backon::{ExponentialBuilder, Retryable};
use qbr_shared::Vendor;
use reqwest::{RequestBuilder, Response, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Tries in all (the first one included), 3–5 in production.
    pub tries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is cut down to it.
    pub max_retry_after: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            tries: 4,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// A failed vendor call (after its retries, if it was retryable).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct VendorError {
    pub what: String,
    pub message: String,
    pub retryable: bool,
    pub retry_after: Option<Duration>,
}

/// The shared client and the run's request counter.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
    requests: Arc<AtomicU64>,
    /// Whose requests these are, for the metrics ([`Http::for_vendor`]).
    vendor: Option<Vendor>,
}

impl Http {
    pub fn new(settings: HttpSettings) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("qbr-dashboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Http {
            client,
            settings,
            requests: Arc::new(AtomicU64::new(0)),
            vendor: None,
        })
    }

    /// The same client and request counter, sending `vendor`'s requests (so the
    /// metrics count them under its name).
    pub fn for_vendor(&self, vendor: Vendor) -> Http {
        Http {
            vendor: Some(vendor),
            ..self.clone()
        }
    }

    /// Requests sent so far (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request built by `build` (called once per try) and returns a
    /// successful response, retrying what may succeed later.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, VendorError> {
        self.send_passing(what, &[], build).await
    }

    /// [`Http::send`], except that an answer with one of the `passed` statuses is
    /// returned as it is, for the caller to handle (a 401 that a fresh token cures, an
    /// OAuth error's body).
    pub async fn send_passing(
        &self,
        what: &str,
        passed: &[StatusCode],
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, VendorError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.min_delay)
            .with_max_delay(self.settings.max_delay)
            .with_max_times(self.settings.tries.saturating_sub(1))
            .with_jitter();
        let max_retry_after = self.settings.max_retry_after;
        (|| async { self.try_once(what, passed, &build).await })
            .retry(backoff)
            .when(|e: &VendorError| e.retryable)
            .adjust(move |e: &VendorError, dur| match (e.retry_after, dur) {
                // `None` means the tries are used up: keep it so.
                (Some(after), Some(_)) => Some(after.min(max_retry_after)),
                (_, dur) => dur,
            })
            .notify(|e: &VendorError, dur| {
                tracing::warn!(error = %e, retry_in = ?dur, "vendor call failed, retrying");
            })
            .await
    }

    async fn try_once(
        &self,
        what: &str,
        passed: &[StatusCode],
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, VendorError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let err = |message: String, retryable: bool, retry_after: Option<Duration>| VendorError {
            what: what.to_string(),
            message,
            retryable,
            retry_after,
        };
        let res = match build(&self.client).send().await {
            Ok(res) => res,
            Err(e) => {
                let failure = if e.is_timeout() {
                    VendorFailure::Timeout
                } else if e.is_connect() {
                    VendorFailure::Connect
                } else {
                    VendorFailure::Other
                };
                self.record(started, Some(failure));
                let retryable = e.is_connect() || e.is_timeout() || e.is_request();
                return Err(err(format!("{e}"), retryable, None));
            }
        };
        let status = res.status();
        let failure = match status {
            s if s.is_success() => None,
            StatusCode::TOO_MANY_REQUESTS => Some(VendorFailure::TooManyRequests),
            s if s.is_server_error() => Some(VendorFailure::Server),
            s if s.is_client_error() => Some(VendorFailure::Client),
            _ => Some(VendorFailure::Other),
        };
        self.record(started, failure);
        if failure.is_none() || passed.contains(&status) {
            return Ok(res);
        }
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        let body = res.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        Err(err(
            format!("HTTP {status}: {body}"),
            retryable,
            retry_after,
        ))
    }

    /// Counts one try for the metrics (a passed 401 is still a failed request).
    fn record(&self, started: Instant, failure: Option<VendorFailure>) {
        if let Some(vendor) = self.vendor {
            observe::vendor_request(vendor, started.elapsed(), failure);
        }
    }
}
