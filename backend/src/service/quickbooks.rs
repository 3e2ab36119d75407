//! QuickBooks as the API and the CLI see it: the accounts with their mappings, a
//! mapping change (checked whole, then stored and replayed over the stored reports),
//! the status of the syncs, and a request for more history.
use super::Actor;
use crate::collect::quickbooks::sync;
use crate::collect::quickbooks::QuickBooksSettings;
use crate::collect::run::RunError;
use crate::db::{tenant, DbPool};
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::org::Org;
use crate::store::quickbooks::{self as store, StoredSync};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::quickbooks::api::{
    MappingChange, MappingsUpdateResponse, QuickBooksAccount, QuickBooksAccountsResponse,
    QuickBooksStatus, QuickBooksSync,
};
use qbr_shared::quickbooks::{map_report, resolve, Mapping, Section, Target, MAPPABLE_METRICS};
use qbr_shared::{text, ErrorCode, Month};
use std::collections::BTreeMap;

/// Reports the status lists.
const STATUS_SYNCS: i64 = 10;

/// Every account QuickBooks reported, with its mapping and its amount in the newest
/// report's last month.
pub async fn accounts(
    conn: &mut AsyncPgConnection,
    org: &Org,
) -> AppResult<QuickBooksAccountsResponse> {
    let rows = store::accounts(conn, org.id).await?;
    let mappings = store::mappings(conn, org.id).await?;
    let newest = store::syncs(conn, org.id, 1).await?.into_iter().next();
    let accounts = rows
        .into_iter()
        .filter_map(|row| {
            let section = Section::parse(&row.section)?;
            let (target, mapped_by) = resolve(&row.full_name, section, &mappings);
            let (last_month, last_month_amount) = last_amount(newest.as_ref(), &row.full_name);
            Some(QuickBooksAccount {
                reason: mappings.get(&row.full_name).and_then(|m| m.reason.clone()),
                full_name: row.full_name,
                section,
                target: target.map(|t| t.as_str().to_string()),
                mapped_by,
                last_month,
                last_month_amount,
                first_seen_at: row.first_seen_at,
                last_seen_at: row.last_seen_at,
            })
        })
        .collect();
    let mut targets: Vec<String> = MAPPABLE_METRICS.iter().map(|m| m.to_string()).collect();
    targets.push(Target::Ignore.as_str().to_string());
    Ok(QuickBooksAccountsResponse {
        organization_id: org.id,
        accounts,
        targets,
    })
}

/// The newest report's last month and `account`'s own amount in it.
fn last_amount(newest: Option<&StoredSync>, account: &str) -> (Option<String>, Option<f64>) {
    let Some(sync) = newest else {
        return (None, None);
    };
    let Some(last) = sync.report.months.len().checked_sub(1) else {
        return (None, None);
    };
    let amount = sync
        .report
        .accounts
        .iter()
        .find(|a| a.full_name == account)
        .and_then(|a| a.amounts.get(last).copied());
    (sync.report.months.get(last).map(Month::to_string), amount)
}

/// Checks every change before anything is written: a known account (or a parent of
/// one), a mappable metric or `ignore`, text within its rules.
fn validate(
    changes: &[MappingChange],
    known: &[String],
) -> AppResult<Vec<(String, Option<Mapping>)>> {
    if changes.is_empty() {
        return Err(AppError::invalid_body(
            "mappings must name at least one account",
        ));
    }
    let mut out: Vec<(String, Option<Mapping>)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let at = |m: String| AppError::invalid_body(format!("mappings[{i}]: {m}"));
        let account = c.account.trim();
        text::check_field("account", account, text::ACCOUNT).map_err(at)?;
        let is_known = known
            .iter()
            .any(|k| k == account || k.starts_with(&format!("{account}:")));
        if !is_known {
            return Err(AppError::new(
                ErrorCode::NotFound,
                format!("mappings[{i}]: QuickBooks has reported no account '{account}'"),
            ));
        }
        if out.iter().any(|(a, _)| a == account) {
            return Err(at(format!("'{account}' appears twice")));
        }
        let reason = c.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            text::check_field("reason", r, text::REASON).map_err(at)?;
        }
        let mapping = match c.metric.as_deref() {
            None => None,
            Some(word) => {
                let target = Target::parse(word).ok_or_else(|| {
                    at(format!(
                        "'{word}' is not a metric an account can feed ({}) nor ignore",
                        MAPPABLE_METRICS.join(", ")
                    ))
                })?;
                if target == Target::Ignore && reason.is_none() {
                    return Err(at("an ignored account needs a reason".into()));
                }
                Some(Mapping {
                    target,
                    reason: reason.map(str::to_string),
                })
            }
        };
        out.push((account.to_string(), mapping));
    }
    Ok(out)
}

