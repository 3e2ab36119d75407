//! Clients › Clients, a client's page and Clients › Matching in headless Chromium,
//! against `qbr serve` with three clients (and an unmatched NinjaOne organization)
//! stored through `store::clients` for Q4 2024 and Q1 2025: the list's values, totals,
//! sorting and filter; the top movers and the reconciliation; a client's inputs; and
//! linking the unmatched organization on Matching (checked through the API too).
//! Screenshots at 1280×800 and 800×1100.

use crate::browser_harness::*;
use backend::store::clients::{create_client, upsert_seen, write_value, Link, ValueWrite};
use qbr_shared::clients::{ClientMetric, LinkStatus};
use qbr_shared::{Month, Vendor};
use serde_json::{json, Value};

/// Name, NinjaOne id, endpoints, and reactive hours per month in Q4 2024 and Q1 2025.
const CLIENTS: [(&str, &str, f64, f64, f64); 3] = [
    ("Acme Dental", "1", 100.0, 20.0, 30.0),
    ("Beta Law", "2", 50.0, 10.0, 40.0),
    ("Gamma Co", "3", 20.0, 2.0, 2.0),
];

/// Stores the clients, their NinjaOne organizations and six months of values; an
/// unmatched organization "Delta Dentistry" (id 9) with 5 endpoints. Returns the ids.
async fn seed(server: &Server) -> Vec<i64> {
    let mut conn = server._db.conn().await;
    let now = chrono::Utc::now();
    let ninja = Vendor::NinjaOne.id();
    let months: Vec<Month> = [
        "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03",
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect();
    let mut ids = Vec::new();
    let entities = CLIENTS
        .iter()
        .map(|(name, ext, endpoints, q4, q1)| (Some(*name), *ext, *endpoints, *q4, *q1))
        .chain([(None, "9", 5.0, 0.0, 0.0)]);
    for (name, ext, endpoints, q4, q1) in entities {
        let client_id = match name {
            Some(name) => {
                let id = create_client(&mut conn, 1, name, "test", now)
                    .await
                    .unwrap();
                ids.push(id);
                Some(id)
            }
            None => None,
        };
        let link = Link {
            vendor_id: ninja,
            external_id: ext,
            name: name.unwrap_or("Delta Dentistry"),
            client_id,
            status: if client_id.is_some() {
                LinkStatus::Proposed
            } else {
                LinkStatus::Unmatched
            },
            confirmed_by: None,
            now,
        };
        upsert_seen(&mut conn, 1, link).await.unwrap();
        for (i, month) in months.iter().enumerate() {
            let hours = if i < 3 { q4 } else { q1 };
            let values = [
                (ClientMetric::Endpoints, endpoints),
                (ClientMetric::Seats, endpoints - 1.0),
                (ClientMetric::ReactiveHours, hours),
                (ClientMetric::Revenue, endpoints * 50.0),
            ];
            for (metric, value) in values {
                let w = ValueWrite {
                    vendor_id: ninja,
                    external_id: ext,
                    month: *month,
                    metric,
                    value,
                    run_id: None,
                    now,
                };
                write_value(&mut conn, 1, w).await.unwrap();
            }
        }
    }
    ids
}

/// The names of the list's rows, top to bottom.
const ROW_NAMES: &str =
    "return [...document.querySelectorAll('#clients-table tbody tr[data-client] th')] \
     .map(e => e.textContent.trim()).join(',');";

/// The text of a cell of the list (`data-metric`/`data-number` attribute) in a row.
fn cell(row: &str, attr: &str) -> String {
    format!("return document.querySelector('#clients-table {row} td[{attr}]').textContent.trim();")
}

async fn screenshots(b: &Browser, name: &str) {
    b.resize(1280, 800).await;
    b.screenshot(&format!("{name}-1280x800")).await;
    b.resize(800, 1100).await;
    b.screenshot(&format!("{name}-800x1100")).await;
    // A table wider than the panel scrolls inside it, never the page.
    let wider = b
        .js("const w = document.documentElement.clientWidth; \
             if (document.documentElement.scrollWidth <= w + 1) return []; \
             return [...document.querySelectorAll('body *')] \
               .filter(e => e.getBoundingClientRect().right > w + 1) \
               .map(e => e.tagName + '.' + e.className + '#' + e.id);")
        .await;
    assert_eq!(
        wider,
        json!([]),
        "{name}: the page scrolls sideways at 800 px"
    );
    b.resize(1280, 800).await;
}

#[tokio::test]
async fn clients_list_client_page_and_matching() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    server.load_reference().await;
    let ids = seed(&server).await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // The list: Q1 2025 (the last closed quarter with data), best RHEM first.
    b.goto(&server.url("/clients")).await;
    b.element("#clients-table tbody tr[data-client]").await;
    assert_eq!(b.text("a.nav-link.active").await, "Clients");
    assert_eq!(b.text(".tabs .tab.active").await, "Clients");
    assert_eq!(
        b.js("return document.querySelector('#client-period').value;")
            .await,
        "2025-Q1"
    );
    b.wait_eq("rows by RHEM", ROW_NAMES, "Gamma Co,Acme Dental,Beta Law")
        .await;
    let acme = format!("tr[data-client=\"{}\"]", ids[0]);
    b.wait_eq(
        "Acme's endpoints",
        &cell(&acme, "data-metric=endpoints"),
        "100",
    )
    .await;
    b.wait_eq(
        "Acme's revenue",
        &cell(&acme, "data-metric=revenue"),
        "$15,000",
    )
    .await;
    // 90 h over 3 months on 100 endpoints: 0.30 h per endpoint per month.
    let rhem = b.js(&cell(&acme, "data-number=rhem")).await;
    assert!(rhem.as_str().unwrap().contains("0.30 h"), "{rhem}");
    let status = b
        .js(&format!(
            "return document.querySelector('#clients-table {acme} td[data-number=rhem] .st').dataset.status;"
        ))
        .await;
    assert!(
        ["green", "yellow", "red"].contains(&status.as_str().unwrap()),
        "{status}"
    );
    // Totals: every client (Delta is unmatched, no client's).
    b.wait_eq(
        "total endpoints",
        &cell("#clients-totals", "data-metric=endpoints"),
        "170",
    )
    .await;
    b.wait_eq(
        "total revenue",
        &cell("#clients-totals", "data-metric=revenue"),
        "$25,500",
    )
    .await;
    let recon = b.text("#reconciliation li[data-metric=endpoints]").await;
    assert!(recon.contains("Clients 170 + unmatched 5"), "{recon}");
    // Beta Law's RHEM went from 0.2 to 0.8: the top mover.
    let movers = b.text("#top-movers li").await;
    assert!(movers.starts_with("Beta Law"), "{movers}");
    assert!(movers.contains("worse"), "{movers}");
    screenshots(&b, "clients-list").await;

    // Sorting by a heading, then by name both ways.
    b.click("#clients-table thead th[aria-sort] button[title=Endpoints]")
        .await;
    b.wait_eq(
        "rows by endpoints",
        ROW_NAMES,
        "Acme Dental,Beta Law,Gamma Co",
    )
    .await;
    b.click("#clients-table thead th:first-child button").await;
    b.wait_eq("rows by name", ROW_NAMES, "Acme Dental,Beta Law,Gamma Co")
        .await;
    b.click("#clients-table thead th:first-child button").await;
    b.wait_eq(
        "rows by name, descending",
        ROW_NAMES,
        "Gamma Co,Beta Law,Acme Dental",
    )
    .await;
    assert_eq!(
        b.js("return document.querySelector('#clients-table thead th:first-child').getAttribute('aria-sort');")
            .await,
        "descending"
    );

    // The filter hides the others; the totals stay every client's.
    b.type_into("#client-filter", "law").await;
    b.wait_eq("filtered", ROW_NAMES, "Beta Law").await;
    assert!(b.text("#filter-note").await.starts_with("2 clients hidden"));
    b.wait_eq(
        "totals unfiltered",
        &cell("#clients-totals", "data-metric=endpoints"),
        "170",
    )
    .await;

    // A client's page: its entities, numbers and months.
    b.goto(&server.url(&format!("/clients/{}", ids[0]))).await;
    b.wait_text("#client-name", "Acme Dental").await;
    b.element("#client-inputs tr[data-period=\"2025-03\"]")
        .await;
    b.wait_eq(
        "March endpoints",
        "return document.querySelector('#client-inputs tr[data-period=\"2025-03\"] td[data-metric=endpoints]').textContent.trim();",
        "100",
    )
    .await;
    assert!(b.text("#client-entities tbody").await.contains("NinjaOne"));
    let rhem_card = b.text("#client-numbers [data-number=rhem]").await;
    assert!(rhem_card.contains("0.30 h"), "{rhem_card}");
    assert!(rhem_card.contains("+6 min"), "{rhem_card}");
    assert_eq!(b.text("a.nav-link.active").await, "Clients");
    b.select("#trend-number", "hours_per_seat").await;
    b.element("#client-trend canvas").await;
    screenshots(&b, "client-page").await;
    b.screenshot_of("client-page-inputs-1280x800", "#client-inputs")
        .await;

    // Matching: link the unmatched Delta Dentistry to Gamma Co, save, and it moves.
    b.goto(&server.url("/clients/matching")).await;
    b.element("#unmatched-table #entity-ninjaone-9").await;
    assert_eq!(b.text(".tabs .tab.active").await, "Matching");
    assert!(b.text("#confirm-proposed").await.contains("(3)"));
    screenshots(&b, "clients-matching").await;
    b.select("#link-ninjaone-9", &format!("c:{}", ids[2])).await;
    b.wait_text("#matching-save", "Save (1)").await;
    b.click("#matching-save").await;
    b.wait_text("#matching-notice", "Saved 1 change.").await;
    b.element("#no-unmatched").await;
    b.element(&format!("#client-{}-entities #entity-ninjaone-9", ids[2]))
        .await;
    let list: Value = server.get("/api/qbr/clients").await;
    assert_eq!(list["data"]["unmatched"], json!([]));
    let gamma = list["data"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ids[2])
        .unwrap();
    let delta = gamma["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["external_id"] == "9")
        .unwrap();
    assert_eq!(delta["status"], "confirmed", "{gamma}");

    // Confirming every proposed link leaves none to confirm.
    b.click("#confirm-proposed").await;
    b.wait_text("#matching-notice", "Every proposed link is confirmed.")
        .await;
    b.wait_text("#confirm-proposed", "Confirm all proposed (0)")
        .await;
    b.close().await;
}
