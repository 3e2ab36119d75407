//! The organization a connection acts for. Row-level security (the migration
//! `row_level_security`, docs/MULTITENANCY.md) shows and accepts a tenant table's rows
//! only for the organization the connection has *entered* (the setting
//! `app.organization_id`), and none while it has entered none. Queries filter by
//! organization anyway; this is the wall behind them, for the one that forgets.
//!
//! Who enters:
//! - a request: the auth guard, once it knows the organization (`auth::require_auth`),
//!   for the rest of the request's connection; a handler that then acts on another
//!   organization enters that one (`http::context::organization_by_id`);
//! - a transaction that writes tenant data: [`enter_local`] (most take the
//!   organization's write lock, `store::lock_organization_writes`, which enters in the
//!   same round trip), so it holds even on a connection that entered nothing;
//! - background work (collection runs, QuickBooks syncs, the maintenance refresh, the
//!   CLI): [`checkout`] gives a pooled connection already entered; work on the platform
//!   tables only (sessions, sign-ins, advisory locks) takes [`checkout_platform`].
//!
//! The pool hands a connection out as its last user left it (`db::pool` explains why
//! it runs no statement then): every checkout decides its organization right away —
//! [`checkout`] enters one, [`checkout_platform`] leaves any, and the request's
//! connection is entered by the guard before a handler sees it (the guard's own look-up
//! reads platform tables only). No code calls `pool.get()` but these (a test checks),
//! so one user's organization never reaches the next.
use super::{DbConn, DbPool};
use diesel::sql_types::{Integer, Nullable};
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The role every pooled connection acts as (`SET ROLE`): not the tables' owner, not a
/// superuser, so row-level security applies to it. The migration creates it.
pub const APP_ROLE: &str = "qbr_app";

/// The setting the policies read (through `qbr_current_organization()`).
pub const SETTING: &str = "app.organization_id";

/// `SET [LOCAL] app.organization_id = <id>`. A statement rather than `set_config()`:
/// Citus passes a transaction's `SET LOCAL` on to its workers, never a function call
/// (docs/MULTITENANCY.md). The id is an integer, so writing it into the text is safe;
/// one round trip, nothing to prepare.
pub(crate) fn set_statement(organization_id: i32, local: bool) -> String {
    let scope = if local { "LOCAL " } else { "" };
    format!("SET {scope}{SETTING} = {organization_id}")
}

/// Enters `organization_id` for the rest of this connection's checkout: until another
/// organization is entered, or the connection goes back to the pool.
pub async fn enter(conn: &mut AsyncPgConnection, organization_id: i32) -> QueryResult<()> {
    conn.batch_execute(&set_statement(organization_id, false))
        .await
}

/// Enters `organization_id` until the end of the current transaction (`SET LOCAL`); the
/// connection's own organization, if any, comes back after it. Outside a transaction it
/// does nothing lasting.
pub async fn enter_local(conn: &mut AsyncPgConnection, organization_id: i32) -> QueryResult<()> {
    conn.batch_execute(&set_statement(organization_id, true))
        .await
}

/// Leaves the organization: tenant tables show no rows until one is entered again.
pub async fn leave(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    conn.batch_execute(&format!("RESET {SETTING}")).await
}

/// A pooled connection that has entered `organization_id`, whatever its last user
/// entered. Fails like `pool.get()` does.
pub async fn checkout(pool: &DbPool, organization_id: i32) -> Result<DbConn, PoolError> {
    let mut conn = pool.get().await?;
    enter(&mut conn, organization_id)
        .await
        .map_err(query_failed)?;
    Ok(conn)
}

/// A pooled connection in no organization (its last user's left): for the platform
/// tables (sessions, sign-ins), the server's own audit events and advisory locks. Fails
/// like `pool.get()` does.
pub async fn checkout_platform(pool: &DbPool) -> Result<DbConn, PoolError> {
    let mut conn = pool.get().await?;
    leave(&mut conn).await.map_err(query_failed)?;
    Ok(conn)
}

fn query_failed(e: diesel::result::Error) -> PoolError {
    PoolError::Backend(diesel_async::pooled_connection::PoolError::QueryError(e))
}

/// The organization the connection has entered, if any.
pub async fn current(conn: &mut AsyncPgConnection) -> QueryResult<Option<i32>> {
    #[derive(diesel::QueryableByName)]
    struct Entered {
        #[diesel(sql_type = Nullable<Integer>)]
        organization_id: Option<i32>,
    }
    let row: Entered = diesel::sql_query("SELECT qbr_current_organization() AS organization_id")
        .get_result(conn)
        .await?;
    Ok(row.organization_id)
}
