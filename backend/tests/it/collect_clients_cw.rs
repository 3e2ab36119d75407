//! ConnectWise per-client data: the collector's `read` over real HTTP against the
//! simulated ConnectWise, Feb–Apr 2025 in Chicago. Companies whose names need matching
//! ("Acme Dental, LLC" is NinjaOne's "ACME Dental"), one no other vendor has
//! ("Lakeside Orthodontics"), the MSP itself ("Ener Systems, LLC") and a merge ("Blue
//! Sky Dental" and "Blue Sky Dental Inc." are one client); tickets and time one second
//! each side of month boundaries; agreements starting mid-window, cancelled, ended.
//! Every value is written out; the companies add up to the organization.
//!
//! Chicago bounds: Feb = [02-01T06:00Z, 03-01T06:00Z), Mar = [03-01T06:00Z,
//! 04-01T05:00Z), Apr = [04-01T05:00Z, 05-01T05:00Z).

use crate::collect_data::{t, test_http};
use backend::collect::collector::{
    ClientReading, Collector, Reading, Steps, TicketDimension, Window,
};
use backend::collect::connectwise::client::ConnectWise;
use backend::collect::connectwise::CwConfig;
use backend::collect::http::Http;
use qbr_shared::clients::ClientMetric;
use qbr_shared::Month;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use test_support::vendors::{
    agreement, cancelled, classified, for_company, on_agreement, ticket, time_entry, Billing,
    CwData, FakeConnectWise, CW_CLIENT_ID, CW_COMPANY, CW_PRIVATE, CW_PUBLIC,
};

const ACME: i64 = 101;
const BLUE_SKY: i64 = 102;
const BLUE_SKY_INC: i64 = 103;
const LAKESIDE: i64 = 104;
const ENER: i64 = 250;

const NAMES: [(i64, &str); 5] = [
    (ACME, "Acme Dental, LLC"),
    (BLUE_SKY, "Blue Sky Dental"),
    (BLUE_SKY_INC, "Blue Sky Dental Inc."),
    (LAKESIDE, "Lakeside Orthodontics"),
    (ENER, "Ener Systems, LLC"),
];

fn name(company: i64) -> &'static str {
    NAMES
        .iter()
        .find(|(id, _)| *id == company)
        .map_or("", |(_, n)| n)
}

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

#[allow(clippy::too_many_arguments)]
fn tk(
    id: i64,
    company: i64,
    board: &str,
    status: &str,
    parent: Option<i64>,
    entered: &str,
    closed: Option<&str>,
) -> Value {
    let row = ticket(id, board, status, parent, t(entered), closed.map(t));
    for_company(row, company, name(company))
}

/// The ticket with its first response at `at`.
fn responded(mut row: Value, at: &str) -> Value {
    row["dateResponded"] = json!(at);
    row
}

fn entry(id: i64, company: i64, ticket: i64, hours: f64, at: &str) -> Value {
    for_company(time_entry(id, ticket, hours, t(at)), company, name(company))
}

fn contract(
    id: i64,
    company: i64,
    cycle: &str,
    amount: f64,
    start: &str,
    end: Option<&str>,
) -> Value {
    let billing = Billing {
        amount,
        cycle,
        start: t(start),
        end: end.map(t),
    };
    let row = agreement(id, &format!("Agreement {id}"), "Managed Services", &billing);
    for_company(row, company, name(company))
}

