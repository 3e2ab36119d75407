//! Query-string and body parsing with the API's error codes. Unknown parameters are
//! ignored; a present but malformed one is a 400 that names it.
use crate::error::{AppError, AppResult};
use qbr_shared::{text, ErrorCode, Month, Period};
use salvo::http::ParseError;
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
        .map_err(|e| {
            unreadable_body(e, || {
                AppError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("Request body exceeds {MAX_JSON_BODY} bytes"),
                )
            })
        })?;
    let value: T = serde_json::from_slice(bytes)
        .map_err(|e| AppError::invalid_body(format!("Invalid JSON body: {e}")))?;
    // Every string of a body, keys too, passes the boundary rule here; fields with
    // stricter rules (names, notes) check them where they are used.
    let tree: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::invalid_body(format!("Invalid JSON body: {e}")))?;
    check_strings(&tree, &mut String::from("body")).map_err(AppError::invalid_body)?;
    Ok(value)
}

/// Checks every string in `value` with [`text::BOUNDARY`]; the error names the field
/// (`body.metrics[2].notes`).
fn check_strings(value: &serde_json::Value, at: &mut String) -> Result<(), String> {
    use serde_json::Value;
    match value {
        Value::String(s) => text::check_field(at, s, text::BOUNDARY),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            let checked = check_strings(item, at);
            at.truncate(len);
            checked
        }),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            text::check_field(&format!("{at} key"), key, text::BOUNDARY)?;
            let len = at.len();
            at.push('.');
            at.push_str(key);
            let checked = check_strings(item, at);
            at.truncate(len);
            checked
        }),
        _ => Ok(()),
    }
}

/// The error for a request body that could not be read: `too_large` over the limit,
/// 408 when it stalled past the body timeout (the connection is then closed), else 400.
pub fn unreadable_body(e: ParseError, too_large: impl FnOnce() -> AppError) -> AppError {
    match e {
        ParseError::PayloadTooLarge => too_large(),
        e if is_timeout(&e) => AppError::new(
            ErrorCode::RequestTimeout,
            "The request body stopped arriving; send it again",
        ),
        other => AppError::invalid_body(format!("Could not read the request body: {other}")),
    }
}

/// Whether reading the body ended because it stalled (salvo's request body timeout).
fn is_timeout(e: &ParseError) -> bool {
    match e {
        ParseError::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
        // Multipart parsing wraps the stream's error in its own.
        other => other.to_string().contains("request body timeout"),
    }
}

/// Checks every query parameter (names and values) with [`text::QUERY`]: no NUL or
/// control characters reach a handler, a log line or the database.
pub fn check_query(req: &Request) -> AppResult<()> {
    for (name, values) in req.queries().iter_all() {
        // The name is checked first, so the messages below can quote it.
        text::check_field("A query parameter name", name, text::QUERY)
            .map_err(AppError::invalid_parameter)?;
        for value in values {
            text::check_field(&format!("Query parameter '{name}'"), value, text::QUERY)
                .map_err(AppError::invalid_parameter)?;
        }
    }
    Ok(())
}

fn mime_json() -> salvo::http::mime::Name<'static> {
    salvo::http::mime::JSON
}
