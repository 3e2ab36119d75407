//! The ConnectWise Manage REST client: ticket counts, the window's tickets, time
//! entries and agreements, ticket boards.
//!
//! Frugal by design: counts via `/service/tickets/count`, only the `fields` needed,
//! pages of 1,000 rows, each listing over the whole window at once, board lookups
//! 1,000 ids per `POST /service/tickets/search`, and a per-run cache of ticket → board
//! (filled first from the tickets listed).
use super::CwConfig;
use crate::collect::http::{Http, VendorError};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Rows per page (the API's maximum).
pub const PAGE_SIZE: usize = 1000;
/// Ids per `id in (...)` search (a page of answers).
pub const ID_BATCH: usize = 1000;

/// A time entry, only the fields we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeEntry {
    pub id: i64,
    pub charge_to_id: Option<i64>,
    pub actual_hours: Option<f64>,
    pub date_entered: DateTime<Utc>,
    #[serde(default)]
    pub company: Option<CompanyRef>,
    /// The agreement the time is charged to, if any.
    #[serde(default)]
    pub agreement: Option<IdRef>,
}

/// A reference to a company (`company/id`, `company/name`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompanyRef {
    pub id: i64,
    #[serde(default)]
    pub name: String,
}

/// A reference by id (`agreement/id`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IdRef {
    pub id: i64,
}

/// A reference by name (`board/name`, `status/name`, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NameRef {
    pub name: String,
}

/// A service ticket, only the fields we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: i64,
    #[serde(default)]
    pub company: Option<CompanyRef>,
    #[serde(default)]
    pub board: Option<NameRef>,
    #[serde(default, rename = "type")]
    pub kind: Option<NameRef>,
    #[serde(default)]
    pub priority: Option<NameRef>,
    #[serde(default)]
    pub status: Option<NameRef>,
    pub date_entered: DateTime<Utc>,
    #[serde(default)]
    pub closed_date: Option<DateTime<Utc>>,
    /// The first response (ConnectWise sets it when the ticket first leaves its new
    /// status or a technician first replies).
    #[serde(default)]
    pub date_responded: Option<DateTime<Utc>>,
}

/// An agreement (`/finance/agreements`), only the fields we read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<NameRef>,
    #[serde(default)]
    pub company: Option<CompanyRef>,
    #[serde(default)]
    pub bill_amount: Option<f64>,
    #[serde(default)]
    pub billing_cycle: Option<NameRef>,
    #[serde(default)]
    pub bill_one_time_flag: Option<bool>,
    #[serde(default)]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub end_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancelled_flag: Option<bool>,
    #[serde(default)]
    pub date_cancelled: Option<DateTime<Utc>>,
}

/// The fields of a ticket listing (what [`Ticket`] reads).
const TICKET_FIELDS: &str = "id,company/id,company/name,board/name,type/name,priority/name,\
status/name,dateEntered,closedDate,dateResponded";
/// The fields of a time entry listing (what [`TimeEntry`] reads).
const ENTRY_FIELDS: &str =
    "id,chargeToId,actualHours,dateEntered,company/id,company/name,agreement/id";
/// The fields of an agreement listing (what [`Agreement`] reads).
const AGREEMENT_FIELDS: &str = "id,name,type/name,company/id,company/name,billAmount,\
billingCycle/name,billOneTimeFlag,startDate,endDate,cancelledFlag,dateCancelled";

#[derive(Deserialize)]
struct BoardRef {
    name: String,
}

#[derive(Deserialize)]
struct TicketBoard {
    id: i64,
    board: Option<BoardRef>,
}

#[derive(Deserialize)]
struct Count {
    count: u64,
}

