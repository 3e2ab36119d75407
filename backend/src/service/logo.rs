//! The MSP's logo for client reports, uploaded by an admin on Settings and drawn in the
//! client report's header. An upload is read in full before anything is stored — a
//! PNG or JPEG (by its bytes, whatever its name), whole (CRCs, no truncation), at most
//! 4000×4000 pixels, and one the PDF writer accepts — so a stored logo never fails a
//! report. Replacing and removing it are audited with its size and SHA-256.
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::report::logo::{self as drawn, Logo};
use crate::store::audit::{self, AuditEvent};
use crate::store::lock_organization_writes;
use crate::store::logo::{self as store, LogoMeta, NewLogo};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{LogoFormat, LogoInfo};
use qbr_shared::ErrorCode;
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::sync::Arc;

/// Largest logo file: a logo is a small picture, and each report embeds it.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// Largest side in pixels (a 4000×4000 RGBA image decodes to 64 MB).
pub const MAX_LOGO_SIDE: u32 = 4000;

/// An upload that was read in full and may be stored; made only by [`check`].
pub struct CheckedLogo {
    format: LogoFormat,
    width: u32,
    height: u32,
    bytes: Vec<u8>,
    sha256: String,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidImage, message)
}

/// Reads `bytes` as the image they are. CPU work (a whole decode): callers on the async
/// workers run it with `spawn_blocking`.
pub fn check(bytes: Vec<u8>) -> AppResult<CheckedLogo> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(too_large());
    }
    let format = sniff(&bytes)
        .ok_or_else(|| invalid("The logo must be a PNG or JPEG image; this file is neither"))?;
    let (width, height) = match format {
        LogoFormat::Png => decode_png(&bytes),
        LogoFormat::Jpeg => decode_jpeg(&bytes),
    }
    .map_err(|why| invalid(format!("The {} image can't be read: {why}", name(format))))?;
    drawn::embeddable(format, &bytes).map_err(|why| {
        invalid(format!(
            "The {} image can't go in a PDF: {why}",
            name(format)
        ))
    })?;
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(CheckedLogo {
        format,
        width,
        height,
        bytes,
        sha256,
    })
}

/// 413 for a file over [`MAX_LOGO_BYTES`].
pub fn too_large() -> AppError {
    AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("The logo exceeds {} KiB", MAX_LOGO_BYTES / 1024),
    )
}

fn name(format: LogoFormat) -> &'static str {
    match format {
        LogoFormat::Png => "PNG",
        LogoFormat::Jpeg => "JPEG",
    }
}

/// The format by the file's signature (not by its name or declared type).
fn sniff(bytes: &[u8]) -> Option<LogoFormat> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const JPEG: &[u8] = b"\xff\xd8\xff";
    if bytes.starts_with(PNG) {
        Some(LogoFormat::Png)
    } else if bytes.starts_with(JPEG) {
        Some(LogoFormat::Jpeg)
    } else {
        None
    }
}

fn check_sides(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 || width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(format!(
            "it is {width}×{height} pixels; at most {MAX_LOGO_SIDE}×{MAX_LOGO_SIDE}"
        ));
    }
    Ok(())
}

/// Decodes every pixel and chunk (CRCs checked) with the transformations krilla uses.
fn decode_png(bytes: &[u8]) -> Result<(u32, u32), String> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (width, height) = (reader.info().width, reader.info().height);
    // Before the pixels are allocated.
    check_sides(width, height)?;
    let size = reader
        .output_buffer_size()
        .ok_or("the image is too large to decode")?;
    let mut pixels = vec![0; size];
    reader.next_frame(&mut pixels).map_err(|e| e.to_string())?;
    reader.finish().map_err(|e| e.to_string())?;
    Ok((width, height))
}

/// Decodes the whole image strictly (a truncated or corrupt scan is refused, not
/// filled in grey).
fn decode_jpeg(bytes: &[u8]) -> Result<(u32, u32), String> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_LOGO_SIDE as usize)
        .set_max_height(MAX_LOGO_SIDE as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions().ok_or("no image size")?;
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (width, height) = (side(width), side(height));
    check_sides(width, height)?;
    decoder.decode().map_err(|e| e.to_string())?;
    Ok((width, height))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn info(meta: LogoMeta) -> AppResult<LogoInfo> {
    let format = LogoFormat::parse(&meta.content_type).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("stored logo type {}", meta.content_type))
    })?;
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok(LogoInfo {
        content_type: format,
        width: count(meta.width),
        height: count(meta.height),
        bytes: count(meta.bytes),
        sha256: meta.sha256,
        uploaded_by: meta.uploaded_by,
        uploaded_at: meta.uploaded_at,
    })
}

