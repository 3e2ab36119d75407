//! Both sides of the envelope: `{"success": true, "data": ...}` for answers (typed, or
//! already encoded by the service layer's caches) and `{"success": false, "error":
//! {...}}` for [`AppError`]s, which are also logged here with the request id.
//!
//! Each writer also documents itself in the OpenAPI document: the success types their
//! status and envelope, [`AppError`] the server errors every handler may answer, and the
//! types of [`errors`] the refusals an endpoint lists in `responses(...)`.
use super::context::request_id;
use crate::cache::Encoded;
use crate::error::AppError;
use qbr_shared::error::{Envelope, ErrorEnvelope};
use salvo::http::header::{HeaderValue, CONTENT_TYPE};
use salvo::http::StatusCode;
use salvo::oapi::{self, schema, Components, EndpointOutRegister, Operation, RefOr, ToSchema};
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

/// `{"success": true, "data": <data>}`.
pub fn envelope_schema(data: RefOr<schema::Schema>) -> schema::Object {
    schema::Object::new()
        .property(
            "success",
            schema::Object::new()
                .schema_type(schema::BasicType::Boolean)
                .enum_values([true]),
        )
        .required("success")
        .property("data", data)
        .required("data")
}

/// A JSON answer: the envelope around `data`.
pub fn success_response(description: &str, data: RefOr<schema::Schema>) -> oapi::Response {
    oapi::Response::new(description).add_content(
        "application/json",
        oapi::Content::new(envelope_schema(data)),
    )
}

impl<T: ToSchema> EndpointOutRegister for ApiOk<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        let data = T::to_schema(components);
        operation
            .responses
            .insert("200", success_response("Success", data));
    }
}

/// For `responses(...)` of handlers that write their answer themselves: the envelope
/// around `T`.
pub struct Enveloped<T>(std::marker::PhantomData<T>);

impl<T: ToSchema> ToSchema for Enveloped<T> {
    fn to_schema(components: &mut Components) -> RefOr<schema::Schema> {
        envelope_schema(T::to_schema(components)).into()
    }
}

/// `A` or `B` (an answer whose shape a parameter picks).
pub struct Either<A, B>(std::marker::PhantomData<(A, B)>);

impl<A: ToSchema, B: ToSchema> ToSchema for Either<A, B> {
    fn to_schema(components: &mut Components) -> RefOr<schema::Schema> {
        schema::AnyOf::new()
            .item(A::to_schema(components))
            .item(B::to_schema(components))
            .into()
    }
}

/// A file's bytes (downloads, uploads).
pub struct FileBytes;

impl ToSchema for FileBytes {
    fn to_schema(_: &mut Components) -> RefOr<schema::Schema> {
        schema::Object::new()
            .schema_type(schema::BasicType::String)
            .format(schema::SchemaFormat::KnownFormat(
                schema::KnownFormat::Binary,
            ))
            .into()
    }
}

/// A 201 answer with `data`: something was created.
pub struct Created<T>(pub T);

#[async_trait]
impl<T: Serialize + Send> Writer for Created<T> {
    async fn write(self, _req: &mut Request, _depot: &mut Depot, res: &mut Response) {
        res.status_code(StatusCode::CREATED);
        res.render(Json(Envelope::ok(self.0)));
    }
}

impl<T: ToSchema> EndpointOutRegister for Created<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        let data = T::to_schema(components);
        operation
            .responses
            .insert("201", success_response("Created", data));
    }
}

/// A 202 answer with `data`: work started, to be followed elsewhere.
pub struct Accepted<T>(pub T);

#[async_trait]
impl<T: Serialize + Send> Writer for Accepted<T> {
    async fn write(self, _req: &mut Request, _depot: &mut Depot, res: &mut Response) {
        res.status_code(StatusCode::ACCEPTED);
        res.render(Json(Envelope::ok(self.0)));
    }
}

impl<T: ToSchema> EndpointOutRegister for Accepted<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        let data = T::to_schema(components);
        operation
            .responses
            .insert("202", success_response("Accepted", data));
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

/// An error answer: the error envelope, `what` saying when it comes.
pub fn error_response(components: &mut Components, what: &str) -> oapi::Response {
    let schema = ErrorEnvelope::to_schema(components);
    oapi::Response::new(format!("{what} (the error envelope)"))
        .add_content("application/json", oapi::Content::new(schema))
}

/// 429 with the seconds to wait in `Retry-After`.
pub fn rate_limited_response(components: &mut Components, what: &str) -> oapi::Response {
    let seconds = schema::Object::new()
        .schema_type(schema::BasicType::Integer)
        .minimum(1);
    error_response(components, what).add_header(
        "Retry-After",
        oapi::Header::new(seconds).description("Seconds to wait before trying again"),
    )
}

