//! Fake ConnectWise Manage and NinjaOne servers (real HTTP on 127.0.0.1), following
//! the vendors' documented behaviour for what the collectors use: Basic auth and the
//! `clientId` header, `conditions` (comparisons, `in`, `like`, `= null`, datetime
//! brackets, AND/OR/NOT, parentheses, nested fields such as `board/name`), `fields`,
//! `page`/`pageSize` with the Link header, `/count`, `POST .../search`; NinjaOne OAuth
//! client credentials and `after` paging. Faults can be injected: 500s, 429s with
//! `Retry-After`, a vendor that always fails, latency. Used by the tests and the
//! benchmarks; never by the server. `env()` gives the variables `qbr` needs to read a
//! fake, so tests configure collectors exactly as an administrator would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use chrono::{DateTime, Utc};
use salvo::conn::Acceptor;
use salvo::http::StatusCode;
use salvo::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------- conditions

/// A parsed `conditions` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(String, String, Lit),
    In(String, bool, Vec<Lit>),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Date(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(DateTime<Utc>),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '"' | '\'' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else {
                        return Err("unterminated string".into());
                    };
                    i += 1;
                    if ch == '\\' {
                        if let Some(&n) = chars.get(i) {
                            v.push(n);
                            i += 1;
                        }
                    } else if ch == quote {
                        break;
                    } else {
                        v.push(ch);
                    }
                }
                out.push(Tok::Str(v));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unterminated datetime")?;
                let text: String = chars[i + 1..i + end].iter().collect();
                let d = DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|e| format!("bad datetime [{text}]: {e}"))?;
                out.push(Tok::Date(d.with_timezone(&Utc)));
                i += end + 1;
            }
            '=' | '!' | '<' | '>' => {
                let mut op = c.to_string();
                if chars.get(i + 1) == Some(&'=') || (c == '<' && chars.get(i + 1) == Some(&'>')) {
                    op.push(chars[i + 1]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Tok::Num(
                    text.parse().map_err(|_| format!("bad number {text}"))?,
                ));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || chars[i] == '_'
                        || chars[i] == '/'
                        || chars[i] == '.')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }
    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Cond::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Cond, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let c = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("expected )".into());
            }
            return Ok(c);
        }
        self.comparison()
    }
    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Date(d)) => Ok(Lit::Date(d)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            other => Err(format!("expected a value, got {other:?}")),
        }
    }
    fn comparison(&mut self) -> Result<Cond, String> {
        let Some(Tok::Ident(field)) = self.next() else {
            return Err("expected a field".into());
        };
        let negated = if self.keyword("not") {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.keyword("in") {
            self.pos += 1;
            if self.next() != Some(Tok::LParen) {
                return Err("expected ( after in".into());
            }
            let mut items = Vec::new();
            loop {
                items.push(self.literal()?);
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    other => return Err(format!("expected , or ), got {other:?}")),
                }
            }
            return Ok(Cond::In(field, negated, items));
        }
        if self.keyword("like") {
            self.pos += 1;
            let lit = self.literal()?;
            let c = Cond::Cmp(field, "like".into(), lit);
            return Ok(if negated { Cond::Not(Box::new(c)) } else { c });
        }
        match self.next() {
            Some(Tok::Op(op)) => Ok(Cond::Cmp(field, op, self.literal()?)),
            other => Err(format!("expected an operator, got {other:?}")),
        }
    }
}

/// Parses a `conditions` string.
pub fn parse_conditions(s: &str) -> Result<Cond, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected input at token {}", p.pos));
    }
    Ok(c)
}

fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/')
        .try_fold(row, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

fn compare(v: Option<&Value>, lit: &Lit) -> Option<std::cmp::Ordering> {
    let v = v?;
    match lit {
        Lit::Num(n) => v.as_f64()?.partial_cmp(n),
        Lit::Str(s) => Some(v.as_str()?.to_lowercase().cmp(&s.to_lowercase())),
        Lit::Bool(b) => Some(v.as_bool()?.cmp(b)),
        Lit::Date(d) => {
            let t = DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()?
                .with_timezone(&Utc);
            Some(t.cmp(d))
        }
        Lit::Null => None,
    }
}

/// Whether `row` satisfies `c`.
pub fn eval(c: &Cond, row: &Value) -> bool {
    use std::cmp::Ordering::*;
    match c {
        Cond::And(a, b) => eval(a, row) && eval(b, row),
        Cond::Or(a, b) => eval(a, row) || eval(b, row),
        Cond::Not(a) => !eval(a, row),
        Cond::In(f, negated, items) => {
            let v = lookup(row, f);
            let hit = items.iter().any(|l| compare(v, l) == Some(Equal));
            hit != *negated
        }
        Cond::Cmp(f, op, Lit::Null) => {
            let is_null = lookup(row, f).is_none();
            match op.as_str() {
                "=" => is_null,
                "!=" | "<>" => !is_null,
                _ => false,
            }
        }
        Cond::Cmp(f, op, lit) => {
            let v = lookup(row, f);
            if op == "like" {
                let (Some(s), Lit::Str(p)) = (v.and_then(Value::as_str), lit) else {
                    return false;
                };
                let needle = p.trim_matches('%').to_lowercase();
                return s.to_lowercase().contains(&needle);
            }
            let Some(ord) = compare(v, lit) else {
                return op == "!=" || op == "<>";
            };
            match op.as_str() {
                "=" => ord == Equal,
                "!=" | "<>" => ord != Equal,
                "<" => ord == Less,
                "<=" => ord != Greater,
                ">" => ord == Greater,
                ">=" => ord != Less,
                _ => false,
            }
        }
    }
}

/// Keeps only `fields` (comma-separated, nested with `/`).
pub fn project(row: &Value, fields: &str) -> Value {
    let mut out = Value::Object(Map::new());
    for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let Some(v) = path_value(row, f) else {
            continue;
        };
        let mut target = &mut out;
        let parts: Vec<&str> = f.split('/').collect();
        for (i, p) in parts.iter().enumerate() {
            let obj = target.as_object_mut().unwrap();
            if i + 1 == parts.len() {
                obj.insert(p.to_string(), v.clone());
                break;
            }
            target = obj.entry(p.to_string()).or_insert_with(|| json!({}));
        }
    }
    out
}

fn path_value<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(row, |v, key| v.get(key))
}

// ---------------------------------------------------------------- faults

/// Faults injected into every request of one fake server.
#[derive(Default)]
pub struct Faults {
    /// The next n requests answer 500.
    pub fail_next: AtomicU32,
    /// The next n requests answer 429 with `Retry-After: 1`.
    pub rate_limit_next: AtomicU32,
    /// Every request answers 500.
    pub always_fail: AtomicBool,
    /// Added to every request, in milliseconds.
    pub latency_ms: AtomicU64,
}