fn data() -> CwData {
    let hd = "Help Desk";
    let tickets = vec![
        // Feb 28 23:59:59 CST → February; closed Mar 1 00:00:00 CST → March.
        // First response 1.5 h later, in March: counts in February, its entry month.
        responded(
            classified(
                tk(
                    1,
                    ACME,
                    hd,
                    ">Closed",
                    None,
                    "2025-03-01T05:59:59Z",
                    Some("2025-03-01T06:00:00Z"),
                ),
                "Incident",
                "Priority 2 - High",
            ),
            "2025-03-01T07:29:59Z",
        ),
        // Mar 1 00:00:00 CST → March; closed Mar 31 23:59:59 CDT → March.
        responded(
            classified(
                tk(
                    2,
                    ACME,
                    hd,
                    "Closed",
                    None,
                    "2025-03-01T06:00:00Z",
                    Some("2025-04-01T04:59:59Z"),
                ),
                "Request",
                "Priority 3 - Medium",
            ),
            "2025-03-01T06:15:00Z",
        ),
        // Another board: in the breakdown, not reactive.
        // Not reactive: its response does not count.
        responded(
            classified(
                tk(
                    3,
                    ACME,
                    "Projects",
                    ">Closed",
                    None,
                    "2025-03-10T15:00:00Z",
                    Some("2025-03-11T15:00:00Z"),
                ),
                "Project",
                "Priority 3 - Medium",
            ),
            "2025-03-10T16:00:00Z",
        ),
        tk(4, BLUE_SKY, hd, "New", None, "2025-02-10T15:00:00Z", None),
        // "Completed" is not a closed status.
        tk(
            5,
            BLUE_SKY_INC,
            hd,
            "Completed",
            None,
            "2025-02-20T15:00:00Z",
            Some("2025-03-05T15:00:00Z"),
        ),
        // Entered before the window, closed at February's first instant.
        tk(
            6,
            BLUE_SKY_INC,
            hd,
            ">Closed - No response",
            None,
            "2025-01-20T15:00:00Z",
            Some("2025-02-01T06:00:00Z"),
        ),
        // A child ticket: not a ticket of its own, its time is reactive (looked up).
        tk(
            7,
            BLUE_SKY_INC,
            hd,
            "In Progress",
            Some(5),
            "2025-03-02T15:00:00Z",
            None,
        ),
        // The MSP's own company, Apr 1 00:00:00 CDT → April.
        classified(
            tk(
                8,
                ENER,
                hd,
                ">Closed",
                None,
                "2025-04-01T05:00:00Z",
                Some("2025-04-02T15:00:00Z"),
            ),
            "Incident",
            "Priority 4 - Low",
        ),
        // No type, no priority.
        tk(
            9,
            LAKESIDE,
            "Alerts",
            "New",
            None,
            "2025-04-15T15:00:00Z",
            None,
        ),
        // Entered before the window, still open: not listed, its time is (looked up).
        tk(10, ACME, hd, "New", None, "2025-01-05T15:00:00Z", None),
        // May 1 00:00:00 CDT: after the window.
        tk(
            11,
            BLUE_SKY,
            hd,
            "In Progress",
            None,
            "2025-05-01T05:00:00Z",
            None,
        ),
        // Apr 30 23:59:59 CDT → April; a response dated before the entry counts as 0 h.
        responded(
            tk(12, LAKESIDE, hd, "New", None, "2025-05-01T04:59:59Z", None),
            "2025-05-01T04:49:59Z",
        ),
        // No company at all (should not happen): counts for the organization only.
        ticket(13, "Projects", "New", None, t("2025-03-03T15:00:00Z"), None),
    ];
    let mut charge_code = entry(209, ACME, 7, 3.0, "2025-02-12T15:00:00Z");
    charge_code["chargeToType"] = json!("ChargeCode");
    let time_entries = vec![
        on_agreement(entry(201, ACME, 1, 1.5, "2025-03-01T05:59:59Z"), 501), // Feb
        on_agreement(entry(202, ACME, 1, 0.25, "2025-03-01T06:00:00Z"), 501), // Mar
        entry(203, ACME, 3, 4.0, "2025-03-10T16:00:00Z"),                    // Projects
        entry(204, ACME, 10, 0.75, "2025-02-15T15:00:00Z"), // a ticket from January
        entry(205, BLUE_SKY_INC, 7, 2.0, "2025-03-02T16:00:00Z"), // the child ticket
        on_agreement(entry(206, BLUE_SKY, 4, 1.0, "2025-02-11T15:00:00Z"), 502),
        entry(207, ENER, 8, 0.5, "2025-04-01T05:00:00Z"), // Apr
        entry(208, LAKESIDE, 9, 0.1, "2025-04-15T16:00:00Z"), // Alerts
        charge_code,                                      // not a service ticket
        entry(210, BLUE_SKY, 11, 1.0, "2025-05-01T05:00:00Z"), // May
        entry(211, LAKESIDE, 12, 0.2, "2025-05-01T04:59:59Z"), // Apr
    ];
    let agreements = vec![
        contract(501, ACME, "Monthly", 2500.0, "2024-01-01T00:00:00Z", None),
        // Starts mid-window (mid-March): March counts whole.
        contract(
            502,
            BLUE_SKY,
            "Monthly",
            1200.0,
            "2025-03-15T00:00:00Z",
            None,
        ),
        // 1,800 a year, cancelled on March 20th: through March.
        cancelled(
            contract(
                503,
                BLUE_SKY_INC,
                "Annual",
                1800.0,
                "2024-06-01T00:00:00Z",
                None,
            ),
            t("2025-03-20T00:00:00Z"),
        ),
        // 900 a quarter, ended on February's last day.
        contract(
            504,
            LAKESIDE,
            "Quarterly",
            900.0,
            "2024-01-01T00:00:00Z",
            Some("2025-02-28T00:00:00Z"),
        ),
        // Ended before the window: not even listed.
        contract(
            505,
            ACME,
            "Monthly",
            100.0,
            "2023-01-01T00:00:00Z",
            Some("2025-01-31T00:00:00Z"),
        ),
        // Cancelled before the window.
        cancelled(
            contract(506, ENER, "Monthly", 10.0, "2023-01-01T00:00:00Z", None),
            t("2025-01-15T00:00:00Z"),
        ),
    ];
    CwData {
        tickets,
        time_entries,
        agreements,
    }
}

