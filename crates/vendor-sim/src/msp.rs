//! A made-up MSP's data as its vendors hold it, generated to exact figures: a
//! ConnectWise service desk whose reactive tickets and hours add up, month by month, to
//! the figures asked, and a NinjaOne fleet with the endpoints and seats asked. Both hold
//! what the collectors' rules must leave out, as a real instance does: other boards,
//! child tickets, the "Completed" status, time charged elsewhere; internal
//! organizations, spares, VM guests. ConnectWise's tickets and time belong to
//! [`CW_COMPANIES`], named as a real instance names them (legal forms, case, one client
//! entered twice, the MSP itself, a client no other vendor has), and its agreements
//! bill them. Deterministic: the same figures give the same data.
use crate::connectwise::{
    agreement, cancelled, for_company, on_agreement, ticket, time_entry, Billing, CwData,
};
use crate::ninjaone::{device, NinjaData};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};

/// The board whose tickets are reactive (the collector's default).
pub const REACTIVE_BOARD: &str = "Help Desk";
/// The statuses that close a ticket (the collector's defaults), the first most used.
pub const CLOSED_STATUSES: [&str; 3] = [">Closed", ">Closed - No response", "Closed"];
/// NinjaOne organizations that are the MSP itself, not clients (the collector's default
/// exclusions name them).
pub const INTERNAL_ORGANIZATIONS: [&str; 2] = ["Ener Systems", "Internal Infrastructure"];
/// The client organizations and their share of the fleet.
pub const CLIENTS: [(&str, u32); 9] = [
    ("Brazos Valley Dental", 9),
    ("Cedar Ridge Veterinary", 6),
    ("Gulf Coast Title & Escrow", 11),
    ("Hill Country Credit Union", 19),
    ("Lone Star Machining", 14),
    ("Magnolia Family Medicine", 12),
    ("Pecan Street Law Group", 8),
    ("Riverbend Property Management", 7),
    ("Trinity Engineering Partners", 14),
];

/// ConnectWise companies `(id, name, share of the tickets, monthly managed-services
/// bill)`: the NinjaOne [`CLIENTS`] under their legal names (one in capitals), "Hill
/// Country Credit Union" entered twice (a merge), the MSP itself (its internal tickets)
/// and a client only ConnectWise has. A bill of 0: no agreement.
pub const CW_COMPANIES: [(i64, &str, u32, u32); 12] = [
    (19_300, "Ener Systems, LLC", 3, 0),
    (19_301, "Brazos Valley Dental, PLLC", 9, 2_700),
    (19_302, "Cedar Ridge Veterinary", 6, 1_800),
    (19_303, "GULF COAST TITLE & ESCROW", 11, 3_300),
    (19_304, "Hill Country Credit Union", 15, 5_700),
    (19_305, "Hill Country Credit Union Inc.", 4, 0),
    (19_306, "Lone Star Machining, Inc.", 14, 4_200),
    (19_307, "Magnolia Family Medicine", 12, 3_600),
    (19_308, "Pecan Street Law Group, LLP", 8, 2_400),
    (19_309, "Riverbend Property Management", 7, 2_100),
    (19_310, "Trinity Engineering Partners LLC", 14, 4_200),
    (19_311, "Bluebonnet Realty Group", 3, 0),
];

const OPEN_STATUSES: [&str; 3] = ["New", "In Progress", "Waiting on Client"];
const PROJECT_BOARD: &str = "Projects";
const ALERT_BOARD: &str = "Alerts";
/// What reactive tickets are about.
const SUMMARIES: [&str; 12] = [
    "Outlook not syncing",
    "Printer offline",
    "Password reset",
    "VPN won't connect",
    "Slow computer",
    "Teams audio drops",
    "Scanner to email fails",
    "New user account",
    "Mapped drive missing",
    "Phishing email reported",
    "Monitor flickering",
    "Line-of-business app error",
];
/// Open reactive tickets the desk never lets fall below (the oldest are closed first).
const MIN_OPEN: usize = 12;

/// One month of the service desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskMonth {
    /// The month's first instant and the next month's (local midnight, in UTC).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Reactive tickets entered in the month (on the reactive board, not children).
    pub created: u32,
    /// Reactive tickets given a closed status with a `closedDate` in the month.
    pub closed: u32,
    /// Hours entered in the month on reactive tickets (children included), in
    /// hundredths of an hour.
    pub hundredths: u64,
    /// Part of `hundredths` that is one company's incident (a ransomware clean-up):
    /// charged to that company alone instead of shared out over the month's tickets.
    pub incident: Option<Incident>,
}

