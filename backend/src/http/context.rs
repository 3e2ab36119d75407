//! The request context every handler works with: the application state, a database
//! connection, who is acting (the [`Identity`] the auth guard found), the organization
//! the request acts on, the client's address and the request id. The hoops fill the
//! depot (`middleware` the request id, `auth` the identity); handlers only read it.
use super::params;
use super::state::AppState;
use crate::db::{tenant, DbConn};
use crate::error::{AppError, AppResult};
use crate::store::org::Org;
use diesel_async::AsyncPgConnection;
use qbr_shared::ErrorCode;
use salvo::prelude::*;

/// How the caller proved who it is.
#[derive(Clone, Debug)]
pub enum Identity {
    Session {
        user_id: i64,
        email: String,
        name: Option<String>,
        expires_at: chrono::DateTime<chrono::Utc>,
        /// Creates, renames and archives organizations.
        platform_admin: bool,
    },
    ApiKey {
        id: i64,
        name: String,
        organization_id: i32,
        write: bool,
    },
}

impl Identity {
    /// The name recorded as "who" in histories and the audit log.
    pub fn actor(&self) -> String {
        match self {
            Identity::Session { email, .. } => email.clone(),
            Identity::ApiKey { name, .. } => format!("apikey:{name}"),
        }
    }
}

/// The organization a request acts on and the caller's role there, as the auth guard
/// found them (read with the session or key, in one query): the membership the
/// session chose (`organization_id`, else the user's first organization) or the API
/// key's organization. Never taken from a request parameter alone.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub org: Org,
    pub role: qbr_shared::access::Role,
}

/// The request's tenant (protected routes only; the guard puts it in the depot).
pub fn tenant(depot: &Depot) -> AppResult<&Tenant> {
    depot.get_typed::<Tenant>().map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "no tenant: route not behind the auth guard"
        ))
    })
}

const REQUEST_ID_KEY: &str = "request_id";

/// Records the request's id (the request hoop does, first thing).
pub fn set_request_id(depot: &mut Depot, id: String) {
    depot.insert(REQUEST_ID_KEY, id);
}

/// The current request's id.
pub fn request_id(depot: &Depot) -> Option<&str> {
    depot.get::<String>(REQUEST_ID_KEY).ok().map(String::as_str)
}

/// The identity of the current request, once the auth guard ran.
pub fn identity(depot: &Depot) -> Option<&Identity> {
    depot.get_typed::<Identity>().ok()
}

/// Who is acting: the signed-in user's email or `apikey:<name>`.
pub fn actor(depot: &Depot) -> String {
    identity(depot).map_or_else(|| "local".to_string(), Identity::actor)
}

/// The organization an API key belongs to (a key never acts for another one).
pub fn key_organization(depot: &Depot) -> Option<i32> {
    match identity(depot) {
        Some(Identity::ApiKey {
            organization_id, ..
        }) => Some(*organization_id),
        _ => None,
    }
}

pub fn state(depot: &Depot) -> AppResult<&AppState> {
    depot
        .get_typed::<AppState>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("application state missing")))
}

/// The connection the auth guard used, left for the handler.
struct HeldConn(std::sync::Mutex<Option<DbConn>>);

/// The organization the auth guard entered (row-level security, `db::tenant`).
#[derive(Clone, Copy, Debug)]
struct EnteredTenant(i32);

/// Enters `organization_id` on the request's connection (row-level security shows its
/// rows only) and remembers it for any other connection the request takes; with `None`
/// (no such organization) the connection leaves whatever its last user entered.
pub async fn enter_tenant(
    depot: &mut Depot,
    conn: &mut AsyncPgConnection,
    organization_id: Option<i32>,
) -> AppResult<()> {
    match organization_id {
        Some(id) => {
            tenant::enter(conn, id).await?;
            depot.insert_typed(EnteredTenant(id));
        }
        None => tenant::leave(conn).await?,
    }
    Ok(())
}

/// Leaves `conn` for the request's handler (the auth guard does).
pub fn hold_conn(depot: &mut Depot, conn: DbConn) {
    depot.insert_typed(HeldConn(std::sync::Mutex::new(Some(conn))));
}