/// Changes mappings (all or nothing), records it in the audit log, and maps the stored
/// reports again. If the replay fails, the mappings are put back as they were.
pub async fn update_mappings(
    pool: &DbPool,
    org: &Org,
    changes: &[MappingChange],
    actor: Actor<'_>,
) -> AppResult<MappingsUpdateResponse> {
    let mut conn = tenant::checkout(pool, org.id).await?;
    let known: Vec<String> = store::accounts(&mut conn, org.id)
        .await?
        .into_iter()
        .map(|a| a.full_name)
        .collect();
    let checked = validate(changes, &known)?;
    let previous = store::mappings(&mut conn, org.id).await?;
    let details = serde_json::json!({
        "mappings": checked.iter().map(|(a, m)| serde_json::json!({
            "account": a,
            "metric": m.as_ref().map(|m| m.target.as_str()),
        })).collect::<Vec<_>>(),
    });
    conn.transaction::<_, diesel::result::Error, _>(async |tx| {
        tenant::enter_local(tx, org.id).await?;
        store::set_mappings(tx, org.id, &checked, actor.name).await?;
        let event = AuditEvent {
            organization_id: Some(org.id),
            actor: actor.name,
            action: AuditAction::QuickBooksMappings,
            target: None,
            details,
            ip: actor.ip,
        };
        audit::record(tx, event).await
    })
    .await?;
    drop(conn);
    match sync::replay(pool, org, &previous).await {
        Ok(report) => Ok(MappingsUpdateResponse {
            changed: u32::try_from(checked.len()).unwrap_or(u32::MAX),
            remapped_months: report
                .as_ref()
                .map(|r| r.months.iter().map(Month::to_string).collect())
                .unwrap_or_default(),
            values_written: report.map_or(0, |r| r.values_written),
        }),
        Err(e) => {
            restore(pool, org, &checked, &previous, actor.name).await?;
            Err(replay_failed(e))
        }
    }
}

/// Puts back the mappings `changed` had before.
async fn restore(
    pool: &DbPool,
    org: &Org,
    changed: &[(String, Option<Mapping>)],
    previous: &BTreeMap<String, Mapping>,
    by: &str,
) -> AppResult<()> {
    let back: Vec<(String, Option<Mapping>)> = changed
        .iter()
        .map(|(a, _)| (a.clone(), previous.get(a).cloned()))
        .collect();
    let mut conn = tenant::checkout(pool, org.id).await?;
    store::set_mappings(&mut conn, org.id, &back, by).await?;
    Ok(())
}

fn replay_failed(e: RunError) -> AppError {
    match e {
        RunError::Refused => AppError::conflict(
            "A collection run is in progress; the mappings were not changed. Try again when it has finished",
        ),
        RunError::Failed(cause) => AppError::internal(cause),
        // A replay has no one to cancel it.
        RunError::Cancelled => AppError::internal(anyhow::anyhow!("replay cancelled")),
    }
}

