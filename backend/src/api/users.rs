//! `/api/qbr/users`: the members of the request's organization and their roles (its
//! admins only). Removing a member takes effect on that user's next request.
use crate::error::{AppError, AppResult};
use crate::http::context::{asked_organization, conn, organization_id, Who};
use crate::http::response::{errors, Created};
use crate::http::{ok, params, ApiOk};
use crate::service::tenants as service;
use qbr_shared::api::{MemberInfo, MemberInviteRequest, MemberList, MemberRoleRequest};
use salvo::prelude::*;

fn user_id(req: &Request) -> AppResult<i64> {
    req.param::<String>("user_id")
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::invalid_parameter("user_id must be a positive number"))
}

/// The members, by email.
#[endpoint(tags("users"), parameters(("organization_id" = Option<i32>, Query, minimum = 1, description = "One of your organizations (default: your first)")), responses(errors::BadParameter))]
pub async fn list_users(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<MemberList>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    let members = service::list_members(&mut conn, org).await?;
    Ok(ok(MemberList { members }))
}

/// Gives an email a role here (invites it: it can sign in from now on).
#[endpoint(
    tags("users"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, description = "One of your organizations (default: your first)")),
    request_body = MemberInviteRequest,
    responses(errors::BadParameter, errors::JsonBody, errors::Conflict)
)]
pub async fn invite_user(req: &mut Request, depot: &mut Depot) -> AppResult<Created<MemberInfo>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let body: MemberInviteRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let member = service::invite(&mut conn, org, &body.email, body.role, who.actor()).await?;
    Ok(Created(member))
}

/// Changes a member's role (an organization keeps at least one admin).
#[endpoint(
    tags("users"),
    parameters(
        ("user_id" = i64, Path, description = "The member's user id"),
        ("organization_id" = Option<i32>, Query, minimum = 1, description = "One of your organizations (default: your first)")
    ),
    request_body = MemberRoleRequest,
    responses(errors::BadParameter, errors::JsonBody, errors::NotFound, errors::Conflict)
)]
pub async fn change_user_role(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<MemberInfo>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let user = user_id(req)?;
    let body: MemberRoleRequest = params::json_body(req).await?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::change_role(
        &mut conn,
        org,
        user,
        body.role,
        who.actor(),
    )
    .await?))
}

/// Removes a member: its next request here is refused; with no organization left, its
/// sessions end at once.
#[endpoint(
    tags("users"),
    parameters(
        ("user_id" = i64, Path, description = "The member's user id"),
        ("organization_id" = Option<i32>, Query, minimum = 1, description = "One of your organizations (default: your first)")
    ),
    responses(errors::BadParameter, errors::NotFound, errors::Conflict)
)]
pub async fn remove_user(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<MemberInfo>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let user = user_id(req)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::remove(&mut conn, org, user, who.actor()).await?))
}
