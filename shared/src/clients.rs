//! The MSP's clients across vendors, and the numbers of each: which vendor entities
//! (a ConnectWise company, a NinjaOne organization, a QuickBooks customer) are one
//! client (matched by a normalized name, then confirmed by a person), the monthly
//! inputs collected per client, how a period's inputs add up, and the per-client
//! numbers judged against bands. Pure rules: the backend stores, the SPA shows.
use crate::thresholds::{Bands, Status};
use crate::words::words;
use crate::Vendor;

pub mod api;

words! {
    /// A monthly input of one client (`client_metric_values.metric`).
    pub enum ClientMetric {
        /// Reactive tickets (the reactive boards, no child tickets) entered in the month.
        ReactiveTicketsCreated = "reactive_tickets_created",
        /// Reactive tickets closed in the month (a closed status, `closedDate`).
        ReactiveTicketsClosed = "reactive_tickets_closed",
        /// Hours of time entries on reactive tickets entered in the month.
        ReactiveHours = "reactive_hours",
        /// Hours of every service-ticket time entry entered in the month.
        ServiceHours = "service_hours",
        /// The part of the service hours charged to an agreement.
        AgreementHours = "agreement_hours",
        /// Endpoints managed (the month's last device snapshot).
        Endpoints = "endpoints",
        /// Seats managed (endpoints that are not servers or VM hosts).
        Seats = "seats",
        /// Monthly bill amount of the agreements active in the month.
        AgreementMrr = "agreement_mrr",
        /// What the client was invoiced in the month (QuickBooks sales, or typed in).
        Revenue = "revenue",
    }
}

/// How a metric's months add up to a quarter or a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adding {
    /// Flows: the sum of the months.
    Sum,
    /// Stocks: the average of the months that have a value (as the organization's
    /// endpoints and seats).
    Avg,
}

/// What a value counts, for formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientUnit {
    Count,
    Hours,
    Usd,
    /// A share, 0.25 = 25 %.
    Share,
    /// Dollars per hour.
    UsdPerHour,
}

impl ClientUnit {
    /// The catalogue's unit it formats as (dollars per hour: dollars, with "/h").
    pub fn catalogue_unit(self) -> crate::catalogue::Unit {
        use crate::catalogue::Unit;
        match self {
            ClientUnit::Count => Unit::Count,
            ClientUnit::Hours => Unit::Hours,
            ClientUnit::Usd | ClientUnit::UsdPerHour => Unit::Usd,
            ClientUnit::Share => Unit::Pct,
        }
    }

    /// A value for people: "216.0 h", "0.30 h (18 min)", "$142/h", "23.2%".
    pub fn format(self, v: f64) -> String {
        use crate::format;
        match self {
            // Hours as inputs are sums (216.0 h): minutes only help per-endpoint numbers.
            ClientUnit::Hours if v.abs() >= 1.0 || v == 0.0 => {
                format!("{} h", format::grouped(v, 1))
            }
            ClientUnit::UsdPerHour => format!("{}/h", format::usd(v)),
            unit => format::value(unit.catalogue_unit(), Some(v)),
        }
    }
}

impl ClientMetric {
    /// Whether `value` is one this metric can take: finite, below 10^14, and not
    /// negative except revenue (a credit memo larger than a month's billing).
    pub fn accepts(self, value: f64) -> Result<(), String> {
        let floor = if self == ClientMetric::Revenue {
            -1e14
        } else {
            0.0
        };
        if value.is_finite() && value > -1e14 && value < 1e14 && value >= floor {
            Ok(())
        } else if self == ClientMetric::Revenue {
            Err(format!("{value} is not a usable amount"))
        } else {
            Err(format!("{value} is not a usable value (0 or more)"))
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClientMetric::ReactiveTicketsCreated => "Reactive tickets created",
            ClientMetric::ReactiveTicketsClosed => "Reactive tickets closed",
            ClientMetric::ReactiveHours => "Reactive hours",
            ClientMetric::ServiceHours => "Service hours",
            ClientMetric::AgreementHours => "Hours on agreement",
            ClientMetric::Endpoints => "Endpoints",
            ClientMetric::Seats => "Seats",
            ClientMetric::AgreementMrr => "Agreement MRR",
            ClientMetric::Revenue => "Revenue",
        }
    }

