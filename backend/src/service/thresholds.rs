//! Threshold bands: read all, create or update one or many (validated first, audited).
use super::{encode, Actor, Answer};
use crate::cache::Caches;
use crate::db::tenant;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::org::Org;
use crate::store::thresholds as store;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{Threshold, ThresholdInput, ThresholdsResponse, ThresholdsUpdateRequest};
use qbr_shared::smartnumbers::{smartnumber_def, SMARTNUMBERS};
use qbr_shared::ErrorCode;

/// Every SmartNumber's bands, from the cache while the organization's data holds.
pub async fn cached(
    conn: &mut AsyncPgConnection,
    caches: &Caches,
    org: &Org,
) -> AppResult<Answer<ThresholdsResponse>> {
    caches
        .thresholds
        .get_or_build(org.id, org.data_version, || async {
            encode(all(conn, org).await?)
        })
        .await
}

/// Every SmartNumber's bands (open ends and numbers without a threshold are null).
pub async fn all(conn: &mut AsyncPgConnection, org: &Org) -> AppResult<ThresholdsResponse> {
    let rows = store::all(conn, org.id).await?;
    let thresholds = SMARTNUMBERS
        .iter()
        .map(|d| {
            let row = rows.iter().find(|r| r.metric_name == d.key);
            Threshold {
                metric_name: d.key.to_string(),
                label: d.label.to_string(),
                bands: row.map(store::ThresholdRow::bands).unwrap_or_default(),
                updated_by: row.and_then(|r| r.updated_by.clone()),
                updated_at: row.map(|r| r.updated_at),
            }
        })
        .collect();
    Ok(ThresholdsResponse {
        organization_id: org.id,
        thresholds,
    })
}

/// Reads `{"thresholds": [...]}` or a single threshold object and validates every
/// threshold (known number, green inside yellow, no duplicates).
pub fn parse_update(body: serde_json::Value) -> AppResult<Vec<ThresholdInput>> {
    let parsed = if body.get("thresholds").is_some() {
        serde_json::from_value::<ThresholdsUpdateRequest>(body).map(|r| r.thresholds)
    } else {
        serde_json::from_value::<ThresholdInput>(body).map(|t| vec![t])
    };
    let items = parsed.map_err(|e| AppError::invalid_body(format!("Invalid threshold: {e}")))?;
    if items.is_empty() {
        return Err(AppError::invalid_body(
            "thresholds must contain at least one threshold",
        ));
    }
    for (i, t) in items.iter().enumerate() {
        if smartnumber_def(&t.metric_name).is_none() {
            return Err(AppError::new(
                ErrorCode::UnknownMetric,
                format!("thresholds[{i}]: unknown SmartNumber '{}'", t.metric_name),
            ));
        }
        t.bands.validate().map_err(|e| {
            AppError::invalid_body(format!("thresholds[{i}] ({}): {e}", t.metric_name))
        })?;
        if items[..i].iter().any(|o| o.metric_name == t.metric_name) {
            return Err(AppError::invalid_body(format!(
                "thresholds[{i}]: {} appears twice",
                t.metric_name
            )));
        }
    }
    Ok(items)
}

/// Creates or updates validated thresholds in one transaction, each change audited;
/// answers every threshold as it now stands.
pub async fn update(
    conn: &mut AsyncPgConnection,
    org: &Org,
    actor: Actor<'_>,
    items: &[ThresholdInput],
) -> AppResult<ThresholdsResponse> {
    conn.transaction::<_, AppError, _>(async |conn| {
        tenant::enter_local(conn, org.id).await?;
        for t in items {
            let previous =
                store::upsert(conn, org.id, &t.metric_name, &t.bands, actor.name).await?;
            audit::record(
                conn,
                AuditEvent {
                    organization_id: Some(org.id),
                    actor: actor.name,
                    action: AuditAction::ThresholdsUpdate,
                    target: Some(&t.metric_name),
                    details: serde_json::json!({"before": previous, "after": t.bands}),
                    ip: actor.ip,
                },
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    all(conn, org).await
}