/// The Web Connector's setup and the newest syncs.
pub async fn status(
    conn: &mut AsyncPgConnection,
    org: &Org,
    settings: &QuickBooksSettings,
) -> AppResult<QuickBooksStatus> {
    let syncs = store::syncs(conn, org.id, STATUS_SYNCS).await?;
    let mappings = store::mappings(conn, org.id).await?;
    let unmapped_accounts = syncs
        .first()
        .map(|s| {
            map_report(&s.report, &mappings)
                .unreconciled
                .into_iter()
                .flat_map(|u| u.unmapped_accounts)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    // A failure is news until a later sync succeeded.
    let newest_sync = syncs.first().map(|s| s.received_at);
    let failure = store::last_failure(conn, org.id)
        .await?
        .filter(|(at, _)| newest_sync.is_none_or(|ok| *at > ok));
    let online = crate::store::quickbooks_online::summary(conn, org.id).await?;
    Ok(QuickBooksStatus {
        organization_id: org.id,
        web_connector_configured: settings.web_connector.is_some(),
        web_connector_username: settings.web_connector.as_ref().map(|l| l.username.clone()),
        last_session_at: store::last_session_at(conn, org.id).await?,
        last_error: failure.map(|(_, e)| e),
        syncs: syncs.iter().map(summary).collect(),
        unmapped_accounts,
        backfill_from: store::pending_backfill(conn, org.id)
            .await?
            .map(|m| m.to_string()),
        online_configured: settings.online.is_some(),
        online_connected: online.is_some(),
        online_realm_id: online.as_ref().map(|c| c.realm_id.clone()),
        online_last_error: online.and_then(|c| c.last_error),
    })
}

fn summary(s: &StoredSync) -> QuickBooksSync {
    QuickBooksSync {
        id: s.id,
        source: s.source.as_str().to_string(),
        received_at: s.received_at,
        from_month: s
            .report
            .months
            .first()
            .map(Month::to_string)
            .unwrap_or_default(),
        to_month: s
            .report
            .months
            .last()
            .map(Month::to_string)
            .unwrap_or_default(),
        months: s.report.months.len(),
        unreconciled: s.unreconciled.clone(),
    }
}

/// Asks the next Web Connector run for history from `from` (at most 10 years back).
pub async fn request_backfill(
    conn: &mut AsyncPgConnection,
    org: &Org,
    from: &str,
    actor: Actor<'_>,
) -> AppResult<Month> {
    let month: Month = from
        .trim()
        .parse()
        .map_err(|e| AppError::new(ErrorCode::InvalidPeriod, format!("from: {e}")))?;
    let current = org.current_month(chrono::Utc::now());
    if month > current || month < current.add_months(-120) {
        return Err(AppError::new(
            ErrorCode::InvalidPeriod,
            format!(
                "from must be a month from {} to {current}",
                current.add_months(-120)
            ),
        ));
    }
    conn.transaction::<_, diesel::result::Error, _>(async |tx| {
        tenant::enter_local(tx, org.id).await?;
        store::request_backfill(tx, org.id, month, actor.name).await?;
        let event = AuditEvent {
            organization_id: Some(org.id),
            actor: actor.name,
            action: AuditAction::QuickBooksBackfill,
            target: Some(&month.to_string()),
            details: serde_json::json!({}),
            ip: actor.ip,
        };
        audit::record(tx, event).await
    })
    .await?;
    Ok(month)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(account: &str, metric: Option<&str>, reason: Option<&str>) -> MappingChange {
        MappingChange {
            account: account.into(),
            metric: metric.map(str::to_string),
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn changes_are_checked_whole() {
        let known = vec![
            "Income:Managed Services".to_string(),
            "Grant Income".to_string(),
        ];
        assert!(validate(&[change("Grant Income", Some("mrr"), None)], &known).is_ok());
        assert!(
            validate(&[change("Income", Some("orr"), None)], &known).is_ok(),
            "a parent"
        );
        let err = |c: Vec<MappingChange>| validate(&c, &known).err().map(|e| e.code);
        assert_eq!(
            err(vec![change("Nope", Some("mrr"), None)]),
            Some(ErrorCode::NotFound)
        );
        assert_eq!(
            err(vec![change("Grant Income", Some("total_revenue"), None)]),
            Some(ErrorCode::InvalidBody)
        );
        assert_eq!(
            err(vec![change("Grant Income", Some("ignore"), None)]),
            Some(ErrorCode::InvalidBody),
            "ignoring needs a reason"
        );
        assert_eq!(
            err(vec![
                change("Grant Income", None, None),
                change("Grant Income", Some("mrr"), None)
            ]),
            Some(ErrorCode::InvalidBody)
        );
        assert_eq!(err(vec![]), Some(ErrorCode::InvalidBody));
        assert_eq!(
            err(vec![change("Grant\u{0}Income", Some("mrr"), None)]),
            Some(ErrorCode::InvalidBody)
        );
    }
}
