//! A fake chat webhook receiver (Teams incoming webhooks, Slack incoming webhooks):
//! real HTTP on 127.0.0.1 that keeps the JSON body of every POST it accepts, by path,
//! and can answer the next requests with 500 or with 429 and `Retry-After` first, to
//! prove that senders retry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use salvo::conn::Acceptor;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A POST the receiver accepted.
#[derive(Clone, Debug)]
pub struct Hook {
    pub path: String,
    pub content_type: String,
    pub body: Value,
}

/// The fake receiver.
pub struct FakeWebhook {
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub received: Arc<Mutex<Vec<Hook>>>,
    /// The next n requests answer 500.
    pub fail_next: Arc<AtomicU32>,
    /// The next n requests answer 429 with `Retry-After: 1`.
    pub rate_limit_next: Arc<AtomicU32>,
    /// Every request, failed ones included.
    pub requests: Arc<AtomicU64>,
}

struct Receiver {
    received: Arc<Mutex<Vec<Hook>>>,
    fail_next: Arc<AtomicU32>,
    rate_limit_next: Arc<AtomicU32>,
    requests: Arc<AtomicU64>,
}

fn take_one(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

#[async_trait]
impl Handler for Receiver {
    async fn handle(
        &self,
        req: &mut Request,
        _depot: &mut Depot,
        res: &mut Response,
        _ctrl: &mut FlowCtrl,
    ) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if req.method() != salvo::http::Method::POST {
            res.status_code(StatusCode::METHOD_NOT_ALLOWED);
            return;
        }
        if take_one(&self.fail_next) {
            res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
            res.render(Text::Plain("injected failure"));
            return;
        }
        if take_one(&self.rate_limit_next) {
            res.status_code(StatusCode::TOO_MANY_REQUESTS);
            res.add_header("Retry-After", "1", true).ok();
            res.render(Text::Plain("rate_limited"));
            return;
        }
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = req.payload().await.map(|b| b.to_vec()).unwrap_or_default();
        let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
            res.status_code(StatusCode::BAD_REQUEST);
            res.render(Text::Plain("invalid_payload"));
            return;
        };
        self.received.lock().unwrap().push(Hook {
            path: req.uri().path().to_string(),
            content_type,
            body,
        });
        // Slack answers `ok`; Teams' incoming webhooks `1`.
        res.render(Text::Plain("ok"));
    }
}

impl FakeWebhook {
    pub async fn start() -> FakeWebhook {
        let received: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let (fail_next, rate_limit_next, requests) =
            (Arc::default(), Arc::default(), Arc::default());
        let receiver = Receiver {
            received: Arc::clone(&received),
            fail_next: Arc::clone(&fail_next),
            rate_limit_next: Arc::clone(&rate_limit_next),
            requests: Arc::clone(&requests),
        };
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let addr = acceptor.holdings()[0].local_addr.clone();
        let port = addr.into_std().expect("tcp address").port();
        let router = Router::with_path("{**rest}").goal(receiver);
        tokio::spawn(async move { Server::new(acceptor).serve(router).await });
        FakeWebhook {
            base: format!("http://127.0.0.1:{port}"),
            received,
            fail_next,
            rate_limit_next,
            requests,
        }
    }

    /// A webhook URL on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The bodies accepted at `path`.
    pub fn at(&self, path: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path == path)
            .map(|h| h.body.clone())
            .collect()
    }

    /// Waits (polling, at most `within`) until `n` bodies were accepted at `path`.
    pub async fn wait_for(&self, path: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.at(path);
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
