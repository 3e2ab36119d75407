//! QuickBooks Online: the server connects to a company with Intuit's OAuth 2.0
//! authorization code flow (`connect`: Settings → QuickBooks → Connect QuickBooks
//! Online), keeps its tokens sealed (`secrets::sealing`), and every night (after the vendors'
//! run) or with `qbr quickbooks sync-online` reads the profit and loss by month and the
//! active employee count (`client`), turns the report's JSON into the shared model
//! (`report`) and stores it as one collection run (`run`, through `super::sync`), like
//! a Web Connector delivery.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `QBO_CLIENT_ID` | unset | the Intuit app's client ID (Keys and credentials); unset = no QuickBooks Online |
//! | `QBO_CLIENT_SECRET` | unset | the app's client secret |
//! | `QBR_SECRET_KEY` | unset | 32 random bytes in base64 (`openssl rand -base64 32`) that seal the tokens at rest; required with `QBO_CLIENT_ID` |
//! | `QBO_ENVIRONMENT` | `production` | `production` or `sandbox` (development keys and sandbox companies): the default of `QBO_API_URL` |
//! | `QBO_REDIRECT_URI` | `{API_BASE_URL}/api/qbr/quickbooks/online/callback` | must be one of the app's redirect URIs, exactly |
//! | `QBO_AUTHORIZE_URL` | `https://appcenter.intuit.com/connect/oauth2` | Intuit's consent page |
//! | `QBO_TOKEN_URL` | `https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer` | Intuit's token endpoint |
//! | `QBO_API_URL` | `https://quickbooks.api.intuit.com` (`https://sandbox-quickbooks.api.intuit.com` in the sandbox) | the Accounting API |
//!
//! `QUICKBOOKS_BASIS`, `QUICKBOOKS_COUNT_EMPLOYEES` and `QUICKBOOKS_CLOSED_AFTER_MONTHS`
//! (`super`) apply as they do to QuickBooks Desktop.
pub mod client;
pub mod connect;
pub mod customer_sales;
pub mod report;
mod run;

pub use run::{nightly, sync, SyncError};

use crate::collect::http::HttpSettings;
use crate::config::Env;
use crate::secrets::sealing::SecretKey;
use anyhow::Context;

/// Where the callback is served, under `API_BASE_URL`.
pub const CALLBACK_PATH: &str = "/api/qbr/quickbooks/online/callback";
const AUTHORIZE_URL: &str = "https://appcenter.intuit.com/connect/oauth2";
const TOKEN_URL: &str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";

/// Intuit's two worlds: development keys reach sandbox companies only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Production,
    Sandbox,
}

impl Environment {
    fn parse(word: &str) -> Option<Environment> {
        match word.trim().to_ascii_lowercase().as_str() {
            "production" => Some(Environment::Production),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }

    /// The Accounting API's base URL.
    pub fn api_url(self) -> &'static str {
        match self {
            Environment::Production => "https://quickbooks.api.intuit.com",
            Environment::Sandbox => "https://sandbox-quickbooks.api.intuit.com",
        }
    }
}

/// How the server reaches QuickBooks Online.
#[derive(Clone)]
pub struct OnlineSettings {
    pub client_id: String,
    pub client_secret: String,
    pub environment: Environment,
    pub redirect_uri: String,
    pub authorize_url: String,
    pub token_url: String,
    pub api_url: String,
    /// Seals the tokens at rest.
    pub key: SecretKey,
    /// Timeouts and retries of every call to Intuit.
    pub http: HttpSettings,
}