/// One company's extra reactive hours in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incident {
    /// The company's id in [`CW_COMPANIES`].
    pub company: i64,
    /// Its hours, in hundredths (at most the month's).
    pub hundredths: u64,
}

/// A deterministic stream of numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// `t` plus `share` of `span` (rounded to the second).
fn at(t: DateTime<Utc>, span: TimeDelta, share: f64) -> DateTime<Utc> {
    let seconds = (span.num_seconds() as f64 * share.clamp(0.0, 1.0)).floor() as i64;
    t + TimeDelta::seconds(seconds)
}

/// A reactive ticket still open, waiting in the queue.
struct Open {
    index: usize,
    entered: DateTime<Utc>,
}

/// Builds the service desk: tickets, time entries.
struct Desk {
    rng: Rng,
    tickets: Vec<Value>,
    entries: Vec<Value>,
    next_ticket: i64,
    next_entry: i64,
    /// Picks companies (apart from `rng`, so the tickets' dates do not depend on it).
    companies: Rng,
    /// Each ticket's company (an index in [`CW_COMPANIES`]).
    company_of: HashMap<i64, usize>,
    /// The tickets on the reactive board.
    help_desk: HashSet<i64>,
}

/// An index in [`CW_COMPANIES`], drawn by their shares.
fn pick_company(rng: &mut Rng) -> usize {
    let total: u64 = CW_COMPANIES.iter().map(|c| u64::from(c.2)).sum();
    let mut n = rng.below(total);
    for (i, c) in CW_COMPANIES.iter().enumerate() {
        if n < u64::from(c.2) {
            return i;
        }
        n -= u64::from(c.2);
    }
    0
}

/// The managed-services agreement of a company, if it has one (the agreement id is the
/// company's id plus 50,000).
fn agreement_of(company: usize) -> Option<i64> {
    CW_COMPANIES
        .get(company)
        .filter(|c| c.3 > 0)
        .map(|c| c.0 + 50_000)
}

fn of_company(row: Value, company: usize) -> Value {
    let (id, name, _, _) = CW_COMPANIES[company.min(CW_COMPANIES.len() - 1)];
    for_company(row, id, name)
}