    pub fn adding(self) -> Adding {
        match self {
            ClientMetric::Endpoints | ClientMetric::Seats | ClientMetric::AgreementMrr => {
                Adding::Avg
            }
            _ => Adding::Sum,
        }
    }

    pub fn unit(self) -> ClientUnit {
        match self {
            ClientMetric::ReactiveTicketsCreated
            | ClientMetric::ReactiveTicketsClosed
            | ClientMetric::Endpoints
            | ClientMetric::Seats => ClientUnit::Count,
            ClientMetric::ReactiveHours
            | ClientMetric::ServiceHours
            | ClientMetric::AgreementHours => ClientUnit::Hours,
            ClientMetric::AgreementMrr | ClientMetric::Revenue => ClientUnit::Usd,
        }
    }

    /// The vendor that collects it (revenue: QuickBooks, or typed in without it).
    pub fn vendor(self) -> Vendor {
        match self {
            ClientMetric::Endpoints | ClientMetric::Seats => Vendor::NinjaOne,
            ClientMetric::Revenue => Vendor::QuickBooks,
            _ => Vendor::ConnectWise,
        }
    }

    /// The organization's metric the clients' values add up to, where there is one.
    pub fn organization_metric(self) -> Option<&'static str> {
        match self {
            ClientMetric::ReactiveTicketsCreated => Some("reactive_tickets_created"),
            ClientMetric::ReactiveTicketsClosed => Some("reactive_tickets_closed"),
            ClientMetric::ReactiveHours => Some("reactive_time_spent"),
            ClientMetric::Endpoints => Some("endpoints_managed"),
            ClientMetric::Seats => Some("seats_managed"),
            _ => None,
        }
    }

    /// The position in [`ClientMetric::ALL`] (tables keep this order).
    pub fn index(self) -> usize {
        ClientMetric::ALL
            .iter()
            .position(|m| *m == self)
            .unwrap_or(0)
    }
}

words! {
    /// A number judged per client and period.
    pub enum ClientNumber {
        /// Reactive tickets per endpoint per month.
        TicketsPerEndpoint = "tickets_per_endpoint",
        /// Reactive hours per endpoint per month: the client's RHEM.
        Rhem = "rhem",
        /// Service hours per seat per month.
        HoursPerSeat = "hours_per_seat",
        /// Revenue per service hour.
        EffectiveRate = "effective_rate",
        /// Service hours at the loaded labour cost per hour (a setting).
        ServiceCost = "service_cost",
        /// Revenue less the service cost.
        Margin = "margin",
        /// The margin as a share of revenue.
        MarginPct = "margin_pct",
        /// The share of service hours charged to an agreement.
        AgreementCoverage = "agreement_coverage",
    }
}