impl std::fmt::Debug for OnlineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineSettings")
            .field("client_id", &self.client_id)
            .field("environment", &self.environment)
            .field("redirect_uri", &self.redirect_uri)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl OnlineSettings {
    /// `None` when QuickBooks Online is not set up (no `QBO_CLIENT_ID` nor
    /// `QBO_CLIENT_SECRET`); an error for a half or malformed setup, so it is found at
    /// start rather than at the first connect.
    pub fn from_env(env: &Env) -> anyhow::Result<Option<OnlineSettings>> {
        let (client_id, client_secret) =
            match (env.var("QBO_CLIENT_ID"), env.var("QBO_CLIENT_SECRET")) {
                (Some(id), Some(secret)) => (id, secret),
                (None, None) => return Ok(None),
                _ => anyhow::bail!("set both QBO_CLIENT_ID and QBO_CLIENT_SECRET, or neither"),
            };
        let key = env
            .var("QBR_SECRET_KEY")
            .context("QuickBooks Online needs QBR_SECRET_KEY (32 random bytes in base64, e.g. `openssl rand -base64 32`) to seal its tokens")?;
        let key =
            SecretKey::from_base64(&key).map_err(|why| anyhow::anyhow!("QBR_SECRET_KEY: {why}"))?;
        let environment = match env.var("QBO_ENVIRONMENT") {
            None => Environment::Production,
            Some(word) => Environment::parse(&word).with_context(|| {
                format!("QBO_ENVIRONMENT must be production or sandbox, got '{word}'")
            })?,
        };
        let redirect_uri = env
            .var("QBO_REDIRECT_URI")
            .unwrap_or_else(|| format!("{}{CALLBACK_PATH}", api_base_url(env)));
        Ok(Some(OnlineSettings {
            client_id,
            client_secret,
            environment,
            redirect_uri: url_setting("QBO_REDIRECT_URI", redirect_uri)?,
            authorize_url: url_setting(
                "QBO_AUTHORIZE_URL",
                env.var("QBO_AUTHORIZE_URL")
                    .unwrap_or_else(|| AUTHORIZE_URL.into()),
            )?,
            token_url: url_setting(
                "QBO_TOKEN_URL",
                env.var("QBO_TOKEN_URL").unwrap_or_else(|| TOKEN_URL.into()),
            )?,
            api_url: url_setting(
                "QBO_API_URL",
                env.var("QBO_API_URL")
                    .unwrap_or_else(|| environment.api_url().into()),
            )?,
            key,
            http: HttpSettings::default(),
        }))
    }
}

/// `API_BASE_URL` as the sign-in settings read it (`http://{QBR_LISTEN}` by default).
fn api_base_url(env: &Env) -> String {
    env.var("API_BASE_URL")
        .unwrap_or_else(|| {
            let listen = env
                .var("QBR_LISTEN")
                .unwrap_or_else(|| "127.0.0.1:5400".into());
            format!("http://{listen}")
        })
        .trim_end_matches('/')
        .to_string()
}

/// An http(s) URL without a trailing slash.
fn url_setting(name: &str, value: String) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(value.trim())
        .with_context(|| format!("{name} must be a URL, got '{value}'"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "https" | "http"),
        "{name} must be an http(s) URL, got '{value}'"
    );
    Ok(value.trim().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Option<OnlineSettings>> {
        OnlineSettings::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn unset_is_off_and_half_a_setup_is_refused() {
        assert!(with(&[]).is_ok_and(|s| s.is_none()));
        assert!(with(&[("QBO_CLIENT_ID", "id")]).is_err());
        let no_key = with(&[("QBO_CLIENT_ID", "id"), ("QBO_CLIENT_SECRET", "s")]);
        assert!(no_key
            .err()
            .is_some_and(|e| e.to_string().contains("QBR_SECRET_KEY")));
        let bad_key = with(&[
            ("QBO_CLIENT_ID", "id"),
            ("QBO_CLIENT_SECRET", "s"),
            ("QBR_SECRET_KEY", "c2hvcnQ="),
        ]);
        assert!(bad_key.is_err());
    }

    #[test]
    fn defaults_follow_the_environment_and_the_base_url() {
        let key = SecretKey::random_base64();
        let base = [
            ("QBO_CLIENT_ID", "id"),
            ("QBO_CLIENT_SECRET", "s"),
            ("QBR_SECRET_KEY", key.as_str()),
            ("API_BASE_URL", "https://qbr.example.com/"),
        ];
        let s = with(&base).ok().flatten();
        let s = s.unwrap_or_else(|| panic!("settings"));
        assert_eq!(s.environment, Environment::Production);
        assert_eq!(s.api_url, "https://quickbooks.api.intuit.com");
        assert_eq!(s.authorize_url, AUTHORIZE_URL);
        assert_eq!(s.token_url, TOKEN_URL);
        assert_eq!(
            s.redirect_uri,
            "https://qbr.example.com/api/qbr/quickbooks/online/callback"
        );
        let mut sandbox = base.to_vec();
        sandbox.push(("QBO_ENVIRONMENT", "Sandbox"));
        let s = with(&sandbox).ok().flatten();
        assert!(s.is_some_and(|s| s.api_url == "https://sandbox-quickbooks.api.intuit.com"));
        let mut bad = base.to_vec();
        bad.push(("QBO_ENVIRONMENT", "staging"));
        assert!(with(&bad).is_err());
        let mut bad = base.to_vec();
        bad.push(("QBO_API_URL", "ftp://example.com"));
        assert!(with(&bad).is_err());
        let debug = format!("{:?}", with(&base).ok().flatten());
        assert!(
            !debug.contains(&key) && debug.contains("client_id"),
            "{debug}"
        );
    }
}
