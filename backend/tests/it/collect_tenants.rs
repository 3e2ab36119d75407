//! Collection across organizations: each organization's vendor credentials sealed in
//! the database, and the nightly run collecting each organization in turn, where one
//! organization's failing vendor stops nothing of another's.

use crate::collect_data::{config, cw_data, ninja_data};
use crate::common::*;
use backend::collect::credentials::{self, Variables};
use backend::collect::night::{run_night, NightOutcome};
use backend::collect::quickbooks::QuickBooksSettings;
use backend::secrets::sealing::SecretKey;
use backend::service::tenants::{create_organization, NewOrganization};
use backend::service::Actor;
use backend::store::collection;
use diesel_async::RunQueryDsl;
use qbr_shared::Vendor;
use std::sync::atomic::Ordering;
use test_support::vendors::{FakeConnectWise, FakeNinja};

const TESTS: Actor<'static> = Actor {
    name: "tests",
    ip: None,
};
const TESTS_WHO: credentials::Who<'static> = credentials::Who {
    name: "tests",
    ip: None,
};

async fn new_org(db: &TestDb, name: &str) -> i32 {
    let mut conn = db.conn().await;
    let new = NewOrganization {
        name,
        slug: None,
        timezone: None,
        admin_email: "admin@example.com",
    };
    create_organization(&mut conn, new, TESTS).await.unwrap().id
}

fn ninja_vars(ninja: &FakeNinja) -> Variables {
    ninja
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn values_of(db: &TestDb, org: i32) -> i64 {
    let mut conn = db.conn().await;
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM qbr_metrics_monthly WHERE organization_id = {org}"
    ))
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n
}

#[tokio::test(flavor = "multi_thread")]
async fn one_night_collects_every_organization_and_a_failing_vendor_stops_only_its_own() {
    let db = TestDb::new().await;
    let key_text = SecretKey::random_base64();
    let key = SecretKey::from_base64(&key_text).unwrap();
    // A (the first organization) reads ConnectWise from the environment.
    let cw = FakeConnectWise::start(cw_data()).await;
    let mut base = config(Some(&cw), None);
    base.secret_key = Some(key.clone());
    base.window_months = 2;
    // B has its own NinjaOne, which breaks; C has nothing to collect.
    let b = new_org(&db, "Beta MSP").await;
    let c = new_org(&db, "Gamma MSP").await;
    let broken = FakeNinja::start(ninja_data()).await;
    broken.faults.always_fail.store(true, Ordering::SeqCst);
    let mut conn = db.conn().await;
    credentials::set(
        &mut conn,
        b,
        Vendor::NinjaOne,
        &ninja_vars(&broken),
        &key,
        TESTS_WHO,
    )
    .await
    .unwrap();

    // Sealed at rest: the secret is not in the table, and B's value opens only as B's.
    let raw: Vec<u8> = diesel::sql_query(
        "SELECT sealed FROM organization_vendor_settings WHERE vendor = 'ninjaone'",
    )
    .get_result::<Sealed>(&mut conn)
    .await
    .unwrap()
    .sealed;
    let secret = ninja_vars(&broken)["NINJA_CLIENT_SECRET"].clone();
    assert!(!String::from_utf8_lossy(&raw).contains(&secret));
    diesel::sql_query(format!(
        "INSERT INTO organization_vendor_settings (organization_id, vendor, sealed, updated_by) \
         SELECT {c}, vendor, sealed, 'copied' FROM organization_vendor_settings WHERE organization_id = {b}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let copied = credentials::config_for(&mut conn, c, &base, Some(&key), 1).await;
    assert!(
        copied.is_err(),
        "a value copied to another organization must not open"
    );
    credentials::remove(&mut conn, c, Vendor::NinjaOne, TESTS_WHO)
        .await
        .unwrap();

    let outcomes = run_night(&db.pool, &base, &QuickBooksSettings::default(), 1).await;
    let of = |org: i32| outcomes.iter().find(|(o, _)| *o == org).map(|(_, x)| x);
    assert!(
        matches!(of(1), Some(NightOutcome::Collected(r)) if r.values_written > 0),
        "{outcomes:?}"
    );
    assert!(
        matches!(of(b), Some(NightOutcome::Failed(_))),
        "{outcomes:?}"
    );
    assert!(
        matches!(of(c), Some(NightOutcome::NothingToCollect)),
        "{outcomes:?}"
    );
    assert!(values_of(&db, 1).await > 0);
    assert_eq!(values_of(&db, b).await, 0, "a failed run writes nothing");
    // Each organization's log has its own run.
    let a_log = collection::latest(&mut conn, 1, 10).await.unwrap();
    let b_log = collection::latest(&mut conn, b, 10).await.unwrap();
    assert_eq!(a_log.len(), 1);
    assert_eq!(
        (a_log[0].status.as_str(), a_log[0].trigger.as_str()),
        ("success", "schedule")
    );
    assert_eq!(b_log.len(), 1);
    assert_eq!(b_log[0].status, "failed");
    assert!(collection::latest(&mut conn, c, 10)
        .await
        .unwrap()
        .is_empty());

    // Once B's vendor answers again, the next night collects B too.
    broken.faults.always_fail.store(false, Ordering::SeqCst);
    let outcomes = run_night(&db.pool, &base, &QuickBooksSettings::default(), 1).await;
    assert!(
        outcomes
            .iter()
            .any(|(o, x)| *o == b && matches!(x, NightOutcome::Collected(_))),
        "{outcomes:?}"
    );
    assert!(values_of(&db, b).await > 0);
    // Without the key, B's settings can't be opened: B fails, A still runs.
    let mut keyless = base.clone();
    keyless.secret_key = None;
    let outcomes = run_night(&db.pool, &keyless, &QuickBooksSettings::default(), 1).await;
    assert!(
        matches!(outcomes.iter().find(|(o, _)| *o == b).map(|(_, x)| x), Some(NightOutcome::Failed(e)) if e.contains("QBR_SECRET_KEY")),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            outcomes.iter().find(|(o, _)| *o == 1).map(|(_, x)| x),
            Some(NightOutcome::Collected(_))
        ),
        "{outcomes:?}"
    );
}

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    sealed: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_settings_are_checked_before_they_are_kept() {
    let db = TestDb::new().await;
    let key = SecretKey::from_base64(&SecretKey::random_base64()).unwrap();
    let mut conn = db.conn().await;
    let mut vars = Variables::new();
    vars.insert("NINJA_CLIENT_ID".into(), "id".into());
    let e = credentials::set(&mut conn, 1, Vendor::NinjaOne, &vars, &key, TESTS_WHO)
        .await
        .unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("NINJA_CLIENT_SECRET"), "{}", e.message);
    vars.insert("NINJA_CLIENT_SECRET".into(), "s".into());
    vars.insert("CONNECTWISE_URL".into(), "https://x".into());
    let e = credentials::set(&mut conn, 1, Vendor::NinjaOne, &vars, &key, TESTS_WHO)
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("CONNECTWISE_URL is not a NinjaOne setting"),
        "{}",
        e.message
    );
    assert!(credentials::configured(&mut conn, 1)
        .await
        .unwrap()
        .is_empty());
    vars.remove("CONNECTWISE_URL");
    credentials::set(&mut conn, 1, Vendor::NinjaOne, &vars, &key, TESTS_WHO)
        .await
        .unwrap();
    let listed = credentials::configured(&mut conn, 1).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].0, listed[0].1.as_str()),
        (Vendor::NinjaOne, "tests")
    );
}

