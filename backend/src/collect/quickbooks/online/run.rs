//! A QuickBooks Online sync: the stored tokens (renewed as needed, new ones kept at
//! once), the profit and loss by month for the current month and the 12 before (in the
//! organization's time zone) and, with `QUICKBOOKS_COUNT_EMPLOYEES`, the active
//! employees; then the same delivery a Web Connector session makes (`super::super::sync`),
//! stored as one collection run. Nothing is stored unless everything was read. One sync
//! per organization at a time (an advisory lock), so two never spend the same refresh
//! token.
use super::client::{Company, Intuit, IntuitError, TokenKeeper, Tokens};
use super::{connect, customer_sales, report};
use crate::collect::quickbooks::sync::{self as books, Delivery};
use crate::collect::quickbooks::QuickBooksSettings;
use crate::collect::run::try_lock;
use crate::collect::run::{RunError, RunReport};
use crate::db::{tenant, DbConn, DbPool};
use crate::store::org::{self, Org};
use crate::store::quickbooks::Source;
use crate::store::quickbooks_online as store;
use diesel_async::RunQueryDsl;
use qbr_shared::collection::Trigger;

/// Session advisory-lock key of QuickBooks Online syncs (plus the organization id).
const SYNC_LOCK: i64 = 0x5142_5100;

/// Why a sync did not store anything.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "QuickBooks Online is not set up: set QBO_CLIENT_ID, QBO_CLIENT_SECRET and QBR_SECRET_KEY"
    )]
    NotConfigured,
    #[error("no QuickBooks Online company is connected: Settings → QuickBooks → Connect QuickBooks Online")]
    NotConnected,
    #[error("another QuickBooks Online sync or collection run is in progress; try again when it has finished")]
    Refused,
    /// The stored authorization no longer works: the company must be connected again.
    #[error("{0}")]
    Reconnect(String),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl From<IntuitError> for SyncError {
    fn from(e: IntuitError) -> Self {
        if e.needs_reconnect() {
            SyncError::Reconnect(e.to_string())
        } else {
            SyncError::Failed(e.into())
        }
    }
}

fn failed(e: impl Into<anyhow::Error>) -> SyncError {
    SyncError::Failed(e.into())
}

/// Reads the connected company and stores what it says as one collection run.
pub async fn sync(
    pool: &DbPool,
    settings: &QuickBooksSettings,
    org: &Org,
    trigger: Trigger,
) -> Result<RunReport, SyncError> {
    if settings.online.is_none() {
        return Err(SyncError::NotConfigured);
    }
    let mut lock = tenant::checkout_platform(pool).await.map_err(failed)?;
    let key = SYNC_LOCK + i64::from(org.id);
    if !try_lock(&mut lock, key).await.map_err(failed)? {
        return Err(SyncError::Refused);
    }
    let result = locked_sync(pool, settings, org, trigger).await;
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .execute(&mut lock)
        .await;
    if unlocked.is_err() {
        // A connection that may still hold the lock must not go back to the pool.
        let _ = DbConn::take(lock);
    }
    record(pool, org.id, &result).await;
    result
}

/// Keeps how the sync ended on the connection, for the status page.
async fn record(pool: &DbPool, org: i32, result: &Result<RunReport, SyncError>) {
    let error = match result {
        Ok(_) => None,
        Err(SyncError::NotConfigured | SyncError::NotConnected | SyncError::Refused) => return,
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = &error {
        tracing::warn!(error = %why, "QuickBooks Online sync failed");
    }
    let recorded = match tenant::checkout(pool, org).await {
        Ok(mut conn) => store::record_sync(&mut conn, org, error.as_deref())
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %format!("{e:#}"), "could not record the QuickBooks Online sync");
    }
}

/// Keeps new tokens in the connection's row, sealed, the moment they arrive.
struct StoredTokens<'a> {
    pool: &'a DbPool,
    settings: &'a super::OnlineSettings,
    org: i32,
}

