//! `/api/qbr/settings/notifications` and `/api/qbr/settings/report-delivery`: who is
//! told of what, the scheduled report, and "send a test now" for each (admins only:
//! `shared::access::required_role`).
use crate::error::AppResult;
use crate::http::context::{conn, organization, organization_id, reader, state, Who};
use crate::http::response::errors;
use crate::http::{ok, params, ApiOk};
use crate::service::{notifications, report_delivery};
use qbr_shared::api::{
    NotificationSettings, NotificationSettingsUpdate, NotificationTestRequest,
    ReportDeliverySettings, ReportDeliveryTestRequest, ReportDeliveryUpdate, TestSendResponse,
};
use salvo::prelude::*;
use serde::de::DeserializeOwned;

/// A JSON body whose `organization_id`, when given, must be the request's (403).
async fn body(req: &mut Request, depot: &Depot) -> AppResult<serde_json::Value> {
    let value: serde_json::Value = params::json_body(req).await?;
    if let Some(id) = value
        .get("organization_id")
        .and_then(serde_json::Value::as_i64)
    {
        organization_id(depot, Some(i32::try_from(id).unwrap_or(i32::MAX)))?;
    }
    Ok(value)
}

fn parsed<T: DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    serde_json::from_value(value)
        .map_err(|e| crate::error::AppError::invalid_body(format!("Invalid JSON body: {e}")))
}

/// The recipients (webhooks by their hint only), the events each is told of, when
/// QuickBooks counts as stale, whether email and webhooks can be used, and the latest
/// messages with how they went.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    responses(errors::BadParameter)
)]
pub async fn get_notifications(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<NotificationSettings>> {
    let notifier = state(depot)?.notifier.clone();
    let mut r = reader(req, depot).await?;
    Ok(ok(
        notifications::settings(&mut r.conn, &r.org, &notifier).await?
    ))
}

/// Replaces the recipients (one left out is removed; a webhook sent without
/// `webhook_url` keeps its URL) and the QuickBooks limit. Everything is checked first:
/// a bad address (`INVALID_EMAIL`), webhook (`INVALID_WEBHOOK_URL`), event
/// (`UNKNOWN_EVENT`) or a channel the server can't use (`NOT_CONFIGURED`) changes
/// nothing. Audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    request_body = NotificationSettingsUpdate,
    responses(errors::SettingsBody)
)]
pub async fn put_notifications(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<NotificationSettings>> {
    let value = body(req, depot).await?;
    let update = notifications::parse_update(value)?;
    let who = Who::of(req, depot);
    let notifier = state(depot)?.notifier.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(notifications::update(
        &mut conn,
        &org,
        &notifier,
        who.actor(),
        &update,
    )
    .await?))
}

/// "Send a test now": a test message to every recipient (or to `recipient_id`), one
/// try each; each result says whether it arrived and why not. Audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    request_body = NotificationTestRequest,
    responses(errors::SettingsBody, errors::NotFound)
)]
pub async fn post_notifications_test(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<TestSendResponse>> {
    let request: NotificationTestRequest = parsed(body(req, depot).await?)?;
    let who = Who::of(req, depot);
    let notifier = state(depot)?.notifier.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(notifications::send_test(
        &mut conn,
        &org,
        &notifier,
        who.actor(),
        request.recipient_id,
    )
    .await?))
}

/// The scheduled report: on, the day (and hour) of the month after each quarter
/// closes, monthly quarter-to-date reports, the addresses, the paper; when the next
/// one goes out, and the latest deliveries.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    responses(errors::BadParameter)
)]
pub async fn get_report_delivery(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ReportDeliverySettings>> {
    let notifier = state(depot)?.notifier.clone();
    let mut r = reader(req, depot).await?;
    Ok(ok(report_delivery::settings(
        &mut r.conn,
        &r.org,
        &notifier,
    )
    .await?))
}

/// Changes the schedule. Checked first (day 1–28, hour 0–23, every address; turning it
/// on needs an address and `SMTP_URL`), audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    request_body = ReportDeliveryUpdate,
    responses(errors::SettingsBody)
)]
pub async fn put_report_delivery(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ReportDeliverySettings>> {
    let update: ReportDeliveryUpdate = parsed(body(req, depot).await?)?;
    let who = Who::of(req, depot);
    let notifier = state(depot)?.notifier.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(report_delivery::update(
        &mut conn,
        &org,
        &notifier,
        who.actor(),
        &update,
    )
    .await?))
}

/// "Send a test now": the printable report of `period` (default: the last closed
/// quarter, else the dashboard's) mailed now to `to` or the stored addresses, the
/// SmartNumbers' status in the body; one try each, each result says how it went.
/// Nothing is recorded as a scheduled delivery. Audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "One of your organizations (default: your first)")),
    request_body = ReportDeliveryTestRequest,
    responses(errors::SettingsBody, errors::NotFound)
)]
pub async fn post_report_delivery_test(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<TestSendResponse>> {
    let request: ReportDeliveryTestRequest = parsed(body(req, depot).await?)?;
    let who = Who::of(req, depot);
    let caches = state(depot)?.caches.clone();
    let notifier = state(depot)?.notifier.clone();
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(report_delivery::send_test(
        &mut conn,
        &caches,
        &org,
        &notifier,
        who.actor(),
        &request,
    )
    .await?))
}
