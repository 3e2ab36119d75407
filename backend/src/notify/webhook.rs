//! Chat webhooks: which URLs a Teams or Slack recipient may have (https to Microsoft's
//! or Slack's webhook hosts, or to a host of `QBR_WEBHOOK_HOSTS`), what is shown of
//! one (its hint: never the whole URL, which is the secret), and the POST itself (one
//! try; `notify::with_retries` repeats it).
use super::SendError;
use qbr_shared::notify::Channel;
use reqwest::{StatusCode, Url};
use std::time::Duration;

/// The longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Hosts of Teams webhooks: incoming webhooks (`*.webhook.office.com`, the older
/// `outlook.office.com`) and the Workflows app's "when a webhook request is received"
/// (Logic Apps, Power Platform).
const TEAMS_HOSTS: &[&str] = &[
    "*.webhook.office.com",
    "outlook.office.com",
    "outlook.office365.com",
    "*.logic.azure.com",
    "*.powerplatform.com",
];

/// Hosts of Slack's incoming webhooks (commercial and GovSlack).
const SLACK_HOSTS: &[&str] = &["hooks.slack.com", "hooks.slack-gov.com"];

/// Whether `host` is `pattern` (`*.example.com` also matches any sub-domain).
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
        None => host == pattern,
    }
}

/// The HTTP client of webhooks and the hosts allowed besides the vendors'.
pub struct Webhooks {
    client: reqwest::Client,
    extra_hosts: Vec<String>,
}

impl Webhooks {
    pub fn new(extra_hosts: Vec<String>) -> Webhooks {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            // A webhook that redirects is not one of the vendors'.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("qbr-dashboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Webhooks {
            client,
            extra_hosts,
        }
    }

    /// `url` as a webhook of `channel`, or why not (a sentence for the settings page).
    pub fn check(&self, channel: Channel, url: &str) -> Result<Url, String> {
        let vendor = match channel {
            Channel::Teams => "Microsoft Teams",
            Channel::Slack => "Slack",
            Channel::Email => return Err("an email recipient has no webhook URL".into()),
        };
        if url.len() > MAX_URL_LEN {
            return Err(format!("is longer than {MAX_URL_LEN} characters"));
        }
        let parsed = Url::parse(url.trim()).map_err(|e| format!("is not a URL ({e})"))?;
        let host = parsed
            .host_str()
            .map(str::to_ascii_lowercase)
            .ok_or("has no host")?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not carry a user or password".into());
        }
        if parsed.path().len() < 2 {
            return Err("has no path: copy the whole webhook URL".into());
        }
        let extra = self.extra_hosts.iter().any(|p| host_matches(p, &host));
        let vendor_hosts = match channel {
            Channel::Teams => TEAMS_HOSTS,
            _ => SLACK_HOSTS,
        };
        let known = vendor_hosts.iter().any(|p| host_matches(p, &host));
        match parsed.scheme() {
            "https" if known || extra => Ok(parsed),
            "http" if extra => Ok(parsed),
            "https" | "http" if known => Err("must use https".into()),
            "https" | "http" => Err(format!(
                "is not a {vendor} webhook (its host must be {}; an administrator may allow \
                 others with QBR_WEBHOOK_HOSTS)",
                vendor_hosts.join(", ")
            )),
            other => Err(format!("uses {other}: it must be https")),
        }
    }

    /// Posts `payload` to `url` (one try). Teams' older webhooks answer 200 with the
    /// error of the channel's own rate limit in the body: that one is retried too.
    pub async fn post(&self, url: &str, payload: &serde_json::Value) -> Result<(), SendError> {
        let res = self
            .client
            .post(url)
            .json(payload)
            .send()
            .await
            .map_err(|e| SendError {
                retryable: e.is_connect() || e.is_timeout() || e.is_request(),
                message: format!("webhook: {}", without_url(&e)),
                retry_after: None,
            })?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body: String = res
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        if status.is_success() && !body.contains("HTTP error 429") {
            return Ok(());
        }
        Err(SendError {
            retryable: status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status.is_success(),
            message: format!("webhook answered HTTP {status}: {}", body.trim()),
            retry_after,
        })
    }
}

/// reqwest's error without the URL it names (the URL is the secret).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &hint(url.as_str()));
    }
    text
}

/// What is shown of a webhook: its host (and port) and the last four characters,
/// e.g. `hooks.slack.com/…Xy9Q`.
pub fn hint(url: &str) -> String {
    let parsed = Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            })
        })
        .unwrap_or_else(|| "webhook".into());
    let tail: String = {
        let chars: Vec<char> = url.trim_end_matches('/').chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("{host}/…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_vendors_webhook_hosts_are_taken() {
        let w = Webhooks::new(vec![
            "relay.example.com".into(),
            "*.hooks.example.net".into(),
        ]);
        let ok = |c, u: &str| w.check(c, u).is_ok();
        assert!(ok(
            Channel::Slack,
            "https://hooks.slack.com/services/T000/B000/XXXX"
        ));
        assert!(ok(
            Channel::Teams,
            "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi"
        ));
        assert!(ok(
            Channel::Teams,
            "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"
        ));
        assert!(ok(Channel::Slack, "http://relay.example.com/slack/1"));
        assert!(ok(Channel::Teams, "https://a.hooks.example.net/teams"));
        let why = |c, u: &str| w.check(c, u).err().unwrap_or_default();
        assert!(why(Channel::Slack, "http://hooks.slack.com/services/T/B/X").contains("https"));
        assert!(
            why(Channel::Teams, "https://hooks.slack.com/services/T/B/X")
                .contains("not a Microsoft Teams webhook")
        );
        assert!(why(Channel::Slack, "https://evil.example/hooks.slack.com").contains("Slack"));
        assert!(why(Channel::Slack, "https://hooks.slack.com.evil.example/x").contains("Slack"));
        assert!(why(Channel::Teams, "https://webhook.office.com/x").contains("Teams"));
        assert!(why(Channel::Slack, "https://u:p@hooks.slack.com/services/x").contains("user"));
        assert!(why(Channel::Slack, "https://hooks.slack.com/").contains("path"));
        assert!(why(Channel::Slack, "hooks.slack.com/services/x").contains("not a URL"));
        assert!(why(Channel::Slack, "ftp://hooks.slack.com/x").contains("https"));
        assert!(why(Channel::Slack, "http://127.0.0.1:9/x").contains("Slack"));
    }

    #[test]
    fn a_hint_never_shows_the_secret_part() {
        let url = "https://hooks.slack.com/services/T000/B000/abcdefghXy9Q";
        assert_eq!(hint(url), "hooks.slack.com/…Xy9Q");
        assert!(!hint(url).contains("abcdefgh"));
        assert_eq!(
            hint("http://127.0.0.1:4567/hook/team1"),
            "127.0.0.1:4567/…eam1"
        );
    }
}