fn settings(cw: &FakeConnectWise) -> CwConfig {
    CwConfig {
        url: cw.url.clone(),
        company: CW_COMPANY.into(),
        public_key: CW_PUBLIC.into(),
        private_key: CW_PRIVATE.into(),
        client_id: CW_CLIENT_ID.into(),
        reactive_boards: vec!["Help Desk".into()],
        closed_statuses: vec![
            ">Closed".into(),
            ">Closed - No response".into(),
            "Closed".into(),
        ],
    }
}

async fn read(cw: &FakeConnectWise) -> Reading {
    let months = [m("2025-02"), m("2025-03"), m("2025-04")];
    let window = Window::new(&months, chrono_tz::America::Chicago);
    let mut collector = ConnectWise::new(Http::new(test_http()).unwrap(), settings(cw));
    let steps = Steps::new(3, &|_, _| {}, None);
    collector.read(&window, &steps).await.unwrap()
}

fn client_value(c: &ClientReading, company: i64, month: &str, metric: ClientMetric) -> f64 {
    let found: Vec<f64> = c
        .values
        .iter()
        .filter(|v| {
            v.external_id == company.to_string() && v.month == m(month) && v.metric == metric
        })
        .map(|v| v.value)
        .collect();
    assert_eq!(found.len(), 1, "{company} {month} {metric:?}: {found:?}");
    found[0]
}

fn org_value(r: &Reading, month: &str, key: &str) -> f64 {
    r.values
        .iter()
        .find(|(mo, k, _)| *mo == m(month) && *k == key)
        .map(|v| v.2)
        .unwrap()
}

/// The three months of a metric for each company.
fn table(c: &ClientReading, metric: ClientMetric) -> Vec<(i64, [f64; 3])> {
    NAMES
        .iter()
        .map(|(id, _)| {
            let v = |month| client_value(c, *id, month, metric);
            (*id, [v("2025-02"), v("2025-03"), v("2025-04")])
        })
        .collect()
}

