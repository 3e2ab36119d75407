//! `GET /api/qbr/clients/anomalies` and `/clients/{id}/anomalies`: the months in which
//! a client's inputs or numbers were far from what is typical *for that client* — the
//! same robust score as the organization's (`insight::score_series_with`), on each
//! client's own monthly series.
//!
//! One client is small: a handful of tickets a month, where chance alone moves a count
//! by its square root. The scores therefore take the series' chance noise into account
//! (`insight::Noise`): ticket counts and hours at least their Poisson noise, numbers per
//! endpoint or seat that noise over the month's endpoints or seats, device counts at
//! least one device. Without it, a quiet client's single ticket would be "unusual".
//!
//! The month in progress is judged on its run rate once half of it has passed, as the
//! organization's — except revenue, which is invoiced in lumps (a month's invoices on
//! its first day would read as thirty times the usual).
use super::anomalies::{anomaly_of, Subject, MAX_MONTHS};
use super::{in_progress, HISTORY_MONTHS, RUN_RATE_FROM};
use crate::error::{AppError, AppResult};
use crate::service::client_numbers::{Judge, MonthValues};
use crate::store::clients::{self as store, ClientRow};
use crate::store::org::Org;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use insight::Noise;
use qbr_shared::clients::{numbers, Adding, ClientMetric, ClientNumber, ClientUnit, Inputs};
use qbr_shared::insight::api::{Anomaly, ClientAnomaliesResponse, ClientAnomaly, SeriesKind};
use qbr_shared::Month;

/// What a client's series is of.
#[derive(Clone, Copy)]
enum Of {
    Metric(ClientMetric),
    Number(ClientNumber),
}

impl Of {
    /// Every series scored: each input, and each number but the service cost (the
    /// service hours at a fixed rate: the same anomaly twice).
    fn all() -> impl Iterator<Item = Of> {
        let metrics = ClientMetric::ALL.iter().map(|m| Of::Metric(*m));
        let numbers = ClientNumber::ALL
            .iter()
            .filter(|n| **n != ClientNumber::ServiceCost)
            .map(|n| Of::Number(*n));
        metrics.chain(numbers)
    }

    /// The value cannot be below 0 (revenue can: a credit memo; so can a margin).
    fn non_negative(self) -> bool {
        !matches!(
            self,
            Of::Metric(ClientMetric::Revenue)
                | Of::Number(ClientNumber::Margin | ClientNumber::MarginPct)
        )
    }
}

/// One month of a client's series, with the chance noise of that month.
#[derive(Clone, Copy)]
struct Point {
    month: Month,
    value: f64,
    noise: Noise,
}

/// The anomalies of the months `from..=to` of one client (`only`) or every client,
/// strongest first.
pub async fn client_anomalies(
    conn: &mut AsyncPgConnection,
    org: &Org,
    only: Option<i64>,
    from: Month,
    to: Month,
    now: DateTime<Utc>,
) -> AppResult<ClientAnomaliesResponse> {
    let months = Month::range(from, to, MAX_MONTHS)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let loaded = Month::range(from.add_months(-HISTORY_MONTHS), to, 1200)
        .map_err(|e| AppError::invalid_parameter(format!("from/to: {e}")))?;
    let clients: Vec<ClientRow> = store::clients(conn, org.id)
        .await?
        .into_iter()
        .filter(|c| only.is_none_or(|id| c.id == id))
        .collect();
    let values = MonthValues::load(conn, org.id, &loaded).await?;
    let loaded_cost = Judge::load(conn, org.id).await?.loaded_cost;
    let pace = Pace::of(org, now);
    let mut found = Vec::new();
    let mut clients_scored = 0;
    for client in &clients {
        let monthly = ClientMonths {
            values: &values,
            client: client.id,
            loaded_cost,
            pace,
        };
        let (scored, anomalies) = monthly.anomalies(&loaded, &months);
        clients_scored += u32::from(scored);
        found.extend(anomalies.into_iter().map(|anomaly| ClientAnomaly {
            client_id: client.id,
            client_name: client.name.clone(),
            anomaly,
        }));
    }
    found.sort_by(|a, b| b.anomaly.score.abs().total_cmp(&a.anomaly.score.abs()));
    Ok(ClientAnomaliesResponse {
        organization_id: org.id,
        client_id: only,
        from: from.to_string(),
        to: to.to_string(),
        threshold: insight::anomaly::THRESHOLD,
        clients_scored,
        anomalies: found,
    })
}

