//! Each client's inputs and numbers: a month's value of a client is what was typed in
//! or imported for it, else the sum of its linked entities' collected values; a
//! period's inputs add up by each metric's rule; the numbers follow
//! (`qbr_shared::clients::numbers`). The ranking lists every client of a period with a
//! totals row and the reconciliation with the organization's own values.
use super::clients::client_view;
use crate::error::{AppError, AppResult};
use crate::store::clients::{self as store, EntityRow};
use crate::store::metrics::rows_for_months;
use crate::store::numeric::to_f64;
use crate::store::org::{self, Org};
use diesel_async::AsyncPgConnection;
use qbr_shared::api::DataSource;
use qbr_shared::catalogue::{metric_def, Aggregation};
use qbr_shared::clients::api::{
    ClientInput, ClientMetricsResponse, ClientNumberValue, ClientPeriod, ClientRankingResponse,
    ClientRow, Reconciliation,
};
use qbr_shared::clients::{numbers, Better, ClientMetric, ClientNumber, Inputs, LinkStatus};
use qbr_shared::thresholds::Bands;
use qbr_shared::{Month, Period};
use std::collections::HashMap;

/// The longest range of months of one client's metrics.
const MAX_MONTHS: usize = 60;

/// Where an entity's values go.
#[derive(Clone, Copy, PartialEq)]
enum Bucket {
    Client(i64),
    Unmatched,
    Internal,
}

fn bucket(e: &EntityRow) -> Bucket {
    match (e.client_id, e.status()) {
        (Some(id), LinkStatus::Proposed | LinkStatus::Confirmed) => Bucket::Client(id),
        (_, LinkStatus::Internal) => Bucket::Internal,
        _ => Bucket::Unmatched,
    }
}

/// Every month's inputs of every client, and of what is no client.
#[derive(Default)]
pub struct MonthValues {
    clients: HashMap<(i64, Month), Vec<ClientInput>>,
    unmatched: HashMap<Month, Vec<(ClientMetric, f64)>>,
    internal: HashMap<Month, Vec<(ClientMetric, f64)>>,
}

fn add(values: &mut Vec<ClientInput>, metric: ClientMetric, value: f64, source: DataSource) {
    match values.iter_mut().find(|i| i.metric == metric) {
        Some(i) => i.value += value,
        None => values.push(ClientInput {
            metric,
            value,
            source,
        }),
    }
}

fn add_pair(values: &mut Vec<(ClientMetric, f64)>, metric: ClientMetric, value: f64) {
    match values.iter_mut().find(|(m, _)| *m == metric) {
        Some((_, v)) => *v += value,
        None => values.push((metric, value)),
    }
}

impl MonthValues {
    pub async fn load(
        conn: &mut AsyncPgConnection,
        org: i32,
        months: &[Month],
    ) -> AppResult<MonthValues> {
        let entities = store::entities(conn, org).await?;
        let where_to: HashMap<(i32, &str), Bucket> = entities
            .iter()
            .map(|e| ((e.vendor_id, e.external_id.as_str()), bucket(e)))
            .collect();
        let mut out = MonthValues::default();
        for row in store::values_in(conn, org, None, months).await? {
            let Some(metric) = row.metric() else { continue };
            let to = where_to
                .get(&(row.vendor_id, row.external_id.as_str()))
                .copied()
                .unwrap_or(Bucket::Unmatched);
            let (month, value) = (row.month(), row.value());
            match to {
                Bucket::Client(id) => add(
                    out.clients.entry((id, month)).or_default(),
                    metric,
                    value,
                    DataSource::Collected,
                ),
                Bucket::Unmatched => {
                    add_pair(out.unmatched.entry(month).or_default(), metric, value)
                }
                Bucket::Internal => add_pair(out.internal.entry(month).or_default(), metric, value),
            }
        }
        // Typed in or imported for the client: that month's value, whatever was collected.
        for row in store::manual_in(conn, org, months).await? {
            let Some(metric) = ClientMetric::parse(&row.metric) else {
                continue;
            };
            let source = DataSource::parse(&row.source).unwrap_or(DataSource::Manual);
            let values = out
                .clients
                .entry((row.client_id, Month::from_date(row.month)))
                .or_default();
            values.retain(|i| i.metric != metric);
            values.push(ClientInput {
                metric,
                value: to_f64(&row.value),
                source,
            });
        }
        for values in out.clients.values_mut() {
            values.sort_by_key(|i| i.metric.index());
            for i in values.iter_mut() {
                i.value = (i.value * 1e6).round() / 1e6;
            }
        }
        Ok(out)
    }

