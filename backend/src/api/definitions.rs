//! The catalogue, the periods with data, and the audit log.
use crate::error::{AppError, AppResult};
use crate::http::context::{identity, reader, Identity};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk, Cached};
use crate::service::{audit, definitions, periods};
use qbr_shared::api::*;
use salvo::prelude::*;

/// Every monthly metric and SmartNumber: key, label, category, unit, source,
/// aggregation, formula, description.
#[endpoint(tags("definitions"))]
pub async fn list_metric_definitions() -> AppResult<Cached<MetricDefinitionsResponse>> {
    Ok(Cached(definitions::metric_definitions()?))
}

/// The months, quarters and years that have data, newest first.
#[endpoint(
    tags("definitions"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn list_periods(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Cached<PeriodsResponse>> {
    let mut r = reader(req, depot).await?;
    Ok(Cached(periods::list(&mut r.conn, &r.caches, &r.org).await?))
}

/// The audit log, newest first: `kind=change` (the default) lists sign-ins, data
/// changes, settings and threshold edits; `kind=read` lists who read the
/// organization's data (endpoint, period, user or key), kept 90 days.
#[endpoint(
    tags("audit"),
    parameters(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Entries to list, default 100"),
        ("kind" = Option<String>, Query, pattern = "^(change|read)$", description = "change (default) or read"),
    ),
    responses(errors::BadParameter)
)]
pub async fn get_audit(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<AuditResponse>> {
    let limit = params::int(req, "limit", 1, 1000)?.unwrap_or(100);
    let reads = match req.query::<String>("kind").as_deref() {
        None | Some("change") => false,
        Some("read") => true,
        Some(other) => {
            return Err(AppError::invalid_parameter(format!(
                "kind must be change or read, not '{other}'"
            )))
        }
    };
    let mut r = reader(req, depot).await?;
    if reads {
        return Ok(ok(audit::reads(&mut r.conn, r.org.id, limit).await?));
    }
    // Sign-ins belong to the server, not to an organization: signed-in users see them,
    // programs (API keys) see only their organization's events.
    let events = match identity(depot) {
        Some(Identity::Session { .. }) => audit::Events::OrganizationAndServer,
        _ => audit::Events::Organization,
    };
    Ok(ok(
        audit::latest(&mut r.conn, r.org.id, events, limit).await?
    ))
}