/// Whether more is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl ClientNumber {
    pub fn label(self) -> &'static str {
        match self {
            ClientNumber::TicketsPerEndpoint => "Tickets / endpoint / month",
            ClientNumber::Rhem => "RHEM (reactive h / endpoint / month)",
            ClientNumber::HoursPerSeat => "Hours / seat / month",
            ClientNumber::EffectiveRate => "Effective hourly rate",
            ClientNumber::ServiceCost => "Service cost",
            ClientNumber::Margin => "Margin",
            ClientNumber::MarginPct => "Margin %",
            ClientNumber::AgreementCoverage => "Hours on agreement",
        }
    }

    pub fn unit(self) -> ClientUnit {
        match self {
            ClientNumber::TicketsPerEndpoint => ClientUnit::Count,
            ClientNumber::Rhem | ClientNumber::HoursPerSeat => ClientUnit::Hours,
            ClientNumber::EffectiveRate => ClientUnit::UsdPerHour,
            ClientNumber::ServiceCost | ClientNumber::Margin => ClientUnit::Usd,
            ClientNumber::MarginPct | ClientNumber::AgreementCoverage => ClientUnit::Share,
        }
    }

    pub fn better(self) -> Better {
        match self {
            ClientNumber::TicketsPerEndpoint
            | ClientNumber::Rhem
            | ClientNumber::HoursPerSeat
            | ClientNumber::ServiceCost => Better::Lower,
            _ => Better::Higher,
        }
    }

    /// Whether it shows what the MSP earns on the client (left out of the report the
    /// client is given unless asked).
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            ClientNumber::EffectiveRate
                | ClientNumber::ServiceCost
                | ClientNumber::Margin
                | ClientNumber::MarginPct
        )
    }

    /// The bands a client's number is judged by unless the organization sets others:
    /// the organization's own bands where the number is one of the SmartNumbers (RHEM,
    /// tickets per endpoint), else documented rules of thumb.
    pub fn default_bands(self) -> Option<Bands> {
        let b = |green_min, green_max, yellow_min, yellow_max| {
            Some(Bands {
                green_min,
                green_max,
                yellow_min,
                yellow_max,
            })
        };
        match self {
            ClientNumber::TicketsPerEndpoint => {
                crate::thresholds::default_bands("tickets_per_endpoint_per_month")
            }
            ClientNumber::Rhem => crate::thresholds::default_bands("rhem"),
            ClientNumber::HoursPerSeat => b(None, Some(1.0), None, Some(1.5)),
            ClientNumber::EffectiveRate => b(Some(125.0), None, Some(100.0), None),
            ClientNumber::MarginPct => b(Some(0.5), None, Some(0.3), None),
            ClientNumber::AgreementCoverage => b(Some(0.8), None, Some(0.6), None),
            ClientNumber::ServiceCost | ClientNumber::Margin => None,
        }
    }
}

/// A period's inputs of one client: each metric's value, `None` where no month has one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    values: [Option<f64>; 9],
    /// Months the period spans (1, 3 or 12): the "per month" divisor.
    pub months: u32,
}

impl Inputs {
    pub fn get(&self, m: ClientMetric) -> Option<f64> {
        self.values[m.index()]
    }

    pub fn set(&mut self, m: ClientMetric, v: Option<f64>) {
        self.values[m.index()] = v;
    }

    /// Adds up months of values (each month: the metrics it has) by each metric's
    /// [`Adding`], over a period of `months` months.
    pub fn of_months<'a>(
        month_values: impl IntoIterator<Item = &'a [(ClientMetric, f64)]>,
        months: u32,
    ) -> Inputs {
        let mut sums = [0.0f64; 9];
        let mut seen = [0u32; 9];
        for values in month_values {
            for (m, v) in values {
                sums[m.index()] += v;
                seen[m.index()] += 1;
            }
        }
        let mut out = Inputs {
            months,
            ..Inputs::default()
        };
        for m in ClientMetric::ALL {
            let i = m.index();
            if seen[i] == 0 {
                continue;
            }
            out.values[i] = Some(match m.adding() {
                Adding::Sum => round6(sums[i]),
                Adding::Avg => round6(sums[i] / f64::from(seen[i])),
            });
        }
        out
    }

    /// The sum of several clients' inputs (the totals row): flows and stocks both add.
    pub fn total<'a>(all: impl IntoIterator<Item = &'a Inputs>) -> Inputs {
        let mut out = Inputs::default();
        for inputs in all {
            out.months = out.months.max(inputs.months);
            for (i, v) in inputs.values.iter().enumerate() {
                if let Some(v) = v {
                    out.values[i] = Some(round6(out.values[i].unwrap_or(0.0) + v));
                }
            }
        }
        out
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// `a / b`, `None` when either is missing or `b` is zero.
fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

/// One client number of a period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NumberValue {
    pub number: ClientNumber,
    pub value: Option<f64>,
    pub status: Status,
}

