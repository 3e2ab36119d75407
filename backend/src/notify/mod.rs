//! Notifications by email (SMTP, lettre) and chat webhooks (Microsoft Teams, Slack).
//!
//! Whatever notices something worth telling — a collection run's end
//! (`collect::run`), the status watch (`watch`: a SmartNumber of the last closed month
//! or quarter turning red or leaving red, QuickBooks gone stale) — raises an event
//! into the outbox (`events`), a table: one insert, never a send, so nothing a
//! recipient's server does can slow or fail a run. The worker of `qbr serve`
//! (`worker`) takes the outbox's events, composes one message per event type
//! (`message`), and sends it to each recipient that chose the type (`deliver`), at most
//! once per type and day (the sent-log), retrying with exponential backoff and logging
//! what failed. Events raised by `qbr collect` in another process wait in the outbox
//! for the server's worker.
//!
//! Settings: `config::notify` (`SMTP_URL`, `QBR_MAIL_FROM`, `QBR_WEBHOOK_HOSTS`);
//! webhook URLs are secrets, sealed with `QBR_SECRET_KEY` (`recipients`).
pub mod deliver;
pub mod events;
pub mod mail;
pub mod message;
pub mod recipients;
pub mod watch;
pub mod webhook;
pub mod worker;

use crate::config::notify::NotifyConfig;
use crate::config::Env;
use crate::secrets::sealing::SecretKey;
use backon::{ExponentialBuilder, Retryable};
use std::time::Duration;

/// How often a failed send is tried, and how long between tries.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first one included.
    pub tries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            tries: 4,
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// Why one try to send failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// Whether another try may succeed (a timeout, a 5xx, a 429, SMTP's 4xx).
    pub retryable: bool,
    /// How long the receiver asked to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl SendError {
    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

/// How a send went: the tries it took, and the last error if none succeeded.
#[derive(Debug, Clone)]
pub struct Sent {
    pub tries: u32,
    pub error: Option<String>,
}

/// Everything sending needs: the mailer (when `SMTP_URL` is set), the webhook client,
/// the key that opens webhook URLs, where the dashboard is (for links) and the retry
/// policy. Shared by the worker, the report delivery and the settings' test sends.
pub struct Notifier {
    pub mailer: Option<mail::Mailer>,
    pub webhooks: webhook::Webhooks,
    /// `QBR_SECRET_KEY`: seals and opens webhook URLs.
    pub secret_key: Option<SecretKey>,
    /// The SPA's URL (`FRONTEND_URL`), for the messages' links.
    pub dashboard_url: Option<String>,
    pub retry: RetryPolicy,
}

impl Default for Notifier {
    /// Nothing configured: webhooks can't be stored, email can't be sent.
    fn default() -> Self {
        Notifier {
            mailer: None,
            webhooks: webhook::Webhooks::new(Vec::new()),
            secret_key: None,
            dashboard_url: None,
            retry: RetryPolicy::default(),
        }
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("mail", &self.mailer.is_some())
            .field("secret_key", &self.secret_key.is_some())
            .field("dashboard_url", &self.dashboard_url)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// The notifier of `config`, with `QBR_SECRET_KEY` from `env`.
    pub fn new(config: &NotifyConfig, env: &Env) -> anyhow::Result<Notifier> {
        let mailer = match (&config.smtp, &config.mail_from) {
            (Some(smtp), Some(from)) => Some(mail::Mailer::new(smtp, from)?),
            _ => None,
        };
        let secret_key = match env.var("QBR_SECRET_KEY") {
            Some(key) => Some(
                SecretKey::from_base64(&key)
                    .map_err(|why| anyhow::anyhow!("QBR_SECRET_KEY: {why}"))?,
            ),
            None => None,
        };
        Ok(Notifier {
            mailer,
            webhooks: webhook::Webhooks::new(config.webhook_hosts.clone()),
            secret_key,
            dashboard_url: None,
            retry: RetryPolicy::default(),
        })
    }

    /// Reads the settings from `env` (`config::notify` lists them).
    pub fn from_env(env: &Env) -> anyhow::Result<Notifier> {
        Notifier::new(&NotifyConfig::from_env(env)?, env)
    }

    /// Says at start what can be sent.
    pub fn announce(&self) {
        match &self.mailer {
            Some(m) => tracing::info!(smtp = %m.describe(), "notifications: email on"),
            None => tracing::info!("notifications: email off (SMTP_URL is not set)"),
        }
        if self.secret_key.is_none() {
            tracing::info!(
                "notifications: Teams and Slack webhooks need QBR_SECRET_KEY (they are stored sealed)"
            );
        }
    }
}

/// Runs `send` until it succeeds, fails for good, or `policy`'s tries are used up,
/// waiting longer each time (with jitter; a receiver's `Retry-After` up to a minute);
/// each failed try is logged with `what`.
pub async fn with_retries<F, Fut>(policy: &RetryPolicy, what: &str, send: F) -> Sent
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), SendError>>,
{
    let tries = std::sync::atomic::AtomicU32::new(0);
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.tries.saturating_sub(1))
        .with_jitter();
    let result = (|| async {
        tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        send().await
    })
    .retry(backoff)
    .when(|e: &SendError| e.retryable)
    .adjust(|e: &SendError, dur| match (e.retry_after, dur) {
        (Some(after), Some(_)) => Some(after.min(Duration::from_secs(60))),
        (_, dur) => dur,
    })
    .notify(|e: &SendError, dur| {
        tracing::warn!(to = what, error = %e, retry_in = ?dur, "notification not sent, retrying");
    })
    .await;
    let tries = tries.load(std::sync::atomic::Ordering::Relaxed);
    match result {
        Ok(()) => Sent { tries, error: None },
        Err(e) => {
            tracing::error!(to = what, tries, error = %e, "notification not sent");
            Sent {
                tries,
                error: Some(e.message),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            tries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn a_send_is_retried_until_it_goes_or_the_tries_run_out() {
        let calls = AtomicU32::new(0);
        let sent = with_retries(&fast(), "test", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(SendError {
                    message: "busy".into(),
                    retryable: true,
                    retry_after: Some(Duration::from_millis(1)),
                }),
                _ => Ok(()),
            }
        })
        .await;
        assert_eq!((sent.tries, sent.error), (2, None));
        let sent = with_retries(&fast(), "test", || async {
            Err(SendError {
                message: "down".into(),
                retryable: true,
                retry_after: None,
            })
        })
        .await;
        assert_eq!((sent.tries, sent.error.as_deref()), (3, Some("down")));
        let sent = with_retries(&fast(), "test", || async {
            Err(SendError::permanent("no such channel"))
        })
        .await;
        assert_eq!(sent.tries, 1, "a permanent failure is not retried");
    }
}
