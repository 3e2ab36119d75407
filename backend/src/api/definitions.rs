//! The catalogue, the periods with data, and the audit log.
use super::response::{ok, ApiOk};
use super::{conn, organization, params};
use crate::error::AppResult;
use crate::store::{audit, metrics};
use chrono::Utc;
use qbr_shared::api::*;
use qbr_shared::catalogue::{is_input, METRICS};
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::Month;
use salvo::prelude::*;

/// Every monthly metric and SmartNumber: key, label, category, unit, source,
/// aggregation, formula, description.
#[endpoint(tags("definitions"))]
pub async fn list_metric_definitions() -> AppResult<ApiOk<MetricDefinitionsResponse>> {
    let metrics = METRICS
        .iter()
        .map(|d| MetricDefinition {
            key: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            source: d.source,
            aggregation: d.aggregation,
            formula: d.formula_text(),
            description: d.description.to_string(),
            editable: is_input(d) || d.key == qbr_shared::values::PRIOR_YEAR_AVG_EXPENSES,
            collected: d.source.is_collected(),
        })
        .collect();
    let smartnumbers = SMARTNUMBERS
        .iter()
        .map(|d| SmartNumberDefinition {
            key: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            better: d.better,
            formula: d.formula.to_text(&|k| k.to_string()),
            inputs: d.formula.inputs().iter().map(|s| s.to_string()).collect(),
        })
        .collect();
    Ok(ok(MetricDefinitionsResponse {
        metrics,
        smartnumbers,
    }))
}

/// The months, quarters and years that have data, newest first.
#[endpoint(tags("definitions"), parameters(("organization_id" = Option<i32>, Query, description = "Organization (default 1)")))]
pub async fn list_periods(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<PeriodsResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let months: Vec<Month> = metrics::months_with_data(&mut conn, org.id).await?;
    let mut quarters: Vec<String> = months.iter().map(|m| m.quarter().to_string()).collect();
    quarters.dedup();
    let mut years: Vec<String> = months.iter().map(|m| m.year().to_string()).collect();
    years.dedup();
    let current = org.current_month(Utc::now());
    Ok(ok(PeriodsResponse {
        organization_id: org.id,
        organization_name: org.name.clone(),
        current_month: current.to_string(),
        current_quarter: current.quarter().to_string(),
        months: months.iter().rev().map(Month::to_string).collect(),
        quarters: quarters.into_iter().rev().collect(),
        years: years.into_iter().rev().collect(),
    }))
}

/// Sign-ins, data changes and threshold edits, newest first.
#[endpoint(tags("audit"), parameters(("limit" = Option<i64>, Query, description = "1–1000, default 100")))]
pub async fn get_audit(req: &mut Request, depot: &mut Depot) -> AppResult<ApiOk<AuditResponse>> {
    let limit = params::int(req, "limit", 1, 1000)?.unwrap_or(100);
    let mut conn = conn(depot).await?;
    let entries = audit::latest(&mut conn, limit)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
            ip: r.ip,
        })
        .collect();
    Ok(ok(AuditResponse { entries }))
}