    pub fn month(&self, client: i64, month: Month) -> &[ClientInput] {
        self.clients
            .get(&(client, month))
            .map_or(&[], Vec::as_slice)
    }

    /// A client's inputs of `period` (per month: `months` elapsed).
    pub fn inputs(&self, client: i64, period: &Period, months: u32) -> Inputs {
        let per_month: Vec<Vec<(ClientMetric, f64)>> = period
            .months()
            .iter()
            .map(|m| {
                self.month(client, *m)
                    .iter()
                    .map(|i| (i.metric, i.value))
                    .collect()
            })
            .collect();
        Inputs::of_months(per_month.iter().map(Vec::as_slice), months)
    }

    fn other(map: &HashMap<Month, Vec<(ClientMetric, f64)>>, period: &Period) -> Inputs {
        let per_month: Vec<&[(ClientMetric, f64)]> = period
            .months()
            .iter()
            .map(|m| map.get(m).map_or(&[][..], Vec::as_slice))
            .collect();
        Inputs::of_months(per_month, 1)
    }
}

/// The inputs of a period as the API lists them: collected unless every month with a
/// value was typed in or imported.
fn input_list(
    values: &MonthValues,
    client: i64,
    period: &Period,
    inputs: &Inputs,
) -> Vec<ClientInput> {
    ClientMetric::ALL
        .iter()
        .filter_map(|&metric| {
            let value = inputs.get(metric)?;
            let sources: Vec<DataSource> = period
                .months()
                .iter()
                .flat_map(|m| values.month(client, *m).iter())
                .filter(|i| i.metric == metric)
                .map(|i| i.source)
                .collect();
            let source = match sources.first() {
                Some(first) if sources.iter().all(|s| s == first) => *first,
                _ => DataSource::Collected,
            };
            Some(ClientInput {
                metric,
                value,
                source,
            })
        })
        .collect()
}

/// What the numbers are computed and judged with: the loaded labour cost, and the
/// bands — a client's own, else the organization's for every client, else the default.
pub struct Judge {
    pub loaded_cost: Option<f64>,
    organization: HashMap<ClientNumber, Bands>,
    clients: HashMap<(i64, ClientNumber), Bands>,
}

impl Judge {
    pub async fn load(conn: &mut AsyncPgConnection, org: i32) -> AppResult<Judge> {
        let mut judge = Judge {
            loaded_cost: store::loaded_cost(conn, org).await?,
            organization: HashMap::new(),
            clients: HashMap::new(),
        };
        for row in store::thresholds(conn, org).await? {
            let Some(number) = ClientNumber::parse(&row.number) else {
                continue;
            };
            match row.client_id {
                Some(c) => judge.clients.insert((c, number), row.bands()),
                None => judge.organization.insert(number, row.bands()),
            };
        }
        Ok(judge)
    }

    /// The bands `client`'s `number` is judged by (`None`: the totals row).
    pub fn bands(&self, client: Option<i64>, number: ClientNumber) -> Option<Bands> {
        client
            .and_then(|c| self.clients.get(&(c, number)))
            .or_else(|| self.organization.get(&number))
            .copied()
            .or_else(|| number.default_bands())
    }
}

/// The numbers of a period with the previous period's values.
fn judged(
    inputs: &Inputs,
    previous: &Inputs,
    judge: &Judge,
    client: Option<i64>,
) -> Vec<ClientNumberValue> {
    let bands = |n: ClientNumber| judge.bands(client, n);
    let before = numbers(previous, judge.loaded_cost, bands);
    numbers(inputs, judge.loaded_cost, bands)
        .into_iter()
        .zip(before)
        .map(|(n, p)| ClientNumberValue {
            number: n.number,
            value: n.value,
            status: n.status,
            previous: p.value,
        })
        .collect()
}

