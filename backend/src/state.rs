//! What every handler can reach through the depot. Nothing here is state another
//! replica would need: sessions and locks live in PostgreSQL, the in-memory caches are
//! checked against a version kept there (`crate::cache`), and the rate-limit counters in
//! `auth` are per process by design.
use crate::auth::Auth;
use crate::db::DbPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The organization used when a request names none.
    pub org_id: i32,
    /// Sign-in settings, rate limiters and the HTTP client for Microsoft.
    pub auth: Arc<Auth>,
    /// Answers kept in memory while the organization's data version holds.
    pub caches: Arc<crate::cache::Caches>,
}
