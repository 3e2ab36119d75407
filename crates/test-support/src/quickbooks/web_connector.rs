//! The QuickBooks Web Connector (QBWC 2.x) as a client of a QBWC SOAP service.
//!
//! What it does, per Intuit's QBWC Programmer's Guide and the Web Connector's WSDL:
//! every call is a SOAP 1.1 POST (`Content-Type: text/xml; charset=utf-8`,
//! `SOAPAction: "http://developer.intuit.com/<method>"`), document/literal, the method
//! element in the `http://developer.intuit.com/` namespace. A session runs:
//! 1. `serverVersion()`, then `clientVersion(strVersion)`; an answer `E:<message>` or
//!    `O:<version>` stops the update (a `W:` warning is accepted, as a user would).
//! 2. `authenticate(strUserName, strPassword)` → `[ticket, status, ...]`: status `nvu`
//!    (invalid user) or `busy` stops; `none` (no work) closes; `""` or a company file
//!    path goes on with that file (empty: the one open in QuickBooks).
//! 3. QuickBooks is opened; when it cannot be, `connectionError(ticket, hresult,
//!    message)`: `done` closes, a company file path is tried instead.
//! 4. `sendRequestXML(ticket, strHCPResponse, strCompanyFileName, qbXMLCountry,
//!    qbXMLMajorVers, qbXMLMinorVers)`; `strHCPResponse` (QuickBooks' host, company and
//!    preferences) only on the first call after QuickBooks opened. An empty answer is the
//!    end (or an error): `getLastError(ticket)`, then `closeConnection(ticket)`.
//! 5. QuickBooks runs the request; `receiveResponseXML(ticket, response, hresult,
//!    message)` (on a QuickBooks failure `response` is empty and `hresult`/`message` say
//!    why) → percent done: 100 closes, 0..99 asks for the next request, negative calls
//!    `getLastError`. A `getLastError` of `NoOp` asks again (after a pause); anything
//!    else is shown to the user and the session closes.
//! 6. `closeConnection(ticket)`.
//!
//! A call that fails (HTTP error, SOAP Fault, unreadable answer) ends the update, as the
//! Web Connector shows the error and stops.
use super::{parse_xml, xml_escape, ComError, Element, Ledger, LedgerFault};
use std::fmt::Write;
use std::time::Duration;

/// The namespace of the Web Connector's service.
pub const QBWC_NAMESPACE: &str = "http://developer.intuit.com/";

/// The HRESULT QuickBooks gives when it cannot be started.
const CANNOT_START: (&str, &str) = ("0x80040408", "Could not start QuickBooks.");

/// A method of the Web Connector's service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WcMethod {
    ServerVersion,
    ClientVersion,
    Authenticate,
    SendRequestXml,
    ReceiveResponseXml,
    ConnectionError,
    GetLastError,
    CloseConnection,
}

impl WcMethod {
    pub const ALL: [WcMethod; 8] = [
        WcMethod::ServerVersion,
        WcMethod::ClientVersion,
        WcMethod::Authenticate,
        WcMethod::SendRequestXml,
        WcMethod::ReceiveResponseXml,
        WcMethod::ConnectionError,
        WcMethod::GetLastError,
        WcMethod::CloseConnection,
    ];

    /// The operation's name in the WSDL.
    pub fn as_str(self) -> &'static str {
        match self {
            WcMethod::ServerVersion => "serverVersion",
            WcMethod::ClientVersion => "clientVersion",
            WcMethod::Authenticate => "authenticate",
            WcMethod::SendRequestXml => "sendRequestXML",
            WcMethod::ReceiveResponseXml => "receiveResponseXML",
            WcMethod::ConnectionError => "connectionError",
            WcMethod::GetLastError => "getLastError",
            WcMethod::CloseConnection => "closeConnection",
        }
    }

    /// The `SOAPAction` header, quoted as the Web Connector sends it.
    pub fn soap_action(self) -> String {
        format!("\"{QBWC_NAMESPACE}{}\"", self.as_str())
    }
}

/// The operations of the Web Connector's WSDL.
pub fn wsdl_operations() -> [&'static str; 8] {
    WcMethod::ALL.map(WcMethod::as_str)
}

