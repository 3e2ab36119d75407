//! A ConnectWise Manage server: Basic auth and the `clientId` header, `conditions`,
//! `fields`, `page`/`pageSize` with the Link header, `/count`, `POST .../search`;
//! service tickets, time entries and agreements (`/finance/agreements`).
use crate::conditions::{eval, parse_conditions, project};
use crate::server::{bind, error, inject, Faults};
use base64::Engine;
use chrono::{DateTime, Utc};
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What the simulated ConnectWise holds.
#[derive(Default)]
pub struct CwData {
    /// Tickets as the API returns them (`id`, `board/name`, `status/name`,
    /// `parentTicketId`, `dateEntered`, `closedDate`).
    pub tickets: Vec<Value>,
    /// Time entries (`id`, `chargeToType`, `chargeToId`, `actualHours`, `dateEntered`,
    /// `company`, `agreement`).
    pub time_entries: Vec<Value>,
    /// Agreements (`/finance/agreements`: `id`, `name`, `type`, `company`, `billAmount`,
    /// `billingCycle`, `startDate`, `endDate`, `cancelledFlag`, `dateCancelled`).
    pub agreements: Vec<Value>,
}

/// The simulated ConnectWise server.
pub struct ConnectWiseSim {
    /// The API root to put in `CONNECTWISE_URL`.
    pub url: String,
    pub data: Arc<Mutex<CwData>>,
    pub faults: Arc<Faults>,
    /// Requests received (every try).
    pub requests: Arc<AtomicU64>,
    /// Requests received by method and path ("GET /service/tickets/count").
    pub by_path: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// Credentials the simulated ConnectWise accepts.
pub const CW_COMPANY: &str = "acme";
pub const CW_PUBLIC: &str = "pub";
pub const CW_PRIVATE: &str = "priv";
pub const CW_CLIENT_ID: &str = "00000000-client";

struct CwHandler {
    data: Arc<Mutex<CwData>>,
    faults: Arc<Faults>,
    requests: Arc<AtomicU64>,
    by_path: Arc<Mutex<BTreeMap<String, u64>>>,
}

fn authorized_cw(req: &Request) -> Result<(), &'static str> {
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{CW_COMPANY}+{CW_PUBLIC}:{CW_PRIVATE}"));
    let auth = req.header::<String>("authorization").unwrap_or_default();
    if auth != format!("Basic {expected}") {
        return Err("bad credentials");
    }
    if req.header::<String>("clientId").as_deref() != Some(CW_CLIENT_ID) {
        return Err("missing or unknown clientId");
    }
    Ok(())
}

#[async_trait]
impl Handler for CwHandler {
    async fn handle(
        &self,
        req: &mut Request,
        _d: &mut Depot,
        res: &mut Response,
        _c: &mut FlowCtrl,
    ) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self
            .by_path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{} {}", req.method(), req.uri().path()))
            .or_default() += 1;
        if inject(&self.faults, res).await {
            return;
        }
        if let Err(why) = authorized_cw(req) {
            return error(res, StatusCode::UNAUTHORIZED, why);
        }
        let path = req.uri().path().trim_end_matches('/').to_string();
        let post = req.method() == salvo::http::Method::POST;
        let body: Value = if post {
            req.parse_json().await.unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let param = |k: &str| -> Option<String> {
            req.query::<String>(k)
                .or_else(|| body.get(k).and_then(Value::as_str).map(String::from))
                .or_else(|| body.get(k).and_then(Value::as_u64).map(|n| n.to_string()))
        };
        let conditions = match param("conditions")
            .map(|c| parse_conditions(&c))
            .transpose()
        {
            Ok(c) => c,
            Err(e) => return error(res, StatusCode::BAD_REQUEST, &format!("conditions: {e}")),
        };
        let (mut rows, count_only) = {
            let data = self.data.lock().unwrap_or_else(PoisonError::into_inner);
            let (table, count_only) = match (path.as_str(), post) {
                ("/service/tickets", false) | ("/service/tickets/search", true) => {
                    (&data.tickets, false)
                }
                ("/service/tickets/count", false) => (&data.tickets, true),
                ("/time/entries", false) => (&data.time_entries, false),
                ("/time/entries/count", false) => (&data.time_entries, true),
                ("/finance/agreements", false) => (&data.agreements, false),
                ("/finance/agreements/count", false) => (&data.agreements, true),
                _ => return error(res, StatusCode::NOT_FOUND, "no such endpoint"),
            };
            let matching = table
                .iter()
                .filter(|r| conditions.as_ref().is_none_or(|c| eval(c, r)));
            if count_only {
                (Vec::new(), Some(matching.count()))
            } else {
                (matching.cloned().collect::<Vec<Value>>(), None)
            }
        };
        if let Some(count) = count_only {
            res.render(Json(json!({"count": count})));
            return;
        }
        rows.sort_by_key(|r| r["id"].as_i64());
        let page: usize = param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1);
        let size: usize = param("pageSize").and_then(|p| p.parse().ok()).unwrap_or(25);
        if size == 0 || size > 1000 {
            return error(res, StatusCode::BAD_REQUEST, "pageSize must be 1–1000");
        }
        let total = rows.len();
        let last = total.div_ceil(size).max(1);
        let fields = param("fields");
        let out: Vec<Value> = rows
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|r| fields.as_deref().map_or(r.clone(), |f| project(&r, f)))
            .collect();
        let mut links = Vec::new();
        if page < last {
            links.push(format!(
                "<{path}?page={}&pageSize={size}>; rel=\"next\"",
                page + 1
            ));
        }
        links.push(format!(
            "<{path}?page={last}&pageSize={size}>; rel=\"last\""
        ));
        res.add_header("Link", links.join(", "), true).ok();
        res.render(Json(out));
    }
}

