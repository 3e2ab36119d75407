//! Benchmark (not a test): a real collection run (`collect::run`, a private PostgreSQL
//! or `DATABASE_URL`) against the fake ConnectWise with 13 months of 600 tickets and
//! 2,500 time entries a month and 30 ms of latency per request; then the reference
//! approach (250-row pages, 20-id ticket lookups) on the same data. Prints requests,
//! wall time and the ratio.
//!
//! `cargo run --release -p bench --bin collect-bench`
use anyhow::Context;
use backend::collect::connectwise::{datetime, string_list};
use backend::collect::run::{self, RunOptions};
use backend::collect::{http::HttpSettings, CollectorConfig, VendorChoice};
use backend::config::Env;
use base64::Engine;
use chrono::{DateTime, Duration as Span, Utc};
use qbr_shared::collection::Trigger;
use qbr_shared::{Month, Vendor};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use test_support::vendors::{
    ticket, time_entry, CwData, FakeConnectWise, CW_CLIENT_ID, CW_COMPANY, CW_PRIVATE, CW_PUBLIC,
};

const MONTHS: i32 = 13;
const TICKETS_PER_MONTH: i64 = 600;
const ENTRIES_PER_MONTH: i64 = 2500;
const LATENCY_MS: u64 = 30;

fn dataset(months: &[(Month, DateTime<Utc>, DateTime<Utc>)]) -> CwData {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2025);
    let mut data = CwData::default();
    let mut entry_id = 1;
    let mut month_tickets: Vec<Vec<i64>> = Vec::new();
    for (i, (_, start, end)) in months.iter().enumerate() {
        let span = (*end - *start).num_seconds();
        let mut ids = Vec::new();
        for n in 0..TICKETS_PER_MONTH {
            let id = i64::try_from(i).unwrap_or(0) * TICKETS_PER_MONTH + n + 1;
            let entered = *start + Span::seconds(rng.random_range(0..span));
            let board = if rng.random_bool(0.7) {
                "Help Desk"
            } else {
                "Projects"
            };
            let parent = rng.random_bool(0.1).then(|| (id - 1).max(1));
            let (status, closed) = match rng.random_range(0..10) {
                0..=5 => (
                    ">Closed",
                    Some(entered + Span::hours(rng.random_range(1..200))),
                ),
                6 => ("Completed", Some(entered + Span::hours(5))),
                7 => (">Closed - No response", Some(entered + Span::hours(72))),
                _ => ("In Progress", None),
            };
            data.tickets
                .push(ticket(id, board, status, parent, entered, closed));
            ids.push(id);
        }
        month_tickets.push(ids);
        for _ in 0..ENTRIES_PER_MONTH {
            // Work goes on: a third of the time is on last month's tickets.
            let pool = match (rng.random_bool(0.33), i.checked_sub(1)) {
                (true, Some(prev)) => &month_tickets[prev],
                _ => &month_tickets[i],
            };
            let t = pool[rng.random_range(0..pool.len())];
            let at = *start + Span::seconds(rng.random_range(0..span));
            let hours = f64::from(rng.random_range(1..16)) / 4.0;
            data.time_entries.push(time_entry(entry_id, t, hours, at));
            entry_id += 1;
        }
    }
    data
}

