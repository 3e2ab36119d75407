//! The SPA's insight (issue 17) in a real browser, over the demo's 24 months entered
//! loaded into the database: the dashboard's business health block and written
//! summary, the forecast line on the cards of the quarter in progress, an unusual month
//! in the alerts strip, the drill-down's forecast and marks, the health weights in the
//! settings, and a goal added on the Goals page showing on its card. Screenshots at
//! 1280×800 and 800×1100 land in `target/screenshots/`.
use crate::browser_harness::*;
use backend::demo::INCIDENT;
use qbr_shared::Month;
use serde_json::json;

/// The demo's two years loaded straight into the server's database (before it has
/// read anything), and its month in progress.
async fn load_demo(server: &Server) -> Month {
    let mut conn = server._db.conn().await;
    let written = backend::demo::load::load_if_empty(&mut conn, 1)
        .await
        .unwrap();
    assert!(written > 0);
    let org = backend::store::org::load(&mut conn, 1)
        .await
        .unwrap()
        .unwrap();
    org.current_month(chrono::Utc::now())
}

/// Both sizes of a page, back at 1280×800 afterwards.
async fn shots(b: &Browser, name: &str) {
    b.screenshot(&format!("{name}-1280x800")).await;
    b.resize(800, 1100).await;
    b.screenshot(&format!("{name}-800x1100")).await;
    b.resize(1280, 800).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_insight_health_summary_forecast_unusual_and_goals() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let current = load_demo(&server).await;
    let quarter = current.quarter().to_string();
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // The health block: the period's score, as the API has it, and its summary.
    b.goto(&server.url(&format!("/dashboard/{quarter}"))).await;
    let summary = server
        .get(&format!("/api/qbr/summary?period={quarter}"))
        .await;
    let score = summary["data"]["health"]["score"].as_f64().unwrap();
    b.wait_text("#health-score", &format!("{}", score.round()))
        .await;
    let text = summary["data"]["summary"]["text"].as_str().unwrap();
    assert!(!text.is_empty());
    b.wait_text("#summary-text", text).await;
    assert_eq!(
        b.js("return document.querySelectorAll('#health-sections .section-bar').length;")
            .await,
        json!(5)
    );
    b.wait_for(
        "the health trend",
        "return document.querySelectorAll('#health-trend rect').length >= 2;",
    )
    .await;
    assert!(b
        .js("return document.querySelector('#health-definition').textContent;")
        .await
        .as_str()
        .unwrap()
        .starts_with("The health score (0–100)"));

    // The forecast of the quarter in progress on its cards.
    let forecast = server
        .get(&format!("/api/qbr/forecast?period={quarter}"))
        .await;
    let expected = forecast["data"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["expected"].is_number())
        .map(|n| n["key"].as_str().unwrap().to_string())
        .expect("a number with a forecast");
    let line = b.text(&format!("[data-forecast=\"{expected}\"]")).await;
    assert!(line.contains("On track for"), "{line}");
    shots(&b, "insight-dashboard").await;

    // The incident month's unusual hours in the alerts strip, tagged apart from alerts.
    let incident = current.add_months(-INCIDENT);
    let unusual = server
        .get(&format!("/api/qbr/anomalies?from={incident}&to={incident}"))
        .await;
    let first = &unusual["data"]["anomalies"][0];
    let explanation = first["explanation"].as_str().expect("an unusual month");
    b.goto(&server.url(&format!("/dashboard/{}", incident.quarter())))
        .await;
    let item = b
        .text(&format!(
            ".alert.unusual[data-month=\"{incident}\"][data-key=\"{}\"]",
            first["key"].as_str().unwrap()
        ))
        .await;
    assert!(item.contains("Unusual"), "{item}");
    assert!(item.contains(explanation), "{item}");
    b.screenshot_of("insight-unusual-1280x800", ".alerts").await;

    // The drill-down of a number with a forecast: the chart and its note.
    b.goto(&server.url(&format!("/numbers/{expected}/{quarter}")))
        .await;
    b.wait_for(
        "chart",
        "return !!document.querySelector('#drill-chart canvas');",
    )
    .await;
    assert!(b
        .text("#drill-forecast")
        .await
        .starts_with("Expected at the end of"));
    shots(&b, "insight-drilldown").await;
    // An unusual month of a SmartNumber is marked on its trend.
    if let Some(a) = unusual["data"]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "smartnumber")
    {
        b.goto(&server.url(&format!(
            "/numbers/{}/{incident}",
            a["key"].as_str().unwrap()
        )))
        .await;
        let marks = b.text("#drill-unusual").await;
        assert!(
            marks.contains(a["explanation"].as_str().unwrap()),
            "{marks}"
        );
        b.screenshot("insight-drilldown-unusual-1280x800").await;
    }

    // The health weights in the organization's settings.
    b.goto(&server.url("/settings")).await;
    b.wait_eq(
        "the profit weight",
        "const e = document.querySelector('#s-weight-profit'); return e ? e.value : null;",
        "30",
    )
    .await;

    // A goal added on the Goals page shows on its card.
    b.goto(&server.url("/goals")).await;
    b.select("#goal-key", "net_profit_pct").await;
    b.select("#goal-period", &quarter).await;
    b.type_into("#goal-target", "abc").await;
    b.click("#goal-submit").await;
    assert!(b.text("#goals-notice").await.starts_with("Target:"));
    b.type_into("#goal-target", "15").await;
    b.click("#goal-submit").await;
    b.wait_for(
        "the goal's row",
        "return !!document.querySelector('#goals tr[data-key=\"net_profit_pct\"]');",
    )
    .await;
    assert!(
        b.text("#goals-notice").await.starts_with("Goal set"),
        "{}",
        b.text("#goals-notice").await
    );
    shots(&b, "insight-goals").await;
    b.goto(&server.url(&format!("/dashboard/{quarter}"))).await;
    let goal = b.text("[data-goal=\"net_profit_pct\"]").await;
    assert!(goal.contains("Goal 15.0%"), "{goal}");
    assert!(goal.ends_with("to go") || goal.ends_with("met"), "{goal}");
    b.screenshot_of("insight-goal-card-1280x800", "#sec-Profit")
        .await;
    b.resize(800, 1100).await;
    b.screenshot_of("insight-goal-card-800x1100", "#sec-Profit")
        .await;
    b.close().await;
}