fn audit_details(logo: &LogoInfo) -> serde_json::Value {
    serde_json::json!({
        "content_type": logo.content_type,
        "width": logo.width,
        "height": logo.height,
        "bytes": logo.bytes,
        "sha256": logo.sha256,
    })
}

/// Stores `logo` as the organization's (replacing any), audited.
pub async fn put(
    conn: &mut AsyncPgConnection,
    org: i32,
    logo: &CheckedLogo,
    actor: Actor<'_>,
) -> AppResult<LogoInfo> {
    let side = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    conn.transaction::<_, AppError, _>(async |conn| {
        // One change of an organization's data at a time; enters the organization.
        lock_organization_writes(conn, org).await?;
        let before = store::meta(conn, org).await?;
        let row = NewLogo {
            content_type: logo.format.as_str(),
            image: &logo.bytes,
            width: side(logo.width),
            height: side(logo.height),
            sha256: &logo.sha256,
            uploaded_by: actor.name,
        };
        store::put(conn, org, &row).await?;
        let after = info(
            store::meta(conn, org)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("logo not stored")))?,
        )?;
        let mut details = audit_details(&after);
        details["replaced"] = serde_json::json!(before.map(|b| b.sha256));
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::LogoUpdate,
                target: Some("logo"),
                details,
                ip: actor.ip,
            },
        )
        .await?;
        Ok(after)
    })
    .await
}

fn no_logo() -> AppError {
    AppError::not_found("No logo has been uploaded (Settings › Organization)")
}

/// Removes the organization's logo, audited; 404 when there is none.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    org: i32,
    actor: Actor<'_>,
) -> AppResult<LogoInfo> {
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_organization_writes(conn, org).await?;
        let removed = info(store::meta(conn, org).await?.ok_or_else(no_logo)?)?;
        store::delete(conn, org).await?;
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::LogoRemove,
                target: Some("logo"),
                details: audit_details(&removed),
                ip: actor.ip,
            },
        )
        .await?;
        Ok(removed)
    })
    .await
}

/// The stored image to download: its format, bytes and SHA-256 (hex).
pub struct LogoFile {
    pub format: LogoFormat,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// The organization's logo file; 404 when there is none.
pub async fn file(conn: &mut AsyncPgConnection, org: i32) -> AppResult<LogoFile> {
    let row = store::image(conn, org).await?.ok_or_else(no_logo)?;
    let format = LogoFormat::parse(&row.content_type).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("stored logo type {}", row.content_type))
    })?;
    Ok(LogoFile {
        format,
        bytes: row.image,
        sha256: row.sha256,
    })
}

/// The logo to draw in a report, if one was uploaded.
pub async fn for_report(conn: &mut AsyncPgConnection, org: i32) -> AppResult<Option<Logo>> {
    let Some(row) = store::image(conn, org).await? else {
        return Ok(None);
    };
    let Some(format) = LogoFormat::parse(&row.content_type) else {
        return Ok(None);
    };
    let side = |n: i32| u32::try_from(n).unwrap_or(1);
    Ok(Some(Logo {
        format,
        image: Arc::new(row.image),
        width: side(row.width),
        height: side(row.height),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A 2×1 RGB PNG, encoded here.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let pixels = vec![0x80; (width * height * 3) as usize];
        writer.write_image_data(&pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    fn code(r: AppResult<CheckedLogo>) -> ErrorCode {
        r.err().map(|e| e.code).unwrap()
    }

    #[test]
    fn a_png_is_read_and_hashed() {
        let bytes = png(2, 1);
        let checked = check(bytes.clone()).unwrap();
        assert_eq!(checked.format, LogoFormat::Png);
        assert_eq!((checked.width, checked.height), (2, 1));
        assert_eq!(checked.sha256, hex(&Sha256::digest(&bytes)));
        assert_eq!(checked.sha256.len(), 64);
    }

    #[test]
    fn what_is_not_a_whole_png_or_jpeg_is_refused() {
        let good = png(3, 3);
        let mut bad_crc = good.clone();
        // The last byte of IHDR's CRC.
        bad_crc[32] ^= 0xff;
        let truncated = good[..good.len() - 20].to_vec();
        for bytes in [
            b"hello".to_vec(),
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            bad_crc,
            truncated,
            b"\xff\xd8\xff\xe0 not really".to_vec(),
            Vec::new(),
        ] {
            assert_eq!(code(check(bytes)), ErrorCode::InvalidImage);
        }
    }

    #[test]
    fn sides_and_size_are_limited() {
        assert_eq!(code(check(png(4001, 1))), ErrorCode::InvalidImage);
        assert!(check(png(4000, 1)).is_ok());
        assert_eq!(
            code(check(vec![0; MAX_LOGO_BYTES + 1])),
            ErrorCode::PayloadTooLarge
        );
    }
}