/// The reference approach: list everything 250 rows at a time and look up tickets
/// 20 ids per request, month by month.
async fn reference(
    cw: &FakeConnectWise,
    months: &[(Month, DateTime<Utc>, DateTime<Utc>)],
) -> anyhow::Result<BTreeMap<Month, (usize, usize, f64)>> {
    let client = reqwest::Client::new();
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{CW_COMPANY}+{CW_PUBLIC}:{CW_PRIVATE}"));
    let list = |path: &'static str, conditions: String| {
        let client = client.clone();
        let auth = auth.clone();
        let url = format!("{}{path}", cw.url);
        async move {
            let mut rows: Vec<Value> = Vec::new();
            for page in 1.. {
                let batch: Vec<Value> = client
                    .get(&url)
                    .header("Authorization", format!("Basic {auth}"))
                    .header("clientId", CW_CLIENT_ID)
                    .query(&[
                        ("conditions", conditions.as_str()),
                        ("page", &page.to_string()),
                        ("pageSize", "250"),
                    ])
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let n = batch.len();
                rows.extend(batch);
                if n < 250 {
                    break;
                }
            }
            anyhow::Ok(rows)
        }
    };
    let boards = vec!["Help Desk".to_string()];
    let closed = vec![
        ">Closed".to_string(),
        ">Closed - No response".to_string(),
        "Closed".to_string(),
    ];
    let mut out = BTreeMap::new();
    for (m, s, e) in months {
        let reactive = format!(
            "board/name in {} AND parentTicketId = null",
            string_list(&boards)
        );
        let created = list(
            "/service/tickets",
            format!(
                "{reactive} AND dateEntered >= {} AND dateEntered < {}",
                datetime(*s),
                datetime(*e)
            ),
        )
        .await?
        .len();
        let closed_n = list(
            "/service/tickets",
            format!(
                "{reactive} AND status/name in {} AND closedDate >= {} AND closedDate < {}",
                string_list(&closed),
                datetime(*s),
                datetime(*e)
            ),
        )
        .await?
        .len();
        let entries = list(
            "/time/entries",
            format!(
                "chargeToType = \"ServiceTicket\" AND dateEntered >= {} AND dateEntered < {}",
                datetime(*s),
                datetime(*e)
            ),
        )
        .await?;
        let ids: Vec<i64> = entries
            .iter()
            .filter_map(|e| e["chargeToId"].as_i64())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut reactive_ids = HashSet::new();
        for chunk in ids.chunks(20) {
            let list_ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            for t in list(
                "/service/tickets",
                format!("id in ({})", list_ids.join(",")),
            )
            .await?
            {
                if t["board"]["name"] == "Help Desk" {
                    reactive_ids.extend(t["id"].as_i64());
                }
            }
        }
        let hours: f64 = entries
            .iter()
            .filter(|e| {
                e["chargeToId"]
                    .as_i64()
                    .is_some_and(|t| reactive_ids.contains(&t))
            })
            .filter_map(|e| e["actualHours"].as_f64())
            .sum();
        out.insert(*m, (created, closed_n, hours));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tz = chrono_tz::America::Chicago;
    let current = Month::containing(Utc::now(), tz);
    let months: Vec<(Month, DateTime<Utc>, DateTime<Utc>)> = (0..MONTHS)
        .rev()
        .map(|back| {
            let m = current.add_months(-back);
            let (s, e) = m.utc_bounds(tz);
            (m, s, e)
        })
        .collect();
    let cw = FakeConnectWise::start(dataset(&months)).await;
    cw.faults.latency_ms.store(LATENCY_MS, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("qbr-collect-bench-{}", std::process::id()));
    let database = backend::db::open(std::env::var("DATABASE_URL").ok().as_deref(), &dir, 4)
        .await
        .context("opening the benchmark database")?;
    // The fake's own settings, read the way `qbr` reads its environment (the default
    // boards and statuses, America/Chicago, a 13-month window).
    let mut cfg = CollectorConfig::from_env(&Env::from_pairs(cw.env()))?;
    cfg.timezone = tz;
    cfg.window_months = MONTHS.unsigned_abs();
    cfg.http = HttpSettings::default();
    let opts = RunOptions {
        organization_id: 1,
        trigger: Trigger::Cli,
        vendors: VendorChoice::Only(Vendor::ConnectWise),
        months: None,
        force: true,
        dry_run: true,
    };
    println!(
        "data: {MONTHS} months × {TICKETS_PER_MONTH} tickets and {ENTRIES_PER_MONTH} time entries, {LATENCY_MS} ms per request"
    );
    let started = Instant::now();
    let report = run::run(&database.pool, &cfg, &opts, &|_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ours = (cw.requests.swap(0, Ordering::SeqCst), started.elapsed());
    let started = Instant::now();
    let theirs_values = reference(&cw, &months).await?;
    let theirs = (cw.requests.load(Ordering::SeqCst), started.elapsed());
    // Same answers both ways.
    for (m, (created, closed, hours)) in &theirs_values {
        let get = |k: &str| {
            report
                .values
                .iter()
                .find(|v| v.period == m.to_string() && v.metric == k)
                .map_or(-1.0, |v| v.value)
        };
        let same = (get("reactive_tickets_created") - *created as f64).abs() < 1e-9
            && (get("reactive_tickets_closed") - *closed as f64).abs() < 1e-9
            && (get("reactive_time_spent") - hours).abs() < 1e-6;
        anyhow::ensure!(same, "{m}: the two approaches disagree");
    }
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "qbr collect : {:>5} requests, {:>6.2} s",
        ours.0,
        secs(ours.1)
    );
    println!(
        "reference   : {:>5} requests, {:>6.2} s",
        theirs.0,
        secs(theirs.1)
    );
    #[allow(clippy::cast_precision_loss)]
    let ratio = theirs.0 as f64 / ours.0.max(1) as f64;
    println!(
        "ratio       : {ratio:.1}x fewer requests, {:.1}x faster (goal ≥ 10x fewer)",
        secs(theirs.1) / secs(ours.1).max(1e-9)
    );
    drop(database);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
