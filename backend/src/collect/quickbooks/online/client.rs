//! Intuit's side: the OAuth 2.0 endpoints (the consent page's URL, the code exchange,
//! the refresh) and the two reads of a connected company, all through the collectors'
//! HTTP client (`collect::http::Http`: timeouts, retries with backoff on 429 and 5xx).
//!
//! Access tokens last an hour and are renewed five minutes early; a 401 from the API
//! (revoked or expired early) renews once and asks again. Intuit may rotate the refresh
//! token with every renewal and then refuses the old one, so what it issues is handed
//! to a [`TokenKeeper`] (the database) before anything else is asked.
use super::OnlineSettings;
use crate::collect::http::{Http, VendorError};
use crate::collect::quickbooks::qbxml::Basis;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use reqwest::header::ACCEPT;
use reqwest::StatusCode;
use serde::Deserialize;

/// The Accounting API's scope: reports and queries.
pub const SCOPE: &str = "com.intuit.quickbooks.accounting";
/// The Accounting API's minor version (Intuit answers 75 to anything older since 2025).
const MINOR_VERSION: &str = "75";
/// The active employee count (`QueryResponse.totalCount`).
pub const EMPLOYEE_QUERY: &str = "select count(*) from Employee where Active = true";
/// An access token with less than this left is renewed before it is used.
const RENEW_EARLY: TimeDelta = TimeDelta::minutes(5);
/// A refresh token's life when Intuit does not say (its documented 100 days).
const REFRESH_LIFE_DAYS: i64 = 100;

/// A company's tokens as Intuit issued them.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer (RFC 6749 5.1, plus Intuit's refresh token lifetime).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
    #[serde(default)]
    x_refresh_token_expires_in: Option<i64>,
}

impl TokenAnswer {
    fn tokens(self, now: DateTime<Utc>) -> Tokens {
        let refresh_life = self
            .x_refresh_token_expires_in
            .unwrap_or(REFRESH_LIFE_DAYS * 86_400);
        Tokens {
            access_token: self.access_token,
            access_expires_at: now + TimeDelta::seconds(self.expires_in.max(0)),
            refresh_token: self.refresh_token,
            refresh_expires_at: now + TimeDelta::seconds(refresh_life.max(0)),
        }
    }
}

/// The token endpoint's error (RFC 6749 5.2).
#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
}

/// What went wrong talking with Intuit.
#[derive(Debug, thiserror::Error)]
pub enum IntuitError {
    #[error(transparent)]
    Http(#[from] VendorError),
    /// The code, the refresh token or the app's credentials were refused: nothing
    /// but connecting again (or fixing `QBO_CLIENT_*`) helps.
    #[error("Intuit refused the authorization ({0}): {hint}", hint = refusal_hint(.0))]
    Refused(String),
    #[error("{what}: unexpected answer: {why}")]
    BadAnswer { what: String, why: String },
    /// New tokens arrived but could not be kept.
    #[error("keeping Intuit's new tokens failed: {0:#}")]
    Keep(anyhow::Error),
}

fn refusal_hint(error: &str) -> &'static str {
    match error {
        "invalid_client" => "check QBO_CLIENT_ID and QBO_CLIENT_SECRET",
        _ => "connect QuickBooks Online again (Settings → QuickBooks)",
    }
}

impl IntuitError {
    /// Whether only connecting again helps.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, IntuitError::Refused(e) if e != "invalid_client")
    }
}

fn bad_answer(what: &str, why: impl std::fmt::Display) -> IntuitError {
    IntuitError::BadAnswer {
        what: what.to_string(),
        why: why.to_string(),
    }
}

/// Intuit's endpoints with the app's credentials.
pub struct Intuit {
    http: Http,
    cfg: OnlineSettings,
}

impl Intuit {
    pub fn new(cfg: &OnlineSettings) -> anyhow::Result<Intuit> {
        Ok(Intuit {
            http: Http::new(cfg.http.clone())?.for_vendor(qbr_shared::Vendor::QuickBooks),
            cfg: cfg.clone(),
        })
    }

