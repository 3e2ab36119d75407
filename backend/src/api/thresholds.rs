//! Threshold bands: read all, create or update one or many.
use super::response::{ok, ApiOk};
use super::{actor, client_ip, conn, organization, params};
use crate::error::{AppError, AppResult};
use crate::store::{audit, thresholds as store};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::api::{Threshold, ThresholdInput, ThresholdsResponse, ThresholdsUpdateRequest};
use qbr_shared::smartnumbers::{smartnumber_def, SMARTNUMBERS};
use qbr_shared::thresholds::Bands;
use qbr_shared::ErrorCode;
use salvo::prelude::*;

async fn all_thresholds(conn: &mut AsyncPgConnection, org: i32) -> AppResult<ThresholdsResponse> {
    let rows = store::all(conn, org).await?;
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
        organization_id: org,
        thresholds,
    })
}

/// Every SmartNumber's bands (open ends and numbers without a threshold are null).
#[endpoint(tags("thresholds"), parameters(("organization_id" = Option<i32>, Query, description = "Organization (default 1)")))]
pub async fn get_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ThresholdsResponse>> {
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    Ok(ok(all_thresholds(&mut conn, org.id).await?))
}

/// Accepts `{"thresholds": [...]}` or a single threshold object.
fn parse_update(body: serde_json::Value) -> AppResult<Vec<ThresholdInput>> {
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

/// Creates or updates thresholds; all are validated (green inside yellow) before any
/// is written, and every change is audited.
#[endpoint(tags("thresholds"), request_body = ThresholdsUpdateRequest)]
pub async fn post_thresholds(
    req: &mut Request,
    depot: &mut Depot,
) -> AppResult<ApiOk<ThresholdsResponse>> {
    let body: serde_json::Value = params::json_body(req).await?;
    let items = parse_update(body)?;
    let actor = actor(depot);
    let mut conn = conn(depot).await?;
    let org = organization(req, depot, &mut conn).await?;
    let ip = client_ip(req);
    conn.transaction::<_, AppError, _>(async |conn| {
        for t in &items {
            let previous: Option<Bands> =
                store::upsert(conn, org.id, &t.metric_name, &t.bands, &actor).await?;
            audit::record(
                conn,
                audit::AuditEvent {
                    organization_id: Some(org.id),
                    actor: &actor,
                    action: "thresholds.update",
                    target: Some(&t.metric_name),
                    details: serde_json::json!({"before": previous, "after": t.bands}),
                    ip: ip.as_deref(),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    Ok(ok(all_thresholds(&mut conn, org.id).await?))
}
