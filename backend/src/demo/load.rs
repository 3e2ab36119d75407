//! Loads the demo organization's values (see `demo`) and its QuickBooks report
//! (`demo::quickbooks`) into an empty database, in one transaction, through the same
//! store functions as manual entry and collection.
use super::demo_values;
use crate::store::metrics::{self, ValueWrite};
use crate::store::{audit, lock_organization_writes, org, recompute};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::metric_def;
use qbr_shared::vendor::MANUAL_VENDOR_ID;
use qbr_shared::Month;
use std::collections::BTreeSet;

/// Loads the demo data unless the organization already has values. Returns the
/// number of values written (0 when the database was not empty). The connection enters
/// the organization.
pub async fn load_if_empty(conn: &mut AsyncPgConnection, org_id: i32) -> anyhow::Result<usize> {
    let Some(org) = org::load(conn, org_id).await? else {
        anyhow::bail!("organization {org_id} does not exist");
    };
    crate::db::tenant::enter(conn, org.id).await?;
    if metrics::latest_month(conn, org.id).await?.is_some() {
        return Ok(0);
    }
    let now = Utc::now();
    let current = org.current_month(now);
    let values = demo_values(current);
    let written = conn
        .transaction::<_, anyhow::Error, _>(async |conn| {
            lock_organization_writes(conn, org.id).await?;
            let mut months = BTreeSet::<Month>::new();
            for v in &values {
                let vendor =
                    metric_def(v.metric).map_or(MANUAL_VENDOR_ID, |d| d.source.vendor_id());
                let w = ValueWrite {
                    metric: v.metric,
                    value: v.value,
                    vendor_id: if v.collected {
                        vendor
                    } else {
                        MANUAL_VENDOR_ID
                    },
                    source: if v.collected {
                        DataSource::Collected
                    } else {
                        DataSource::Manual
                    },
                    flags: qbr_shared::collection::flag_words(&v.flags),
                    notes: None,
                    actor: "demo",
                    collected_at: v.collected.then_some(now),
                };
                metrics::write_value(conn, org.id, v.month, &w).await?;
                months.insert(v.month);
            }
            recompute::after_inputs_changed(conn, &org, &months, now).await?;
            super::quickbooks::load(conn, org.id, &values, current, now).await?;
            audit::record(
                conn,
                audit::AuditEvent {
                    organization_id: Some(org.id),
                    actor: "demo",
                    action: AuditAction::DemoLoad,
                    target: None,
                    details: serde_json::json!({"values": values.len(), "months": months.len()}),
                    ip: None,
                },
            )
            .await?;
            Ok(values.len())
        })
        .await?;
    Ok(written)
}
