//! `/api/qbr/clients…`: the MSP's clients across vendors (`service::clients`), their
//! linking on the matching page, and each client's inputs and numbers
//! (`service::client_numbers`).
use crate::error::{AppError, AppResult};
use crate::exchange::client_import::{import_clients, parse_client_file, ClientImportOptions};
use crate::http::context::reader;
use crate::http::context::{asked_organization, conn, organization_id, Who};
use crate::http::response::errors;
use crate::http::response::FileBytes;
use crate::http::{ok, params, ApiOk};
use crate::report::{self, Paper};
use crate::service::report::report_quarter;
use crate::service::{client_numbers, clients as service};
use qbr_shared::api::PaperSize;
use qbr_shared::clients::api::{
    ClientImportResponse, ClientMetricsResponse, ClientRankingResponse, ClientThresholdUpdate,
    ClientThresholdsResponse, ClientValueUpdate, ClientsResponse, MatchingUpdate,
};
use qbr_shared::clients::ClientNumber;
use qbr_shared::openapi::TimeZoneName;
use qbr_shared::{Month, Period, Quarter};
use salvo::prelude::*;

/// Every client with the vendor entities linked to it, and the entities that are no
/// client: unmatched (listed until a person links them) and internal.
#[endpoint(
    tags("clients"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter)
)]
pub async fn get_clients(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientsResponse>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    Ok(ok(service::list(&mut conn, org).await?))
}

/// Links vendor entities to clients, to new clients, or to none (editors); or confirms
/// every proposed link. Checked whole before anything changes; audited.
#[endpoint(
    tags("clients"),
    request_body = MatchingUpdate,
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::JsonBody, errors::BadParameter)
)]
pub async fn put_matching(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientsResponse>> {
    let body: MatchingUpdate = params::json_body(req).await?;
    let org = organization_id(depot, asked_organization(req)?)?;
    organization_id(depot, body.organization_id)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::update_matching(
        &mut conn,
        org,
        &body,
        who.actor(),
    )
    .await?))
}

pub(super) fn client_id(req: &Request) -> AppResult<i64> {
    req.param::<String>("id")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::invalid_parameter("id must be a positive number"))
}

