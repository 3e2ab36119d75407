//! QuickBooks' tables: the accounts reports showed, their mappings, the reports as
//! received, the Web Connector's sessions and a pending request for more history.
use crate::schema::{
    qbwc_sessions, quickbooks_accounts, quickbooks_backfill, quickbooks_mappings,
    quickbooks_sync_history,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::quickbooks::{Mapping, PnlReport, Section, Target, Unreconciled};
use qbr_shared::Month;
use std::collections::BTreeMap;

/// Records that these accounts appeared in a report received `now`.
pub async fn accounts_seen(
    conn: &mut AsyncPgConnection,
    org: i32,
    accounts: &[(&str, Section)],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let rows: Vec<_> = accounts
        .iter()
        .map(|(name, section)| {
            (
                quickbooks_accounts::organization_id.eq(org),
                quickbooks_accounts::full_name.eq(*name),
                quickbooks_accounts::section.eq(section.as_str()),
                quickbooks_accounts::first_seen_at.eq(now),
                quickbooks_accounts::last_seen_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(quickbooks_accounts::table)
        .values(rows)
        .on_conflict((
            quickbooks_accounts::organization_id,
            quickbooks_accounts::full_name,
        ))
        .do_update()
        .set((
            quickbooks_accounts::section.eq(excluded(quickbooks_accounts::section)),
            quickbooks_accounts::last_seen_at.eq(excluded(quickbooks_accounts::last_seen_at)),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A stored account.
#[derive(Debug, Clone, Queryable)]
pub struct AccountRow {
    pub full_name: String,
    pub section: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn accounts(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<AccountRow>> {
    quickbooks_accounts::table
        .filter(quickbooks_accounts::organization_id.eq(org))
        .order(quickbooks_accounts::full_name)
        .select((
            quickbooks_accounts::full_name,
            quickbooks_accounts::section,
            quickbooks_accounts::first_seen_at,
            quickbooks_accounts::last_seen_at,
        ))
        .load(conn)
        .await
}

/// The organization's mappings, by account.
pub async fn mappings(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<BTreeMap<String, Mapping>> {
    let rows: Vec<(String, String, Option<String>)> = quickbooks_mappings::table
        .filter(quickbooks_mappings::organization_id.eq(org))
        .select((
            quickbooks_mappings::account,
            quickbooks_mappings::target,
            quickbooks_mappings::reason,
        ))
        .load(conn)
        .await?;
    // The CHECK constraint allows exactly the targets `Target::parse` knows.
    Ok(rows
        .into_iter()
        .filter_map(|(account, target, reason)| {
            Some((
                account,
                Mapping {
                    target: Target::parse(&target)?,
                    reason,
                },
            ))
        })
        .collect())
}

/// Sets (`Some`) or removes (`None`: back to the parent's or the default rule) the
/// mapping of each account.
pub async fn set_mappings(
    conn: &mut AsyncPgConnection,
    org: i32,
    changes: &[(String, Option<Mapping>)],
    by: &str,
) -> QueryResult<()> {
    for (account, mapping) in changes {
        let this = quickbooks_mappings::table
            .filter(quickbooks_mappings::organization_id.eq(org))
            .filter(quickbooks_mappings::account.eq(account));
        match mapping {
            None => {
                diesel::delete(this).execute(conn).await?;
            }
            Some(m) => {
                diesel::insert_into(quickbooks_mappings::table)
                    .values((
                        quickbooks_mappings::organization_id.eq(org),
                        quickbooks_mappings::account.eq(account),
                        quickbooks_mappings::target.eq(m.target.as_str()),
                        quickbooks_mappings::reason.eq(m.reason.as_deref()),
                        quickbooks_mappings::updated_by.eq(by),
                    ))
                    .on_conflict((
                        quickbooks_mappings::organization_id,
                        quickbooks_mappings::account,
                    ))
                    .do_update()
                    .set((
                        quickbooks_mappings::target.eq(m.target.as_str()),
                        quickbooks_mappings::reason.eq(m.reason.as_deref()),
                        quickbooks_mappings::updated_by.eq(by),
                        quickbooks_mappings::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Where a report came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Desktop,
    Online,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Desktop => "desktop",
            Source::Online => "online",
        }
    }

    pub fn parse(word: &str) -> Option<Source> {
        match word {
            "desktop" => Some(Source::Desktop),
            "online" => Some(Source::Online),
            _ => None,
        }
    }
}

/// A report to keep.
pub struct NewSync<'a> {
    pub source: Source,
    pub report: &'a PnlReport,
    pub raw: &'a str,
    pub active_employees: Option<u32>,
    pub closing_date: Option<NaiveDate>,
    pub unreconciled: &'a [Unreconciled],
    pub run_id: Option<i64>,
    pub now: DateTime<Utc>,
}

pub async fn record_sync(
    conn: &mut AsyncPgConnection,
    org: i32,
    s: NewSync<'_>,
) -> QueryResult<i64> {
    let months = &s.report.months;
    let (Some(from), Some(to)) = (months.iter().next(), months.iter().next_back()) else {
        return Err(diesel::result::Error::QueryBuilderError(
            "a report without months".into(),
        ));
    };
    let report = serde_json::to_value(s.report).unwrap_or_default();
    let unreconciled = serde_json::to_value(s.unreconciled).unwrap_or_default();
    diesel::insert_into(quickbooks_sync_history::table)
        .values((
            quickbooks_sync_history::organization_id.eq(org),
            quickbooks_sync_history::source.eq(s.source.as_str()),
            quickbooks_sync_history::received_at.eq(s.now),
            quickbooks_sync_history::from_month.eq(from.to_string()),
            quickbooks_sync_history::to_month.eq(to.to_string()),
            quickbooks_sync_history::report.eq(report),
            quickbooks_sync_history::raw.eq(s.raw),
            quickbooks_sync_history::active_employees.eq(s
                .active_employees
                .map(|n| i32::try_from(n).unwrap_or(i32::MAX))),
            quickbooks_sync_history::closing_date.eq(s.closing_date),
            quickbooks_sync_history::unreconciled.eq(unreconciled),
            quickbooks_sync_history::collection_run_id.eq(s.run_id),
        ))
        .returning(quickbooks_sync_history::id)
        .get_result(conn)
        .await
}

/// A report as kept.
#[derive(Debug, Clone)]
pub struct StoredSync {
    pub id: i64,
    pub source: Source,
    pub received_at: DateTime<Utc>,
    pub report: PnlReport,
    pub closing_date: Option<NaiveDate>,
    pub unreconciled: Vec<Unreconciled>,
}

type SyncColumns = (
    i64,
    String,
    DateTime<Utc>,
    serde_json::Value,
    Option<NaiveDate>,
    serde_json::Value,
);

/// The organization's reports, newest first (at most `limit`).
pub async fn syncs(
    conn: &mut AsyncPgConnection,
    org: i32,
    limit: i64,
) -> QueryResult<Vec<StoredSync>> {
    let rows: Vec<SyncColumns> = quickbooks_sync_history::table
        .filter(quickbooks_sync_history::organization_id.eq(org))
        .order(quickbooks_sync_history::id.desc())
        .limit(limit)
        .select((
            quickbooks_sync_history::id,
            quickbooks_sync_history::source,
            quickbooks_sync_history::received_at,
            quickbooks_sync_history::report,
            quickbooks_sync_history::closing_date,
            quickbooks_sync_history::unreconciled,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, source, received_at, report, closing_date, unrec)| {
            Some(StoredSync {
                id,
                source: Source::parse(&source)?,
                received_at,
                report: serde_json::from_value(report).ok()?,
                closing_date,
                unreconciled: serde_json::from_value(unrec).unwrap_or_default(),
            })
        })
        .collect())
}

/// A Web Connector session, as stored.
#[derive(Debug, Clone, Queryable)]
pub struct QbwcSession {
    pub organization_id: i32,
    pub username: String,
    pub last_seen_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub requests: serde_json::Value,
    pub answers: serde_json::Value,
    pub last_error: Option<String>,
}

pub async fn open_session(
    conn: &mut AsyncPgConnection,
    ticket_hash: &[u8],
    org: i32,
    username: &str,
    requests: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(qbwc_sessions::table)
        .values((
            qbwc_sessions::ticket_hash.eq(ticket_hash),
            qbwc_sessions::organization_id.eq(org),
            qbwc_sessions::username.eq(username),
            qbwc_sessions::requests.eq(requests),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The organization of the Web Connector session of `ticket_hash`, found before any
/// organization is entered (a SECURITY DEFINER function: row-level security would hide
/// the row); `None` when no session has that ticket.
pub async fn session_organization(
    conn: &mut AsyncPgConnection,
    ticket_hash: &[u8],
) -> QueryResult<Option<i32>> {
    diesel::select(qbr_qbwc_session_organization(ticket_hash))
        .get_result(conn)
        .await
}

diesel::define_sql_function! {
    /// The migration `row_level_security`'s look-up of a session's organization.
    fn qbr_qbwc_session_organization(ticket_hash: diesel::sql_types::Bytea) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

pub async fn session(
    conn: &mut AsyncPgConnection,
    ticket_hash: &[u8],
) -> QueryResult<Option<QbwcSession>> {
    qbwc_sessions::table
        .filter(qbwc_sessions::ticket_hash.eq(ticket_hash))
        .select((
            qbwc_sessions::organization_id,
            qbwc_sessions::username,
            qbwc_sessions::last_seen_at,
            qbwc_sessions::closed_at,
            qbwc_sessions::requests,
            qbwc_sessions::answers,
            qbwc_sessions::last_error,
        ))
        .first(conn)
        .await
        .optional()
}

/// Records what a call changed in a session (and that it is alive).
pub struct SessionUpdate<'a> {
    pub company_file: Option<&'a str>,
    pub answers: Option<serde_json::Value>,
    pub last_error: Option<Option<&'a str>>,
    pub close: bool,
}

pub async fn update_session(
    conn: &mut AsyncPgConnection,
    ticket_hash: &[u8],
    u: SessionUpdate<'_>,
) -> QueryResult<()> {
    let this = qbwc_sessions::table.filter(qbwc_sessions::ticket_hash.eq(ticket_hash));
    diesel::update(this)
        .set(qbwc_sessions::last_seen_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    if let Some(file) = u.company_file {
        diesel::update(this)
            .set(qbwc_sessions::company_file.eq(file))
            .execute(conn)
            .await?;
    }
    if let Some(answers) = u.answers {
        diesel::update(this)
            .set(qbwc_sessions::answers.eq(answers))
            .execute(conn)
            .await?;
    }
    if let Some(error) = u.last_error {
        diesel::update(this)
            .set(qbwc_sessions::last_error.eq(error))
            .execute(conn)
            .await?;
    }
    if u.close {
        diesel::update(this)
            .set(qbwc_sessions::closed_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// When the Web Connector last called.
pub async fn last_session_at(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<Option<DateTime<Utc>>> {
    qbwc_sessions::table
        .filter(qbwc_sessions::organization_id.eq(org))
        .order(qbwc_sessions::last_seen_at.desc())
        .select(qbwc_sessions::last_seen_at)
        .first(conn)
        .await
        .optional()
}

/// The newest session that failed: when, and why.
pub async fn last_failure(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<Option<(DateTime<Utc>, String)>> {
    let row: Option<(DateTime<Utc>, Option<String>)> = qbwc_sessions::table
        .filter(qbwc_sessions::organization_id.eq(org))
        .filter(qbwc_sessions::last_error.is_not_null())
        .order(qbwc_sessions::last_seen_at.desc())
        .select((qbwc_sessions::last_seen_at, qbwc_sessions::last_error))
        .first(conn)
        .await
        .optional()?;
    Ok(row.and_then(|(at, e)| Some((at, e?))))
}

/// Asks for history from `from` with the next Web Connector run.
pub async fn request_backfill(
    conn: &mut AsyncPgConnection,
    org: i32,
    from: Month,
    by: &str,
) -> QueryResult<()> {
    diesel::insert_into(quickbooks_backfill::table)
        .values((
            quickbooks_backfill::organization_id.eq(org),
            quickbooks_backfill::from_month.eq(from.to_string()),
            quickbooks_backfill::requested_by.eq(by),
        ))
        .on_conflict(quickbooks_backfill::organization_id)
        .do_update()
        .set((
            quickbooks_backfill::from_month.eq(from.to_string()),
            quickbooks_backfill::requested_by.eq(by),
            quickbooks_backfill::requested_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The month history was asked from, if a request is pending.
pub async fn pending_backfill(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<Option<Month>> {
    let from: Option<String> = quickbooks_backfill::table
        .filter(quickbooks_backfill::organization_id.eq(org))
        .select(quickbooks_backfill::from_month)
        .first(conn)
        .await
        .optional()?;
    Ok(from.and_then(|m| m.parse().ok()))
}

pub async fn clear_backfill(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<()> {
    diesel::delete(quickbooks_backfill::table.filter(quickbooks_backfill::organization_id.eq(org)))
        .execute(conn)
        .await
        .map(|_| ())
}
