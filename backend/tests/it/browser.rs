//! End-to-end tests of the SPA in real headless Chromium, driven over WebDriver
//! (chromedriver) against the real `qbr serve` binary on a fresh database and the
//! built SPA (`dist/`, built by `trunk build` if missing). Screenshots of every page at
//! 1280×800 and 800×1100 land in `target/screenshots/`.
//!
//! Skipped, with a note, when chromedriver or chromium is not installed.

use crate::browser_harness::*;
use crate::common::TestDb;
use serde_json::{json, Value};
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_numbers_editing_thresholds_theme_and_login() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    server.load_reference().await;
    // A month with a SmartNumber input missing: N/A names it.
    server
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": "2025-04", "metrics": [{"metric_name": "reactive_tickets_closed", "metric_value": 600}]}),
        )
        .await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // The worked example, formatted as specified.
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    assert_eq!(b.text(&card_value("rhem")).await, "0.25 h (15 min)");
    assert_eq!(b.text(&card_value("net_profit_pct")).await, "10.5%");
    assert_eq!(
        b.text(&card_value("avg_resolution_time")).await,
        "0.42 h (25 min)"
    );
    assert_eq!(
        b.text(&card_value("annual_service_rev_per_tech")).await,
        "$341,264"
    );
    // Every status is the server's judgement against the thresholds.
    let api = server.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    for n in api["data"]["smartnumbers"].as_array().unwrap() {
        let key = n["key"].as_str().unwrap();
        assert_eq!(
            card_status(&b, key).await,
            n["status"].as_str().unwrap(),
            "{key}"
        );
    }
    assert_eq!(
        card_status(&b, "tickets_per_endpoint_per_month").await,
        "red"
    );
    assert_eq!(card_status(&b, "rhem").await, "yellow");
    // Timestamps in the browser's zone (Chicago), never raw UTC.
    let updated = b.text("#last-updated").await;
    assert!(
        updated.contains("CST") || updated.contains("CDT"),
        "{updated}"
    );
    assert!(
        !updated.contains("UTC") && !updated.contains("null"),
        "{updated}"
    );
    b.screenshot("dashboard-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("dashboard-800x1100").await;
    b.resize(1280, 800).await;

    // N/A with the missing input.
    b.goto(&server.url("/dashboard/2025-04")).await;
    let na = b
        .text("[data-key=\"tickets_per_tech_per_month\"] .na-reason")
        .await;
    assert!(na.contains("N/A — needs # of Technical Employees"), "{na}");
    assert_eq!(
        b.text(&card_value("tickets_per_tech_per_month")).await,
        "N/A"
    );

    // Drill-down: the formula with the real numbers.
    b.goto(&server.url("/numbers/rhem/2025-Q1")).await;
    let filled = b.text("#formula-filled").await;
    assert!(
        filled.contains("452.1 h") && filled.ends_with("0.25 h (15 min)"),
        "{filled}"
    );
    assert_eq!(
        b.text("#drill-bands").await,
        "green ≤ 0.20 h (12 min), yellow ≤ 0.30 h (18 min)"
    );
    // The working hours come from the organization's setting, as the API reports it.
    let hours = server.get("/api/qbr/smartnumbers?period=2025-Q1").await["data"]
        ["working_hours_per_tech"]
        .as_f64()
        .unwrap();
    let note = b.text(".formula .muted.small").await;
    assert!(note.contains(&format!("{hours} working hours")), "{note}");
    b.wait_for(
        "chart",
        "return !!document.querySelector('#drill-chart canvas');",
    )
    .await;
    b.screenshot("drilldown-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("drilldown-800x1100").await;
    b.resize(1280, 800).await;

    // A red card turns green after a threshold edit made in the thresholds page.
    b.goto(&server.url("/thresholds")).await;
    b.type_into("#th-tickets_per_endpoint_per_month-1", "0.7")
        .await;
    b.type_into("#th-tickets_per_endpoint_per_month-3", "0.8")
        .await;
    b.click("#th-save-tickets_per_endpoint_per_month").await;
    assert!(b.text("#thresholds-notice").await.starts_with("Saved"));
    b.screenshot("thresholds-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("thresholds-800x1100").await;
    b.resize(1280, 800).await;
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    assert_eq!(
        card_status(&b, "tickets_per_endpoint_per_month").await,
        "green"
    );

    // A manual entry made in the Monthly Business Review table appears on the dashboard.
    b.goto(&server.url("/review")).await;
    b.click("button#cell-new_mrr-2025-03").await;
    b.type_into("input#cell-new_mrr-2025-03", "abc\u{E007}")
        .await;
    assert!(b.text(".cell-error").await.contains("not a number"));
    b.type_into("input#cell-new_mrr-2025-03", "2000\u{E007}")
        .await;
    assert!(
        b.text("#review-notice").await.starts_with("Saved"),
        "save failed"
    );
    b.screenshot("review-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("review-800x1100").await;
    b.resize(1280, 800).await;
    let before = server.get("/api/qbr/metrics/monthly?period=2025-03").await;
    let new_mrr = before["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric_name"] == "new_mrr")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert_eq!(new_mrr, 2000.0);
    let q1 = server.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    let added = q1["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "new_mrr_added")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    assert_eq!(
        b.text(&card_value("new_mrr_added")).await,
        qbr_shared::format::usd(added)
    );
    assert_ne!(b.text(&card_value("new_mrr_added")).await, "$2,902");

    // The other pages, for the record.
    for (path, name, probe) in [
        ("/trends", "trends", "#trend-chart-0 canvas"),
        ("/entry", "entry", "#f-employees"),
        ("/collection", "collection", ".collection .panel"),
        ("/settings", "settings", "#settings-form #s-hours"),
        (
            "/settings/api-keys",
            "api-keys",
            "#keys-unavailable, .settings table, .settings .empty",
        ),
        ("/login?error=access_denied", "login", "#login-error"),
    ] {
        b.goto(&server.url(path)).await;
        b.element(probe).await;
        b.screenshot(&format!("{name}-1280x800")).await;
        b.resize(800, 1100).await;
        b.screenshot(&format!("{name}-800x1100")).await;
        b.resize(1280, 800).await;
    }
    assert!(b.text("#login-error").await.contains("Access denied"));
    assert_eq!(b.text("#ms-login").await, "Sign in with Microsoft");

    // The navigation fits from 768 to 1920 px: every group, the user's corner and the
    // page's tabs are on screen, nothing scrolls sideways or is cut.
    b.goto(&server.url("/settings/api-keys")).await;
    b.element(".tabs .tab.active").await;
    for (width, height) in [(768, 1024), (800, 1100), (1280, 800), (1920, 1080)] {
        b.resize(width, height).await;
        let off_screen = b
            .js("const w = document.documentElement.clientWidth; \
                 return [...document.querySelectorAll('.topbar a.nav-link, .topbar .top-actions > *, .tabs .tab')] \
                   .filter(e => { const r = e.getBoundingClientRect(); \
                                  return r.width === 0 || r.left < 0 || r.right > w + 0.5; }) \
                   .map(e => e.textContent);")
            .await;
        assert_eq!(off_screen, json!([]), "cut at {width} px");
        let overflow = b
            .js(
                "return [...document.querySelectorAll('.topbar, .nav, .tabs')] \
                   .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className);",
            )
            .await;
        assert_eq!(overflow, json!([]), "scrolls sideways at {width} px");
        let groups = b
            .js("return [...document.querySelectorAll('.topbar a.nav-link')].map(a => a.textContent);")
            .await;
        assert_eq!(
            groups,
            json!([
                "Dashboard",
                "Review",
                "Clients",
                "Data",
                "Settings",
                "Organizations"
            ]),
            "{width} px"
        );
        b.screenshot(&format!("navigation-{width}x{height}")).await;
    }
    b.resize(1280, 800).await;

    // Dark mode toggles and is remembered.
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    b.element(&card_value("rhem")).await;
    let before = b.js("return document.documentElement.dataset.theme;").await;
    b.click("#theme-toggle").await;
    let after = b.js("return document.documentElement.dataset.theme;").await;
    assert_ne!(before, after);
    assert_eq!(after, "dark");
    b.screenshot("dashboard-dark-1280x800").await;
    b.goto(&server.url("/numbers/rhem/2025-Q1")).await;
    b.wait_for(
        "chart",
        "return !!document.querySelector('#drill-chart canvas');",
    )
    .await;
    b.screenshot("drilldown-dark-1280x800").await;
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    b.element(&card_value("rhem")).await;
    assert_eq!(
        b.js("return document.documentElement.dataset.theme;").await,
        "dark"
    );
    b.click("#theme-toggle").await;
    assert_eq!(
        b.js("return document.documentElement.dataset.theme;").await,
        "light"
    );

    // A 401 anywhere sends the user to the login page: end the session server-side
    // (as expiry or removal from the allow-list would), then navigate.
    b.js("return fetch('/api/auth/logout', {method: 'POST'}).then(r => r.status);")
        .await;
    b.click("a.nav-link[href='/o/enersystems-llc/review']")
        .await;
    b.wait_for("login page", "return location.pathname === '/login';")
        .await;
    assert_eq!(b.text("#ms-login").await, "Sign in with Microsoft");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timestamps_show_in_the_browser_time_zone() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    server.load_reference().await;
    let b = Browser::start("Asia/Tokyo").await;
    server.sign_in(&b).await;
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    let updated = b.text("#last-updated").await;
    assert!(updated.contains("GMT+9"), "{updated}");
    assert!(!updated.contains("UTC"), "{updated}");
    b.goto(&server.url("/numbers/net_profit_pct/2025-Q1")).await;
    let table = b.text(".drill table tbody").await;
    assert!(
        table.contains("GMT+9") && !table.contains("null"),
        "{table}"
    );
    b.close().await;
}

/// A row of the import preview: its class and its cells' text (period, metric,
/// action, stored, file, where).
async fn preview_row(b: &Browser, period: &str, metric: &str) -> (String, Vec<String>) {
    let v = b
        .wait_for(
            &format!("preview row {period} {metric}"),
            &format!(
                "const r = document.querySelector('#import-preview tr[data-period=\"{period}\"][data-metric=\"{metric}\"]');
                 return r ? {{cls: r.className, cells: [...r.cells].map(c => c.textContent.trim())}} : null;"
            ),
        )
        .await;
    let cells = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (v["cls"].as_str().unwrap().to_string(), cells)
}

#[tokio::test(flavor = "multi_thread")]
async fn import_page_previews_and_commits_a_csv() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    // Manual values for 2025-01..03 (new_mrr 2025-01 is 0, manual).
    server.load_reference().await;
    let dir = tempfile::tempdir().unwrap();
    // An imported value to change: 2025-04 MRR, imported with the CLI.
    let seed = dir.path().join("seed.csv");
    std::fs::write(&seed, "period,metric,value,notes\n2025-04,mrr,111000,\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qbr"))
        .args(["import", seed.to_str().unwrap(), "--commit"])
        .env("DATABASE_URL", &server._db.url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run qbr import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stored(&server, "2025-04", "mrr").await,
        Some((111000.0, "imported".into()))
    );

    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;
    b.goto(&server.url("/import")).await;

    // One new value, one change of the imported value (by its label), one unknown label:
    // the preview refuses the file, names the row, and nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "period,metric,value,notes\n\
         2025-04,cash_reserve,50000,new\n\
         2025-04,Monthly Recurring Revenue,112500,price rise\n\
         2025-04,Widgets Sold,3,\n",
    )
    .unwrap();
    b.upload("#import-file", &bad).await;
    b.click("#import-preview-btn").await;
    let err = b.text("#import-error").await;
    assert!(
        err.contains("row 4") && err.contains("Unknown metric label 'Widgets Sold'"),
        "{err}"
    );
    assert_eq!(
        b.js("return document.querySelector('#import-preview') === null && document.querySelector('#import-commit-btn').disabled;").await,
        true
    );
    assert_eq!(stored(&server, "2025-04", "cash_reserve").await, None);

    // Fixed: the unknown row removed; a manual value added (2025-01 New MRR, 0 → 500).
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "period,metric,value,notes\n\
         2025-04,cash_reserve,50000,new\n\
         2025-04,Monthly Recurring Revenue,112500,price rise\n\
         2025-01,new_mrr,500,\n",
    )
    .unwrap();
    b.upload("#import-file", &good).await;
    b.wait_for(
        "the error to clear",
        "return document.querySelector('#import-error') === null;",
    )
    .await;
    b.click("#import-preview-btn").await;
    b.wait_text(
        "#import-summary",
        "Preview: 1 created, 1 changed, 0 unchanged, 1 skipped.",
    )
    .await;
    let (cls, cells) = preview_row(&b, "2025-04", "cash_reserve").await;
    assert_eq!(cls, "created");
    assert_eq!(cells[2..5], ["created", "", "50000"]);
    let (cls, cells) = preview_row(&b, "2025-04", "mrr").await;
    assert_eq!(cls, "changed");
    assert_eq!(cells[2..5], ["changed", "111000", "112500"]);
    // The manual value is protected unless overwrite is ticked.
    let (cls, cells) = preview_row(&b, "2025-01", "new_mrr").await;
    assert_eq!(cls, "skipped");
    assert_eq!(cells[2..5], ["skipped (collected/manual)", "0", "500"]);
    // Highlighted: created and changed rows have a background, skipped ones don't.
    let bg = |sel: &str| {
        format!(
            "return getComputedStyle(document.querySelector('#import-preview tr{sel} td')).backgroundColor;"
        )
    };
    let plain = b.js(&bg(".skipped")).await;
    assert_ne!(b.js(&bg(".created")).await, plain);
    assert_ne!(b.js(&bg(".changed")).await, plain);
    b.screenshot("import-preview-1280x800").await;
    // Nothing is written by a preview.
    assert_eq!(stored(&server, "2025-04", "cash_reserve").await, None);

    b.click("#import-commit-btn").await;
    b.wait_text(
        "#import-summary",
        "Imported: 1 created, 1 changed, 0 unchanged, 1 skipped.",
    )
    .await;
    let done = b.text("#import-done").await;
    assert!(done.starts_with("Imported 2 values"), "{done}");
    assert!(done.contains("2025-04"), "{done}");
    assert_eq!(
        stored(&server, "2025-04", "cash_reserve").await,
        Some((50000.0, "imported".into()))
    );
    assert_eq!(
        stored(&server, "2025-04", "mrr").await,
        Some((112500.0, "imported".into()))
    );
    assert_eq!(
        stored(&server, "2025-01", "new_mrr").await,
        Some((0.0, "manual".into()))
    );

    // With overwrite ticked the manual value is changed too (the rest is now unchanged).
    b.click("#import-overwrite").await;
    b.wait_for(
        "the preview to clear",
        "return document.querySelector('#import-preview') === null;",
    )
    .await;
    b.click("#import-preview-btn").await;
    b.wait_text(
        "#import-summary",
        "Preview: 0 created, 1 changed, 2 unchanged, 0 skipped.",
    )
    .await;
    let (cls, cells) = preview_row(&b, "2025-01", "new_mrr").await;
    assert_eq!(cls, "changed");
    assert_eq!(cells[2..5], ["changed", "0", "500"]);
    assert_eq!(preview_row(&b, "2025-04", "mrr").await.0, "unchanged");
    b.click("#import-commit-btn").await;
    assert!(b.text("#import-done").await.starts_with("Imported 1 value"));
    assert_eq!(
        stored(&server, "2025-01", "new_mrr").await,
        Some((500.0, "imported".into()))
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_and_export_links() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    server.load_reference().await;
    // Data in 2025-Q2 and in 2024-Q4 too.
    for (period, value) in [("2025-05", 110500), ("2024-11", 105000)] {
        server
            .post(
                "/api/qbr/metrics/manual",
                &json!({"period": period, "metrics": [{"metric_name": "mrr", "metric_value": value}]}),
            )
            .await;
    }
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;
    let report = |period: &str, paper: &str| {
        format!("/api/qbr/report?period={period}&format=pdf&paper={paper}&tz=America%2FChicago&organization_id=1")
    };
    let export = |format: &str, year: i32| {
        format!("/api/qbr/export?format={format}&from={year}-01&to={year}-12&organization_id=1")
    };

    // Dashboard: the shown quarter, Letter by default, the browser's zone.
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    assert_eq!(
        b.js("return Intl.DateTimeFormat().resolvedOptions().timeZone;")
            .await,
        "America/Chicago"
    );
    b.wait_attr("#report-pdf", "href", &report("2025-Q1", "letter"))
        .await;
    assert_eq!(b.text("#report-pdf").await, "Report (PDF)");
    assert_eq!(
        b.js(
            "const a = document.querySelector('#report-pdf'); const u = new URL(a.href); \
              return [u.searchParams.get('tz'), a.hasAttribute('download'), a.tabIndex, \
                      document.querySelector('#report-paper').labels[0].querySelector('span').textContent];"
        )
        .await,
        json!(["America/Chicago", true, 0, "Paper"])
    );
    // The link really downloads the report with the browser's session.
    assert_eq!(
        b.js("const a = document.querySelector('#report-pdf'); \
             return fetch(a.href).then(async r => [r.status, r.headers.get('content-type'), \
               new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))]);")
            .await,
        json!([200, "application/pdf", "%PDF-"])
    );
    b.wait_attr("#export-csv", "href", &export("csv", 2025))
        .await;
    b.wait_attr("#export-xlsx", "href", &export("xlsx", 2025))
        .await;
    // Keyboard: Tab from the paper select reaches the report link, then the exports.
    b.js("document.querySelector('#report-paper').focus();")
        .await;
    for next in ["report-pdf", "export-csv", "export-xlsx"] {
        b.press("\u{E004}").await;
        b.wait_eq("focus", "return document.activeElement.id;", next)
            .await;
    }
    // A4: the link follows at once and the choice survives a reload.
    b.select("#report-paper", "a4").await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q1", "a4"))
        .await;
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q1", "a4"))
        .await;
    assert_eq!(
        b.js("return document.querySelector('#report-paper').value;")
            .await,
        "a4"
    );
    b.screenshot("dashboard-downloads-1280x800").await;
    // A month shows its quarter's report.
    b.goto(&server.url("/dashboard/2025-05")).await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q2", "a4"))
        .await;
    b.wait_attr("#export-csv", "href", &export("csv", 2025))
        .await;

    // Business Review: the year's latest quarter with data, a quarter chooser, the
    // remembered paper, the year's exports.
    b.goto(&server.url("/review")).await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q2", "a4"))
        .await;
    assert_eq!(
        b.js("return document.querySelector('#quarter-select').value;")
            .await,
        "2"
    );
    b.wait_attr("#export-csv", "href", &export("csv", 2025))
        .await;
    b.wait_attr("#export-xlsx", "href", &export("xlsx", 2025))
        .await;
    b.select("#quarter-select", "3").await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q3", "a4"))
        .await;
    b.select("#report-paper", "letter").await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q3", "letter"))
        .await;
    b.select("#year-select", "2024").await;
    b.wait_attr("#report-pdf", "href", &report("2024-Q4", "letter"))
        .await;
    b.wait_attr("#export-csv", "href", &export("csv", 2024))
        .await;
    b.wait_attr("#export-xlsx", "href", &export("xlsx", 2024))
        .await;
    b.screenshot("review-downloads-1280x800").await;
    // Letter, chosen here, is what the dashboard now uses.
    b.goto(&server.url("/dashboard/2025-Q1")).await;
    b.wait_attr("#report-pdf", "href", &report("2025-Q1", "letter"))
        .await;
    b.close().await;
}

