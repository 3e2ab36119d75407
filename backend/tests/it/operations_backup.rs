//! Backups: `qbr backup` of a database with the worked example, `qbr restore` into the
//! private cluster of a machine that has none yet (a fresh cluster: initdb, the role
//! `qbr_app` created), and the restored server answers the same SmartNumbers with
//! row-level security still in force; into a database of a plain owner (who must be
//! granted `qbr_app` first); restores refused over data (checksum unchanged)
//! and done with `--force`; files that are no backup of `qbr` refused; the nightly
//! backup's pruning and its failure.

use crate::common::*;
use backend::backup::nightly::{self, NightlySettings};
use backend::backup::PgTools;
use diesel_async::RunQueryDsl;
use pg_cluster::PgCluster;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `qbr ARGS` with only `env` naming the database.
async fn qbr(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qbr"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("QBR_DATA_DIR")
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The SmartNumbers of the worked example's quarter and of its first month.
async fn smartnumbers(app: &TestApp) -> Vec<Value> {
    let mut answers = Vec::new();
    for period in ["2025-Q1", "2025-01"] {
        let (status, body) = app
            .get(&format!("/api/qbr/smartnumbers?period={period}"))
            .await;
        assert_eq!(status, 200, "{body}");
        answers.push(body["data"].clone());
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restored_into_a_fresh_cluster_gives_the_same_smartnumbers() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = smartnumbers(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qbr.dump");
    let file_arg = file.to_str().unwrap();

    let out = qbr(
        &["backup", "--out", file_arg],
        &[("DATABASE_URL", &app.db.url)],
    )
    .await;
    assert!(out.status.success(), "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("to {file_arg}: ")), "{stdout}");
    assert!(
        stdout.contains("tables") && stdout.contains(" s\n"),
        "{stdout}"
    );
    assert!(stdout.contains("1 organization, "), "{stdout}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "a backup is its owner's only");
    // No half-written file is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["qbr.dump"]);
    println!("{}", stdout.lines().next().unwrap_or_default());

    // A machine with nothing yet: `qbr restore` makes its private cluster.
    let machine = tempfile::tempdir().unwrap();
    let data_dir = machine.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let out = qbr(&["restore", file_arg], &[("QBR_DATA_DIR", data_arg)]).await;
    assert!(out.status.success(), "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("restored ") && stdout.contains("into the private cluster"),
        "{stdout}"
    );
    println!("{}", stdout.lines().next().unwrap_or_default());

    // The server of that machine, on the restored database.
    let pg_dir = data_dir.join("postgres");
    let pg = tokio::task::spawn_blocking(move || PgCluster::start(&pg_dir, None))
        .await
        .unwrap()
        .unwrap();
    let app2 = serve_on(pg.database_url(backend::db::LOCAL_DB_NAME)).await;
    assert_eq!(smartnumbers(&app2).await, before);
    assert_eq!(checksum(&app2.db).await, checksum(&app.db).await);
    // Still behind row-level security: the server acts as qbr_app, sees no rows
    // without an organization, and the health check's look-up may run.
    let mut conn = app2.db.pool.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Seen {
        #[diesel(sql_type = diesel::sql_types::Text)]
        who: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
    }
    backend::db::tenant::leave(&mut conn).await.unwrap();
    let seen: Seen = diesel::sql_query(
        "SELECT current_user::text AS who, (SELECT count(*) FROM qbr_metrics_monthly) AS rows",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!((seen.who.as_str(), seen.rows), ("qbr_app", 0));
    drop(conn);
    let (status, health) = app2.get("/api/health").await;
    assert_eq!(
        (status, health["data"]["db"].as_str()),
        (200, Some("ok")),
        "{health}"
    );
    // And a later migration's table would reach qbr_app too (default privileges).
    let mut owner = app2.db.conn().await;
    diesel::sql_query("CREATE TABLE later_table (id int)")
        .execute(&mut owner)
        .await
        .unwrap();
    let mut conn = app2.db.pool.get().await.unwrap();
    diesel::sql_query("SELECT * FROM later_table")
        .execute(&mut conn)
        .await
        .unwrap();
    drop((conn, owner, app2));
    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .unwrap()
        .unwrap();
}

/// A signed-in server on the (restored, migrated) database at `url`.
async fn serve_on(url: String) -> TestApp {
    assert!(backend::db::run_migrations(&url).await.unwrap().is_empty());
    let restored = TestDb {
        pool: backend::db::pool(&url, 4).unwrap(),
        url,
    };
    let running = start_server(
        restored.pool.clone(),
        |_| test_auth_config(),
        Path::new("/nonexistent"),
    )
    .await;
    let token = create_session(&restored, TEST_USER, 1).await;
    let client = reqwest::Client::builder()
        .default_headers(
            std::iter::once((
                reqwest::header::COOKIE,
                format!("qbr_session={token}").parse().unwrap(),
            ))
            .collect(),
        )
        .build()
        .unwrap();
    TestApp {
        db: restored,
        base: running.base,
        http: client,
        anon: reqwest::Client::new(),
        auth: running.auth,
    }
}

/// `url` with another user and database (the cluster's socket and port kept).
fn url_as(url: &str, user: &str, database: &str) -> String {
    let rest = url.split_once('@').unwrap().1;
    let query = rest.split_once('?').unwrap().1;
    format!("postgres://{user}@/{database}?{query}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_into_a_database_of_another_owner() {
    // A backup of a database the superuser owns (the private cluster's, the tests')...
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = smartnumbers(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qbr.dump");
    let file_arg = file.to_str().unwrap();
    let env = [("DATABASE_URL", app.db.url.as_str())];
    assert!(qbr(&["backup", "--out", file_arg], &env)
        .await
        .status
        .success());

    // ...into one a plain user owns, as README's Production sets it up.
    let admin_url = url_as(&app.db.url, "postgres", "postgres");
    let owner = format!("qbr_restorer_{}", std::process::id());
    let database = format!("{owner}_db");
    for sql in [
        format!("CREATE ROLE {owner} LOGIN"),
        format!("CREATE DATABASE {database} OWNER {owner}"),
    ] {
        let mut admin =
            <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
                &admin_url,
            )
            .await
            .unwrap();
        diesel::sql_query(sql).execute(&mut admin).await.unwrap();
    }
    let url = url_as(&app.db.url, &owner, &database);
    let env = [("DATABASE_URL", url.as_str())];
    // Not yet a member of qbr_app, and it may not make itself one: told what to run.
    let out = qbr(&["restore", file_arg], &env).await;
    assert!(!out.status.success());
    assert!(said(&out).contains("GRANT qbr_app TO"), "{}", said(&out));
    let mut admin =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&admin_url)
            .await
            .unwrap();
    diesel::sql_query(format!("GRANT qbr_app TO {owner}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let out = qbr(&["restore", file_arg], &env).await;
    assert!(out.status.success(), "{}", said(&out));

    let restored = serve_on(url).await;
    assert_eq!(smartnumbers(&restored).await, before);
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // The new owner owns everything, and its later tables reach qbr_app.
    let mut as_owner = restored.db.conn().await;
    let others: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user",
    )
    .get_result(&mut as_owner)
    .await
    .unwrap();
    assert_eq!(others.n, 0);
    diesel::sql_query("CREATE TABLE later_table (id int)")
        .execute(&mut as_owner)
        .await
        .unwrap();
    let mut conn = restored.db.pool.get().await.unwrap();
    diesel::sql_query("SELECT * FROM later_table")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_over_data_needs_force_and_then_brings_the_backup_back() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qbr.dump");
    let file_arg = file.to_str().unwrap();
    let env = [("DATABASE_URL", app.db.url.as_str())];
    assert!(qbr(&["backup", "--out", file_arg], &env)
        .await
        .status
        .success());
    let at_backup = checksum(&app.db).await;
    let before = smartnumbers(&app).await;

    // A change after the backup.
    let body = serde_json::json!({"period": "2025-01", "metrics": [{"metric_name": "mrr", "metric_value": 1.0}]});
    assert_eq!(app.post("/api/qbr/metrics/manual", &body).await.0, 200);
    let changed = checksum(&app.db).await;
    assert_ne!(changed, at_backup);

    let out = qbr(&["restore", file_arg], &env).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds data") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        checksum(&app.db).await,
        changed,
        "a refused restore changes nothing"
    );

    // --force, with the server still connected.
    let out = qbr(&["restore", "--force", file_arg], &env).await;
    assert!(out.status.success(), "{}", said(&out));
    assert_eq!(checksum(&app.db).await, at_backup);
    assert_eq!(smartnumbers(&app).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_backups_of_qbr_are_restored() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", app.db.url.as_str())];
    let junk = dir.path().join("junk.dump");
    std::fs::write(&junk, b"PGDMP but not really").unwrap();
    let out = qbr(&["restore", junk.to_str().unwrap()], &env).await;
    assert!(!out.status.success());
    assert!(
        said(&out).contains("not a backup made by qbr backup"),
        "{}",
        said(&out)
    );

    // A real PostgreSQL backup, of another database.
    let tools = PgTools::find().unwrap();
    let other = dir.path().join("postgres.dump");
    let admin = app.db.url.replace(
        &format!(
            "/{}?",
            app.db
                .url
                .split('/')
                .nth(3)
                .unwrap()
                .split('?')
                .next()
                .unwrap()
        ),
        "/postgres?",
    );
    let status = Command::new(&tools.pg_dump)
        .args(["--format=custom", "--file"])
        .arg(&other)
        .arg("--dbname")
        .arg(&admin)
        .status()
        .unwrap();
    assert!(status.success(), "{admin}");
    let before = checksum(&app.db).await;
    let out = qbr(&["restore", "--force", other.to_str().unwrap()], &env).await;
    assert!(!out.status.success());
    assert!(
        said(&out).contains("not of qbr's database"),
        "{}",
        said(&out)
    );
    let out = qbr(
        &["restore", dir.path().join("missing.dump").to_str().unwrap()],
        &env,
    )
    .await;
    assert!(said(&out).contains("does not exist"), "{}", said(&out));
    assert_eq!(checksum(&app.db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_backup_keeps_the_newest_and_fails_without_pruning() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "qbr-20261101T020000Z.dump",
        "qbr-20261102T020000Z.dump",
        "qbr-20261103T020000Z.dump",
        "before-upgrade.dump",
    ] {
        std::fs::write(dir.path().join(name), b"old").unwrap();
    }
    let settings = NightlySettings {
        dir: dir.path().to_path_buf(),
        keep: 2,
        cron: "0 0 2 * * *".into(),
        timezone: chrono_tz::UTC,
    };
    let tools = PgTools::find().unwrap();

    // A database that is gone: nothing written, nothing removed.
    let gone = db.url.replace("/t", "/gone_");
    assert!(nightly::run_once(&tools, &settings, &gone).await.is_err());
    let names = |dir: &Path| {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(dir.path()).len(), 4, "{:?}", names(dir.path()));

    let written = nightly::run_once(&tools, &settings, &db.url).await.unwrap();
    let newest = written
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        newest.starts_with("qbr-20") && newest.ends_with("Z.dump"),
        "{newest}"
    );
    assert_eq!(
        names(dir.path()),
        vec![
            "before-upgrade.dump".to_string(),
            "qbr-20261103T020000Z.dump".to_string(),
            newest,
        ]
    );
    #[derive(diesel::QueryableByName)]
    struct Tables {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    let tables: Tables =
        diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(written.tables as i64, tables.n, "{written:?}");
    assert!(written.bytes > 0, "{written:?}");
}
