//! Settings › Notifications and Settings › Report delivery in headless Chromium, against
//! `qbr serve` with mail going to a fake SMTP server and webhooks to a fake receiver
//! (both real servers on loopback): an admin adds an email and a Slack recipient, saves,
//! sends a test to each; a webhook's URL never comes back to the page; a refused
//! recipient changes nothing; the report is mailed as a PDF from "Send a test now".
//! Screenshots at 1280×800 and 800×1100.

use crate::browser_harness::*;
use serde_json::{json, Value};
use std::time::Duration;
use test_support::smtp::FakeSmtp;
use test_support::webhook::FakeWebhook;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const WAIT: Duration = Duration::from_secs(20);

async fn server_with_mail(smtp: &FakeSmtp) -> Server {
    Server::start_with(&[
        ("SMTP_URL", smtp.url().as_str()),
        ("QBR_MAIL_FROM", "QBR Dashboard <qbr@example.com>"),
        ("QBR_SECRET_KEY", KEY),
        ("QBR_WEBHOOK_HOSTS", "127.0.0.1"),
    ])
    .await
}

/// `GET path` as the signed-in admin (API keys are editors at most: these settings are
/// admins' only).
async fn admin_get(server: &Server, path: &str) -> Value {
    let cookie = server.session_cookie().await;
    reqwest::Client::new()
        .get(server.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn notification_recipients_are_added_tested_and_listed() {
    if !browser_available() {
        return;
    }
    let smtp = FakeSmtp::start().await;
    let hooks = FakeWebhook::start().await;
    let server = server_with_mail(&smtp).await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // Under Settings, as a tab; nobody is told of anything yet.
    b.goto(&server.url("/settings/notifications")).await;
    b.element("#no-recipients").await;
    assert_eq!(b.text("a.nav-link.active").await, "Settings");
    assert_eq!(b.text(".tabs .tab.active").await, "Notifications");
    assert_eq!(
        b.js("return !!document.querySelector('#channels-note');")
            .await,
        false
    );
    b.screenshot("notifications-empty-1280x800").await;

    // An email recipient and a Slack channel.
    b.click("#add-recipient").await;
    b.type_into("#recipient-0 .r-name", "Owners").await;
    b.type_into("#recipient-0 .r-address", "owners@example.com")
        .await;
    b.click("#add-recipient").await;
    b.select("#recipient-1 .r-channel", "slack").await;
    b.wait_attr("#recipient-1 .r-address", "type", "url").await;
    b.type_into("#recipient-1 .r-name", "#ops").await;
    let hook = hooks.url("/slack/T000/B000/browser-secret-XyZ9");
    b.type_into("#recipient-1 .r-address", &hook).await;
    // Slack hears of failures only.
    for ev in [
        "collection_flags",
        "drift",
        "smartnumber_red",
        "quickbooks_stale",
    ] {
        b.click(&format!("#recipient-1 .r-event[value={ev}]")).await;
    }
    // Tests go to saved recipients: not before saving.
    assert_eq!(
        b.js("return document.querySelector('#test-all').disabled;")
            .await,
        true
    );
    b.click("#notifications-save").await;
    b.wait_text("#notifications-notice", "Saved: 2 recipients.")
        .await;

    // What the server stored: the events chosen, the webhook sealed (only its hint
    // comes back, in the page too).
    let stored = admin_get(&server, "/api/qbr/settings/notifications").await;
    let recipients = stored["data"]["recipients"].as_array().unwrap().clone();
    assert_eq!(recipients.len(), 2, "{stored}");
    assert_eq!(recipients[0]["email"], "owners@example.com");
    assert_eq!(
        recipients[0]["events"],
        json!([
            "collection_failed",
            "collection_flags",
            "drift",
            "smartnumber_red",
            "quickbooks_stale"
        ])
    );
    assert_eq!(recipients[1]["channel"], "slack");
    assert_eq!(recipients[1]["events"], json!(["collection_failed"]));
    let hint = recipients[1]["webhook_hint"].as_str().unwrap().to_string();
    assert!(hint.ends_with("XyZ9"), "{hint}");
    assert!(!stored.to_string().contains("browser-secret"), "{stored}");
    b.wait_attr(
        "#recipient-1 .r-address",
        "placeholder",
        &format!("kept: {hint}"),
    )
    .await;
    assert_eq!(
        b.js("return document.querySelector('#recipient-1 .r-address').value;")
            .await,
        ""
    );
    let page = b.js("return document.body.innerHTML;").await;
    assert!(!page.as_str().unwrap().contains("browser-secret"));

    // Send a test to everyone: one mail, one Slack post, each listed as delivered.
    b.click("#test-all").await;
    b.wait_eq(
        "test results",
        "return String(document.querySelectorAll('#test-results li.ok').length);",
        "2",
    )
    .await;
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail[0].to, vec!["owners@example.com".to_string()]);
    let posts = hooks
        .wait_for("/slack/T000/B000/browser-secret-XyZ9", 1, WAIT)
        .await;
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("test"),
        "{}",
        posts[0]
    );
    let results = b.text("#test-results").await;
    assert!(results.contains("Email · owners@example.com"), "{results}");
    assert!(results.contains(&format!("Slack · {hint}")), "{results}");
    b.js("window.scrollTo(0, 0);").await;
    b.screenshot("notifications-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("notifications-800x1100").await;
    b.resize(1280, 800).await;

    // A refused recipient (not an address) is said why, and nothing changes.
    b.click("#add-recipient").await;
    b.type_into("#recipient-2 .r-address", "not an address")
        .await;
    b.click("#notifications-save").await;
    b.wait_eq(
        "refusal",
        "const n = document.querySelector('#notifications-notice'); return n && n.classList.contains('bad') ? 'bad' : '';",
        "bad",
    )
    .await;
    let why = b.text("#notifications-notice").await;
    assert!(
        why.starts_with("Not saved:") && why.contains("not an address"),
        "{why}"
    );
    let after = admin_get(&server, "/api/qbr/settings/notifications").await;
    assert_eq!(after["data"]["recipients"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn report_delivery_is_scheduled_and_a_test_is_mailed() {
    if !browser_available() {
        return;
    }
    let smtp = FakeSmtp::start().await;
    let server = server_with_mail(&smtp).await;
    server.load_reference().await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    b.goto(&server.url("/settings/report-delivery")).await;
    b.element("#delivery-form #d-day").await;
    assert_eq!(b.text(".tabs .tab.active").await, "Report delivery");
    assert_eq!(b.text("#d-next").await, "Scheduled delivery is off.");
    // Nothing changed yet: nothing to save.
    assert_eq!(
        b.js("return document.querySelector('#delivery-save').disabled;")
            .await,
        true
    );

    // On the 5th after each quarter, at 8, to two addresses.
    b.click("#d-enabled").await;
    b.type_into("#d-day", "5").await;
    b.type_into("#d-hour", "8").await;
    b.type_into("#d-recipients", "owners@example.com\ncfo@example.com")
        .await;
    b.click("#delivery-save").await;
    b.wait_eq(
        "saved",
        "const n = document.querySelector('#delivery-notice'); return n ? n.textContent.slice(0, 11) : '';",
        "Saved. Next",
    )
    .await;
    let stored = admin_get(&server, "/api/qbr/settings/report-delivery").await;
    let s = &stored["data"];
    assert_eq!(
        (s["enabled"].clone(), s["day"].clone(), s["hour"].clone()),
        (json!(true), json!(5), json!(8)),
        "{stored}"
    );
    assert_eq!(
        s["recipients"],
        json!(["owners@example.com", "cfo@example.com"])
    );
    let at = s["next"]["at"].as_str().unwrap();
    assert!(at.ends_with("-05T08:00"), "{at}");
    assert!(b.text("#d-next").await.contains(&at.replace('T', " at ")));

    // Send a test now of 2025-Q1: the PDF to both, listed as delivered.
    b.type_into("#d-test-period", "2025-Q1").await;
    b.click("#delivery-test").await;
    b.wait_eq(
        "test results",
        "return String(document.querySelectorAll('#test-results li.ok').length);",
        "2",
    )
    .await;
    assert_eq!(b.text("#delivery-test-result h2").await, "Test · Q1 2025");
    let mail = smtp.wait_for(1, WAIT).await;
    let to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    assert!(to.contains(&"owners@example.com".to_string()), "{to:?}");
    assert!(to.contains(&"cfo@example.com".to_string()), "{to:?}");
    let files = mail[0].files();
    assert!(
        files
            .iter()
            .any(|f| f.content_type.starts_with("application/pdf") && f.bytes.starts_with(b"%PDF")),
        "{:?}",
        files
            .iter()
            .map(|f| (&f.name, &f.content_type))
            .collect::<Vec<_>>()
    );
    b.js("window.scrollTo(0, 0);").await;
    b.screenshot("report-delivery-1280x800").await;
    b.resize(800, 1100).await;
    b.screenshot("report-delivery-800x1100").await;
}