/// A SOAP 1.1 request envelope as the Web Connector writes it (document/literal).
pub fn soap_envelope(method: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope \
         xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body>",
    );
    let _ = write!(out, "<{method} xmlns=\"{QBWC_NAMESPACE}\">");
    for (name, value) in params {
        let _ = write!(out, "<{name}>{}</{name}>", xml_escape(value));
    }
    let _ = write!(out, "</{method}></soap:Body></soap:Envelope>");
    out
}

/// What a call brought back.
#[derive(Clone, Debug, PartialEq)]
pub enum WcOutcome {
    /// A string result.
    Text(String),
    /// `authenticateResult`'s strings.
    Strings(Vec<String>),
    /// `receiveResponseXMLResult`.
    Int(i64),
    /// A SOAP Fault.
    Fault {
        status: u16,
        code: String,
        message: String,
    },
    /// Neither 200 nor a SOAP Fault.
    Http { status: u16, body: String },
    /// A 200 that is not the method's response envelope.
    Unreadable(String),
    /// No HTTP answer at all.
    Transport(String),
}

/// One call of the session.
#[derive(Clone, Debug, PartialEq)]
pub struct WcCall {
    pub method: WcMethod,
    /// The parameters, in the WSDL's order.
    pub args: Vec<(String, String)>,
    pub outcome: WcOutcome,
}