/// Every handler may fail on the server's side or find the database unavailable.
impl EndpointOutRegister for AppError {
    fn register(components: &mut Components, operation: &mut Operation) {
        for (status, what) in [
            ("500", "Server error: INTERNAL, never with the cause"),
            (
                "503",
                "The database is unavailable: INTERNAL; retry shortly",
            ),
        ] {
            let response = error_response(components, what);
            operation.responses.insert(status, response);
        }
    }
}

/// The refusals an endpoint documents with `#[endpoint(responses(errors::...))]`, each
/// the error envelope. (The auth guard's 401/403/429 are added to every protected
/// operation by `server::document`.)
pub mod errors {
    use super::error_response;
    use salvo::oapi::{Components, Responses, ToResponses};

    fn one(components: &mut Components, status: &str, what: &str) -> Responses {
        Responses::new().response(status, error_response(components, what))
    }

    /// A malformed query parameter.
    pub struct BadParameter;

    impl ToResponses for BadParameter {
        fn to_responses(components: &mut Components) -> Responses {
            one(
                components,
                "400",
                "A malformed query parameter: INVALID_PERIOD, INVALID_PARAMETER or UNKNOWN_METRIC",
            )
        }
    }

    /// No data for the period, or no such thing.
    pub struct NotFound;

    impl ToResponses for NotFound {
        fn to_responses(components: &mut Components) -> Responses {
            one(
                components,
                "404",
                "NO_DATA for the period, or NOT_FOUND (e.g. no such organization)",
            )
        }
    }

    /// A conflicting state (a concurrent change, a name taken).
    pub struct Conflict;

    impl ToResponses for Conflict {
        fn to_responses(components: &mut Components) -> Responses {
            one(
                components,
                "409",
                "CONFLICT: a concurrent change got in the way, or the name is taken",
            )
        }
    }

    /// A JSON body (`params::json_body`): malformed, too large or not JSON.
    pub struct JsonBody;

    impl ToResponses for JsonBody {
        fn to_responses(components: &mut Components) -> Responses {
            let mut responses = one(
                components,
                "400",
                "A body that does not parse or breaks a rule: INVALID_BODY, INVALID_PERIOD, \
                 UNKNOWN_METRIC, DERIVED_METRIC or NEGATIVE_VALUE",
            );
            responses.append(&mut body_limits(components, "application/json"));
            responses
        }
    }

    /// A settings body (notifications, report delivery): malformed, too large, not
    /// JSON, or breaking a rule.
    pub struct SettingsBody;

    impl ToResponses for SettingsBody {
        fn to_responses(components: &mut Components) -> Responses {
            let mut responses = one(
                components,
                "400",
                "A body that does not parse or breaks a rule: INVALID_BODY, INVALID_EMAIL, \
                 INVALID_WEBHOOK_URL, UNKNOWN_EVENT, INVALID_PERIOD, or NOT_CONFIGURED (the \
                 server lacks SMTP_URL or QBR_SECRET_KEY)",
            );
            responses.append(&mut body_limits(components, "application/json"));
            responses
        }
    }

    /// A multipart upload: too large or not `multipart/form-data`.
    pub struct Upload;

    impl ToResponses for Upload {
        fn to_responses(components: &mut Components) -> Responses {
            let mut responses = one(
                components,
                "400",
                "A malformed parameter, a missing `file` field, or a file that does not \
                 parse (INVALID_BODY lists the problems)",
            );
            responses.append(&mut body_limits(components, "multipart/form-data"));
            responses
        }
    }

    /// A logo upload: not an image the server reads, too large, or not sent as one.
    pub struct LogoUpload;

    impl ToResponses for LogoUpload {
        fn to_responses(components: &mut Components) -> Responses {
            let mut responses = one(
                components,
                "400",
                "INVALID_IMAGE: not a whole PNG or JPEG, or over 4000×4000 pixels",
            );
            responses.insert(
                "413",
                error_response(components, "PAYLOAD_TOO_LARGE: the file exceeds 512 KiB"),
            );
            responses.insert(
                "415",
                error_response(
                    components,
                    "INVALID_IMAGE: the Content-Type is not image/png or image/jpeg",
                ),
            );
            responses
        }
    }

    /// No logo uploaded.
    pub struct NoLogo;

    impl ToResponses for NoLogo {
        fn to_responses(components: &mut Components) -> Responses {
            one(components, "404", "NOT_FOUND: the organization has no logo")
        }
    }

    fn body_limits(components: &mut Components, media_type: &str) -> Responses {
        let mut responses = one(
            components,
            "413",
            "PAYLOAD_TOO_LARGE: the body is too large",
        );
        let wrong_type = format!("INVALID_BODY: the body is not {media_type}");
        responses.insert("415", error_response(components, &wrong_type));
        responses
    }

    /// The per-address limit of the sign-in endpoints.
    pub struct SignInLimit;

    impl ToResponses for SignInLimit {
        fn to_responses(components: &mut Components) -> Responses {
            Responses::new().response(
                "429",
                super::rate_limited_response(components, "RATE_LIMITED: too many sign-in attempts"),
            )
        }
    }
}
