//! `pg_cluster` against the machine's real PostgreSQL server binaries.
//!
//! Every test makes its own cluster in a temp dir. The kill tests re-run this test binary as a
//! helper process (the ignored `helper_process` test) that owns a cluster and gets SIGKILLed.

use std::fs::{self, Permissions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use diesel::dsl::sql;
use diesel::sql_types::{Array, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid};
use pg_cluster::{find_pg_bin_dir, PgCluster};
use tempfile::TempDir;

/// Tells this binary, re-run as `helper_process`, which data dir to start.
const HELPER_ENV: &str = "PG_CLUSTER_TEST_HELPER_DATA_DIR";
/// The helper prints this once its row is committed.
const HELPER_READY: &str = "PG_CLUSTER_HELPER_READY";
const HELPER_NOTE: &str = "committed before SIGKILL";
/// How long an orphaned server may take to shut itself down.
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(30);

/// A temp dir the `postgres` user can enter (the server runs as that user when tests run as
/// root): made so explicitly rather than trusting the umask.
fn reachable_tempdir() -> anyhow::Result<TempDir> {
    let dir = tempfile::Builder::new().prefix("pgc").tempdir()?;
    fs::set_permissions(dir.path(), Permissions::from_mode(0o755))?;
    Ok(dir)
}

fn make_reachable_dir(path: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(path)?;
    fs::set_permissions(path, Permissions::from_mode(0o755))?;
    Ok(())
}

async fn create_notes(url: &str, note: &str) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
         INSERT INTO notes (body) VALUES ('{note}');"
    ))
    .await?;
    Ok(())
}

async fn notes(url: &str) -> anyhow::Result<Vec<String>> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let notes = diesel::select(sql::<Array<Text>>(
        "ARRAY(SELECT body FROM notes ORDER BY id)",
    ))
    .get_result(&mut conn)
    .await?;
    Ok(notes)
}

async fn setting(url: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let value = diesel::select(sql::<Text>(&format!("current_setting('{name}')")))
        .get_result(&mut conn)
        .await?;
    Ok(value)
}

/// The `host=` value of a URL made by `PgCluster::database_url` (no encoded bytes in these).
fn socket_dir_of(url: &str) -> anyhow::Result<PathBuf> {
    let host = url
        .split_once("host=")
        .and_then(|(_, rest)| rest.split('&').next())
        .context("no host in URL")?;
    Ok(PathBuf::from(host))
}

fn postmaster_pid(data_dir: &Path) -> anyhow::Result<i32> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid"))?;
    Ok(text
        .lines()
        .next()
        .context("empty postmaster.pid")?
        .trim()
        .parse()?)
}

/// Alive and not a zombie (an orphan may never be reaped by this machine's PID 1).
fn running(pid: i32) -> bool {
    let alive = kill(Pid::from_raw(pid), None).is_ok();
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
    });
    alive && !zombie
}

async fn wait_until_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while running(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_rows_survive_a_restart() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    // A blank in the path exercises the URL's percent-encoding.
    let parent = tmp.path().join("qbr data");
    make_reachable_dir(&parent)?;
    let data_dir = parent.join("pgdata");

    let cluster = PgCluster::start(&data_dir, None)?;
    assert_eq!(cluster.data_dir(), fs::canonicalize(&data_dir)?);
    let url = cluster.database_url("postgres");
    assert!(url.contains("qbr%20data/run&port="), "{url}");
    assert!(parent
        .join("run")
        .join(format!(".s.PGSQL.{}", cluster.port()))
        .exists());
    create_notes(&url, "kept").await?;
    assert_eq!(setting(&url, "listen_addresses").await?, "");
    assert_eq!(setting(&url, "fsync").await?, "on");
    // Database names are percent-encoded too.
    let mut conn = AsyncPgConnection::establish(&url).await?;
    conn.batch_execute("CREATE DATABASE \"qbr & co\"").await?;
    let other_db = cluster.database_url("qbr & co");
    assert_eq!(setting(&other_db, "listen_addresses").await?, "");
    let mut other = AsyncPgConnection::establish(&other_db).await?;
    let name: String = diesel::select(sql::<Text>("current_database()"))
        .get_result(&mut other)
        .await?;
    assert_eq!(name, "qbr & co");
    drop((conn, other));
    let port = cluster.port();
    cluster.stop()?;

    assert!(
        AsyncPgConnection::establish(&url).await.is_err(),
        "still serving after stop"
    );
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "not a clean shutdown"
    );
    let log = fs::read_to_string(parent.join("postgres.log"))?;
    assert!(log.contains("database system is shut down"), "{log}");

    let cluster = PgCluster::start(&data_dir, Some(port))?;
    assert_eq!(cluster.database_url("postgres"), url);
    assert_eq!(notes(&url).await?, ["kept"]);
    cluster.stop()?;
    Ok(())
}

