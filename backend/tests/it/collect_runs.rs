//! Collection runs against fake ConnectWise and NinjaOne servers over real HTTP, with a
//! real PostgreSQL: exact counts on month boundaries (DST included), device exclusions,
//! manual values, frozen months and drift, --force, --dry-run, data checks, retries,
//! failures that change nothing, one run at a time, and the schedule.

use crate::collect_data::{config, cw_data, ninja_data, t};
use crate::common::{checksum, TestApp, TestDb};
use backend::collect::run::{self, RunError, RunOptions, RunReport};
use backend::collect::{CollectorConfig, VendorChoice};
use backend::store::{collection, metrics};
use qbr_shared::collection::Trigger;
use qbr_shared::Month;
use qbr_shared::Vendor;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use test_support::vendors::{FakeConnectWise, FakeNinja};

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn opts(vendors: VendorChoice, from: &str, to: &str) -> RunOptions {
    RunOptions {
        organization_id: 1,
        trigger: Trigger::Cli,
        vendors,
        months: Some((m(from), m(to))),
        force: false,
        dry_run: false,
    }
}

async fn collect(
    db: &TestDb,
    cfg: &CollectorConfig,
    o: &RunOptions,
) -> Result<RunReport, RunError> {
    run::run(&db.pool, cfg, o, &|_, _| {}).await
}

/// (value, data_source, flags) of a stored value.
async fn stored(db: &TestDb, period: &str, metric: &str) -> Option<(f64, String, Vec<String>)> {
    let mut conn = db.conn().await;
    metrics::rows_for_months(&mut conn, 1, &[m(period)])
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.metric_name == metric)
        .map(|r| (r.value(), r.data_source.clone(), r.flags.clone()))
}

async fn value(db: &TestDb, period: &str, metric: &str) -> Option<f64> {
    stored(db, period, metric).await.map(|s| s.0)
}

async fn runs(db: &TestDb) -> Vec<collection::RunRow> {
    let mut conn = db.conn().await;
    collection::latest(&mut conn, 1, 100).await.unwrap()
}

/// Device snapshots and the log, which `common::checksum` does not cover.
async fn snapshot_sum(db: &TestDb) -> String {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sum: String,
    }
    let mut conn = db.conn().await;
    let s: Sum = diesel::sql_query(
        "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM qbr_device_snapshots t",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    s.sum
}

