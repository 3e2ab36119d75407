//! Stored SmartNumbers per period.
use super::numeric::{from_f64, opt_to_f64, storable, KPI_LIMIT};
use crate::schema::qbr_smartnumbers;
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::smartnumbers::Computed;

/// A stored SmartNumber.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = qbr_smartnumbers)]
pub struct SmartNumberRow {
    pub period: String,
    pub kpi_name: String,
    pub kpi_value: Option<BigDecimal>,
    pub missing_inputs: Vec<String>,
    pub null_reason: Option<String>,
    pub months_counted: i32,
    pub calculated_at: DateTime<Utc>,
}

impl SmartNumberRow {
    pub fn value(&self) -> Option<f64> {
        opt_to_f64(&self.kpi_value)
    }
}

/// Replaces the 18 numbers of a period.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    org: i32,
    period: &str,
    months_counted: u32,
    computed: &[Computed],
) -> QueryResult<()> {
    let now = Utc::now();
    let rows: Vec<_> = computed
        .iter()
        .map(|c| {
            (
                qbr_smartnumbers::organization_id.eq(org),
                qbr_smartnumbers::period.eq(period),
                qbr_smartnumbers::kpi_name.eq(c.key),
                qbr_smartnumbers::kpi_value
                    .eq(c.value.and_then(|v| storable(v, KPI_LIMIT)).map(from_f64)),
                qbr_smartnumbers::missing_inputs.eq(c.missing_inputs.clone()),
                qbr_smartnumbers::null_reason.eq(c.null_reason()),
                qbr_smartnumbers::months_counted.eq(months_counted as i32),
                qbr_smartnumbers::calculated_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(qbr_smartnumbers::table)
        .values(rows)
        .on_conflict((
            qbr_smartnumbers::period,
            qbr_smartnumbers::kpi_name,
            qbr_smartnumbers::organization_id,
        ))
        .do_update()
        .set((
            qbr_smartnumbers::kpi_value.eq(diesel::upsert::excluded(qbr_smartnumbers::kpi_value)),
            qbr_smartnumbers::missing_inputs
                .eq(diesel::upsert::excluded(qbr_smartnumbers::missing_inputs)),
            qbr_smartnumbers::null_reason
                .eq(diesel::upsert::excluded(qbr_smartnumbers::null_reason)),
            qbr_smartnumbers::months_counted
                .eq(diesel::upsert::excluded(qbr_smartnumbers::months_counted)),
            qbr_smartnumbers::calculated_at
                .eq(diesel::upsert::excluded(qbr_smartnumbers::calculated_at)),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes a period's numbers (when its last input is removed).
pub async fn delete_period(
    conn: &mut AsyncPgConnection,
    org: i32,
    period: &str,
) -> QueryResult<()> {
    diesel::delete(
        qbr_smartnumbers::table
            .filter(qbr_smartnumbers::organization_id.eq(org))
            .filter(qbr_smartnumbers::period.eq(period)),
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// The stored numbers of the given periods.
pub async fn load(
    conn: &mut AsyncPgConnection,
    org: i32,
    periods: &[String],
) -> QueryResult<Vec<SmartNumberRow>> {
    qbr_smartnumbers::table
        .filter(qbr_smartnumbers::organization_id.eq(org))
        .filter(qbr_smartnumbers::period.eq_any(periods))
        .select(SmartNumberRow::as_select())
        .load(conn)
        .await
}

/// The newest calculation time of a period's numbers.
pub fn calculated_at(rows: &[SmartNumberRow], period: &str) -> Option<DateTime<Utc>> {
    rows.iter()
        .filter(|r| r.period == period)
        .map(|r| r.calculated_at)
        .max()
}
