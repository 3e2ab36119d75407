//! Per-client (per ConnectWise company) monthly values, from the listings the collector
//! already reads: the window's tickets, its time entries and the agreements that may
//! overlap it. Pure functions; the rules are the organization's (same month bounds,
//! same reactive boards and closed statuses), so that the companies' values add up to
//! the organization's.
//!
//! - Reactive tickets created / closed: as the organization's counts (a reactive
//!   board, not a child ticket; closed = a closed status with `closedDate` in the
//!   month). Board and status names compare without regard to case, as the API's
//!   `conditions` do, so the sums equal the counts the API answers.
//! - Reactive hours: the time entries the organization's `reactive_time_spent`
//!   counts (the same `is_reactive` test), by the entry's company. Service hours: every
//!   service-ticket entry. Agreement hours: the entries charged to an agreement.
//! - First response: of the reactive tickets entered in the month, those with a
//!   `dateResponded`, and the hours from `dateEntered` to it summed over them (a
//!   response dated before the entry counts as 0).
//! - Tickets by board, type and priority: tickets (not children) entered in the month,
//!   every board; a missing category is [`NONE`].
//! - Agreement MRR: the monthly equivalent of each agreement's bill amount
//!   ([`months_per_cycle`]), for every month it is active on at least one day (no
//!   proration): started on or before the month's last day, not ended before its
//!   first day, not cancelled before its first day. A cancelled agreement with no
//!   cancellation date, a one-time bill, an unknown billing cycle or a missing amount
//!   count nowhere (counted in [`Unassigned`] for the log).
//!
//! Every company seen in any listing is an entity, and gets every metric of every month
//! of the window (0 where it has nothing), so a month that lost its last ticket reads
//! 0 rather than keeping an old value. A row without a company (the API requires one,
//! so it should not happen) counts for no client, only in [`Unassigned`].
use super::client::{Agreement, CompanyRef, NameRef, Ticket, TimeEntry};
use crate::collect::collector::{ClientReading, ClientValue, TicketCount, TicketDimension, Window};
use chrono::NaiveDate;
use qbr_shared::clients::ClientMetric;
use qbr_shared::Month;
use std::collections::BTreeMap;

/// The label of a ticket with no board, type or priority.
pub const NONE: &str = "(none)";

/// The metrics this module reads, in the order values are listed.
pub const METRICS: [ClientMetric; 8] = [
    ClientMetric::ReactiveTicketsCreated,
    ClientMetric::ReactiveTicketsClosed,
    ClientMetric::ReactiveHours,
    ClientMetric::ServiceHours,
    ClientMetric::AgreementHours,
    ClientMetric::AgreementMrr,
    ClientMetric::RespondedTickets,
    ClientMetric::ResponseHours,
];

/// Which tickets are reactive and closed (the collector's settings).
pub struct Rules<'a> {
    pub reactive_boards: &'a [String],
    pub closed_statuses: &'a [String],
}

/// What counted for no client, for the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unassigned {
    pub tickets: usize,
    pub entries: usize,
    pub agreements: usize,
    /// Agreements left out of the MRR: unknown billing cycle, one-time bill, no
    /// amount, cancelled with no date.
    pub agreements_not_recurring: usize,
}

/// A value in millionths (hours, dollars), added as integers so sums are exact.
type Micro = i64;
/// A company's month.
type Key = (i64, Month);

