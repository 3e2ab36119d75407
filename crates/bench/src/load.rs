//! Load passes over real HTTP/1.1 keep-alive connections, as the read benchmarks run
//! them: a closed loop (clients back to back: the maximum throughput) or a paced pass
//! (each client on a fixed schedule; latency counts from the scheduled send time, so a
//! stall that delays later sends is charged to them: no coordinated omission). Every
//! pass has a warm-up that is not recorded; around the measured window it reads the CPU
//! time of `qbr` and PostgreSQL ([`crate::cpu`]).
use crate::cpu::{CpuSnapshot, CpuUse, Watched};
use crate::thousands;
use anyhow::{anyhow, Context};
use hdrhistogram::Histogram;
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The unrecorded start of every pass.
pub const WARMUP: Duration = Duration::from_secs(1);
/// Latencies are recorded in microseconds, up to an hour.
const MAX_US: u64 = 3_600_000_000;

/// One request of a pass: a URL, and the credential header it carries when the
/// client's default headers do not (a key per organization).
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub header: Option<(HeaderName, HeaderValue)>,
}

impl Target {
    /// A URL sent with the client's default headers only.
    pub fn plain(url: String) -> Target {
        Target { url, header: None }
    }

    /// A URL sent with `name: value` besides the client's default headers.
    pub fn with_header(url: String, name: &str, value: &str) -> anyhow::Result<Target> {
        Ok(Target {
            url,
            header: Some((
                HeaderName::from_bytes(name.as_bytes()).context("header name")?,
                value.parse().context("header value")?,
            )),
        })
    }
}