impl WcCall {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The result, when it is a string.
    pub fn text(&self) -> Option<&str> {
        match &self.outcome {
            WcOutcome::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Everything the Web Connector did, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WcSession {
    pub calls: Vec<WcCall>,
    /// The qbXML requests the service sent (non-empty `sendRequestXML` results).
    pub requests: Vec<String>,
    /// What was passed back to `receiveResponseXML` as `response`.
    pub responses: Vec<String>,
}

impl WcSession {
    /// The methods called, in order.
    pub fn methods(&self) -> Vec<WcMethod> {
        self.calls.iter().map(|c| c.method).collect()
    }

    pub fn calls_of(&self, method: WcMethod) -> impl Iterator<Item = &WcCall> {
        self.calls.iter().filter(move |c| c.method == method)
    }

    /// The ticket `authenticate` gave.
    pub fn ticket(&self) -> Option<&str> {
        self.calls_of(WcMethod::Authenticate)
            .find_map(|c| match &c.outcome {
                WcOutcome::Strings(s) => s.first().map(String::as_str),
                _ => None,
            })
    }

    /// `authenticate`'s status (`""`, `none`, `nvu`, `busy` or a company file).
    pub fn auth_status(&self) -> Option<&str> {
        self.calls_of(WcMethod::Authenticate)
            .find_map(|c| match &c.outcome {
                WcOutcome::Strings(s) => s.get(1).map(String::as_str),
                _ => None,
            })
    }

    /// The last `getLastError` message.
    pub fn last_error(&self) -> Option<&str> {
        self.calls_of(WcMethod::GetLastError)
            .filter_map(WcCall::text)
            .last()
    }

    /// The percents `receiveResponseXML` returned.
    pub fn percents(&self) -> Vec<i64> {
        self.calls_of(WcMethod::ReceiveResponseXml)
            .filter_map(|c| match c.outcome {
                WcOutcome::Int(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

/// Faults of a session, as a real installation produces them. Requests are numbered
/// from 1 in the order the service sends them.
#[derive(Clone, Debug, Default)]
pub struct WcFaults {
    /// QuickBooks answers request N with this error status (e.g. 3120).
    pub quickbooks_error_at: Option<(usize, LedgerFault)>,
    /// QuickBooks cannot be started: `connectionError` (`0x80040408`, "Could not start
    /// QuickBooks.") instead of running request N; 0 is right after `authenticate`.
    pub connection_error_at: Option<usize>,
    /// QuickBooks refuses request N as unparsable: `receiveResponseXML` gets no response
    /// and `0x80040400`.
    pub hresult_at: Option<usize>,
    /// The user typed another password than the service's.
    pub wrong_password: bool,
    /// After `authenticate`, this (old, expired) ticket is sent instead of the new one.
    pub stale_ticket: Option<String>,
}

/// The Web Connector, with the QuickBooks it talks to described by its fields.
#[derive(Clone, Debug)]
pub struct FakeWebConnector {
    /// Sent to `clientVersion` (QBWC 2.3.0.215 is the current release).
    pub client_version: String,
    /// The company file QuickBooks has open (sent when `authenticate` names none).
    pub company_file: String,
    pub country: String,
    /// The highest qbXML version QuickBooks supports (16.0 for QuickBooks 2021 and later).
    pub qbxml_major: u32,
    pub qbxml_minor: u32,
    /// A guard against a service that never says 100.
    pub max_requests: usize,
    /// How many `NoOp`s in a row are followed (the Web Connector pauses 5 s each).
    pub max_noops: usize,
    pub noop_pause: Duration,
    client: reqwest::Client,
}

impl Default for FakeWebConnector {
    fn default() -> Self {
        FakeWebConnector::new()
    }
}

/// Whether the session goes on after a `connectionError`.
enum Reopen {
    With(String),
    Closed,
}

impl FakeWebConnector {
    pub fn new() -> FakeWebConnector {
        FakeWebConnector {
            client_version: "2.3.0.215".into(),
            company_file:
                "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\Northwind MSP.qbw"
                    .into(),
            country: "US".into(),
            qbxml_major: 16,
            qbxml_minor: 0,
            max_requests: 100,
            max_noops: 3,
            noop_pause: Duration::from_millis(10),
            client: reqwest::Client::new(),
        }
    }

    /// One update of the service at `url`, QuickBooks answering from `ledger`.
    pub async fn run(
        &self,
        url: &str,
        user: &str,
        password: &str,
        ledger: &Ledger,
        faults: WcFaults,
    ) -> WcSession {
        let mut s = WcSession::default();
        self.call(&mut s, url, WcMethod::ServerVersion, &[]).await;
        let version = [("strVersion", self.client_version.as_str())];
        let answer = self
            .call(&mut s, url, WcMethod::ClientVersion, &version)
            .await;
        if let WcOutcome::Text(t) = &answer {
            if t.starts_with("E:") || t.starts_with("O:") {
                return s;
            }
        }
        let typed = if faults.wrong_password {
            format!("{password}-not-it")
        } else {
            password.to_string()
        };
        let credentials = [("strUserName", user), ("strPassword", typed.as_str())];
        let WcOutcome::Strings(auth) = self
            .call(&mut s, url, WcMethod::Authenticate, &credentials)
            .await
        else {
            return s;
        };
        let ticket = auth.first().cloned().unwrap_or_default();
        let status = auth.get(1).cloned().unwrap_or_default();
        let ticket = faults.stale_ticket.clone().unwrap_or(ticket);
        let mut company = match status.as_str() {
            "nvu" | "busy" => return s,
            "none" => {
                self.close(&mut s, url, &ticket).await;
                return s;
            }
            "" => self.company_file.clone(),
            path => path.to_string(),
        };
        if faults.connection_error_at == Some(0) {
            match self.connection_error(&mut s, url, &ticket).await {
                Reopen::With(path) => company = path,
                Reopen::Closed => return s,
            }
        }
        self.exchange(&mut s, url, &ticket, company, ledger, &faults)
            .await;
        s
    }

    /// Steps 4 and 5, until the service is done.
    async fn exchange(
        &self,
        s: &mut WcSession,
        url: &str,
        ticket: &str,
        mut company: String,
        ledger: &Ledger,
        faults: &WcFaults,
    ) {
        let mut opened = true;
        let mut sent = 0usize;
        let mut noops = 0usize;
        let mut connection_fault = faults.connection_error_at.filter(|n| *n > 0);
        let (major, minor) = (self.qbxml_major.to_string(), self.qbxml_minor.to_string());
        loop {
            if sent >= self.max_requests {
                return self.close(s, url, ticket).await;
            }
            let hcp = if opened {
                self.host_response(ledger)
            } else {
                String::new()
            };
            opened = false;
            let args = [
                ("ticket", ticket),
                ("strHCPResponse", hcp.as_str()),
                ("strCompanyFileName", company.as_str()),
                ("qbXMLCountry", self.country.as_str()),
                ("qbXMLMajorVers", major.as_str()),
                ("qbXMLMinorVers", minor.as_str()),
            ];
            let WcOutcome::Text(request) = self.call(s, url, WcMethod::SendRequestXml, &args).await
            else {
                return;
            };
            if request.trim().is_empty() {
                if self.noop(s, url, ticket, &mut noops).await {
                    continue;
                }
                return self.close(s, url, ticket).await;
            }
            sent += 1;
            s.requests.push(request.clone());
            if connection_fault == Some(sent) {
                connection_fault = None;
                match self.connection_error(s, url, ticket).await {
                    Reopen::With(path) => {
                        company = path;
                        opened = true;
                        continue;
                    }
                    Reopen::Closed => return,
                }
            }
            let (response, hresult, message) = quickbooks(ledger, &request, sent, faults);
            s.responses.push(response.clone());
            let args = [
                ("ticket", ticket),
                ("response", response.as_str()),
                ("hresult", hresult.as_str()),
                ("message", message.as_str()),
            ];
            let WcOutcome::Int(percent) =
                self.call(s, url, WcMethod::ReceiveResponseXml, &args).await
            else {
                return;
            };
            if percent >= 100 {
                return self.close(s, url, ticket).await;
            }
            if percent < 0 {
                if self.noop(s, url, ticket, &mut noops).await {
                    continue;
                }
                return self.close(s, url, ticket).await;
            }
        }
    }

    /// `getLastError`; true when it says `NoOp` (ask again after a pause).
    async fn noop(&self, s: &mut WcSession, url: &str, ticket: &str, noops: &mut usize) -> bool {
        let answer = self
            .call(s, url, WcMethod::GetLastError, &[("ticket", ticket)])
            .await;
        let is_noop =
            matches!(&answer, WcOutcome::Text(t) if t.trim().eq_ignore_ascii_case("noop"));
        if is_noop && *noops < self.max_noops {
            *noops += 1;
            tokio::time::sleep(self.noop_pause).await;
            return true;
        }
        false
    }

    /// `connectionError`: `done` closes; a company file path is tried instead (and
    /// opens, the fault being over).
    async fn connection_error(&self, s: &mut WcSession, url: &str, ticket: &str) -> Reopen {
        let (hresult, message) = CANNOT_START;
        let args = [
            ("ticket", ticket),
            ("hresult", hresult),
            ("message", message),
        ];
        match self.call(s, url, WcMethod::ConnectionError, &args).await {
            WcOutcome::Text(t)
                if !t.trim().is_empty() && !t.trim().eq_ignore_ascii_case("done") =>
            {
                Reopen::With(t)
            }
            WcOutcome::Text(_) => {
                self.close(s, url, ticket).await;
                Reopen::Closed
            }
            _ => Reopen::Closed,
        }
    }

    async fn close(&self, s: &mut WcSession, url: &str, ticket: &str) {
        self.call(s, url, WcMethod::CloseConnection, &[("ticket", ticket)])
            .await;
    }

    /// One SOAP call, recorded.
    async fn call(
        &self,
        s: &mut WcSession,
        url: &str,
        method: WcMethod,
        args: &[(&str, &str)],
    ) -> WcOutcome {
        let body = soap_envelope(method.as_str(), args);
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", method.soap_action())
            .body(body)
            .send()
            .await;
        let outcome = match sent {
            Err(e) => WcOutcome::Transport(e.to_string()),
            Ok(res) => {
                let status = res.status().as_u16();
                match res.text().await {
                    Ok(text) => read_soap(method, status, &text),
                    Err(e) => WcOutcome::Transport(e.to_string()),
                }
            }
        };
        s.calls.push(WcCall {
            method,
            args: args
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// `strHCPResponse`: QuickBooks' answer to the host, company and preferences queries
    /// the Web Connector makes when it opens the company file.
    fn host_response(&self, ledger: &Ledger) -> String {
        let mut versions = String::new();
        let known = [
            "1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0", "6.0", "7.0", "8.0",
        ];
        for v in known {
            let _ = writeln!(
                versions,
                "<SupportedQBXMLVersion>{v}</SupportedQBXMLVersion>"
            );
        }
        for major in 9..=self.qbxml_major {
            let _ = writeln!(
                versions,
                "<SupportedQBXMLVersion>{major}.0</SupportedQBXMLVersion>"
            );
        }
        let name = xml_escape(&ledger.company_name);
        format!(
            "<?xml version=\"1.0\" ?>\n<QBXML>\n<QBXMLMsgsRs>\n\
             <HostQueryRs requestID=\"0\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">\n\
             <HostRet>\n<ProductName>QuickBooks Pro 2024</ProductName>\n<MajorVersion>34</MajorVersion>\n\
             <MinorVersion>0</MinorVersion>\n<Country>{country}</Country>\n{versions}\
             <IsAutomaticLogin>false</IsAutomaticLogin>\n<QBFileMode>SingleUser</QBFileMode>\n</HostRet>\n\
             </HostQueryRs>\n\
             <CompanyQueryRs requestID=\"1\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">\n\
             <CompanyRet>\n<IsSampleCompany>false</IsSampleCompany>\n<CompanyName>{name}</CompanyName>\n\
             <LegalCompanyName>{name}</LegalCompanyName>\n<FirstMonthFiscalYear>January</FirstMonthFiscalYear>\n\
             <FirstMonthIncomeTaxYear>January</FirstMonthIncomeTaxYear>\n<CompanyType>General Business</CompanyType>\n\
             <TaxForm>OtherOrNone</TaxForm>\n</CompanyRet>\n</CompanyQueryRs>\n\
             <PreferencesQueryRs requestID=\"2\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">\n\
             {preferences}</PreferencesQueryRs>\n</QBXMLMsgsRs>\n</QBXML>\n",
            country = xml_escape(&self.country),
            preferences = ledger.preferences_ret(),
        )
    }
}

/// What QuickBooks makes of request number `n`: `(response, hresult, message)`.
fn quickbooks(
    ledger: &Ledger,
    request: &str,
    n: usize,
    faults: &WcFaults,
) -> (String, String, String) {
    if faults.hresult_at == Some(n) {
        let e = ComError::parse();
        return (String::new(), e.hresult, e.message);
    }
    let answered = match &faults.quickbooks_error_at {
        Some((at, fault)) if *at == n => {
            let mut failing = ledger.clone();
            failing.fault = Some(fault.clone());
            failing.respond(request)
        }
        _ => ledger.respond(request),
    };
    match answered {
        Ok(xml) => (xml, String::new(), String::new()),
        Err(e) => (String::new(), e.hresult, e.message),
    }
}

/// Reads the service's answer to `method`.
fn read_soap(method: WcMethod, status: u16, text: &str) -> WcOutcome {
    let body = parse_xml(text)
        .ok()
        .filter(|d| d.root.name == "Envelope")
        .and_then(|d| d.root.child("Body").cloned());
    let Some(body) = body else {
        return match status {
            200 => WcOutcome::Unreadable(format!("not a SOAP envelope: {}", clip(text))),
            _ => WcOutcome::Http {
                status,
                body: text.to_string(),
            },
        };
    };
    let Some(first) = body.children.first() else {
        return WcOutcome::Unreadable("an empty SOAP Body".into());
    };
    if first.name == "Fault" {
        let field = |name: &str| first.child(name).map(|e| e.text.trim().to_string());
        return WcOutcome::Fault {
            status,
            code: field("faultcode").unwrap_or_default(),
            message: field("faultstring").unwrap_or_default(),
        };
    }
    if status != 200 {
        return WcOutcome::Http {
            status,
            body: text.to_string(),
        };
    }
    let expected = format!("{}Response", method.as_str());
    if first.name != expected {
        return WcOutcome::Unreadable(format!("{} where {expected} was expected", first.name));
    }
    let result = first.child(&format!("{}Result", method.as_str()));
    result_of(method, result)
}

fn result_of(method: WcMethod, result: Option<&Element>) -> WcOutcome {
    match method {
        WcMethod::Authenticate => WcOutcome::Strings(
            result
                .map(|r| {
                    r.children
                        .iter()
                        .filter(|c| c.name == "string")
                        .map(|c| c.text.clone())
                        .collect()
                })
                .unwrap_or_default(),
        ),
        WcMethod::ReceiveResponseXml => match result.map(|r| r.text.trim().parse::<i64>()) {
            Some(Ok(n)) => WcOutcome::Int(n),
            _ => WcOutcome::Unreadable("receiveResponseXMLResult is not an integer".into()),
        },
        // A null string result is an absent element: the empty string.
        _ => WcOutcome::Text(result.map(|r| r.text.clone()).unwrap_or_default()),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qbr_shared::period::Month;
    use salvo::conn::Acceptor;
    use salvo::http::StatusCode;
    use salvo::prelude::*;
    use std::sync::{Arc, Mutex};

    /// A minimal QBWC service: hands out `requests` one by one, keeps what comes back.
    #[derive(Default)]
    struct State {
        requests: Vec<String>,
        next: usize,
        received: Vec<String>,
        last_error: String,
        /// The answer to `connectionError`.
        on_connection_error: String,
        /// `sendRequestXML` answers with a SOAP Fault.
        fault_on_send: bool,
    }

    struct Service(Arc<Mutex<State>>);

    const TICKET: &str = "5f2c-ticket";

    fn respond(method: &str, result: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope \
             xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
             <{method}Response xmlns=\"{QBWC_NAMESPACE}\"><{method}Result>{result}</{method}Result>\
             </{method}Response></soap:Body></soap:Envelope>"
        )
    }

    #[async_trait]
    impl Handler for Service {
        async fn handle(
            &self,
            req: &mut Request,
            _d: &mut Depot,
            res: &mut Response,
            _c: &mut FlowCtrl,
        ) {
            let action = req.header::<String>("SOAPAction").unwrap_or_default();
            let content_type = req.header::<String>("Content-Type").unwrap_or_default();
            let body = req
                .payload()
                .await
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let doc = parse_xml(&body).unwrap();
            let call = doc.root.child("Body").unwrap().children[0].clone();
            assert_eq!(action, format!("\"{QBWC_NAMESPACE}{}\"", call.name));
            assert_eq!(content_type, "text/xml; charset=utf-8");
            assert_eq!(call.attr("xmlns"), Some(QBWC_NAMESPACE));
            let p = |n: &str| call.text_at(n).unwrap_or_default().to_string();
            let mut st = self.0.lock().unwrap();
            let result = match call.name.as_str() {
                "serverVersion" => "mini 1.0".to_string(),
                "clientVersion" => String::new(),
                "authenticate" if p("strPassword") == "secret" => {
                    format!("<string>{TICKET}</string><string></string>")
                }
                "authenticate" => "<string></string><string>nvu</string>".to_string(),
                "sendRequestXML" if st.fault_on_send => {
                    res.status_code(StatusCode::INTERNAL_SERVER_ERROR);
                    res.render(Text::Xml(
                        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
                         <soap:Fault><faultcode>soap:Server</faultcode><faultstring>boom</faultstring>\
                         </soap:Fault></soap:Body></soap:Envelope>",
                    ));
                    return;
                }
                "sendRequestXML" if p("ticket") != TICKET => {
                    st.last_error = "the ticket is not valid".into();
                    String::new()
                }
                "sendRequestXML" => {
                    let r = st.requests.get(st.next).cloned().unwrap_or_default();
                    xml_escape(&r)
                }
                "receiveResponseXML" if !p("hresult").is_empty() => {
                    st.last_error = format!("{}: {}", p("hresult"), p("message"));
                    "-1".into()
                }
                "receiveResponseXML" => {
                    st.received.push(p("response"));
                    st.next += 1;
                    ((st.next * 100) / st.requests.len().max(1)).to_string()
                }
                "connectionError" => st.on_connection_error.clone(),
                "getLastError" => xml_escape(&st.last_error),
                "closeConnection" => "OK".into(),
                other => panic!("unknown method {other}"),
            };
            res.render(Text::Xml(respond(&call.name, &result)));
        }
    }

    async fn serve(state: Arc<Mutex<State>>) -> String {
        let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
        let port = acceptor.holdings()[0]
            .local_addr
            .clone()
            .into_std()
            .unwrap()
            .port();
        let router = Router::with_path("qbwc").post(Service(state));
        tokio::spawn(async move { Server::new(acceptor).serve(router).await });
        format!("http://127.0.0.1:{port}/qbwc")
    }

    fn request(id: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?qbxml version=\"13.0\"?>\n<QBXML><QBXMLMsgsRq \
             onError=\"stopOnError\"><EmployeeQueryRq requestID=\"{id}\"><ActiveStatus>ActiveOnly\
             </ActiveStatus></EmployeeQueryRq></QBXMLMsgsRq></QBXML>"
        )
    }

    fn state(n: usize) -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            requests: (1..=n).map(|i| request(&i.to_string())).collect(),
            on_connection_error: "done".into(),
            ..State::default()
        }))
    }

    fn ledger() -> Ledger {
        Ledger::sample("2025-06".parse::<Month>().unwrap())
    }

    use WcMethod::*;

    #[tokio::test]
    async fn a_full_update_follows_the_guide() {
        let st = state(2);
        let url = serve(st.clone()).await;
        let wc = FakeWebConnector::new();
        let s = wc
            .run(&url, "qbr", "secret", &ledger(), WcFaults::default())
            .await;
        assert_eq!(
            s.methods(),
            [
                ServerVersion,
                ClientVersion,
                Authenticate,
                SendRequestXml,
                ReceiveResponseXml,
                SendRequestXml,
                ReceiveResponseXml,
                CloseConnection
            ]
        );
        assert_eq!(s.ticket(), Some(TICKET));
        assert_eq!(s.percents(), [50, 100]);
        let sends: Vec<&WcCall> = s.calls_of(SendRequestXml).collect();
        assert!(sends[0]
            .arg("strHCPResponse")
            .unwrap()
            .contains("<HostQueryRs"));
        assert_eq!(sends[1].arg("strHCPResponse"), Some(""));
        assert_eq!(sends[0].arg("qbXMLMajorVers"), Some("16"));
        assert_eq!(sends[0].arg("qbXMLCountry"), Some("US"));
        assert!(sends[0]
            .arg("strCompanyFileName")
            .unwrap()
            .ends_with(".qbw"));
        let received = st.lock().unwrap().received.clone();
        assert_eq!(received.len(), 2);
        assert!(received[0].contains("<EmployeeQueryRs requestID=\"1\" statusCode=\"0\""));
        assert_eq!(received[0].matches("<EmployeeRet>").count(), 12);
        assert_eq!(s.requests, [request("1"), request("2")]);
    }

    #[tokio::test]
    async fn an_empty_request_ends_with_get_last_error_and_close() {
        let st = state(0);
        let url = serve(st).await;
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), WcFaults::default())
            .await;
        assert_eq!(
            s.methods(),
            [
                ServerVersion,
                ClientVersion,
                Authenticate,
                SendRequestXml,
                GetLastError,
                CloseConnection
            ]
        );
    }

    #[tokio::test]
    async fn a_wrong_password_stops_at_nvu() {
        let url = serve(state(1)).await;
        let faults = WcFaults {
            wrong_password: true,
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        assert_eq!(s.methods(), [ServerVersion, ClientVersion, Authenticate]);
        assert_eq!(s.auth_status(), Some("nvu"));
        assert_eq!(s.calls[2].arg("strPassword"), Some("secret-not-it"));
    }

    #[tokio::test]
    async fn quickbooks_errors_reach_the_service() {
        // A qbXML error status is an answer like any other.
        let st = state(2);
        let url = serve(st.clone()).await;
        let faults = WcFaults {
            quickbooks_error_at: Some((1, LedgerFault::object_not_found())),
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        assert_eq!(s.percents(), [50, 100]);
        assert!(
            st.lock().unwrap().received[0].contains("statusCode=\"3120\" statusSeverity=\"Error\"")
        );
        // An HRESULT: no response, the service answers -1 and explains in getLastError.
        let url = serve(state(2)).await;
        let faults = WcFaults {
            hresult_at: Some(1),
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        let receive = s.calls_of(ReceiveResponseXml).next().unwrap();
        assert_eq!(receive.arg("response"), Some(""));
        assert_eq!(receive.arg("hresult"), Some("0x80040400"));
        assert_eq!(s.percents(), [-1]);
        assert_eq!(s.methods().last(), Some(&CloseConnection));
        assert!(s.last_error().unwrap().starts_with("0x80040400"));
    }

    #[tokio::test]
    async fn connection_errors_and_stale_tickets() {
        let url = serve(state(2)).await;
        let faults = WcFaults {
            connection_error_at: Some(2),
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        assert_eq!(
            s.methods(),
            [
                ServerVersion,
                ClientVersion,
                Authenticate,
                SendRequestXml,
                ReceiveResponseXml,
                SendRequestXml,
                ConnectionError,
                CloseConnection
            ]
        );
        let ce = s.calls_of(ConnectionError).next().unwrap();
        assert_eq!(ce.arg("hresult"), Some("0x80040408"));
        assert_eq!(ce.arg("message"), Some("Could not start QuickBooks."));
        // A path instead of "done": the Web Connector opens that file and starts over.
        let st = state(1);
        st.lock().unwrap().on_connection_error = "C:\\other.qbw".into();
        let url = serve(st).await;
        let faults = WcFaults {
            connection_error_at: Some(0),
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        let send = s.calls_of(SendRequestXml).next().unwrap();
        assert_eq!(send.arg("strCompanyFileName"), Some("C:\\other.qbw"));
        assert!(send
            .arg("strHCPResponse")
            .unwrap()
            .contains("CompanyQueryRs"));
        assert_eq!(s.percents(), [100]);
        // An old ticket is refused.
        let url = serve(state(1)).await;
        let faults = WcFaults {
            stale_ticket: Some("expired-ticket".into()),
            ..WcFaults::default()
        };
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), faults)
            .await;
        assert_eq!(
            s.calls_of(SendRequestXml).next().unwrap().arg("ticket"),
            Some("expired-ticket")
        );
        assert_eq!(s.last_error(), Some("the ticket is not valid"));
        assert_eq!(s.methods().last(), Some(&CloseConnection));
    }

    #[tokio::test]
    async fn faults_and_http_errors_are_recorded() {
        let st = state(1);
        st.lock().unwrap().fault_on_send = true;
        let url = serve(st).await;
        let s = FakeWebConnector::new()
            .run(&url, "qbr", "secret", &ledger(), WcFaults::default())
            .await;
        let send = s.calls_of(SendRequestXml).next().unwrap();
        assert_eq!(
            send.outcome,
            WcOutcome::Fault {
                status: 500,
                code: "soap:Server".into(),
                message: "boom".into()
            }
        );
        assert_eq!(s.methods().last(), Some(&SendRequestXml));
        // No service at that path.
        let base = serve(state(1)).await.replace("/qbwc", "/nothing");
        let s = FakeWebConnector::new()
            .run(&base, "qbr", "secret", &ledger(), WcFaults::default())
            .await;
        assert!(
            matches!(
                s.calls[0].outcome,
                WcOutcome::Http {
                    status: 404 | 405,
                    ..
                }
            ),
            "{:?}",
            s.calls[0]
        );
        assert_eq!(s.methods(), [ServerVersion, ClientVersion, Authenticate]);
    }

    #[test]
    fn envelopes_are_document_literal_in_the_intuit_namespace() {
        let e = soap_envelope(
            "authenticate",
            &[("strUserName", "a<b"), ("strPassword", "p&q")],
        );
        let doc = parse_xml(&e).unwrap();
        assert_eq!(doc.root.name, "Envelope");
        let call = &doc.root.child("Body").unwrap().children[0];
        assert_eq!(call.name, "authenticate");
        assert_eq!(call.attr("xmlns"), Some(QBWC_NAMESPACE));
        assert_eq!(call.text_at("strUserName"), Some("a<b"));
        assert_eq!(call.text_at("strPassword"), Some("p&q"));
        assert_eq!(wsdl_operations().len(), 8);
        assert_eq!(
            WcMethod::SendRequestXml.soap_action(),
            "\"http://developer.intuit.com/sendRequestXML\""
        );
    }
}
