//! The demo organization's vendors, simulated (`vendor-sim`, behind the `demo`
//! feature): a ConnectWise service desk and a NinjaOne fleet generated from the demo's
//! collected values, so that the real collectors read back exactly what the demo
//! stored — but for one thing planted on purpose: ConnectWise now reports
//! [`LATE_TICKETS`] more reactive tickets for the month before the demo's current one
//! (calls logged late and back-dated), and a run reports that closed month's frozen
//! value as drift. The incident's flag (`demo`, "An incident") comes with the data.
use super::demo_values;
use chrono::{DateTime, Utc};
use qbr_shared::Month;
use vendor_sim::msp::{self, DeskMonth, Incident};
use vendor_sim::{ConnectWiseSim, NinjaOneSim};

/// Reactive tickets ConnectWise reports beyond the demo's count for the month
/// [`LATE_TICKETS_MONTHS_AGO`] months before the demo's current month.
pub const LATE_TICKETS: u32 = 3;
pub const LATE_TICKETS_MONTHS_AGO: i32 = 1;

/// The client hit by the demo's ransomware (Magnolia Family Medicine): the incident
/// month's extra reactive hours are its alone, so its page shows the unusual month.
pub const INCIDENT_COMPANY: i64 = 19_307;

/// What the simulated vendors hold, month by month.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub months: Vec<(Month, DeskMonth)>,
    /// Today's fleet: endpoints and seats.
    pub endpoints: u32,
    pub seats: u32,
}

fn whole(x: f64) -> u32 {
    u32::try_from(x.round() as i64).unwrap_or(0)
}

/// The vendors' data for a demo loaded when `loaded` was the month in progress, as of
/// `current`: the demo's months, then (when the server starts again in a later month)
/// the months since, as a demo loaded now would hold them. Months are cut in `tz`.
pub fn plan(loaded: Month, current: Month, tz: chrono_tz::Tz) -> Plan {
    let mut values = demo_values(loaded);
    if current > loaded {
        values.extend(
            demo_values(current)
                .into_iter()
                .filter(|v| v.month > loaded),
        );
    }
    let late = loaded.add_months(-LATE_TICKETS_MONTHS_AGO);
    let mut months: Vec<(Month, DeskMonth)> = Vec::new();
    let (mut endpoints, mut seats) = (0, 0);
    for v in values.iter().filter(|v| v.collected) {
        if months.last().is_none_or(|(m, _)| *m != v.month) {
            let (start, end) = v.month.utc_bounds(tz);
            let desk = DeskMonth {
                start,
                end,
                created: 0,
                closed: 0,
                hundredths: 0,
                incident: None,
            };
            months.push((v.month, desk));
        }
        let Some((_, desk)) = months.last_mut() else {
            continue;
        };
        match v.metric {
            "reactive_tickets_created" if v.month == late => {
                desk.created = whole(v.value) + LATE_TICKETS;
            }
            "reactive_tickets_created" => desk.created = whole(v.value),
            "reactive_tickets_closed" => desk.closed = whole(v.value),
            "reactive_time_spent" => {
                desk.hundredths = u64::from(whole(v.value * 100.0));
                // The incident's month (flagged): what is beyond the usual hours.
                if !v.flags.is_empty() {
                    let usual = u64::from(whole(v.value / super::INCIDENT_HOURS * 100.0));
                    desk.incident = Some(Incident {
                        company: INCIDENT_COMPANY,
                        hundredths: desk.hundredths.saturating_sub(usual),
                    });
                }
            }
            "endpoints_managed" => endpoints = whole(v.value),
            "seats_managed" => seats = whole(v.value),
            _ => {}
        }
    }
    Plan {
        months,
        endpoints,
        seats,
    }
}

/// The two simulated servers, on loopback ports of their own.
pub struct SimulatedVendors {
    pub connectwise: ConnectWiseSim,
    pub ninjaone: NinjaOneSim,
}

impl SimulatedVendors {
    /// Starts both servers with the data of [`plan`], as of `now`.
    pub async fn start(plan: &Plan, now: DateTime<Utc>) -> SimulatedVendors {
        let desk: Vec<DeskMonth> = plan.months.iter().map(|(_, d)| *d).collect();
        SimulatedVendors {
            connectwise: ConnectWiseSim::start(msp::service_desk(&desk, now)).await,
            ninjaone: NinjaOneSim::start(msp::fleet(plan.endpoints, plan.seats)).await,
        }
    }

    /// The variables that point the collectors at them, as an administrator would set
    /// them (the rules spelled out, though they are the defaults).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.connectwise.env();
        env.extend(self.ninjaone.env());
        env.push(("CONNECTWISE_REACTIVE_BOARDS", msp::REACTIVE_BOARD.into()));
        env.push((
            "CONNECTWISE_CLOSED_STATUSES",
            msp::CLOSED_STATUSES.join(","),
        ));
        env.push(("NINJA_EXCLUDED_ORGS", msp::INTERNAL_ORGANIZATIONS.join(",")));
        env
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_plan_is_the_demo_but_for_the_late_tickets() {
        let tz = chrono_tz::America::Chicago;
        let loaded: Month = "2026-03".parse().unwrap();
        let plan = plan(loaded, loaded, tz);
        let values = demo_values(loaded);
        let value = |m: Month, key: &str| {
            values
                .iter()
                .find(|v| v.month == m && v.metric == key)
                .map(|v| v.value)
                .unwrap()
        };
        assert_eq!(plan.months.len(), 24);
        for (m, desk) in &plan.months {
            let late = if *m == loaded.add_months(-1) {
                3.0
            } else {
                0.0
            };
            assert_eq!(
                f64::from(desk.created),
                value(*m, "reactive_tickets_created") + late
            );
            assert_eq!(f64::from(desk.closed), value(*m, "reactive_tickets_closed"));
            assert_eq!(
                desk.hundredths as f64 / 100.0,
                value(*m, "reactive_time_spent")
            );
            assert_eq!((desk.start, desk.end), m.utc_bounds(tz));
        }
        assert_eq!(
            f64::from(plan.endpoints),
            value(loaded, "endpoints_managed")
        );
        assert_eq!(f64::from(plan.seats), value(loaded, "seats_managed"));

        // Started again two months later: the months since are added.
        let later = super::plan(loaded, loaded.add_months(2), tz);
        assert_eq!(later.months.len(), 26);
        assert_eq!(&later.months[..24], &plan.months[..]);
    }
}