/// The per-client numbers of a period's inputs. `loaded_cost`: the labour cost of one
/// service hour (salary, taxes, benefits, tools), without which cost and margin are
/// not computed. `bands`: the bands of each number (the organization's override or the
/// default).
pub fn numbers(
    inputs: &Inputs,
    loaded_cost: Option<f64>,
    bands: impl Fn(ClientNumber) -> Option<Bands>,
) -> Vec<NumberValue> {
    use ClientMetric as M;
    let months = Some(f64::from(inputs.months.max(1)));
    let per_month = |v: Option<f64>| ratio(v, months);
    let hours = inputs.get(M::ServiceHours);
    let revenue = inputs.get(M::Revenue);
    let cost = match (hours, loaded_cost) {
        (Some(h), Some(c)) => Some(h * c),
        _ => None,
    };
    let margin = match (revenue, cost) {
        (Some(r), Some(c)) => Some(r - c),
        _ => None,
    };
    ClientNumber::ALL
        .iter()
        .map(|&number| {
            let value = match number {
                ClientNumber::TicketsPerEndpoint => ratio(
                    per_month(inputs.get(M::ReactiveTicketsCreated)),
                    inputs.get(M::Endpoints),
                ),
                ClientNumber::Rhem => ratio(
                    per_month(inputs.get(M::ReactiveHours)),
                    inputs.get(M::Endpoints),
                ),
                ClientNumber::HoursPerSeat => ratio(per_month(hours), inputs.get(M::Seats)),
                ClientNumber::EffectiveRate => ratio(revenue, hours),
                ClientNumber::ServiceCost => cost,
                ClientNumber::Margin => margin,
                ClientNumber::MarginPct => ratio(margin, revenue),
                ClientNumber::AgreementCoverage => ratio(inputs.get(M::AgreementHours), hours),
            };
            let status = bands(number).map_or(Status::None, |b| b.status(value));
            NumberValue {
                number,
                value,
                status,
            }
        })
        .collect()
}

/// Legal-form words left out when names are compared ("Acme, LLC" is "Acme").
const SUFFIXES: [&str; 15] = [
    "llc",
    "l l c",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "pllc",
    "pc",
    "lp",
    "llp",
    "plc",
];

/// A name as names are compared: lower case, `&` as "and", punctuation as spaces,
/// spaces collapsed, a leading "the" and trailing legal-form words dropped
/// ("The Acme Co., Inc." → "acme").
pub fn normalize_name(name: &str) -> String {
    let spaced: String = name
        .to_lowercase()
        .replace('&', " and ")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    loop {
        let before = words.len();
        for suffix in SUFFIXES {
            let parts: Vec<&str> = suffix.split(' ').collect();
            if words.len() > parts.len() && words.ends_with(&parts) {
                words.truncate(words.len() - parts.len());
            }
        }
        if words.len() == before {
            break;
        }
    }
    words.join(" ")
}

/// Whether two names are the same client's by [`normalize_name`].
pub fn same_name(a: &str, b: &str) -> bool {
    let a = normalize_name(a);
    !a.is_empty() && a == normalize_name(b)
}