#[tokio::test]
async fn per_company_values_are_exact_on_month_boundaries() {
    let cw = FakeConnectWise::start(data()).await;
    let reading = read(&cw).await;
    let c = reading.clients.as_ref().unwrap();
    let entities: Vec<(String, String)> = NAMES
        .iter()
        .map(|(id, n)| (id.to_string(), n.to_string()))
        .collect();
    assert_eq!(c.entities, entities);
    use ClientMetric::*;
    #[rustfmt::skip]
    let expected = [
        (ReactiveTicketsCreated, vec![
            (ACME, [1.0, 1.0, 0.0]), (BLUE_SKY, [1.0, 0.0, 0.0]), (BLUE_SKY_INC, [1.0, 0.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 1.0]), (ENER, [0.0, 0.0, 1.0]),
        ]),
        (ReactiveTicketsClosed, vec![
            (ACME, [0.0, 2.0, 0.0]), (BLUE_SKY, [0.0, 0.0, 0.0]), (BLUE_SKY_INC, [1.0, 0.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 0.0]), (ENER, [0.0, 0.0, 1.0]),
        ]),
        (ReactiveHours, vec![
            (ACME, [2.25, 0.25, 0.0]), (BLUE_SKY, [1.0, 0.0, 0.0]), (BLUE_SKY_INC, [0.0, 2.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 0.2]), (ENER, [0.0, 0.0, 0.5]),
        ]),
        (ServiceHours, vec![
            (ACME, [2.25, 4.25, 0.0]), (BLUE_SKY, [1.0, 0.0, 0.0]), (BLUE_SKY_INC, [0.0, 2.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 0.3]), (ENER, [0.0, 0.0, 0.5]),
        ]),
        (AgreementHours, vec![
            (ACME, [1.5, 0.25, 0.0]), (BLUE_SKY, [1.0, 0.0, 0.0]), (BLUE_SKY_INC, [0.0, 0.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 0.0]), (ENER, [0.0, 0.0, 0.0]),
        ]),
        (AgreementMrr, vec![
            (ACME, [2500.0, 2500.0, 2500.0]), (BLUE_SKY, [0.0, 1200.0, 1200.0]),
            (BLUE_SKY_INC, [150.0, 150.0, 0.0]), (LAKESIDE, [300.0, 0.0, 0.0]), (ENER, [0.0, 0.0, 0.0]),
        ]),
        (RespondedTickets, vec![
            (ACME, [1.0, 1.0, 0.0]), (BLUE_SKY, [0.0, 0.0, 0.0]), (BLUE_SKY_INC, [0.0, 0.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 1.0]), (ENER, [0.0, 0.0, 0.0]),
        ]),
        (ResponseHours, vec![
            (ACME, [1.5, 0.25, 0.0]), (BLUE_SKY, [0.0, 0.0, 0.0]), (BLUE_SKY_INC, [0.0, 0.0, 0.0]),
            (LAKESIDE, [0.0, 0.0, 0.0]), (ENER, [0.0, 0.0, 0.0]),
        ]),
    ];
    for (metric, rows) in expected {
        assert_eq!(table(c, metric), rows, "{metric:?}");
    }
    // Nothing else: the eight metrics of three months of five companies.
    assert_eq!(c.values.len(), 8 * 3 * 5);
}