/// When a reactive ticket was first responded to: 5 minutes to 3 hours after it was
/// entered, from a hash of its id (not from the stream, so the other data stays as it
/// was before responses were simulated).
fn responded(id: i64, entered: DateTime<Utc>) -> DateTime<Utc> {
    let hash = (id.unsigned_abs().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 176;
    entered + chrono::TimeDelta::minutes(5 + i64::try_from(hash).unwrap_or(0))
}

impl Desk {
    fn ticket(
        &mut self,
        board: &str,
        status: &str,
        parent: Option<i64>,
        entered: DateTime<Utc>,
    ) -> (usize, i64) {
        let id = self.next_ticket;
        self.next_ticket += 1;
        // A child ticket is its parent's company's.
        let company = match parent.and_then(|p| self.company_of.get(&p)) {
            Some(c) => *c,
            None => pick_company(&mut self.companies),
        };
        self.company_of.insert(id, company);
        if board == REACTIVE_BOARD {
            self.help_desk.insert(id);
        }
        let mut t = of_company(ticket(id, board, status, parent, entered, None), company);
        let summary = match board {
            REACTIVE_BOARD => {
                let n = SUMMARIES.len() as u64;
                SUMMARIES[usize::try_from(self.rng.below(n)).unwrap_or(0)]
            }
            PROJECT_BOARD => "Workstation refresh",
            _ => "Disk space low",
        };
        t["summary"] = json!(summary);
        if board == REACTIVE_BOARD && parent.is_none() {
            t["dateResponded"] =
                json!(responded(id, entered).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        self.tickets.push(t);
        (self.tickets.len() - 1, id)
    }

    fn close(&mut self, index: usize, status: &str, at: DateTime<Utc>) {
        if let Some(t) = self.tickets.get_mut(index) {
            t["status"] = json!({"id": status.len(), "name": status});
            t["closedDate"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    }

    fn entry(&mut self, ticket: i64, hundredths: u64, at: DateTime<Utc>) {
        let id = self.next_entry;
        self.next_entry += 1;
        let company = self.company_of.get(&ticket).copied().unwrap_or(0);
        let mut e = of_company(
            time_entry(id, ticket, hundredths as f64 / 100.0, at),
            company,
        );
        // Help desk time is covered by the company's agreement.
        let help_desk = self.help_desk.contains(&ticket);
        if let (true, Some(a)) = (help_desk, agreement_of(company)) {
            e = on_agreement(e, a);
        }
        self.entries.push(e);
    }

    /// The ticket an incident's time is entered on: a follow-up (a child ticket, so no
    /// new reactive ticket is counted) of the company's latest reactive ticket,
    /// entered as the month starts. `None` when the company has no ticket yet.
    fn incident_ticket(
        &mut self,
        incident: Incident,
        start: DateTime<Utc>,
        span: TimeDelta,
    ) -> Option<i64> {
        let company = CW_COMPANIES.iter().position(|c| c.0 == incident.company)?;
        let parent = self
            .tickets
            .iter()
            .rev()
            .filter_map(|t| t["id"].as_i64())
            .find(|id| self.help_desk.contains(id) && self.company_of.get(id) == Some(&company))?;
        let entered = at(start, span, 0.01);
        let (child, id) = self.ticket(REACTIVE_BOARD, "In Progress", Some(parent), entered);
        self.close(child, CLOSED_STATUSES[0], entered);
        Some(id)
    }

    /// An entry that is not on a service ticket (internal time on a charge code).
    fn charge_code_entry(&mut self, hours: f64, at: DateTime<Utc>) {
        let id = self.next_entry;
        self.next_entry += 1;
        let mut e = of_company(time_entry(id, 7, hours, at), 0);
        e["chargeToType"] = json!("ChargeCode");
        self.entries.push(e);
    }
}

/// How many reactive tickets are open before the first month, so that the oldest can
/// always be closed first and [`MIN_OPEN`] stay open.
fn backlog(months: &[DeskMonth]) -> usize {
    let mut open: i64 = 0;
    let mut lowest: i64 = 0;
    for m in months {
        open += i64::from(m.created) - i64::from(m.closed);
        lowest = lowest.min(open);
    }
    usize::try_from(-lowest).unwrap_or(0) + MIN_OPEN
}

/// The service desk of `months` (oldest first), as of `now`: nothing is entered or
/// closed after `now` (a month in progress is compressed into its elapsed part), and
/// months not begun are left out. ConnectWise then reports, for each month, exactly
/// `created` reactive tickets entered, `closed` closed and `hundredths` / 100 hours on
/// reactive tickets; besides them it holds child tickets (their hours count), tickets
/// on other boards and internal time (which don't), tickets set to "Completed" (not a
/// closed status) and older open tickets.
pub fn service_desk(months: &[DeskMonth], now: DateTime<Utc>) -> CwData {
    let mut desk = Desk {
        rng: Rng(0x5EED_DE5C),
        tickets: Vec::new(),
        entries: Vec::new(),
        next_ticket: 40_001,
        next_entry: 900_001,
        companies: Rng(0xC0_4B_A4_1E),
        company_of: HashMap::new(),
        help_desk: HashSet::new(),
    };
    let mut queue: VecDeque<Open> = VecDeque::new();
    if let Some(first) = months.first() {
        // Left open from before: entered in the ten days before the first month.
        let n = backlog(months);
        for i in 0..n {
            let entered = at(
                first.start - TimeDelta::days(10),
                TimeDelta::days(10),
                i as f64 / n as f64,
            );
            let status = OPEN_STATUSES[i % OPEN_STATUSES.len()];
            let (index, _) = desk.ticket(REACTIVE_BOARD, status, None, entered);
            queue.push_back(Open { index, entered });
        }
    }
    // Tickets "Completed" may be taken from the queue only while enough stay open for
    // every later month's closings.
    let mut spare: Vec<i64> = Vec::with_capacity(months.len());
    let mut open = i64::try_from(queue.len()).unwrap_or(0);
    for m in months {
        open += i64::from(m.created) - i64::from(m.closed);
        spare.push(open - i64::try_from(MIN_OPEN).unwrap_or(0));
    }
    for i in (0..spare.len().saturating_sub(1)).rev() {
        spare[i] = spare[i].min(spare[i + 1]);
    }
    let mut completed = 0;
    for (i, m) in months.iter().enumerate() {
        if m.start >= now {
            continue;
        }
        let stop = m.end.min(now).max(m.start + TimeDelta::minutes(1));
        let span = stop - m.start;
        let mut charged: Vec<(i64, DateTime<Utc>)> = Vec::new();

        // Reactive tickets, spread over the elapsed part of the month; a few get a
        // child ticket (a follow-up on site).
        for n in 0..m.created {
            let share = (f64::from(n) + desk.rng.unit()) / f64::from(m.created) * 0.95;
            let entered = at(m.start, span, share);
            let status = OPEN_STATUSES[usize::try_from(desk.rng.below(3)).unwrap_or(0)];
            let (index, id) = desk.ticket(REACTIVE_BOARD, status, None, entered);
            queue.push_back(Open { index, entered });
            charged.push((id, entered));
            if desk.rng.below(5) == 0 {
                charged.push((id, entered));
            }
            if desk.rng.below(40) == 0 {
                let (child, child_id) =
                    desk.ticket(REACTIVE_BOARD, "In Progress", Some(id), entered);
                desk.close(child, CLOSED_STATUSES[0], entered);
                charged.push((child_id, entered));
            }
        }

        // The oldest open tickets are closed first, after they were entered.
        let close_at = |entered: DateTime<Utc>, slot: DateTime<Utc>| {
            let from = entered.max(m.start);
            let t = slot.max(entered + TimeDelta::minutes(20));
            if t < stop {
                t
            } else {
                at(from, stop - from, 0.5)
            }
        };
        for n in 0..m.closed {
            let Some(t) = queue.pop_front() else { break };
            let slot = at(
                m.start,
                span,
                (f64::from(n) + 1.0) / (f64::from(m.closed) + 1.0),
            );
            let status = match desk.rng.below(20) {
                0 => CLOSED_STATUSES[2],
                1 | 2 => CLOSED_STATUSES[1],
                _ => CLOSED_STATUSES[0],
            };
            desk.close(t.index, status, close_at(t.entered, slot));
        }
        if spare.get(i).is_some_and(|s| s - completed > 0) {
            if let Some(t) = queue.pop_front() {
                desk.close(
                    t.index,
                    "Completed",
                    close_at(t.entered, at(m.start, span, 0.5)),
                );
                completed += 1;
            }
        }

        // An incident's hours go to its company; the rest are the month's usual hours.
        let incident = m
            .incident
            .and_then(|i| desk.incident_ticket(i, m.start, span).map(|t| (t, i)));
        let usual = m.hundredths - incident.map_or(0, |(_, i)| i.hundredths.min(m.hundredths));
        if let Some((ticket, i)) = incident {
            let parts = split(i.hundredths.min(m.hundredths), &[1.0; 8]);
            for (k, part) in parts.into_iter().enumerate() {
                let share = (k as f64 + 0.5) / 8.0 * 0.9;
                desk.entry(ticket, part, at(m.start, span, share));
            }
        }

        // Hours on reactive tickets: the month's total split over its entries.
        if charged.is_empty() && usual > 0 {
            // No ticket entered this month: the hours go to a follow-up of an older one.
            let entered = at(m.start, span, 0.5);
            let parent = queue
                .front()
                .and_then(|t| desk.tickets.get(t.index))
                .and_then(|t| t["id"].as_i64())
                .unwrap_or(40_000);
            let (child, id) = desk.ticket(REACTIVE_BOARD, "In Progress", Some(parent), entered);
            desk.close(child, CLOSED_STATUSES[0], entered);
            charged.push((id, entered));
        }
        let weights: Vec<f64> = charged.iter().map(|_| 0.5 + desk.rng.unit()).collect();
        let parts = split(usual, &weights);
        for ((id, entered), part) in charged.into_iter().zip(parts) {
            let after = TimeDelta::minutes(i64::try_from(5 + desk.rng.below(115)).unwrap_or(5));
            let date = (entered + after).min(at(entered, stop - entered, 0.5));
            desk.entry(id, part, date);
        }

        // What the rules leave out: project work and its time, monitoring alerts,
        // internal time on a charge code.
        for n in 0..(m.created / 12).max(1) {
            let entered = at(
                m.start,
                span,
                (f64::from(n) + 0.5) / f64::from(m.created / 12 + 1),
            );
            let status = if n % 3 == 0 {
                "Completed"
            } else {
                "In Progress"
            };
            let (_, id) = desk.ticket(PROJECT_BOARD, status, None, entered);
            let hours = u64::from(n % 4 + 1) * 100;
            desk.entry(id, hours, at(entered, stop - entered, 0.3));
        }
        for n in 0..(m.created / 10).max(1) {
            let entered = at(
                m.start,
                span,
                (f64::from(n) + 0.25) / f64::from(m.created / 10 + 1),
            );
            let (alert, _) = desk.ticket(ALERT_BOARD, "New", None, entered);
            desk.close(alert, CLOSED_STATUSES[0], at(entered, stop - entered, 0.1));
        }
        for n in 0..3 {
            desk.charge_code_entry(1.5, at(m.start, span, f64::from(n) * 0.3 + 0.1));
        }
    }
    CwData {
        tickets: desk.tickets,
        time_entries: desk.entries,
        agreements: agreements(months),
    }
}

/// The companies' agreements over `months`: managed services billed monthly since
/// before the first month (Pecan Street's cancelled a third of the way in), an annual
/// backup agreement starting halfway, and block time billed quarterly for the client
/// only ConnectWise has.
fn agreements(months: &[DeskMonth]) -> Vec<Value> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Vec::new();
    };
    // Agreement dates are days, at midnight UTC.
    let day = |t: DateTime<Utc>| t.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let start = day(first.start) - TimeDelta::days(730);
    let middle = months.get(months.len() / 2).map_or(start, |m| day(m.start));
    let third = months.get(months.len() / 3).map_or(start, |m| day(m.start));
    let mut out = Vec::new();
    for (i, (_, name, _, bill)) in CW_COMPANIES.iter().enumerate() {
        let Some(id) = agreement_of(i) else { continue };
        let billing = Billing {
            amount: f64::from(*bill),
            cycle: "Monthly",
            start,
            end: None,
        };
        let row = of_company(
            agreement(id, "Managed Services", "Managed Services", &billing),
            i,
        );
        out.push(if name.starts_with("Pecan Street") {
            cancelled(row, third + TimeDelta::days(9))
        } else {
            row
        });
    }
    let backup = Billing {
        amount: 2_400.0,
        cycle: "Annual",
        start: middle + TimeDelta::days(14),
        end: None,
    };
    out.push(of_company(
        agreement(80_001, "Cloud Backup", "Backup", &backup),
        6,
    ));
    let block = Billing {
        amount: 1_500.0,
        cycle: "Quarterly",
        start,
        end: Some(day(last.end) + TimeDelta::days(365)),
    };
    out.push(of_company(
        agreement(80_002, "Block Time", "Block Hours", &block),
        11,
    ));
    out
}

/// `total` split in parts proportional to `weights` that add up to it exactly.
fn split(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return Vec::new();
    }
    let mut parts: Vec<u64> = weights
        .iter()
        .map(|w| (total as f64 * w / sum).floor() as u64)
        .collect();
    let mut rest = total.saturating_sub(parts.iter().sum());
    let n = parts.len();
    let mut i = 0;
    while rest > 0 {
        parts[i % n] += 1;
        rest -= 1;
        i += 1;
    }
    // Floors of a float product may overshoot by a unit: take it back.
    while parts.iter().sum::<u64>() > total {
        if let Some(p) = parts.iter_mut().find(|p| **p > 0) {
            *p -= 1;
        }
    }
    parts
}

/// `total` shared out by `weights` (largest remainders), exactly.
fn share(total: u32, weights: &[u32]) -> Vec<u32> {
    let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(u64, u64)> = weights
        .iter()
        .map(|w| {
            let x = u64::from(total) * u64::from(*w);
            (x / sum, x % sum)
        })
        .collect();
    let mut parts: Vec<u32> = exact
        .iter()
        .map(|(q, _)| u32::try_from(*q).unwrap_or(u32::MAX))
        .collect();
    let given: u32 = parts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact[i].1));
    for &i in order
        .iter()
        .take(usize::try_from(total - given).unwrap_or(0))
    {
        parts[i] += 1;
    }
    parts
}

