//! An organization's settings, read by its members and changed by its admins without
//! SQL or a restart: name, time zone, working hours per technician, the NinjaOne
//! organizations that are not clients, and the nightly collection's schedule. Every
//! field is checked before anything is written; a change is audited with what it was
//! before; a new working-hours figure or time zone computes the SmartNumbers again.
use super::tenants::check_name;
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::numeric;
use crate::store::org::{self, SettingsChange, SettingsRow};
use crate::store::{lock_organization_writes, metrics, recompute};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::{
    CollectionSchedule, OrganizationSettings, SettingsUpdateRequest, SettingsUpdateResponse,
};
use qbr_shared::insight::health::HealthWeights;
use qbr_shared::{text, Period};
use std::collections::BTreeSet;

/// Working hours per technician per month: at least one, at most every hour of a
/// 31-day month.
const WORKING_HOURS: std::ops::RangeInclusive<f64> = 1.0..=744.0;
/// Excluded device organizations: how many, and how long a name.
const MAX_EXCLUDED: usize = 200;
/// Labour cost of one service hour, in dollars.
const LOADED_COST: std::ops::RangeInclusive<f64> = 1.0..=10_000.0;
const MAX_EXCLUDED_NAME: usize = 200;

/// The organization's settings; `server_schedule` describes the server's own schedule
/// (what `collection.time = null` follows).
pub async fn get(
    conn: &mut AsyncPgConnection,
    org: i32,
    server_schedule: &str,
) -> AppResult<OrganizationSettings> {
    let row = org::settings(conn, org)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No organization with id {org}")))?;
    Ok(view(row, server_schedule))
}

fn view(row: SettingsRow, server_schedule: &str) -> OrganizationSettings {
    OrganizationSettings {
        organization_id: row.id,
        slug: row.slug,
        name: row.name,
        timezone: row.timezone,
        working_hours_per_tech: numeric::to_f64(&row.working_hours_per_tech),
        excluded_device_organizations: row.excluded_device_orgs,
        collection: CollectionSchedule {
            enabled: row.collection_enabled,
            time: row.collection_time,
            timezone: row.collection_timezone,
        },
        server_schedule: server_schedule.to_string(),
        loaded_cost_per_hour: row.loaded_cost_per_hour.as_ref().map(numeric::to_f64),
        health_weights: weights_of(row.health_weights),
    }
}

/// The stored health weights, or the defaults (none stored, or stored by an older
/// shape that no longer reads).
pub fn weights_of(stored: Option<serde_json::Value>) -> HealthWeights {
    stored
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Changes the settings `req` gives, all or nothing.
pub async fn update(
    conn: &mut AsyncPgConnection,
    org: i32,
    req: &SettingsUpdateRequest,
    server_schedule: &str,
    actor: Actor<'_>,
) -> AppResult<SettingsUpdateResponse> {
    let change = checked(req)?;
    if change.is_empty() {
        return Err(AppError::invalid_body(
            "nothing to change: give name, timezone, working_hours_per_tech, \
             excluded_device_organizations, collection, loaded_cost_per_hour or \
             health_weights",
        ));
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        // One change of an organization's data at a time; enters the organization.
        lock_organization_writes(conn, org).await?;
        let before = org::settings(conn, org)
            .await?
            .ok_or_else(|| AppError::not_found(format!("No organization with id {org}")))?;
        let after = org::update_settings(conn, org, change).await?;
        let zone_changed = before.timezone != after.timezone;
        let hours_changed = before.working_hours_per_tech != after.working_hours_per_tech;
        let recomputed = if zone_changed || hours_changed {
            recompute_all(conn, org).await?
        } else {
            0
        };
        let mut notes = Vec::new();
        if zone_changed {
            notes.push(format!(
                "Months are now cut in {}. Months already collected were cut in {}: \
                 Collect now with \"Re-collect closed months\" cuts them again.",
                after.timezone, before.timezone
            ));
        }
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::SettingsUpdate,
                target: Some(&after.slug),
                details: serde_json::json!({
                    "before": view(before, server_schedule),
                    "after": view(after.clone(), server_schedule),
                }),
                ip: actor.ip,
            },
        )
        .await?;
        Ok(SettingsUpdateResponse {
            settings: view(after, server_schedule),
            recomputed_periods: recomputed,
            notes,
        })
    })
    .await
}

