//! `qbr collect` as a process: the summary table, --dry-run, a one-line reason and a
//! non-zero exit on failure, a second run refused while one runs, and a run killed
//! with SIGKILL mid-way that leaves the data exactly as before.

use crate::collect_data::{config, cw_data};
use crate::common::{checksum, TestDb};
use backend::collect::run::{self, RunOptions};
use backend::collect::VendorChoice;
use backend::store::collection;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use qbr_shared::collection::Trigger;
use qbr_shared::Vendor;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use test_support::vendors::FakeConnectWise;

fn qbr(db: &TestDb, cw: &FakeConnectWise, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qbr"));
    cmd.arg("collect")
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .env_remove("NINJA_CLIENT_ID")
        .env_remove("NINJA_CLIENT_SECRET")
        .envs(cw.env())
        .stdin(Stdio::null());
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn runs(db: &TestDb) -> Vec<collection::RunRow> {
    let mut conn = db.conn().await;
    collection::latest(&mut conn, 1, 100).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_prints_a_summary_and_dry_run_writes_nothing() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    let before = checksum(&db).await;
    let out = output(qbr(&db, &cw, &["--month", "2025-03", "--dry-run"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2025-03"), "{stdout}");
    assert!(stdout.contains("would be written"), "{stdout}");
    assert_eq!(checksum(&db).await, before);
    assert!(runs(&db).await.is_empty());

    let out = output(qbr(&db, &cw, &["--from", "2025-02", "--to", "2025-03"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("6 values written"), "{stdout}");
    assert!(stdout.contains("vendor requests"), "{stdout}");
    assert_ne!(checksum(&db).await, before);

    // A failing vendor: non-zero exit, one line naming the reason.
    cw.faults.always_fail.store(true, Ordering::SeqCst);
    let out = output(qbr(
        &db,
        &cw,
        &["--month", "2025-03", "--vendor", "connectwise"],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let last = stderr.trim().lines().last().unwrap();
    assert!(
        last.starts_with("qbr: collection failed:") && last.contains("500"),
        "{stderr}"
    );

    // A vendor that is not configured.
    let out = output(qbr(&db, &cw, &["--vendor", "ninjaone"])).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NinjaOne is not configured"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_loses_nothing_and_a_second_run_is_refused() {
    let db = TestDb::new().await;
    let cw = FakeConnectWise::start(cw_data()).await;
    let cfg = config(Some(&cw), None);
    let o = RunOptions {
        organization_id: 1,
        trigger: Trigger::Cli,
        vendors: VendorChoice::Only(Vendor::ConnectWise),
        months: Some(("2025-01".parse().unwrap(), "2025-11".parse().unwrap())),
        force: true,
        dry_run: false,
    };
    run::run(&db.pool, &cfg, &o, &|_, _| {}).await.unwrap();
    let before = checksum(&db).await;

    // New vendor data, served slowly; the run is killed half-way.
    cw.data.lock().unwrap().tickets.truncate(3);
    cw.faults.latency_ms.store(150, Ordering::SeqCst);
    let mut child = qbr(
        &db,
        &cw,
        &["--from", "2025-01", "--to", "2025-11", "--force"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = runs(&db).await;
        if log
            .iter()
            .any(|r| r.status == "running" && r.progress_done >= 3)
        {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "qbr collect ended early"
        );
        assert!(Instant::now() < deadline, "no progress: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The status endpoint's data: the running run's progress.
    let running = {
        let mut conn = db.conn().await;
        collection::running(&mut conn, 1).await.unwrap().unwrap()
    };
    assert_eq!(running.progress_total, 11);

    // Meanwhile a second run is refused, with a clear message and a non-zero exit.
    let out = output(qbr(&db, &cw, &["--month", "2025-03"])).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("refused: another collection run is in progress"));
    assert!(runs(&db).await.iter().any(|r| r.status == "refused"));

    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    assert_eq!(checksum(&db).await, before, "a killed run changed data");

    // The next run works and closes the interrupted one.
    cw.faults.latency_ms.store(0, Ordering::SeqCst);
    let report = run::run(&db.pool, &cfg, &o, &|_, _| {}).await.unwrap();
    assert!(report.values_written > 0);
    let log = runs(&db).await;
    let interrupted = log.iter().find(|r| r.id == running.id).unwrap();
    assert_eq!(interrupted.status, "failed");
    assert!(interrupted
        .error
        .as_deref()
        .unwrap()
        .contains("interrupted"));
}
