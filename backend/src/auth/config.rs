//! Sign-in settings (`auth.md`). `qbr serve` reads them from the environment
//! ([`AuthConfig::from_env`]); tests build them directly.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `QBR_AUTHORIZED_USERS` | unset (nobody) | comma-separated emails allowed to sign in (case-insensitive) |
//! | `SESSION_LIFETIME_HOURS` | `8` | session lifetime |
//! | `AUTH_DEV_LOGIN` | `false` | enables `GET /api/auth/dev/login?email=` (loopback only) |
//! | `CORS_ORIGINS` | `https://dashboards.enersystems.com,http://localhost:8080,http://localhost:3000` | origins allowed to call the API with credentials (besides `FRONTEND_URL`'s) |
//! | `API_BASE_URL` | `http://{QBR_LISTEN}{QBR_PUBLIC_PATH}` | public URL of this server (redirect URI base) |
//! | `FRONTEND_URL` | `{API_BASE_URL}/` | where the SPA is: sign-in, logout and error pages lead there |
//! | `SESSION_COOKIE_DOMAIN` | unset (host-only) | `Domain` of the session cookie, when one is needed |
//! | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` | unset | the Azure app registration |
//! | `AZURE_AUTHORITY_URL` | `https://login.microsoftonline.com` | Microsoft identity platform |
//! | `GRAPH_URL` | `https://graph.microsoft.com` | Microsoft Graph |
//! | `QBR_API_KEY_READS_PER_MINUTE` | `120` | per-key limit for GET requests |
//! | `QBR_API_KEY_WRITES_PER_MINUTE` | `20` | per-key limit for POST/PUT/DELETE |
//! | `QBR_SIGN_IN_PER_MINUTE` | `30` | per-client-IP limit on the sign-in endpoints |
use crate::config::hosting::PublicPath;
use crate::config::Env;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

/// The emails allowed to sign in, lower-cased. Shared, so a running server's list can
/// be replaced (tests; a future reload) and every request sees the new list.
#[derive(Clone, Default, Debug)]
pub struct AllowList(Arc<RwLock<BTreeSet<String>>>);

impl AllowList {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(emails: I) -> Self {
        let list = AllowList::default();
        list.replace(emails);
        list
    }

    /// Parses `a@x.com, B@y.com`.
    pub fn parse(text: &str) -> Self {
        Self::new(text.split(','))
    }

    pub fn replace<I: IntoIterator<Item = S>, S: AsRef<str>>(&self, emails: I) {
        let set: BTreeSet<String> = emails
            .into_iter()
            .map(|e| e.as_ref().trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        if let Ok(mut guard) = self.0.write() {
            *guard = set;
        }
    }

    pub fn contains(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        self.0.read().map(|s| s.contains(&email)).unwrap_or(false)
    }

    pub fn is_empty(&self) -> bool {
        self.0.read().map(|s| s.is_empty()).unwrap_or(true)
    }

    pub fn emails(&self) -> Vec<String> {
        self.0
            .read()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The Azure app registration.
#[derive(Clone, Debug)]
pub struct MicrosoftConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Rate limits (per replica: the limiter state lives in the process).
#[derive(Clone, Copy, Debug)]
pub struct RateLimitConfig {
    pub key_reads_per_minute: u32,
    pub key_writes_per_minute: u32,
    pub sign_in_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            key_reads_per_minute: 120,
            key_writes_per_minute: 20,
            sign_in_per_minute: 30,
        }
    }
}

pub const DEFAULT_CORS_ORIGINS: &str =
    "https://dashboards.enersystems.com,http://localhost:8080,http://localhost:3000";

/// Everything sign-in and access control need.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub allow_list: AllowList,
    pub session_lifetime_hours: i64,
    /// `Secure` on the session cookie; off only for plain-http loopback development.
    pub secure_cookie: bool,
    pub dev_login: bool,
    /// Allowed origins, without a trailing slash (`FRONTEND_URL`'s among them).
    pub cors_origins: Vec<String>,
    /// This server's public URL, with the public path, without a trailing slash.
    pub api_base_url: String,
    /// The SPA's URL, ending in `/`.
    pub frontend_url: String,
    /// The session cookie's `Path` (the public path, or `/`) and `Domain` (none: the
    /// cookie goes back to this host only).
    pub cookie_path: String,
    pub cookie_domain: Option<String>,
    /// `None` when the Azure settings are missing: Microsoft sign-in answers an error.
    pub microsoft: Option<MicrosoftConfig>,
    pub authority_url: String,
    pub graph_url: String,
    pub limits: RateLimitConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_list: AllowList::default(),
            session_lifetime_hours: 8,
            secure_cookie: true,
            dev_login: false,
            cors_origins: parse_origins(DEFAULT_CORS_ORIGINS),
            api_base_url: "http://127.0.0.1:5400".into(),
            frontend_url: "/".into(),
            cookie_path: "/".into(),
            cookie_domain: None,
            microsoft: None,
            authority_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            limits: RateLimitConfig::default(),
        }
    }
}