/// Everything read, grouped by company.
pub fn client_reading(
    tickets: &[Ticket],
    entries: &[TimeEntry],
    agreements: &[Agreement],
    window: &Window,
    rules: &Rules<'_>,
    is_reactive_entry: impl Fn(i64) -> bool,
) -> (ClientReading, Unassigned) {
    let mut unassigned = Unassigned::default();
    let names = companies(tickets, entries, agreements);
    unassigned.tickets = tickets.iter().filter(|t| t.company.is_none()).count();
    unassigned.entries = entries.iter().filter(|e| e.company.is_none()).count();
    unassigned.agreements = agreements.iter().filter(|a| a.company.is_none()).count();
    let (created, closed) = reactive_tickets(tickets, window, rules);
    let (responded, response) = first_responses(tickets, window, rules);
    let [reactive, service, agreement] = hours(entries, window, is_reactive_entry);
    let (mrr, not_recurring) = agreement_mrr(agreements, window);
    unassigned.agreements_not_recurring = not_recurring;
    let counted = |m: &BTreeMap<Key, u32>, k: &Key| f64::from(m.get(k).copied().unwrap_or(0));
    let micro = |m: &BTreeMap<Key, Micro>, k: &Key| from_micro(m.get(k).copied().unwrap_or(0));
    let mut values = Vec::new();
    for id in names.keys() {
        for b in &window.months {
            let k = (*id, b.month);
            let numbers = [
                counted(&created, &k),
                counted(&closed, &k),
                micro(&reactive, &k),
                micro(&service, &k),
                micro(&agreement, &k),
                micro(&mrr, &k),
                counted(&responded, &k),
                micro(&response, &k),
            ];
            values.extend(
                METRICS
                    .iter()
                    .zip(numbers)
                    .map(|(metric, value)| ClientValue {
                        external_id: id.to_string(),
                        month: b.month,
                        metric: *metric,
                        value,
                    }),
            );
        }
    }
    let reading = ClientReading {
        entities: names
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        values,
        tickets: ticket_breakdown(tickets, window),
        closed_through: None,
    };
    (reading, unassigned)
}

/// Every company of the listings and its name (the last read: tickets, then time
/// entries, then agreements, each in id order).
pub fn companies(
    tickets: &[Ticket],
    entries: &[TimeEntry],
    agreements: &[Agreement],
) -> BTreeMap<i64, String> {
    tickets
        .iter()
        .map(|t| &t.company)
        .chain(entries.iter().map(|e| &e.company))
        .chain(agreements.iter().map(|a| &a.company))
        .flatten()
        .map(|CompanyRef { id, name }| (*id, name.clone()))
        .collect()
}

/// Whether the reference's name is one of `names`, without regard to case (as the
/// API compares names in `conditions`).
fn named(r: Option<&NameRef>, names: &[String]) -> bool {
    r.is_some_and(|r| {
        names
            .iter()
            .any(|n| n.to_lowercase() == r.name.to_lowercase())
    })
}

/// Reactive tickets entered, and closed, per company and month.
pub fn reactive_tickets(
    tickets: &[Ticket],
    window: &Window,
    rules: &Rules<'_>,
) -> (BTreeMap<Key, u32>, BTreeMap<Key, u32>) {
    let (mut created, mut closed) = (BTreeMap::new(), BTreeMap::new());
    for t in tickets {
        let Some(company) = &t.company else { continue };
        if !named(t.board.as_ref(), rules.reactive_boards) {
            continue;
        }
        if let Some(m) = window.month_of(t.date_entered) {
            *created.entry((company.id, m)).or_default() += 1;
        }
        let closed_month = t.closed_date.and_then(|c| window.month_of(c));
        if let (Some(m), true) = (
            closed_month,
            named(t.status.as_ref(), rules.closed_statuses),
        ) {
            *closed.entry((company.id, m)).or_default() += 1;
        }
    }
    (created, closed)
}

/// Reactive tickets entered in each month that have a first response, and the hours
/// to it summed (in millionths), per company.
pub fn first_responses(
    tickets: &[Ticket],
    window: &Window,
    rules: &Rules<'_>,
) -> (BTreeMap<Key, u32>, BTreeMap<Key, Micro>) {
    let (mut responded, mut hours) = (BTreeMap::new(), BTreeMap::new());
    for t in tickets {
        let (Some(company), Some(at)) = (&t.company, t.date_responded) else {
            continue;
        };
        if !named(t.board.as_ref(), rules.reactive_boards) {
            continue;
        }
        let Some(m) = window.month_of(t.date_entered) else {
            continue;
        };
        let seconds = (at - t.date_entered).num_seconds().max(0);
        *responded.entry((company.id, m)).or_default() += 1;
        *hours.entry((company.id, m)).or_default() += seconds;
    }
    // Seconds to millionths of an hour once per month, so a month's value does not
    // depend on how many tickets the rounding met.
    for total in hours.values_mut() {
        *total = *total * 1_000_000 / 3600;
    }
    (responded, hours)
}

