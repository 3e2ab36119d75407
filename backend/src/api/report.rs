//! `GET /api/qbr/report`: the printable QBR report of a quarter as a PDF.
use crate::error::{AppError, AppResult};
use crate::http::context::reader;
use crate::http::params;
use crate::http::response::{errors, FileBytes};
use crate::report::{self, Paper};
use crate::service::periods::default_quarter;
use crate::service::report::{gather, report_quarter};
use crate::store::org::Org;
use qbr_shared::api::{PaperSize, ReportFormat};
use qbr_shared::openapi::TimeZoneName;
use qbr_shared::Quarter;
use salvo::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use salvo::http::HeaderValue;
use salvo::prelude::*;

pub(crate) fn time_zone(req: &Request, org: &Org) -> AppResult<chrono_tz::Tz> {
    match params::raw(req, "tz") {
        None => Ok(org.timezone),
        Some(name) => name.parse().map_err(|_| {
            AppError::invalid_parameter(format!(
                "tz: '{name}' is not an IANA time zone such as America/Chicago"
            ))
        }),
    }
}

/// The printable Quarterly Business Review of a quarter as a PDF: the 18 SmartNumbers
/// with statuses and changes, the quarter's Monthly Business Review columns, and a
/// trend chart per SmartNumber over the last eight quarters.
#[endpoint(
    tags("io"),
    parameters(
        ("period" = Option<Quarter>, Query, description = "Default: the quarter in progress if it has data, else the latest with data"),
        ("format" = Option<ReportFormat>, Query, description = "pdf (the default and only format)"),
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
pub async fn get_report(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    params::choice(req, "format", ReportFormat::WORDS)?;
    let paper = match params::choice(req, "paper", PaperSize::WORDS)? {
        Some("a4") => Paper::A4,
        _ => Paper::Letter,
    };
    let quarter = report_quarter(params::period(req, "period")?)?;
    let mut r = reader(req, depot).await?;
    let tz = time_zone(req, &r.org)?;
    let quarter = match quarter {
        Some(q) => q,
        None => default_quarter(&mut r.conn, &r.caches, &r.org).await?,
    };
    let data = gather(&mut r.conn, &r.org, quarter, tz).await?;
    drop(r);
    // Layout and PDF writing are CPU work: keep them off the async workers.
    let pdf = tokio::task::spawn_blocking(move || report::render(&data, paper))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("report task: {e}")))?
        .map_err(AppError::internal)?;
    send_pdf(res, &format!("qbr-{quarter}.pdf"), pdf)
}

/// Answers a PDF as an attachment named `file_name`, never cached.
pub(crate) fn send_pdf(res: &mut Response, file_name: &str, pdf: Vec<u8>) -> AppResult<()> {
    res.status_code(StatusCode::OK);
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    res.write_body(pdf)
        .map_err(|e| AppError::internal(anyhow::anyhow!("body: {e}")))?;
    Ok(())
}
