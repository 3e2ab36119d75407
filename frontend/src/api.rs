//! The one place that talks to the backend: builds requests, sends cookies and the
//! browser's time zone, and turns the response envelope into `Result<T, ApiError>`.
use gloo_net::http::Request;
use qbr_shared::error::{Envelope, ErrorEnvelope};
use qbr_shared::ErrorCode;
use serde::de::DeserializeOwned;
use web_sys::RequestCredentials;

/// A failed call, as the SPA sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// The browser's IANA time zone ("UTC" when it can't be told).
pub fn browser_time_zone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| "UTC".to_string())
}

/// GETs `path` and decodes the envelope's `data`.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let network = |e: gloo_net::Error| ApiError {
        code: ErrorCode::Internal,
        message: format!("Network error: {e}"),
    };
    let res = Request::get(path)
        .credentials(RequestCredentials::Include)
        .header("X-Timezone", &browser_time_zone())
        .send()
        .await
        .map_err(network)?;
    if res.ok() {
        let env: Envelope<T> = res.json().await.map_err(network)?;
        Ok(env.data)
    } else {
        match res.json::<ErrorEnvelope>().await {
            Ok(e) => Err(ApiError {
                code: e.error.code,
                message: e.error.message,
            }),
            Err(_) => Err(ApiError {
                code: ErrorCode::Internal,
                message: format!("HTTP {}", res.status()),
            }),
        }
    }
}
