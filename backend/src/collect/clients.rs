//! Storing a run's per-client readings, inside the run's transaction: every vendor
//! entity seen is recorded and linked (by name unless a person decided), then each
//! entity's values are written by the organization's rules — a closed month's value is
//! frozen (a different reading is kept apart as drift), an open month's is rewritten
//! and one the vendor no longer reports is removed — and the months' ticket categories
//! replaced.
use super::collector::{ClientReading, ClientValue, DeviceCounts};
use crate::store::clients::{self as store, Link, ValueRow, ValueWrite};
use crate::store::devices;
use crate::store::org::Org;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use qbr_shared::clients::{normalize_name, ClientMetric, LinkStatus};
use qbr_shared::{Month, Vendor};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Who collection's links and clients are recorded as made by.
const COLLECTION: &str = "collection";

/// What storing the per-client readings did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClientsReport {
    pub entities_seen: usize,
    pub clients_created: usize,
    pub values_written: usize,
    /// Closed months' values the vendors now report differently (kept, not written).
    pub drift: usize,
}

/// The run's state needed here.
pub struct Context<'a> {
    pub org: &'a Org,
    pub months: &'a [Month],
    pub force: bool,
    pub run_id: Option<i64>,
    pub now: DateTime<Utc>,
    /// Organizations on the Settings page's list: the MSP's own, not clients.
    pub internal_names: &'a [String],
}

/// Stores every vendor's per-client reading. ConnectWise first: the PSA's companies
/// are the client list, the others' entities are matched to it.
pub async fn store(
    conn: &mut AsyncPgConnection,
    cx: &Context<'_>,
    mut readings: Vec<(Vendor, ClientReading)>,
) -> QueryResult<ClientsReport> {
    readings.sort_by_key(|(v, _)| *v != Vendor::ConnectWise);
    let mut report = ClientsReport::default();
    let psa_seen = readings
        .iter()
        .any(|(v, r)| *v == Vendor::ConnectWise && !r.entities.is_empty())
        || store::entities(conn, cx.org.id)
            .await?
            .iter()
            .any(|e| e.vendor_id == Vendor::ConnectWise.id());
    for (vendor, reading) in &readings {
        // Without a PSA, the RMM's organizations are the client list.
        let creates = *vendor == Vendor::ConnectWise || !psa_seen;
        link_entities(conn, cx, *vendor, &reading.entities, creates, &mut report).await?;
        // Values of an entity never seen (a device organization since deleted, kept in
        // an old snapshot) have no row to belong to.
        let known: HashSet<String> = store::entities(conn, cx.org.id)
            .await?
            .into_iter()
            .filter(|e| e.vendor_id == vendor.id())
            .map(|e| e.external_id)
            .collect();
        let values: Vec<ClientValue> = reading
            .values
            .iter()
            .filter(|v| known.contains(&v.external_id))
            .cloned()
            .collect();
        let closed = reading.closed_through;
        write_values(conn, cx, (*vendor, closed), &values, &mut report).await?;
        write_tickets(conn, cx, *vendor, reading).await?;
    }
    Ok(report)
}

/// Whether `name` is one of the organization's own.
fn is_internal(name: &str, internal: &[String]) -> bool {
    let n = normalize_name(name);
    internal
        .iter()
        .any(|i| i.trim().eq_ignore_ascii_case(name.trim()) || normalize_name(i) == n)
}

async fn link_entities(
    conn: &mut AsyncPgConnection,
    cx: &Context<'_>,
    vendor: Vendor,
    seen: &[(String, String)],
    creates_clients: bool,
    report: &mut ClientsReport,
) -> QueryResult<()> {
    let mut by_name: HashMap<String, i64> = store::clients(conn, cx.org.id)
        .await?
        .into_iter()
        .map(|c| (normalize_name(&c.name), c.id))
        .collect();
    for (external_id, name) in seen {
        let (client_id, status) = if is_internal(name, cx.internal_names) {
            (None, LinkStatus::Internal)
        } else if let Some(id) = by_name.get(&normalize_name(name)) {
            (Some(*id), LinkStatus::Proposed)
        } else if creates_clients && !normalize_name(name).is_empty() {
            let id = store::create_client(conn, cx.org.id, name, COLLECTION, cx.now).await?;
            by_name.insert(normalize_name(name), id);
            report.clients_created += 1;
            (Some(id), LinkStatus::Proposed)
        } else {
            (None, LinkStatus::Unmatched)
        };
        let link = Link {
            vendor_id: vendor.id(),
            external_id,
            name,
            client_id,
            status,
            confirmed_by: None,
            now: cx.now,
        };
        store::upsert_seen(conn, cx.org.id, link).await?;
        report.entities_seen += 1;
    }
    Ok(())
}

