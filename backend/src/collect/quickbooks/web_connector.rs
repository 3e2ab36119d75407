//! The server side of the QuickBooks Web Connector (QBWC 2.x). The Web Connector runs
//! beside QuickBooks Desktop and calls us: `authenticate` opens a session (a ticket and
//! the requests planned for it), then `sendRequestXML` / `receiveResponseXML` loop
//! until every request is answered, then `closeConnection`. Answers are kept with the
//! session; only when the last one arrived is anything stored, as one collection run
//! (`sync`), so a session that fails half-way changes no data.
use super::qbxml::{self, Answer, Basis, Request};
use super::soap::{self, Call};
use super::sync::{self, Delivery};
use super::QuickBooksSettings;
use crate::db::{tenant, DbConn, DbPool};
use crate::secrets::{hash, random_token};
use crate::store::org;
use crate::store::quickbooks::{self as store, QbwcSession, SessionUpdate};
use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use qbr_shared::collection::Trigger;
use serde::{Deserialize, Serialize};

/// What `serverVersion` answers.
const SERVER_VERSION: &str = concat!("QBR Dashboard ", env!("CARGO_PKG_VERSION"));

/// A request planned for a session, as stored with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Planned {
    Preferences,
    ProfitAndLoss { from: NaiveDate, to: NaiveDate },
    SalesByCustomer { from: NaiveDate, to: NaiveDate },
    ActiveEmployees,
}

impl Planned {
    fn request(&self, basis: Basis) -> Request {
        match self {
            Planned::Preferences => Request::Preferences,
            Planned::ProfitAndLoss { from, to } => Request::ProfitAndLoss {
                from: *from,
                to: *to,
                basis,
            },
            Planned::SalesByCustomer { from, to } => Request::SalesByCustomer {
                from: *from,
                to: *to,
                basis,
            },
            Planned::ActiveEmployees => Request::ActiveEmployees,
        }
    }
}

/// The Web Connector's side of the conversation: the server's settings and database.
pub struct WebConnector<'a> {
    pub pool: &'a DbPool,
    pub settings: &'a QuickBooksSettings,
    /// The organization the Web Connector's user feeds.
    pub organization_id: i32,
}

/// Why a call could not be served.
type Failed = anyhow::Error;