    /// Requests sent so far (retries included).
    pub fn requests(&self) -> u64 {
        self.http.requests()
    }

    /// The consent page that sends the user back to the callback with `state`, a code
    /// and the company's `realmId`.
    pub fn authorize_url(&self, state: &str) -> anyhow::Result<String> {
        let url = reqwest::Url::parse_with_params(
            &self.cfg.authorize_url,
            [
                ("client_id", self.cfg.client_id.as_str()),
                ("response_type", "code"),
                ("scope", SCOPE),
                ("redirect_uri", self.cfg.redirect_uri.as_str()),
                ("state", state),
            ],
        )?;
        Ok(url.to_string())
    }

    /// Exchanges the callback's code for the company's first tokens.
    pub async fn exchange_code(&self, code: &str) -> Result<Tokens, IntuitError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.cfg.redirect_uri.as_str()),
        ];
        self.token_request("Intuit code exchange", &form).await
    }

    /// New tokens for `refresh_token` (which Intuit may retire with this call).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, IntuitError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token_request("Intuit token refresh", &form).await
    }

    /// A token request with the app's credentials in HTTP Basic (as Intuit documents).
    async fn token_request(
        &self,
        what: &str,
        form: &[(&str, &str)],
    ) -> Result<Tokens, IntuitError> {
        let url = &self.cfg.token_url;
        let (id, secret) = (&self.cfg.client_id, &self.cfg.client_secret);
        let refused = [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED];
        let now = Utc::now();
        let res = self
            .http
            .send_passing(what, &refused, |c| {
                c.post(url)
                    .basic_auth(id, Some(secret))
                    .header(ACCEPT, "application/json")
                    .form(form)
            })
            .await?;
        if refused.contains(&res.status()) {
            let status = res.status();
            let error = res
                .json::<TokenRefusal>()
                .await
                .map(|r| r.error)
                .unwrap_or_else(|_| format!("HTTP {status}"));
            // The error word is Intuit's: keep it short and plain for logs and pages.
            let error: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ' '))
                .take(64)
                .collect();
            return Err(IntuitError::Refused(error));
        }
        let answer: TokenAnswer = res.json().await.map_err(|e| bad_answer(what, e))?;
        Ok(answer.tokens(now))
    }
}

/// Where tokens go the moment Intuit issues them.
#[async_trait::async_trait]
pub trait TokenKeeper: Send + Sync {
    async fn keep(&self, tokens: &Tokens) -> anyhow::Result<()>;
}

/// A connected company: its realm, its tokens and where new ones are kept.
pub struct Company<'a> {
    intuit: &'a Intuit,
    realm_id: String,
    tokens: Tokens,
    keeper: &'a dyn TokenKeeper,
}

#[derive(Deserialize)]
struct QueryAnswer {
    #[serde(rename = "QueryResponse")]
    query_response: CountResponse,
}

#[derive(Deserialize)]
struct CountResponse {
    #[serde(rename = "totalCount", default)]
    total_count: u32,
}

