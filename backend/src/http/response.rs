//! Both sides of the envelope: `{"success": true, "data": ...}` for answers (typed, or
//! already encoded by the service layer's caches) and `{"success": false, "error":
//! {...}}` for [`AppError`]s, which are also logged here with the request id.
use super::context::request_id;
use crate::cache::Encoded;
use crate::error::AppError;
use qbr_shared::error::{Envelope, ErrorEnvelope};
use salvo::http::header::{HeaderValue, CONTENT_TYPE};
use salvo::http::StatusCode;
use salvo::oapi::{self, schema, Components, EndpointOutRegister, Operation, ToSchema};
use salvo::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// A successful answer; rendered inside the envelope.
pub struct ApiOk<T>(pub T, pub StatusCode);

/// 200 with `data`.
pub fn ok<T>(data: T) -> ApiOk<T> {
    ApiOk(data, StatusCode::OK)
}

#[async_trait]
impl<T: Serialize + Send> Writer for ApiOk<T> {
    async fn write(self, _req: &mut Request, _depot: &mut Depot, res: &mut Response) {
        res.status_code(self.1);
        res.render(Json(Envelope::ok(self.0)));
    }
}

fn envelope_schema(data: salvo::oapi::RefOr<schema::Schema>) -> schema::Object {
    schema::Object::new()
        .property(
            "success",
            schema::Object::new().schema_type(schema::BasicType::Boolean),
        )
        .required("success")
        .property("data", data)
        .required("data")
}

impl<T: ToSchema> EndpointOutRegister for ApiOk<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        let envelope = envelope_schema(T::to_schema(components));
        operation.responses.insert(
            "200",
            oapi::Response::new("Success")
                .add_content("application/json", oapi::Content::new(envelope)),
        );
    }
}

/// A 200 answer whose `data` the service layer encoded once and keeps in memory: the
/// bytes are written as they are, with no serialization per request.
pub struct Cached<T>(pub Arc<Encoded<T>>);

#[async_trait]
impl<T: Send + Sync> Writer for Cached<T> {
    async fn write(self, _req: &mut Request, _depot: &mut Depot, res: &mut Response) {
        write_encoded(res, self.0.json());
    }
}

/// Writes 200 with `data` already encoded as JSON.
pub fn write_encoded(res: &mut Response, data: &[u8]) {
    const HEAD: &[u8] = br#"{"success":true,"data":"#;
    let mut body = Vec::with_capacity(HEAD.len() + data.len() + 1);
    body.extend_from_slice(HEAD);
    body.extend_from_slice(data);
    body.push(b'}');
    res.status_code(StatusCode::OK);
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // Writing a body to a response that has none can't fail.
    let _ = res.write_body(body);
}

impl<T: ToSchema> EndpointOutRegister for Cached<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        <ApiOk<T> as EndpointOutRegister>::register(components, operation);
    }
}

/// Writes an error envelope with the error's status, logging server errors (with
/// their cause) and rejections with the request id.
pub fn write_error(res: &mut Response, req_id: Option<&str>, err: &AppError) {
    let id = req_id.unwrap_or("-");
    if err.status >= 500 {
        match &err.cause {
            Some(cause) => {
                tracing::error!(request_id = id, code = %err.code, status = err.status, error = ?cause, "request failed")
            }
            None => {
                tracing::error!(request_id = id, code = %err.code, status = err.status, "request failed")
            }
        }
    } else {
        tracing::info!(request_id = id, code = %err.code, status = err.status, message = %err.message, "request rejected");
    }
    res.status_code(StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if err.code == qbr_shared::ErrorCode::RequestTimeout {
        // The rest of the stalled body may still come: don't read it as the next request.
        res.headers_mut().insert(
            salvo::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    res.render(Json(err.envelope()));
}

#[async_trait]
impl Writer for AppError {
    async fn write(self, _req: &mut Request, depot: &mut Depot, res: &mut Response) {
        write_error(res, request_id(depot), &self);
    }
}

impl EndpointOutRegister for AppError {
    fn register(components: &mut Components, operation: &mut Operation) {
        let schema = ErrorEnvelope::to_schema(components);
        for (status, what) in [
            ("400", "Bad request"),
            ("404", "No data or not found"),
            ("500", "Server error"),
        ] {
            operation.responses.insert(
                status,
                oapi::Response::new(format!("{what}: the error envelope"))
                    .add_content("application/json", oapi::Content::new(schema.clone())),
            );
        }
    }
}
