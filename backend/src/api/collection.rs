//! Collection status, the collection log, per-client devices, and Collect now: a run
//! started from the API (`collect::launcher`) with the nightly run's rules, followed
//! by its id and cancelled while it reads the vendors.
use crate::collect::launcher::{CancelError, LaunchError, LaunchRequest};
use crate::collect::VendorChoice;
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, organization, state, Who};
use crate::http::response::{errors, Accepted};
use crate::http::{ok, params, ApiOk};
use crate::service::collection as service;
use qbr_shared::api::*;
use qbr_shared::collection::RunStatus;
use qbr_shared::{ErrorCode, Month};
use salvo::prelude::*;

/// Per vendor: last success, last failure and freshness; the running run's progress.
#[endpoint(
    tags("collection"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_status(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionStatusResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::status(&mut conn, &org).await?))
}

/// The latest collection runs, newest first.
#[endpoint(
    tags("collection"),
    parameters(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Runs to list, default 20"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_log(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionLogResponse>> {
    let limit = params::int(req, "limit", 1, 200)?.unwrap_or(20);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::log(&mut conn, &org, limit).await?))
}

/// Endpoints and seats per client organization, from the month's last device snapshot.
#[endpoint(
    tags("collection"),
    parameters(
        ("period" = Option<Month>, Query, description = "YYYY-MM; default: the month in progress"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_devices_by_client(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<DevicesByClientResponse>> {
    let month = params::month(req, "period")?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::devices_by_client(&mut conn, &org, month).await?))
}

/// Starts a collection run now (editor or admin): the organization's configured
/// vendors (or `vendor`), the configured window (or `from`–`to`), closed months kept
/// unless `force`. 202 with the run's id as soon as it holds the organization's lock;
/// 409 while another run (nightly, CLI or API) is in progress.
#[endpoint(
    tags("collection"),
    request_body = CollectNowRequest,
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::JsonBody, errors::Conflict)
)]
pub async fn post_run(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Accepted<CollectNowResponse>> {
    let body: CollectNowRequest = params::json_body(req).await?;
    let org = {
        let mut conn = conn(depot).await?;
        organization(req, depot, &mut conn).await?
    };
    crate::http::context::organization_id(depot, body.organization_id)?;
    let request = launch_request(&body, org.current_month(chrono::Utc::now()))?;
    let who = Who::of(req, depot);
    let launcher = state(depot)?.launcher.clone();
    let run_id = launcher
        .launch(org.id, request)
        .await
        .map_err(launch_failed)?;
    tracing::info!(organization = %org.slug, run_id, by = %who.name, "collect now started");
    Ok(Accepted(CollectNowResponse {
        run_id,
        status: RunStatus::Running,
    }))
}

/// One run of the collection log, with its progress (`progress_done` of
/// `progress_total` steps) while it runs.
#[endpoint(
    tags("collection"),
    parameters(
        ("id" = i64, Path, description = "Run id"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_run(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<CollectionRunResponse>> {
    let id = run_id(req)?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let run = service::run(&mut conn, &org, id).await?;
    let cancellable = state(depot)?.launcher.is_cancellable(org.id, id);
    Ok(ok(CollectionRunResponse { run, cancellable }))
}

/// Cancels a run this server started while it still reads its vendors: it ends as
/// `cancelled` and writes nothing. 409 for a run that has ended, or that another
/// process (the CLI, another server) runs.
#[endpoint(
    tags("collection"),
    parameters(
        ("id" = i64, Path, description = "Run id"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound, errors::Conflict)
)]
pub async fn post_cancel_run(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Accepted<CollectionRunResponse>> {
    let id = run_id(req)?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let run = service::run(&mut conn, &org, id).await?;
    let who = Who::of(req, depot);
    match state(depot)?.launcher.cancel(org.id, id) {
        Ok(()) => {
            tracing::info!(organization = %org.slug, run_id = id, by = %who.name, "collect now cancelled");
            Ok(Accepted(CollectionRunResponse {
                run,
                cancellable: false,
            }))
        }
        Err(CancelError::NotCancellable) if run.status != RunStatus::Running => Err(
            AppError::conflict(format!("Run {id} has ended ({})", run.status.as_str())),
        ),
        Err(CancelError::NotCancellable) => Err(AppError::conflict(format!(
            "Run {id} was started by {} in another process; it can't be cancelled here",
            run.trigger.as_str()
        ))),
    }
}

fn run_id(req: &Request) -> AppResult<i64> {
    req.param::<String>("id")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::invalid_parameter("id must be a positive number"))
}

/// What a collect-now body asks for, checked (`current`: the organization's month in
/// progress, the last a run may cover).
fn launch_request(body: &CollectNowRequest, current: Month) -> AppResult<LaunchRequest> {
    let vendors = match body.vendor {
        None => VendorChoice::All,
        Some(v) if v.is_collected() => VendorChoice::Only(v),
        Some(v) => {
            return Err(AppError::invalid_body(format!(
                "{} is not collected by a run (QuickBooks syncs on its own)",
                v.label()
            )))
        }
    };
    let month = |name: &str, v: &str| {
        v.parse::<Month>()
            .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("{name}: {e}")))
    };
    let months = match (&body.from, &body.to) {
        (None, None) => None,
        (Some(from), Some(to)) => {
            let (from, to) = (month("from", from)?, month("to", to)?);
            if from > to {
                return Err(AppError::new(
                    ErrorCode::InvalidPeriod,
                    format!("from {from} is after to {to}"),
                ));
            }
            if to > current {
                return Err(AppError::new(
                    ErrorCode::InvalidPeriod,
                    format!("to {to} has not started yet (the month in progress is {current})"),
                ));
            }
            Some((from, to))
        }
        _ => {
            return Err(AppError::invalid_body(
                "give both from and to, or neither (the configured window)",
            ))
        }
    };
    Ok(LaunchRequest {
        vendors,
        months,
        force: body.force.unwrap_or(false),
    })
}

fn launch_failed(e: LaunchError) -> AppError {
    match e {
        LaunchError::Refused => AppError::conflict(
            "Another collection run is in progress; try again when it has finished",
        ),
        LaunchError::NotConfigured(why) => AppError::new(ErrorCode::Conflict, why),
        LaunchError::Failed(e) => AppError::internal(e),
    }
}
