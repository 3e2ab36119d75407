//! Datasets of the collection tests: tickets, time entries and devices a few hours on
//! each side of month boundaries in Chicago time (DST weekends included), with the
//! exact values the collectors must find.

use backend::collect::http::HttpSettings;
use backend::collect::CollectorConfig;
use backend::config::Env;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Duration;
use test_support::vendors::{
    device, ticket, time_entry, CwData, FakeConnectWise, FakeNinja, NinjaData,
};

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Tickets 1–15 and time entries 101–113.
///
/// Chicago bounds: Mar = [03-01T06:00Z, 04-01T05:00Z), Nov = [11-01T05:00Z, 12-01T06:00Z).
/// Expected (created, closed, hours): Jan (1, 1, 0.5) … Feb (3, 1, 1.5), Mar (3, 3, 2.0),
/// Apr (1, 0, 3.0), Oct (2, 0, 2.25), Nov (2, 2, 1.75).
pub fn cw_data() -> CwData {
    let hd = "Help Desk";
    let tickets = vec![
        // Feb 28 21:00 CST → February; closed Feb 28 23:59 CST.
        ticket(
            1,
            hd,
            ">Closed",
            None,
            t("2025-03-01T03:00:00Z"),
            Some(t("2025-03-01T05:59:00Z")),
        ),
        // Exactly Mar 1 00:00 CST → March; closed in March.
        ticket(
            2,
            hd,
            "Closed",
            None,
            t("2025-03-01T06:00:00Z"),
            Some(t("2025-03-01T07:00:00Z")),
        ),
        // "Completed" is not a closed status.
        ticket(
            3,
            hd,
            "Completed",
            None,
            t("2025-02-28T20:00:00Z"),
            Some(t("2025-03-02T12:00:00Z")),
        ),
        // Mar 9 01:30 CST, just before spring forward; closed 03:30 CDT.
        ticket(
            4,
            hd,
            ">Closed - No response",
            None,
            t("2025-03-09T07:30:00Z"),
            Some(t("2025-03-09T08:30:00Z")),
        ),
        // A child ticket: not a reactive ticket (its time counts).
        ticket(
            5,
            hd,
            ">Closed",
            Some(1),
            t("2025-02-15T12:00:00Z"),
            Some(t("2025-02-16T12:00:00Z")),
        ),
        // Not a reactive board.
        ticket(
            6,
            "Projects",
            ">Closed",
            None,
            t("2025-02-10T12:00:00Z"),
            Some(t("2025-02-11T12:00:00Z")),
        ),
        // Mar 31 23:59 CDT → March, still open.
        ticket(7, hd, "New", None, t("2025-04-01T04:59:00Z"), None),
        // Apr 1 00:00 CDT → April.
        ticket(8, hd, "New", None, t("2025-04-01T05:00:00Z"), None),
        // Entered in January, closed Jan 31 23:00 CST → January.
        ticket(
            9,
            hd,
            ">Closed",
            None,
            t("2025-01-31T12:00:00Z"),
            Some(t("2025-02-01T05:00:00Z")),
        ),
        // Feb 1 00:00 CST → February; closed Mar 1 00:00 CST → March.
        ticket(
            10,
            hd,
            ">Closed",
            None,
            t("2025-02-01T06:00:00Z"),
            Some(t("2025-03-01T06:00:00Z")),
        ),
        // Oct 31 23:30 CDT → October; closed Nov 1 00:30 CDT → November.
        ticket(
            11,
            hd,
            ">Closed",
            None,
            t("2025-11-01T04:30:00Z"),
            Some(t("2025-11-01T05:30:00Z")),
        ),
        // Nov 2 01:30 CDT (first pass of the repeated hour); closed 01:30 CST (second pass).
        ticket(
            12,
            hd,
            "Closed",
            None,
            t("2025-11-02T06:30:00Z"),
            Some(t("2025-11-02T07:30:00Z")),
        ),
        // Nov 30 23:59 CST → November.
        ticket(13, hd, "In Progress", None, t("2025-12-01T05:59:00Z"), None),
        // Dec 1 00:00 CST → December.
        ticket(14, hd, "New", None, t("2025-12-01T06:00:00Z"), None),
        // Oct 1 00:00 CDT → October; Completed is not closed.
        ticket(
            15,
            hd,
            "Completed",
            None,
            t("2025-10-01T05:00:00Z"),
            Some(t("2025-10-02T05:00:00Z")),
        ),
    ];
    let mut project_entry = time_entry(108, 1, 4.0, t("2025-02-10T12:00:00Z"));
    project_entry["chargeToType"] = json!("ProjectTicket");
    let time_entries = vec![
        time_entry(101, 1, 1.5, t("2025-03-01T05:30:00Z")), // Feb
        time_entry(102, 5, 0.75, t("2025-03-01T06:30:00Z")), // Mar, child ticket
        time_entry(103, 6, 2.0, t("2025-02-20T12:00:00Z")), // Projects board
        time_entry(104, 2, 0.25, t("2025-03-09T08:15:00Z")), // Mar, after spring forward
        time_entry(105, 7, 1.0, t("2025-04-01T04:00:00Z")), // Mar 31 23:00 CDT
        time_entry(106, 8, 3.0, t("2025-04-01T05:00:00Z")), // Apr
        time_entry(107, 1, 0.5, t("2025-02-01T05:59:00Z")), // Jan 31 23:59 CST
        project_entry,                                      // not a service ticket
        time_entry(109, 999, 1.0, t("2025-02-12T12:00:00Z")), // unknown ticket
        time_entry(110, 11, 2.25, t("2025-11-01T04:45:00Z")), // Oct
        time_entry(111, 12, 1.25, t("2025-11-02T06:45:00Z")), // Nov, 01:45 CDT
        time_entry(112, 13, 0.5, t("2025-11-02T07:15:00Z")), // Nov, 01:15 CST
        time_entry(113, 15, 1.0, t("2025-12-01T06:00:00Z")), // Dec
    ];
    CwData {
        tickets,
        time_entries,
        ..CwData::default()
    }
}

