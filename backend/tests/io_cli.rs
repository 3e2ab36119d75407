//! `qbr import FILE [--commit]` as a process: the dry run prints the preview and writes
//! nothing; `--commit` imports; a malformed file exits 1 with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
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
