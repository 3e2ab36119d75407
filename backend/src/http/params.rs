//! Query-string and body parsing with the API's error codes. Unknown parameters are
//! ignored; a present but malformed one is a 400 that names it.
use crate::error::{AppError, AppResult};
use qbr_shared::{ErrorCode, Month, Period};
use salvo::prelude::*;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted by the API (import files have their own limit).
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A query parameter's raw value; empty counts as absent (`allowEmptyValue` in the
/// OpenAPI document). Anything else is taken as sent: the document's patterns, enums
/// and integers have no room for padding, so ` 5` is malformed, not `5`.
pub fn raw(req: &Request, name: &str) -> Option<String> {
    req.queries().get(name).filter(|v| !v.is_empty()).cloned()
}

pub fn month(req: &Request, name: &str) -> AppResult<Option<Month>> {
    raw(req, name)
        .map(|v| {
            v.parse::<Month>()
                .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("{name}: {e}")))
        })
        .transpose()
}

pub fn period(req: &Request, name: &str) -> AppResult<Option<Period>> {
    raw(req, name)
        .map(|v| {
            v.parse::<Period>()
                .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("{name}: {e}")))
        })
        .transpose()
}

pub fn required<T>(v: Option<T>, name: &str) -> AppResult<T> {
    v.ok_or_else(|| AppError::invalid_parameter(format!("Query parameter '{name}' is required")))
}

/// An integer within `min..=max`.
pub fn int(req: &Request, name: &str, min: i64, max: i64) -> AppResult<Option<i64>> {
    let Some(v) = raw(req, name) else {
        return Ok(None);
    };
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(AppError::invalid_parameter(format!(
            "Query parameter '{name}' must be an integer from {min} to {max}, got '{v}'"
        ))),
    }
}

/// A comma-separated list (`keys=a,b`), also accepting the parameter repeated; an empty
/// value counts as absent. Items are taken as sent (an empty or padded item is the
/// caller's to refuse), as the document's `explode: false` arrays of words say.
pub fn list(req: &Request, name: &str) -> Vec<String> {
    req.queries()
        .get_vec(name)
        .map(|vs| {
            vs.iter()
                .filter(|v| !v.is_empty())
                .flat_map(|v| v.split(','))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One of a fixed set of words.
pub fn choice<'a>(req: &Request, name: &str, allowed: &[&'a str]) -> AppResult<Option<&'a str>> {
    let Some(v) = raw(req, name) else {
        return Ok(None);
    };
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(&v))
        .copied()
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid_parameter(format!(
                "Query parameter '{name}' must be one of {}, got '{v}'",
                allowed.join(", ")
            ))
        })
}

/// Reads a JSON body: 415 unless it is JSON, 413 when too large, 400 `INVALID_BODY`
/// with serde's explanation when it does not parse or has the wrong shape.
pub async fn json_body<T: DeserializeOwned>(req: &mut Request) -> AppResult<T> {
    let is_json = req.content_type().is_some_and(|m| {
        m.subtype() == mime_json() || m.suffix().is_some_and(|s| s == mime_json())
    });
    if !is_json {
        return Err(
            AppError::invalid_body("Content-Type must be application/json").with_status(415),
        );
    }
    let bytes = req
        .payload_with_max_size(MAX_JSON_BODY)
        .await
        .map_err(|e| match e {
            salvo::http::ParseError::PayloadTooLarge => AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("Request body exceeds {MAX_JSON_BODY} bytes"),
            ),
            other => AppError::invalid_body(format!("Could not read the request body: {other}")),
        })?;
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::invalid_body(format!("Invalid JSON body: {e}")))
}

fn mime_json() -> salvo::http::mime::Name<'static> {
    salvo::http::mime::JSON
}
