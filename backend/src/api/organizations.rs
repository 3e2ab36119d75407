//! `/api/admin/organizations`: the organizations of this server, for platform
//! administrators (signed in; a key can't manage organizations).
use crate::error::{AppError, AppResult};
use crate::http::context::{conn, Who};
use crate::http::response::{errors, Created};
use crate::http::{ok, params, ApiOk};
use crate::service::tenants::{self as service, NewOrganization};
use qbr_shared::api::{
    OrganizationCreateRequest, OrganizationInfo, OrganizationList, OrganizationUpdateRequest,
};
use salvo::prelude::*;

/// Every organization, archived ones last.
#[endpoint(tags("admin"))]
pub async fn list_organizations(depot: &mut Depot) -> AppResult<ApiOk<OrganizationList>> {
    let mut conn = conn(depot).await?;
    let organizations = service::list_organizations(&mut conn).await?;
    Ok(ok(OrganizationList { organizations }))
}

/// Creates an organization (default thresholds) with its first admin.
#[endpoint(
    tags("admin"),
    request_body = OrganizationCreateRequest,
    responses(errors::JsonBody, errors::Conflict)
)]
pub async fn create_organization(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<Created<OrganizationInfo>> {
    let body: OrganizationCreateRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let new = NewOrganization {
        name: &body.name,
        slug: body.slug.as_deref(),
        timezone: body.timezone.as_deref(),
        admin_email: &body.admin_email,
    };
    let created = service::create_organization(&mut conn, new, who.actor()).await?;
    Ok(Created(created))
}

/// Renames, archives (`archived: true`: nobody can use it, its keys stop) or restores
/// an organization.
#[endpoint(
    tags("admin"),
    parameters(("id" = i32, Path, description = "Organization id")),
    request_body = OrganizationUpdateRequest,
    responses(errors::BadParameter, errors::JsonBody, errors::NotFound)
)]
pub async fn update_organization(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<OrganizationInfo>> {
    let id: i32 = req
        .param::<String>("id")
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::invalid_parameter("id must be a positive number"))?;
    let body: OrganizationUpdateRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let updated = service::update_organization(
        &mut conn,
        id,
        body.name.as_deref(),
        body.archived,
        who.actor(),
    )
    .await?;
    Ok(ok(updated))
}
