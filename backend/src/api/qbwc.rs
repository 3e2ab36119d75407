//! The QuickBooks Web Connector's SOAP service: `POST /api/qbwc` (its eight methods) and
//! `GET /api/qbwc?wsdl`. Public (the Web Connector has no session or key): every call
//! but `authenticate`, `serverVersion` and `clientVersion` needs a live ticket, and
//! `authenticate` is rate limited per client IP like the sign-in endpoints.
use crate::auth::auth_state;
use crate::collect::quickbooks::soap::{self, Call, SoapError};
use crate::collect::quickbooks::web_connector::WebConnector;
use crate::http::context::{client_ip_addr, state};
use salvo::http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use salvo::http::{ParseError, StatusCode};
use salvo::prelude::*;

const XML: &str = "text/xml; charset=utf-8";

fn write_xml(res: &mut Response, status: StatusCode, body: String) {
    res.status_code(status);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(XML));
    let _ = res.write_body(body);
}

/// A SOAP fault for a call the server can't take (`soap:Client`: the caller's fault).
fn refuse(res: &mut Response, status: StatusCode, why: &str) {
    write_xml(res, status, soap::client_fault(why));
}

/// One call of the Web Connector (SOAP 1.1, `SOAPAction: "http://developer.intuit.com/<method>"`):
/// `serverVersion`, `clientVersion`, `authenticate`, `sendRequestXML`,
/// `receiveResponseXML`, `connectionError`, `getLastError`, `closeConnection`.
#[endpoint(
    tags("quickbooks"),
    request_body(content = String, content_type = "text/xml", description = "A SOAP 1.1 envelope"),
    responses(
        (status_code = 200, description = "The method's answer (a SOAP envelope)", content_type = ["text/xml"], body = String),
        (status_code = 400, description = "A call that can't be read: a soap:Client fault", content_type = ["text/xml"], body = String),
        (status_code = 413, description = "A call over 24 MiB: a soap:Client fault", content_type = ["text/xml"], body = String),
        (status_code = 429, description = "Too many sign-ins from this address: a soap:Client fault", content_type = ["text/xml"], body = String),
        (status_code = 503, description = "The database is unavailable: a fault; the Web Connector retries", content_type = ["text/xml"], body = String),
    )
)]
pub async fn post_qbwc(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let bytes = match req.payload_with_max_size(soap::MAX_CALL_BYTES).await {
        Ok(b) => b.clone(),
        Err(ParseError::PayloadTooLarge) => {
            return refuse(
                res,
                StatusCode::PAYLOAD_TOO_LARGE,
                &SoapError::TooLarge.to_string(),
            )
        }
        Err(e) => {
            return refuse(
                res,
                StatusCode::BAD_REQUEST,
                &format!("Could not read the call: {e}"),
            )
        }
    };
    let call = match soap::read_call(&bytes) {
        Ok(call) => call,
        Err(e) => return refuse(res, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if matches!(call, Call::Authenticate { .. }) {
        if let (Ok(auth), Some(ip)) = (auth_state(depot), client_ip_addr(req)) {
            if let Err(wait) = auth.limiters.sign_in(ip) {
                res.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(wait.max(1)));
                return refuse(
                    res,
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too many sign-ins; retry in {wait} s"),
                );
            }
        }
    }
    let Ok(app) = state(depot) else {
        return refuse(
            res,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server state missing",
        );
    };
    let connector = WebConnector {
        pool: &app.pool,
        settings: &app.quickbooks,
        organization_id: app.org_id,
    };
    match connector.answer(call).await {
        Ok(xml) => write_xml(res, StatusCode::OK, xml),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "a Web Connector call failed");
            // The database is the only thing that fails here: the Web Connector retries.
            write_xml(
                res,
                StatusCode::SERVICE_UNAVAILABLE,
                soap::client_fault("The server can't reach its database; try again shortly"),
            );
        }
    }
}

/// The service description the Web Connector reads (`?wsdl`).
#[endpoint(
    tags("quickbooks"),
    parameters(("wsdl" = Option<String>, Query, description = "present: the WSDL")),
    responses(
        (status_code = 200, description = "The WSDL", content_type = ["text/xml"], body = String),
        (status_code = 400, description = "Without ?wsdl: a soap:Client fault", content_type = ["text/xml"], body = String),
    )
)]
pub async fn get_qbwc(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    if req.queries().get("wsdl").is_none() {
        return refuse(
            res,
            StatusCode::BAD_REQUEST,
            "This is the QuickBooks Web Connector's SOAP service: POST calls here, or GET ?wsdl",
        );
    }
    let base = auth_state(depot)
        .map(|a| a.config.api_base_url.trim_end_matches('/').to_string())
        .unwrap_or_default();
    write_xml(res, StatusCode::OK, soap::wsdl(&format!("{base}/api/qbwc")));
}