/// Writes a datetime as the API wants it in conditions: `[2025-03-01T06:00:00Z]`.
pub fn datetime(t: DateTime<Utc>) -> String {
    format!("[{}]", t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// `("a", "b")`, with quotes inside names escaped.
pub fn string_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("({})", quoted.join(", "))
}

/// The client, with the run's board cache.
pub struct ConnectWise {
    http: Http,
    cfg: CwConfig,
    auth: String,
    boards: HashMap<i64, Option<String>>,
}

impl ConnectWise {
    pub fn new(http: Http, cfg: CwConfig) -> ConnectWise {
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}+{}:{}",
            cfg.company, cfg.public_key, cfg.private_key
        ));
        ConnectWise {
            http,
            cfg,
            auth: format!("Basic {token}"),
            boards: HashMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.url.trim_end_matches('/'), path)
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        client
            .request(method, self.url(path))
            .header("Authorization", &self.auth)
            .header("clientId", &self.cfg.client_id)
            .header("Accept", "application/json")
    }

    async fn json<T: serde::de::DeserializeOwned>(
        what: &str,
        res: reqwest::Response,
    ) -> Result<T, VendorError> {
        res.json().await.map_err(|e| VendorError {
            what: what.to_string(),
            message: format!("unexpected answer: {e}"),
            retryable: false,
            retry_after: None,
        })
    }

    fn reactive_clause(&self) -> String {
        format!(
            "board/name in {} AND parentTicketId = null",
            string_list(&self.cfg.reactive_boards)
        )
    }

    async fn count(&self, conditions: String) -> Result<u64, VendorError> {
        let what = "ConnectWise ticket count";
        let res = self
            .http
            .send(what, |c| {
                self.request(c, reqwest::Method::GET, "/service/tickets/count")
                    .query(&[("conditions", conditions.as_str())])
            })
            .await?;
        Ok(Self::json::<Count>(what, res).await?.count)
    }

    /// Reactive tickets entered in `[start, end)`.
    pub async fn reactive_created(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<u64, VendorError> {
        self.count(format!(
            "{} AND dateEntered >= {} AND dateEntered < {}",
            self.reactive_clause(),
            datetime(start),
            datetime(end)
        ))
        .await
    }

    /// Reactive tickets in a closed status whose `closedDate` is in `[start, end)`.
    pub async fn reactive_closed(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<u64, VendorError> {
        self.count(format!(
            "{} AND status/name in {} AND closedDate >= {} AND closedDate < {}",
            self.reactive_clause(),
            string_list(&self.cfg.closed_statuses),
            datetime(start),
            datetime(end)
        ))
        .await
    }

    /// Every row of `path` matching `conditions`, 1,000 per page, in id order.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        conditions: &str,
        fields: &str,
    ) -> Result<Vec<T>, VendorError> {
        let mut out = Vec::new();
        for page in 1.. {
            let page_s = page.to_string();
            let size = PAGE_SIZE.to_string();
            let res = self
                .http
                .send(what, |c| {
                    self.request(c, reqwest::Method::GET, path).query(&[
                        ("conditions", conditions),
                        ("fields", fields),
                        ("orderBy", "id asc"),
                        ("page", page_s.as_str()),
                        ("pageSize", size.as_str()),
                    ])
                })
                .await?;
            let rows: Vec<T> = Self::json(what, res).await?;
            let n = rows.len();
            out.extend(rows);
            if n < PAGE_SIZE {
                break;
            }
        }
        Ok(out)
    }

    /// Every service-ticket time entry entered in `[start, end)`, 1,000 per page.
    pub async fn time_entries(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<TimeEntry>, VendorError> {
        let conditions = format!(
            "chargeToType = \"ServiceTicket\" AND dateEntered >= {} AND dateEntered < {}",
            datetime(start),
            datetime(end)
        );
        self.list(
            "ConnectWise time entries",
            "/time/entries",
            &conditions,
            ENTRY_FIELDS,
        )
        .await
    }

    /// Every ticket that is not a child ticket and was entered or closed in
    /// `[start, end)`, on any board: the per-client counts and breakdowns come from it,
    /// and its boards fill the board cache.
    pub async fn tickets(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Ticket>, VendorError> {
        let (s, e) = (datetime(start), datetime(end));
        let conditions = format!(
            "parentTicketId = null AND ((dateEntered >= {s} AND dateEntered < {e}) \
             OR (closedDate >= {s} AND closedDate < {e}))"
        );
        let tickets: Vec<Ticket> = self
            .list(
                "ConnectWise tickets",
                "/service/tickets",
                &conditions,
                TICKET_FIELDS,
            )
            .await?;
        Ok(tickets)
    }

    /// Agreements that may be active on a day of `[from, to)`: started before `to`,
    /// not ended and not cancelled before `from` (agreement dates are days, stored at
    /// midnight UTC). Which months each is active in is decided by `clients.rs`.
    pub async fn agreements(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Agreement>, VendorError> {
        let (f, t) = (datetime(from), datetime(to));
        let conditions = format!(
            "startDate < {t} AND (endDate = null OR endDate >= {f}) \
             AND (cancelledFlag = false OR dateCancelled >= {f})"
        );
        self.list(
            "ConnectWise agreements",
            "/finance/agreements",
            &conditions,
            AGREEMENT_FIELDS,
        )
        .await
    }

    /// Remembers the boards of listed tickets, so they need no search.
    pub fn remember_boards(&mut self, tickets: &[Ticket]) {
        for t in tickets {
            self.boards
                .insert(t.id, t.board.as_ref().map(|b| b.name.clone()));
        }
    }

    /// The reactive boards and closed statuses (the collector's settings).
    pub fn config(&self) -> &CwConfig {
        &self.cfg
    }

    /// The board of each ticket (None: no such ticket or no board), looked up once per
    /// run, `ID_BATCH` ids per search.
    pub async fn boards(&mut self, ids: &HashSet<i64>) -> Result<(), VendorError> {
        let what = "ConnectWise ticket search";
        let mut unknown: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !self.boards.contains_key(id))
            .collect();
        unknown.sort_unstable();
        for batch in unknown.chunks(ID_BATCH) {
            let list: Vec<String> = batch.iter().map(i64::to_string).collect();
            let body = json!({ "conditions": format!("id in ({})", list.join(",")) });
            let size = PAGE_SIZE.to_string();
            let res = self
                .http
                .send(what, |c| {
                    self.request(c, reqwest::Method::POST, "/service/tickets/search")
                        .query(&[
                            ("fields", "id,board/name"),
                            ("page", "1"),
                            ("pageSize", size.as_str()),
                        ])
                        .json(&body)
                })
                .await?;
            let rows: Vec<TicketBoard> = Self::json(what, res).await?;
            for id in batch {
                self.boards.insert(*id, None);
            }
            for row in rows {
                self.boards.insert(row.id, row.board.map(|b| b.name));
            }
        }
        Ok(())
    }

    /// Whether the ticket (already looked up) is on a reactive board.
    pub fn is_reactive(&self, ticket: i64) -> bool {
        self.boards
            .get(&ticket)
            .and_then(|b| b.as_deref())
            .is_some_and(|b| self.cfg.reactive_boards.iter().any(|r| r == b))
    }
}