#[async_trait::async_trait]
impl TokenKeeper for StoredTokens<'_> {
    async fn keep(&self, tokens: &Tokens) -> anyhow::Result<()> {
        let sealed = connect::seal(&self.settings.key, self.org, tokens)?;
        let mut conn = tenant::checkout(self.pool, self.org).await?;
        let kept = store::save_tokens(&mut conn, self.org, &sealed).await?;
        anyhow::ensure!(kept, "QuickBooks Online was disconnected during the sync");
        Ok(())
    }
}

async fn locked_sync(
    pool: &DbPool,
    settings: &QuickBooksSettings,
    org: &Org,
    trigger: Trigger,
) -> Result<RunReport, SyncError> {
    let online = settings.online.as_ref().ok_or(SyncError::NotConfigured)?;
    let stored = {
        let mut conn = tenant::checkout(pool, org.id).await.map_err(failed)?;
        store::connection(&mut conn, org.id)
            .await
            .map_err(failed)?
            .ok_or(SyncError::NotConnected)?
    };
    let tokens = connect::open(&online.key, &stored).map_err(|e| {
        SyncError::Reconnect(format!(
            "the stored QuickBooks Online tokens do not open ({e}; was QBR_SECRET_KEY changed?): connect QuickBooks Online again"
        ))
    })?;
    let intuit = Intuit::new(online).map_err(failed)?;
    let keeper = StoredTokens {
        pool,
        settings: online,
        org: org.id,
    };
    let mut company = Company::new(&intuit, &stored.realm_id, tokens, &keeper);
    let current = org.current_month(chrono::Utc::now());
    let (from, to) = books::report_range(current, None, 12);
    let raw = company.profit_and_loss(from, to, settings.basis).await?;
    let report = report::parse(&raw).map_err(failed)?;
    let sales_raw = company.customer_sales(from, to, settings.basis).await?;
    let customer_sales = customer_sales::parse(&sales_raw).map_err(failed)?;
    let active_employees = if settings.count_employees {
        Some(company.active_employees().await?)
    } else {
        None
    };
    tracing::info!(
        months = report.months.len(),
        accounts = report.accounts.len(),
        requests = intuit.requests(),
        "QuickBooks Online read"
    );
    let delivery = Delivery {
        source: Source::Online,
        report,
        raw,
        active_employees,
        // Intuit's closing date is a company preference this app does not read:
        // months close after QUICKBOOKS_CLOSED_AFTER_MONTHS.
        closing_date: None,
        customer_sales: Some(customer_sales),
    };
    books::store_delivery(pool, org, settings, delivery, trigger)
        .await
        .map_err(|e| match e {
            RunError::Refused => SyncError::Refused,
            RunError::Failed(cause) => SyncError::Failed(cause),
            // A delivered run has no one to cancel it.
            RunError::Cancelled => SyncError::Failed(anyhow::anyhow!("cancelled")),
        })
}

/// The nightly sync, after the vendors' run: when QuickBooks Online is set up and a
/// company is connected (otherwise nothing, quietly). Logs how it went.
pub async fn nightly(pool: &DbPool, settings: &QuickBooksSettings, org_id: i32) {
    if settings.online.is_none() {
        return;
    }
    let loaded = async {
        let mut conn = tenant::checkout(pool, org_id).await?;
        let org = org::load(&mut conn, org_id).await?;
        let connected = store::summary(&mut conn, org_id).await?.is_some();
        anyhow::Ok(org.filter(|_| connected))
    }
    .await;
    let org = match loaded {
        Ok(Some(org)) => org,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "scheduled QuickBooks Online sync not started");
            return;
        }
    };
    match sync(pool, settings, &org, Trigger::Schedule).await {
        Ok(r) => tracing::info!(
            values_written = r.values_written,
            months = r.months.len(),
            "scheduled QuickBooks Online sync finished"
        ),
        Err(SyncError::Refused) => {
            tracing::info!("scheduled QuickBooks Online sync skipped: another run is in progress")
        }
        Err(e) => tracing::error!(error = %e, "scheduled QuickBooks Online sync failed"),
    }
}
