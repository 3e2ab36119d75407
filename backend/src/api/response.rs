//! The success side of the envelope: `{"success": true, "data": ...}`.
use qbr_shared::error::Envelope;
use salvo::http::StatusCode;
use salvo::oapi::{self, schema, Components, EndpointOutRegister, Operation, ToSchema};
use salvo::prelude::*;
use serde::Serialize;

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

impl<T: ToSchema> EndpointOutRegister for ApiOk<T> {
    fn register(components: &mut Components, operation: &mut Operation) {
        let envelope = schema::Object::new()
            .property(
                "success",
                schema::Object::new().schema_type(schema::BasicType::Boolean),
            )
            .required("success")
            .property("data", T::to_schema(components))
            .required("data");
        operation.responses.insert(
            "200",
            oapi::Response::new("Success")
                .add_content("application/json", oapi::Content::new(envelope)),
        );
    }
}
