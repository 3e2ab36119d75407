//! What every handler can reach through the depot. Nothing here is state another
//! replica would need: sessions and locks live in PostgreSQL, and the in-memory answers
//! are checked against a version kept there (`crate::cache`). The sign-in settings and
//! rate limiters (`crate::auth::Auth`) are put in the depot beside it by the server.
use super::read_log::ReadLog;
use crate::cache::Caches;
use crate::collect::launcher::Launcher;
use crate::collect::quickbooks::QuickBooksSettings;
use crate::collect::CollectorConfig;
use crate::db::DbPool;
use crate::notify::Notifier;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The organization used when a request names none.
    pub org_id: i32,
    /// Answers kept in memory while the organization's data version holds.
    pub caches: Arc<Caches>,
    /// QuickBooks: the Web Connector's login and the sync settings.
    pub quickbooks: Arc<QuickBooksSettings>,
    /// Collect now: runs started in the server, and their cancel handles.
    pub launcher: Arc<Launcher>,
    /// Who read what (`http::read_log`).
    pub read_log: ReadLog,
    /// Mail and webhooks: test sends of the notification and report settings.
    pub notifier: Arc<Notifier>,
    /// `QBR_METRICS_TOKEN`: `GET /metrics` needs it as a bearer token; unset, only
    /// clients on this machine may read it.
    pub metrics_token: Option<Arc<str>>,
}

impl AppState {
    /// The state of a server on `pool` (starts the read access log's writer: call it
    /// inside the runtime).
    pub fn new(pool: DbPool, org_id: i32) -> AppState {
        AppState {
            pool: pool.clone(),
            org_id,
            caches: Arc::default(),
            quickbooks: Arc::default(),
            launcher: Arc::new(Launcher::new(
                pool.clone(),
                CollectorConfig::without_vendors(),
                org_id,
            )),
            read_log: ReadLog::start(pool.clone()),
            notifier: Arc::default(),
            metrics_token: None,
        }
    }
}
