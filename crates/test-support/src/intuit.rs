//! A fake Intuit (real HTTP on 127.0.0.1) for QuickBooks Online, following Intuit's
//! documented behaviour for what the server uses:
//!
//! - OAuth 2.0: the consent page (`GET /connect/oauth2`) sends the browser back to the
//!   `redirect_uri` with `code`, `state` and `realmId`; the token endpoint
//!   (`POST /oauth2/v1/tokens/bearer`, client credentials in HTTP Basic) exchanges a code
//!   once (for the same `redirect_uri`) and renews with `grant_type=refresh_token`,
//!   rotating the refresh token and refusing the old one from then on (`invalid_grant`);
//!   access tokens last an hour, refresh tokens 101 days (`x_refresh_token_expires_in`).
//! - The Accounting API (Bearer access token): `GET /v3/company/{realmId}/reports/ProfitAndLoss`
//!   by month (`summarize_column_by=Month`) in Intuit's JSON (columns with
//!   `StartDate`/`EndDate`, nested `Section`/`Data` rows with `group`, parents' own
//!   postings on their header, a `Total` column), computed from a small ledger; and
//!   `GET /v3/company/{realmId}/query` for `select count(*) from Employee where Active = true`.
//! - Faults: the next API calls answer 401 (the access token expired early), 429 with
//!   `Retry-After`, every API call fails, the user declines at the consent page.
//!
//! `env()` gives the variables `qbr` needs to use it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use salvo::conn::Acceptor;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The app's credentials the fake accepts.
pub const CLIENT_ID: &str = "qbo-test-client";
pub const CLIENT_SECRET: &str = "qbo-test-secret";
/// The company the consent page connects.
pub const REALM_ID: &str = "9130347596532016";
/// Intuit's token lifetimes.
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 8_726_400;

/// The parts of a profit and loss report, as Intuit's `group` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Income,
    Cogs,
    Expenses,
    OtherIncome,
    OtherExpenses,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Income,
        Group::Cogs,
        Group::Expenses,
        Group::OtherIncome,
        Group::OtherExpenses,
    ];

    fn word(self) -> &'static str {
        match self {
            Group::Income => "Income",
            Group::Cogs => "COGS",
            Group::Expenses => "Expenses",
            Group::OtherIncome => "OtherIncome",
            Group::OtherExpenses => "OtherExpenses",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Group::Income => "Income",
            Group::Cogs => "Cost of Goods Sold",
            Group::Expenses => "Expenses",
            Group::OtherIncome => "Other Income",
            Group::OtherExpenses => "Other Expenses",
        }
    }
}

/// One amount booked to an account (`Parent:Child` for a sub-account).
#[derive(Clone, Debug, PartialEq)]
pub struct Posting {
    pub date: NaiveDate,
    pub group: Group,
    pub account: String,
    pub amount: f64,
}

/// A sale (an invoice or a sales receipt, net of credit memos) to a customer
/// (`Customer:Job` for a sub-customer).
#[derive(Clone, Debug, PartialEq)]
pub struct Sale {
    pub date: NaiveDate,
    pub customer: String,
    pub amount: f64,
}

/// The company's books.
#[derive(Clone, Debug, Default)]
pub struct Books {
    pub postings: Vec<Posting>,
    /// What the `CustomerSales` report adds up.
    pub sales: Vec<Sale>,
    pub active_employees: u32,
    pub inactive_employees: u32,
}

/// Faults injected into the Accounting API (not the OAuth endpoints).
#[derive(Default)]
pub struct IntuitFaults {
    /// The next n API calls answer 401, and the access token they carried expires.
    pub expire_next: AtomicU32,
    /// The next n API calls answer 429 with `Retry-After: 1`.
    pub rate_limit_next: AtomicU32,
    /// Every API call answers 503.
    pub fail_api: AtomicBool,
    /// The consent page declines (`error=access_denied`).
    pub deny_consent: AtomicBool,
}

/// What the fake counts.
#[derive(Default)]
pub struct IntuitCounters {
    /// API requests received (every try).
    pub api_calls: AtomicU64,
    pub code_exchanges: AtomicU64,
    pub refreshes: AtomicU64,
    pub unauthorized: AtomicU64,
    pub rate_limited: AtomicU64,
}

