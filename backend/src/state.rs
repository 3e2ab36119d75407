//! What every handler can reach through the depot. Nothing here is state another
//! replica would need: sessions, locks and caches live in PostgreSQL.
use crate::db::DbPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The organization used when a request names none.
    pub org_id: i32,
}