#[tokio::test(flavor = "multi_thread")]
async fn reactive_counts_and_hours_are_exact_on_month_boundaries() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    let cfg = config(Some(&cw), None);
    let report = collect(
        &db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-01",
            "2025-11",
        ),
    )
    .await
    .unwrap();
    let expect = [
        ("2025-01", 1.0, 1.0, 0.5),
        ("2025-02", 3.0, 1.0, 1.5),
        ("2025-03", 3.0, 3.0, 2.0),
        ("2025-04", 1.0, 0.0, 3.0),
        ("2025-10", 2.0, 0.0, 2.25),
        ("2025-11", 2.0, 2.0, 1.75),
    ];
    for (p, created, closed, hours) in expect {
        assert_eq!(
            value(&db, p, "reactive_tickets_created").await,
            Some(created),
            "{p} created"
        );
        assert_eq!(
            value(&db, p, "reactive_tickets_closed").await,
            Some(closed),
            "{p} closed"
        );
        assert_eq!(
            value(&db, p, "reactive_time_spent").await,
            Some(hours),
            "{p} hours"
        );
    }
    let (_, source, _) = stored(&db, "2025-02", "reactive_tickets_created")
        .await
        .unwrap();
    assert_eq!(source, "collected");
    // Frugal: one page of time entries, one of tickets (per client), one of agreements,
    // one board lookup, two counts per month.
    assert_eq!(report.requests, 1 + 1 + 1 + 1 + 2 * 11);
    assert_eq!(cw.requests.load(Ordering::SeqCst), report.requests);
    // Data checks: zero tickets → suspicious, a jump over 50 % → warning.
    assert_eq!(
        stored(&db, "2025-10", "reactive_tickets_closed")
            .await
            .unwrap()
            .2,
        vec!["suspicious"]
    );
    assert_eq!(
        stored(&db, "2025-03", "reactive_tickets_closed")
            .await
            .unwrap()
            .2,
        vec!["warning"]
    );
    assert!(stored(&db, "2025-03", "reactive_tickets_created")
        .await
        .unwrap()
        .2
        .is_empty());
    // The log row.
    let log = runs(&db).await;
    assert_eq!(log.len(), 1);
    let run = &log[0];
    assert_eq!(
        (run.status.as_str(), run.trigger.as_str()),
        ("success", "cli")
    );
    assert_eq!(run.request_count, 26);
    assert_eq!(run.values_written, 33);
    assert_eq!(run.months.len(), 11);
    assert_eq!(run.vendors, vec!["connectwise"]);
    assert_eq!((run.progress_done, run.progress_total), (11, 11));
    assert!(run
        .flags
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["period"] == "2025-03"
            && f["metric"] == "reactive_tickets_closed"
            && f["flags"] == json!(["warning"])));
    // SmartNumbers were recomputed in the same transaction.
    let mut conn = db.conn().await;
    let sn = backend::store::smartnumbers::load(
        &mut conn,
        1,
        &["2025-03".to_string(), "2025-Q1".to_string()],
    )
    .await
    .unwrap();
    assert!(sn.iter().any(|r| r.period == "2025-03"));
    assert!(sn.iter().any(|r| r.period == "2025-Q1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_follow_the_exclusion_rules_and_fill_the_per_client_view() {
    let app = TestApp::spawn().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let cfg = config(None, Some(&ninja));
    let now = chrono::Utc::now();
    let current = Month::containing(now, chrono_tz::America::Chicago).to_string();
    let report = collect(
        &app.db,
        &cfg,
        &opts(VendorChoice::Only(Vendor::NinjaOne), &current, &current),
    )
    .await
    .unwrap();
    assert_eq!(
        value(&app.db, &current, "endpoints_managed").await,
        Some(1205.0)
    );
    assert_eq!(
        value(&app.db, &current, "seats_managed").await,
        Some(1203.0)
    );
    // token, organizations, locations, two pages of devices; the token is reused.
    assert_eq!(report.requests, 5);
    assert_eq!(ninja.tokens_issued.load(Ordering::SeqCst), 1);
    let snap = report.snapshot.unwrap();
    assert_eq!(snap.per_node_class.get("WINDOWS_SERVER"), Some(&1));
    assert_eq!(snap.per_node_class.get("VMWARE_VM_HOST"), Some(&1));
    assert_eq!(snap.per_node_class.get("VMWARE_VM_GUEST"), None);
    let (status, body) = app
        .get(&format!("/api/qbr/devices-by-client?period={current}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["total_endpoints"], 1205);
    assert_eq!(body["data"]["total_seats"], 1203);
    assert_eq!(
        body["data"]["clients"],
        json!([
            {"id": 5, "organization": "Gamma Co", "endpoints": 1200, "seats": 1200},
            {"id": 1, "organization": "Acme Dental", "endpoints": 3, "seats": 1},
            {"id": 2, "organization": "Beta Law", "endpoints": 2, "seats": 2},
        ])
    );
    // A second run the same day replaces the day's snapshot.
    ninja.data.lock().unwrap().devices.retain(|d| d["id"] != 13);
    collect(
        &app.db,
        &cfg,
        &opts(VendorChoice::Only(Vendor::NinjaOne), &current, &current),
    )
    .await
    .unwrap();
    assert_eq!(
        value(&app.db, &current, "endpoints_managed").await,
        Some(1204.0)
    );
    let (_, body) = app.get("/api/qbr/collection/status").await;
    let ninja_status = body["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == "NinjaOne")
        .unwrap()
        .clone();
    assert_eq!(ninja_status["freshness"], "fresh", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_values_stay_frozen_months_record_drift_and_force_recollects() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let cw = FakeConnectWise::start(cw_data()).await;
    let cfg = config(Some(&cw), None);
    let body = json!({"period": "2025-02", "metrics": [{"metric_name": "reactive_tickets_created", "metric_value": 42}]});
    let (status, resp) = app.post("/api/qbr/metrics/manual", &body).await;
    assert_eq!(status, 200, "{resp}");
    collect(
        db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-02",
            "2025-03",
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        stored(db, "2025-02", "reactive_tickets_created")
            .await
            .unwrap()
            .0,
        42.0
    );
    assert_eq!(
        stored(db, "2025-02", "reactive_tickets_created")
            .await
            .unwrap()
            .1,
        "manual"
    );
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_closed").await,
        Some(1.0)
    );

    // The vendor now says something else about closed February.
    cw.data
        .lock()
        .unwrap()
        .tickets
        .push(test_support::vendors::ticket(
            50,
            "Help Desk",
            ">Closed",
            None,
            t("2025-02-10T12:00:00Z"),
            Some(t("2025-02-11T12:00:00Z")),
        ));
    let before = checksum(db).await;
    let report = collect(
        db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-02",
            "2025-03",
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        checksum(db).await,
        before,
        "frozen months are not rewritten"
    );
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_closed").await,
        Some(1.0)
    );
    assert_eq!(report.values_written, 0);
    // The manual February count is not the collector's: no drift for it.
    assert_eq!(report.drift.len(), 1, "{:?}", report.drift);
    let log = runs(db).await;
    let drift = &log[0].drift;
    assert!(drift.as_array().unwrap().iter().any(|d| d
        == &json!({"period": "2025-02", "metric": "reactive_tickets_closed", "stored": 1.0, "collected": 2.0})));
    // Visible through the API.
    let (status, body) = app.get("/api/qbr/collection/log").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["runs"][0]["drift"], *drift);

    // A value collected while its month was in progress is not final: the first run
    // after the month closed rewrites it once (no drift).
    {
        use diesel_async::RunQueryDsl;
        let mut conn = db.conn().await;
        diesel::sql_query("UPDATE qbr_metrics_monthly SET collected_at = '2025-03-01T04:30:00Z' WHERE period = '2025-02' AND data_source = 'collected'")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let report = collect(
        db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-02",
            "2025-03",
        ),
    )
    .await
    .unwrap();
    assert!(report.drift.is_empty(), "{:?}", report.drift);
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_closed").await,
        Some(2.0)
    );
    cw.data.lock().unwrap().tickets.pop();
    let report = collect(
        db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-02",
            "2025-03",
        ),
    )
    .await
    .unwrap();
    assert_eq!(report.drift.len(), 1, "final again: {:?}", report.drift);
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_closed").await,
        Some(2.0)
    );

    // --force re-collects, but still never a manual value.
    let mut forced = opts(
        VendorChoice::Only(Vendor::ConnectWise),
        "2025-02",
        "2025-03",
    );
    forced.force = true;
    collect(db, &cfg, &forced).await.unwrap();
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_closed").await,
        Some(1.0)
    );
    assert_eq!(
        value(db, "2025-02", "reactive_tickets_created").await,
        Some(42.0)
    );
    assert_eq!(
        stored(db, "2025-02", "reactive_tickets_created")
            .await
            .unwrap()
            .1,
        "manual"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let cfg = config(Some(&cw), Some(&ninja));
    let before = (checksum(&db).await, snapshot_sum(&db).await);
    let mut o = opts(VendorChoice::All, "2025-02", "2025-03");
    o.dry_run = true;
    let report = collect(&db, &cfg, &o).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.values_written, 6);
    assert!(report.summary_table().contains("would be written"));
    assert_eq!((checksum(&db).await, snapshot_sum(&db).await), before);
    assert!(runs(&db).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_and_rate_limits_are_retried() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    cw.faults.fail_next.store(2, Ordering::SeqCst);
    ninja.faults.rate_limit_next.store(1, Ordering::SeqCst);
    ninja.faults.fail_next.store(0, Ordering::SeqCst);
    let cfg = config(Some(&cw), Some(&ninja));
    let started = std::time::Instant::now();
    let report = collect(&db, &cfg, &opts(VendorChoice::All, "2025-02", "2025-03"))
        .await
        .unwrap();
    // Retry-After: 1 was honoured.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        value(&db, "2025-03", "reactive_tickets_closed").await,
        Some(3.0)
    );
    assert_eq!(
        value(&db, "2025-02", "reactive_time_spent").await,
        Some(1.5)
    );
    // 6 + 3 failed tries counted too.
    assert_eq!(report.requests, (1 + 1 + 1 + 1 + 2 * 2) + 5 + 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_that_keeps_failing_changes_nothing() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let cw = FakeConnectWise::start(cw_data()).await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let cfg = config(Some(&cw), Some(&ninja));
    let current = Month::containing(chrono::Utc::now(), chrono_tz::America::Chicago);
    collect(
        db,
        &cfg,
        &opts(
            VendorChoice::All,
            &current.add_months(-2).to_string(),
            &current.to_string(),
        ),
    )
    .await
    .unwrap();
    // New vendor data, then NinjaOne breaks: ConnectWise's reads must not land either.
    cw.data.lock().unwrap().tickets.clear();
    ninja.faults.always_fail.store(true, Ordering::SeqCst);
    let before = (checksum(db).await, snapshot_sum(db).await);
    let mut o = opts(
        VendorChoice::All,
        &current.add_months(-2).to_string(),
        &current.to_string(),
    );
    o.force = true;
    let err = collect(db, &cfg, &o).await.unwrap_err();
    assert!(matches!(err, RunError::Failed(_)));
    assert!(err.to_string().contains("NinjaOne"), "{err}");
    assert_eq!((checksum(db).await, snapshot_sum(db).await), before);
    let log = runs(db).await;
    assert_eq!(log[0].status, "failed");
    assert!(
        log[0].error.as_deref().unwrap().contains("500"),
        "{:?}",
        log[0].error
    );
    let (_, body) = app.get("/api/qbr/collection/status").await;
    let ninja_status = body["data"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == "NinjaOne")
        .unwrap()
        .clone();
    assert!(
        ninja_status["last_error"].as_str().unwrap().contains("500"),
        "{body}"
    );

    // A negative value from the vendor rejects the whole run.
    ninja.faults.always_fail.store(false, Ordering::SeqCst);
    cw.data.lock().unwrap().tickets = cw_data().tickets;
    cw.data
        .lock()
        .unwrap()
        .time_entries
        .push(test_support::vendors::time_entry(
            900,
            1,
            -100.0,
            t("2025-02-10T12:00:00Z"),
        ));
    let err = collect(
        db,
        &cfg,
        &opts(
            VendorChoice::Only(Vendor::ConnectWise),
            "2025-02",
            "2025-02",
        ),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("rejected"), "{err}");
    assert_eq!((checksum(db).await, snapshot_sum(db).await), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_concurrent_run_is_refused() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    cw.faults.latency_ms.store(200, Ordering::SeqCst);
    let cfg = config(Some(&cw), None);
    let o = opts(
        VendorChoice::Only(Vendor::ConnectWise),
        "2025-02",
        "2025-03",
    );
    let (a, b) = tokio::join!(collect(&db, &cfg, &o), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        collect(&db, &cfg, &o).await
    });
    // Whichever took the lock first ran; the other was refused.
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(RunError::Refused)))
        .count();
    let succeeded = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!((succeeded, refused), (1, 1), "{a:?} {b:?}");
    let log = runs(&db).await;
    let statuses: Vec<&str> = log.iter().map(|r| r.status.as_str()).collect();
    assert!(
        statuses.contains(&"refused") && statuses.contains(&"success"),
        "{statuses:?}"
    );
    // The lock is released: the next run works.
    collect(&db, &cfg, &o).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schedule_fires_real_runs() {
    let db = TestDb::new().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let mut cfg = config(None, Some(&ninja));
    cfg.enabled = true;
    cfg.cron = "*/2 * * * * *".into();
    cfg.window_months = 1;
    let schedule = backend::collect::schedule::start(db.pool.clone(), cfg, 1)
        .await
        .unwrap()
        .expect("enabled");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = runs(&db).await;
        if log
            .iter()
            .any(|r| r.trigger == "schedule" && r.status == "success")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled run: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    schedule.shutdown().await;
    let current = Month::containing(chrono::Utc::now(), chrono_tz::America::Chicago).to_string();
    assert_eq!(
        value(&db, &current, "endpoints_managed").await,
        Some(1205.0)
    );

    // The default schedule: 22:30 in Chicago, whatever the season.
    let mut nightly = config(None, Some(&ninja));
    nightly.enabled = true;
    let mut schedule = backend::collect::schedule::start(db.pool.clone(), nightly, 1)
        .await
        .unwrap()
        .unwrap();
    let next = schedule.next_run().await.expect("a next run");
    schedule.shutdown().await;
    let local = next.with_timezone(&chrono_tz::America::Chicago);
    assert_eq!(local.format("%H:%M:%S").to_string(), "22:30:00", "{next}");
    assert!(next > chrono::Utc::now() && next - chrono::Utc::now() <= chrono::Duration::hours(24));

    // Disabled: nothing starts.
    let mut off = config(None, Some(&ninja));
    off.enabled = false;
    assert!(backend::collect::schedule::start(db.pool.clone(), off, 1)
        .await
        .unwrap()
        .is_none());
}
