//! Goals per SmartNumber and period, and the organization's health-score weights.
use crate::schema::{goals, organization};
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = goals)]
pub struct GoalRow {
    pub smartnumber: String,
    pub period: String,
    pub target: BigDecimal,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// Every goal of the organization, newest period first.
pub async fn all(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<GoalRow>> {
    goals::table
        .filter(goals::organization_id.eq(org))
        .order((goals::period.desc(), goals::smartnumber))
        .select(GoalRow::as_select())
        .load(conn)
        .await
}

/// The goal of `key` for `period`, if set.
pub async fn one(
    conn: &mut AsyncPgConnection,
    org: i32,
    key: &str,
    period: &str,
) -> QueryResult<Option<GoalRow>> {
    goals::table
        .find((org, key, period))
        .select(GoalRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sets (or replaces) a goal.
pub async fn set(
    conn: &mut AsyncPgConnection,
    org: i32,
    key: &str,
    period: &str,
    target: BigDecimal,
    (by, at): (&str, DateTime<Utc>),
) -> QueryResult<()> {
    diesel::insert_into(goals::table)
        .values((
            goals::organization_id.eq(org),
            goals::smartnumber.eq(key),
            goals::period.eq(period),
            goals::target.eq(&target),
            goals::set_by.eq(by),
            goals::set_at.eq(at),
        ))
        .on_conflict((goals::organization_id, goals::smartnumber, goals::period))
        .do_update()
        .set((
            goals::target.eq(&target),
            goals::set_by.eq(by),
            goals::set_at.eq(at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes a goal; whether there was one.
pub async fn remove(
    conn: &mut AsyncPgConnection,
    org: i32,
    key: &str,
    period: &str,
) -> QueryResult<bool> {
    diesel::delete(goals::table.find((org, key, period)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// The health score's weights as stored (`None`: the defaults).
pub async fn health_weights(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> QueryResult<Option<serde_json::Value>> {
    organization::table
        .find(org)
        .select(organization::health_weights)
        .first(conn)
        .await
        .optional()
        .map(Option::flatten)
}