impl<'a> Company<'a> {
    pub fn new(
        intuit: &'a Intuit,
        realm_id: &str,
        tokens: Tokens,
        keeper: &'a dyn TokenKeeper,
    ) -> Company<'a> {
        Company {
            intuit,
            realm_id: realm_id.to_string(),
            tokens,
            keeper,
        }
    }

    /// The tokens in use now.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The `ProfitAndLoss` report by month, `from`..=`to`, as Intuit sent it (JSON).
    pub async fn profit_and_loss(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        basis: Basis,
    ) -> Result<String, IntuitError> {
        let query = report_query(from, to, basis);
        self.get(
            "QuickBooks Online profit and loss",
            "reports/ProfitAndLoss",
            &query,
        )
        .await
    }

    /// The `CustomerSales` report by month, `from`..=`to` (JSON): revenue per client.
    pub async fn customer_sales(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        basis: Basis,
    ) -> Result<String, IntuitError> {
        let query = report_query(from, to, basis);
        self.get(
            "QuickBooks Online sales by customer",
            "reports/CustomerSales",
            &query,
        )
        .await
    }

    /// How many employees are active.
    pub async fn active_employees(&mut self) -> Result<u32, IntuitError> {
        let what = "QuickBooks Online employees";
        let query = [("query", EMPLOYEE_QUERY.to_string())];
        let text = self.get(what, "query", &query).await?;
        let answer: QueryAnswer = serde_json::from_str(&text).map_err(|e| bad_answer(what, e))?;
        Ok(answer.query_response.total_count)
    }

    /// A GET of the company's `path` (JSON), renewing the access token when it is
    /// about to expire, or once when the API refuses it.
    async fn get(
        &mut self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, IntuitError> {
        if self.tokens.access_expires_at - Utc::now() < RENEW_EARLY {
            self.renew().await?;
        }
        let url = format!(
            "{}/v3/company/{}/{path}",
            self.intuit.cfg.api_url, self.realm_id
        );
        let mut renewed = false;
        loop {
            let token = self.tokens.access_token.clone();
            let res = self
                .intuit
                .http
                .send_passing(what, &[StatusCode::UNAUTHORIZED], |c| {
                    c.get(&url)
                        .bearer_auth(&token)
                        .header(ACCEPT, "application/json")
                        .query(query)
                        .query(&[("minorversion", MINOR_VERSION)])
                })
                .await?;
            if res.status() != StatusCode::UNAUTHORIZED {
                return res.text().await.map_err(|e| bad_answer(what, e));
            }
            if renewed {
                // A token issued a moment ago refused: the app lost its access.
                return Err(IntuitError::Refused("access refused".into()));
            }
            tracing::info!(%what, "QuickBooks Online refused the access token; renewing it");
            self.renew().await?;
            renewed = true;
        }
    }

    /// New tokens from the refresh token, kept before they are used.
    async fn renew(&mut self) -> Result<(), IntuitError> {
        if self.tokens.refresh_expires_at <= Utc::now() {
            return Err(IntuitError::Refused("refresh token expired".into()));
        }
        let fresh = self.intuit.refresh(&self.tokens.refresh_token).await?;
        if let Err(e) = self.keeper.keep(&fresh).await {
            // Intuit may have retired the old refresh token already: say so loudly.
            tracing::error!(error = %format!("{e:#}"), "QuickBooks Online's new tokens could not be kept; the company may have to be connected again");
            return Err(IntuitError::Keep(e));
        }
        self.tokens = fresh;
        Ok(())
    }
}

/// A report's query: `from..=to`, a column per month, on `basis`.
fn report_query(from: NaiveDate, to: NaiveDate, basis: Basis) -> [(&'static str, String); 4] {
    let method = match basis {
        Basis::Accrual => "Accrual",
        Basis::Cash => "Cash",
    };
    [
        ("start_date", from.format("%Y-%m-%d").to_string()),
        ("end_date", to.format("%Y-%m-%d").to_string()),
        ("summarize_column_by", "Month".to_string()),
        ("accounting_method", method.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_become_expiry_times() {
        let now = Utc::now();
        let answer: TokenAnswer = serde_json::from_str(
            r#"{"token_type":"bearer","expires_in":3600,"refresh_token":"r2","x_refresh_token_expires_in":8726400,"access_token":"a2"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let t = answer.tokens(now);
        assert_eq!(t.access_expires_at - now, TimeDelta::hours(1));
        assert_eq!(t.refresh_expires_at - now, TimeDelta::days(101));
        let without: TokenAnswer =
            serde_json::from_str(r#"{"expires_in":3600,"refresh_token":"r","access_token":"a"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            without.tokens(now).refresh_expires_at - now,
            TimeDelta::days(100)
        );
        assert!(!format!("{t:?}").contains("a2"), "no token in Debug");
    }

    #[test]
    fn refusals_say_what_helps() {
        let grant = IntuitError::Refused("invalid_grant".into());
        assert!(grant.needs_reconnect());
        assert!(grant
            .to_string()
            .contains("connect QuickBooks Online again"));
        let client = IntuitError::Refused("invalid_client".into());
        assert!(!client.needs_reconnect());
        assert!(client.to_string().contains("QBO_CLIENT_ID"));
    }
}