/// Documented behaviour: a data dir already run by a `PgCluster` of this process is refused at
/// once (not after the 30 s lock wait), whatever the spelling of its path, and the running
/// cluster is unaffected.
#[tokio::test(flavor = "multi_thread")]
async fn second_start_in_the_same_process_fails_at_once() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    let data_dir = tmp.path().join("pgdata");
    let cluster = PgCluster::start(&data_dir, None)?;
    let url = cluster.database_url("postgres");
    create_notes(&url, "first").await?;

    let same_dir = tmp.path().join("elsewhere/../pgdata");
    for spelling in [&data_dir, &same_dir] {
        match PgCluster::start(spelling, None) {
            Ok(_) => bail!("a second cluster started on {}", spelling.display()),
            Err(err) => {
                let msg = format!("{err:#}");
                assert!(msg.contains("already running in this process"), "{msg}");
            }
        }
    }
    assert_eq!(notes(&url).await?, ["first"]);
    cluster.stop()?;

    // Once stopped, the claim is released.
    let cluster = PgCluster::start(&data_dir, None)?;
    assert_eq!(notes(&cluster.database_url("postgres")).await?, ["first"]);
    cluster.stop()?;
    Ok(())
}

/// Another process's server is found through its `postmaster.pid` (what `qbr backup` uses
/// while `qbr serve` holds the cluster); none once it stopped, none where none ran.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_is_found_by_its_data_dir() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    let data_dir = tmp.path().join("pgdata");
    assert_eq!(pg_cluster::running_url(&data_dir, "postgres"), None);
    let cluster = PgCluster::start(&data_dir, None)?;
    create_notes(&cluster.database_url("postgres"), "found").await?;
    let url = pg_cluster::running_url(&data_dir, "postgres").context("not found")?;
    assert_eq!(url, cluster.database_url("postgres"));
    assert_eq!(notes(&url).await?, ["found"]);
    cluster.stop()?;
    assert_eq!(pg_cluster::running_url(&data_dir, "postgres"), None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn long_paths_put_the_socket_in_a_temp_dir() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    let parent = tmp.path().join("d".repeat(100));
    make_reachable_dir(&parent)?;
    let cluster = PgCluster::start(&parent.join("pgdata"), None)?;
    let url = cluster.database_url("postgres");
    let socket_dir = socket_dir_of(&url)?;
    assert!(socket_dir.starts_with("/tmp"), "{url}");
    assert!(socket_dir
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("qbr-pg-")));
    assert!(!parent.join("run").exists());
    create_notes(&url, "short socket").await?;
    cluster.stop()?;
    assert!(!socket_dir.exists(), "temp socket dir left behind");
    Ok(())
}

/// A `run/` that the server's user does not own (think `/run` for a data dir `/pgdata`) is left
/// alone, never chowned; a temp socket dir is used instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_run_dir_is_left_alone() -> anyhow::Result<()> {
    if !Uid::effective().is_root() {
        eprintln!("not root: cannot make a run/ owned by another user");
        return Ok(());
    }
    let tmp = reachable_tempdir()?;
    let run = tmp.path().join("run");
    make_reachable_dir(&run)?; // owned by root, the server runs as postgres
    let cluster = PgCluster::start(&tmp.path().join("pgdata"), None)?;
    let url = cluster.database_url("postgres");
    assert!(url.contains("?host=/tmp/qbr-pg-"), "{url}");
    create_notes(&url, "elsewhere").await?;
    cluster.stop()?;
    let meta = fs::metadata(&run)?;
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o755));
    Ok(())
}

#[test]
fn root_needs_a_data_dir_the_postgres_user_can_reach() -> anyhow::Result<()> {
    if !Uid::effective().is_root() {
        eprintln!("not root: the server runs as ourselves, nothing to check");
        return Ok(());
    }
    let private = tempfile::tempdir()?;
    fs::set_permissions(private.path(), Permissions::from_mode(0o700))?;
    let data_dir = private.path().join("pgdata");
    match PgCluster::start(&data_dir, None) {
        Ok(_) => bail!("started in a folder the postgres user cannot enter"),
        Err(err) => {
            let msg = format!("{err:#}");
            let dir = fs::canonicalize(private.path())?;
            assert!(
                msg.contains(&format!("cannot enter {}", dir.display())),
                "{msg}"
            );
            assert!(msg.contains("QBR_DATA_DIR"), "{msg}");
        }
    }
    assert!(!data_dir.exists());
    Ok(())
}