impl WebConnector<'_> {
    /// Answers one call with the SOAP envelope the Web Connector expects.
    pub async fn answer(&self, call: Call) -> Result<String, Failed> {
        let method = soap::method_name(&call);
        Ok(match call {
            Call::ServerVersion => soap::string_result(method, SERVER_VERSION),
            // Every Web Connector 2.x may talk to us: "" accepts the client.
            Call::ClientVersion { .. } => soap::string_result(method, ""),
            Call::Authenticate { username, password } => {
                let result = self.authenticate(&username, &password).await?;
                let items: Vec<&str> = result.iter().map(String::as_str).collect();
                soap::strings_result(method, &items)
            }
            Call::SendRequestXml {
                ticket,
                company_file,
            } => soap::string_result(method, &self.next_request(&ticket, &company_file).await?),
            Call::ReceiveResponseXml {
                ticket,
                response,
                hresult,
                message,
            } => {
                let done = self.receive(&ticket, &response, &hresult, &message).await?;
                soap::int_result(method, done)
            }
            Call::ConnectionError {
                ticket,
                hresult,
                message,
            } => {
                let why =
                    format!("The Web Connector could not reach QuickBooks ({hresult}): {message}");
                self.fail(&ticket, &why, true).await?;
                soap::string_result(method, "done")
            }
            Call::GetLastError { ticket } => {
                soap::string_result(method, &self.last_error(&ticket).await?)
            }
            Call::CloseConnection { ticket } => {
                soap::string_result(method, &self.close(&ticket).await?)
            }
        })
    }

    /// A connection entered into the Web Connector's organization.
    async fn conn(&self) -> Result<DbConn, Failed> {
        Ok(tenant::checkout(self.pool, self.organization_id).await?)
    }

    /// A connection entered into the organization of `ticket`'s session, found by a
    /// look-up row-level security does not hide; with an unknown ticket it enters none,
    /// and the session then reads as missing.
    async fn ticket_conn(&self, ticket: &str) -> Result<DbConn, Failed> {
        let mut conn = tenant::checkout_platform(self.pool).await?;
        if let Some(org) = store::session_organization(&mut conn, &hash(ticket)).await? {
            tenant::enter(&mut conn, org).await?;
        }
        Ok(conn)
    }

    /// `[ticket, ""]`: a session with work; `["", "nvu"]`: not a valid user.
    async fn authenticate(&self, username: &str, password: &str) -> Result<Vec<String>, Failed> {
        let Some(login) = &self.settings.web_connector else {
            tracing::warn!("the Web Connector called, but QBWC_USERNAME is not set");
            return Ok(vec![String::new(), "nvu".into()]);
        };
        let user_ok = constant_time_eq(username.as_bytes(), login.username.as_bytes());
        let (password, hash_of) = (password.to_string(), login.password_hash.clone());
        let password_ok =
            tokio::task::spawn_blocking(move || super::password_matches(&password, &hash_of))
                .await?;
        if !(user_ok && password_ok) {
            tracing::warn!(username = %username, "the Web Connector's sign-in was refused");
            return Ok(vec![String::new(), "nvu".into()]);
        }
        let mut conn = self.conn().await?;
        let plan = self.plan(&mut conn).await?;
        let ticket = random_token();
        store::open_session(
            &mut conn,
            &hash(&ticket),
            self.organization_id,
            username,
            serde_json::to_value(&plan)?,
        )
        .await?;
        tracing::info!(requests = plan.len(), "Web Connector session opened");
        // "": use the company file open in QuickBooks.
        Ok(vec![ticket, String::new()])
    }

    /// The requests of a new session: the closing date, the profit and loss and the
    /// sales by customer of the current month and the 12 before (or from a pending
    /// backfill), and the head count when it is collected.
    async fn plan(&self, conn: &mut AsyncPgConnection) -> Result<Vec<Planned>, Failed> {
        let org = org::load(conn, self.organization_id)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("organization {} does not exist", self.organization_id)
            })?;
        let current = org.current_month(Utc::now());
        let backfill = store::pending_backfill(conn, org.id).await?;
        let (from, to) = sync::report_range(current, backfill, 12);
        let mut plan = vec![
            Planned::Preferences,
            Planned::ProfitAndLoss { from, to },
            Planned::SalesByCustomer { from, to },
        ];
        if self.settings.count_employees {
            plan.push(Planned::ActiveEmployees);
        }
        Ok(plan)
    }

    /// The live session of `ticket`: known, not closed, not idle for too long.
    async fn session(
        &self,
        conn: &mut AsyncPgConnection,
        ticket: &str,
    ) -> Result<Option<QbwcSession>, Failed> {
        let Some(s) = store::session(conn, &hash(ticket)).await? else {
            return Ok(None);
        };
        let idle = chrono::TimeDelta::from_std(self.settings.session_idle)?;
        let live = s.closed_at.is_none() && Utc::now() - s.last_seen_at <= idle;
        Ok(live.then_some(s))
    }

    /// The next request's qbXML, or "" when the session has no more (or is not live).
    async fn next_request(&self, ticket: &str, company_file: &str) -> Result<String, Failed> {
        let mut conn = self.ticket_conn(ticket).await?;
        let Some(s) = self.session(&mut conn, ticket).await? else {
            return Ok(String::new());
        };
        let plan: Vec<Planned> = serde_json::from_value(s.requests)?;
        let answers = answers_of(&s.answers);
        let update = SessionUpdate {
            company_file: Some(company_file).filter(|f| !f.is_empty()),
            answers: None,
            last_error: None,
            close: false,
        };
        store::update_session(&mut conn, &hash(ticket), update).await?;
        Ok(plan.get(answers.len()).map_or_else(String::new, |next| {
            qbxml::request_xml(
                &next.request(self.settings.basis),
                &answers.len().to_string(),
            )
        }))
    }

    /// Takes QuickBooks' answer to the last request: the percentage done, or -1 (the Web
    /// Connector then asks `getLastError`).
    async fn receive(
        &self,
        ticket: &str,
        response: &str,
        hresult: &str,
        message: &str,
    ) -> Result<i32, Failed> {
        let mut conn = self.ticket_conn(ticket).await?;
        let Some(s) = self.session(&mut conn, ticket).await? else {
            return Ok(-1);
        };
        if !hresult.trim().is_empty() {
            let why = format!("QuickBooks could not answer ({hresult}): {message}");
            self.fail(ticket, &why, false).await?;
            return Ok(-1);
        }
        let plan: Vec<Planned> = serde_json::from_value(s.requests)?;
        let mut answers = answers_of(&s.answers);
        let Some(asked) = plan.get(answers.len()) else {
            self.fail(
                ticket,
                "An answer arrived that nothing was asked for",
                false,
            )
            .await?;
            return Ok(-1);
        };
        match qbxml::read_answer(response, &asked.request(self.settings.basis)) {
            Ok(Answer::Error { code, message }) => {
                let why = format!("QuickBooks answered error {code}: {message}");
                self.fail(ticket, &why, false).await?;
                return Ok(-1);
            }
            Err(e) => {
                self.fail(
                    ticket,
                    &format!("QuickBooks' answer was refused: {e}"),
                    false,
                )
                .await?;
                return Ok(-1);
            }
            Ok(_) => answers.push(response.to_string()),
        }
        let update = SessionUpdate {
            company_file: None,
            answers: Some(serde_json::to_value(&answers)?),
            last_error: None,
            close: false,
        };
        store::update_session(&mut conn, &hash(ticket), update).await?;
        drop(conn);
        if answers.len() < plan.len() {
            let done = answers.len() * 100 / plan.len();
            return Ok(i32::try_from(done).unwrap_or(99).clamp(1, 99));
        }
        self.finish(ticket, &plan, &answers).await
    }

    /// Every answer arrived: store them as one run. 100, or -1 when the run failed.
    async fn finish(
        &self,
        ticket: &str,
        plan: &[Planned],
        answers: &[String],
    ) -> Result<i32, Failed> {
        let delivery = match delivery(plan, answers, self.settings.basis) {
            Ok(d) => d,
            Err(e) => {
                self.fail(ticket, &format!("{e:#}"), false).await?;
                return Ok(-1);
            }
        };
        let org = {
            let mut conn = self.conn().await?;
            org::load(&mut conn, self.organization_id)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("organization {} does not exist", self.organization_id)
                })?
        };
        match sync::store_delivery(
            self.pool,
            &org,
            self.settings,
            delivery,
            Trigger::WebConnector,
        )
        .await
        {
            Ok(report) => {
                tracing::info!(
                    values = report.values_written,
                    months = report.months.len(),
                    "QuickBooks Desktop sync stored"
                );
                let mut conn = self.conn().await?;
                store::clear_backfill(&mut conn, org.id).await?;
                Ok(100)
            }
            Err(e) => {
                self.fail(ticket, &format!("The sync was not stored: {e}"), false)
                    .await?;
                Ok(-1)
            }
        }
    }

    /// Records why the session failed (and closes it when `close`).
    async fn fail(&self, ticket: &str, why: &str, close: bool) -> Result<(), Failed> {
        tracing::warn!(error = %why, "Web Connector session failed");
        let mut conn = self.ticket_conn(ticket).await?;
        if store::session(&mut conn, &hash(ticket)).await?.is_none() {
            return Ok(());
        }
        let update = SessionUpdate {
            company_file: None,
            answers: None,
            last_error: Some(Some(why)),
            close,
        };
        store::update_session(&mut conn, &hash(ticket), update).await?;
        Ok(())
    }

    async fn last_error(&self, ticket: &str) -> Result<String, Failed> {
        let mut conn = self.ticket_conn(ticket).await?;
        Ok(match store::session(&mut conn, &hash(ticket)).await? {
            None => "Unknown or expired session: the Web Connector signs in again at its next run"
                .into(),
            Some(s) => s.last_error.unwrap_or_else(|| "No error".into()),
        })
    }

    async fn close(&self, ticket: &str) -> Result<String, Failed> {
        let mut conn = self.ticket_conn(ticket).await?;
        let Some(s) = store::session(&mut conn, &hash(ticket)).await? else {
            return Ok("Session ended".into());
        };
        let update = SessionUpdate {
            company_file: None,
            answers: None,
            last_error: None,
            close: true,
        };
        store::update_session(&mut conn, &hash(ticket), update).await?;
        Ok(match s.last_error {
            Some(e) => format!("Ended with an error: {e}"),
            None => "QBR Dashboard: sync complete".into(),
        })
    }
}

