//! The client registry: every client with the vendor entities linked to it, the
//! entities that are no client (unmatched, internal), and the matching page's changes
//! (checked whole, then applied in one transaction, audited).
use super::Actor;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEvent};
use crate::store::clients::{self as store, ClientRow, EntityRow, Link};
use crate::store::lock_organization_writes;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use qbr_shared::access::AuditAction;
use qbr_shared::clients::api::{
    Client, ClientThreshold, ClientThresholdUpdate, ClientThresholdsResponse, ClientValueUpdate,
    ClientsResponse, LinkChange, MatchingUpdate, VendorEntity,
};
use qbr_shared::clients::{ClientNumber, LinkStatus};
use qbr_shared::Vendor;

/// The longest client name.
const MAX_NAME: usize = 200;
/// The most changes of one request.
const MAX_CHANGES: usize = 1000;

fn entity_view(e: &EntityRow) -> Option<VendorEntity> {
    Some(VendorEntity {
        vendor: Vendor::from_id(e.vendor_id)?,
        external_id: e.external_id.clone(),
        name: e.name.clone(),
        client_id: e.client_id,
        status: e.status(),
        confirmed_by: e.confirmed_by.clone(),
        confirmed_at: e.confirmed_at,
        first_seen: e.first_seen,
        last_seen: e.last_seen,
    })
}

/// A client with its linked entities.
pub fn client_view(c: &ClientRow, entities: &[EntityRow]) -> Client {
    let mut linked: Vec<VendorEntity> = entities
        .iter()
        .filter(|e| e.client_id == Some(c.id))
        .filter_map(entity_view)
        .collect();
    // The PSA first, then the RMM, then the books.
    linked.sort_by(|a, b| (a.vendor, &a.name).cmp(&(b.vendor, &b.name)));
    Client {
        id: c.id,
        name: c.name.clone(),
        confirmed: linked.iter().all(|e| e.status == LinkStatus::Confirmed),
        entities: linked,
        created_at: c.created_at,
    }
}

/// Every client and every entity that is none.
pub async fn list(conn: &mut AsyncPgConnection, org: i32) -> AppResult<ClientsResponse> {
    let clients = store::clients(conn, org).await?;
    let entities = store::entities(conn, org).await?;
    let of_status = |s: LinkStatus| -> Vec<VendorEntity> {
        let mut list: Vec<VendorEntity> = entities
            .iter()
            .filter(|e| e.client_id.is_none() && e.status() == s)
            .filter_map(entity_view)
            .collect();
        list.sort_by(|a, b| (a.vendor, &a.name).cmp(&(b.vendor, &b.name)));
        list
    };
    // A person's "no client of ours" is listed with the unmatched ones.
    let mut unmatched = of_status(LinkStatus::Unmatched);
    unmatched.extend(of_status(LinkStatus::Confirmed));
    Ok(ClientsResponse {
        organization_id: org,
        clients: clients.iter().map(|c| client_view(c, &entities)).collect(),
        unmatched,
        internal: of_status(LinkStatus::Internal),
    })
}

/// One client of the organization, `NOT_FOUND` otherwise.
pub async fn one(conn: &mut AsyncPgConnection, org: i32, id: i64) -> AppResult<Client> {
    let c = store::client(conn, org, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No client with id {id}")))?;
    let entities = store::entities(conn, org).await?;
    Ok(client_view(&c, &entities))
}

/// What a change links to, checked.
enum Target {
    Client(i64),
    New(String),
    Nobody,
}

fn target_of(change: &LinkChange, clients: &[ClientRow]) -> AppResult<Target> {
    match (
        change.client_id,
        change.new_client.as_deref().map(str::trim),
    ) {
        (Some(_), Some(_)) => Err(AppError::invalid_body(format!(
            "{} {}: give client_id or new_client, not both",
            change.vendor.label(),
            change.external_id
        ))),
        (Some(id), None) => clients
            .iter()
            .any(|c| c.id == id)
            .then_some(Target::Client(id))
            .ok_or_else(|| AppError::invalid_body(format!("No client with id {id}"))),
        (None, Some(name)) if name.is_empty() || name.chars().count() > MAX_NAME => {
            Err(AppError::invalid_body(format!(
                "new_client: a client's name has 1 to {MAX_NAME} characters"
            )))
        }
        (None, Some(name)) => Ok(Target::New(name.to_string())),
        (None, None) => Ok(Target::Nobody),
    }
}

/// Applies the matching page's changes, all or nothing: every entity and client must
/// exist and every name be valid before anything changes.
pub async fn update_matching(
    conn: &mut AsyncPgConnection,
    org: i32,
    req: &MatchingUpdate,
    actor: Actor<'_>,
) -> AppResult<ClientsResponse> {
    if req.changes.len() > MAX_CHANGES {
        return Err(AppError::invalid_body(format!(
            "at most {MAX_CHANGES} changes at a time"
        )));
    }
    if req.changes.is_empty() && !req.confirm_proposed {
        return Err(AppError::invalid_body(
            "nothing to change: give changes, or confirm_proposed: true",
        ));
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_organization_writes(conn, org).await?;
        let clients = store::clients(conn, org).await?;
        let entities = store::entities(conn, org).await?;
        let mut checked = Vec::new();
        for change in &req.changes {
            let entity = entities
                .iter()
                .find(|e| e.vendor_id == change.vendor.id() && e.external_id == change.external_id)
                .ok_or_else(|| {
                    AppError::invalid_body(format!(
                        "No {} entity with id {}",
                        change.vendor.label(),
                        change.external_id
                    ))
                })?;
            checked.push((entity, target_of(change, &clients)?));
        }
        let now = chrono::Utc::now();
        let mut confirmed = 0;
        if req.confirm_proposed {
            confirmed = store::confirm_proposed(conn, org, actor.name, now).await?;
        }
        let mut details = Vec::new();
        for (entity, target) in checked {
            let client_id = match target {
                Target::Client(id) => Some(id),
                Target::New(name) => {
                    Some(store::create_client(conn, org, &name, actor.name, now).await?)
                }
                Target::Nobody => None,
            };
            let link = Link {
                vendor_id: entity.vendor_id,
                external_id: &entity.external_id,
                name: &entity.name,
                client_id,
                status: LinkStatus::Confirmed,
                confirmed_by: Some(actor.name),
                now,
            };
            store::confirm_link(conn, org, link).await?;
            details.push(serde_json::json!({
                "vendor_id": entity.vendor_id,
                "external_id": entity.external_id,
                "name": entity.name,
                "before": entity.client_id,
                "after": client_id,
            }));
        }
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::ClientsMatch,
                target: None,
                details: serde_json::json!({
                    "changes": details,
                    "proposed_confirmed": confirmed,
                }),
                ip: actor.ip,
            },
        )
        .await?;
        list(conn, org).await
    })
    .await
}