/// The month in progress and how much of it has passed.
#[derive(Clone, Copy)]
struct Pace {
    current: Month,
    elapsed: f64,
}

impl Pace {
    fn of(org: &Org, now: DateTime<Utc>) -> Pace {
        let (current, elapsed) = in_progress(org, now);
        Pace { current, elapsed }
    }

    /// A month's inputs as scored: a closed month as it is, the month in progress at
    /// its run rate (without revenue) once half of it has passed, else none.
    fn inputs(self, month: Month, values: Vec<(ClientMetric, f64)>) -> Vec<(ClientMetric, f64)> {
        if month < self.current {
            return values;
        }
        if month > self.current || self.elapsed < RUN_RATE_FROM {
            return Vec::new();
        }
        values
            .into_iter()
            .filter(|(m, _)| *m != ClientMetric::Revenue)
            .map(|(m, v)| match m.adding() {
                Adding::Sum => (m, v / self.elapsed),
                Adding::Avg => (m, v),
            })
            .collect()
    }
}

/// One client's monthly values and how its numbers are computed.
struct ClientMonths<'a> {
    values: &'a MonthValues,
    client: i64,
    loaded_cost: Option<f64>,
    pace: Pace,
}

impl ClientMonths<'_> {
    /// Whether any series had enough history to be scored, and the anomalies of
    /// `months`.
    fn anomalies(&self, loaded: &[Month], months: &[Month]) -> (bool, Vec<Anomaly>) {
        let series = self.series(loaded);
        let mut scored = false;
        let mut found = Vec::new();
        for (of, points) in Of::all().zip(series) {
            let history: Vec<(Month, f64)> = points.iter().map(|p| (p.month, p.value)).collect();
            for p in points.iter().filter(|p| months.contains(&p.month)) {
                let Some(score) = insight::score_series_with(&history, p.month, p.value, p.noise)
                else {
                    continue;
                };
                scored = true;
                if score.is_anomaly {
                    let run_rate = p.month == self.pace.current;
                    found.push(anomaly(of, &score, run_rate));
                }
            }
        }
        (scored, found)
    }

    /// Each series of [`Of::all`], in that order: its months with a value.
    fn series(&self, loaded: &[Month]) -> Vec<Vec<Point>> {
        let mut out: Vec<Vec<Point>> = Of::all().map(|_| Vec::new()).collect();
        for &month in loaded {
            let raw: Vec<(ClientMetric, f64)> = self
                .values
                .month(self.client, month)
                .iter()
                .map(|i| (i.metric, i.value))
                .collect();
            let inputs = self.pace.inputs(month, raw);
            if inputs.is_empty() {
                continue;
            }
            let period = Inputs::of_months([inputs.as_slice()], 1);
            let numbers = numbers(&period, self.loaded_cost, |_| None);
            for (slot, of) in out.iter_mut().zip(Of::all()) {
                let value = match of {
                    Of::Metric(m) => period.get(m),
                    Of::Number(n) => numbers.iter().find(|v| v.number == n).and_then(|v| v.value),
                };
                if let Some(value) = value {
                    slot.push(Point {
                        month,
                        value,
                        noise: noise(of, &period),
                    });
                }
            }
        }
        out
    }
}