words! {
    /// Where a vendor entity stands (`client_vendor_entities.status`).
    pub enum LinkStatus {
        /// Linked by its name, not yet confirmed by a person: its values count.
        Proposed = "proposed",
        /// Linked (or left unlinked) by a person; collection never changes it.
        Confirmed = "confirmed",
        /// No client has its name: its values are listed, never dropped, and count for
        /// no client until it is linked.
        Unmatched = "unmatched",
        /// On the organization's list of internal organizations: not a client.
        Internal = "internal",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_compare_without_case_punctuation_or_legal_form() {
        assert_eq!(normalize_name("Acme, LLC"), "acme");
        assert_eq!(normalize_name("ACME Inc."), "acme");
        assert_eq!(normalize_name("The Acme Co., Inc."), "acme");
        assert_eq!(normalize_name("Smith & Sons Ltd"), "smith and sons");
        assert_eq!(normalize_name("Smith and Sons"), "smith and sons");
        assert_eq!(normalize_name("  Blue-Sky   Dental  "), "blue sky dental");
        assert_eq!(normalize_name("L.L.C. Partners L.L.C."), "l l c partners");
        // A name that is only a legal form keeps it.
        assert_eq!(normalize_name("Inc"), "inc");
        assert!(same_name("Ener Systems, LLC", "Ener Systems"));
        assert!(!same_name("Acme", "Acme Dental"));
        assert!(!same_name("", ""));
    }

    #[test]
    fn months_add_up_by_metric() {
        use ClientMetric as M;
        let jan = [(M::ReactiveTicketsCreated, 10.0), (M::Endpoints, 40.0)];
        let feb = [(M::ReactiveTicketsCreated, 5.0), (M::Endpoints, 50.0)];
        let mar = [(M::ReactiveTicketsCreated, 3.0)];
        let q = Inputs::of_months([&jan[..], &feb[..], &mar[..]], 3);
        assert_eq!(q.get(M::ReactiveTicketsCreated), Some(18.0));
        assert_eq!(
            q.get(M::Endpoints),
            Some(45.0),
            "average of the months with one"
        );
        assert_eq!(q.get(M::Revenue), None);
        let t = Inputs::total([&q, &q]);
        assert_eq!(t.get(M::Endpoints), Some(90.0));
        assert_eq!(t.get(M::ReactiveTicketsCreated), Some(36.0));
    }

    #[test]
    fn numbers_of_a_quarter() {
        use ClientMetric as M;
        let mut i = Inputs {
            months: 3,
            ..Inputs::default()
        };
        i.set(M::ReactiveTicketsCreated, Some(30.0));
        i.set(M::ReactiveHours, Some(24.0));
        i.set(M::ServiceHours, Some(60.0));
        i.set(M::AgreementHours, Some(45.0));
        i.set(M::Endpoints, Some(40.0));
        i.set(M::Seats, Some(20.0));
        i.set(M::Revenue, Some(9000.0));
        let n = numbers(&i, Some(50.0), ClientNumber::default_bands);
        let get = |k| n.iter().find(|v| v.number == k).unwrap();
        assert_eq!(get(ClientNumber::TicketsPerEndpoint).value, Some(0.25));
        assert_eq!(get(ClientNumber::Rhem).value, Some(0.2));
        assert_eq!(get(ClientNumber::Rhem).status, Status::Green);
        assert_eq!(get(ClientNumber::HoursPerSeat).value, Some(1.0));
        assert_eq!(get(ClientNumber::EffectiveRate).value, Some(150.0));
        assert_eq!(get(ClientNumber::ServiceCost).value, Some(3000.0));
        assert_eq!(get(ClientNumber::Margin).value, Some(6000.0));
        assert!((get(ClientNumber::MarginPct).value.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(get(ClientNumber::AgreementCoverage).value, Some(0.75));
        assert_eq!(get(ClientNumber::AgreementCoverage).status, Status::Yellow);
        // No loaded cost: no cost, no margin; no endpoints: no per-endpoint numbers.
        i.set(M::Endpoints, Some(0.0));
        let n = numbers(&i, None, ClientNumber::default_bands);
        let get = |k| n.iter().find(|v| v.number == k).unwrap();
        assert_eq!(get(ClientNumber::Margin).value, None);
        assert_eq!(get(ClientNumber::Rhem).value, None);
        assert_eq!(get(ClientNumber::Rhem).status, Status::None);
    }
}
