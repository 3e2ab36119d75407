//! Threshold bands per SmartNumber and organization.
use super::numeric::{opt_from_f64, opt_to_f64};
use crate::schema::qbr_thresholds;
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::thresholds::Bands;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_thresholds)]
pub struct ThresholdRow {
    pub metric_name: String,
    pub green_min: Option<BigDecimal>,
    pub green_max: Option<BigDecimal>,
    pub yellow_min: Option<BigDecimal>,
    pub yellow_max: Option<BigDecimal>,
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ThresholdRow {
    pub fn bands(&self) -> Bands {
        Bands {
            green_min: opt_to_f64(&self.green_min),
            green_max: opt_to_f64(&self.green_max),
            yellow_min: opt_to_f64(&self.yellow_min),
            yellow_max: opt_to_f64(&self.yellow_max),
        }
    }
}

pub async fn all(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<ThresholdRow>> {
    qbr_thresholds::table
        .filter(qbr_thresholds::organization_id.eq(org))
        .select(ThresholdRow::as_select())
        .order(qbr_thresholds::metric_name)
        .load(conn)
        .await
}

/// The bands by SmartNumber key.
pub async fn bands_by_key(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<BTreeMap<String, Bands>> {
    Ok(all(conn, org)
        .await?
        .into_iter()
        .map(|r| (r.metric_name.clone(), r.bands()))
        .collect())
}

/// Creates or replaces one threshold; returns the previous bands, if any.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    org: i32,
    key: &str,
    bands: &Bands,
    actor: &str,
) -> QueryResult<Option<Bands>> {
    let previous: Option<ThresholdRow> = qbr_thresholds::table
        .filter(qbr_thresholds::organization_id.eq(org))
        .filter(qbr_thresholds::metric_name.eq(key))
        .select(ThresholdRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let now = Utc::now();
    let values = (
        qbr_thresholds::green_min.eq(opt_from_f64(bands.green_min)),
        qbr_thresholds::green_max.eq(opt_from_f64(bands.green_max)),
        qbr_thresholds::yellow_min.eq(opt_from_f64(bands.yellow_min)),
        qbr_thresholds::yellow_max.eq(opt_from_f64(bands.yellow_max)),
        qbr_thresholds::updated_by.eq(actor),
        qbr_thresholds::updated_at.eq(now),
    );
    diesel::insert_into(qbr_thresholds::table)
        .values((
            qbr_thresholds::organization_id.eq(org),
            qbr_thresholds::metric_name.eq(key),
            values.clone(),
        ))
        .on_conflict((qbr_thresholds::organization_id, qbr_thresholds::metric_name))
        .do_update()
        .set(values)
        .execute(conn)
        .await?;
    Ok(previous.map(|p| p.bands()))
}
