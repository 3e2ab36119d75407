//! The insight endpoints' request and answer types: anomalies, the forecast of the
//! quarter in progress, the health score, goals and the written summary.
use super::goals::GoalProgress;
use super::health::{HealthScore, HealthWeights};
use super::summary::Summary;
use crate::api::api_type;
use crate::catalogue::Unit;
use crate::thresholds::Status;
use crate::words::words;

words! {
    /// What an anomaly's series is.
    pub enum SeriesKind {
        /// A monthly input of the catalogue (`reactive_time_spent`).
        Input = "input",
        /// One of the 18 SmartNumbers (`rhem`).
        SmartNumber = "smartnumber",
        /// A client's monthly input (`reactive_tickets_created`, a [`crate::clients::ClientMetric`]).
        ClientMetric = "client_metric",
        /// A client's number of a month (`rhem`, a [`crate::clients::ClientNumber`]).
        ClientNumber = "client_number",
    }
}

words! {
    /// Which side of the typical range a value is on.
    pub enum Direction {
        Above = "above",
        Below = "below",
    }
}

api_type! {
    /// A month's value far from what is typical for that series.
    pub struct Anomaly {
        /// The metric's or SmartNumber's key.
        pub key: String,
        pub kind: SeriesKind,
        pub label: String,
        pub unit: Unit,
        /// `YYYY-MM`.
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub month: String,
        /// The month's value; for the month in progress its run rate (a flow scaled
        /// to the whole month).
        pub value: f64,
        /// The month is in progress and was judged on its run rate.
        pub run_rate: bool,
        /// The robust score: distance from the typical value in robust standard
        /// deviations (1.4826 × MAD), signed.
        pub score: f64,
        /// The range of values that would not have been flagged.
        pub typical_low: f64,
        pub typical_high: f64,
        pub direction: Direction,
        /// "Reactive hours in Oct 2025: 542, typical 250–420 for October."
        pub explanation: String,
    }
}

api_type! {
    /// `GET /api/qbr/anomalies?from=&to=`: every anomaly of the months `from..=to`,
    /// the strongest first.
    pub struct AnomaliesResponse {
        pub organization_id: i32,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub from: String,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub to: String,
        /// How a score is judged: |score| above this is an anomaly.
        pub threshold: f64,
        pub anomalies: Vec<Anomaly>,
    }
}

impl Anomaly {
    /// The hover hint: "Typical range 250.0 h – 420.0 h", and for the month in progress
    /// that it was judged on its run rate.
    pub fn hint(&self) -> String {
        let range = super::typical_range(self.unit, self.typical_low, self.typical_high);
        let pace = if self.run_rate {
            "; the month in progress, judged on its run rate"
        } else {
            ""
        };
        format!("Typical range {range}{pace}")
    }
}

api_type! {
    /// An unusual month of one client's input or number.
    pub struct ClientAnomaly {
        pub client_id: i64,
        pub client_name: String,
        /// `kind` is `client_metric` or `client_number`; the explanation does not name
        /// the client.
        pub anomaly: Anomaly,
    }
}

api_type! {
    /// `GET /api/qbr/clients/anomalies` (every client) and
    /// `GET /api/qbr/clients/{id}/anomalies` (one): the clients' unusual months of
    /// `from..=to`, the strongest first.
    pub struct ClientAnomaliesResponse {
        pub organization_id: i32,
        /// The client asked, when one was.
        pub client_id: Option<i64>,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub from: String,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub to: String,
        pub threshold: f64,
        /// How many clients were scored (those with at least six months of history in
        /// some series).
        pub clients_scored: u32,
        pub anomalies: Vec<ClientAnomaly>,
    }
}

api_type! {
    /// Where a SmartNumber is expected to end a quarter.
    pub struct NumberForecast {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub key: String,
        pub label: String,
        pub unit: Unit,
        /// The expected value at the end of the quarter; null when its inputs are
        /// missing.
        pub expected: Option<f64>,
        /// The 80 % interval: 8 quarters in 10 end between `low` and `high`.
        pub low: Option<f64>,
        pub high: Option<f64>,
        /// The status `expected` would land in.
        pub status: Status,
        /// The value of the months elapsed so far, when there are any.
        pub so_far: Option<f64>,
    }
}

api_type! {
    /// `GET /api/qbr/forecast?period=`: each SmartNumber's expected end-of-quarter value.
    pub struct ForecastResponse {
        pub organization_id: i32,
        /// The quarter (`2026-Q4`).
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Quarter)))]
        pub period: String,
        /// Whole months of the quarter with data (0–3); 3 means the quarter is over and
        /// the forecast is its actual value.
        pub months_elapsed: u32,
        /// The month in progress counted at its run rate, when the quarter has one.
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = Option<crate::Month>)))]
        pub run_rate_month: Option<String>,
        /// How the remaining months were forecast (in words).
        pub method: String,
        pub numbers: Vec<NumberForecast>,
    }
}

api_type! {
    /// The health score of one period.
    pub struct PeriodHealth {
        pub period: String,
        pub health: HealthScore,
    }
}