/// The chance noise of a series in a month (see the module's documentation).
fn noise(of: Of, inputs: &Inputs) -> Noise {
    use ClientMetric as M;
    let per = |level: Option<f64>| level.map_or(Noise::Measured, Noise::CountsPer);
    match of {
        Of::Metric(M::Endpoints | M::Seats) => Noise::Level,
        Of::Metric(M::AgreementMrr | M::Revenue) => Noise::Measured,
        Of::Metric(_) => Noise::Counts,
        Of::Number(ClientNumber::TicketsPerEndpoint | ClientNumber::Rhem) => {
            per(inputs.get(M::Endpoints))
        }
        Of::Number(ClientNumber::HoursPerSeat) => per(inputs.get(M::Seats)),
        Of::Number(_) => Noise::Measured,
    }
}

fn anomaly(of: Of, score: &insight::AnomalyScore, run_rate: bool) -> Anomaly {
    let (kind, key, label, unit) = match of {
        Of::Metric(m) => (SeriesKind::ClientMetric, m.as_str(), m.label(), m.unit()),
        Of::Number(n) => (SeriesKind::ClientNumber, n.as_str(), n.label(), n.unit()),
    };
    let fmt = |v: f64| unit.format(v);
    let subject = Subject {
        kind,
        key,
        label,
        unit: unit.catalogue_unit(),
        fmt: &fmt,
        non_negative: of.non_negative(),
        whole: matches!(of, Of::Metric(_)) && unit == ClientUnit::Count,
    };
    anomaly_of(&subject, score, run_rate)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pace(elapsed: f64) -> Pace {
        Pace {
            current: Month::new(2026, 12).unwrap(),
            elapsed,
        }
    }

    fn month_values() -> Vec<(ClientMetric, f64)> {
        vec![
            (ClientMetric::ReactiveTicketsCreated, 6.0),
            (ClientMetric::Endpoints, 40.0),
            (ClientMetric::Revenue, 9000.0),
        ]
    }

    #[test]
    fn a_closed_month_is_scored_as_it_is() {
        let nov = Month::new(2026, 11).unwrap();
        assert_eq!(pace(0.1).inputs(nov, month_values()), month_values());
    }

    #[test]
    fn the_month_in_progress_runs_at_its_pace_without_revenue() {
        let dec = Month::new(2026, 12).unwrap();
        assert_eq!(
            pace(0.5).inputs(dec, month_values()),
            vec![
                (ClientMetric::ReactiveTicketsCreated, 12.0),
                (ClientMetric::Endpoints, 40.0),
            ]
        );
        // Before half of it has passed, and after it: nothing to judge.
        assert!(pace(0.4).inputs(dec, month_values()).is_empty());
        let jan = Month::new(2027, 1).unwrap();
        assert!(pace(0.9).inputs(jan, month_values()).is_empty());
    }

    #[test]
    fn small_counts_are_judged_with_their_chance_noise() {
        let mut inputs = Inputs::of_months([month_values().as_slice()], 1);
        assert_eq!(
            noise(Of::Metric(ClientMetric::ReactiveTicketsCreated), &inputs),
            Noise::Counts
        );
        assert_eq!(
            noise(Of::Metric(ClientMetric::Endpoints), &inputs),
            Noise::Level
        );
        assert_eq!(
            noise(Of::Number(ClientNumber::Rhem), &inputs),
            Noise::CountsPer(40.0)
        );
        // Without seats, hours per seat has no level to divide the noise by.
        inputs.set(ClientMetric::Seats, None);
        assert_eq!(
            noise(Of::Number(ClientNumber::HoursPerSeat), &inputs),
            Noise::Measured
        );
    }

    #[test]
    fn every_series_but_the_service_cost_is_scored() {
        let all: Vec<Of> = Of::all().collect();
        assert_eq!(
            all.len(),
            ClientMetric::ALL.len() + ClientNumber::ALL.len() - 1
        );
        assert!(!all
            .iter()
            .any(|o| matches!(o, Of::Number(ClientNumber::ServiceCost))));
    }
}
