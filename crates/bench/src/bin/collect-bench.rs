//! Benchmark (not a test): a real collection run (`collect::run`, a private PostgreSQL
//! or `DATABASE_URL`) against the fake ConnectWise with 13 months of 600 tickets and
//! 2,500 time entries a month of 40 companies, and 60 agreements, with 30 ms of latency
//! per request; then the reference approach (250-row pages, 20-id ticket lookups, no
//! per-client data) on the same data. Prints requests (by endpoint, and what the run
//! would send without the per-client data), wall time and the ratio.
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
    agreement, cancelled, for_company, on_agreement, ticket, time_entry, Billing, CwData,
    FakeConnectWise, CW_CLIENT_ID, CW_COMPANY, CW_PRIVATE, CW_PUBLIC,
};

const MONTHS: i32 = 13;
const TICKETS_PER_MONTH: i64 = 600;
const ENTRIES_PER_MONTH: i64 = 2500;
const LATENCY_MS: u64 = 30;
const COMPANIES: i64 = 40;
const AGREEMENTS: i64 = 60;

fn company_name(id: i64) -> String {
    format!("Client {id:02}, LLC")
}

fn dataset(months: &[(Month, DateTime<Utc>, DateTime<Utc>)]) -> CwData {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2025);
    let mut data = CwData::default();
    let mut entry_id = 1;
    let mut month_tickets: Vec<Vec<(i64, i64)>> = Vec::new();
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
            let company = rng.random_range(1..=COMPANIES);
            data.tickets.push(for_company(
                ticket(id, board, status, parent, entered, closed),
                company,
                &company_name(company),
            ));
            ids.push((id, company));
        }
        month_tickets.push(ids);
        for _ in 0..ENTRIES_PER_MONTH {
            // Work goes on: a third of the time is on last month's tickets.
            let pool = match (rng.random_bool(0.33), i.checked_sub(1)) {
                (true, Some(prev)) => &month_tickets[prev],
                _ => &month_tickets[i],
            };
            let (t, company) = pool[rng.random_range(0..pool.len())];
            let at = *start + Span::seconds(rng.random_range(0..span));
            let hours = f64::from(rng.random_range(1..16)) / 4.0;
            let mut e = for_company(
                time_entry(entry_id, t, hours, at),
                company,
                &company_name(company),
            );
            if rng.random_bool(0.6) {
                e = on_agreement(e, company);
            }
            data.time_entries.push(e);
            entry_id += 1;
        }
    }
    data.agreements = agreements(months, &mut rng);
    data
}

/// Agreements of the companies: most running, some starting, ending or cancelled in
/// the window, some over before it.
fn agreements(
    months: &[(Month, DateTime<Utc>, DateTime<Utc>)],
    rng: &mut rand::rngs::StdRng,
) -> Vec<Value> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Vec::new();
    };
    let span = (last.2 - first.1).num_days();
    (1..=AGREEMENTS)
        .map(|id| {
            let company = (id - 1) % COMPANIES + 1;
            let start = first.1 + Span::days(rng.random_range(-400..span));
            let end = rng
                .random_bool(0.3)
                .then(|| start + Span::days(rng.random_range(30..400)));
            let cycle = ["Monthly", "Monthly", "Quarterly", "Annual"][rng.random_range(0..4)];
            let billing = Billing {
                amount: f64::from(rng.random_range(5..60)) * 100.0,
                cycle,
                start,
                end,
            };
            let row = for_company(
                agreement(id, "Managed Services", "Managed Services", &billing),
                company,
                &company_name(company),
            );
            if rng.random_bool(0.1) {
                cancelled(row, start + Span::days(90))
            } else {
                row
            }
        })
        .collect()
}

/// What the collector sent before it read per-client data: the two counts a month,
/// the time entry pages, and a board search per 1,000 tickets charged.
fn requests_without_clients(data: &CwData, start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
    let in_window = |e: &&Value| {
        e["dateEntered"]
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .is_some_and(|d| d >= start && d < end)
    };
    let entries: Vec<&Value> = data.time_entries.iter().filter(in_window).collect();
    let charged: HashSet<i64> = entries
        .iter()
        .filter_map(|e| e["chargeToId"].as_i64())
        .collect();
    let pages = |n: usize| u64::try_from(n / 1000 + 1).unwrap_or(0);
    let searches = u64::try_from(charged.len().div_ceil(1000)).unwrap_or(0);
    2 * u64::from(MONTHS.unsigned_abs()) + pages(entries.len()) + searches
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
    let data = dataset(&months);
    let before = match (months.first(), months.last()) {
        (Some(f), Some(l)) => requests_without_clients(&data, f.1, l.2),
        _ => 0,
    };
    let cw = FakeConnectWise::start(data).await;
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
    let by_path = std::mem::take(
        &mut *cw
            .by_path
            .lock()
            .map_err(|_| anyhow::anyhow!("request counter poisoned"))?,
    );
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
    let parts: Vec<String> = by_path.iter().map(|(p, n)| format!("{n} {p}")).collect();
    println!("              ({})", parts.join(", "));
    #[allow(clippy::cast_precision_loss)]
    let growth = ours.0 as f64 / before.max(1) as f64;
    println!(
        "without per-client data: {before:>5} requests (computed), {growth:.2}x with it (goal ≤ 2x)"
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
