//! Background upkeep that any replica may run (each step is idempotent and takes the
//! organization's write lock): the SmartNumbers of the periods in progress divide by
//! the months elapsed, so they are refreshed when a month begins. Expired sessions and
//! sign-ins in progress are deleted. Scheduled reports that are due are mailed (each
//! to each address once: `service::report_delivery`).
use crate::db::{tenant, DbPool};
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
    let mut conn = tenant::checkout(pool, org_id).await?;
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

/// How often due scheduled reports are looked for (a report goes out within this
/// much of its hour).
const REPORTS_EVERY: Duration = Duration::from_secs(600);

/// Mails the scheduled reports that are due, now and every ten minutes.
pub fn spawn_report_delivery(
    pool: DbPool,
    notifier: std::sync::Arc<crate::notify::Notifier>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REPORTS_EVERY);
        loop {
            tick.tick().await;
            crate::service::report_delivery::run_due(&pool, &notifier, Utc::now()).await;
        }
    })
}

/// How often expired sessions and abandoned sign-ins are removed.
const AUTH_CLEANUP_EVERY: Duration = Duration::from_secs(300);

/// Deletes expired sessions (each recorded as `auth.session_expired`) and expired
/// sign-ins in progress; returns how many of each.
pub async fn cleanup_auth(pool: &DbPool) -> anyhow::Result<(usize, usize)> {
    use crate::store::{audit, login_states, sessions};
    let mut conn = tenant::checkout_platform(pool).await?;
    let (expired, states) = conn
        .transaction::<_, anyhow::Error, _>(async |conn| {
            let expired = sessions::delete_expired(conn).await?;
            for email in &expired {
                audit::record(
                    conn,
                    audit::AuditEvent {
                        organization_id: None,
                        actor: email,
                        action: qbr_shared::access::AuditAction::SessionExpired,
                        target: None,
                        details: serde_json::json!({}),
                        ip: None,
                    },
                )
                .await?;
            }
            let states = login_states::delete_expired(conn).await?;
            Ok((expired.len(), states))
        })
        .await?;
    Ok((expired, states))
}

/// Runs [`cleanup_auth`] every five minutes; also lets the rate limiters forget idle keys.
pub fn spawn_auth_cleanup(
    pool: DbPool,
    auth: std::sync::Arc<crate::auth::Auth>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(AUTH_CLEANUP_EVERY);
        loop {
            tick.tick().await;
            auth.limiters.forget_idle();
            match cleanup_auth(&pool).await {
                Ok((0, 0)) => {}
                Ok((sessions, logins)) => {
                    tracing::info!(sessions, logins, "removed expired sessions and sign-ins")
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "cleaning up expired sessions failed")
                }
            }
        }
    })
}