/// 5 named organizations, spares by name and location (any case), excluded
/// organizations, servers, VM hosts and guests, and 1,200 more devices so the devices
/// need two pages. Expected: 1,205 endpoints, 1,203 seats.
pub fn ninja_data() -> NinjaData {
    let organizations = vec![
        json!({"id": 1, "name": "Acme Dental"}),
        json!({"id": 2, "name": "Beta Law"}),
        json!({"id": 3, "name": "Ener Systems"}),
        json!({"id": 4, "name": "Internal Infrastructure"}),
        json!({"id": 5, "name": "Gamma Co"}),
    ];
    let locations = vec![
        json!({"id": 10, "name": "Main Office", "organizationId": 1}),
        json!({"id": 11, "name": "Spare Closet", "organizationId": 1}),
        json!({"id": 12, "name": "HQ", "organizationId": 2}),
        json!({"id": 13, "name": "SPARES", "organizationId": 2}),
        json!({"id": 14, "name": "Office", "organizationId": 3}),
        json!({"id": 15, "name": "Lab", "organizationId": 5}),
    ];
    let mut devices = vec![
        device(1, 1, 10, "WINDOWS_WORKSTATION", "ACME-PC1"),
        device(2, 1, 10, "WINDOWS_WORKSTATION", "acme-spare-3"),
        device(3, 1, 11, "WINDOWS_WORKSTATION", "ACME-PC2"),
        device(4, 1, 10, "WINDOWS_SERVER", "ACME-DC1"),
        device(5, 1, 10, "VMWARE_VM_HOST", "ESX1"),
        device(6, 1, 10, "VMWARE_VM_GUEST", "VM1"),
        device(7, 1, 10, "HYPERV_VMM_GUEST", "HV1"),
        device(8, 2, 12, "MAC", "Beta-Mac"),
        device(9, 2, 13, "WINDOWS_WORKSTATION", "Beta-PC"),
        device(10, 2, 12, "WINDOWS_WORKSTATION", "SpArE laptop"),
        device(11, 3, 14, "WINDOWS_WORKSTATION", "Ener-PC"),
        device(12, 2, 12, "WINDOWS_SERVER", "Spare-SRV"),
        device(13, 2, 12, "LINUX_WORKSTATION", "beta-linux"),
        device(14, 4, 14, "WINDOWS_SERVER", "INFRA-1"),
    ];
    for id in 1001..2201 {
        devices.push(device(
            id,
            5,
            15,
            "WINDOWS_WORKSTATION",
            &format!("GAMMA-{id}"),
        ));
    }
    NinjaData {
        organizations,
        locations,
        devices,
    }
}

/// Fast retries for tests.
pub fn test_http() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        tries: 4,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A configuration reading the fakes, from the variables an administrator would set
/// (the collectors' defaults otherwise), with short retry delays.
pub fn config(cw: Option<&FakeConnectWise>, ninja: Option<&FakeNinja>) -> CollectorConfig {
    let vars: Vec<(&str, String)> = cw
        .map(FakeConnectWise::env)
        .into_iter()
        .chain(ninja.map(FakeNinja::env))
        .flatten()
        .collect();
    let mut config = CollectorConfig::from_env(&Env::from_pairs(vars)).unwrap();
    config.http = test_http();
    config
}
