//! Realistic data for the read benchmarks: `months` months of the demo's values for an
//! organization, written through the store layer as `qbr serve --demo` writes them.
use anyhow::{bail, Context};
use backend::demo::demo_values;
use backend::store::metrics::{self, ValueWrite};
use backend::store::{lock_organization_writes, org, recompute};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::metric_def;
use qbr_shared::Month;
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

/// What one load wrote.
pub struct Loaded {
    /// The month in progress (the last one loaded).
    pub current: Month,
    /// The first month loaded.
    pub first: Month,
    /// Input values written.
    pub values: usize,
    /// Distinct metrics among them.
    pub metrics: usize,
    /// Time spent writing the values.
    pub writes: Duration,
    /// Time spent recomputing derived values and SmartNumbers.
    pub recompute: Duration,
}

impl Loaded {
    pub fn total(&self) -> Duration {
        self.writes + self.recompute
    }
}

/// `months` months (up to the month in progress) of demo values for organization
/// `org_id`, through the store layer in one transaction: `demo_values` covers 24
/// months, so it is called for the current month, a year earlier, … and the values are
/// deduplicated by (month, metric), the most recent call's first (which also fills
/// most of the demo's deliberate gaps from another year). Then the derived values and
/// SmartNumbers of every month, quarter and year are recomputed, in the same
/// transaction.
pub async fn load_months(
    conn: &mut AsyncPgConnection,
    org_id: i32,
    months: i32,
    actor: &str,
) -> anyhow::Result<Loaded> {
    let org = org::load(conn, org_id)
        .await?
        .with_context(|| format!("organization {org_id} does not exist"))?;
    let now = Utc::now();
    let current = org.current_month(now);
    let first = current.add_months(-(months - 1));
    let mut seen = HashSet::new();
    let mut values = Vec::new();
    for back in (0..months).step_by(12) {
        for v in demo_values(current.add_months(-back)) {
            if v.month >= first && v.month <= current && seen.insert((v.month, v.metric)) {
                values.push(v);
            }
        }
    }
    values.sort_by_key(|v| v.month);
    let metric_names: BTreeSet<&str> = values.iter().map(|v| v.metric).collect();
    let covered: BTreeSet<Month> = values.iter().map(|v| v.month).collect();
    if covered.len() != usize::try_from(months).unwrap_or(0) {
        bail!(
            "the demo data covers {} months, not {months}",
            covered.len()
        );
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
                    actor,
                    collected_at: v.collected.then_some(now),
                };
                metrics::write_value(conn, org.id, v.month, &w).await?;
            }
            let writes = t.elapsed();
            let t = Instant::now();
            recompute::after_inputs_changed(conn, &org, &covered, now).await?;
            Ok((writes, t.elapsed()))
        })
        .await?;
    Ok(Loaded {
        current,
        first,
        values: values.len(),
        metrics: metric_names.len(),
        writes,
        recompute,
    })
}