async fn load_org(conn: &mut AsyncPgConnection, org_id: i32) -> AppResult<Org> {
    org::load(conn, org_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No organization with id {org_id}")))
}

/// One period of one client, with the previous period for the changes.
fn period_view(
    values: &MonthValues,
    client: i64,
    period: Period,
    current: Month,
    judge: &Judge,
) -> ClientPeriod {
    let months = period.months_elapsed(current).max(1);
    let inputs = values.inputs(client, &period, months);
    let prev = period.previous();
    let previous = values.inputs(client, &prev, prev.months_elapsed(current).max(1));
    ClientPeriod {
        period: period.to_string(),
        inputs: input_list(values, client, &period, &inputs),
        numbers: judged(&inputs, &previous, judge, Some(client)),
    }
}

/// `GET /api/qbr/clients/{id}/metrics?from=&to=`.
pub async fn metrics(
    conn: &mut AsyncPgConnection,
    org_id: i32,
    client_id: i64,
    from: Month,
    to: Month,
) -> AppResult<ClientMetricsResponse> {
    let months = Month::range(from, to, MAX_MONTHS)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let org = load_org(conn, org_id).await?;
    let row = store::client(conn, org_id, client_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No client with id {client_id}")))?;
    let entities = store::entities(conn, org_id).await?;
    // The month before each quarter of the range too: the changes need them.
    let first = months
        .first()
        .map_or(from, |m| m.quarter().prev().months()[0]);
    let span = Month::range(first, to, MAX_MONTHS + 6)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let values = MonthValues::load(conn, org_id, &span).await?;
    let judge = Judge::load(conn, org_id).await?;
    let current = org.current_month(chrono::Utc::now());
    let mut quarters: Vec<Period> = Vec::new();
    for m in &months {
        let q = Period::Quarter(m.quarter());
        if !quarters.contains(&q) {
            quarters.push(q);
        }
    }
    Ok(ClientMetricsResponse {
        organization_id: org_id,
        client: client_view(&row, &entities),
        months: months
            .iter()
            .map(|m| period_view(&values, client_id, Period::Month(*m), current, &judge))
            .collect(),
        quarters: quarters
            .into_iter()
            .map(|q| period_view(&values, client_id, q, current, &judge))
            .collect(),
        loaded_cost_per_hour: judge.loaded_cost,
    })
}

/// Orders rows best first by `by` (no value last, then by name).
fn rank(rows: &mut [ClientRow], by: ClientNumber) {
    let value = |r: &ClientRow| {
        r.numbers
            .iter()
            .find(|n| n.number == by)
            .and_then(|n| n.value)
    };
    rows.sort_by(|a, b| {
        let ord = match (value(a), value(b)) {
            (Some(x), Some(y)) => match by.better() {
                Better::Higher => y.total_cmp(&x),
                Better::Lower => x.total_cmp(&y),
            },
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        ord.then_with(|| a.name.cmp(&b.name))
    });
}

/// The organization's value of `metric` over `period`, by the catalogue's rule.
fn organization_value(
    rows: &[crate::store::metrics::MetricRow],
    metric: &str,
    period: &Period,
) -> Option<f64> {
    let values: Vec<f64> = period
        .months()
        .iter()
        .filter_map(|m| {
            let p = m.to_string();
            rows.iter()
                .find(|r| r.period == p && r.metric_name == metric)
                .map(|r| r.value())
        })
        .collect();
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().sum();
    #[allow(clippy::cast_precision_loss)]
    let v = match metric_def(metric).map(|d| d.aggregation) {
        Some(Aggregation::Avg) => sum / values.len() as f64,
        Some(Aggregation::Last) => values.last().copied().unwrap_or(sum),
        _ => sum,
    };
    Some((v * 1e6).round() / 1e6)
}

/// `GET /api/qbr/clients/ranking?period=&by=`.
pub async fn ranking(
    conn: &mut AsyncPgConnection,
    org_id: i32,
    period: Period,
    by: ClientNumber,
) -> AppResult<ClientRankingResponse> {
    let org = load_org(conn, org_id).await?;
    let clients = store::clients(conn, org_id).await?;
    let prev = period.previous();
    let mut months = prev.months();
    months.extend(period.months());
    let values = MonthValues::load(conn, org_id, &months).await?;
    let judge = Judge::load(conn, org_id).await?;
    let current = org.current_month(chrono::Utc::now());
    let n = period.months_elapsed(current).max(1);
    let n_prev = prev.months_elapsed(current).max(1);
    let mut all_inputs = Vec::new();
    let mut rows: Vec<ClientRow> = clients
        .iter()
        .map(|c| {
            let inputs = values.inputs(c.id, &period, n);
            let previous = values.inputs(c.id, &prev, n_prev);
            let row = ClientRow {
                client_id: c.id,
                name: c.name.clone(),
                inputs: input_list(&values, c.id, &period, &inputs),
                numbers: judged(&inputs, &previous, &judge, Some(c.id)),
            };
            all_inputs.push((inputs, previous));
            row
        })
        .collect();
    rank(&mut rows, by);
    let mut total = Inputs::total(all_inputs.iter().map(|(i, _)| i));
    let mut total_prev = Inputs::total(all_inputs.iter().map(|(_, p)| p));
    (total.months, total_prev.months) = (n, n_prev);
    let totals = ClientRow {
        client_id: 0,
        name: "All clients".into(),
        inputs: ClientMetric::ALL
            .iter()
            .filter_map(|&metric| {
                Some(ClientInput {
                    metric,
                    value: total.get(metric)?,
                    source: DataSource::Collected,
                })
            })
            .collect(),
        numbers: judged(&total, &total_prev, &judge, None),
    };
    let org_rows = rows_for_months(conn, org_id, &period.months()).await?;
    let unmatched = MonthValues::other(&values.unmatched, &period);
    let internal = MonthValues::other(&values.internal, &period);
    let reconciliation = ClientMetric::ALL
        .iter()
        .filter_map(|&metric| {
            let org_metric = metric.organization_metric()?;
            Some(Reconciliation {
                metric,
                organization: organization_value(&org_rows, org_metric, &period),
                clients: total.get(metric).unwrap_or(0.0),
                unmatched: unmatched.get(metric).unwrap_or(0.0),
                internal: internal.get(metric).unwrap_or(0.0),
            })
        })
        .collect();
    Ok(ClientRankingResponse {
        organization_id: org_id,
        period: period.to_string(),
        by,
        rows,
        totals,
        reconciliation,
    })
}

/// A client's quarter for its report: the quarter, the previous quarter and the three
/// months, each with inputs and numbers; and the quarter's tickets by category.
pub struct QuarterOfClient {
    pub client: qbr_shared::clients::api::Client,
    pub current: ClientPeriod,
    pub previous: ClientPeriod,
    pub months: Vec<ClientPeriod>,
    pub categories: Vec<crate::report::client::CategoryRow>,
}

pub async fn quarter_of_client(
    conn: &mut AsyncPgConnection,
    org: &Org,
    client_id: i64,
    quarter: qbr_shared::Quarter,
) -> AppResult<QuarterOfClient> {
    let row = store::client(conn, org.id, client_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No client with id {client_id}")))?;
    let entities = store::entities(conn, org.id).await?;
    let mut months = quarter.prev().prev().months().to_vec();
    months.extend(quarter.prev().months());
    months.extend(quarter.months());
    let values = MonthValues::load(conn, org.id, &months).await?;
    let judge = Judge::load(conn, org.id).await?;
    let current = org.current_month(chrono::Utc::now());
    let view = |p: Period| period_view(&values, client_id, p, current, &judge);
    let mine: std::collections::HashSet<(i32, &str)> = entities
        .iter()
        .filter(|e| bucket(e) == Bucket::Client(client_id))
        .map(|e| (e.vendor_id, e.external_id.as_str()))
        .collect();
    let mut categories: Vec<crate::report::client::CategoryRow> = Vec::new();
    let q_months = quarter.months();
    for t in store::tickets_in(conn, org.id, &q_months).await? {
        if !mine.contains(&(t.vendor_id, t.external_id.as_str())) {
            continue;
        }
        let Some(i) = q_months.iter().position(|m| m.first_day() == t.month) else {
            continue;
        };
        let n = u32::try_from(t.tickets).unwrap_or(0);
        match categories
            .iter_mut()
            .find(|c| c.dimension == t.dimension && c.label == t.label)
        {
            Some(c) => c.months[i] += n,
            None => {
                let mut months = [0; 3];
                months[i] = n;
                categories.push(crate::report::client::CategoryRow {
                    dimension: t.dimension.clone(),
                    label: t.label.clone(),
                    months,
                });
            }
        }
    }
    // The largest categories first.
    categories.sort_by(|a, b| {
        let total = |c: &crate::report::client::CategoryRow| c.months.iter().sum::<u32>();
        total(b).cmp(&total(a)).then_with(|| a.label.cmp(&b.label))
    });
    Ok(QuarterOfClient {
        client: client_view(&row, &entities),
        current: view(Period::Quarter(quarter)),
        previous: view(Period::Quarter(quarter.prev())),
        months: q_months.iter().map(|m| view(Period::Month(*m))).collect(),
        categories,
    })
}

/// What a client's report shows.
pub async fn report_data(
    conn: &mut AsyncPgConnection,
    org: &Org,
    id: i64,
    quarter: qbr_shared::Quarter,
    tz: chrono_tz::Tz,
    internal: bool,
) -> AppResult<crate::report::client::ClientReportData> {
    let q = quarter_of_client(conn, org, id, quarter).await?;
    let logo = super::logo::for_report(conn, org.id).await?;
    Ok(crate::report::client::ClientReportData {
        msp: org.name.clone(),
        logo,
        client: q.client.name,
        quarter,
        generated_at: chrono::Utc::now()
            .with_timezone(&tz)
            .format("%-d %b %Y, %H:%M %Z")
            .to_string(),
        internal,
        current: q.current,
        previous: q.previous,
        months: q.months,
        categories: q.categories,
    })
}