#[tokio::test]
async fn the_companies_add_up_to_the_organization() {
    let cw = FakeConnectWise::start(data()).await;
    let reading = read(&cw).await;
    let c = reading.clients.as_ref().unwrap();
    // The organization's values, from the count requests and the board lookups.
    #[rustfmt::skip]
    let org = [
        ("2025-02", [3.0, 1.0, 3.25]),
        ("2025-03", [1.0, 2.0, 2.25]),
        ("2025-04", [2.0, 1.0, 0.7]),
    ];
    let pairs = [
        (
            ClientMetric::ReactiveTicketsCreated,
            "reactive_tickets_created",
        ),
        (
            ClientMetric::ReactiveTicketsClosed,
            "reactive_tickets_closed",
        ),
        (ClientMetric::ReactiveHours, "reactive_time_spent"),
    ];
    for (month, values) in org {
        for ((metric, key), expected) in pairs.iter().zip(values) {
            let sum: f64 = c
                .values
                .iter()
                .filter(|v| v.month == m(month) && v.metric == *metric)
                .map(|v| v.value)
                .sum();
            let sum = (sum * 1e6).round() / 1e6;
            assert_eq!(org_value(&reading, month, key), expected, "{month} {key}");
            assert_eq!(sum, expected, "{month} {metric:?}");
            assert_eq!(metric.organization_metric(), Some(*key));
        }
    }
}

#[tokio::test]
async fn tickets_are_broken_down_by_board_type_and_priority() {
    let cw = FakeConnectWise::start(data()).await;
    let reading = read(&cw).await;
    let c = reading.clients.as_ref().unwrap();
    let of = |company: i64, month: &str, d: TicketDimension| -> Vec<(String, u32)> {
        c.tickets
            .iter()
            .filter(|x| {
                x.external_id == company.to_string() && x.month == m(month) && x.dimension == d
            })
            .map(|x| (x.label.clone(), x.tickets))
            .collect()
    };
    let s = |v: &[(&str, u32)]| -> Vec<(String, u32)> {
        v.iter().map(|(l, n)| (l.to_string(), *n)).collect()
    };
    use TicketDimension::*;
    assert_eq!(of(ACME, "2025-02", Board), s(&[("Help Desk", 1)]));
    assert_eq!(
        of(ACME, "2025-03", Board),
        s(&[("Help Desk", 1), ("Projects", 1)])
    );
    assert_eq!(
        of(ACME, "2025-03", Type),
        s(&[("Project", 1), ("Request", 1)])
    );
    assert_eq!(
        of(ACME, "2025-03", Priority),
        s(&[("Priority 3 - Medium", 2)])
    );
    assert_eq!(
        of(ACME, "2025-02", Priority),
        s(&[("Priority 2 - High", 1)])
    );
    // Entered in January, closed in February: no category of February.
    assert_eq!(of(BLUE_SKY_INC, "2025-02", Board), s(&[("Help Desk", 1)]));
    assert_eq!(of(BLUE_SKY_INC, "2025-03", Board), s(&[]));
    assert_eq!(
        of(LAKESIDE, "2025-04", Board),
        s(&[("Alerts", 1), ("Help Desk", 1)])
    );
    assert_eq!(of(LAKESIDE, "2025-04", Priority), s(&[("(none)", 2)]));
    assert_eq!(of(ENER, "2025-04", Type), s(&[("Incident", 1)]));
    assert_eq!(
        of(BLUE_SKY, "2025-04", Board),
        s(&[]),
        "May's ticket is not April's"
    );
    // Every listed ticket entered in the window is in each dimension once.
    for d in [Board, Type, Priority] {
        let n: u32 = c
            .tickets
            .iter()
            .filter(|x| x.dimension == d)
            .map(|x| x.tickets)
            .sum();
        assert_eq!(n, 8, "{d:?}");
    }
}

#[tokio::test]
async fn the_listing_saves_board_lookups() {
    let cw = FakeConnectWise::start(data()).await;
    read(&cw).await;
    // Per month two counts; one page each of time entries, tickets, agreements; one
    // board search for the tickets not listed (#7 the child, #10 from January).
    assert_eq!(cw.requests.load(Ordering::SeqCst), 3 * 2 + 3 + 1);
}