/// The raw answers stored with a session.
fn answers_of(stored: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(stored.clone()).unwrap_or_default()
}

/// Reads every stored answer of a finished session into what the sync stores.
fn delivery(plan: &[Planned], answers: &[String], basis: Basis) -> anyhow::Result<Delivery> {
    let mut report = None;
    let mut raw = String::new();
    let mut closing_date = None;
    let mut active_employees = None;
    let mut customer_sales = None;
    for (asked, xml) in plan.iter().zip(answers) {
        match qbxml::read_answer(xml, &asked.request(basis))? {
            Answer::ProfitAndLoss(r) => {
                report = Some(r);
                raw = xml.clone();
            }
            Answer::CustomerSales(sales) => customer_sales = Some(sales),
            Answer::Preferences { closing_date: d } => closing_date = d,
            Answer::ActiveEmployees(n) => active_employees = Some(n),
            Answer::Error { code, message } => {
                anyhow::bail!("QuickBooks answered error {code}: {message}")
            }
        }
    }
    let report = report.ok_or_else(|| anyhow::anyhow!("QuickBooks sent no profit and loss"))?;
    Ok(Delivery {
        source: store::Source::Desktop,
        report,
        raw,
        active_employees,
        closing_date,
        customer_sales,
    })
}

/// Compares without leaking where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
