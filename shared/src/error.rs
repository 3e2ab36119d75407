//! The error codes of the REST API and its response envelope.
//!
//! The backend turns every failure into one of these codes; the SPA decodes the same
//! enum, so a code is written once for both sides.
use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code (`api.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidPeriod,
    InvalidParameter,
    InvalidBody,
    UnknownMetric,
    DerivedMetric,
    NegativeValue,
    NoData,
    NotFound,
    Unauthenticated,
    Forbidden,
    CsrfRejected,
    RateLimited,
    PayloadTooLarge,
    Conflict,
    MethodNotAllowed,
    RequestTimeout,
    Internal,
    /// Not an email address (a notification or report recipient).
    InvalidEmail,
    /// Not a webhook URL of the chosen chat service.
    InvalidWebhookUrl,
    /// A notification event this server does not know.
    UnknownEvent,
    /// The server lacks a setting this needs (`SMTP_URL`, `QBR_SECRET_KEY`).
    NotConfigured,
    /// An uploaded image (the logo) that is not a PNG or JPEG the server can read, or is
    /// too large in pixels.
    InvalidImage,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::InvalidPeriod,
        ErrorCode::InvalidParameter,
        ErrorCode::InvalidBody,
        ErrorCode::UnknownMetric,
        ErrorCode::DerivedMetric,
        ErrorCode::NegativeValue,
        ErrorCode::NoData,
        ErrorCode::NotFound,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::CsrfRejected,
        ErrorCode::RateLimited,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Conflict,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::Internal,
        ErrorCode::InvalidEmail,
        ErrorCode::InvalidWebhookUrl,
        ErrorCode::UnknownEvent,
        ErrorCode::NotConfigured,
        ErrorCode::InvalidImage,
    ];

    /// The HTTP status a code is normally sent with (a few call sites pick another,
    /// e.g. 415 for a body of the wrong media type is still `INVALID_BODY`).
    pub fn default_status(self) -> u16 {
        match self {
            ErrorCode::InvalidPeriod
            | ErrorCode::InvalidParameter
            | ErrorCode::InvalidBody
            | ErrorCode::UnknownMetric
            | ErrorCode::DerivedMetric
            | ErrorCode::NegativeValue
            | ErrorCode::InvalidEmail
            | ErrorCode::InvalidWebhookUrl
            | ErrorCode::UnknownEvent
            | ErrorCode::NotConfigured
            | ErrorCode::InvalidImage => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::CsrfRejected => 403,
            ErrorCode::NoData | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
        }
    }

    /// The code as it appears on the wire, e.g. `INVALID_PERIOD`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPeriod => "INVALID_PERIOD",
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::InvalidBody => "INVALID_BODY",
            ErrorCode::UnknownMetric => "UNKNOWN_METRIC",
            ErrorCode::DerivedMetric => "DERIVED_METRIC",
            ErrorCode::NegativeValue => "NEGATIVE_VALUE",
            ErrorCode::NoData => "NO_DATA",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::CsrfRejected => "CSRF_REJECTED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::InvalidEmail => "INVALID_EMAIL",
            ErrorCode::InvalidWebhookUrl => "INVALID_WEBHOOK_URL",
            ErrorCode::UnknownEvent => "UNKNOWN_EVENT",
            ErrorCode::NotConfigured => "NOT_CONFIGURED",
            ErrorCode::InvalidImage => "INVALID_IMAGE",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of a failed response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct ApiErrorBody {
    pub code: ErrorCode,
    pub message: String,
    pub status: u16,
}

/// `{"success": false, "error": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
pub struct ErrorEnvelope {
    pub success: bool,
    pub error: ApiErrorBody,
}

impl ErrorEnvelope {
    pub fn new(code: ErrorCode, status: u16, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            success: false,
            error: ApiErrorBody {
                code,
                message: message.into(),
                status,
            },
        }
    }
}

/// `{"success": true, "data": T}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Envelope {
            success: true,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn envelope_shape_matches_the_contract() {
        let env = ErrorEnvelope::new(
            ErrorCode::InvalidPeriod,
            400,
            "Period format must be YYYY-MM",
        );
        let v = serde_json::to_value(&env).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"success": false, "error": {"code": "INVALID_PERIOD", "message": "Period format must be YYYY-MM", "status": 400}})
        );
    }
}