/// Stores, as a Web Connector sync would have, the accounts and one profit-and-loss
/// report of January and February 2025: nested accounts, a refund (Projects in
/// February), and Grant Income, which no default rule maps (so January doesn't add up);
/// and a Web Connector session that failed.
async fn seed_quickbooks(db: &TestDb) {
    use backend::store::quickbooks::{self as store, NewSync, SessionUpdate, Source};
    use qbr_shared::quickbooks::{map_report, PnlAccount, PnlReport, Section};
    let account = |name: &str, section: Section, amounts: [f64; 2]| PnlAccount {
        full_name: name.into(),
        section,
        amounts: amounts.to_vec(),
    };
    let accounts = vec![
        account("Managed Services", Section::Income, [800.0, 800.0]),
        account("Managed Services:Backup", Section::Income, [100.0, 100.0]),
        account("Projects", Section::Income, [400.0, -100.0]),
        account("Grant Income", Section::Income, [2500.0, 0.0]),
        account("Cost of Goods Sold", Section::CostOfGoodsSold, [200.0, 0.0]),
        account("Payroll Expenses:Wages", Section::Expense, [600.0, 600.0]),
        account("Rent", Section::Expense, [300.0, 350.0]),
    ];
    let mut totals = std::collections::BTreeMap::new();
    totals.insert("income".to_string(), vec![3800.0, 800.0]);
    totals.insert("cogs".to_string(), vec![200.0, 0.0]);
    totals.insert("expense".to_string(), vec![900.0, 950.0]);
    let report = PnlReport {
        months: vec!["2025-01".parse().unwrap(), "2025-02".parse().unwrap()],
        accounts,
        totals,
    };
    let unreconciled = map_report(&report, &Default::default()).unreconciled;
    assert_eq!(unreconciled.len(), 1, "January's income doesn't add up");
    let now = chrono::Utc::now();
    let mut conn = db.conn().await;
    let seen: Vec<(&str, Section)> = report
        .accounts
        .iter()
        .map(|a| (a.full_name.as_str(), a.section))
        .collect();
    store::accounts_seen(&mut conn, 1, &seen, now)
        .await
        .unwrap();
    let sync = NewSync {
        source: Source::Desktop,
        report: &report,
        raw: "",
        active_employees: None,
        closing_date: None,
        unreconciled: &unreconciled,
        run_id: None,
        now,
    };
    store::record_sync(&mut conn, 1, sync).await.unwrap();
    store::open_session(&mut conn, b"e2e-ticket", 1, "bookkeeper", json!([]))
        .await
        .unwrap();
    let update = SessionUpdate {
        company_file: None,
        answers: None,
        last_error: Some(Some("QuickBooks could not open the company file")),
        close: true,
    };
    store::update_session(&mut conn, b"e2e-ticket", update)
        .await
        .unwrap();
}

