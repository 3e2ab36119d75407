//! `qbr import FILE [--commit]` as a process: the dry run prints the preview and writes
//! nothing; `--commit` imports; a malformed file exits 1 with the reason.

use crate::common::*;
use std::process::{Command, Output, Stdio};

async fn qbr_import(db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qbr"));
    cmd.arg("import")
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_previews_then_commits() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "period,metric,value,notes\n2025-01,mrr,1000,\n2025-01,# of Reactive Tickets Created,12,first\n",
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    let before = checksum(&db).await;
    let out = qbr_import(&db, &[path]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("dry run") && stdout.contains("2 created"),
        "{stdout}"
    );
    assert_eq!(checksum(&db).await, before, "a dry run writes nothing");

    let out = qbr_import(&db, &[path, "--commit"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("imported: 2 created"), "{stdout}");
    let out = qbr_import(&db, &[path]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 unchanged"));

    let bad = dir.path().join("bad.xlsx");
    std::fs::write(&bad, "not a workbook").unwrap();
    let after = checksum(&db).await;
    let out = qbr_import(&db, &[bad.to_str().unwrap(), "--commit"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a workbook"), "{stderr}");
    assert_eq!(checksum(&db).await, after);
}

fn qbr(db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qbr"));
    cmd.args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_writes_the_report_of_a_quarter() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "period,metric,value\n2025-04,mrr,1000\n2025-04,reactive_tickets_created,12\n",
    )
    .unwrap();
    let import = qbr(&db, &["import", csv.to_str().unwrap(), "--commit"]);
    let mut report = qbr(&db, &["report", "--paper", "a4"]);
    report.current_dir(dir.path());
    let pdf = dir.path().join("q2.pdf");
    let mut named = qbr(
        &db,
        &[
            "report",
            "--period",
            "2025-Q2",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    let mut missing = qbr(&db, &["report", "--period", "2019-Q1"]);
    missing.current_dir(dir.path());
    let (imported, by_default, by_name, none) = tokio::task::spawn_blocking(move || {
        let imported = { import }.output().unwrap();
        (
            imported,
            report.output().unwrap(),
            named.output().unwrap(),
            missing.output().unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(imported.status.success());
    // The default quarter is the latest with data, written beside the caller.
    assert!(
        by_default.status.success(),
        "{}",
        String::from_utf8_lossy(&by_default.stderr)
    );
    let default_file = dir.path().join("qbr-2025-Q2.pdf");
    let bytes = std::fs::read(&default_file).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(by_name.status.success());
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    // No data: exit 1 with the reason, and no file.
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("No data for 2019-Q1"));
    assert!(!dir.path().join("qbr-2019-Q1.pdf").exists());
}