/// A connection: the one the auth guard used (one pool checkout per request), else a
/// pooled one in the organization the guard entered (503 when the database can't be
/// reached). Before the guard entered one — the guard's own look-up, and the public
/// sign-in, sign-out and status endpoints — it is straight from the pool and may still
/// be in its last user's organization: these read platform tables only (sessions,
/// organizations, the server's audit events), and the guard then enters the request's
/// organization (`db::tenant`).
pub async fn conn(depot: &Depot) -> AppResult<DbConn> {
    let held = depot
        .get_typed::<HeldConn>()
        .ok()
        .and_then(|h| h.0.lock().ok()?.take());
    match (held, depot.get_typed::<EnteredTenant>()) {
        (Some(conn), _) => Ok(conn),
        (None, Ok(EnteredTenant(org))) => Ok(tenant::checkout(&state(depot)?.pool, *org).await?),
        (None, Err(_)) => Ok(state(depot)?.pool.get().await?),
    }
}

/// The client's address as the server sees it (the proxy's, behind a reverse proxy).
pub fn client_ip(req: &Request) -> Option<String> {
    client_ip_addr(req).map(|ip| ip.to_string())
}

/// The client's address as `RequestContext` resolved it (through trusted proxies).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

/// The client's address: the one resolved through trusted reverse proxies
/// (`QBR_TRUSTED_PROXIES`), else the connection's peer.
pub fn client_ip_addr(req: &Request) -> Option<std::net::IpAddr> {
    if let Some(ClientIp(ip)) = req.extensions().get::<ClientIp>() {
        return Some(*ip);
    }
    let addr = req.remote_addr();
    addr.as_ipv4()
        .map(|a| std::net::IpAddr::V4(*a.ip()))
        .or_else(|| addr.as_ipv6().map(|a| std::net::IpAddr::V6(*a.ip())))
}

/// The `organization_id` query parameter (400 when malformed).
pub fn asked_organization(req: &Request) -> AppResult<Option<i32>> {
    Ok(params::int(req, "organization_id", 1, i64::from(i32::MAX))?.map(|v| v as i32))
}

/// The organization a request acts on: the tenant's. An `organization_id` in the
/// request (query or body) must name it: a key naming another organization, or a user
/// naming one the guard did not choose, gets 403 (the guard chooses by the query's
/// `organization_id`, so a body naming another of the user's organizations must say
/// so in the query too).
pub fn organization_id(depot: &Depot, asked: Option<i32>) -> AppResult<i32> {
    let tenant = tenant(depot)?;
    match asked {
        Some(asked) if asked != tenant.org.id => Err(AppError::new(
            ErrorCode::Forbidden,
            if key_organization(depot).is_some() {
                "This API key belongs to another organization".to_string()
            } else {
                format!(
                    "organization_id {asked} is not the organization of this request ({}); \
                     name it in the query string",
                    tenant.org.id
                )
            },
        )),
        _ => Ok(tenant.org.id),
    }
}

/// The organization of the request (checking the query's `organization_id`).
pub async fn organization(
    req: &Request,
    depot: &Depot,
    _conn: &mut AsyncPgConnection,
) -> AppResult<Org> {
    organization_id(depot, asked_organization(req)?)?;
    Ok(tenant(depot)?.org.clone())
}

/// Organization `id`, which [`organization_id`] checked is the tenant's.
pub async fn organization_by_id(
    depot: &Depot,
    _conn: &mut AsyncPgConnection,
    id: i32,
) -> AppResult<Org> {
    let org = &tenant(depot)?.org;
    if org.id != id {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            format!("Organization {id} is not the organization of this request"),
        ));
    }
    Ok(org.clone())
}

/// What a read handler works with: a connection, the server's caches and the
/// organization of the request.
pub struct Reader {
    pub conn: DbConn,
    pub caches: std::sync::Arc<crate::cache::Caches>,
    pub org: Org,
}

/// The [`Reader`] of a request (its `organization_id`, the key's, or the default).
pub async fn reader(req: &Request, depot: &Depot) -> AppResult<Reader> {
    let caches = state(depot)?.caches.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(Reader { conn, caches, org })
}

/// Who makes a change and from where, as the service layer records it.
pub struct Who {
    pub name: String,
    pub ip: Option<String>,
}

impl Who {
    /// The request's actor and client address.
    pub fn of(req: &Request, depot: &Depot) -> Who {
        Who {
            name: actor(depot),
            ip: client_ip(req),
        }
    }

    pub fn actor(&self) -> crate::service::Actor<'_> {
        crate::service::Actor {
            name: &self.name,
            ip: self.ip.as_deref(),
        }
    }
}
