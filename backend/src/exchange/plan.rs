//! Comparing a file with the store (what each value would do: created, changed,
//! unchanged, skipped; totals that disagree) and applying it, all or nothing.
use super::file::{issue, ParsedFile};
use super::ExchangeError;
use crate::store::audit::{self, AuditEvent};
use crate::store::metrics::{self as store, ValueWrite, WriteOutcome};
use crate::store::org::Org;
use crate::store::{lock_organization_writes, recompute};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{DataSource, ImportAction, ImportCell, ImportIssue, ImportResponse};
use qbr_shared::catalogue::{MetricDef, Unit};
use qbr_shared::vendor::MANUAL_VENDOR_ID;
use qbr_shared::Month;
use std::collections::{BTreeSet, HashMap};

/// Most validation errors listed in one answer.
const MAX_LISTED_ERRORS: usize = 50;

/// A planned write with the existing notes (kept when the file has none).
struct Planned {
    cell: ImportCell,
    def: &'static MetricDef,
    month: Month,
    notes: Option<String>,
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Compares a file with the store: what each value would do, and the totals that differ.
async fn plan(
    conn: &mut AsyncPgConnection,
    org: i32,
    parsed: &ParsedFile,
    overwrite: bool,
) -> Result<(Vec<Planned>, Vec<ImportIssue>), ExchangeError> {
    let months: Vec<Month> = parsed
        .inputs
        .iter()
        .chain(parsed.derived.iter())
        .map(|v| v.month)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = store::rows_for_months(conn, org, &months).await?;
    let existing: HashMap<(String, String), &store::MetricRow> = rows
        .iter()
        .map(|r| ((r.period.clone(), r.metric_name.clone()), r))
        .collect();
    let mut planned = Vec::new();
    for v in &parsed.inputs {
        let old = existing.get(&(v.month.to_string(), v.def.key.to_string()));
        let notes = v
            .notes
            .clone()
            .or_else(|| old.and_then(|o| o.notes.clone()));
        let action = match old {
            None => ImportAction::Created,
            Some(o) if same(o.value(), v.value) && o.notes == notes => ImportAction::Unchanged,
            Some(o)
                if !overwrite
                    && matches!(o.source(), DataSource::Collected | DataSource::Manual) =>
            {
                ImportAction::Skipped
            }
            Some(_) => ImportAction::Changed,
        };
        planned.push(Planned {
            cell: ImportCell {
                period: v.month.to_string(),
                metric_name: v.def.key.to_string(),
                action,
                old_value: old.map(|o| o.value()),
                old_source: old.map(|o| o.source()),
                new_value: v.value,
                notes: v.notes.clone(),
                sheet: v.sheet.clone(),
                row: v.row,
                column: v.column.clone(),
            },
            def: v.def,
            month: v.month,
            notes,
        });
    }
    // Derived rows: compare with the values computed from the month's inputs (stored,
    // overlaid with the file's).
    let mut inputs = store::inputs_by_month(&rows);
    for v in &parsed.inputs {
        inputs
            .entry(v.month)
            .or_default()
            .insert(v.def.key.to_string(), v.value);
    }
    let mut mismatches = Vec::new();
    for v in &parsed.derived {
        let Some(month_inputs) = inputs.get(&v.month) else {
            continue;
        };
        let computed = recompute::period_values(&[month_inputs], None);
        let Some(c) = computed.get(v.def.key).copied() else {
            continue;
        };
        let tolerance = if v.def.unit == Unit::Usd { 0.5 } else { 1e-4 };
        if (c - v.value).abs() > tolerance {
            mismatches.push(issue(
                &v.sheet,
                v.row,
                Some(v.column.clone()),
                format!(
                    "{} for {}: the file has {}, the values give {}",
                    v.def.label, v.month, v.value, c
                ),
            ));
        }
    }
    Ok((planned, mismatches))
}

fn errors_message(errors: &[ImportIssue]) -> String {
    let listed: Vec<String> = errors
        .iter()
        .take(MAX_LISTED_ERRORS)
        .map(|e| {
            let mut at = Vec::new();
            if !e.sheet.is_empty() {
                at.push(format!("sheet {}", e.sheet));
            }
            if e.row > 0 {
                at.push(format!("row {}", e.row));
            }
            if let Some(c) = &e.column {
                at.push(format!("column {c}"));
            }
            if at.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", at.join(", "), e.message)
            }
        })
        .collect();
    let more = errors.len().saturating_sub(MAX_LISTED_ERRORS);
    let tail = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    format!(
        "The file has {} error(s); nothing was imported: {}{tail}",
        errors.len(),
        listed.join("; ")
    )
}