/// Builds the fleet.
struct Fleet {
    data: NinjaData,
    next_device: i64,
    next_location: i64,
}

impl Fleet {
    fn organization(&mut self, id: i64, name: &str) {
        self.data
            .organizations
            .push(json!({"id": id, "name": name, "nodeApprovalMode": "AUTOMATIC"}));
    }

    fn location(&mut self, org: i64, name: &str) -> i64 {
        let id = self.next_location;
        self.next_location += 1;
        self.data
            .locations
            .push(json!({"id": id, "name": name, "organizationId": org}));
        id
    }

    fn devices(&mut self, n: u32, org: i64, location: i64, class: &str, name: &str) {
        for i in 1..=n {
            let id = self.next_device;
            self.next_device += 1;
            self.data
                .devices
                .push(device(id, org, location, class, &format!("{name}{i:02}")));
        }
    }
}

/// The initials of a client's name: "Lone Star Machining" → "LSM".
fn prefix(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(char::is_ascii_alphabetic)
        .collect()
}

/// A NinjaOne instance whose client devices make exactly `endpoints` endpoints and
/// `seats` seats by the collector's rules (`seats` at most `endpoints`; the difference
/// is servers and VM hosts), shared among [`CLIENTS`]; besides them it holds the
/// [`INTERNAL_ORGANIZATIONS`]' devices, spares (a device named so, a location named
/// so) and VM guests, which never count.
pub fn fleet(endpoints: u32, seats: u32) -> NinjaData {
    let seats = seats.min(endpoints);
    let weights: Vec<u32> = CLIENTS.iter().map(|(_, w)| *w).collect();
    let servers = share(endpoints - seats, &weights);
    let workstations = share(seats, &weights);
    let mut f = Fleet {
        data: NinjaData::default(),
        next_device: 1_001,
        next_location: 1,
    };
    f.organization(1, INTERNAL_ORGANIZATIONS[0]);
    let office = f.location(1, "Head Office");
    f.devices(12, 1, office, "WINDOWS_WORKSTATION", "ENER-WS");
    f.devices(1, 1, office, "WINDOWS_SERVER", "ENER-DC");
    for (i, (name, _)) in CLIENTS.iter().enumerate() {
        let org = i64::try_from(i).unwrap_or(0) + 2;
        f.organization(org, name);
        let p = prefix(name);
        let main = f.location(org, "Main Office");
        let (s, w) = (servers[i], workstations[i]);
        // One VM host where there are several servers, with its guests.
        let hosts = u32::from(s >= 3);
        f.devices(hosts, org, main, "VMWARE_VM_HOST", &format!("{p}-ESX"));
        f.devices(s - hosts, org, main, "WINDOWS_SERVER", &format!("{p}-SRV"));
        f.devices(2 * hosts, org, main, "VMWARE_VM_GUEST", &format!("{p}-VM"));
        if i % 3 == 1 {
            f.devices(1, org, main, "HYPERV_VMM_GUEST", &format!("{p}-HV"));
        }
        // Every eighth workstation is a Mac; a larger client has a branch.
        let macs = w / 8;
        let branch = if w >= 60 { w / 4 } else { 0 };
        f.devices(
            w - macs - branch,
            org,
            main,
            "WINDOWS_WORKSTATION",
            &format!("{p}-WS"),
        );
        f.devices(macs, org, main, "MAC", &format!("{p}-MAC"));
        if branch > 0 {
            let b = f.location(org, "Branch Office");
            f.devices(branch, org, b, "WINDOWS_WORKSTATION", &format!("{p}-BR"));
        }
        // Spares: a laptop on the shelf, and at one client a whole closet of them.
        f.devices(
            1,
            org,
            main,
            "WINDOWS_WORKSTATION",
            &format!("SPARE-{p}-LT"),
        );
        if i == 3 {
            let closet = f.location(org, "Spare Equipment Closet");
            f.devices(4, org, closet, "WINDOWS_WORKSTATION", &format!("{p}-LT"));
        }
    }
    let infra = i64::try_from(CLIENTS.len()).unwrap_or(0) + 2;
    f.organization(infra, INTERNAL_ORGANIZATIONS[1]);
    let dc = f.location(infra, "Colocation");
    f.devices(1, infra, dc, "VMWARE_VM_HOST", "INFRA-ESX");
    f.devices(2, infra, dc, "WINDOWS_SERVER", "INFRA-SRV");
    f.devices(3, infra, dc, "VMWARE_VM_GUEST", "INFRA-VM");
    f.data
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::conditions::{eval, parse_conditions};
    use std::collections::{BTreeMap, HashMap};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn bracket(t: DateTime<Utc>) -> String {
        format!("[{}]", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }

    fn count(rows: &[Value], conditions: &str) -> u32 {
        let c = parse_conditions(conditions).unwrap();
        u32::try_from(rows.iter().filter(|r| eval(&c, r)).count()).unwrap()
    }

    /// Chicago months of 2025, the last one in progress at `now`.
    fn months() -> Vec<DeskMonth> {
        let m = |start: &str, end: &str, created, closed, hundredths| DeskMonth {
            start: t(start),
            end: t(end),
            created,
            closed,
            hundredths,
            incident: None,
        };
        vec![
            m(
                "2025-01-01T06:00:00Z",
                "2025-02-01T06:00:00Z",
                290,
                301,
                12_637,
            ),
            m(
                "2025-02-01T06:00:00Z",
                "2025-03-01T06:00:00Z",
                255,
                240,
                11_002,
            ),
            m("2025-03-01T06:00:00Z", "2025-04-01T05:00:00Z", 0, 9, 45),
            m("2025-04-01T05:00:00Z", "2025-05-01T05:00:00Z", 7, 30, 1),
            m(
                "2025-05-01T05:00:00Z",
                "2025-06-01T05:00:00Z",
                280,
                276,
                12_250,
            ),
        ]
    }

    #[test]
    fn the_desk_reports_the_figures_asked_month_by_month() {
        let now = t("2025-05-03T17:00:00Z");
        let data = service_desk(&months(), now);
        let reactive = format!(r#"board/name in ("{REACTIVE_BOARD}") AND parentTicketId = null"#);
        let statuses = r#"(">Closed", ">Closed - No response", "Closed")"#;
        let boards: HashMap<i64, &str> = data
            .tickets
            .iter()
            .map(|r| {
                (
                    r["id"].as_i64().unwrap(),
                    r["board"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        let service = parse_conditions(r#"chargeToType = "ServiceTicket""#).unwrap();
        for m in months() {
            let (from, to) = (bracket(m.start), bracket(m.end));
            let created = count(
                &data.tickets,
                &format!("{reactive} AND dateEntered >= {from} AND dateEntered < {to}"),
            );
            let closed = count(
                &data.tickets,
                &format!(
                    "{reactive} AND status/name in {statuses} AND closedDate >= {from} AND closedDate < {to}"
                ),
            );
            let hundredths: f64 = data
                .time_entries
                .iter()
                .filter(|e| eval(&service, e))
                .filter(|e| boards.get(&e["chargeToId"].as_i64().unwrap()) == Some(&REACTIVE_BOARD))
                .filter(|e| {
                    let d = t(e["dateEntered"].as_str().unwrap());
                    d >= m.start && d < m.end
                })
                .map(|e| e["actualHours"].as_f64().unwrap() * 100.0)
                .sum();
            assert_eq!(
                (created, closed, hundredths.round()),
                (m.created, m.closed, m.hundredths as f64),
                "{}",
                m.start
            );
        }
    }

    /// Reactive hours (hundredths) entered in `m`, of one company or all.
    fn reactive_hundredths(data: &CwData, m: &DeskMonth, company: Option<i64>) -> u64 {
        let help_desk: HashSet<i64> = data
            .tickets
            .iter()
            .filter(|r| r["board"]["name"] == REACTIVE_BOARD)
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let sum: f64 = data
            .time_entries
            .iter()
            .filter(|e| e["chargeToType"] == "ServiceTicket")
            .filter(|e| help_desk.contains(&e["chargeToId"].as_i64().unwrap()))
            .filter(|e| company.is_none_or(|c| e["company"]["id"] == c))
            .filter(|e| {
                let d = t(e["dateEntered"].as_str().unwrap());
                d >= m.start && d < m.end
            })
            .map(|e| e["actualHours"].as_f64().unwrap() * 100.0)
            .sum();
        sum.round() as u64
    }

    #[test]
    fn an_incident_s_hours_go_to_its_company_and_the_month_keeps_its_figures() {
        let now = t("2025-05-03T17:00:00Z");
        let usual = months();
        let mut with = months();
        with[1].incident = Some(Incident {
            company: 19_307,
            hundredths: 4_000,
        });
        let (before, after) = (service_desk(&usual, now), service_desk(&with, now));
        let feb = &with[1];
        assert_eq!(reactive_hundredths(&after, feb, None), feb.hundredths);
        let magnolia = |d: &CwData| reactive_hundredths(d, feb, Some(19_307));
        assert!(magnolia(&after) >= 4_000, "{}", magnolia(&after));
        assert!(magnolia(&after) > magnolia(&before) + 3_000);
        // No new reactive ticket: the month's counts are the same.
        let reactive = |d: &CwData| {
            count(
                &d.tickets,
                r#"board/name = "Help Desk" AND parentTicketId = null"#,
            )
        };
        assert_eq!(reactive(&after), reactive(&before));
    }

    #[test]
    fn the_desk_is_consistent_and_holds_what_the_rules_leave_out() {
        let now = t("2025-05-03T17:00:00Z");
        let data = service_desk(&months(), now);
        let again = service_desk(&months(), now);
        assert_eq!(
            (&data.tickets, &data.time_entries),
            (&again.tickets, &again.time_entries),
            "deterministic"
        );
        for r in &data.tickets {
            let entered = t(r["dateEntered"].as_str().unwrap());
            assert!(entered <= now, "{r}");
            if let Some(c) = r["closedDate"].as_str() {
                assert!(t(c) >= entered && t(c) <= now, "{r}");
            }
        }
        for e in &data.time_entries {
            assert!(t(e["dateEntered"].as_str().unwrap()) <= now, "{e}");
            assert!(e["actualHours"].as_f64().unwrap() >= 0.0, "{e}");
        }
        let all = |c: &str| count(&data.tickets, c);
        assert!(all("parentTicketId != null") > 0, "child tickets");
        assert!(all(r#"board/name = "Help Desk" AND status/name = "Completed""#) > 0);
        assert!(all(r#"board/name != "Help Desk""#) > 0, "other boards");
        assert!(
            all(r#"board/name = "Help Desk" AND closedDate = null"#) >= 12,
            "open"
        );
        assert!(count(&data.time_entries, r#"chargeToType = "ChargeCode""#) > 0);
    }

    #[test]
    fn the_desk_s_rows_belong_to_companies_and_agreements_bill_them() {
        let data = service_desk(&months(), t("2025-05-03T17:00:00Z"));
        let company = |r: &Value| r["company"]["id"].as_i64().unwrap();
        let of_ticket: HashMap<i64, &Value> = data
            .tickets
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r))
            .collect();
        for r in &data.tickets {
            if let Some(parent) = r["parentTicketId"].as_i64() {
                assert_eq!(company(r), company(of_ticket[&parent]), "{r}");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &data.time_entries {
            seen.insert(company(e));
            if let Some(t) = e["chargeToId"].as_i64().and_then(|id| of_ticket.get(&id)) {
                if e["chargeToType"] == "ServiceTicket" {
                    assert_eq!(company(e), company(t), "{e}");
                    let help_desk = t["board"]["name"] == REACTIVE_BOARD;
                    assert_eq!(
                        e["agreement"].is_object(),
                        help_desk
                            && company(e) != 19_305
                            && company(e) != 19_311
                            && company(e) != 19_300,
                        "{e}"
                    );
                }
            }
        }
        assert_eq!(seen.len(), CW_COMPANIES.len(), "every company has time");
        assert_eq!(
            data.agreements.len(),
            11,
            "nine managed-services agreements, backup, block time"
        );
        assert_eq!(count(&data.agreements, "cancelledFlag = true"), 1);
        assert_eq!(
            count(
                &data.agreements,
                r#"billingCycle/name = "Annual" AND startDate > [2025-03-01T00:00:00Z]"#
            ),
            1,
            "the backup agreement starts halfway"
        );
    }

    /// The collector's rules, written out again.
    fn counted(data: &NinjaData) -> (u32, u32, BTreeMap<String, u32>) {
        let name = |list: &[Value], id: &Value| {
            list.iter()
                .find(|x| x["id"] == *id)
                .and_then(|x| x["name"].as_str())
                .unwrap_or("")
                .to_string()
        };
        let (mut endpoints, mut seats) = (0, 0);
        let mut per_client = BTreeMap::new();
        for d in &data.devices {
            let org = name(&data.organizations, &d["organizationId"]);
            let location = name(&data.locations, &d["locationId"]);
            let class = d["nodeClass"].as_str().unwrap();
            let spare = |s: &str| s.to_lowercase().contains("spare");
            if INTERNAL_ORGANIZATIONS.contains(&org.as_str())
                || class.ends_with("_GUEST")
                || spare(d["displayName"].as_str().unwrap())
                || spare(&location)
            {
                continue;
            }
            endpoints += 1;
            *per_client.entry(org).or_default() += 1;
            if !matches!(class, "WINDOWS_SERVER" | "VMWARE_VM_HOST") {
                seats += 1;
            }
        }
        (endpoints, seats, per_client)
    }

    #[test]
    fn the_fleet_counts_the_endpoints_and_seats_asked() {
        for (endpoints, seats) in [(592, 536), (571, 517), (40, 40), (9, 0)] {
            let data = fleet(endpoints, seats);
            let (e, s, per_client) = counted(&data);
            assert_eq!((e, s), (endpoints, seats));
            if endpoints >= 100 {
                let names: Vec<&str> = per_client.keys().map(String::as_str).collect();
                let clients: Vec<&str> = CLIENTS.iter().map(|(n, _)| *n).collect();
                assert_eq!(names, clients);
            }
            assert!(
                data.devices.len() > usize::try_from(endpoints).unwrap(),
                "excluded ones too"
            );
        }
        assert_eq!(prefix("Gulf Coast Title & Escrow"), "GCTE");
    }
}