/// A client's inputs and numbers per month of `from`–`to` (at most 60 months) and per
/// quarter of them, with the previous period's values.
#[endpoint(
    tags("clients"),
    parameters(
        ("id" = i64, Path, description = "Client id"),
        ("from" = String, Query, description = "First month, YYYY-MM"),
        ("to" = String, Query, description = "Last month, YYYY-MM"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_client_metrics(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientMetricsResponse>> {
    let id = client_id(req)?;
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    // Another organization's client (or none) is not found, whatever the query says.
    service::one(&mut conn, org, id).await?;
    let from = params::required(params::month(req, "from")?, "from")?;
    let to = params::required(params::month(req, "to")?, "to")?;
    if from > to {
        return Err(AppError::invalid_parameter("from must not be after to"));
    }
    Ok(ok(
        client_numbers::metrics(&mut conn, org, id, from, to).await?
    ))
}

/// Every client's inputs and numbers of a period, best first by `by`, with the totals
/// row and how the clients' values add up to the organization's (what is unmatched or
/// internal told apart).
#[endpoint(
    tags("clients"),
    parameters(
        ("period" = String, Query, description = "Month (2025-01), quarter (2025-Q1) or year (2025)"),
        ("by" = Option<ClientNumber>, Query, description = "The number to rank by (default rhem)"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter)
)]
pub async fn get_ranking(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientRankingResponse>> {
    let period: Period = params::required(params::period(req, "period")?, "period")?;
    let by = match params::choice(req, "by", ClientNumber::WORDS)? {
        Some(word) => ClientNumber::parse(word).unwrap_or(ClientNumber::Rhem),
        None => ClientNumber::Rhem,
    };
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    Ok(ok(
        client_numbers::ranking(&mut conn, org, period, by).await?
    ))
}

/// Imports per-client history (CSV, or a workbook's first sheet, with the columns
/// `client, month, metric, value`; multipart field `file`, at most 20 MiB) for the
/// months before collection started (editors). `commit=false` (default) previews;
/// `commit=true` stores it, all or nothing: imported values win over collected ones.
/// Clients are found by name; `create_clients=true` creates the ones not found.
#[endpoint(
    tags("clients"),
    parameters(
        ("commit" = Option<bool>, Query, description = "false (default): preview only; true: apply"),
        ("create_clients" = Option<bool>, Query, description = "Create the clients the file names that do not exist"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    request_body(content = super::exchange::ImportUpload, content_type = "multipart/form-data"),
    responses(errors::Upload, errors::Conflict)
)]
pub async fn post_client_import(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientImportResponse>> {
    let flag = |req: &Request, name: &str| -> AppResult<bool> {
        Ok(params::choice(req, name, &["true", "false"])?.unwrap_or("false") == "true")
    };
    let commit = flag(req, "commit")?;
    let create_clients = flag(req, "create_clients")?;
    let org = organization_id(depot, asked_organization(req)?)?;
    let (name, bytes) = super::exchange::uploaded_file(req).await?;
    // Unpacking and parsing a workbook is CPU work: keep it off the async workers.
    let file = tokio::task::spawn_blocking(move || parse_client_file(name.as_deref(), &bytes))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("parse: {e}")))?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let opts = ClientImportOptions {
        commit,
        create_clients,
        actor: &who.name,
        ip: who.ip.as_deref(),
    };
    Ok(ok(import_clients(&mut conn, org, &file, opts).await?))
}

/// The client-facing QBR report of a quarter as a PDF: the client's devices and their
/// change, tickets and hours by month and category, how tickets were closed, agreement
/// coverage and the client's numbers, prepared by the organization. `internal=true`
/// adds what the MSP earns on the client (rate, cost, margin).
#[endpoint(
    tags("clients"),
    parameters(
        ("id" = i64, Path, description = "Client id"),
        ("period" = Option<Quarter>, Query, description = "Default: the last closed quarter"),
        ("internal" = Option<bool>, Query, description = "Include the effective rate, service cost and margin (default false)"),
        ("paper" = Option<PaperSize>, Query, description = "letter (default) or a4"),
        ("tz" = Option<TimeZoneName>, Query, description = "IANA time zone for the generation time (default: the organization's)"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(
        (status_code = 200, description = "The report, as an attachment (Content-Disposition)", content_type = "application/pdf", body = FileBytes),
        errors::BadParameter,
        errors::NotFound,
    )
)]
pub async fn get_client_report(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<()> {
    let id = client_id(req)?;
    let internal =
        params::choice(req, "internal", &["true", "false"])?.unwrap_or("false") == "true";
    let paper = match params::choice(req, "paper", PaperSize::WORDS)? {
        Some("a4") => Paper::A4,
        _ => Paper::Letter,
    };
    let asked = report_quarter(params::period(req, "period")?)?;
    let mut r = reader(req, depot).await?;
    let tz = super::report::time_zone(req, &r.org)?;
    let quarter = asked.unwrap_or_else(|| {
        Month::containing(chrono::Utc::now(), r.org.timezone)
            .quarter()
            .prev()
    });
    let data = client_numbers::report_data(&mut r.conn, &r.org, id, quarter, tz, internal).await?;
    drop(r);
    // Layout and PDF writing are CPU work: keep them off the async workers.
    let pdf = tokio::task::spawn_blocking(move || report::client::render(&data, paper))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("report task: {e}")))?
        .map_err(AppError::internal)?;
    super::report::send_pdf(res, &format!("qbr-{quarter}-client-{id}.pdf"), pdf)
}

/// The bands the per-client numbers are judged by: the built-in defaults, and what the
/// organization set for every client or for one.
#[endpoint(
    tags("clients"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter)
)]
pub async fn get_client_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientThresholdsResponse>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    Ok(ok(service::thresholds(&mut conn, org).await?))
}

/// Sets (or with `bands: null` removes) the bands of a per-client number for every
/// client or one (admins). Checked first; audited.
#[endpoint(
    tags("clients"),
    request_body = ClientThresholdUpdate,
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::JsonBody, errors::BadParameter)
)]
pub async fn put_client_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientThresholdsResponse>> {
    let body: ClientThresholdUpdate = params::json_body(req).await?;
    let org = organization_id(depot, asked_organization(req)?)?;
    organization_id(depot, body.organization_id)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::set_threshold(
        &mut conn,
        org,
        &body,
        who.actor(),
    )
    .await?))
}

/// Types in a client's value of a month (editors): it wins over the collected one and
/// collection never overwrites it; `value: null` removes it. Answers the client's
/// metrics of that month.
#[endpoint(
    tags("clients"),
    request_body = ClientValueUpdate,
    parameters(
        ("id" = i64, Path, description = "Client id"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::JsonBody, errors::BadParameter, errors::NotFound)
)]
pub async fn put_client_value(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ClientMetricsResponse>> {
    let id = client_id(req)?;
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    // Another organization's client (or none) is not found, whatever the body says.
    service::one(&mut conn, org, id).await?;
    let body: ClientValueUpdate = params::json_body(req).await?;
    organization_id(depot, body.organization_id)?;
    let who = Who::of(req, depot);
    let month = service::set_value(&mut conn, org, id, &body, who.actor()).await?;
    Ok(ok(client_numbers::metrics(
        &mut conn, org, id, month, month,
    )
    .await?))
}