/// The SmartNumbers of every month, quarter and year with data, computed again (they
/// depend on the working hours, and "the month in progress" on the zone).
async fn recompute_all(conn: &mut AsyncPgConnection, org_id: i32) -> AppResult<u32> {
    let org = org::load(conn, org_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No organization with id {org_id}")))?;
    let mut periods: Vec<Period> = Vec::new();
    for period in metrics::months_with_data(conn, org_id)
        .await?
        .into_iter()
        .flat_map(Period::enclosing)
    {
        if !periods.contains(&period) {
            periods.push(period);
        }
    }
    recompute::refresh_periods(conn, &org, &periods, chrono::Utc::now()).await?;
    Ok(u32::try_from(periods.len()).unwrap_or(u32::MAX))
}

/// The request as a change, every field checked.
fn checked(req: &SettingsUpdateRequest) -> AppResult<SettingsChange> {
    let mut change = SettingsChange::default();
    if let Some(name) = &req.name {
        change.name = Some(check_name(name)?.to_string());
    }
    if let Some(zone) = &req.timezone {
        change.timezone = Some(check_zone("timezone", zone)?);
    }
    if let Some(hours) = req.working_hours_per_tech {
        if !hours.is_finite() || !WORKING_HOURS.contains(&hours) {
            return Err(AppError::invalid_body(format!(
                "working_hours_per_tech must be {}–{} hours a month, got {hours}",
                WORKING_HOURS.start(),
                WORKING_HOURS.end()
            )));
        }
        change.working_hours_per_tech = Some(numeric::from_f64(hours));
    }
    if let Some(cost) = req.loaded_cost_per_hour {
        change.loaded_cost_per_hour = Some(check_loaded_cost(cost)?);
    }
    if let Some(weights) = &req.health_weights {
        weights
            .validate()
            .map_err(|e| AppError::invalid_body(format!("health_weights: {e}")))?;
        change.health_weights = Some(serde_json::json!(weights));
    }
    if let Some(names) = &req.excluded_device_organizations {
        change.excluded_device_orgs = Some(check_excluded(names)?);
    }
    if let Some(schedule) = &req.collection {
        change.collection_enabled = Some(schedule.enabled);
        change.collection_time = Some(schedule.time.as_deref().map(check_time).transpose()?);
        change.collection_timezone = Some(
            schedule
                .timezone
                .as_deref()
                .map(|z| check_zone("collection.timezone", z))
                .transpose()?,
        );
    }
    Ok(change)
}

/// Dollars per service hour: 0 removes it.
fn check_loaded_cost(cost: f64) -> AppResult<Option<bigdecimal::BigDecimal>> {
    if cost == 0.0 {
        return Ok(None);
    }
    if !cost.is_finite() || !LOADED_COST.contains(&cost) {
        return Err(AppError::invalid_body(format!(
            "loaded_cost_per_hour must be {}–{} dollars (0 removes it), got {cost}",
            LOADED_COST.start(),
            LOADED_COST.end()
        )));
    }
    // Cents: the column keeps two decimals.
    Ok(Some(numeric::from_f64((cost * 100.0).round() / 100.0)))
}

fn check_zone(field: &str, zone: &str) -> AppResult<String> {
    let zone = zone.trim();
    zone.parse::<chrono_tz::Tz>().map_err(|_| {
        AppError::invalid_body(format!(
            "{field} '{zone}' is not an IANA time zone (like America/Chicago)"
        ))
    })?;
    Ok(zone.to_string())
}

/// `HH:MM`, 24-hour.
fn check_time(time: &str) -> AppResult<String> {
    let time = time.trim();
    let ok = time.len() == 5
        && chrono::NaiveTime::parse_from_str(time, "%H:%M").is_ok()
        && time.as_bytes()[2] == b':';
    if ok {
        Ok(time.to_string())
    } else {
        Err(AppError::invalid_body(format!(
            "collection.time '{time}' is not a time of day as HH:MM (like 22:30)"
        )))
    }
}

/// Names trimmed, none empty, duplicates (any case) once, in the order given.
fn check_excluded(names: &[String]) -> AppResult<Vec<String>> {
    if names.len() > MAX_EXCLUDED {
        return Err(AppError::invalid_body(format!(
            "excluded_device_organizations: at most {MAX_EXCLUDED} names"
        )));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_EXCLUDED_NAME {
            return Err(AppError::invalid_body(format!(
                "excluded_device_organizations: each name must be 1–{MAX_EXCLUDED_NAME} characters"
            )));
        }
        text::check_field("excluded_device_organizations", name, text::NAME)
            .map_err(AppError::invalid_body)?;
        if seen.insert(name.to_lowercase()) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        for ok in ["00:00", "22:30", "23:59", " 07:05 "] {
            assert!(check_time(ok).is_ok(), "{ok}");
        }
        for bad in ["24:00", "7:05", "22:60", "2230", "22:30:00", "", "ab:cd"] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn excluded_names_are_trimmed_and_deduplicated() {
        let names = ["Ener Systems", " ener systems ", "Ener Systems, LLC"].map(String::from);
        assert_eq!(
            check_excluded(&names).unwrap(),
            vec!["Ener Systems".to_string(), "Ener Systems, LLC".to_string()]
        );
        assert!(check_excluded(&[String::from("  ")]).is_err());
        assert!(check_excluded(&vec![String::from("x"); MAX_EXCLUDED + 1]).is_err());
    }

    #[test]
    fn every_field_is_checked() {
        let bad = [
            SettingsUpdateRequest {
                timezone: Some("Mars/Olympus".into()),
                ..empty()
            },
            SettingsUpdateRequest {
                working_hours_per_tech: Some(0.5),
                ..empty()
            },
            SettingsUpdateRequest {
                working_hours_per_tech: Some(f64::NAN),
                ..empty()
            },
            SettingsUpdateRequest {
                name: Some("   ".into()),
                ..empty()
            },
            SettingsUpdateRequest {
                collection: Some(CollectionSchedule {
                    enabled: true,
                    time: Some("25:00".into()),
                    timezone: None,
                }),
                ..empty()
            },
        ];
        for req in bad {
            assert!(checked(&req).is_err(), "{req:?}");
        }
        let fine = SettingsUpdateRequest {
            working_hours_per_tech: Some(140.0),
            collection: Some(CollectionSchedule {
                enabled: false,
                time: Some("06:15".into()),
                timezone: Some("Europe/Berlin".into()),
            }),
            ..empty()
        };
        let change = checked(&fine).unwrap();
        assert_eq!(change.collection_time, Some(Some("06:15".into())));
        assert_eq!(change.collection_enabled, Some(false));
    }

    fn empty() -> SettingsUpdateRequest {
        SettingsUpdateRequest {
            organization_id: None,
            name: None,
            timezone: None,
            working_hours_per_tech: None,
            excluded_device_organizations: None,
            collection: None,
            loaded_cost_per_hour: None,
            health_weights: None,
        }
    }

    #[test]
    fn loaded_cost_is_checked_and_zero_removes_it() {
        for bad in [-1.0, 0.5, 10_000.01, f64::NAN] {
            let req = SettingsUpdateRequest {
                loaded_cost_per_hour: Some(bad),
                ..empty()
            };
            assert!(checked(&req).is_err(), "{bad}");
        }
        let req = SettingsUpdateRequest {
            loaded_cost_per_hour: Some(0.0),
            ..empty()
        };
        assert_eq!(checked(&req).unwrap().loaded_cost_per_hour, Some(None));
        let req = SettingsUpdateRequest {
            loaded_cost_per_hour: Some(62.499),
            ..empty()
        };
        let cost = checked(&req)
            .unwrap()
            .loaded_cost_per_hour
            .unwrap()
            .unwrap();
        assert_eq!(cost.to_string(), "62.5");
    }
}