#[derive(Default)]
struct Grants {
    /// Unused codes and the `redirect_uri` each was issued for.
    codes: HashMap<String, String>,
    access: HashMap<String, DateTime<Utc>>,
    /// The refresh token that works now (Intuit honours only the newest).
    refresh: Option<String>,
    retired: Vec<String>,
    /// Every token issued, for tests that look for them where they must not be.
    issued: Vec<String>,
}

/// The fake server.
pub struct FakeIntuit {
    /// Put in `QBO_AUTHORIZE_URL`, `QBO_TOKEN_URL`, `QBO_API_URL` by `env()`.
    pub url: String,
    pub books: Arc<Mutex<Books>>,
    pub faults: Arc<IntuitFaults>,
    pub counters: Arc<IntuitCounters>,
    grants: Arc<Mutex<Grants>>,
    /// The query string of the last ProfitAndLoss request.
    pub last_report_query: Arc<Mutex<BTreeMap<String, String>>>,
}

impl FakeIntuit {
    pub async fn start(books: Books) -> FakeIntuit {
        let books = Arc::new(Mutex::new(books));
        let faults = Arc::new(IntuitFaults::default());
        let counters = Arc::new(IntuitCounters::default());
        let grants = Arc::new(Mutex::new(Grants::default()));
        let last_report_query = Arc::new(Mutex::new(BTreeMap::new()));
        let handler = IntuitHandler {
            books: books.clone(),
            faults: faults.clone(),
            counters: counters.clone(),
            grants: grants.clone(),
            last_report_query: last_report_query.clone(),
        };
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let addr = acceptor.holdings()[0].local_addr.clone();
        let port = addr.into_std().expect("tcp address").port();
        let router = Router::with_path("{**rest}").goal(handler);
        tokio::spawn(async move { Server::new(acceptor).serve(router).await });
        FakeIntuit {
            url: format!("http://127.0.0.1:{port}"),
            books,
            faults,
            counters,
            grants,
            last_report_query,
        }
    }

    /// The environment `qbr` needs to use this server (besides `QBR_SECRET_KEY` and
    /// the redirect URI's base).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("QBO_CLIENT_ID", CLIENT_ID.into()),
            ("QBO_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("QBO_AUTHORIZE_URL", format!("{}/connect/oauth2", self.url)),
            (
                "QBO_TOKEN_URL",
                format!("{}/oauth2/v1/tokens/bearer", self.url),
            ),
            ("QBO_API_URL", self.url.clone()),
        ]
    }

    /// Every access and refresh token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.grants.lock().unwrap().issued.clone()
    }

    /// The refresh token that works now.
    pub fn current_refresh_token(&self) -> Option<String> {
        self.grants.lock().unwrap().refresh.clone()
    }

    /// Refresh tokens that were rotated away (refused from then on).
    pub fn retired_refresh_tokens(&self) -> Vec<String> {
        self.grants.lock().unwrap().retired.clone()
    }
}

struct IntuitHandler {
    books: Arc<Mutex<Books>>,
    faults: Arc<IntuitFaults>,
    counters: Arc<IntuitCounters>,
    grants: Arc<Mutex<Grants>>,
    last_report_query: Arc<Mutex<BTreeMap<String, String>>>,
}

