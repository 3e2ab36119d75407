//! Turning the NinjaOne inventory into device counts (pure functions).
use super::client::Inventory;
use crate::collect::collector::DeviceCounts;
use qbr_shared::api::ClientDevices;
use std::collections::{BTreeMap, HashMap};

/// Node classes that are never billed (VM guests).
const VM_GUESTS: [&str; 2] = ["VMWARE_VM_GUEST", "HYPERV_VMM_GUEST"];
/// Node classes that are endpoints but not seats.
const NOT_SEATS: [&str; 2] = ["WINDOWS_SERVER", "VMWARE_VM_HOST"];

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
    let mut per_client: BTreeMap<String, (Option<i64>, i64, i64)> = BTreeMap::new();
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
        entry.0 = d.organization_id.filter(|id| orgs.contains_key(id));
        entry.1 += 1;
        if seat {
            out.seats += 1;
            entry.2 += 1;
        }
    }
    out.per_client = per_client
        .into_iter()
        .map(|(organization, (id, endpoints, seats))| ClientDevices {
            id,
            organization,
            endpoints,
            seats,
        })
        .collect();
    out
}

/// Every organization of the inventory, `(id, name)`.
pub fn organizations(inv: &Inventory) -> Vec<(String, String)> {
    inv.organizations
        .iter()
        .map(|o| (o.id.to_string(), o.name.clone()))
        .collect()
}
