//! `GET /api/qbr/health-score`: the business health score of every month and quarter of
//! a range (`qbr_shared::insight::health`), from the stored SmartNumbers, the
//! organization's bands and its section weights.
use super::smartnumber_values;
use crate::error::{AppError, AppResult};
use crate::service::settings::weights_of;
use crate::store::org::Org;
use crate::store::{goals as store, thresholds};
use diesel_async::AsyncPgConnection;
use qbr_shared::expr::Values;
use qbr_shared::insight::api::{HealthScoreResponse, PeriodHealth};
use qbr_shared::insight::health::{health_score, HealthScore, HealthWeights, DEFINITION};
use qbr_shared::thresholds::Bands;
use qbr_shared::{Month, Period, Quarter};
use std::collections::BTreeMap;

/// Most months one answer covers (with their quarters).
pub const MAX_MONTHS: usize = 60;

/// What scoring a period needs.
pub struct Scorer {
    pub weights: HealthWeights,
    pub bands: BTreeMap<String, Bands>,
}

impl Scorer {
    pub async fn load(conn: &mut AsyncPgConnection, org: i32) -> AppResult<Scorer> {
        Ok(Scorer {
            weights: weights_of(store::health_weights(conn, org).await?),
            bands: thresholds::bands_by_key(conn, org).await?,
        })
    }

    /// The score of `period` from its SmartNumbers' values.
    pub fn score(&self, period: &Period, values: Option<&Values>) -> HealthScore {
        let empty = Values::new();
        health_score(period, values.unwrap_or(&empty), &self.bands, &self.weights)
    }
}

/// The health score of every month and quarter touching `from..=to`.
pub async fn range(
    conn: &mut AsyncPgConnection,
    org: &Org,
    from: Month,
    to: Month,
) -> AppResult<HealthScoreResponse> {
    let months = Month::range(from, to, MAX_MONTHS)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let mut quarters: Vec<Quarter> = months.iter().map(|m| m.quarter()).collect();
    quarters.dedup();
    let periods: Vec<Period> = months
        .iter()
        .map(|m| Period::Month(*m))
        .chain(quarters.iter().map(|q| Period::Quarter(*q)))
        .collect();
    let values = smartnumber_values(conn, org, &periods).await?;
    let scorer = Scorer::load(conn, org.id).await?;
    let scored = |p: &Period| PeriodHealth {
        period: p.to_string(),
        health: scorer.score(p, values.get(&p.to_string())),
    };
    let (month_periods, quarter_periods) = periods.split_at(months.len());
    Ok(HealthScoreResponse {
        organization_id: org.id,
        weights: scorer.weights,
        definition: DEFINITION.to_string(),
        months: month_periods.iter().map(scored).collect(),
        quarters: quarter_periods.iter().map(scored).collect(),
    })
}