fn take_one(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

fn token_error(res: &mut Response, status: StatusCode, error: &str) {
    res.status_code(status);
    res.render(Json(json!({ "error": error })));
}

/// Intuit's fault body for the Accounting API.
fn fault(res: &mut Response, status: StatusCode, message: &str, code: &str, kind: &str) {
    res.status_code(status);
    res.render(Json(json!({
        "Fault": {
            "Error": [{
                "Message": format!("message={message}; errorCode=00{code}; statusCode={}", status.as_u16()),
                "Detail": message,
                "code": code
            }],
            "type": kind
        },
        "time": Utc::now().to_rfc3339()
    })));
}

#[async_trait]
impl Handler for IntuitHandler {
    async fn handle(
        &self,
        req: &mut Request,
        _d: &mut Depot,
        res: &mut Response,
        _c: &mut FlowCtrl,
    ) {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let post = req.method() == salvo::http::Method::POST;
        match (path.as_str(), post) {
            ("/connect/oauth2", false) => self.authorize(req, res),
            ("/oauth2/v1/tokens/bearer", true) => self.token(req, res).await,
            (p, false) if p.starts_with("/v3/company/") => self.api(req, res, p),
            _ => {
                res.status_code(StatusCode::NOT_FOUND);
                res.render(Text::Plain("no such endpoint"));
            }
        }
    }
}

impl IntuitHandler {
    /// The consent page, as if the user had signed in and clicked Connect.
    fn authorize(&self, req: &Request, res: &mut Response) {
        let q = |k: &str| req.query::<String>(k).unwrap_or_default();
        let scopes = q("scope");
        if q("client_id") != CLIENT_ID
            || q("response_type") != "code"
            || !scopes
                .split(' ')
                .any(|s| s == "com.intuit.quickbooks.accounting")
        {
            res.status_code(StatusCode::BAD_REQUEST);
            return res.render(Text::Html("<h1>Invalid authorization request</h1>"));
        }
        let Ok(mut back) = reqwest::Url::parse(&q("redirect_uri")) else {
            res.status_code(StatusCode::BAD_REQUEST);
            return res.render(Text::Html("<h1>Invalid redirect_uri</h1>"));
        };
        if self.faults.deny_consent.swap(false, Ordering::SeqCst) {
            back.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("state", &q("state"));
        } else {
            let code = format!("AB11-code-{}", uuid::Uuid::new_v4());
            self.grants
                .lock()
                .unwrap()
                .codes
                .insert(code.clone(), q("redirect_uri"));
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &q("state"))
                .append_pair("realmId", REALM_ID);
        }
        res.render(Redirect::found(back.as_str()));
    }

    async fn token(&self, req: &mut Request, res: &mut Response) {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let auth = req.header::<String>("authorization").unwrap_or_default();
        if auth != format!("Basic {expected}") {
            return token_error(res, StatusCode::UNAUTHORIZED, "invalid_client");
        }
        let mut form = BTreeMap::new();
        for k in ["grant_type", "code", "redirect_uri", "refresh_token"] {
            form.insert(k, req.form::<String>(k).await.unwrap_or_default());
        }
        let mut grants = self.grants.lock().unwrap();
        match form["grant_type"].as_str() {
            "authorization_code" => {
                let (code, redirect) = (&form["code"], &form["redirect_uri"]);
                match grants.codes.remove(code) {
                    Some(issued_for) if issued_for == *redirect => {}
                    _ => return token_error(res, StatusCode::BAD_REQUEST, "invalid_grant"),
                }
                self.counters.code_exchanges.fetch_add(1, Ordering::SeqCst);
            }
            "refresh_token" => {
                let presented = form["refresh_token"].clone();
                if grants.refresh.as_deref() != Some(presented.as_str()) {
                    return token_error(res, StatusCode::BAD_REQUEST, "invalid_grant");
                }
                grants.retired.push(presented);
                self.counters.refreshes.fetch_add(1, Ordering::SeqCst);
            }
            _ => return token_error(res, StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        }
        let access = format!("eyJ-access-{}", uuid::Uuid::new_v4());
        let refresh = format!("AB11-refresh-{}", uuid::Uuid::new_v4());
        grants.access.insert(
            access.clone(),
            Utc::now() + TimeDelta::seconds(ACCESS_TTL_SECS),
        );
        grants.refresh = Some(refresh.clone());
        grants.issued.push(access.clone());
        grants.issued.push(refresh.clone());
        res.render(Json(json!({
            "token_type": "bearer",
            "access_token": access,
            "expires_in": ACCESS_TTL_SECS,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": REFRESH_TTL_SECS,
        })));
    }

    fn api(&self, req: &Request, res: &mut Response, path: &str) {
        self.counters.api_calls.fetch_add(1, Ordering::SeqCst);
        let bearer = req
            .header::<String>("authorization")
            .unwrap_or_default()
            .strip_prefix("Bearer ")
            .unwrap_or_default()
            .to_string();
        {
            let mut grants = self.grants.lock().unwrap();
            if take_one(&self.faults.expire_next) {
                grants.access.remove(&bearer);
            }
            let valid = grants.access.get(&bearer).is_some_and(|t| *t > Utc::now());
            if !valid {
                self.counters.unauthorized.fetch_add(1, Ordering::SeqCst);
                res.status_code(StatusCode::UNAUTHORIZED);
                return res.render(Json(json!({
                    "fault": {"error": [{
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": "Token expired",
                        "code": "3200"
                    }], "type": "AUTHENTICATION"},
                    "time": Utc::now().to_rfc3339()
                })));
            }
        }
        if take_one(&self.faults.rate_limit_next) {
            self.counters.rate_limited.fetch_add(1, Ordering::SeqCst);
            res.add_header("Retry-After", "1", true).ok();
            return fault(
                res,
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottleExceeded",
                "3001",
                "SERVICE",
            );
        }
        if self.faults.fail_api.load(Ordering::SeqCst) {
            return fault(
                res,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "3003",
                "SERVICE",
            );
        }
        let company = format!("/v3/company/{REALM_ID}/");
        let Some(rest) = path.strip_prefix(&company) else {
            return fault(
                res,
                StatusCode::FORBIDDEN,
                "ApplicationAuthorizationFailed",
                "3100",
                "AUTHORIZATION",
            );
        };
        match rest {
            "reports/ProfitAndLoss" | "reports/CustomerSales" => self.report(req, res, rest),
            "query" => self.query(req, res),
            _ => fault(
                res,
                StatusCode::NOT_FOUND,
                "UnsupportedOperation",
                "4001",
                "ValidationFault",
            ),
        }
    }

    fn report(&self, req: &Request, res: &mut Response, which: &str) {
        let params: BTreeMap<String, String> = req
            .queries()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *self.last_report_query.lock().unwrap() = params.clone();
        let date = |k: &str| params.get(k).and_then(|v| v.parse::<NaiveDate>().ok());
        let (Some(start), Some(end)) = (date("start_date"), date("end_date")) else {
            return fault(
                res,
                StatusCode::BAD_REQUEST,
                "InvalidDate",
                "2040",
                "ValidationFault",
            );
        };
        if params.get("summarize_column_by").map(String::as_str) != Some("Month") || start > end {
            return fault(
                res,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "2010",
                "ValidationFault",
            );
        }
        let basis = params
            .get("accounting_method")
            .cloned()
            .unwrap_or_else(|| "Accrual".into());
        let books = self.books.lock().unwrap();
        if which == "reports/CustomerSales" {
            return res.render(Json(customer_sales(&books, start, end, &basis)));
        }
        res.render(Json(profit_and_loss(&books, start, end, &basis)));
    }

    fn query(&self, req: &Request, res: &mut Response) {
        let query = req.query::<String>("query").unwrap_or_default();
        let normal: String = query
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        if normal != "select count(*) from employee where active = true" {
            return fault(
                res,
                StatusCode::BAD_REQUEST,
                "QueryParserError",
                "4000",
                "ValidationFault",
            );
        }
        let n = self.books.lock().unwrap().active_employees;
        res.render(Json(json!({
            "QueryResponse": {"totalCount": n},
            "time": Utc::now().to_rfc3339()
        })));
    }
}

/// The month columns of `start..=end`: each column's first and last day.
fn month_columns(start: NaiveDate, end: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut first = start.with_day(1).unwrap();
    while first <= end {
        let next = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1).unwrap()
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1).unwrap()
        };
        let last = next.pred_opt().unwrap();
        out.push((first.max(start), last.min(end)));
        first = next;
    }
    out
}

