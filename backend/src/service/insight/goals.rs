//! Goals: the owners' target for a SmartNumber over a quarter or a year
//! (`qbr_shared::insight::goals`), where each number stands against its goal, and the
//! audited changes.
use super::smartnumber_values;
use crate::error::{AppError, AppResult};
use crate::service::Actor;
use crate::store::audit::{self, AuditEvent};
use crate::store::goals::{self as store, GoalRow};
use crate::store::lock_organization_writes;
use crate::store::numeric;
use crate::store::org::Org;
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::expr::Values;
use qbr_shared::insight::api::{GoalStanding, GoalUpdate, GoalsResponse};
use qbr_shared::insight::goals::{progress, sentence, Goal};
use qbr_shared::smartnumbers::smartnumber_def;
use qbr_shared::Period;
use std::collections::BTreeMap;

/// Every goal with where its number stands.
pub async fn list(conn: &mut AsyncPgConnection, org: &Org) -> AppResult<GoalsResponse> {
    let rows = store::all(conn, org.id).await?;
    let mut periods: Vec<Period> = Vec::new();
    for r in &rows {
        if let Ok(p) = r.period.parse::<Period>() {
            for q in [p, p.previous()] {
                if !periods.contains(&q) {
                    periods.push(q);
                }
            }
        }
    }
    let values = smartnumber_values(conn, org, &periods).await?;
    Ok(GoalsResponse {
        organization_id: org.id,
        goals: rows.iter().filter_map(|r| standing(r, &values)).collect(),
    })
}

/// A goal with its number's value for the goal's period so far and the period before.
pub fn standing(row: &GoalRow, values: &BTreeMap<String, Values>) -> Option<GoalStanding> {
    let def = smartnumber_def(&row.smartnumber)?;
    let period: Period = row.period.parse().ok()?;
    let target = numeric::to_f64(&row.target);
    let value_of = |p: &Period| {
        values
            .get(&p.to_string())
            .and_then(|v| v.get(def.key))
            .copied()
    };
    let value = value_of(&period);
    let baseline = value_of(&period.previous());
    Some(GoalStanding {
        key: def.key.to_string(),
        label: def.label.to_string(),
        unit: def.unit,
        period: period.to_string(),
        target,
        value,
        baseline,
        progress: value.and_then(|v| progress(def, target, v, baseline)),
        sentence: value.and_then(|v| sentence(def, &period, target, v)),
        set_by: row.set_by.clone(),
        set_at: row.set_at,
    })
}

/// Sets a goal (or removes it with `target: null`), checked first and audited with the
/// target it replaced.
pub async fn update(
    conn: &mut AsyncPgConnection,
    org: &Org,
    req: &GoalUpdate,
    actor: Actor<'_>,
) -> AppResult<GoalsResponse> {
    let period: Period = req.period.parse().map_err(|_| {
        AppError::invalid_body(format!(
            "period: '{}' is not a quarter (YYYY-Qn) or a year (YYYY)",
            req.period
        ))
    })?;
    let key = match req.target {
        Some(target) => {
            let goal = Goal {
                key: req.key.clone(),
                period,
                target,
            };
            goal.validate()
                .map_err(|e| AppError::invalid_body(e.to_string()))?
                .key
        }
        None => {
            smartnumber_def(&req.key)
                .ok_or_else(|| {
                    AppError::invalid_body(format!("'{}' is not a SmartNumber", req.key))
                })?
                .key
        }
    };
    let name = period.to_string();
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_organization_writes(conn, org.id).await?;
        let before = store::one(conn, org.id, key, &name).await?;
        match req.target {
            Some(target) => {
                let at = (actor.name, Utc::now());
                store::set(conn, org.id, key, &name, numeric::from_f64(target), at).await?;
            }
            None if before.is_none() => {
                return Err(AppError::not_found(format!("No goal for {key} in {name}")));
            }
            None => {
                store::remove(conn, org.id, key, &name).await?;
            }
        }
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org.id),
                actor: actor.name,
                action: AuditAction::GoalsUpdate,
                target: Some(&format!("{key} {name}")),
                details: serde_json::json!({
                    "before": before.map(|b| numeric::to_f64(&b.target)),
                    "after": req.target,
                }),
                ip: actor.ip,
            },
        )
        .await?;
        Ok(())
    })
    .await?;
    list(conn, org).await
}
