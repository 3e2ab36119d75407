//! The NinjaOne REST client: OAuth2 client credentials (token cached until it expires),
//! organizations, locations and devices (`after` paging, 1,000 per page).
use super::NinjaConfig;
use crate::collect::http::{Http, VendorError};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Devices per page (the API's maximum).
pub const PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct Organization {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    pub id: i64,
    pub name: String,
}

/// A device, only the fields we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: i64,
    pub organization_id: Option<i64>,
    pub location_id: Option<i64>,
    pub node_class: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    expires_in: Option<u64>,
}

/// Everything the device metrics need.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub organizations: Vec<Organization>,
    pub locations: Vec<Location>,
    pub devices: Vec<Device>,
}

pub struct NinjaOne {
    http: Http,
    cfg: NinjaConfig,
    token: Option<(String, Instant)>,
}

fn bad_answer(what: &str, e: reqwest::Error) -> VendorError {
    VendorError {
        what: what.to_string(),
        message: format!("unexpected answer: {e}"),
        retryable: false,
        retry_after: None,
    }
}

impl NinjaOne {
    pub fn new(http: Http, cfg: NinjaConfig) -> NinjaOne {
        NinjaOne {
            http,
            cfg,
            token: None,
        }
    }

    pub fn config(&self) -> &NinjaConfig {
        &self.cfg
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.url.trim_end_matches('/'), path)
    }

    async fn token(&mut self) -> Result<String, VendorError> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let what = "NinjaOne token";
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.cfg.client_id.as_str()),
            ("client_secret", self.cfg.client_secret.as_str()),
            ("scope", "monitoring"),
        ];
        let url = self.url("/ws/oauth/token");
        let res = self.http.send(what, |c| c.post(&url).form(&form)).await?;
        let token: Token = res.json().await.map_err(|e| bad_answer(what, e))?;
        // Renew a minute early so a token never expires in flight.
        let life = Duration::from_secs(token.expires_in.unwrap_or(3600).saturating_sub(60));
        self.token = Some((token.access_token.clone(), Instant::now() + life));
        Ok(token.access_token)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &mut self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, VendorError> {
        let token = self.token().await?;
        let url = self.url(path);
        let res = self
            .http
            .send(what, |c| c.get(&url).bearer_auth(&token).query(query))
            .await?;
        res.json().await.map_err(|e| bad_answer(what, e))
    }

    /// Organizations, locations and every device.
    pub async fn inventory(&mut self) -> Result<Inventory, VendorError> {
        let organizations = self
            .get("NinjaOne organizations", "/v2/organizations", &[])
            .await?;
        let locations = self.get("NinjaOne locations", "/v2/locations", &[]).await?;
        let mut devices: Vec<Device> = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let mut query = vec![("pageSize", PAGE_SIZE.to_string())];
            if let Some(a) = after {
                query.push(("after", a.to_string()));
            }
            let page: Vec<Device> = self
                .get("NinjaOne devices", "/v2/devices-detailed", &query)
                .await?;
            let n = page.len();
            after = page.iter().map(|d| d.id).max().or(after);
            devices.extend(page);
            if n < PAGE_SIZE {
                break;
            }
        }
        Ok(Inventory {
            organizations,
            locations,
            devices,
        })
    }
}
