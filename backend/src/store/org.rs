//! The organization whose business is reviewed, and its settings.
use crate::schema::organization;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An organization's settings that the rules need.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: i32,
    pub name: String,
    pub timezone: chrono_tz::Tz,
    pub working_hours: f64,
    /// Moves with every change of the organization's monthly values (a trigger bumps
    /// it), so in-memory answers can be checked for freshness.
    pub data_version: i64,
}

impl Org {
    /// The month in progress in the organization's time zone.
    pub fn current_month(&self, now: chrono::DateTime<chrono::Utc>) -> qbr_shared::Month {
        qbr_shared::Month::containing(now, self.timezone)
    }
}

/// Loads an organization; `None` if there is none with that id.
pub async fn load(conn: &mut AsyncPgConnection, id: i32) -> QueryResult<Option<Org>> {
    let row: Option<(i32, String, String, bigdecimal::BigDecimal, i64)> = organization::table
        .find(id)
        .select((
            organization::id,
            organization::name,
            organization::timezone,
            organization::working_hours_per_tech,
            organization::data_version,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(id, name, tz, hours, data_version)| Org {
        id,
        name,
        // An unknown zone name falls back to the product's default rather than failing every request.
        timezone: tz.parse().unwrap_or(chrono_tz::America::Chicago),
        working_hours: super::numeric::to_f64(&hours),
        data_version,
    }))
}