impl ConnectWiseSim {
    pub async fn start(data: CwData) -> ConnectWiseSim {
        let data = Arc::new(Mutex::new(data));
        let faults = Arc::new(Faults::default());
        let requests = Arc::new(AtomicU64::new(0));
        let by_path = Arc::new(Mutex::new(BTreeMap::new()));
        let handler = CwHandler {
            data: data.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
            by_path: by_path.clone(),
        };
        let url = bind(Router::with_path("{**rest}").goal(handler)).await;
        ConnectWiseSim {
            url,
            data,
            faults,
            requests,
            by_path,
        }
    }

    /// The environment `qbr` needs to read this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONNECTWISE_URL", self.url.clone()),
            ("CONNECTWISE_COMPANY_ID", CW_COMPANY.into()),
            ("CONNECTWISE_PUBLIC_KEY", CW_PUBLIC.into()),
            ("CONNECTWISE_PRIVATE_KEY", CW_PRIVATE.into()),
            ("CONNECTWISE_CLIENT_ID", CW_CLIENT_ID.into()),
        ]
    }
}

/// A ticket as ConnectWise returns it.
pub fn ticket(
    id: i64,
    board: &str,
    status: &str,
    parent: Option<i64>,
    entered: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
) -> Value {
    json!({
        "id": id,
        "summary": format!("ticket {id}"),
        "board": {"id": board.len(), "name": board},
        "status": {"id": status.len(), "name": status},
        "parentTicketId": parent,
        "dateEntered": entered.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "closedDate": closed.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })
}

/// A time entry charged to a service ticket.
pub fn time_entry(id: i64, ticket: i64, hours: f64, entered: DateTime<Utc>) -> Value {
    json!({
        "id": id,
        "chargeToType": "ServiceTicket",
        "chargeToId": ticket,
        "actualHours": hours,
        "dateEntered": entered.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `row` (a ticket, time entry or agreement) of a company, nested as ConnectWise
/// nests references (`company/id`, `company/identifier`, `company/name`).
pub fn for_company(mut row: Value, id: i64, name: &str) -> Value {
    let identifier: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    row["company"] = json!({"id": id, "identifier": identifier, "name": name});
    row
}

/// A ticket with a type and a priority (`type/name`, `priority/name`).
pub fn classified(mut ticket: Value, kind: &str, priority: &str) -> Value {
    ticket["type"] = json!({"id": kind.len(), "name": kind});
    ticket["priority"] = json!({"id": priority.len(), "name": priority});
    ticket
}

/// A time entry covered by an agreement (`agreement/id`).
pub fn on_agreement(mut entry: Value, agreement: i64) -> Value {
    entry["agreement"] = json!({"id": agreement, "name": format!("agreement {agreement}")});
    entry
}

/// What an agreement bills: its amount every `cycle` ("Monthly", "Quarterly",
/// "Annual"...), from `start`, until `end` (none: no ending date).
pub struct Billing<'a> {
    pub amount: f64,
    pub cycle: &'a str,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// An agreement as `/finance/agreements` returns it, not cancelled (see [`cancelled`]).
pub fn agreement(id: i64, name: &str, kind: &str, billing: &Billing<'_>) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": {"id": kind.len(), "name": kind},
        "billAmount": billing.amount,
        "billingCycle": {"id": billing.cycle.len(), "name": billing.cycle},
        "billOneTimeFlag": false,
        "startDate": date(billing.start),
        "endDate": billing.end.map(date),
        "noEndingDateFlag": billing.end.is_none(),
        "cancelledFlag": false,
        "dateCancelled": null,
    })
}

/// The agreement, cancelled at `at`.
pub fn cancelled(mut agreement: Value, at: DateTime<Utc>) -> Value {
    agreement["cancelledFlag"] = json!(true);
    agreement["dateCancelled"] = json!(date(at));
    agreement
}