/// Tickets entered in each month per company by board, type and priority.
pub fn ticket_breakdown(tickets: &[Ticket], window: &Window) -> Vec<TicketCount> {
    let mut counts: BTreeMap<(i64, Month, TicketDimension, String), u32> = BTreeMap::new();
    for t in tickets {
        let (Some(company), Some(m)) = (&t.company, window.month_of(t.date_entered)) else {
            continue;
        };
        for (dimension, r) in [
            (TicketDimension::Board, &t.board),
            (TicketDimension::Type, &t.kind),
            (TicketDimension::Priority, &t.priority),
        ] {
            let label = r.as_ref().map_or(NONE, |r| r.name.as_str()).to_string();
            *counts.entry((company.id, m, dimension, label)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((id, month, dimension, label), tickets)| TicketCount {
            external_id: id.to_string(),
            month,
            dimension,
            label,
            tickets,
        })
        .collect()
}

fn to_micro(x: f64) -> Micro {
    // Hours and amounts are far below i64's range in millionths.
    #[allow(clippy::cast_possible_truncation)]
    let m = (x * 1e6).round() as Micro;
    m
}

#[allow(clippy::cast_precision_loss)]
fn from_micro(m: Micro) -> f64 {
    m as f64 / 1e6
}

/// Hours per company and month: on reactive tickets, on service tickets (all the
/// entries), charged to an agreement.
pub fn hours(
    entries: &[TimeEntry],
    window: &Window,
    is_reactive: impl Fn(i64) -> bool,
) -> [BTreeMap<Key, Micro>; 3] {
    let mut out: [BTreeMap<Key, Micro>; 3] = Default::default();
    for e in entries {
        let (Some(company), Some(m)) = (&e.company, window.month_of(e.date_entered)) else {
            continue;
        };
        let h = to_micro(e.actual_hours.unwrap_or(0.0));
        let k = (company.id, m);
        let [reactive, service, agreement] = &mut out;
        *service.entry(k).or_default() += h;
        if e.charge_to_id.is_some_and(&is_reactive) {
            *reactive.entry(k).or_default() += h;
        }
        if e.agreement.is_some() {
            *agreement.entry(k).or_default() += h;
        }
    }
    out
}

/// Months one bill covers, by the billing cycle's name (ConnectWise's standard
/// cycles; case, spaces and hyphens do not matter). `None`: not a recurring cycle we
/// know, left out of the MRR rather than guessed.
pub fn months_per_cycle(cycle: &str) -> Option<f64> {
    let key: String = cycle
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    Some(match key.as_str() {
        "monthly" => 1.0,
        "quarterly" => 3.0,
        "semiannual" | "semiannually" | "biannual" | "biannually" | "halfyearly" => 6.0,
        "annual" | "annually" | "yearly" => 12.0,
        "biennial" | "biennially" => 24.0,
        // 52 weeks in 12 months.
        "weekly" => 12.0 / 52.0,
        _ => return None,
    })
}

/// The agreement's monthly bill, in millionths; `None`: it does not recur.
fn monthly_bill(a: &Agreement) -> Option<Micro> {
    if a.bill_one_time_flag == Some(true)
        || (a.cancelled_flag == Some(true) && a.date_cancelled.is_none())
    {
        return None;
    }
    let months = months_per_cycle(&a.billing_cycle.as_ref()?.name)?;
    Some(to_micro(a.bill_amount? / months))
}

/// Whether the agreement is active on at least one day of `month`. Agreement dates
/// are days (midnight UTC in the API): compared as dates, not in the zone.
pub fn active_in(a: &Agreement, month: Month) -> bool {
    let first: NaiveDate = month.first_day();
    let next: NaiveDate = month.next().first_day();
    let day = |t: chrono::DateTime<chrono::Utc>| t.date_naive();
    let started = a.start_date.is_some_and(|s| day(s) < next);
    let not_ended = a.end_date.is_none_or(|e| day(e) >= first);
    let not_cancelled =
        a.cancelled_flag != Some(true) || a.date_cancelled.is_some_and(|c| day(c) >= first);
    started && not_ended && not_cancelled
}

/// The monthly bill of the agreements active in each month per company, and how many
/// agreements do not recur.
pub fn agreement_mrr(agreements: &[Agreement], window: &Window) -> (BTreeMap<Key, Micro>, usize) {
    let mut out = BTreeMap::new();
    let mut not_recurring = 0;
    for a in agreements {
        let Some(company) = &a.company else { continue };
        let Some(bill) = monthly_bill(a) else {
            not_recurring += 1;
            continue;
        };
        for b in window.months.iter().filter(|b| active_in(a, b.month)) {
            *out.entry((company.id, b.month)).or_default() += bill;
        }
    }
    (out, not_recurring)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn window() -> Window {
        Window::new(&[m("2025-02"), m("2025-03")], chrono_tz::America::Chicago)
    }

    fn name(n: &str) -> Option<NameRef> {
        Some(NameRef { name: n.into() })
    }

    fn company(id: i64) -> Option<CompanyRef> {
        Some(CompanyRef {
            id,
            name: format!("Company {id}"),
        })
    }

    fn ticket(
        id: i64,
        co: i64,
        board: &str,
        status: &str,
        entered: &str,
        closed: Option<&str>,
    ) -> Ticket {
        Ticket {
            id,
            company: company(co),
            board: name(board),
            kind: name("Incident"),
            priority: None,
            status: name(status),
            date_entered: t(entered),
            closed_date: closed.map(t),
            date_responded: None,
        }
    }

    fn rules() -> (Vec<String>, Vec<String>) {
        (
            vec!["Help Desk".into()],
            vec![">Closed".into(), "Closed".into()],
        )
    }

    #[test]
    fn tickets_count_by_company_in_the_zone_s_months() {
        let (boards, statuses) = rules();
        let rules = Rules {
            reactive_boards: &boards,
            closed_statuses: &statuses,
        };
        let tickets = [
            // Feb 28 23:59:59 CST: February; closed Mar 1 00:00 CST: March.
            ticket(
                1,
                7,
                "Help Desk",
                ">Closed",
                "2025-03-01T05:59:59Z",
                Some("2025-03-01T06:00:00Z"),
            ),
            ticket(2, 7, "help desk", "closed", "2025-03-01T06:00:00Z", None),
            ticket(
                3,
                8,
                "Projects",
                ">Closed",
                "2025-03-02T06:00:00Z",
                Some("2025-03-03T06:00:00Z"),
            ),
            ticket(
                4,
                8,
                "Help Desk",
                "Completed",
                "2025-03-02T06:00:00Z",
                Some("2025-03-03T06:00:00Z"),
            ),
        ];
        let (created, closed) = reactive_tickets(&tickets, &window(), &rules);
        assert_eq!(
            created.into_iter().collect::<Vec<_>>(),
            vec![
                ((7, m("2025-02")), 1),
                ((7, m("2025-03")), 1),
                ((8, m("2025-03")), 1)
            ]
        );
        assert_eq!(
            closed.into_iter().collect::<Vec<_>>(),
            vec![((7, m("2025-03")), 1)]
        );
        let breakdown = ticket_breakdown(&tickets, &window());
        let of = |co: &str, month: &str, d: TicketDimension| -> Vec<(String, u32)> {
            breakdown
                .iter()
                .filter(|c| c.external_id == co && c.month == m(month) && c.dimension == d)
                .map(|c| (c.label.clone(), c.tickets))
                .collect()
        };
        assert_eq!(
            of("8", "2025-03", TicketDimension::Board),
            vec![("Help Desk".into(), 1), ("Projects".into(), 1)]
        );
        assert_eq!(
            of("8", "2025-03", TicketDimension::Priority),
            vec![(NONE.into(), 2)]
        );
        assert_eq!(
            of("7", "2025-02", TicketDimension::Type),
            vec![("Incident".into(), 1)]
        );
    }

    #[test]
    fn hours_split_by_company_add_up_exactly() {
        let entry =
            |id: i64, co: Option<i64>, ticket: i64, h: f64, at: &str, agr: bool| TimeEntry {
                id,
                charge_to_id: Some(ticket),
                actual_hours: Some(h),
                date_entered: t(at),
                company: co.and_then(company),
                agreement: agr.then_some(super::super::client::IdRef { id: 1 }),
            };
        let entries = [
            entry(1, Some(7), 1, 0.1, "2025-03-01T05:59:59Z", true),
            entry(2, Some(7), 1, 0.2, "2025-03-01T05:59:59Z", false),
            entry(3, Some(7), 2, 1.0, "2025-03-01T06:00:00Z", false),
            entry(4, None, 1, 5.0, "2025-03-01T06:00:00Z", false),
        ];
        let [reactive, service, agreement] = hours(&entries, &window(), |t| t == 1);
        assert_eq!(reactive.get(&(7, m("2025-02"))), Some(&300_000));
        assert_eq!(reactive.get(&(7, m("2025-03"))), None);
        assert_eq!(service.get(&(7, m("2025-03"))), Some(&1_000_000));
        assert_eq!(agreement.get(&(7, m("2025-02"))), Some(&100_000));
    }

    fn agreement(cycle: &str, amount: f64, start: &str, end: Option<&str>) -> Agreement {
        Agreement {
            id: 1,
            company: company(7),
            bill_amount: Some(amount),
            billing_cycle: name(cycle),
            start_date: Some(t(start)),
            end_date: end.map(t),
            cancelled_flag: Some(false),
            ..Agreement::default()
        }
    }

    #[test]
    fn agreements_bill_monthly_equivalents_while_active() {
        assert_eq!(months_per_cycle("Semi-Annual"), Some(6.0));
        assert_eq!(months_per_cycle("ANNUAL"), Some(12.0));
        assert_eq!(months_per_cycle("Every blue moon"), None);
        let w = window();
        // Starts on the last day of February: February counts whole.
        let annual = agreement("Annual", 1200.0, "2025-02-28T00:00:00Z", None);
        // Ended on the last day of February.
        let ended = agreement(
            "Monthly",
            50.0,
            "2024-01-01T00:00:00Z",
            Some("2025-02-28T00:00:00Z"),
        );
        // Cancelled on March 1st: active in March still; cancelled in February: not.
        let mut march = agreement("Quarterly", 300.0, "2024-01-01T00:00:00Z", None);
        march.cancelled_flag = Some(true);
        march.date_cancelled = Some(t("2025-03-01T00:00:00Z"));
        let mut feb = march.clone();
        feb.date_cancelled = Some(t("2025-02-28T00:00:00Z"));
        let mut undated = march.clone();
        undated.date_cancelled = None;
        let (mrr, skipped) = agreement_mrr(&[annual, ended, march, feb, undated], &w);
        assert_eq!(skipped, 1);
        assert_eq!(
            mrr.get(&(7, m("2025-02"))),
            Some(&(100_000_000 + 50_000_000 + 2 * 100_000_000))
        );
        assert_eq!(
            mrr.get(&(7, m("2025-03"))),
            Some(&(100_000_000 + 100_000_000))
        );
    }

    #[test]
    fn every_company_gets_every_metric_of_every_month() {
        let (boards, statuses) = rules();
        let rules = Rules {
            reactive_boards: &boards,
            closed_statuses: &statuses,
        };
        let mut orphan = ticket(9, 1, "Help Desk", "New", "2025-03-02T06:00:00Z", None);
        orphan.company = None;
        let tickets = [
            ticket(1, 7, "Help Desk", "New", "2025-03-02T06:00:00Z", None),
            orphan,
        ];
        let (reading, unassigned) = client_reading(&tickets, &[], &[], &window(), &rules, |_| true);
        assert_eq!(
            reading.entities,
            vec![("7".to_string(), "Company 7".to_string())]
        );
        assert_eq!(reading.values.len(), 2 * METRICS.len());
        assert_eq!(unassigned.tickets, 1);
        let created: Vec<f64> = reading
            .values
            .iter()
            .filter(|v| v.metric == ClientMetric::ReactiveTicketsCreated)
            .map(|v| v.value)
            .collect();
        assert_eq!(created, vec![0.0, 1.0]);
    }
}