/// The clients' unusual months: the history of `insight::client_history` typed in for
/// two clients, the spike in the last month of the last closed quarter (the month the
/// clients' list and a client's page show by default).
#[tokio::test(flavor = "multi_thread")]
async fn browser_clients_unusual_months_on_the_list_and_the_clients_page() {
    use backend::store::clients::{create_client, write_manual, ManualWrite};
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    let (spike, quiet_id) = {
        let mut conn = server._db.conn().await;
        let org = backend::store::org::load(&mut conn, 1)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now();
        let spike = org.current_month(now).quarter().prev().months()[2];
        let mut ids = std::collections::HashMap::new();
        for (client, month, metric, value) in crate::insight::client_history(spike) {
            let client_id = match ids.get(client) {
                Some(id) => *id,
                None => {
                    let id = create_client(&mut conn, 1, client, "test", now)
                        .await
                        .unwrap();
                    ids.insert(client, id);
                    id
                }
            };
            let w = ManualWrite {
                client_id,
                month,
                metric,
                value,
                source: qbr_shared::api::DataSource::Imported,
                actor: "test",
                now,
            };
            write_manual(&mut conn, 1, w).await.unwrap();
        }
        (spike, ids["Quiet Law"])
    };
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // The list: the strip names Steady Dental's spike, links to its page, and says
    // nothing of the quiet client.
    b.goto(&server.url("/clients")).await;
    b.element("#client-unusual li.unusual").await;
    let first = b.text("#client-unusual li.unusual").await;
    assert!(first.starts_with("◆UnusualSteady Dental · "), "{first}");
    assert!(first.contains(&spike.label()), "{first}");
    // One event, one line: the client's other unusual values of that month named after
    // the strongest.
    assert!(first.contains("Also unusual: "), "{first}");
    assert_eq!(
        b.js("return document.querySelectorAll('#client-unusual li.unusual').length;")
            .await,
        json!(1)
    );
    let quiet = b
        .js(
            "return [...document.querySelectorAll('#client-unusual li.unusual')] \
             .filter(l => l.textContent.includes('Quiet Law')).length;",
        )
        .await;
    assert_eq!(quiet, json!(0));
    let title = b.text("#client-unusual .alerts-title").await;
    assert!(
        title.ends_with(&format!("in {}", spike.quarter().label())),
        "{title}"
    );
    shots(&b, "clients-unusual").await;

    // The client's page: its own strip (no name, no link) and RHEM's mark explained
    // under the trend.
    b.click("#client-unusual li.unusual a.client-link").await;
    b.wait_text("#client-name", "Steady Dental").await;
    b.element("#client-unusual li.unusual").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#client-unusual a').length;")
            .await,
        json!(0)
    );
    let note = b.text("#client-trend-unusual li").await;
    assert!(
        note.starts_with("Unusual: RHEM") && note.contains(&spike.label()),
        "{note}"
    );
    shots(&b, "client-unusual").await;
    b.screenshot_of("client-unusual-trend-1280x800", "#client-trend")
        .await;

    // The quiet client: nothing unusual in its twelve months.
    b.goto(&server.url("/clients")).await;
    b.element("#clients-table tbody tr[data-client]").await;
    b.click(&format!(
        "#clients-table tr[data-client=\"{quiet_id}\"] th.client-name a"
    ))
    .await;
    b.wait_text("#client-name", "Quiet Law").await;
    b.wait_text(
        "#client-unusual",
        "✓ Nothing unusual in the last 12 months.",
    )
    .await;
    b.close().await;
}