/// An account and its sub-accounts, with the amounts posted to it per column.
#[derive(Default)]
struct Node {
    id: usize,
    own: Vec<f64>,
    posted: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn total(&self) -> Vec<f64> {
        let mut sum = self.own.clone();
        for child in self.children.values() {
            for (s, c) in sum.iter_mut().zip(child.total()) {
                *s += c;
            }
        }
        sum
    }
}

fn money(v: f64) -> String {
    if v.abs() < 0.005 {
        String::new()
    } else {
        format!("{v:.2}")
    }
}

/// The cells of a row: its label (with the account id), one per month, the total.
fn cells(label: &str, id: Option<usize>, amounts: &[f64]) -> Value {
    let mut out = vec![match id {
        Some(id) => json!({"value": label, "id": id.to_string()}),
        None => json!({"value": label}),
    }];
    out.extend(amounts.iter().map(|v| json!({"value": money(*v)})));
    out.push(json!({"value": money(amounts.iter().sum())}));
    Value::Array(out)
}

fn account_row(name: &str, node: &Node) -> Value {
    if node.children.is_empty() {
        return json!({"ColData": cells(name, Some(node.id), &node.own), "type": "Data"});
    }
    let own = if node.posted {
        node.own.clone()
    } else {
        vec![0.0; node.own.len()]
    };
    let rows: Vec<Value> = node
        .children
        .iter()
        .map(|(n, c)| account_row(n, c))
        .collect();
    json!({
        "Header": {"ColData": cells(name, Some(node.id), &own)},
        "Rows": {"Row": rows},
        "Summary": {"ColData": cells(&format!("Total {name}"), None, &node.total())},
        "type": "Section"
    })
}