/// Whether a stored value of `month` is final: inside the books' closed months when
/// the vendor keeps books, else collected after the month ended.
fn is_final(
    row: &ValueRow,
    month: Month,
    org: &Org,
    current: Month,
    closed_through: Option<Month>,
) -> bool {
    if let Some(closed) = closed_through {
        return month <= closed;
    }
    let (_, end) = month.utc_bounds(org.timezone);
    month < current && row.collected_at >= end
}

async fn write_values(
    conn: &mut AsyncPgConnection,
    cx: &Context<'_>,
    (vendor, closed_through): (Vendor, Option<Month>),
    values: &[ClientValue],
    report: &mut ClientsReport,
) -> QueryResult<()> {
    let stored = store::values_in(conn, cx.org.id, Some(vendor.id()), cx.months).await?;
    let current = cx.org.current_month(cx.now);
    let key = |ext: &str, m: Month, metric: &str| (ext.to_string(), m, metric.to_string());
    let mut old: BTreeMap<(String, Month, String), &ValueRow> = stored
        .iter()
        .map(|r| (key(&r.external_id, r.month(), &r.metric), r))
        .collect();
    for v in values {
        let w = ValueWrite {
            vendor_id: vendor.id(),
            external_id: &v.external_id,
            month: v.month,
            metric: v.metric,
            value: v.value,
            run_id: cx.run_id,
            now: cx.now,
        };
        match old.remove(&key(&v.external_id, v.month, v.metric.as_str())) {
            Some(row) if !cx.force && is_final(row, v.month, cx.org, current, closed_through) => {
                if (row.value() - v.value).abs() > 1e-6 {
                    store::record_drift(conn, cx.org.id, w).await?;
                    report.drift += 1;
                }
            }
            Some(row) if (row.value() - v.value).abs() <= 1e-9 => {}
            _ => {
                store::write_value(conn, cx.org.id, w).await?;
                report.values_written += 1;
            }
        }
    }
    // What the vendor no longer reports for an open month is no longer there.
    for row in old.into_values() {
        if cx.force || !is_final(row, row.month(), cx.org, current, closed_through) {
            store::delete_value(conn, cx.org.id, row).await?;
        }
    }
    Ok(())
}

async fn write_tickets(
    conn: &mut AsyncPgConnection,
    cx: &Context<'_>,
    vendor: Vendor,
    reading: &ClientReading,
) -> QueryResult<()> {
    if reading.tickets.is_empty() && reading.values.is_empty() {
        return Ok(());
    }
    for month in cx.months {
        let rows: Vec<(&str, &str, &str, i32)> = reading
            .tickets
            .iter()
            .filter(|t| t.month == *month)
            .map(|t| {
                (
                    t.external_id.as_str(),
                    t.dimension.as_str(),
                    t.label.as_str(),
                    i32::try_from(t.tickets).unwrap_or(i32::MAX),
                )
            })
            .collect();
        store::replace_tickets(conn, cx.org.id, vendor.id(), *month, &rows).await?;
    }
    Ok(())
}

/// Each month's endpoints and seats per device organization: its last snapshot's
/// (the organization's rule), keyed by the vendor's id of the organization, or by its
/// name in snapshots taken before ids were kept.
pub async fn device_values(
    conn: &mut AsyncPgConnection,
    org: &Org,
    months: &[Month],
    entities: &[(String, String)],
) -> QueryResult<Vec<ClientValue>> {
    let id_of_name: HashMap<&str, &str> = entities
        .iter()
        .map(|(id, name)| (name.as_str(), id.as_str()))
        .collect();
    let mut out = Vec::new();
    for m in months {
        let Some(row) = devices::last_in(conn, org.id, m.first_day(), m.next().first_day()).await?
        else {
            continue;
        };
        let Ok(counts) =
            serde_json::from_value::<Vec<qbr_shared::api::ClientDevices>>(row.per_client)
        else {
            continue;
        };
        for c in counts {
            let external_id = match c.id {
                Some(id) => id.to_string(),
                None => match id_of_name.get(c.organization.as_str()) {
                    Some(id) => (*id).to_string(),
                    None => continue,
                },
            };
            #[allow(clippy::cast_precision_loss)]
            out.extend(
                [
                    (ClientMetric::Endpoints, c.endpoints as f64),
                    (ClientMetric::Seats, c.seats as f64),
                ]
                .map(|(metric, value)| ClientValue {
                    external_id: external_id.clone(),
                    month: *m,
                    metric,
                    value,
                }),
            );
        }
    }
    Ok(out)
}

/// The device reading's per-client part: the entities the collector listed, with each
/// month's counts from the snapshots.
pub async fn with_device_values(
    conn: &mut AsyncPgConnection,
    org: &Org,
    months: &[Month],
    mut reading: ClientReading,
    counts: Option<&DeviceCounts>,
) -> QueryResult<ClientReading> {
    if counts.is_some() {
        let values = device_values(conn, org, months, &reading.entities).await?;
        reading.values.extend(values);
    }
    Ok(reading)
}
