//! What `qbr serve --demo` does before it serves: loads the demo organization into an
//! empty database and, with the `demo` feature, starts the simulated ConnectWise and
//! NinjaOne (`vendors`), points the organization's collection at them (Collect now
//! and the schedule read them) and collects once in the background, so the Collection
//! page has a run with its drift and flag, and today's devices by client.
//!
//! The simulated vendors stand in only when no vendor is configured in the
//! environment, and only for data the demo loaded (its `demo.load` audit event also
//! says in which month, which the vendors' data follows).
use super::load;
use crate::collect::run::{RunError, RunReport};
use crate::collect::CollectorConfig;
use crate::db::{tenant, DbPool};
use anyhow::Context;
use tokio::task::JoinHandle;

/// What the demo started.
pub struct Demo {
    /// The collectors' settings for the server (Collect now, the schedule): the
    /// simulated vendors', else those it was given.
    pub collectors: CollectorConfig,
    /// The collection run at start, in the background.
    pub first_run: Option<JoinHandle<Result<RunReport, RunError>>>,
    /// The simulated vendors (they serve as long as the process runs).
    #[cfg(feature = "demo")]
    pub vendors: Option<super::vendors::SimulatedVendors>,
    /// One line for the console: where collection reads from.
    pub note: String,
}

/// Loads the demo into organization `org_id` if the database is empty, then sets its
/// collection up (see the module's documentation). `collectors` are the environment's.
pub async fn start(
    pool: &DbPool,
    org_id: i32,
    collectors: CollectorConfig,
) -> anyhow::Result<Demo> {
    load_values(pool, org_id).await?;
    let demo = Demo {
        collectors,
        first_run: None,
        #[cfg(feature = "demo")]
        vendors: None,
        note: String::new(),
    };
    if !demo.collectors.vendors.is_empty() {
        return Ok(Demo {
            note: "Vendors: as configured in the environment (the simulated vendors stay off)"
                .into(),
            ..demo
        });
    }
    simulate(pool, org_id, demo).await
}

async fn load_values(pool: &DbPool, org_id: i32) -> anyhow::Result<()> {
    let mut conn = tenant::checkout(pool, org_id)
        .await
        .context("connecting to load the demo")?;
    let written = load::load_if_empty(&mut conn, org_id).await?;
    if written > 0 {
        tracing::info!(values = written, "loaded the demo organization");
    } else {
        tracing::info!("database already has data; demo not loaded");
    }
    Ok(())
}

#[cfg(not(feature = "demo"))]
async fn simulate(_pool: &DbPool, _org_id: i32, demo: Demo) -> anyhow::Result<Demo> {
    Ok(Demo {
        note: "Vendors: none; the simulated vendors are not built in (built without the \
               `demo` feature), so the collected values stay as loaded"
            .into(),
        ..demo
    })
}

/// Starts the simulated vendors for data the demo loaded, points `demo.collectors` at
/// them and starts the first run.
#[cfg(feature = "demo")]
async fn simulate(pool: &DbPool, org_id: i32, mut demo: Demo) -> anyhow::Result<Demo> {
    use super::vendors::{self, SimulatedVendors};
    use crate::collect::run::{self, RunOptions};
    use crate::collect::VendorChoice;
    use crate::config::Env;
    use crate::store::{audit, org};
    use qbr_shared::access::AuditAction;
    use qbr_shared::collection::Trigger;

    let mut conn = tenant::checkout(pool, org_id)
        .await
        .context("connecting to start the simulated vendors")?;
    let org = org::load(&mut conn, org_id)
        .await?
        .with_context(|| format!("organization {org_id} does not exist"))?;
    let Some(loaded_at) = audit::first_at(&mut conn, org_id, AuditAction::DemoLoad).await? else {
        demo.note = "Vendors: none; this database's data was not loaded by the demo, so the \
                     simulated vendors stay off"
            .into();
        return Ok(demo);
    };
    drop(conn);
    let now = chrono::Utc::now();
    let plan = vendors::plan(
        org.current_month(loaded_at),
        org.current_month(now),
        org.timezone,
    );
    let simulated = SimulatedVendors::start(&plan, now).await;
    demo.collectors.vendors = CollectorConfig::from_env(&Env::from_pairs(simulated.env()))?.vendors;
    demo.note = format!(
        "Simulated vendors: ConnectWise {}, NinjaOne {} (collected at start; Collect now reads them)",
        simulated.connectwise.url, simulated.ninjaone.url
    );
    demo.vendors = Some(simulated);

    let cfg = demo.collectors.clone();
    let pool = pool.clone();
    let opts = RunOptions {
        organization_id: org_id,
        trigger: Trigger::Schedule,
        vendors: VendorChoice::All,
        months: None,
        force: false,
        dry_run: false,
    };
    demo.first_run = Some(tokio::spawn(async move {
        let outcome = run::run(&pool, &cfg, &opts, &|_, _| {}).await;
        match &outcome {
            Ok(report) => tracing::info!(
                run = ?report.run_id,
                drift = report.drift.len(),
                flagged = report.flagged().len(),
                "collected from the simulated vendors"
            ),
            Err(e) => tracing::warn!(error = %e, "collecting from the simulated vendors failed"),
        }
        outcome
    }));
    Ok(demo)
}