fn summary_row(label: &str, group: &str, amounts: &[f64]) -> Value {
    json!({"Summary": {"ColData": cells(label, None, amounts)}, "type": "Section", "group": group})
}

fn minus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// The ProfitAndLoss report of `books` by month, `start..=end`, as Intuit writes it.
pub fn profit_and_loss(books: &Books, start: NaiveDate, end: NaiveDate, basis: &str) -> Value {
    let columns = month_columns(start, end);
    let n = columns.len();
    let mut groups: BTreeMap<Group, Node> = BTreeMap::new();
    let mut next_id = 40;
    for p in books
        .postings
        .iter()
        .filter(|p| p.date >= start && p.date <= end)
    {
        let Some(col) = columns
            .iter()
            .position(|(f, l)| p.date >= *f && p.date <= *l)
        else {
            continue;
        };
        let mut node = groups.entry(p.group).or_insert_with(|| Node {
            own: vec![0.0; n],
            ..Node::default()
        });
        for part in p.account.split(':') {
            node = node.children.entry(part.to_string()).or_insert_with(|| {
                next_id += 1;
                Node {
                    id: next_id,
                    own: vec![0.0; n],
                    ..Node::default()
                }
            });
        }
        node.own[col] += p.amount;
        node.posted = true;
    }
    let zero = vec![0.0; n];
    let total = |g: Group| groups.get(&g).map_or(zero.clone(), |node| node.total());
    let part = |g: Group| -> Option<Value> {
        let node = groups.get(&g)?;
        let rows: Vec<Value> = node
            .children
            .iter()
            .map(|(n, c)| account_row(n, c))
            .collect();
        Some(json!({
            "Header": {"ColData": cells(g.heading(), None, &vec![0.0; n])},
            "Rows": {"Row": rows},
            "Summary": {"ColData": cells(&format!("Total {}", g.heading()), None, &node.total())},
            "type": "Section",
            "group": g.word()
        }))
    };
    let gross = minus(&total(Group::Income), &total(Group::Cogs));
    let operating = minus(&gross, &total(Group::Expenses));
    let other = minus(&total(Group::OtherIncome), &total(Group::OtherExpenses));
    let net: Vec<f64> = operating.iter().zip(&other).map(|(a, b)| a + b).collect();
    let mut rows: Vec<Value> = Vec::new();
    rows.extend(part(Group::Income));
    rows.extend(part(Group::Cogs));
    rows.push(summary_row("Gross Profit", "GrossProfit", &gross));
    rows.extend(part(Group::Expenses));
    rows.push(summary_row(
        "Net Operating Income",
        "NetOperatingIncome",
        &operating,
    ));
    rows.extend(part(Group::OtherIncome));
    rows.extend(part(Group::OtherExpenses));
    rows.push(summary_row("Net Other Income", "NetOtherIncome", &other));
    rows.push(summary_row("Net Income", "NetIncome", &net));
    let cols = report_columns("Account", &columns);
    let empty = groups.is_empty();
    json!({
        "Header": {
            "Time": Utc::now().to_rfc3339(),
            "ReportName": "ProfitAndLoss",
            "ReportBasis": basis,
            "StartPeriod": start.to_string(),
            "EndPeriod": end.to_string(),
            "SummarizeColumnsBy": "Month",
            "Currency": "USD",
            "Option": [
                {"Name": "AccountingStandard", "Value": "GAAP"},
                {"Name": "NoReportData", "Value": empty.to_string()}
            ]
        },
        "Columns": {"Column": cols},
        "Rows": {"Row": rows}
    })
}