#[test]
fn server_bin_dir_holds_initdb_and_postgres() -> anyhow::Result<()> {
    let bin_dir = find_pg_bin_dir()?;
    for program in ["initdb", "postgres"] {
        assert!(bin_dir.join(program).is_file(), "{}", bin_dir.display());
    }
    Ok(())
}

/// The SIGKILLed owner's server shuts itself down (cleanly: no postmaster.pid left), and the
/// next start finds the committed row.
#[tokio::test(flavor = "multi_thread")]
async fn server_dies_with_its_sigkilled_owner() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    let data_dir = tmp.path().join("pgdata");
    let helper = Helper::start(&data_dir)?;
    let postmaster = postmaster_pid(&data_dir)?;
    assert!(running(postmaster));

    helper.sigkill()?;
    assert!(
        wait_until_gone(postmaster, ORPHAN_TIMEOUT).await,
        "postmaster {postmaster} outlived its SIGKILLed owner"
    );
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "not a clean shutdown"
    );

    let cluster = PgCluster::start(&data_dir, None)?;
    assert_eq!(
        notes(&cluster.database_url("postgres")).await?,
        [HELPER_NOTE]
    );
    cluster.stop()?;
    Ok(())
}

/// A start while the killed owner's server still holds the data dir waits for it and retries.
/// The old postmaster is frozen (SIGSTOP) before its owner is killed, so it is certainly still
/// there when the new start tries, and only resumed once the log shows the lock conflict.
#[tokio::test(flavor = "multi_thread")]
async fn start_waits_for_a_previous_server_still_shutting_down() -> anyhow::Result<()> {
    let tmp = reachable_tempdir()?;
    let data_dir = tmp.path().join("pgdata");
    let log = tmp.path().join("postgres.log");
    let helper = Helper::start(&data_dir)?;
    let postmaster = postmaster_pid(&data_dir)?;
    kill(Pid::from_raw(postmaster), Signal::SIGSTOP)?;
    let frozen = Frozen(postmaster);
    helper.sigkill()?;
    let log_len = fs::metadata(&log)?.len();

    let dir = data_dir.clone();
    let start = tokio::task::spawn_blocking(move || PgCluster::start(&dir, None));
    let conflict = "lock file \"postmaster.pid\" already exists";
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fs::read(&log)?
        .get(usize::try_from(log_len)?..)
        .is_some_and(|new| String::from_utf8_lossy(new).contains(conflict))
    {
        if Instant::now() >= deadline || start.is_finished() {
            bail!("the new start never hit the lock of postmaster {postmaster}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(frozen); // SIGCONT: the pending SIGINT from its owner's death shuts it down

    let cluster = start.await??;
    assert!(
        !running(postmaster),
        "postmaster {postmaster} still running"
    );
    assert_eq!(
        notes(&cluster.database_url("postgres")).await?,
        [HELPER_NOTE]
    );
    cluster.stop()?;
    Ok(())
}

/// Resumes a SIGSTOPped process on drop, so that a failing test leaves no frozen server.
struct Frozen(i32);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGCONT);
    }
}

/// This test binary re-run as `helper_process`, owning a cluster with a committed row.
struct Helper(Child);

impl Helper {
    /// Runs the helper on `data_dir` and waits until its row is committed.
    fn start(data_dir: &Path) -> anyhow::Result<Helper> {
        let child = Command::new(std::env::current_exe()?)
            .args(["helper_process", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads=1"])
            .env(HELPER_ENV, data_dir)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut helper = Helper(child); // killed on drop from here on
        let stdout = helper.0.stdout.take().context("helper stdout")?;
        for line in BufReader::new(stdout).lines() {
            if line?.contains(HELPER_READY) {
                return Ok(helper);
            }
        }
        bail!("helper exited before committing: {}", helper.0.wait()?)
    }

    fn sigkill(mut self) -> anyhow::Result<()> {
        self.0.kill()?;
        self.0.wait()?;
        Ok(())
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Not a test: the process the kill tests start (and SIGKILL). Without its env var it does
/// nothing, so running ignored tests by hand is harmless.
#[test]
#[ignore = "helper process of the kill tests, which run it themselves"]
fn helper_process() -> anyhow::Result<()> {
    let Some(data_dir) = std::env::var_os(HELPER_ENV) else {
        return Ok(());
    };
    let cluster = PgCluster::start(Path::new(&data_dir), None)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(create_notes(&cluster.database_url("postgres"), HELPER_NOTE))?;
    println!("{HELPER_READY}");
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}
