//! Notifications and scheduled report delivery against a fake SMTP server and a fake
//! webhook receiver (`crates/test-support/src/{smtp,webhook}.rs`), both real network
//! servers on loopback: a failed collection run tells email, Teams and Slack once a
//! day; failed sends are retried, then logged, and never touch the run; a SmartNumber
//! turning red (and back) is told; QuickBooks gone stale is told once a day; the report
//! is mailed as a PDF with the status summary, on "send a test now" and on its day;
//! every setting is validated (nothing stored when refused) and only admins reach them.

use crate::collect_data::config;
use crate::common::*;
use backend::collect::run::{self, RunError, RunOptions};
use backend::collect::VendorChoice;
use backend::config::Env;
use backend::notify::{self, Notifier, RetryPolicy};
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use qbr_shared::collection::Trigger;
use qbr_shared::Month;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use test_support::smtp::FakeSmtp;
use test_support::vendors::{FakeNinja, NinjaData};
use test_support::webhook::FakeWebhook;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const WAIT: Duration = Duration::from_secs(20);

/// The server with mail and webhooks pointing at the fakes, and its worker running.
struct Setup {
    app: TestApp,
    smtp: FakeSmtp,
    hooks: FakeWebhook,
    notifier: Arc<Notifier>,
}

fn notifier_for(smtp: &FakeSmtp) -> Notifier {
    let env = Env::from_pairs([
        ("SMTP_URL", smtp.url()),
        (
            "QBR_MAIL_FROM",
            "QBR Dashboard <qbr@example.com>".to_string(),
        ),
        ("QBR_SECRET_KEY", KEY.to_string()),
        ("QBR_WEBHOOK_HOSTS", "127.0.0.1".to_string()),
    ]);
    let mut notifier = Notifier::from_env(&env).expect("notifier");
    notifier.retry = RetryPolicy {
        tries: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    notifier.dashboard_url = Some("http://dashboards.test/".into());
    notifier
}

async fn setup() -> Setup {
    let s = setup_without_worker().await;
    notify::worker::spawn(
        s.app.db.pool.clone(),
        s.notifier.clone(),
        Duration::from_millis(100),
    );
    s
}

/// [`setup`] with no worker: the test runs its rounds.
async fn setup_without_worker() -> Setup {
    let smtp = FakeSmtp::start().await;
    let hooks = FakeWebhook::start().await;
    let notifier = Arc::new(notifier_for(&smtp));
    let app = TestApp::spawn_with_extras(Extras {
        notifier: notifier.clone(),
        ..Extras::default()
    })
    .await;
    Setup {
        app,
        smtp,
        hooks,
        notifier,
    }
}

async fn put(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let res = app
        .http
        .put(app.url(path))
        .json(body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    let n: N = diesel::sql_query(sql)
        .get_result(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n.n
}

/// Polls until `n` events were raised and the worker processed every one.
async fn wait_processed(db: &TestDb, n: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let raised = count(db, "SELECT count(*) AS n FROM notification_events").await;
        let pending = count(
            db,
            "SELECT count(*) AS n FROM notification_events WHERE processed_at IS NULL",
        )
        .await;
        if raised >= n && pending == 0 {
            assert_eq!(raised, n, "events raised");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{raised} of {n} events raised, {pending} pending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn current_month() -> Month {
    Month::containing(chrono::Utc::now(), chrono_tz::America::Chicago)
}

/// A collection run of this month against a NinjaOne that answers 500 to everything.
async fn failing_run(db: &TestDb, ninja: &FakeNinja) -> RunError {
    ninja.faults.always_fail.store(true, Ordering::SeqCst);
    let cfg = config(None, Some(ninja));
    let opts = RunOptions {
        organization_id: 1,
        trigger: Trigger::Schedule,
        vendors: VendorChoice::All,
        months: Some((current_month(), current_month())),
        force: false,
        dry_run: false,
    };
    run::run(&db.pool, &cfg, &opts, &|_, _| {})
        .await
        .expect_err("the vendor fails")
}

fn recipients(s: &Setup, events: &[&str]) -> Value {
    json!({"recipients": [
        {"channel": "email", "name": "Owners", "email": "Owner@Example.com", "events": events},
        {"channel": "teams", "name": "Ops (Teams)", "webhook_url": s.hooks.url("/teams/hook-secret-1"), "events": events},
        {"channel": "slack", "name": "#ops", "webhook_url": s.hooks.url("/slack/hook-secret-2"), "events": events},
    ]})
}

fn card_text(teams: &Value) -> String {
    let a = &teams["attachments"][0];
    assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(a["content"]["type"], "AdaptiveCard");
    a["content"]["body"].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_tells_email_teams_and_slack_once_a_day() {
    let s = setup().await;
    let (status, body) = put(
        &s.app,
        "/api/qbr/settings/notifications",
        &recipients(&s, &["collection_failed"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let listed = &body["data"]["recipients"];
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{body}");
    assert_eq!(listed[0]["email"], "owner@example.com");
    assert_eq!(
        listed[1]["webhook_hint"],
        format!("{}/…et-1", &s.hooks.base[7..])
    );
    // The webhook URLs are secrets: never answered, never stored in clear.
    let (_, got) = s.app.get("/api/qbr/settings/notifications").await;
    assert!(!got.to_string().contains("hook-secret"), "{got}");
    assert_eq!(
        count(
            &s.app.db,
            "SELECT count(*) AS n FROM notification_recipients \
             WHERE position('hook-secret' in encode(webhook_sealed, 'escape')) > 0"
        )
        .await,
        0
    );
    let ninja = FakeNinja::start(NinjaData::default()).await;
    let err = failing_run(&s.app.db, &ninja).await;
    assert!(err.to_string().contains("NinjaOne"), "{err}");
    let mails = s.smtp.wait_for(1, WAIT).await;
    let teams = s.hooks.wait_for("/teams/hook-secret-1", 1, WAIT).await;
    let slack = s.hooks.wait_for("/slack/hook-secret-2", 1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["owner@example.com"]);
    assert_eq!(mail.from_header(), "qbr@example.com");
    assert_eq!(
        mail.subject(),
        "[QBR] Enersystems, LLC: Collection run failed"
    );
    let text = mail.text();
    assert!(
        text.contains("The nightly collection run failed; nothing was written"),
        "{text}"
    );
    assert!(text.contains("NinjaOne"), "{text}");
    assert!(text.contains("(schedule): NinjaOne"), "{text}");
    assert!(text.contains("http://dashboards.test/o/"), "{text}");
    assert_eq!(teams.len(), 1);
    let card = card_text(&teams[0]);
    assert!(
        card.contains("Collection run failed") && card.contains("NinjaOne"),
        "{card}"
    );
    assert_eq!(slack.len(), 1);
    assert!(slack[0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Collection run failed") && t.contains("NinjaOne")));
    assert_eq!(slack[0]["blocks"][0]["type"], "header");
    // A second failure the same day: no new message, counted on the day's one.
    failing_run(&s.app.db, &ninja).await;
    wait_processed(&s.app.db, 2).await;
    assert_eq!(s.smtp.received().len(), 1);
    assert_eq!(s.hooks.at("/teams/hook-secret-1").len(), 1);
    assert_eq!(s.hooks.at("/slack/hook-secret-2").len(), 1);
    let (_, got) = s.app.get("/api/qbr/settings/notifications").await;
    let recent = got["data"]["recent"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(recent.len(), 3, "{got}");
    for r in &recent {
        assert_eq!(r["status"], "sent", "{r}");
        assert_eq!(r["suppressed"], 1, "{r}");
        assert_eq!(r["event"], "collection_failed", "{r}");
    }
    // Both runs are in the collection log as they were: failed by the vendor.
    let (_, log) = s.app.get("/api/qbr/collection/log?limit=5").await;
    let runs = log["data"]["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 2, "{log}");
    assert!(runs
        .iter()
        .all(|r| r["status"] == "failed"
            && r["error"].as_str().is_some_and(|e| e.contains("NinjaOne"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_sends_are_retried_then_logged_and_the_run_goes_on() {
    let s = setup().await;
    // A second receiver for Teams, which stays down.
    let down = FakeWebhook::start().await;
    down.fail_next.store(1000, Ordering::SeqCst);
    let body = json!({"recipients": [
        {"channel": "email", "email": "owner@example.com", "events": ["collection_failed"]},
        {"channel": "email", "email": "nobody@example.com", "events": ["collection_failed"]},
        {"channel": "slack", "webhook_url": s.hooks.url("/slack/busy"), "events": ["collection_failed"]},
        {"channel": "teams", "webhook_url": down.url("/teams/down"), "events": ["collection_failed"]},
    ]});
    assert_eq!(
        put(&s.app, "/api/qbr/settings/notifications", &body)
            .await
            .0,
        200
    );
    // The mail server defers the first message (451); it refuses nobody@ for good (550).
    s.smtp.faults.defer_next.store(1, Ordering::SeqCst);
    s.smtp
        .faults
        .unknown_recipients
        .lock()
        .unwrap()
        .push("nobody@example.com".into());
    // Slack fails once (500) and asks to wait once (429, Retry-After: 1): the third try
    // goes through.
    s.hooks.fail_next.store(1, Ordering::SeqCst);
    s.hooks.rate_limit_next.store(1, Ordering::SeqCst);
    let ninja = FakeNinja::start(NinjaData::default()).await;
    let started = std::time::Instant::now();
    let err = failing_run(&s.app.db, &ninja).await;
    // The run ended on its own terms, before the retries could have been made.
    assert!(err.to_string().contains("NinjaOne"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    wait_processed(&s.app.db, 1).await;
    assert_eq!(s.hooks.at("/slack/busy").len(), 1);
    assert_eq!(
        std::sync::atomic::AtomicU64::load(&s.hooks.requests, Ordering::SeqCst),
        3
    );
    assert_eq!(
        std::sync::atomic::AtomicU64::load(&down.requests, Ordering::SeqCst),
        3,
        "tried 3 times"
    );
    assert_eq!(down.at("/teams/down").len(), 0);
    let mails = s.smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, vec!["owner@example.com"]);
    let (_, got) = s.app.get("/api/qbr/settings/notifications").await;
    let recent = got["data"]["recent"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by = |to: &str| {
        recent
            .iter()
            .find(|r| r["destination"].as_str().is_some_and(|d| d.contains(to)))
            .cloned()
            .unwrap_or_else(|| panic!("no message to {to}: {got}"))
    };
    let owner = by("owner@");
    assert_eq!(
        (owner["status"].clone(), owner["attempts"].clone()),
        (json!("sent"), json!(2))
    );
    let nobody = by("nobody@");
    assert_eq!(nobody["status"], "failed");
    assert_eq!(nobody["attempts"], 1, "a 550 is not retried: {nobody}");
    assert!(
        nobody["error"].as_str().is_some_and(|e| e.contains("SMTP")),
        "{nobody}"
    );
    let busy = by("/…busy");
    assert_eq!(
        (busy["status"].clone(), busy["attempts"].clone()),
        (json!("sent"), json!(3))
    );
    let teams = by("/…down");
    assert_eq!(teams["status"], "failed");
    assert_eq!(teams["attempts"], 3);
    assert!(
        teams["error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{teams}"
    );
    // The next event of the day tries the failed ones again, and only those.
    down.fail_next.store(0, Ordering::SeqCst);
    failing_run(&s.app.db, &ninja).await;
    wait_processed(&s.app.db, 2).await;
    assert_eq!(down.at("/teams/down").len(), 1);
    assert_eq!(s.hooks.at("/slack/busy").len(), 1);
    assert_eq!(s.smtp.received().len(), 1);
}

/// Posts one manual value of `month` (the reference inputs' shape).
async fn enter(app: &TestApp, month: Month, values: &[(&str, f64)]) {
    let metrics: Vec<Value> = values
        .iter()
        .map(|(k, v)| json!({"metric_name": k, "metric_value": v}))
        .collect();
    let (status, body) = app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": month.to_string(), "metrics": metrics}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn wait_count(db: &TestDb, sql: &str, n: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(db, sql).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sql} never reached {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_smartnumber_turning_red_and_back_is_told() {
    let s = setup().await;
    let body = json!({"recipients": [
        {"channel": "email", "email": "owner@example.com",
         "events": ["smartnumber_red", "smartnumber_recovered"]},
        {"channel": "slack", "webhook_url": s.hooks.url("/slack/numbers"), "events": ["smartnumber_red"]},
    ]});
    assert_eq!(
        put(&s.app, "/api/qbr/settings/notifications", &body)
            .await
            .0,
        200
    );
    // The last closed month: RHEM 10 h / 100 endpoints = 0.1 h, green.
    let closed = current_month().prev();
    enter(
        &s.app,
        closed,
        &[("reactive_time_spent", 10.0), ("endpoints_managed", 100.0)],
    )
    .await;
    // The first look records what it sees and tells nobody.
    wait_count(
        &s.app.db,
        "SELECT count(*) AS n FROM notification_statuses WHERE kpi_name = 'rhem' AND granularity = 'month' AND status = 'green'",
        1,
    )
    .await;
    // 40 h: 0.4 h per endpoint, red (green ≤ 0.2, yellow ≤ 0.3).
    enter(&s.app, closed, &[("reactive_time_spent", 40.0)]).await;
    let mails = s.smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject(),
        "[QBR] Enersystems, LLC: SmartNumber turned red"
    );
    let text = mails[0].text();
    assert!(
        text.contains("RHEM (Reactive Hours / Endpoint / Month)"),
        "{text}"
    );
    assert!(text.contains(&closed.label()), "{text}");
    assert!(text.contains("red (green ≤ 0.20 h"), "{text}");
    assert!(text.contains("it was green"), "{text}");
    let slack = s.hooks.wait_for("/slack/numbers", 1, WAIT).await;
    assert!(slack[0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("turned red")));
    // Back to green: the email recipient chose that too; Slack did not.
    enter(&s.app, closed, &[("reactive_time_spent", 12.0)]).await;
    let mails = s.smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(
        mails[1].subject(),
        "[QBR] Enersystems, LLC: SmartNumber no longer red"
    );
    assert!(
        mails[1].text().contains("is no longer red"),
        "{}",
        mails[1].text()
    );
    // The month in progress is not watched: a red value there tells no one.
    wait_processed(&s.app.db, 2).await;
    enter(
        &s.app,
        current_month(),
        &[("reactive_time_spent", 90.0), ("endpoints_managed", 100.0)],
    )
    .await;
    let mut conn = s.app.db.conn().await;
    let org = backend::store::org::load(&mut conn, 1)
        .await
        .unwrap()
        .unwrap();
    let changed = notify::watch::statuses(&s.app.db.pool, &org, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(changed, 0);
    assert_eq!(count_rows(&s.app.db, "notification_events").await, 2);
    assert_eq!(s.hooks.at("/slack/numbers").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_gone_stale_is_told_once_a_day() {
    let s = setup_without_worker().await;
    let body = json!({"recipients": [
        {"channel": "email", "email": "books@example.com", "events": ["quickbooks_stale"]}],
        "quickbooks_stale_hours": 72});
    let (status, got) = put(&s.app, "/api/qbr/settings/notifications", &body).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["quickbooks_stale_hours"], 72);
    let mut conn = s.app.db.conn().await;
    let org = backend::store::org::load(&mut conn, 1)
        .await
        .unwrap()
        .unwrap();
    let pool = &s.app.db.pool;
    let now = chrono::Utc::now();
    // No QuickBooks here: nothing to say.
    assert!(!notify::watch::quickbooks(pool, &org, now).await.unwrap());
    // Connected to QuickBooks Online four days ago, never synced since.
    diesel::sql_query(
        "INSERT INTO quickbooks_online_connections (organization_id, realm_id, access_token, \
         access_expires_at, refresh_token, refresh_expires_at, connected_by, connected_at) \
         VALUES (1, '123', decode(repeat('00', 40), 'hex'), now(), decode(repeat('00', 40), 'hex'), \
         now(), 'test', now() - interval '4 days')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert!(
        !notify::watch::quickbooks(pool, &org, now - chrono::TimeDelta::days(2))
            .await
            .unwrap(),
        "2 days: within the 72 hours"
    );
    assert!(notify::watch::quickbooks(pool, &org, now).await.unwrap());
    assert!(
        !notify::watch::quickbooks(pool, &org, now).await.unwrap(),
        "once a day"
    );
    // A round of the worker: QuickBooks was looked at today already; the event goes out.
    let mut memory = notify::worker::Memory::default();
    notify::worker::round(pool, &s.notifier, &mut memory).await;
    assert_eq!(
        count(
            &s.app.db,
            "SELECT count(*) AS n FROM notification_events WHERE event = 'quickbooks_stale'"
        )
        .await,
        1
    );
    let mails = s.smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject(),
        "[QBR] Enersystems, LLC: QuickBooks sync stale"
    );
    assert!(
        mails[0].text().contains("the limit is 72"),
        "{}",
        mails[0].text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_is_mailed_as_a_pdf_with_the_status_summary() {
    let s = setup().await;
    load_reference(&s.app).await;
    let (status, body) = put(
        &s.app,
        "/api/qbr/settings/report-delivery",
        &json!({"enabled": true, "day": 5, "hour": 8, "monthly": true,
                "recipients": ["Owner@Example.com", "cfo@example.com", "owner@example.com"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let settings = &body["data"];
    assert_eq!(
        settings["recipients"],
        json!(["owner@example.com", "cfo@example.com"])
    );
    assert_eq!(settings["timezone"], "America/Chicago");
    assert!(
        settings["next"]["at"]
            .as_str()
            .is_some_and(|a| a.ends_with("-05T08:00")),
        "{body}"
    );
    // "Send a test now".
    let (status, sent) = s
        .app
        .post(
            "/api/qbr/settings/report-delivery/test",
            &json!({"period": "2025-Q1"}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["data"]["quarter"], "2025-Q1");
    let results = sent["data"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["delivered"] == true), "{sent}");
    let mails = s.smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    let (_, numbers) = s.app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    let numbers = numbers["data"]["smartnumbers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let count = |status: &str| numbers.iter().filter(|n| n["status"] == status).count();
    assert_eq!(numbers.len(), 18);
    for mail in &mails {
        assert_eq!(
            mail.subject(),
            "[QBR] Enersystems, LLC: QBR report Q1 2025 (test)"
        );
        let files = mail.files();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "qbr-2025-Q1.pdf");
        assert_eq!(files[0].content_type, "application/pdf");
        assert!(files[0].bytes.starts_with(b"%PDF-"), "not a PDF");
        let text = mail.text();
        let summary = format!(
            "SmartNumbers of Q1 2025: {} green, {} yellow, {} red, {} not judged.",
            count("green"),
            count("yellow"),
            count("red"),
            count("none")
        );
        assert!(text.contains(&summary), "{summary}\n{text}");
        assert!(count("red") > 0, "the worked example has a red number");
        for red in numbers.iter().filter(|n| n["status"] == "red") {
            let label = red["label"].as_str().unwrap();
            assert!(text.contains(&format!("  - {label}: ")), "{label}\n{text}");
        }
    }
    // A test is not a scheduled delivery.
    assert_eq!(count_rows(&s.app.db, "report_deliveries").await, 0);
    // On its day: 6 April 2025, 10:00 in Chicago, the closed quarter goes to each address once.
    let mut conn = s.app.db.conn().await;
    let org = backend::store::org::load(&mut conn, 1)
        .await
        .unwrap()
        .unwrap();
    let pool = &s.app.db.pool;
    let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let deliver =
        |now| backend::service::report_delivery::deliver_due(pool, &s.notifier, &org, now);
    assert_eq!(
        deliver(at("2025-04-05T12:59:00Z")).await.unwrap(),
        0,
        "before 8:00 local"
    );
    assert_eq!(deliver(at("2025-04-06T15:00:00Z")).await.unwrap(), 2);
    assert_eq!(
        deliver(at("2025-04-07T15:00:00Z")).await.unwrap(),
        0,
        "sent once"
    );
    let mails = s.smtp.wait_for(4, WAIT).await;
    assert_eq!(
        mails[2].subject(),
        "[QBR] Enersystems, LLC: QBR report Q1 2025"
    );
    assert!(mails[3].files()[0].bytes.starts_with(b"%PDF-"));
    // Monthly: in May, the quarter to date (Q2 has no data: logged as failed).
    assert!(deliver(at("2025-05-06T15:00:00Z")).await.is_err());
    let (_, got) = s.app.get("/api/qbr/settings/report-delivery").await;
    let recent = got["data"]["recent"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(recent.len(), 4, "{got}");
    assert_eq!(recent[0]["kind"], "monthly");
    assert_eq!(recent[0]["period"], "2025-04");
    assert_eq!(recent[0]["status"], "failed");
    assert!(
        recent[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("2025-Q2")),
        "{got}"
    );
    assert!(recent[2..]
        .iter()
        .all(|r| r["status"] == "sent" && r["period"] == "2025-Q1"));
}

async fn count_rows(db: &TestDb, table: &str) -> i64 {
    count(db, &format!("SELECT count(*) AS n FROM {table}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_are_refused_with_a_stable_code_and_change_nothing() {
    let s = setup().await;
    let path = "/api/qbr/settings/notifications";
    let valid = recipients(&s, &["drift"]);
    assert_eq!(put(&s.app, path, &valid).await.0, 200);
    let (_, before) = s.app.get(path).await;
    let sum = checksum(&s.app.db).await;
    let teams = s.hooks.url("/teams/x");
    let refused = [
        (
            json!({"recipients": [{"channel": "email", "email": "not-an-address", "events": []}]}),
            "INVALID_EMAIL",
        ),
        (
            json!({"recipients": [{"channel": "email", "email": "a@b", "events": []}]}),
            "INVALID_EMAIL",
        ),
        (
            json!({"recipients": [{"channel": "email", "events": ["drift"]}]}),
            "INVALID_EMAIL",
        ),
        (
            json!({"recipients": [{"channel": "slack", "webhook_url": "https://example.com/services/x", "events": []}]}),
            "INVALID_WEBHOOK_URL",
        ),
        (
            json!({"recipients": [{"channel": "slack", "webhook_url": "http://hooks.slack.com/services/x", "events": []}]}),
            "INVALID_WEBHOOK_URL",
        ),
        (
            json!({"recipients": [{"channel": "teams", "webhook_url": "https://hooks.slack.com/services/T/B/X", "events": []}]}),
            "INVALID_WEBHOOK_URL",
        ),
        (
            json!({"recipients": [{"channel": "teams", "events": ["drift"]}]}),
            "INVALID_WEBHOOK_URL",
        ),
        (
            json!({"recipients": [{"channel": "teams", "webhook_url": teams, "events": ["drift", "sms"]}]}),
            "UNKNOWN_EVENT",
        ),
        (
            json!({"recipients": [{"channel": "pager", "events": []}]}),
            "INVALID_BODY",
        ),
        (
            json!({"recipients": [{"id": 999999, "channel": "email", "email": "a@example.com", "events": []}]}),
            "INVALID_BODY",
        ),
        (
            json!({"recipients": [
            {"channel": "email", "email": "a@example.com", "events": []},
            {"channel": "email", "email": "A@example.com", "events": []}]}),
            "INVALID_BODY",
        ),
        (
            json!({"recipients": [], "quickbooks_stale_hours": 5}),
            "INVALID_BODY",
        ),
        (json!({"recipient": []}), "INVALID_BODY"),
    ];
    for (body, code) in &refused {
        let r = put(&s.app, path, body).await;
        assert_error(&r, 400, code);
    }
    let delivery = "/api/qbr/settings/report-delivery";
    for (body, code) in [
        (
            json!({"enabled": false, "day": 0, "monthly": false, "recipients": []}),
            "INVALID_BODY",
        ),
        (
            json!({"enabled": false, "day": 29, "monthly": false, "recipients": []}),
            "INVALID_BODY",
        ),
        (
            json!({"enabled": false, "day": 5, "hour": 24, "monthly": false, "recipients": []}),
            "INVALID_BODY",
        ),
        (
            json!({"enabled": true, "day": 5, "monthly": false, "recipients": []}),
            "INVALID_BODY",
        ),
        (
            json!({"enabled": true, "day": 5, "monthly": false, "recipients": ["owner@"]}),
            "INVALID_EMAIL",
        ),
        (
            json!({"enabled": "yes", "day": 5, "monthly": false, "recipients": []}),
            "INVALID_BODY",
        ),
    ] {
        let r = put(&s.app, delivery, &body).await;
        assert_error(&r, 400, code);
    }
    let r = s
        .app
        .post(
            &format!("{delivery}/test"),
            &json!({"period": "2025-02", "to": ["a@example.com"]}),
        )
        .await;
    assert_error(&r, 400, "INVALID_PERIOD");
    let r = s.app.post(&format!("{delivery}/test"), &json!({})).await;
    assert_error(&r, 400, "INVALID_BODY");
    let (_, after) = s.app.get(path).await;
    assert_eq!(before["data"]["recipients"], after["data"]["recipients"]);
    assert_eq!(
        checksum(&s.app.db).await,
        sum,
        "a refused change wrote something"
    );
    assert_eq!(count_rows(&s.app.db, "report_delivery_settings").await, 0);
    // A webhook saved without a new URL keeps its own; one left out is removed.
    let mut kept = after["data"]["recipients"].clone();
    kept[1]["events"] = json!(["drift", "collection_failed"]);
    let kept = json!({"recipients": [kept[1].clone()]});
    let (status, body) = put(&s.app, path, &kept).await;
    assert_eq!(status, 200, "{body}");
    let list = body["data"]["recipients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(
        list[0]["webhook_hint"],
        after["data"]["recipients"][1]["webhook_hint"]
    );
    assert_eq!(list[0]["events"], json!(["collection_failed", "drift"]));
    // Audited, without the URL.
    let (_, audit) = s.app.get("/api/qbr/audit?limit=5").await;
    let text = audit.to_string();
    assert!(text.contains("notifications.update"), "{text}");
    assert!(
        !text.contains("hook-secret") && !text.contains("/teams/x"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_smtp_or_secret_key_the_channels_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let path = "/api/qbr/settings/notifications";
    let (status, got) = app.get(path).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["email_available"], false);
    assert_eq!(got["data"]["webhooks_available"], false);
    assert_eq!(got["data"]["events"].as_array().map(Vec::len), Some(6));
    let email =
        json!({"recipients": [{"channel": "email", "email": "a@example.com", "events": []}]});
    let r = put(&app, path, &email).await;
    assert_error(&r, 400, "NOT_CONFIGURED");
    assert!(r.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SMTP_URL"));
    let slack = json!({"recipients": [{"channel": "slack",
        "webhook_url": "https://hooks.slack.com/services/T0/B0/abc", "events": []}]});
    let r = put(&app, path, &slack).await;
    assert_error(&r, 400, "NOT_CONFIGURED");
    assert!(r.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("QBR_SECRET_KEY"));
    let r = put(
        &app,
        "/api/qbr/settings/report-delivery",
        &json!({"enabled": true, "day": 5, "monthly": false, "recipients": ["a@example.com"]}),
    )
    .await;
    assert_error(&r, 400, "NOT_CONFIGURED");
    let r = app.post(&format!("{path}/test"), &json!({})).await;
    assert_error(&r, 400, "INVALID_BODY");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_admins_reach_the_notification_settings() {
    let s = setup().await;
    for (email, role) in [("vera@example.com", "viewer"), ("ed@example.com", "editor")] {
        let r = s
            .app
            .post("/api/qbr/users", &json!({"email": email, "role": role}))
            .await;
        assert_eq!(r.0, 201, "{}", r.1);
    }
    let key = create_api_key(&s.app.db, "writer", "write").await;
    let client = |cookie: Option<String>| {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = cookie {
            headers.insert("cookie", format!("qbr_session={token}").parse().unwrap());
        } else {
            headers.insert("x-api-key", key.parse().unwrap());
        }
        headers.insert("origin", s.app.base.parse().unwrap());
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap()
    };
    let vera = client(Some(create_session(&s.app.db, "vera@example.com", 1).await));
    let ed = client(Some(create_session(&s.app.db, "ed@example.com", 1).await));
    let program = client(None);
    let routes = [
        ("GET", "/api/qbr/settings/notifications"),
        ("PUT", "/api/qbr/settings/notifications"),
        ("POST", "/api/qbr/settings/notifications/test"),
        ("GET", "/api/qbr/settings/report-delivery"),
        ("PUT", "/api/qbr/settings/report-delivery"),
        ("POST", "/api/qbr/settings/report-delivery/test"),
    ];
    let before = checksum(&s.app.db).await;
    for (method, path) in routes {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for (who, c) in [("viewer", &vera), ("editor", &ed), ("write key", &program)] {
            let res = c
                .request(method.clone(), s.app.url(path))
                .json(&json!({"recipients": [], "enabled": false, "day": 5, "monthly": false}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_error(&(status, body.clone()), 403, "FORBIDDEN");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("admin")),
                "{who} {method} {path}: {body}"
            );
        }
    }
    assert_eq!(checksum(&s.app.db).await, before);
    assert_eq!(s.app.get("/api/qbr/settings/report-delivery").await.0, 200);
    assert_eq!(s.smtp.received().len(), 0);
}
