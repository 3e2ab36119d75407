//! What both simulated servers share: injected faults, error answers, binding a free
//! loopback port.
use salvo::conn::Acceptor;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Faults injected into every request of one simulated server: an outage, rate
/// limits, a slow network.
#[derive(Default)]
pub struct Faults {
    /// The next n requests answer 500.
    pub fail_next: AtomicU32,
    /// The next n requests answer 429 with `Retry-After: 1`.
    pub rate_limit_next: AtomicU32,
    /// Every request answers 500.
    pub always_fail: AtomicBool,
    /// Added to every request, in milliseconds.
    pub latency_ms: AtomicU64,
}

fn take_one(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

/// Applies the faults; true when the request was answered with one.
pub(crate) async fn inject(faults: &Faults, res: &mut Response) -> bool {
    let latency = faults.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if faults.always_fail.load(Ordering::SeqCst) || take_one(&faults.fail_next) {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        res.render(Json(
            json!({"code": "InternalError", "message": "injected failure"}),
        ));
        return true;
    }
    if take_one(&faults.rate_limit_next) {
        res.status_code(StatusCode::TOO_MANY_REQUESTS);
        res.add_header("Retry-After", "1", true).ok();
        res.render(Json(json!({"code": "TooManyRequests"})));
        return true;
    }
    false
}

pub(crate) fn error(res: &mut Response, status: StatusCode, message: &str) {
    res.status_code(status);
    res.render(Json(json!({"code": "Error", "message": message})));
}

pub(crate) async fn bind(router: Router) -> String {
    let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
    let port = acceptor
        .holdings()
        .first()
        .and_then(|h| h.local_addr.clone().into_std())
        .map_or(0, |a| a.port());
    tokio::spawn(async move { Server::new(acceptor).serve(router).await });
    format!("http://127.0.0.1:{port}")
}