/// An account of `GET /api/qbr/quickbooks/accounts`.
async fn qb_account(server: &Server, name: &str) -> Value {
    let v = server.get("/api/qbr/quickbooks/accounts").await;
    v["data"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["full_name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no account {name}: {v}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_page_maps_an_account() {
    if !browser_available() {
        return;
    }
    let hash = backend::collect::quickbooks::hash_password("e2e secret").unwrap();
    let server = Server::start_with(&[
        ("QBWC_USERNAME", "bookkeeper"),
        ("QBWC_PASSWORD_HASH", hash.as_str()),
    ])
    .await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // Before QuickBooks has reported anything: the empty state, under Settings.
    b.goto(&server.url("/settings/quickbooks")).await;
    assert!(b
        .text("#qb-empty")
        .await
        .starts_with("No QuickBooks report yet"));
    assert_eq!(b.text("a.nav-link.active").await, "Settings");
    assert_eq!(b.text(".tabs .tab.active").await, "QuickBooks");

    seed_quickbooks(&server._db).await;
    b.goto(&server.url("/settings/quickbooks")).await;
    // The status: set up, the user, the last session in the browser's zone, its error.
    b.element("#qb-configured").await;
    assert_eq!(b.text(".facts code").await, "bookkeeper");
    let last = b.text("#qb-last-session").await;
    assert!(last.contains("CST") || last.contains("CDT"), "{last}");
    assert_eq!(
        b.text("#qb-last-error").await,
        "QuickBooks could not open the company file"
    );
    let color = "return getComputedStyle(document.querySelector('#qb-last-error')).color;";
    assert_eq!(b.js(color).await, "rgb(180, 35, 24)", "red");
    // The newest report, January not adding up because of Grant Income.
    let syncs = b.text("#qb-syncs tbody").await;
    assert!(syncs.contains("Jan 2025 – Feb 2025"), "{syncs}");
    assert!(
        syncs.contains("Jan 2025: income $3,800.00 in the report, $1,300.00 accounted for; unmapped: Grant Income"),
        "{syncs}"
    );
    let unmapped = b.text("#qb-unmapped").await;
    assert!(
        unmapped.starts_with("1 account of the newest report goes nowhere: Grant Income"),
        "{unmapped}"
    );

    // The accounts by section, sub-accounts under their parent, amounts of the last
    // month (February), what each follows.
    let row = |name: &str, what: &str| {
        format!(
            "const r = document.querySelector('#qb-accounts tr[data-account=\"{name}\"]'); \
             return r ? {what} : null;"
        )
    };
    assert_eq!(
        b.wait_for("sections", "return [...document.querySelectorAll('#qb-accounts tbody')].map(t => t.dataset.section);").await,
        json!(["income", "cogs", "expense"])
    );
    assert_eq!(
        b.wait_for("rows", "return [...document.querySelectorAll('#qb-accounts tbody[data-section=income] tr[data-account]')].map(r => r.dataset.account);").await,
        json!(["Grant Income", "Managed Services", "Managed Services:Backup", "Projects"])
    );
    assert_eq!(
        b.js(&row(
            "Managed Services:Backup",
            "[r.cells[0].textContent, r.cells[0].querySelector('.account-name').style.paddingLeft]"
        ))
        .await,
        json!(["Backup", "18px"])
    );
    assert_eq!(
        b.js(&row("Projects", "r.cells[1].textContent")).await,
        "-$100.00"
    );
    assert_eq!(b.text("#qb-accounts thead th.num").await, "Feb 2025");
    let follows = |name: &str| {
        row(name, "[r.querySelector('select').selectedOptions[0].textContent, r.querySelector('.badge').textContent, r.classList.contains('unmapped')]")
    };
    assert_eq!(
        b.js(&follows("Managed Services")).await,
        json!([
            "(default: Monthly Recurring Revenue (MRR))",
            "default",
            false
        ])
    );
    assert_eq!(
        b.js(&follows("Grant Income")).await,
        json!(["(not mapped)", "unmapped", true])
    );
    // The .qwc file for this server's service, downloaded with the session.
    let qwc = format!(
        "/api/qbr/quickbooks/qwc?url={}&organization_id=1",
        js_encode(&server.url("/api/qbwc"))
    );
    b.wait_attr("#qb-qwc", "href", &qwc).await;
    assert_eq!(
        b.js("return fetch(document.querySelector('#qb-qwc').href).then(async r => [r.status, (await r.text()).includes('<UserName>bookkeeper</UserName>')]);").await,
        json!([200, true])
    );
    b.screenshot("quickbooks-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("quickbooks-800x1100").await;
    b.screenshot_of("quickbooks-accounts-800x1100", "#qb-accounts-panel")
        .await;
    b.resize(1280, 800).await;
    b.screenshot_of("quickbooks-accounts-1280x800", "#qb-accounts-panel")
        .await;

    // Nothing changed: Save is off. A change, then Cancel: back as stored.
    let save_disabled = "return document.querySelector('#qb-save').disabled;";
    assert_eq!(b.js(save_disabled).await, true);
    b.select("select.target[data-account=\"Rent\"]", "mrr")
        .await;
    b.wait_text("#qb-save", "Save 1 change").await;
    assert_eq!(
        b.js(&row("Rent", "r.classList.contains('changed')")).await,
        true
    );
    b.click("#qb-cancel").await;
    b.wait_eq(
        "Rent back",
        &row("Rent", "r.querySelector('select').value"),
        "",
    )
    .await;
    assert_eq!(b.js(save_disabled).await, true);

    // Grant Income → Ignore: refused without a reason (nothing sent), then saved.
    b.select("select.target[data-account=\"Grant Income\"]", "ignore")
        .await;
    b.click("#qb-save").await;
    assert!(b
        .text("#qb-notice")
        .await
        .starts_with("Give a reason for ignoring Grant Income"));
    assert_eq!(
        b.js("return document.querySelector('input.reason[data-account=\"Grant Income\"]').getAttribute('aria-invalid');").await,
        "true"
    );
    assert_eq!(
        qb_account(&server, "Grant Income").await["mapped_by"],
        "none"
    );
    b.type_into(
        "input.reason[data-account=\"Grant Income\"]",
        "Not operating income",
    )
    .await;
    b.click("#qb-save").await;
    b.wait_for(
        "saved",
        "const n = document.querySelector('#qb-notice'); return n && n.textContent.startsWith('Saved');",
    )
    .await;
    let notice = b.text("#qb-notice").await;
    assert!(
        notice.starts_with(
            "Saved 1 mapping: 2 months mapped again from the stored reports (Jan 2025 – Feb 2025)"
        ),
        "{notice}"
    );
    // Stored, and the report adds up now.
    let grant = qb_account(&server, "Grant Income").await;
    assert_eq!(
        (&grant["target"], &grant["mapped_by"], &grant["reason"]),
        (
            &json!("ignore"),
            &json!("own"),
            &json!("Not operating income")
        )
    );
    let status = server.get("/api/qbr/quickbooks/status").await;
    assert_eq!(status["data"]["unmapped_accounts"], json!([]));
    b.wait_for(
        "the warning to go",
        "return document.querySelector('#qb-unmapped') === null;",
    )
    .await;
    assert_eq!(
        b.js(&follows("Grant Income")).await,
        json!(["Ignore", "own", false])
    );
    assert_eq!(
        b.js(&row("Grant Income", "r.querySelector('select').value"))
            .await,
        "ignore"
    );
    assert_eq!(b.js(save_disabled).await, true);
    b.screenshot_of("quickbooks-saved-1280x800", "#qb-accounts-panel")
        .await;

    // History: asked from a month, shown as pending.
    b.js(
        "const i = document.querySelector('#qb-backfill-month'); i.value = '2024-01'; \
          i.dispatchEvent(new Event('input', {bubbles: true}));",
    )
    .await;
    b.wait_text("#qb-backfill", "Ask for history from Jan 2024")
        .await;
    b.click("#qb-backfill").await;
    assert!(b
        .text("#qb-backfill-notice")
        .await
        .starts_with("Asked for history from Jan 2024"));
    let status = server.get("/api/qbr/quickbooks/status").await;
    assert_eq!(status["data"]["backfill_from"], "2024-01");
    assert!(b.text("#qb-pending").await.contains("Jan 2024"));
    b.close().await;
}

/// `encodeURIComponent`, for the URLs the SPA builds.
fn js_encode(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => (c as char).to_string(),
            _ => format!("%{c:02X}"),
        })
        .collect()
}
