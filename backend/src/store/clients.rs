//! Clients across vendors (migration `clients`): the clients, the vendor entities
//! collection saw and their links, each entity's collected monthly values and ticket
//! categories, and values typed in or imported per client.
use super::numeric::{from_f64, to_f64};
use crate::schema::{
    client_manual_values as manual, client_metric_values as cmv, client_ticket_breakdown as tb,
    client_vendor_entities as cve, clients, organization,
};
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use qbr_shared::clients::{ClientMetric, LinkStatus};
use qbr_shared::Month;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cve)]
pub struct EntityRow {
    pub vendor_id: i32,
    pub external_id: String,
    pub name: String,
    pub client_id: Option<i64>,
    pub status: String,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl EntityRow {
    pub fn status(&self) -> LinkStatus {
        LinkStatus::parse(&self.status).unwrap_or(LinkStatus::Unmatched)
    }
}

/// One collected value of one entity.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cmv)]
pub struct ValueRow {
    pub vendor_id: i32,
    pub external_id: String,
    pub month: NaiveDate,
    pub metric: String,
    pub value: BigDecimal,
    pub collected_at: DateTime<Utc>,
}

impl ValueRow {
    pub fn month(&self) -> Month {
        Month::from_date(self.month)
    }

    pub fn metric(&self) -> Option<ClientMetric> {
        ClientMetric::parse(&self.metric)
    }