/// `scheme://host[:port]` of an absolute URL (`None` for a path).
fn origin_of(url: &str) -> Option<String> {
    let parsed = oauth2::url::Url::parse(url).ok()?;
    parsed.host_str()?;
    Some(parsed.origin().ascii_serialization())
}

fn with_trailing_slash(url: String) -> String {
    if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    }
}

fn parse_origins(text: &str) -> Vec<String> {
    text.split(',')
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect()
}

impl AuthConfig {
    /// Reads the environment for a server listening on `listen` under `public_path`.
    pub fn from_env(
        env: &Env,
        listen: SocketAddr,
        public_path: &PublicPath,
    ) -> anyhow::Result<AuthConfig> {
        let api_base_url = env
            .var("API_BASE_URL")
            .unwrap_or_else(|| format!("http://{listen}{}", public_path.as_str()))
            .trim_end_matches('/')
            .to_string();
        let frontend_url = with_trailing_slash(
            env.var("FRONTEND_URL")
                .unwrap_or_else(|| format!("{api_base_url}/")),
        );
        let mut cors_origins = parse_origins(
            &env.var("CORS_ORIGINS")
                .unwrap_or_else(|| DEFAULT_CORS_ORIGINS.into()),
        );
        if let Some(origin) = origin_of(&frontend_url) {
            if !cors_origins.contains(&origin) {
                cors_origins.push(origin);
            }
        }
        let cookie_domain = env.var("SESSION_COOKIE_DOMAIN");
        if let Some(domain) = &cookie_domain {
            anyhow::ensure!(
                domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "SESSION_COOKIE_DOMAIN must be a host name like enersystems.com, got '{domain}'"
            );
        }
        let hours: i64 = env.parsed("SESSION_LIFETIME_HOURS", 8)?;
        anyhow::ensure!(
            (1..=24 * 90).contains(&hours),
            "SESSION_LIFETIME_HOURS must be between 1 and 2160, got {hours}"
        );
        let microsoft = match (
            env.var("AZURE_TENANT_ID"),
            env.var("AZURE_CLIENT_ID"),
            env.var("AZURE_CLIENT_SECRET"),
        ) {
            (Some(tenant_id), Some(client_id), Some(client_secret)) => Some(MicrosoftConfig {
                tenant_id,
                client_id,
                client_secret,
            }),
            _ => None,
        };
        let defaults = RateLimitConfig::default();
        Ok(AuthConfig {
            allow_list: AllowList::parse(&env.var("QBR_AUTHORIZED_USERS").unwrap_or_default()),
            session_lifetime_hours: hours,
            secure_cookie: !(api_base_url.starts_with("http://") && listen.ip().is_loopback()),
            dev_login: env.flag("AUTH_DEV_LOGIN"),
            cors_origins,
            frontend_url,
            api_base_url,
            cookie_path: public_path.cookie_path().to_string(),
            cookie_domain,
            microsoft,
            authority_url: env
                .var("AZURE_AUTHORITY_URL")
                .unwrap_or_else(|| "https://login.microsoftonline.com".into())
                .trim_end_matches('/')
                .to_string(),
            graph_url: env
                .var("GRAPH_URL")
                .unwrap_or_else(|| "https://graph.microsoft.com".into())
                .trim_end_matches('/')
                .to_string(),
            limits: RateLimitConfig {
                key_reads_per_minute: env.parsed(
                    "QBR_API_KEY_READS_PER_MINUTE",
                    defaults.key_reads_per_minute,
                )?,
                key_writes_per_minute: env.parsed(
                    "QBR_API_KEY_WRITES_PER_MINUTE",
                    defaults.key_writes_per_minute,
                )?,
                sign_in_per_minute: env
                    .parsed("QBR_SIGN_IN_PER_MINUTE", defaults.sign_in_per_minute)?,
            },
        })
    }