api_type! {
    /// `GET /api/qbr/health-score?from=&to=`: the score of every month and quarter of
    /// the range, oldest first, with its definition and weights.
    pub struct HealthScoreResponse {
        pub organization_id: i32,
        pub weights: HealthWeights,
        /// How the score is made (shown next to it).
        pub definition: String,
        pub months: Vec<PeriodHealth>,
        pub quarters: Vec<PeriodHealth>,
    }
}

api_type! {
    /// One goal with where its number stands.
    pub struct GoalStanding {
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub key: String,
        pub label: String,
        pub unit: Unit,
        /// A quarter (`2026-Q3`) or a year (`2026`).
        pub period: String,
        pub target: f64,
        /// The number's value for the goal's period so far.
        pub value: Option<f64>,
        /// The value of the period before (where the way to the target starts).
        pub baseline: Option<f64>,
        pub progress: Option<GoalProgress>,
        /// "Net Profit % is 12.4 % against a goal of 15.0 % for 2026: 2.6 points to go."
        pub sentence: Option<String>,
        pub set_by: String,
        pub set_at: chrono::DateTime<chrono::Utc>,
    }
}

api_type! {
    /// `GET /api/qbr/goals`: the organization's goals, newest period first.
    pub struct GoalsResponse {
        pub organization_id: i32,
        pub goals: Vec<GoalStanding>,
    }
}

api_type! {
    /// `PUT /api/qbr/goals` (admins): set a goal, or remove it with `target: null`.
    pub struct GoalUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::openapi::SmartNumberKey)))]
        pub key: String,
        /// A quarter (`2026-Q3`) or a year (`2026`).
        pub period: String,
        #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e20, exclusive_maximum = 1e20)))]
        pub target: Option<f64>,
    }
}

api_type! {
    /// `GET /api/qbr/summary?period=`: the period's written summary and health score.
    pub struct SummaryResponse {
        pub organization_id: i32,
        pub period: String,
        pub summary: Summary,
        pub health: HealthScore,
        /// The previous period's score, for the change.
        pub previous_score: Option<f64>,
    }
}

/// One client's month with unusual values: the strongest explained, the others named.
/// One event (a ransomware clean-up) moves tickets, hours and RHEM together; listed
/// one per line it would fill a list on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMonth<'a> {
    pub first: &'a ClientAnomaly,
    /// The labels of the month's other unusual values, strongest first.
    pub also: Vec<&'a str>,
}

impl ClientMonth<'_> {
    /// "Also unusual: RHEM, Reactive hours." when there are others.
    pub fn also_text(&self) -> Option<String> {
        (!self.also.is_empty()).then(|| format!("Also unusual: {}.", self.also.join(", ")))
    }
}

/// `anomalies` (strongest first) grouped by client and month, strongest group first.
pub fn by_client_month(anomalies: &[ClientAnomaly]) -> Vec<ClientMonth<'_>> {
    let mut out: Vec<ClientMonth> = Vec::new();
    for c in anomalies {
        let same = |g: &&mut ClientMonth| {
            g.first.client_id == c.client_id && g.first.anomaly.month == c.anomaly.month
        };
        match out.iter_mut().find(|g| same(g)) {
            Some(g) => g.also.push(&c.anomaly.label),
            None => out.push(ClientMonth {
                first: c,
                also: Vec::new(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unusual(client_id: i64, month: &str, label: &str, score: f64) -> ClientAnomaly {
        ClientAnomaly {
            client_id,
            client_name: format!("Client {client_id}"),
            anomaly: Anomaly {
                key: label.to_lowercase(),
                kind: SeriesKind::ClientMetric,
                label: label.to_string(),
                unit: Unit::Count,
                month: month.to_string(),
                value: 10.0,
                run_rate: false,
                score,
                typical_low: 1.2,
                typical_high: 4.6,
                direction: Direction::Above,
                explanation: format!("{label} in {month}."),
            },
        }
    }

    #[test]
    fn a_clients_month_is_one_group_in_the_order_of_its_strongest_value() {
        let list = [
            unusual(1, "2026-03", "Hours", 9.0),
            unusual(2, "2026-03", "Tickets", 8.0),
            unusual(1, "2026-03", "RHEM", 7.0),
            unusual(1, "2026-02", "Hours", 6.0),
            unusual(1, "2026-03", "Tickets", 5.0),
        ];
        let groups = by_client_month(&list);
        let firsts: Vec<(i64, &str)> = groups
            .iter()
            .map(|g| (g.first.client_id, g.first.anomaly.month.as_str()))
            .collect();
        assert_eq!(firsts, [(1, "2026-03"), (2, "2026-03"), (1, "2026-02")]);
        assert_eq!(groups[0].also, ["RHEM", "Tickets"]);
        assert_eq!(
            groups[0].also_text().as_deref(),
            Some("Also unusual: RHEM, Tickets.")
        );
        assert_eq!(groups[1].also_text(), None);
    }

    #[test]
    fn the_hint_gives_the_typical_range_and_the_pace() {
        let mut a = unusual(1, "2026-03", "Hours", 9.0).anomaly;
        // A count's range in the whole numbers inside it.
        assert_eq!(a.hint(), "Typical range 2 – 4");
        a.run_rate = true;
        assert!(a.hint().ends_with("judged on its run rate"));
    }
}