/// A report's `Columns`: the label column of `kind`, a `Money` column per month with
/// its dates, and `Total`.
fn report_columns(kind: &str, columns: &[(NaiveDate, NaiveDate)]) -> Vec<Value> {
    let mut cols = vec![json!({"ColTitle": "", "ColType": kind,
        "MetaData": [{"Name": "ColKey", "Value": kind.to_lowercase()}]})];
    for (first, last) in columns {
        let title = first.format("%b %Y").to_string();
        cols.push(json!({"ColTitle": title, "ColType": "Money", "MetaData": [
            {"Name": "StartDate", "Value": first.to_string()},
            {"Name": "EndDate", "Value": last.to_string()},
            {"Name": "ColKey", "Value": title}
        ]}));
    }
    cols.push(json!({"ColTitle": "Total", "ColType": "Money",
        "MetaData": [{"Name": "ColKey", "Value": "total"}]}));
    cols
}

/// The CustomerSales report of `books` by month, `start..=end`, as Intuit writes it: a
/// `Data` row per customer, a `Section` for a customer with sub-customers, the
/// `GrandTotal` last.
pub fn customer_sales(books: &Books, start: NaiveDate, end: NaiveDate, basis: &str) -> Value {
    let columns = month_columns(start, end);
    let n = columns.len();
    let mut root = Node {
        own: vec![0.0; n],
        ..Node::default()
    };
    let mut next_id = 0;
    for sale in books
        .sales
        .iter()
        .filter(|s| s.date >= start && s.date <= end)
    {
        let Some(col) = columns
            .iter()
            .position(|(f, l)| sale.date >= *f && sale.date <= *l)
        else {
            continue;
        };
        let mut node = &mut root;
        for part in sale.customer.split(':') {
            node = node.children.entry(part.to_string()).or_insert_with(|| {
                next_id += 1;
                Node {
                    id: next_id,
                    own: vec![0.0; n],
                    ..Node::default()
                }
            });
        }
        node.own[col] += sale.amount;
        node.posted = true;
    }
    let mut rows: Vec<Value> = root
        .children
        .iter()
        .map(|(name, node)| account_row(name, node))
        .collect();
    rows.push(summary_row("TOTAL", "GrandTotal", &root.total()));
    let cols = report_columns("Customer", &columns);
    json!({
        "Header": {
            "Time": Utc::now().to_rfc3339(),
            "ReportName": "CustomerSales",
            "ReportBasis": basis,
            "StartPeriod": start.to_string(),
            "EndPeriod": end.to_string(),
            "SummarizeColumnsBy": "Month",
            "Currency": "USD",
            "Option": [{"Name": "NoReportData", "Value": books.sales.is_empty().to_string()}]
        },
        "Columns": {"Column": cols},
        "Rows": {"Row": rows}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn reports_nest_accounts_and_sum_sections() {
        let books = Books {
            postings: vec![
                Posting {
                    date: d("2025-01-15"),
                    group: Group::Income,
                    account: "Managed Services".into(),
                    amount: 1000.0,
                },
                Posting {
                    date: d("2025-02-15"),
                    group: Group::Income,
                    account: "Managed Services:Backup".into(),
                    amount: 100.0,
                },
                Posting {
                    date: d("2025-02-20"),
                    group: Group::Income,
                    account: "Projects".into(),
                    amount: -50.0,
                },
                Posting {
                    date: d("2025-02-20"),
                    group: Group::Expenses,
                    account: "Rent".into(),
                    amount: 300.0,
                },
                Posting {
                    date: d("2025-04-01"),
                    group: Group::Expenses,
                    account: "Rent".into(),
                    amount: 300.0,
                },
            ],
            ..Books::default()
        };
        let r = profit_and_loss(&books, d("2025-01-01"), d("2025-03-31"), "Accrual");
        let cols = r["Columns"]["Column"].as_array().unwrap();
        assert_eq!(cols.len(), 5, "account, three months, total");
        assert_eq!(cols[2]["MetaData"][1]["Value"], "2025-02-28");
        let income = &r["Rows"]["Row"][0];
        assert_eq!(income["group"], "Income");
        let ms = &income["Rows"]["Row"][0];
        assert_eq!(ms["type"], "Section");
        assert_eq!(
            ms["Header"]["ColData"][1]["value"], "1000.00",
            "own postings on the header"
        );
        assert_eq!(ms["Rows"]["Row"][0]["ColData"][2]["value"], "100.00");
        assert_eq!(
            ms["Summary"]["ColData"][4]["value"], "1100.00",
            "total column"
        );
        assert_eq!(income["Summary"]["ColData"][2]["value"], "50.00");
        let net = r["Rows"]["Row"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(net["group"], "NetIncome");
        assert_eq!(net["Summary"]["ColData"][2]["value"], "-250.00");
    }
}
