//! `/api/qbr/settings`: the organization's settings, read by every member and changed
//! by its admins (`service::settings`).
use crate::error::AppResult;
use crate::http::context::{asked_organization, conn, organization_id, state, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk};
use crate::service::settings as service;
use qbr_shared::api::{OrganizationSettings, SettingsUpdateRequest, SettingsUpdateResponse};
use salvo::prelude::*;

/// The organization's settings: name, time zone, working hours, excluded device
/// organizations and the collection schedule.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter)
)]
pub async fn get_settings(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<OrganizationSettings>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let schedule = state(depot)?.launcher.server_schedule();
    let mut conn = conn(depot).await?;
    Ok(ok(service::get(&mut conn, org, &schedule).await?))
}

/// Changes the settings given (admins); the others stay. A new time zone or working
/// hours figure computes the SmartNumbers again.
#[endpoint(
    tags("settings"),
    request_body = SettingsUpdateRequest,
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::JsonBody, errors::BadParameter)
)]
pub async fn put_settings(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<SettingsUpdateResponse>> {
    let body: SettingsUpdateRequest = params::json_body(req).await?;
    let org = organization_id(depot, asked_organization(req)?)?;
    organization_id(depot, body.organization_id)?;
    let schedule = state(depot)?.launcher.server_schedule();
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::update(
        &mut conn,
        org,
        &body,
        &schedule,
        who.actor(),
    )
    .await?))
}
