//! QuickBooks: profit-and-loss by month (revenue and expense metrics) and the active
//! employee count, from QuickBooks Desktop through the Web Connector (which calls this
//! server: `web_connector`, its SOAP in `soap`, qbXML in `qbxml`). The account mapping
//! is `qbr_shared::quickbooks`; `sync` turns a report into a collection run.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `QBWC_USERNAME` | unset | the Web Connector's user name; unset = no Web Connector |
//! | `QBWC_PASSWORD_HASH` | unset | argon2id PHC string (`qbr quickbooks hash-password`) |
//! | `QUICKBOOKS_BASIS` | `accrual` | `accrual` or `cash` profit and loss |
//! | `QUICKBOOKS_COUNT_EMPLOYEES` | `false` | collect `employees` (active employees) |
//! | `QUICKBOOKS_CLOSED_AFTER_MONTHS` | `2` | without a closing date in QuickBooks, months this many back are closed |
//! | `QBWC_SESSION_MINUTES` | `30` | a Web Connector ticket expires after this long idle |
//!
//! QuickBooks Online (`online`: OAuth 2.0 with Intuit, the Accounting API) has its own
//! variables, listed there.
pub mod customers;
pub mod online;
pub mod qbxml;
pub mod qwc;
pub mod soap;
pub mod sync;
pub mod web_connector;

use crate::config::Env;
use anyhow::Context;
use qbxml::Basis;
use std::time::Duration;

/// How the server talks with QuickBooks.
#[derive(Clone, Debug)]
pub struct QuickBooksSettings {
    /// The Web Connector's credentials, when it is set up.
    pub web_connector: Option<WebConnectorLogin>,
    pub basis: Basis,
    pub count_employees: bool,
    pub closed_after_months: u32,
    pub session_idle: Duration,
    /// QuickBooks Online's app and key, when it is set up.
    pub online: Option<online::OnlineSettings>,
}

/// The one user the Web Connector signs in as.
#[derive(Clone)]
pub struct WebConnectorLogin {
    pub username: String,
    /// argon2id, in PHC string format.
    pub password_hash: String,
}

impl std::fmt::Debug for WebConnectorLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConnectorLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Default for QuickBooksSettings {
    fn default() -> Self {
        QuickBooksSettings {
            web_connector: None,
            basis: Basis::Accrual,
            count_employees: false,
            closed_after_months: 2,
            session_idle: Duration::from_secs(30 * 60),
            online: None,
        }
    }
}

impl QuickBooksSettings {
    pub fn from_env(env: &Env) -> anyhow::Result<QuickBooksSettings> {
        let web_connector = match (env.var("QBWC_USERNAME"), env.var("QBWC_PASSWORD_HASH")) {
            (Some(username), Some(password_hash)) => {
                argon2::PasswordHash::new(&password_hash)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .context("QBWC_PASSWORD_HASH must be the PHC string `qbr quickbooks hash-password` prints")?;
                Some(WebConnectorLogin {
                    username,
                    password_hash,
                })
            }
            (None, None) => None,
            _ => anyhow::bail!("set both QBWC_USERNAME and QBWC_PASSWORD_HASH, or neither"),
        };
        let basis = match env.var("QUICKBOOKS_BASIS").as_deref() {
            None | Some("accrual") => Basis::Accrual,
            Some("cash") => Basis::Cash,
            Some(other) => anyhow::bail!("QUICKBOOKS_BASIS must be accrual or cash, got '{other}'"),
        };
        let defaults = QuickBooksSettings::default();
        Ok(QuickBooksSettings {
            web_connector,
            basis,
            count_employees: env.flag("QUICKBOOKS_COUNT_EMPLOYEES"),
            closed_after_months: env.parsed("QUICKBOOKS_CLOSED_AFTER_MONTHS", 2)?,
            session_idle: Duration::from_secs(
                60 * env
                    .parsed("QBWC_SESSION_MINUTES", defaults.session_idle.as_secs() / 60)?
                    .max(1),
            ),
            online: online::OnlineSettings::from_env(env)?,
        })
    }
}

/// An argon2id hash of `password` in PHC string format (`QBWC_PASSWORD_HASH`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `hash` (slow by design: run off the
/// async workers).
pub fn password_matches(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_as_argon2id_and_checked() {
        let hash = hash_password("s3cret pass").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches("s3cret pass", &hash));
        assert!(!password_matches("s3cret pas", &hash));
        assert!(!password_matches("s3cret pass", "not a hash"));
    }

    #[test]
    fn settings_need_both_credentials() {
        let env = Env::from_pairs([("QBWC_USERNAME", "qb")]);
        assert!(QuickBooksSettings::from_env(&env).is_err());
        let env = Env::from_pairs([("QBWC_USERNAME", "qb"), ("QBWC_PASSWORD_HASH", "plain")]);
        assert!(QuickBooksSettings::from_env(&env).is_err());
        let s = QuickBooksSettings::from_env(&Env::from_pairs::<&str, &str>([]));
        assert!(s.is_ok_and(|s| s.web_connector.is_none() && s.basis == Basis::Accrual));
    }
}