/// The defaults and the organization's bands of the per-client numbers.
pub async fn thresholds(
    conn: &mut AsyncPgConnection,
    org: i32,
) -> AppResult<ClientThresholdsResponse> {
    let defaults = ClientNumber::ALL
        .iter()
        .filter_map(|&number| {
            Some(ClientThreshold {
                number,
                client_id: None,
                bands: number.default_bands()?,
                updated_by: None,
                updated_at: None,
            })
        })
        .collect();
    let overrides = store::thresholds(conn, org)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(ClientThreshold {
                number: ClientNumber::parse(&r.number)?,
                client_id: r.client_id,
                bands: r.bands(),
                updated_by: Some(r.updated_by.clone()),
                updated_at: Some(r.updated_at),
            })
        })
        .collect();
    Ok(ClientThresholdsResponse {
        organization_id: org,
        defaults,
        overrides,
    })
}

/// Sets or removes the bands of a number for every client or one; checked first,
/// audited with what they were.
pub async fn set_threshold(
    conn: &mut AsyncPgConnection,
    org: i32,
    req: &ClientThresholdUpdate,
    actor: Actor<'_>,
) -> AppResult<ClientThresholdsResponse> {
    if let Some(b) = &req.bands {
        b.validate()
            .map_err(|e| AppError::invalid_body(format!("{}: {e}", req.number)))?;
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_organization_writes(conn, org).await?;
        if let Some(id) = req.client_id {
            store::client(conn, org, id)
                .await?
                .ok_or_else(|| AppError::invalid_body(format!("No client with id {id}")))?;
        }
        let before = thresholds(conn, org)
            .await?
            .overrides
            .into_iter()
            .find(|t| t.number == req.number && t.client_id == req.client_id);
        let now = chrono::Utc::now();
        store::set_threshold(
            conn,
            org,
            req.client_id,
            req.number,
            req.bands,
            actor.name,
            now,
        )
        .await?;
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::ClientThresholdsUpdate,
                target: Some(req.number.as_str()),
                details: serde_json::json!({
                    "client_id": req.client_id,
                    "before": before.map(|t| t.bands),
                    "after": req.bands,
                }),
                ip: actor.ip,
            },
        )
        .await?;
        thresholds(conn, org).await
    })
    .await
}

/// Types in (or removes) a client's value of a month; checked first, audited with the
/// value it replaced.
pub async fn set_value(
    conn: &mut AsyncPgConnection,
    org: i32,
    client: i64,
    req: &ClientValueUpdate,
    actor: Actor<'_>,
) -> AppResult<qbr_shared::Month> {
    let month: qbr_shared::Month = req.month.parse().map_err(|_| {
        AppError::invalid_body(format!("month: '{}' is not a month as YYYY-MM", req.month))
    })?;
    if let Some(v) = req.value {
        req.metric
            .accepts(v)
            .map_err(|e| AppError::invalid_body(format!("value: {e}")))?;
    }
    conn.transaction::<_, AppError, _>(async |conn| {
        lock_organization_writes(conn, org).await?;
        store::client(conn, org, client)
            .await?
            .ok_or_else(|| AppError::not_found(format!("No client with id {client}")))?;
        let before = store::manual_in(conn, org, &[month])
            .await?
            .into_iter()
            .find(|r| r.client_id == client && r.metric == req.metric.as_str())
            .map(|r| crate::store::numeric::to_f64(&r.value));
        let now = chrono::Utc::now();
        match req.value {
            Some(value) => {
                let w = store::ManualWrite {
                    client_id: client,
                    month,
                    metric: req.metric,
                    value,
                    source: qbr_shared::api::DataSource::Manual,
                    actor: actor.name,
                    now,
                };
                store::write_manual(conn, org, w).await?;
            }
            None => {
                store::delete_manual(conn, org, client, month, req.metric).await?;
            }
        }
        audit::record(
            conn,
            AuditEvent {
                organization_id: Some(org),
                actor: actor.name,
                action: AuditAction::ClientValueUpdate,
                target: Some(req.metric.as_str()),
                details: serde_json::json!({
                    "client_id": client,
                    "month": month.to_string(),
                    "before": before,
                    "after": req.value,
                }),
                ip: actor.ip,
            },
        )
        .await?;
        Ok(month)
    })
    .await
}
