//! The one error type of the server: a stable code, an HTTP status and a message for
//! the client, plus an optional cause that is logged and never sent.
//!
//! Handlers and services return `Result<_, AppError>`; `?` converts diesel, pool and
//! period errors. Diesel's `NotFound` → 404, a lost or unavailable database → 503,
//! anything else → 500 with a generic message (the cause goes to the log with the
//! request id). How an error is written to a response is `crate::http::response`'s job.
use qbr_shared::error::ErrorEnvelope;
use qbr_shared::ErrorCode;

/// A failed request.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub status: u16,
    pub message: String,
    /// Logged, never sent.
    pub cause: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            status: code.default_status(),
            message: message.into(),
            cause: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, message)
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidBody, message)
    }

    pub fn no_data(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NoData, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// A server-side failure: the client sees a generic message, the log the cause.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError {
            code: ErrorCode::Internal,
            status: 500,
            message: "Internal server error".into(),
            cause: Some(cause.into()),
        }
    }

    /// The database can't be reached: 503, so clients and load balancers retry.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        AppError {
            code: ErrorCode::Internal,
            status: 503,
            message: "The database is unavailable; try again shortly".into(),
            cause: Some(cause.into()),
        }
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope::new(self.code, self.status, self.message.clone())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::not_found("Not found"),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::unavailable(e)
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::conflict("A concurrent change got in the way; retry the request")
                    .with_cause(e)
            }
            other => AppError::internal(other),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::unavailable(anyhow::anyhow!("database pool: {e}"))
    }
}

impl From<qbr_shared::PeriodError> for AppError {
    fn from(e: qbr_shared::PeriodError) -> Self {
        AppError::new(ErrorCode::InvalidPeriod, e.to_string())
    }
}

impl AppError {
    pub fn with_cause(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.cause = Some(cause.into());
        self
    }
}