/// A client on a keep-alive connection of its own; `header` (a credential) is sent
/// with every request.
pub fn http_client(header: Option<(&str, &str)>) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some((name, value)) = header {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).context("header name")?,
            value.parse().context("credential header")?,
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
pub async fn fetch(client: &reqwest::Client, target: &Target) -> Result<usize, String> {
    let mut request = client.get(&target.url);
    if let Some((name, value)) = &target.header {
        request = request.header(name.clone(), value.clone());
    }
    let res = request
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

// ---------------------------------------------------------------------------------
// Passes

/// What clients saw during a pass.
pub struct Tally {
    /// Closed loop: from send to full body. Paced: from the scheduled send time.
    pub latency: Histogram<u64>,
    /// From the actual send (paced passes; equals `latency` in closed loop).
    pub service: Histogram<u64>,
    /// Requests of the measured window (sent, or scheduled, within it), errors excluded.
    pub requests: u64,
    pub bytes: u64,
    /// Failed requests of the measured window.
    pub errors: u64,
    /// Failed requests of the warm-up.
    pub warmup_errors: u64,
    pub first_error: Option<String>,
    /// Paced: scheduled requests of the measured window never sent because the pass hit
    /// its deadline (the server could not keep up); recorded with the time they had
    /// waited, a lower bound.
    pub unsent: u64,
    /// When the last measured request completed.
    pub last_done: Option<Instant>,
    /// Successful responses that arrived within the measured window, whenever they were
    /// scheduled (the throughput actually delivered, and what the CPU is divided by).
    pub completed_in_window: u64,
    /// CPU used during the measured window.
    pub cpu: Option<CpuUse>,
    /// From the start of the measured window to the last measured completion (at
    /// least the window).
    pub span: Duration,
}

impl Tally {
    pub fn new() -> anyhow::Result<Tally> {
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

    pub fn merge(&mut self, other: Tally) -> anyhow::Result<()> {
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

    /// [`Tally::merge`], and the CPU of `other`'s window added to this one's (unknown
    /// if either is): the figures of several passes as one.
    pub fn absorb(&mut self, other: Tally) -> anyhow::Result<()> {
        let cpu = match (self.cpu.take(), &other.cpu) {
            (Some(a), Some(b)) => Some(CpuUse {
                wall: a.wall + b.wall,
                qbr: a.qbr + b.qbr,
                postgres: a.postgres + b.postgres,
                bench: a.bench + b.bench,
                busy: a.busy + b.busy,
                idle: a.idle + b.idle,
            }),
            _ => None,
        };
        self.span += other.span;
        self.merge(other)?;
        self.cpu = cpu;
        Ok(())
    }

    pub fn all_errors(&self) -> u64 {
        self.errors + self.warmup_errors
    }

    pub fn avg_kib(&self) -> f64 {
        self.bytes as f64 / 1024.0 / self.requests.max(1) as f64
    }

    pub fn failed(&mut self, measured: bool, error: String) {
        if measured {
            self.errors += 1;
        } else {
            self.warmup_errors += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(error);
        }
    }

    pub fn qbr_us_per_request(&self) -> Option<f64> {
        let cpu = self.cpu.as_ref()?;
        per_request_us(cpu.qbr, self.completed_in_window)
    }

    pub fn postgres_us_per_request(&self) -> Option<f64> {
        let cpu = self.cpu.as_ref()?;
        per_request_us(cpu.postgres, self.completed_in_window)
    }
}

pub fn per_request_us(cpu_seconds: f64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| cpu_seconds * 1e6 / requests as f64)
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    record_from: Instant,
    end: Instant,
    hard_stop: Instant,
}

impl Window {
    /// A warm-up then `measure`, starting shortly (so every client is spawned first).
    fn after_warmup(measure: Duration) -> Window {
        let start = Instant::now() + Duration::from_millis(20);
        let record_from = start + WARMUP;
        let end = record_from + measure;
        // A paced pass whose server falls behind would otherwise run until every
        // scheduled request is sent; it gets at most `measure` again to catch up.
        Window {
            start,
            record_from,
            end,
            hard_stop: end + measure,
        }
    }
}

/// Where in the targets each client of a pass starts (each then takes the targets in
/// turn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Client `c` at target `c`: the clients move through the targets side by side, so
    /// each target is asked for by every client within a few requests (a small hot
    /// set at any moment).
    Together,
    /// The clients evenly apart over the targets: a target comes back only after
    /// `targets / clients` requests of each client (every target equally hot).
    Spread,
}

/// Runs the clients for the warm-up then `measure`: back to back when `period` is
/// `None`, else each on a fixed schedule of one request every `period`.
pub async fn run_pass(
    targets: &Arc<Vec<Target>>,
    start: Start,
    clients: &[reqwest::Client],
    measure: Duration,
    period: Option<Duration>,
    watched: &Watched,
) -> anyhow::Result<Tally> {
    let w = Window::after_warmup(measure);
    let n = clients.len();
    let mut tasks = Vec::with_capacity(n);
    for (c, client) in clients.iter().cloned().enumerate() {
        let targets = Arc::clone(targets);
        let offset = match start {
            Start::Together => c,
            Start::Spread => c * targets.len() / n,
        };
        tasks.push(tokio::spawn(async move {
            match period {
                None => closed_client(client, targets, offset, w).await,
                Some(p) => {
                    let phase = p.mul_f64(c as f64 / n as f64);
                    paced_client(client, targets, offset, w, p, phase).await
                }
            }
        }));
    }
    let cpu = measure_cpu(watched, w.record_from, w.end).await;
    let mut total = Tally::new()?;
    for t in tasks {
        total.merge(t.await.context("client task")??)?;
    }
    total.cpu = cpu;
    total.span = total
        .last_done
        .map_or(measure, |d| d.saturating_duration_since(w.record_from))
        .max(measure);
    Ok(total)
}

/// The CPU used between `from` and `to` (both in the future).
pub async fn measure_cpu(watched: &Watched, from: Instant, to: Instant) -> Option<CpuUse> {
    tokio::time::sleep_until(from).await;
    let before = CpuSnapshot::take(watched);
    tokio::time::sleep_until(to).await;
    let after = CpuSnapshot::take(watched);
    CpuSnapshot::usage(before, after, watched.ticks_per_second)
}

async fn closed_client(
    client: reqwest::Client,
    targets: Arc<Vec<Target>>,
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
        let target = &targets[i % targets.len()];
        i += 1;
        let result = fetch(&client, target).await;
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
    targets: Arc<Vec<Target>>,
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
        let target = &targets[i % targets.len()];
        i += 1;
        let result = fetch(&client, target).await;
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

pub fn report_errors(t: &Tally) {
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

pub fn report_cpu(t: &Tally) {
    let Some(c) = &t.cpu else {
        println!("    CPU: unknown (/proc unreadable)");
        return;
    };
    println!(
        "    CPU per response: qbr {} µs, PostgreSQL {} µs ({} responses in the window)",
        fmt_opt(t.qbr_us_per_request(), 0),
        fmt_opt(t.postgres_us_per_request(), 0),
        thousands(t.completed_in_window)
    );
    println!(
        "    CPU in cores: qbr {:.2}, PostgreSQL {:.2}, qbr-bench (load generator) {:.2}, \
         other processes {:.2}, idle {:.2}",
        c.cores(c.qbr),
        c.cores(c.postgres),
        c.cores(c.bench),
        c.cores(c.other()),
        c.cores(c.idle)
    );
}

pub fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("?".to_string(), |v| format!("{v:.decimals$}"))
}

pub fn percentiles(h: &Histogram<u64>) -> String {
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
