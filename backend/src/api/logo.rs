//! `/api/qbr/settings/logo`: the MSP's logo for client reports, read by every member of
//! the organization and uploaded or removed by its admins (`service::logo`). The upload
//! is the image itself as the request body, not a form.
use crate::error::{AppError, AppResult};
use crate::http::context::{asked_organization, conn, organization_id, Who};
use crate::http::response::{errors, FileBytes};
use crate::http::{ok, params, ApiOk};
use crate::service::logo::{self as service, MAX_LOGO_BYTES};
use qbr_shared::api::{LogoFormat, LogoInfo};
use qbr_shared::ErrorCode;
use salvo::extract::{Extractible, Metadata};
use salvo::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use salvo::http::HeaderValue;
use salvo::oapi::{
    Components, Content, EndpointArgRegister, Operation, RequestBody, Required, ToSchema,
};
use salvo::prelude::*;

/// The body of `PUT /api/qbr/settings/logo`: the image file's bytes, read up to
/// [`MAX_LOGO_BYTES`] (not yet checked as an image).
pub struct LogoUpload(Vec<u8>);

impl LogoUpload {
    async fn read(req: &mut Request) -> AppResult<LogoUpload> {
        let declared = req
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase());
        if declared.as_deref().and_then(LogoFormat::parse).is_none() {
            return Err(AppError::new(
                ErrorCode::InvalidImage,
                "Send the logo itself as the request body with Content-Type image/png or \
                 image/jpeg",
            )
            .with_status(415));
        }
        let length = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if length.is_some_and(|n| n > MAX_LOGO_BYTES) {
            // Read and dropped, so the client, still sending, gets the 413.
            super::exchange::drain(req).await;
            return Err(service::too_large());
        }
        let bytes = req
            .payload_with_max_size(MAX_LOGO_BYTES)
            .await
            .map_err(|e| params::unreadable_body(e, service::too_large))?;
        Ok(LogoUpload(bytes.to_vec()))
    }
}

impl<'ex> Extractible<'ex> for LogoUpload {
    fn metadata() -> &'static Metadata {
        static METADATA: Metadata = Metadata::new("");
        &METADATA
    }

    #[allow(refining_impl_trait)]
    async fn extract(req: &'ex mut Request, _depot: &'ex mut Depot) -> AppResult<Self> {
        Self::read(req).await
    }
}

impl EndpointArgRegister for LogoUpload {
    fn register(components: &mut Components, operation: &mut Operation, _arg: &str) {
        let file = FileBytes::to_schema(components);
        let mut body = RequestBody::new()
            .description(
                "The image file itself (not a form): a PNG or JPEG of at most 512 KiB and \
                 4000×4000 pixels",
            )
            .required(Required::True);
        for format in LogoFormat::WORDS {
            body = body.add_content(*format, Content::new(file.clone()));
        }
        operation.request_body = Some(body);
    }
}

/// The logo drawn top right in client reports, as uploaded. `Cache-Control: private,
/// no-cache` with the file's SHA-256 as `ETag`: a browser asks again each time and gets
/// 304 while it is unchanged.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(
        (status_code = 200, description = "The image", content_type = ["image/png", "image/jpeg"], body = FileBytes,
            headers(("ETag" = String, description = "The file's SHA-256, quoted"), ("Cache-Control" = String, description = "private, no-cache"))),
        (status_code = 304, description = "Unchanged since the If-None-Match ETag",
            headers(("ETag" = String, description = "The file's SHA-256, quoted"))),
        errors::BadParameter,
        errors::NoLogo,
    )
)]
pub async fn get_logo(req: &mut Request, depot: &mut Depot, res: &mut Response) -> AppResult<()> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let mut conn = conn(depot).await?;
    let file = service::file(&mut conn, org).await?;
    let etag = format!("\"{}\"", file.sha256);
    let modified = !not_modified(req, &etag);
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    if !modified {
        res.status_code(StatusCode::NOT_MODIFIED);
        return Ok(());
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.format.as_str()));
    res.status_code(StatusCode::OK);
    res.write_body(file.bytes)
        .map_err(|e| AppError::internal(anyhow::anyhow!("body: {e}")))?;
    Ok(())
}

/// Whether the request's `If-None-Match` names `etag` (weak or strong, or `*`).
fn not_modified(req: &Request, etag: &str) -> bool {
    req.headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Uploads the logo (admins), replacing any: the image file itself as the body with
/// `Content-Type: image/png` or `image/jpeg`. It is read in full first: a file that is
/// not a whole PNG or JPEG, or is over 4000×4000 pixels, is refused (`INVALID_IMAGE`),
/// and one over 512 KiB too (`PAYLOAD_TOO_LARGE`); nothing changes then. Audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::LogoUpload, errors::BadParameter)
)]
pub async fn put_logo(
    upload: LogoUpload,
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<LogoInfo>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    // Decoding every pixel is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || service::check(upload.0))
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("logo check: {e}")))??;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(
        service::put(&mut conn, org, &checked, who.actor()).await?
    ))
}

/// Removes the logo (admins): client reports no longer show one. Audited.
#[endpoint(
    tags("settings"),
    parameters(("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)")),
    responses(errors::BadParameter, errors::NoLogo)
)]
pub async fn delete_logo(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<LogoInfo>> {
    let org = organization_id(depot, asked_organization(req)?)?;
    let who = Who::of(req, depot);
    let mut conn = conn(depot).await?;
    Ok(ok(service::remove(&mut conn, org, who.actor()).await?))
}
