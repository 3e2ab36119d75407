//! QuickBooks: the accounts and their mappings, a mapping change, the status of the
//! syncs, a request for more history, and the Web Connector's `.qwc` file.
use crate::collect::quickbooks::qwc;
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, organization, organization_by_id, organization_id, state, Who};
use crate::http::response::{errors, FileBytes};
use crate::http::{ok, params, ApiOk};
use crate::service::quickbooks as service;
use qbr_shared::quickbooks::api::{
    BackfillRequest, MappingsUpdateRequest, MappingsUpdateResponse, QuickBooksAccountsResponse,
    QuickBooksStatus,
};
use salvo::http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use salvo::prelude::*;

/// Every account QuickBooks reported: its section, where its amounts go (its own
/// mapping, a parent's, the default rule, or nowhere) and its amount in the newest
/// report's last month.
#[endpoint(
    tags("quickbooks"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_accounts(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<QuickBooksAccountsResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::accounts(&mut conn, &org).await?))
}

/// Maps accounts to metrics (`{"mappings": [{"account", "metric", "reason"}]}`; metric
/// `ignore` needs a reason, null removes the account's own mapping). All or nothing,
/// audited; the stored reports are mapped again and the months' values rewritten
/// (manual and imported values stay).
#[endpoint(
    tags("quickbooks"),
    request_body = MappingsUpdateRequest,
    responses(errors::JsonBody, errors::NotFound, errors::Conflict)
)]
pub async fn put_mappings(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<MappingsUpdateResponse>> {
    let body: MappingsUpdateRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let org_id = organization_id(depot, body.organization_id)?;
    let mut conn = conn(depot).await?;
    let org = organization_by_id(depot, &mut conn, org_id).await?;
    drop(conn);
    let pool = state(depot)?.pool.clone();
    Ok(ok(service::update_mappings(
        &pool,
        &org,
        &body.mappings,
        who.actor(),
    )
    .await?))
}

/// The Web Connector's setup and last session, the newest reports (with the months
/// that did not reconcile), the accounts that go nowhere, a pending backfill.
#[endpoint(
    tags("quickbooks"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_status(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<QuickBooksStatus>> {
    let settings = state(depot)?.quickbooks.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(service::status(&mut conn, &org, &settings).await?))
}

/// Asks the next Web Connector run for history from `from` (`YYYY-MM`).
#[endpoint(
    tags("quickbooks"),
    request_body = BackfillRequest,
    responses(errors::JsonBody, errors::NotFound)
)]
pub async fn post_backfill(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<serde_json::Value>> {
    let body: BackfillRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let org_id = organization_id(depot, body.organization_id)?;
    let mut conn = conn(depot).await?;
    let org = organization_by_id(depot, &mut conn, org_id).await?;
    let from = service::request_backfill(&mut conn, &org, &body.from, who.actor()).await?;
    Ok(ok(serde_json::json!({ "backfill_from": from.to_string() })))
}

/// The `.qwc` file for the Web Connector (attachment), for the service at `url`.
#[endpoint(
    tags("quickbooks"),
    parameters(("url" = String, Query, description = "The public URL of /api/qbwc (https, or http on localhost)")),
    responses(
        (status_code = 200, description = "The .qwc file, as an attachment", content_type = ["application/xml"], body = FileBytes),
        errors::BadParameter,
        errors::NotFound,
    )
)]
pub async fn get_qwc(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    let url = params::required(params::raw(req, "url"), "url")?;
    let settings = state(depot)?.quickbooks.clone();
    let Some(login) = &settings.web_connector else {
        return Err(AppError::not_found(
            "The Web Connector is not set up: set QBWC_USERNAME and QBWC_PASSWORD_HASH",
        ));
    };
    let file = qwc::qwc_file(&url, &login.username)
        .map_err(|e| AppError::invalid_parameter(e.to_string()))?;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    res.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"qbr-dashboard.qwc\""),
    );
    res.write_body(file)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))
}