/// Who imports, from where, and how.
#[derive(Clone, Copy, Debug)]
pub struct ImportOptions<'a> {
    /// Replace collected and manual values too.
    pub overwrite: bool,
    /// Apply (all or nothing) instead of previewing.
    pub commit: bool,
    pub actor: &'a str,
    pub ip: Option<&'a str>,
}

/// Previews (`commit` false) or applies (`commit` true, all or nothing) an import.
/// Any validation error fails with [`ExchangeError::Invalid`] listing them, writing
/// nothing.
pub async fn import(
    conn: &mut AsyncPgConnection,
    org: &Org,
    parsed: &ParsedFile,
    options: ImportOptions<'_>,
) -> Result<ImportResponse, ExchangeError> {
    if !parsed.errors.is_empty() {
        return Err(ExchangeError::Invalid(errors_message(&parsed.errors)));
    }
    if parsed.inputs.is_empty() && parsed.derived.is_empty() {
        return Err(ExchangeError::Invalid("The file holds no values".into()));
    }
    let (planned, mismatches, periods) = if options.commit {
        conn.transaction::<_, ExchangeError, _>(async |conn| {
            commit(conn, org, parsed, options).await
        })
        .await?
    } else {
        let (planned, mismatches) = plan(conn, org.id, parsed, options.overwrite).await?;
        (planned, mismatches, Vec::new())
    };
    let count = |a: ImportAction| planned.iter().filter(|p| p.cell.action == a).count() as u32;
    Ok(ImportResponse {
        organization_id: org.id,
        format: parsed.format.to_string(),
        committed: options.commit,
        overwrite: options.overwrite,
        created_count: count(ImportAction::Created),
        changed_count: count(ImportAction::Changed),
        unchanged_count: count(ImportAction::Unchanged),
        skipped_count: count(ImportAction::Skipped),
        cells: planned.into_iter().map(|p| p.cell).collect(),
        total_mismatches: mismatches,
        recomputed_periods: periods,
    })
}

/// Inside the import's transaction: plans under the organization's write lock, writes
/// what is created or changed, recomputes, and records the import in the audit log.
async fn commit(
    conn: &mut AsyncPgConnection,
    org: &Org,
    parsed: &ParsedFile,
    options: ImportOptions<'_>,
) -> Result<(Vec<Planned>, Vec<ImportIssue>, Vec<String>), ExchangeError> {
    lock_organization_writes(conn, org.id).await?;
    let (planned, mismatches) = plan(conn, org.id, parsed, options.overwrite).await?;
    let mut changed = BTreeSet::new();
    for p in planned
        .iter()
        .filter(|p| matches!(p.cell.action, ImportAction::Created | ImportAction::Changed))
    {
        let w = ValueWrite {
            metric: p.def.key,
            value: p.cell.new_value,
            vendor_id: MANUAL_VENDOR_ID,
            source: DataSource::Imported,
            flags: Vec::new(),
            notes: p.notes.as_deref(),
            actor: options.actor,
            collected_at: None,
        };
        if store::write_value(conn, org.id, p.month, &w).await? != WriteOutcome::Unchanged {
            changed.insert(p.month);
        }
    }
    let periods = if changed.is_empty() {
        Vec::new()
    } else {
        recompute::after_inputs_changed(conn, org, &changed, Utc::now()).await?
    };
    let count = |a: ImportAction| planned.iter().filter(|p| p.cell.action == a).count();
    let details = serde_json::json!({
        "created": count(ImportAction::Created),
        "changed": count(ImportAction::Changed),
        "unchanged": count(ImportAction::Unchanged),
        "skipped": count(ImportAction::Skipped),
        "overwrite": options.overwrite,
        "months": changed.iter().map(Month::to_string).collect::<Vec<_>>(),
    });
    let event = AuditEvent {
        organization_id: Some(org.id),
        actor: options.actor,
        action: AuditAction::Import,
        target: Some(parsed.format),
        details,
        ip: options.ip,
    };
    audit::record(conn, event).await?;
    Ok((planned, mismatches, periods))
}
