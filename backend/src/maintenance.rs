//! Background upkeep that any replica may run (each step is idempotent and takes the
//! organization's write lock): the SmartNumbers of the periods in progress divide by
//! the months elapsed, so they are refreshed when a month begins.
use crate::db::DbPool;
use crate::store::{lock_organization_writes, org, recompute};
use chrono::Utc;
use diesel_async::AsyncConnection;
use qbr_shared::Period;
use std::time::Duration;

/// How often the periods in progress are refreshed.
const REFRESH_EVERY: Duration = Duration::from_secs(3600);

/// Recomputes the SmartNumbers of the month, quarter and year in progress and of the
/// month before (whose quarter or year may have just closed).
pub async fn refresh_current_periods(pool: &DbPool, org_id: i32) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let Some(org) = org::load(&mut conn, org_id).await? else {
        anyhow::bail!("organization {org_id} does not exist");
    };
    let now = Utc::now();
    let current = org.current_month(now);
    let mut periods: Vec<Period> = Period::enclosing(current)
        .into_iter()
        .chain(Period::enclosing(current.prev()))
        .collect();
    periods.sort_by_key(|p| p.to_string());
    periods.dedup();
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        lock_organization_writes(conn, org.id).await?;
        recompute::refresh_periods(conn, &org, &periods, now).await?;
        Ok(())
    })
    .await
}

/// Runs [`refresh_current_periods`] now and then every hour, logging failures.
pub fn spawn_refresh(pool: DbPool, org_id: i32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = refresh_current_periods(&pool, org_id).await {
                tracing::warn!(error = %format!("{e:#}"), "refreshing the periods in progress failed");
            }
        }
    })
}