fn take_one(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

/// Applies the faults; true when the request was answered with one.
async fn inject(faults: &Faults, res: &mut Response) -> bool {
    let latency = faults.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if faults.always_fail.load(Ordering::SeqCst) || take_one(&faults.fail_next) {
        res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
        res.render(Json(
            json!({"code": "InternalError", "message": "injected failure"}),
        ));
        return true;
    }
    if take_one(&faults.rate_limit_next) {
        res.status_code(StatusCode::TOO_MANY_REQUESTS);
        res.add_header("Retry-After", "1", true).ok();
        res.render(Json(json!({"code": "TooManyRequests"})));
        return true;
    }
    false
}

fn error(res: &mut Response, status: StatusCode, message: &str) {
    res.status_code(status);
    res.render(Json(json!({"code": "Error", "message": message})));
}

async fn bind(router: Router) -> String {
    let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
    let addr = acceptor.holdings()[0].local_addr.clone();
    let port = addr.into_std().expect("tcp address").port();
    tokio::spawn(async move { Server::new(acceptor).serve(router).await });
    format!("http://127.0.0.1:{port}")
}

// ---------------------------------------------------------------- ConnectWise

/// What the fake ConnectWise holds.
#[derive(Default)]
pub struct CwData {
    /// Tickets as the API returns them (`id`, `board/name`, `status/name`,
    /// `parentTicketId`, `dateEntered`, `closedDate`).
    pub tickets: Vec<Value>,
    /// Time entries (`id`, `chargeToType`, `chargeToId`, `actualHours`, `dateEntered`).
    pub time_entries: Vec<Value>,
}

/// The fake ConnectWise server.
pub struct FakeConnectWise {
    /// The API root to put in `CONNECTWISE_URL`.
    pub url: String,
    pub data: Arc<Mutex<CwData>>,
    pub faults: Arc<Faults>,
    /// Requests received (every try).
    pub requests: Arc<AtomicU64>,
}

/// Credentials the fakes accept.
pub const CW_COMPANY: &str = "acme";
pub const CW_PUBLIC: &str = "pub";
pub const CW_PRIVATE: &str = "priv";
pub const CW_CLIENT_ID: &str = "00000000-client";
pub const NINJA_CLIENT: &str = "ninja-client";
pub const NINJA_SECRET: &str = "ninja-secret";

struct CwHandler {
    data: Arc<Mutex<CwData>>,
    faults: Arc<Faults>,
    requests: Arc<AtomicU64>,
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
        let (rows, count_only) = {
            let data = self.data.lock().unwrap();
            match (path.as_str(), post) {
                ("/service/tickets", false) | ("/service/tickets/search", true) => {
                    (data.tickets.clone(), false)
                }
                ("/service/tickets/count", false) => (data.tickets.clone(), true),
                ("/time/entries", false) => (data.time_entries.clone(), false),
                ("/time/entries/count", false) => (data.time_entries.clone(), true),
                _ => return error(res, StatusCode::NOT_FOUND, "no such endpoint"),
            }
        };
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|r| conditions.as_ref().is_none_or(|c| eval(c, r)))
            .collect();
        if count_only {
            res.render(Json(json!({"count": rows.len()})));
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

impl FakeConnectWise {
    pub async fn start(data: CwData) -> FakeConnectWise {
        let data = Arc::new(Mutex::new(data));
        let faults = Arc::new(Faults::default());
        let requests = Arc::new(AtomicU64::new(0));
        let handler = CwHandler {
            data: data.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
        };
        let url = bind(Router::with_path("{**rest}").goal(handler)).await;
        FakeConnectWise {
            url,
            data,
            faults,
            requests,
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

// ---------------------------------------------------------------- NinjaOne

/// What the fake NinjaOne holds.
#[derive(Default)]
pub struct NinjaData {
    pub organizations: Vec<Value>,
    pub locations: Vec<Value>,
    /// Devices (`id`, `organizationId`, `locationId`, `nodeClass`, `displayName`).
    pub devices: Vec<Value>,
}

/// The fake NinjaOne server.
pub struct FakeNinja {
    pub url: String,
    pub data: Arc<Mutex<NinjaData>>,
    pub faults: Arc<Faults>,
    pub requests: Arc<AtomicU64>,
    pub tokens_issued: Arc<AtomicU64>,
}

struct NinjaHandler {
    data: Arc<Mutex<NinjaData>>,
    faults: Arc<Faults>,
    requests: Arc<AtomicU64>,
    tokens: Arc<Mutex<Vec<String>>>,
    tokens_issued: Arc<AtomicU64>,
}

#[async_trait]
impl Handler for NinjaHandler {
    async fn handle(
        &self,
        req: &mut Request,
        _d: &mut Depot,
        res: &mut Response,
        _c: &mut FlowCtrl,
    ) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if inject(&self.faults, res).await {
            return;
        }
        let path = req.uri().path().trim_end_matches('/').to_string();
        if path == "/ws/oauth/token" && req.method() == salvo::http::Method::POST {
            let grant = req.form::<String>("grant_type").await.unwrap_or_default();
            let id = req.form::<String>("client_id").await.unwrap_or_default();
            let secret = req
                .form::<String>("client_secret")
                .await
                .unwrap_or_default();
            let scope = req.form::<String>("scope").await.unwrap_or_default();
            if grant != "client_credentials" || id != NINJA_CLIENT || secret != NINJA_SECRET {
                res.status_code(StatusCode::UNAUTHORIZED);
                return res.render(Json(json!({"error": "invalid_client"})));
            }
            if !scope.split(' ').any(|s| s == "monitoring") {
                res.status_code(StatusCode::BAD_REQUEST);
                return res.render(Json(json!({"error": "invalid_scope"})));
            }
            let n = self.tokens_issued.fetch_add(1, Ordering::SeqCst);
            let token = format!("token-{n}-{}", uuid::Uuid::new_v4());
            self.tokens.lock().unwrap().push(token.clone());
            return res.render(Json(json!({
                "access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "monitoring"
            })));
        }
        let auth = req.header::<String>("authorization").unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").unwrap_or_default();
        if !self.tokens.lock().unwrap().iter().any(|t| t == token) {
            return error(res, StatusCode::UNAUTHORIZED, "invalid token");
        }
        let data = self.data.lock().unwrap();
        match path.as_str() {
            "/v2/organizations" => res.render(Json(data.organizations.clone())),
            "/v2/locations" => res.render(Json(data.locations.clone())),
            "/v2/devices-detailed" | "/v2/devices" => {
                let size: usize = req.query("pageSize").unwrap_or(1000);
                if size == 0 || size > 1000 {
                    return error(res, StatusCode::BAD_REQUEST, "pageSize must be 1–1000");
                }
                let after: i64 = req.query("after").unwrap_or(0);
                let mut devices: Vec<Value> = data
                    .devices
                    .iter()
                    .filter(|d| d["id"].as_i64().unwrap_or(0) > after)
                    .cloned()
                    .collect();
                devices.sort_by_key(|d| d["id"].as_i64());
                devices.truncate(size);
                res.render(Json(devices));
            }
            _ => error(res, StatusCode::NOT_FOUND, "no such endpoint"),
        }
    }
}

impl FakeNinja {
    pub async fn start(data: NinjaData) -> FakeNinja {
        let data = Arc::new(Mutex::new(data));
        let faults = Arc::new(Faults::default());
        let requests = Arc::new(AtomicU64::new(0));
        let tokens_issued = Arc::new(AtomicU64::new(0));
        let handler = NinjaHandler {
            data: data.clone(),
            faults: faults.clone(),
            requests: requests.clone(),
            tokens: Arc::new(Mutex::new(Vec::new())),
            tokens_issued: tokens_issued.clone(),
        };
        let url = bind(Router::with_path("{**rest}").goal(handler)).await;
        FakeNinja {
            url,
            data,
            faults,
            requests,
            tokens_issued,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("NINJA_URL", self.url.clone()),
            ("NINJA_CLIENT_ID", NINJA_CLIENT.into()),
            ("NINJA_CLIENT_SECRET", NINJA_SECRET.into()),
        ]
    }
}

/// A device as NinjaOne returns it.
pub fn device(id: i64, org: i64, location: i64, class: &str, name: &str) -> Value {
    json!({
        "id": id, "organizationId": org, "locationId": location,
        "nodeClass": class, "displayName": name, "systemName": name.to_uppercase(),
        "offline": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Value {
        json!({
            "id": 7, "board": {"name": "Help Desk"}, "status": {"name": ">Closed"},
            "parentTicketId": null, "dateEntered": "2025-03-01T05:59:59Z", "actualHours": 1.5
        })
    }

    fn holds(c: &str) -> bool {
        eval(&parse_conditions(c).unwrap(), &row())
    }

    #[test]
    fn conditions_follow_the_documented_syntax() {
        assert!(holds(
            r#"board/name in ("Help Desk", "Triage") AND parentTicketId = null"#
        ));
        assert!(!holds(r#"board/name not in ("Help Desk")"#));
        assert!(
            holds(r#"board/name = "help desk""#),
            "string comparison ignores case"
        );
        assert!(holds("dateEntered < [2025-03-01T06:00:00Z]"));
        assert!(!holds("dateEntered >= [2025-03-01T06:00:00Z]"));
        assert!(holds("id in (1, 7) and actualHours > 1"));
        assert!(holds(
            r#"(id = 1 OR id = 7) AND NOT status/name = "Completed""#
        ));
        assert!(
            !holds("id = 1 OR id = 2 AND id = 7"),
            "AND binds tighter than OR"
        );
        assert!(holds(r#"status/name like "%Closed%""#));
        assert!(!holds("parentTicketId != null"));
        assert!(
            !holds("closedDate >= [2025-01-01T00:00:00Z]"),
            "missing field"
        );
        assert!(parse_conditions("id = ").is_err());
        assert!(parse_conditions("(id = 1").is_err());
        assert!(parse_conditions("dateEntered > [not a date]").is_err());
    }

    #[test]
    fn fields_keep_only_what_is_asked() {
        assert_eq!(
            project(&row(), "id,board/name"),
            json!({"id": 7, "board": {"name": "Help Desk"}})
        );
    }
}