    /// Refuses settings that are unsafe for a server listening on `listen`
    /// (`behind_proxy`: reverse proxies are trusted, so others reach it through them).
    pub fn check(&self, listen: SocketAddr, behind_proxy: bool) -> anyhow::Result<()> {
        if !self.dev_login {
            return Ok(());
        }
        anyhow::ensure!(
            listen.ip().is_loopback(),
            "AUTH_DEV_LOGIN=true is allowed only when QBR_LISTEN is a loopback address (got {listen})"
        );
        // On loopback behind a TLS-terminating proxy, everyone the proxy serves could
        // sign in as anyone allowed: a published server never has development sign-in.
        anyhow::ensure!(
            self.api_base_url.starts_with("http://") && !behind_proxy,
            "AUTH_DEV_LOGIN=true is not allowed on a published server (API_BASE_URL is https, \
             or QBR_TRUSTED_PROXIES is set)"
        );
        Ok(())
    }

    /// The OAuth redirect URI registered in Azure.
    pub fn redirect_uri(&self) -> String {
        format!("{}/api/auth/microsoft/callback", self.api_base_url)
    }

    pub fn session_lifetime(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::hours(self.session_lifetime_hours)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_is_case_insensitive_and_trims() {
        let list = AllowList::parse(" A@Example.com ,b@example.com,,");
        assert!(list.contains("a@example.COM"));
        assert!(list.contains("B@example.com"));
        assert!(!list.contains("c@example.com"));
        list.replace(["c@example.com"]);
        assert!(!list.contains("a@example.com"));
        assert!(list.contains("C@example.com"));
    }

    fn from(vars: &[(&str, &str)], public_path: &str) -> AuthConfig {
        let env = Env::from_pairs(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let path = PublicPath::parse(public_path).unwrap();
        AuthConfig::from_env(&env, ([127, 0, 0, 1], 5401).into(), &path).unwrap()
    }

    #[test]
    fn split_hosts() {
        let c = from(
            &[
                ("API_BASE_URL", "https://db-api.enersystems.com:5400/"),
                ("FRONTEND_URL", "https://dashboards.enersystems.com/qbr"),
                ("CORS_ORIGINS", "http://localhost:8080"),
            ],
            "",
        );
        assert_eq!(c.api_base_url, "https://db-api.enersystems.com:5400");
        assert_eq!(c.frontend_url, "https://dashboards.enersystems.com/qbr/");
        assert_eq!(
            c.cors_origins,
            [
                "http://localhost:8080",
                "https://dashboards.enersystems.com"
            ]
        );
        assert!(c.secure_cookie);
        assert_eq!(c.cookie_path, "/");
        assert_eq!(c.cookie_domain, None);
    }

    #[test]
    fn under_a_public_path() {
        let c = from(&[], "/qbr");
        assert_eq!(c.api_base_url, "http://127.0.0.1:5401/qbr");
        assert_eq!(c.frontend_url, "http://127.0.0.1:5401/qbr/");
        assert_eq!(
            c.redirect_uri(),
            "http://127.0.0.1:5401/qbr/api/auth/microsoft/callback"
        );
        assert_eq!(c.cookie_path, "/qbr");
        assert!(!c.secure_cookie, "plain-http loopback development");
        assert!(c
            .cors_origins
            .contains(&"http://127.0.0.1:5401".to_string()));
        let with_domain = from(&[("SESSION_COOKIE_DOMAIN", "enersystems.com")], "");
        assert_eq!(
            with_domain.cookie_domain.as_deref(),
            Some("enersystems.com")
        );
        let env = Env::from_pairs([("SESSION_COOKIE_DOMAIN".to_string(), "a; b".to_string())]);
        assert!(
            AuthConfig::from_env(&env, ([127, 0, 0, 1], 1).into(), &PublicPath::default()).is_err()
        );
    }

    #[test]
    fn dev_login_only_on_loopback() {
        let config = AuthConfig {
            dev_login: true,
            ..AuthConfig::default()
        };
        let local = ([127, 0, 0, 1], 5400).into();
        assert!(config.check(local, false).is_ok());
        assert!(config.check(([0, 0, 0, 0], 5400).into(), false).is_err());
        assert!(config.check(local, true).is_err(), "behind a proxy");
        let published = AuthConfig {
            api_base_url: "https://db-api.example.com:5400".into(),
            ..config
        };
        assert!(published.check(local, false).is_err());
    }
}