    pub fn value(&self) -> f64 {
        to_f64(&self.value)
    }
}

/// One value typed in or imported for a client.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = manual)]
pub struct ManualRow {
    pub client_id: i64,
    pub month: NaiveDate,
    pub metric: String,
    pub value: BigDecimal,
    pub source: String,
}

/// Tickets of one entity, month, dimension and label.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tb)]
pub struct TicketRow {
    pub vendor_id: i32,
    pub external_id: String,
    pub month: NaiveDate,
    pub dimension: String,
    pub label: String,
    pub tickets: i32,
}

pub async fn clients(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<ClientRow>> {
    clients::table
        .filter(clients::organization_id.eq(org))
        .order((clients::name, clients::id))
        .select(ClientRow::as_select())
        .load(conn)
        .await
}

pub async fn client(
    conn: &mut AsyncPgConnection,
    org: i32,
    id: i64,
) -> QueryResult<Option<ClientRow>> {
    clients::table
        .filter(clients::organization_id.eq(org))
        .filter(clients::id.eq(id))
        .select(ClientRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// A new client named `name`, or the one already named so (names are unique without
/// case and outer spaces).
pub async fn create_client(
    conn: &mut AsyncPgConnection,
    org: i32,
    name: &str,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let name = name.trim();
    let existing: Option<i64> = clients::table
        .filter(clients::organization_id.eq(org))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(btrim(name)) = lower(btrim(")
                .bind::<diesel::sql_types::Text, _>(name)
                .sql("))"),
        )
        .select(clients::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    diesel::insert_into(clients::table)
        .values((
            clients::organization_id.eq(org),
            clients::name.eq(name),
            clients::created_by.eq(by),
            clients::created_at.eq(now),
        ))
        .returning(clients::id)
        .get_result(conn)
        .await
}

pub async fn entities(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<EntityRow>> {
    cve::table
        .filter(cve::organization_id.eq(org))
        .order((cve::vendor_id, cve::name, cve::external_id))
        .select(EntityRow::as_select())
        .load(conn)
        .await
}

/// A link decided by the matching rule (collection) or by a person.
pub struct Link<'a> {
    pub vendor_id: i32,
    pub external_id: &'a str,
    pub name: &'a str,
    pub client_id: Option<i64>,
    pub status: LinkStatus,
    /// Who decided (a person's links only).
    pub confirmed_by: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Stores an entity seen by collection with its link: a new one as decided; an
/// existing one gets its current name and `last_seen`, and the link only when it was
/// not confirmed by a person.
pub async fn upsert_seen(conn: &mut AsyncPgConnection, org: i32, l: Link<'_>) -> QueryResult<()> {
    diesel::insert_into(cve::table)
        .values((
            cve::organization_id.eq(org),
            cve::vendor_id.eq(l.vendor_id),
            cve::external_id.eq(l.external_id),
            cve::name.eq(l.name),
            cve::client_id.eq(l.client_id),
            cve::status.eq(l.status.as_str()),
            cve::first_seen.eq(l.now),
            cve::last_seen.eq(l.now),
        ))
        .on_conflict((cve::organization_id, cve::vendor_id, cve::external_id))
        .do_update()
        .set((
            cve::name.eq(l.name),
            cve::last_seen.eq(l.now),
            cve::client_id.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Int8>>(
                "CASE WHEN client_vendor_entities.status = 'confirmed' THEN client_vendor_entities.client_id ELSE excluded.client_id END",
            )),
            cve::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                "CASE WHEN client_vendor_entities.status = 'confirmed' THEN 'confirmed' ELSE excluded.status END",
            )),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A person's link (the matching page): confirmed, whatever collection later sees.
/// `false` when the entity does not exist.
pub async fn confirm_link(
    conn: &mut AsyncPgConnection,
    org: i32,
    l: Link<'_>,
) -> QueryResult<bool> {
    diesel::update(
        cve::table
            .filter(cve::organization_id.eq(org))
            .filter(cve::vendor_id.eq(l.vendor_id))
            .filter(cve::external_id.eq(l.external_id)),
    )
    .set((
        cve::client_id.eq(l.client_id),
        cve::status.eq(LinkStatus::Confirmed.as_str()),
        cve::confirmed_by.eq(l.confirmed_by),
        cve::confirmed_at.eq(l.now),
    ))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Confirms every proposed link as it stands; the number confirmed.
pub async fn confirm_proposed(
    conn: &mut AsyncPgConnection,
    org: i32,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        cve::table
            .filter(cve::organization_id.eq(org))
            .filter(cve::status.eq(LinkStatus::Proposed.as_str())),
    )
    .set((
        cve::status.eq(LinkStatus::Confirmed.as_str()),
        cve::confirmed_by.eq(by),
        cve::confirmed_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// The collected values of `months` (every vendor, or one).
pub async fn values_in(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor_id: Option<i32>,
    months: &[Month],
) -> QueryResult<Vec<ValueRow>> {
    let days: Vec<NaiveDate> = months.iter().map(|m| m.first_day()).collect();
    let mut q = cmv::table
        .filter(cmv::organization_id.eq(org))
        .filter(cmv::month.eq_any(days))
        .select(ValueRow::as_select())
        .into_boxed();
    if let Some(v) = vendor_id {
        q = q.filter(cmv::vendor_id.eq(v));
    }
    q.order((cmv::month, cmv::vendor_id, cmv::external_id, cmv::metric))
        .load(conn)
        .await
}

/// One collected value to store.
pub struct ValueWrite<'a> {
    pub vendor_id: i32,
    pub external_id: &'a str,
    pub month: Month,
    pub metric: ClientMetric,
    pub value: f64,
    pub run_id: Option<i64>,
    pub now: DateTime<Utc>,
}

pub async fn write_value(
    conn: &mut AsyncPgConnection,
    org: i32,
    w: ValueWrite<'_>,
) -> QueryResult<()> {
    let value = from_f64(w.value);
    diesel::insert_into(cmv::table)
        .values((
            cmv::organization_id.eq(org),
            cmv::vendor_id.eq(w.vendor_id),
            cmv::external_id.eq(w.external_id),
            cmv::month.eq(w.month.first_day()),
            cmv::metric.eq(w.metric.as_str()),
            cmv::value.eq(&value),
            cmv::collected_at.eq(w.now),
            cmv::run_id.eq(w.run_id),
        ))
        .on_conflict((
            cmv::organization_id,
            cmv::vendor_id,
            cmv::external_id,
            cmv::month,
            cmv::metric,
        ))
        .do_update()
        .set((
            cmv::value.eq(&value),
            cmv::collected_at.eq(w.now),
            cmv::run_id.eq(w.run_id),
            cmv::drift_value.eq(None::<BigDecimal>),
            cmv::drift_seen_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A closed month's frozen value that the vendor now reports as `value`: kept, with
/// the vendor's new reading beside it.
pub async fn record_drift(
    conn: &mut AsyncPgConnection,
    org: i32,
    w: ValueWrite<'_>,
) -> QueryResult<()> {
    diesel::update(
        cmv::table
            .filter(cmv::organization_id.eq(org))
            .filter(cmv::vendor_id.eq(w.vendor_id))
            .filter(cmv::external_id.eq(w.external_id))
            .filter(cmv::month.eq(w.month.first_day()))
            .filter(cmv::metric.eq(w.metric.as_str())),
    )
    .set((
        cmv::drift_value.eq(from_f64(w.value)),
        cmv::drift_seen_at.eq(w.now),
    ))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Removes a value the vendor no longer reports (its month still open).
pub async fn delete_value(
    conn: &mut AsyncPgConnection,
    org: i32,
    row: &ValueRow,
) -> QueryResult<()> {
    diesel::delete(
        cmv::table
            .filter(cmv::organization_id.eq(org))
            .filter(cmv::vendor_id.eq(row.vendor_id))
            .filter(cmv::external_id.eq(&row.external_id))
            .filter(cmv::month.eq(row.month))
            .filter(cmv::metric.eq(&row.metric)),
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Replaces a vendor's ticket categories of `month` with `rows`
/// `(external id, dimension, label, tickets)`.
pub async fn replace_tickets(
    conn: &mut AsyncPgConnection,
    org: i32,
    vendor_id: i32,
    month: Month,
    rows: &[(&str, &str, &str, i32)],
) -> QueryResult<()> {
    diesel::delete(
        tb::table
            .filter(tb::organization_id.eq(org))
            .filter(tb::vendor_id.eq(vendor_id))
            .filter(tb::month.eq(month.first_day())),
    )
    .execute(conn)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = rows
        .iter()
        .map(|(ext, dimension, label, tickets)| {
            (
                tb::organization_id.eq(org),
                tb::vendor_id.eq(vendor_id),
                tb::external_id.eq(*ext),
                tb::month.eq(month.first_day()),
                tb::dimension.eq(*dimension),
                tb::label.eq(*label),
                tb::tickets.eq(*tickets),
            )
        })
        .collect();
    diesel::insert_into(tb::table)
        .values(values)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn tickets_in(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> QueryResult<Vec<TicketRow>> {
    let days: Vec<NaiveDate> = months.iter().map(|m| m.first_day()).collect();
    tb::table
        .filter(tb::organization_id.eq(org))
        .filter(tb::month.eq_any(days))
        .select(TicketRow::as_select())
        .order((tb::month, tb::dimension, tb::label))
        .load(conn)
        .await
}

pub async fn manual_in(
    conn: &mut AsyncPgConnection,
    org: i32,
    months: &[Month],
) -> QueryResult<Vec<ManualRow>> {
    let days: Vec<NaiveDate> = months.iter().map(|m| m.first_day()).collect();
    manual::table
        .filter(manual::organization_id.eq(org))
        .filter(manual::month.eq_any(days))
        .select(ManualRow::as_select())
        .load(conn)
        .await
}

/// A value typed in or imported for a client.
pub struct ManualWrite<'a> {
    pub client_id: i64,
    pub month: Month,
    pub metric: ClientMetric,
    pub value: f64,
    pub source: qbr_shared::api::DataSource,
    pub actor: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn write_manual(
    conn: &mut AsyncPgConnection,
    org: i32,
    w: ManualWrite<'_>,
) -> QueryResult<()> {
    let value = from_f64(w.value);
    diesel::insert_into(manual::table)
        .values((
            manual::organization_id.eq(org),
            manual::client_id.eq(w.client_id),
            manual::month.eq(w.month.first_day()),
            manual::metric.eq(w.metric.as_str()),
            manual::value.eq(&value),
            manual::source.eq(w.source.as_str()),
            manual::entered_by.eq(w.actor),
            manual::entered_at.eq(w.now),
        ))
        .on_conflict((
            manual::organization_id,
            manual::client_id,
            manual::month,
            manual::metric,
        ))
        .do_update()
        .set((
            manual::value.eq(&value),
            manual::source.eq(w.source.as_str()),
            manual::entered_by.eq(w.actor),
            manual::entered_at.eq(w.now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The labour cost of one service hour (Settings), if set.
pub async fn loaded_cost(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<f64>> {
    organization::table
        .filter(organization::id.eq(org))
        .select(organization::loaded_cost_per_hour)
        .first::<Option<BigDecimal>>(conn)
        .await
        .map(|v| v.as_ref().map(to_f64))
}

/// Bands set for a client number: for every client (`client_id` none) or one.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::client_thresholds)]
pub struct ThresholdRow {
    pub client_id: Option<i64>,
    pub number: String,
    pub green_min: Option<BigDecimal>,
    pub green_max: Option<BigDecimal>,
    pub yellow_min: Option<BigDecimal>,
    pub yellow_max: Option<BigDecimal>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl ThresholdRow {
    pub fn bands(&self) -> qbr_shared::thresholds::Bands {
        let f = |v: &Option<BigDecimal>| v.as_ref().map(to_f64);
        qbr_shared::thresholds::Bands {
            green_min: f(&self.green_min),
            green_max: f(&self.green_max),
            yellow_min: f(&self.yellow_min),
            yellow_max: f(&self.yellow_max),
        }
    }
}

pub async fn thresholds(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Vec<ThresholdRow>> {
    use crate::schema::client_thresholds as ct;
    ct::table
        .filter(ct::organization_id.eq(org))
        .order((ct::client_id.asc().nulls_first(), ct::number))
        .select(ThresholdRow::as_select())
        .load(conn)
        .await
}

/// Sets (or, with `None`, removes) the bands of `number` for `client` (none: every
/// client).
pub async fn set_threshold(
    conn: &mut AsyncPgConnection,
    org: i32,
    client: Option<i64>,
    number: qbr_shared::clients::ClientNumber,
    bands: Option<qbr_shared::thresholds::Bands>,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use crate::schema::client_thresholds as ct;
    let mut existing = ct::table
        .filter(ct::organization_id.eq(org))
        .filter(ct::number.eq(number.as_str()))
        .into_boxed();
    existing = match client {
        Some(c) => existing.filter(ct::client_id.eq(c)),
        None => existing.filter(ct::client_id.is_null()),
    };
    let id: Option<i64> = existing.select(ct::id).first(conn).await.optional()?;
    let num = |v: Option<f64>| v.map(from_f64);
    match (id, bands) {
        (Some(id), None) => diesel::delete(
            ct::table
                .filter(ct::organization_id.eq(org))
                .filter(ct::id.eq(id)),
        )
        .execute(conn)
        .await
        .map(|_| ()),
        (None, None) => Ok(()),
        (Some(id), Some(b)) => diesel::update(
            ct::table
                .filter(ct::organization_id.eq(org))
                .filter(ct::id.eq(id)),
        )
        .set((
            ct::green_min.eq(num(b.green_min)),
            ct::green_max.eq(num(b.green_max)),
            ct::yellow_min.eq(num(b.yellow_min)),
            ct::yellow_max.eq(num(b.yellow_max)),
            ct::updated_by.eq(by),
            ct::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ()),
        (None, Some(b)) => diesel::insert_into(ct::table)
            .values((
                ct::organization_id.eq(org),
                ct::client_id.eq(client),
                ct::number.eq(number.as_str()),
                ct::green_min.eq(num(b.green_min)),
                ct::green_max.eq(num(b.green_max)),
                ct::yellow_min.eq(num(b.yellow_min)),
                ct::yellow_max.eq(num(b.yellow_max)),
                ct::updated_by.eq(by),
                ct::updated_at.eq(now),
            ))
            .execute(conn)
            .await
            .map(|_| ()),
    }
}

/// Removes a client's typed-in value of a month; whether there was one.
pub async fn delete_manual(
    conn: &mut AsyncPgConnection,
    org: i32,
    client: i64,
    month: Month,
    metric: ClientMetric,
) -> QueryResult<bool> {
    diesel::delete(
        manual::table
            .filter(manual::organization_id.eq(org))
            .filter(manual::client_id.eq(client))
            .filter(manual::month.eq(month.first_day()))
            .filter(manual::metric.eq(metric.as_str())),
    )
    .execute(conn)
    .await
    .map(|n| n > 0)
}
