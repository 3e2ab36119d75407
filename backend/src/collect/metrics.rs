//! Turning vendor data into the metric values of `collection.md` (pure functions).
use super::ninjaone::Inventory;
use chrono::{DateTime, Utc};
use qbr_shared::api::ClientDevices;
use qbr_shared::Month;
use std::collections::{BTreeMap, HashMap};

/// Node classes that are never billed (VM guests).
const VM_GUESTS: [&str; 2] = ["VMWARE_VM_GUEST", "HYPERV_VMM_GUEST"];
/// Node classes that are endpoints but not seats.
const NOT_SEATS: [&str; 2] = ["WINDOWS_SERVER", "VMWARE_VM_HOST"];

/// The month of `t` among `months` (with their UTC bounds), if any.
pub fn month_of(
    t: DateTime<Utc>,
    bounds: &[(Month, DateTime<Utc>, DateTime<Utc>)],
) -> Option<Month> {
    bounds
        .iter()
        .find(|(_, start, end)| t >= *start && t < *end)
        .map(|(m, _, _)| *m)
}

/// Sums hours per month of the entries whose ticket is reactive.
pub fn reactive_hours(
    entries: &[super::connectwise::TimeEntry],
    bounds: &[(Month, DateTime<Utc>, DateTime<Utc>)],
    is_reactive: impl Fn(i64) -> bool,
) -> BTreeMap<Month, f64> {
    let mut out: BTreeMap<Month, f64> = bounds.iter().map(|(m, _, _)| (*m, 0.0)).collect();
    for e in entries {
        let Some(ticket) = e.charge_to_id else {
            continue;
        };
        if !is_reactive(ticket) {
            continue;
        }
        if let Some(m) = month_of(e.date_entered, bounds) {
            *out.entry(m).or_default() += e.actual_hours.unwrap_or(0.0);
        }
    }
    // Hours are summed in f64: round to the stored precision so sums are exact.
    for v in out.values_mut() {
        *v = (*v * 1e6).round() / 1e6;
    }
    out
}

/// A day's device counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceCounts {
    pub endpoints: i64,
    pub seats: i64,
    pub per_client: Vec<ClientDevices>,
    /// Counted devices (endpoints) per node class.
    pub per_node_class: BTreeMap<String, i64>,
}

/// Endpoints and seats by the exclusion rules: VM guests, spares (device or location
/// name containing "spare", any case) and excluded organizations never count; servers
/// and VM hosts are endpoints but not seats.
pub fn device_counts(inv: &Inventory, excluded_orgs: &[String]) -> DeviceCounts {
    let orgs: HashMap<i64, &str> = inv
        .organizations
        .iter()
        .map(|o| (o.id, o.name.as_str()))
        .collect();
    let locations: HashMap<i64, &str> = inv
        .locations
        .iter()
        .map(|l| (l.id, l.name.as_str()))
        .collect();
    let excluded = |name: &str| {
        excluded_orgs
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(name.trim()))
    };
    let spare = |s: Option<&str>| s.is_some_and(|s| s.to_lowercase().contains("spare"));
    let mut per_client: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut out = DeviceCounts::default();
    for d in &inv.devices {
        let org_name = d
            .organization_id
            .and_then(|id| orgs.get(&id).copied())
            .unwrap_or("(no organization)");
        let class = d.node_class.as_deref().unwrap_or("");
        if excluded(org_name)
            || VM_GUESTS.contains(&class)
            || spare(d.display_name.as_deref())
            || spare(d.location_id.and_then(|l| locations.get(&l).copied()))
        {
            continue;
        }
        let seat = !NOT_SEATS.contains(&class);
        out.endpoints += 1;
        *out.per_node_class.entry(class.to_string()).or_default() += 1;
        let entry = per_client.entry(org_name.to_string()).or_default();
        entry.0 += 1;
        if seat {
            out.seats += 1;
            entry.1 += 1;
        }
    }
    out.per_client = per_client
        .into_iter()
        .map(|(organization, (endpoints, seats))| ClientDevices {
            organization,
            endpoints,
            seats,
        })
        .collect();
    out
}
