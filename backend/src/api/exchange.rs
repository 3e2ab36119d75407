//! `GET /api/qbr/export` and `POST /api/qbr/import` (`crate::exchange` does the work).
use crate::error::{AppError, AppResult};
use crate::exchange::{self, Format, ImportOptions, MAX_IMPORT_BYTES};
use crate::http::context::{conn, organization, Who};
use crate::http::response::{errors, FileBytes};
use crate::http::{ok, params, ApiOk};
use chrono::Utc;
use qbr_shared::api::{ExportFormat, ImportResponse};
use qbr_shared::{ErrorCode, Month};
use salvo::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use salvo::http::HeaderValue;
use salvo::oapi::{schema, Components, RefOr, ToSchema};
use salvo::prelude::*;

/// Longest exported range.
const MAX_EXPORT_MONTHS: usize = 240;
/// Room for the multipart framing around an import file.
const MULTIPART_SLACK: usize = 64 * 1024;

/// Downloads the stored values: `format=csv` (long layout, inputs only) or `xlsx`
/// (one Monthly Business Review sheet per year and a SmartNumbers sheet).
/// `from`/`to` (YYYY-MM) default to the current year; at most 240 months, `from` not
/// after `to`.
#[endpoint(
    tags("io"),
    parameters(
        ("format" = Option<ExportFormat>, Query, description = "csv (default) or xlsx"),
        ("from" = Option<Month>, Query, description = "First month (default: January of to's year, else of the current year)"),
        ("to" = Option<Month>, Query, description = "Last month (default: December of from's year)"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(
        (status_code = 200, description = "The file, as an attachment (Content-Disposition)", content_type = ["text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], body = FileBytes),
        errors::BadParameter,
        errors::NotFound,
    )
)]
pub async fn get_export(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    let format = match params::choice(req, "format", ExportFormat::WORDS)? {
        Some("xlsx") => Format::Xlsx,
        _ => Format::Csv,
    };
    let from = params::month(req, "from")?;
    let to = params::month(req, "to")?;
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let year = org.current_month(Utc::now()).year();
    let from = match from {
        Some(m) => m,
        None => Month::new(to.map_or(year, |t| t.year()), 1)?,
    };
    let to = match to {
        Some(m) => m,
        None => Month::new(from.year(), 12)?,
    };
    let months = Month::range(from, to, MAX_EXPORT_MONTHS)
        .map_err(|e| AppError::invalid_parameter(e.to_string()))?;
    let bytes = exchange::export(&mut conn, org.id, format, &months).await?;
    let name = format!("qbr-{from}-to-{to}.{}", format.extension());
    res.status_code(StatusCode::OK);
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    res.write_body(bytes)
        .map_err(|e| AppError::internal(anyhow::anyhow!("body: {e}")))?;
    Ok(())
}

/// Most bytes of a refused upload read and thrown away, so that the client, still
/// sending, gets the 413 instead of a broken pipe.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

pub(crate) async fn drain(req: &mut Request) {
    use futures::StreamExt;
    let mut body = req.take_body();
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.next().await {
        seen += frame.data_ref().map_or(0, |d| d.len());
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

fn too_large() -> AppError {
    AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("The file exceeds {} MiB", MAX_IMPORT_BYTES / 1024 / 1024),
    )
}

/// The uploaded file (multipart field `file`): its name and bytes.
pub(crate) async fn uploaded_file(req: &mut Request) -> AppResult<(Option<String>, Vec<u8>)> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_IMPORT_BYTES + MULTIPART_SLACK) {
        drain(req).await;
        return Err(too_large());
    }
    let form = req
        .form_data_max_size(MAX_IMPORT_BYTES + MULTIPART_SLACK)
        .await
        .map_err(|e| match e {
            salvo::http::ParseError::NotFormData => {
                AppError::invalid_body("Send the file as multipart/form-data in the field 'file'")
                    .with_status(415)
            }
            other => params::unreadable_body(other, too_large),
        })?;
    let file = form
        .files
        .get("file")
        .ok_or_else(|| AppError::invalid_body("The multipart field 'file' is missing"))?;
    if file.size() > MAX_IMPORT_BYTES as u64 {
        return Err(too_large());
    }
    let bytes = tokio::fs::read(file.path())
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("upload: {e}")))?;
    Ok((file.name().map(str::to_string), bytes))
}

/// The multipart body of an import, for the document.
pub(crate) struct ImportUpload;

impl ToSchema for ImportUpload {
    fn to_schema(components: &mut Components) -> RefOr<schema::Schema> {
        schema::Object::new()
            .property("file", FileBytes::to_schema(components))
            .required("file")
            // Other fields are ignored; the document names the one the server reads.
            .additional_properties(schema::AdditionalProperties::FreeForm(false))
            .description("The CSV (`period,metric,value,notes`) or workbook, at most 20 MiB")
            .into()
    }
}

/// Imports a CSV (`period,metric,value,notes`) or a Monthly Business Review workbook
/// (multipart field `file`, at most 20 MiB). `commit=false` (default) previews what
/// would be created, changed, left unchanged or skipped (collected/manual values are
/// kept unless `overwrite=true`); `commit=true` applies it, all or nothing.
#[endpoint(
    tags("io"),
    parameters(
        ("commit" = Option<bool>, Query, description = "false (default): preview only; true: apply"),
        ("overwrite" = Option<bool>, Query, description = "Replace collected and manual values too"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(errors::Upload, errors::NotFound, errors::Conflict)
)]
pub async fn post_import(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<ImportResponse>> {
    let commit = params::choice(req, "commit", &["true", "false"])?.unwrap_or("false") == "true";
    let overwrite =
        params::choice(req, "overwrite", &["true", "false"])?.unwrap_or("false") == "true";
    let (name, bytes) = uploaded_file(req).await?;
    // Unpacking and parsing a workbook is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || exchange::parse_file(name.as_deref(), &bytes))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("parse: {e}")))?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let options = ImportOptions {
        overwrite,
        commit,
        actor: &who.name,
        ip: who.ip.as_deref(),
    };
    Ok(ok(
        exchange::import(&mut conn, &org, &parsed, options).await?
    ))
}