fn qbr(db: &TestDb, args: &[&str], env: &[(String, String)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qbr"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_creates_an_organization_stores_its_vendor_and_collects_it() {
    let db = TestDb::new().await;
    let ninja = FakeNinja::start(ninja_data()).await;
    let mut env: Vec<(String, String)> = ninja
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("QBR_SECRET_KEY".into(), SecretKey::random_base64()));
    let said = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let db2 = &db;
    let run = |args: &[&str], env: &[(String, String)]| {
        let out = qbr(db2, args, env);
        (out.status.success(), said(&out))
    };
    let (ok, out) = tokio::task::block_in_place(|| {
        run(
            &[
                "org",
                "create",
                "--name",
                "Delta IT",
                "--admin",
                "dee@delta.example",
            ],
            &[],
        )
    });
    assert!(ok && out.contains("delta-it"), "{out}");
    let (ok, out) = tokio::task::block_in_place(|| {
        run(
            &[
                "org",
                "set-vendor",
                "delta-it",
                "--vendor",
                "ninjaone",
                "--from-env",
            ],
            &env,
        )
    });
    assert!(ok && out.contains("sealed"), "{out}");
    let (ok, out) = tokio::task::block_in_place(|| run(&["org", "vendors", "delta-it"], &[]));
    assert!(
        ok && out.contains("NinjaOne") && !out.contains("secret"),
        "{out}"
    );
    // A pair without a value is refused.
    let (ok, out) = tokio::task::block_in_place(|| {
        run(
            &[
                "org",
                "set-vendor",
                "delta-it",
                "--vendor",
                "ninjaone",
                "NINJA_CLIENT_ID",
            ],
            &env,
        )
    });
    assert!(!ok && out.contains("NAME=VALUE"), "{out}");
    // Collecting Delta reads its own NinjaOne (the environment's is not used: it's
    // only the key the process needs).
    let key_only: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k == "QBR_SECRET_KEY")
        .cloned()
        .collect();
    let (ok, out) = tokio::task::block_in_place(|| {
        run(
            &["collect", "--org", "delta-it", "--vendor", "ninjaone"],
            &key_only,
        )
    });
    assert!(ok, "{out}");
    let (ok, out) = tokio::task::block_in_place(|| run(&["org", "list"], &[]));
    assert!(
        ok && out.contains("Delta IT") && out.contains("active"),
        "{out}"
    );
    let delta: i64 = {
        let mut conn = db.conn().await;
        diesel::sql_query("SELECT count(*) AS n FROM qbr_device_snapshots s JOIN organization o ON o.id = s.organization_id WHERE o.slug = 'delta-it'")
            .get_result::<Count>(&mut conn)
            .await
            .unwrap()
            .n
    };
    assert!(delta > 0, "Delta's devices were collected");
}