/// NinjaOne's organizations next to the companies: ACME Dental (ConnectWise's "Acme
/// Dental, LLC"), Blue Sky Dental, the MSP itself, and Gamma Co, which ConnectWise does
/// not have.
fn ninja_orgs() -> test_support::vendors::NinjaData {
    use test_support::vendors::device;
    test_support::vendors::NinjaData {
        organizations: vec![
            json!({"id": 1, "name": "ACME Dental"}),
            json!({"id": 2, "name": "Blue Sky Dental"}),
            json!({"id": 3, "name": "Ener Systems"}),
            json!({"id": 4, "name": "Gamma Co"}),
        ],
        locations: vec![json!({"id": 10, "name": "Main", "organizationId": 1})],
        devices: vec![
            device(1, 1, 10, "WINDOWS_WORKSTATION", "ACME-1"),
            device(2, 2, 10, "WINDOWS_WORKSTATION", "BLUE-1"),
            device(3, 4, 10, "WINDOWS_WORKSTATION", "GAMMA-1"),
            device(4, 3, 10, "WINDOWS_WORKSTATION", "ENER-1"),
        ],
    }
}

/// A run of both vendors stored: the companies are the clients, NinjaOne's
/// organizations are linked to them by name, the two Blue Sky companies are one
/// client, the MSP is internal, Gamma Co unmatched; each client's values are its
/// companies' sums, and the clients, the unmatched and the internal add up to the
/// organization's values exactly.
#[tokio::test]
async fn a_stored_run_links_clients_and_reconciles() {
    use crate::common::TestApp;
    use backend::collect::run::{self, RunOptions};
    use backend::collect::VendorChoice;
    let app = TestApp::spawn().await;
    let cw = FakeConnectWise::start(data()).await;
    let ninja = test_support::vendors::FakeNinja::start(ninja_orgs()).await;
    let cfg = crate::collect_data::config(Some(&cw), Some(&ninja));
    let opts = RunOptions {
        organization_id: 1,
        trigger: qbr_shared::collection::Trigger::Cli,
        vendors: VendorChoice::All,
        months: Some((m("2025-02"), m("2025-04"))),
        force: false,
        dry_run: false,
    };
    let report = run::run(&app.db.pool, &cfg, &opts, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(report.clients.clients_created, 3, "{:?}", report.clients);

    let (status, body) = app.get("/api/qbr/clients").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let clients = data["clients"].as_array().unwrap();
    let linked = |name: &str| -> Vec<(String, String)> {
        let c = clients.iter().find(|c| c["name"] == name).unwrap();
        c["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["vendor"].as_str().unwrap().to_string(),
                    e["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let names: Vec<&str> = clients
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Acme Dental, LLC",
            "Blue Sky Dental",
            "Lakeside Orthodontics"
        ]
    );
    let pair = |v: &str, n: &str| (v.to_string(), n.to_string());
    assert_eq!(
        linked("Acme Dental, LLC"),
        [
            pair("connectwise", "Acme Dental, LLC"),
            pair("ninjaone", "ACME Dental")
        ]
    );
    assert_eq!(
        linked("Blue Sky Dental"),
        [
            pair("connectwise", "Blue Sky Dental"),
            pair("connectwise", "Blue Sky Dental Inc."),
            pair("ninjaone", "Blue Sky Dental")
        ]
    );
    let listed = |key: &str| -> Vec<String> {
        data[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(listed("internal"), ["Ener Systems, LLC", "Ener Systems"]);
    assert_eq!(listed("unmatched"), ["Gamma Co"]);

    // Blue Sky's March is its two companies' sum, as read.
    let reading = read(&cw).await;
    let c = reading.clients.as_ref().unwrap();
    let (_, ranking) = app
        .get("/api/qbr/clients/ranking?period=2025-03&by=tickets_per_endpoint")
        .await;
    let rows = ranking["data"]["rows"].as_array().unwrap();
    let blue = rows
        .iter()
        .find(|r| r["name"] == "Blue Sky Dental")
        .unwrap();
    for metric in [
        ClientMetric::ReactiveTicketsCreated,
        ClientMetric::ReactiveHours,
        ClientMetric::ServiceHours,
        ClientMetric::AgreementMrr,
    ] {
        let expected = client_value(c, BLUE_SKY, "2025-03", metric)
            + client_value(c, BLUE_SKY_INC, "2025-03", metric);
        let stored = blue["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metric"] == metric.as_str())
            .map_or(0.0, |i| i["value"].as_f64().unwrap());
        assert!(
            (stored - expected).abs() < 1e-9,
            "{metric:?}: {stored} vs {expected}"
        );
    }
    // Every month and metric: clients + unmatched + internal = the organization.
    for month in ["2025-02", "2025-03", "2025-04", "2025-Q1"] {
        let (_, ranking) = app
            .get(&format!("/api/qbr/clients/ranking?period={month}"))
            .await;
        for r in ranking["data"]["reconciliation"].as_array().unwrap() {
            let Some(org) = r["organization"].as_f64() else {
                continue; // devices: today's snapshot only, no value for 2025
            };
            let parts = r["clients"].as_f64().unwrap()
                + r["unmatched"].as_f64().unwrap()
                + r["internal"].as_f64().unwrap();
            assert!((parts - org).abs() < 1e-6, "{month} {r}");
        }
    }
    // Blue Sky's client report of Q1 2025, read back with poppler: the client's own
    // numbers, its ticket categories, no margins unless asked.
    let blue_id = blue["client_id"].as_i64().unwrap();
    let text = client_report_text(&app, blue_id, "period=2025-Q1", "client-report").await;
    for expected in [
        "Quarterly Business Review",
        "Blue Sky Dental",
        "Prepared by",
        "Support by month",
        "Reactive tickets created",
        "Closed per ticket opened",
        "Average first response",
        "Hours on agreement",
        "RHEM",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert!(
        !text.contains("Margin"),
        "internal numbers in the client's copy:\n{text}"
    );
    let internal = client_report_text(
        &app,
        blue_id,
        "period=2025-Q1&internal=true",
        "client-report-internal",
    )
    .await;
    assert!(internal.contains("Margin") && internal.contains("Effective hourly rate"));
    let march_created = client_value(c, BLUE_SKY, "2025-03", ClientMetric::ReactiveTicketsCreated)
        + client_value(
            c,
            BLUE_SKY_INC,
            "2025-03",
            ClientMetric::ReactiveTicketsCreated,
        );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("Reactive tickets created"))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().skip(3).collect();
    // Jan (no data), Feb, Mar, the quarter.
    assert_eq!(cells[2], format!("{march_created}"), "{row}");
    let res = app
        .http
        .get(app.url("/api/qbr/clients/999/report?period=2025-Q1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .http
        .get(app.url(&format!("/api/qbr/clients/{blue_id}/report?period=2025-03")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Every client's report of the quarter in one zip, from the command line.
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("q1.zip");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_qbr"));
    cmd.args(["report", "--clients", "--period", "2025-Q1", "--out"])
        .arg(&zip_path)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("3 client reports of 2025-Q1"), "{said}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("qbr-2025-Q1-blue-sky-dental-")),
        "{names:?}"
    );
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut head = [0u8; 5];
        std::io::Read::read_exact(&mut f, &mut head).unwrap();
        assert_eq!(&head, b"%PDF-");
    }

    // A second run of the same closed months writes nothing: they are frozen.
    let again = run::run(&app.db.pool, &cfg, &opts, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(again.clients.values_written, 0, "{:?}", again.clients);
    assert_eq!(again.clients.clients_created, 0);
}

/// A client's report as text (`pdftotext -layout`), its first page rendered into
/// `target/screenshots/{name}.png` for people to look at.
async fn client_report_text(
    app: &crate::common::TestApp,
    id: i64,
    query: &str,
    name: &str,
) -> String {
    let res = app
        .http
        .get(app.url(&format!("/api/qbr/clients/{id}/report?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("client.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join(name);
    let render = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-singlefile"])
        .arg(&pdf)
        .arg(&png)
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(render.success());
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
