//! Zero-setup PostgreSQL: a private cluster run from the machine's server binaries.
//!
//! A reusable "throwaway PostgreSQL": when `DATABASE_URL` is not set, `qbr` keeps its database in a folder of its own; the test
//! suite uses the same code for a throwaway cluster per test process.
//!
//! Layout, for `data_dir = X/pgdata` (give it a folder of its own, e.g. `$QBR_DATA_DIR/pgdata`):
//! - `X/pgdata/`        the cluster (`initdb` output), mode 0700;
//! - `X/postgres.log`   the server's (and `initdb`'s) stdout/stderr, appended, mode 0600. It sits
//!   beside the data dir rather than in it so that it survives re-creating the cluster and never
//!   ends up in a file-level copy of the data dir;
//! - `X/run/`           the Unix socket `.s.PGSQL.<port>` (mode 0700). If that path would exceed
//!   the kernel's 107-byte socket path limit (or cannot be written in the server's socket list
//!   syntax), a fresh `/tmp/qbr-pg-<random>/` is used instead and removed on stop.
//!
//! The server listens on no TCP address, so `trust` authentication lets in only those who can
//! open the socket: its owner (and root).
//!
//! The postmaster is a direct child of a keeper thread that lives as long as the server and
//! asked the kernel (`PR_SET_PDEATHSIG`) to send the server SIGINT — a fast shutdown that loses no
//! committed write (fsync stays on) — when that thread ends, even when our process is SIGKILLed.
//!
//! [`PgCluster::start`] and dropping/stopping a [`PgCluster`] block: from async code, call them
//! in `tokio::task::spawn_blocking` (or accept blocking one worker for the duration).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid, User};
use tracing::{info, warn};

/// The superuser `initdb` creates, and the system account a root process runs the server as.
const PG_USER: &str = "postgres";
/// The programs a server bin dir must hold (`initdb` runs `postgres` from its own directory).
const SERVER_PROGRAMS: [&str; 2] = ["initdb", "postgres"];
/// Where Debian/Ubuntu install one bin dir per major version.
const DEBIAN_PG_LIB: &str = "/usr/lib/postgresql";
/// File names beside the data dir (see the module docs).
const LOG_FILE: &str = "postgres.log";
const RUN_DIR: &str = "run";
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// How long the server may take to accept connections (crash recovery included).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for a previous postmaster that still holds the data dir's lock file.
const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long a fast shutdown may take before escalating to an immediate one (SIGQUIT).
const FAST_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an immediate shutdown may take before SIGKILL.
const IMMEDIATE_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Polling period for readiness, lock release and shutdown.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// The keeper checks for an unexpected server exit at most this rarely once the server runs.
const MAX_WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// SQLSTATE `cannot_connect_now`: the server is starting up, shutting down or recovering.
const SQLSTATE_CANNOT_CONNECT_NOW: &[u8] = b"57P03";

/// A running PostgreSQL server on a data dir, stopped by [`PgCluster::stop`] or on drop.
pub struct PgCluster {
    data_dir: PathBuf,
    port: u16,
    log: ServerLog,
    /// `None` once stopped.
    keeper: Option<Keeper>,
    /// Dropped after the server is stopped (field order), which removes a temporary socket dir.
    socket_dir: SocketDir,
    _claim: DirClaim,
}

impl PgCluster {
    /// Starts (initdb first if `data_dir` has no PG_VERSION) a PostgreSQL server on `data_dir`,
    /// listening only on a Unix socket, and blocks until it accepts connections (60 s at most).
    ///
    /// `port`: `None` picks a free TCP port number; it only names the socket file.
    ///
    /// Starting a data dir that a `PgCluster` of this process already runs fails at once. If
    /// another, still living postmaster holds the data dir (e.g. the one of a SIGKILLed previous
    /// run, which is shutting down), this waits up to 30 s for it to exit and retries once.
    pub fn start(data_dir: &Path, port: Option<u16>) -> anyhow::Result<PgCluster> {
        let bin_dir = find_pg_bin_dir()?;
        let data_dir = resolve_data_dir(data_dir)?;
        let claim = DirClaim::acquire(&data_dir)?;
        let parent = parent_of(&data_dir)?;
        let run_as = server_user()?;
        if let Some(user) = &run_as {
            check_reachable(parent, user)?;
        }
        let log = ServerLog {
            path: parent.join(LOG_FILE),
        };
        ensure_initialized(&bin_dir, &data_dir, run_as.as_ref(), &log)?;
        let port = match port {
            Some(port) => port,
            None => pick_free_port()?,
        };
        let socket_dir = SocketDir::choose(parent, port, run_as.as_ref())?;
        let server = ServerSpec {
            bin_dir: &bin_dir,
            data_dir: &data_dir,
            socket_dir: &socket_dir.path,
            port,
            run_as: run_as.as_ref(),
            log: &log,
        };
        let keeper = launch(&server)?;
        info!(
            data_dir = %data_dir.display(),
            socket = %socket_path(&socket_dir.path, port).display(),
            log = %log.path.display(),
            "PostgreSQL started"
        );
        Ok(PgCluster {
            data_dir,
            port,
            log,
            keeper: Some(keeper),
            socket_dir,
            _claim: claim,
        })
    }

    /// URL for tokio-postgres / diesel-async (and libpq): user `postgres`, database `db`, over
    /// the Unix socket. The host part stays empty on purpose: a `localhost` there would be tried
    /// first, over TCP, and could reach another server listening on the same port number.
    pub fn database_url(&self, db: &str) -> String {
        format!(
            "postgres://{PG_USER}@/{db}?host={host}&port={port}",
            db = percent_encode(db.as_bytes()),
            host = percent_encode(self.socket_dir.path.as_os_str().as_bytes()),
            port = self.port,
        )
    }

    /// The port number naming the socket file `.s.PGSQL.<port>`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data dir, absolute, with its parent's symlinks resolved.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Fast shutdown (SIGINT to the postmaster), waits for it to exit.
    ///
    /// Fails if the server had exited on its own, or did not exit cleanly.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shut_down()
    }

    /// Stops the server once; shared by [`PgCluster::stop`] and `Drop`.
    fn shut_down(&mut self) -> anyhow::Result<()> {
        let Some(keeper) = self.keeper.take() else {
            return Ok(());
        };
        let status = keeper.stop()?;
        if !status.success() {
            bail!(
                "PostgreSQL on {} exited with {status}{}",
                self.data_dir.display(),
                self.log.tail_since(0)
            );
        }
        info!(data_dir = %self.data_dir.display(), "PostgreSQL stopped");
        Ok(())
    }
}

// `PgCluster` is meant to live in statics (test harnesses) and shared application state.
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<PgCluster>();
};

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Err(err) = self.shut_down() {
            warn!("stopping PostgreSQL: {err:#}");
        }
    }
}

/// The URL of database `db` on a server that another process runs on `data_dir` (a
/// `qbr serve` holding its private cluster), if one runs there and accepts connections:
/// its `postmaster.pid` names the port and the socket folder. Lets a short job (a
/// backup) use the cluster while it belongs to someone else.
pub fn running_url(data_dir: &Path, db: &str) -> Option<String> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid = lock_file_pid(data_dir)?;
    let port: u16 = lines.get(3)?.trim().parse().ok()?;
    let socket_dir = PathBuf::from(lines.get(4)?.trim());
    if !process_running(pid) || !accepts_connections(&socket_path(&socket_dir, port)) {
        return None;
    }
    Some(format!(
        "postgres://{PG_USER}@/{db}?host={host}&port={port}",
        db = percent_encode(db.as_bytes()),
        host = percent_encode(socket_dir.as_os_str().as_bytes()),
    ))
}

/// Where the server binaries are: the real directory of the first `initdb` (else `postgres`) on
/// PATH if it holds both programs, else the highest-versioned `/usr/lib/postgresql/*/bin`.
pub fn find_pg_bin_dir() -> anyhow::Result<PathBuf> {
    bin_dir_from_path()
        .or_else(newest_debian_bin_dir)
        .ok_or_else(|| {
            anyhow!(
                "PostgreSQL server programs (initdb, postgres) not found on PATH nor in \
                 {DEBIAN_PG_LIB}/*/bin: install them (Debian/Ubuntu: apt install postgresql) or \
                 set DATABASE_URL to use an existing server"
            )
        })
}

/// Symlinks (e.g. `/usr/local/bin/initdb`) are resolved because `initdb` looks for `postgres`
/// next to its real path, so that is the directory that must hold both.
fn bin_dir_from_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    SERVER_PROGRAMS.iter().find_map(|program| {
        let found = std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))?;
        let real_dir = fs::canonicalize(found).ok()?.parent()?.to_path_buf();
        has_server_programs(&real_dir).then_some(real_dir)
    })
}

fn newest_debian_bin_dir() -> Option<PathBuf> {
    fs::read_dir(DEBIAN_PG_LIB)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_server_programs(&bin).then_some((version, bin))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, bin)| bin)
}

/// "15" → [15], "9.6" → [9, 6]: compared numerically, so 15 > 9.6.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn has_server_programs(dir: &Path) -> bool {
    SERVER_PROGRAMS
        .iter()
        .all(|program| is_executable(&dir.join(program)))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

/// Makes `data_dir` absolute with its parent created and canonical, so that one folder always
/// gets one name (for [`DirClaim`]) and relative paths survive the server's `chdir`.
fn resolve_data_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let absolute = std::path::absolute(data_dir)
        .with_context(|| format!("resolving data dir {}", data_dir.display()))?;
    let name = absolute
        .file_name()
        .ok_or_else(|| anyhow!("data dir {} must name a folder", data_dir.display()))?;
    let parent = parent_of(&absolute)?;
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let parent =
        fs::canonicalize(parent).with_context(|| format!("resolving {}", parent.display()))?;
    Ok(parent.join(name))
}

fn parent_of(data_dir: &Path) -> anyhow::Result<&Path> {
    data_dir
        .parent()
        .ok_or_else(|| anyhow!("data dir {} has no parent folder", data_dir.display()))
}

/// Data dirs run by a `PgCluster` of this process. A second start on one of them would only
/// wait for the lock file and fail 30 s later; this makes it fail at once.
static CLAIMED_DATA_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// This process's claim on a data dir, released on drop.
struct DirClaim(PathBuf);

impl DirClaim {
    fn acquire(data_dir: &Path) -> anyhow::Result<DirClaim> {
        // A panic elsewhere while holding the lock leaves the list itself intact.
        let mut claimed = CLAIMED_DATA_DIRS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if claimed.iter().any(|dir| dir == data_dir) {
            bail!(
                "PostgreSQL on {} is already running in this process",
                data_dir.display()
            );
        }
        claimed.push(data_dir.to_path_buf());
        Ok(DirClaim(data_dir.to_path_buf()))
    }
}

impl Drop for DirClaim {
    fn drop(&mut self) {
        let mut claimed = CLAIMED_DATA_DIRS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        claimed.retain(|dir| *dir != self.0);
    }
}

/// `initdb` and `postgres` refuse to run as root: then they run as the `postgres` system user
/// (`Some`), otherwise as ourselves (`None`).
fn server_user() -> anyhow::Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name(PG_USER).context("looking up the postgres user")? {
        Some(user) => Ok(Some(user)),
        None => bail!(
            "PostgreSQL refuses to run as root and there is no `{PG_USER}` user to run it as: \
             run as a non-root user or install Debian's postgresql package, which creates the \
             postgres user"
        ),
    }
}

/// The server, running as `user`, must be able to enter `dir` and every folder above it; a
/// `chdir` failure deep inside postgres would be far less clear than this check.
fn check_reachable(dir: &Path, user: &User) -> anyhow::Result<()> {
    for folder in dir.ancestors() {
        let meta = fs::metadata(folder).with_context(|| format!("reading {}", folder.display()))?;
        if !searchable_by(&meta, user) {
            bail!(
                "PostgreSQL runs as the `{PG_USER}` user (we are root), which cannot enter {}: \
                 put the data in a folder it can reach, e.g. QBR_DATA_DIR=/var/lib/qbr, or make \
                 {} searchable (chmod o+x)",
                folder.display(),
                folder.display()
            );
        }
    }
    Ok(())
}

/// Owner/group/other execute bits as they apply to `user`. Supplementary groups are ignored on
/// purpose: std drops them when a root process switches a child to another uid.
fn searchable_by(meta: &fs::Metadata, user: &User) -> bool {
    let bit = if meta.uid() == user.uid.as_raw() {
        0o100
    } else if meta.gid() == user.gid.as_raw() {
        0o010
    } else {
        0o001
    };
    meta.mode() & bit != 0
}

/// Creates the cluster unless `data_dir` holds one. `initdb` fills a sibling staging folder that
/// is then renamed into place, so a crash mid-initdb never leaves a `data_dir` that has a
/// `PG_VERSION` but an incomplete catalog.
fn ensure_initialized(
    bin_dir: &Path,
    data_dir: &Path,
    run_as: Option<&User>,
    log: &ServerLog,
) -> anyhow::Result<()> {
    if data_dir.join("PG_VERSION").exists() {
        return check_owner(data_dir, run_as);
    }
    if fs::read_dir(data_dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!(
            "{} is not empty but holds no PostgreSQL cluster (no PG_VERSION): refusing to initdb \
             over it",
            data_dir.display()
        );
    }
    let staging = staging_dir(data_dir)?;
    info!(data_dir = %data_dir.display(), "creating PostgreSQL cluster (initdb)");
    let result = run_initdb(bin_dir, &staging, run_as, log)
        .and_then(|()| install_cluster(&staging, data_dir));
    if result.is_err() {
        // Leftovers would only make the next attempt's error less clear.
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// `.{name}.initdb` beside the data dir, on the same file system so that rename works.
fn staging_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let name = data_dir
        .file_name()
        .ok_or_else(|| anyhow!("data dir {} must name a folder", data_dir.display()))?;
    let mut staging_name = std::ffi::OsString::from(".");
    staging_name.push(name);
    staging_name.push(".initdb");
    Ok(parent_of(data_dir)?.join(staging_name))
}

/// A server running as another user fails on a data dir it does not own; say how to fix it.
fn check_owner(data_dir: &Path, run_as: Option<&User>) -> anyhow::Result<()> {
    let Some(user) = run_as else {
        return Ok(());
    };
    let owner = fs::metadata(data_dir)
        .with_context(|| format!("reading {}", data_dir.display()))?
        .uid();
    if owner != user.uid.as_raw() {
        bail!(
            "{} belongs to uid {owner}, but PostgreSQL runs as `{PG_USER}` (we are root): \
             chown -R {PG_USER}: {}",
            data_dir.display(),
            data_dir.display()
        );
    }
    Ok(())
}

/// Runs initdb on a fresh `staging` folder; falls back to `--no-locale` where C.UTF-8 is missing.
fn run_initdb(
    bin_dir: &Path,
    staging: &Path,
    run_as: Option<&User>,
    log: &ServerLog,
) -> anyhow::Result<()> {
    match initdb_once(bin_dir, staging, run_as, log, "--locale=C.UTF-8") {
        // initdb's message for a locale the system lacks: `invalid locale name "C.UTF-8"`.
        Err(err) if format!("{err:#}").contains("invalid locale") => {
            warn!("initdb with locale C.UTF-8 failed, retrying with --no-locale: {err:#}");
            initdb_once(bin_dir, staging, run_as, log, "--no-locale")
        }
        other => other,
    }
}

fn initdb_once(
    bin_dir: &Path,
    staging: &Path,
    run_as: Option<&User>,
    log: &ServerLog,
    locale_arg: &str,
) -> anyhow::Result<()> {
    // Recreated on each attempt: a failed initdb may leave files behind.
    if staging.exists() {
        fs::remove_dir_all(staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    create_private_dir(staging, run_as)
        .with_context(|| format!("creating {}", staging.display()))?;
    let (log_file, offset) = log.open()?;
    let mut cmd = server_command(bin_dir, "initdb", run_as, &log_file)?;
    cmd.arg("-D")
        .arg(staging)
        .args(["-U", PG_USER, "-A", "trust", "-E", "UTF8", locale_arg]);
    let status = cmd
        .status()
        .with_context(|| format!("running {}", bin_dir.join("initdb").display()))?;
    if !status.success() {
        bail!("initdb exited with {status}{}", log.tail_since(offset));
    }
    Ok(())
}

/// Moves the finished cluster into place (replacing an empty `data_dir`) and makes the rename
/// itself durable.
fn install_cluster(staging: &Path, data_dir: &Path) -> anyhow::Result<()> {
    fs::rename(staging, data_dir).with_context(|| {
        format!(
            "moving the new cluster from {} to {}",
            staging.display(),
            data_dir.display()
        )
    })?;
    let parent = parent_of(data_dir)?;
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("syncing {}", parent.display()))
}

/// Creates a 0700 folder owned by the server's user: postgres insists on a private data dir,
/// and the socket dir keeps other local users away from the `trust`-authenticated socket.
/// Fails if `path` exists, so that nothing pre-existing (say `/run`, for a data dir `/pgdata`)
/// is ever handed over to the postgres user.
fn create_private_dir(path: &Path, run_as: Option<&User>) -> io::Result<()> {
    DirBuilder::new().mode(0o700).create(path)?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
    }
    Ok(())
}

/// Binding port 0 lets the kernel pick an unused number; the listener is closed at once, as
/// the number only names the socket file.
fn pick_free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("picking a free port")?;
    Ok(listener.local_addr().context("picking a free port")?.port())
}

fn socket_path(socket_dir: &Path, port: u16) -> PathBuf {
    socket_dir.join(format!(".s.PGSQL.{port}"))
}

/// The folder holding the server's socket.
struct SocketDir {
    path: PathBuf,
    /// A `/tmp` folder of ours, removed on drop.
    temporary: bool,
}

impl SocketDir {
    /// `run/` beside the data dir if the socket path fits there and the folder is ours, else a
    /// fresh `/tmp` folder.
    fn choose(parent: &Path, port: u16, run_as: Option<&User>) -> anyhow::Result<SocketDir> {
        let run = parent.join(RUN_DIR);
        if usable_socket_dir(&run, port) && prepare_run_dir(&run, run_as)? {
            return Ok(SocketDir {
                path: run,
                temporary: false,
            });
        }
        let path = create_temp_dir(run_as)?;
        warn!(
            preferred = %run.display(),
            using = %path.display(),
            "socket path too long (or with a ',' or trailing blank), or the folder belongs to \
             another user: using a temp socket dir"
        );
        Ok(SocketDir {
            path,
            temporary: true,
        })
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        if self.temporary {
            if let Err(err) = fs::remove_dir_all(&self.path) {
                warn!("removing socket dir {}: {err}", self.path.display());
            }
        }
    }
}

/// The socket path must fit `sun_path`, and the dir must survive the comma-separated,
/// blank-trimmed `unix_socket_directories` syntax that `-k` uses.
fn usable_socket_dir(dir: &Path, port: u16) -> bool {
    let bytes = dir.as_os_str().as_bytes();
    socket_path(dir, port).as_os_str().len() <= MAX_SOCKET_PATH
        && !bytes.contains(&b',')
        && !bytes.last().is_some_and(u8::is_ascii_whitespace)
}

/// Creates `run/`, or reuses it if a previous start did (it then belongs to the server's user).
fn prepare_run_dir(run: &Path, run_as: Option<&User>) -> anyhow::Result<bool> {
    match create_private_dir(run, run_as) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            let owner = run_as.map_or_else(Uid::effective, |user| user.uid);
            Ok(fs::metadata(run).is_ok_and(|meta| meta.is_dir() && meta.uid() == owner.as_raw()))
        }
        Err(err) => Err(err).with_context(|| format!("creating {}", run.display())),
    }
}

/// `/tmp/qbr-pg-<random>`: `/tmp` rather than `$TMPDIR`, which may itself be too long.
fn create_temp_dir(run_as: Option<&User>) -> anyhow::Result<PathBuf> {
    for _ in 0..16 {
        let path = PathBuf::from(format!("/tmp/qbr-pg-{:016x}", rand::random::<u64>()));
        match create_private_dir(&path, run_as) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err).with_context(|| format!("creating {}", path.display())),
        }
    }
    bail!("could not create a socket dir under /tmp")
}

/// The server's log file (see the module docs).
struct ServerLog {
    path: PathBuf,
}

impl ServerLog {
    /// An append handle for a child's stdout/stderr, and the current length, from which
    /// [`ServerLog::tail_since`] shows what this child wrote.
    fn open(&self) -> anyhow::Result<(File, u64)> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .with_context(|| format!("opening {}", self.path.display()))?;
        let len = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        Ok((file, len))
    }

    /// The last lines written after `offset`, formatted to end an error message.
    fn tail_since(&self, offset: u64) -> String {
        const MAX_BYTES: u64 = 4096;
        const MAX_LINES: usize = 20;
        let mut text = String::new();
        let read = File::open(&self.path).and_then(|mut file| {
            let len = file.metadata()?.len();
            file.seek(SeekFrom::Start(offset.max(len.saturating_sub(MAX_BYTES))))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            text = String::from_utf8_lossy(&bytes).into_owned();
            Ok(())
        });
        if let Err(err) = read {
            return format!(" (could not read {}: {err})", self.path.display());
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(MAX_LINES)..].join("\n");
        format!("\n--- end of {} ---\n{tail}", self.path.display())
    }
}

/// A `bin_dir` program with stdin closed, output appended to the log, run as `run_as`.
fn server_command(
    bin_dir: &Path,
    program: &str,
    run_as: Option<&User>,
    log_file: &File,
) -> anyhow::Result<Command> {
    let mut cmd = Command::new(bin_dir.join(program));
    // `/` is always reachable and keeps no mount busy; postgres works with absolute paths.
    cmd.stdin(Stdio::null())
        .stdout(log_file.try_clone().context("duplicating the log handle")?)
        .stderr(log_file.try_clone().context("duplicating the log handle")?)
        .current_dir("/");
    if let Some(user) = run_as {
        // HOME would still name root's home, which the postgres user cannot enter.
        cmd.uid(user.uid.as_raw())
            .gid(user.gid.as_raw())
            .env("HOME", "/");
    }
    Ok(cmd)
}

/// What a server start needs.
struct ServerSpec<'a> {
    bin_dir: &'a Path,
    data_dir: &'a Path,
    socket_dir: &'a Path,
    port: u16,
    run_as: Option<&'a User>,
    log: &'a ServerLog,
}

impl ServerSpec<'_> {
    fn command(&self, log_file: &File) -> anyhow::Result<Command> {
        let mut cmd = server_command(self.bin_dir, "postgres", self.run_as, log_file)?;
        cmd.arg("-D")
            .arg(self.data_dir)
            .arg("-k")
            .arg(self.socket_dir)
            .args(["-p", &self.port.to_string()])
            // An empty list: no TCP at all (no shell here, so no quotes).
            .args(["-c", "listen_addresses="])
            .args(["-c", "unix_socket_permissions=0700"])
            .args(["-c", "shared_buffers=32MB", "-c", "max_connections=100"])
            // Explicit, whatever postgresql.conf says: a killed server must lose no commit.
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"]);
        Ok(cmd)
    }
}

/// Why a start attempt failed.
enum LaunchError {
    /// The server exited before accepting connections (e.g. the data dir was locked).
    Exited(anyhow::Error),
    Other(anyhow::Error),
}

/// Starts the server; if it exits at once while another live postmaster holds the data dir's
/// lock file (a previous run killed, its server still shutting down), waits for that one to go
/// and retries once. Stale lock files of dead processes are handled by postgres itself.
fn launch(server: &ServerSpec) -> anyhow::Result<Keeper> {
    let holder_before = live_lock_holder(server.data_dir);
    match launch_once(server) {
        Ok(keeper) => Ok(keeper),
        Err(LaunchError::Other(err)) => Err(err),
        Err(LaunchError::Exited(err)) => {
            let Some(pid) = live_lock_holder(server.data_dir).or(holder_before) else {
                return Err(err);
            };
            warn!(
                pid,
                data_dir = %server.data_dir.display(),
                "data dir still locked by a running postmaster, waiting for it to exit"
            );
            wait_for_lock_release(server.data_dir, pid)?;
            launch_once(server).map_err(|(LaunchError::Exited(err) | LaunchError::Other(err))| err)
        }
    }
}

/// One start attempt: spawn, then poll until ready, the server exits, or the timeout.
fn launch_once(server: &ServerSpec) -> Result<Keeper, LaunchError> {
    let (log_file, offset) = server.log.open().map_err(LaunchError::Other)?;
    let cmd = server.command(&log_file).map_err(LaunchError::Other)?;
    let mut keeper = Keeper::spawn(cmd)
        .with_context(|| format!("starting {}", server.bin_dir.join("postgres").display()))
        .map_err(LaunchError::Other)?;
    let socket = socket_path(server.socket_dir, server.port);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(exit) = keeper.exit_status() {
            return Err(LaunchError::Exited(anyhow!(
                "PostgreSQL on {} exited during startup ({}){}",
                server.data_dir.display(),
                describe_exit(exit),
                server.log.tail_since(offset)
            )));
        }
        if accepts_connections(&socket) {
            return Ok(keeper);
        }
        if Instant::now() >= deadline {
            if let Err(err) = keeper.stop() {
                warn!("stopping the server that did not start: {err:#}");
            }
            return Err(LaunchError::Other(anyhow!(
                "PostgreSQL on {} did not accept connections on {} within {READY_TIMEOUT:?}{}",
                server.data_dir.display(),
                socket.display(),
                server.log.tail_since(offset)
            )));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

fn describe_exit(exit: &io::Result<ExitStatus>) -> String {
    match exit {
        Ok(status) => status.to_string(),
        Err(err) => format!("waiting for it failed: {err}"),
    }
}

/// Like `pg_isready`: the server accepts connections unless the socket is missing/refusing or
/// it answers the startup packet with `cannot_connect_now` (still starting up or recovering).
/// Speaking the protocol here avoids depending on `pg_isready` being installed.
fn accepts_connections(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(2));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream.write_all(&startup_packet()).is_err() {
        return false;
    }
    let accepted = match read_message(&mut stream) {
        Some((b'R', _)) => true,
        Some((b'E', body)) => error_code(&body) != Some(SQLSTATE_CANNOT_CONNECT_NOW),
        _ => false,
    };
    // Terminate, so the backend leaves quietly.
    let _ = stream.write_all(&[b'X', 0, 0, 0, 4]);
    accepted
}

/// Protocol 3.0 StartupMessage for user and database `postgres`.
fn startup_packet() -> Vec<u8> {
    let mut body = 196_608_u32.to_be_bytes().to_vec(); // 3 << 16: protocol 3.0
    for field in ["user", PG_USER, "database", PG_USER] {
        body.extend_from_slice(field.as_bytes());
        body.push(0);
    }
    body.push(0);
    let len = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
    let mut packet = len.to_be_bytes().to_vec();
    packet.extend(body);
    packet
}

/// One backend message: its type byte and body (bounded, as this only reads startup replies).
fn read_message(stream: &mut UnixStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0_u8; 5];
    stream.read_exact(&mut header).ok()?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let body_len = usize::try_from(len.checked_sub(4)?).ok()?;
    if body_len > 64 * 1024 {
        return None;
    }
    let mut body = vec![0_u8; body_len];
    stream.read_exact(&mut body).ok()?;
    Some((header[0], body))
}

/// The SQLSTATE (`C` field) of an ErrorResponse body: NUL-terminated, type-prefixed fields.
fn error_code(body: &[u8]) -> Option<&[u8]> {
    body.split(|&byte| byte == 0)
        .find_map(|field| field.strip_prefix(b"C"))
}

/// The pid in the data dir's `postmaster.pid`, if that process is still running.
fn live_lock_holder(data_dir: &Path) -> Option<i32> {
    lock_file_pid(data_dir).filter(|&pid| process_running(pid))
}

fn lock_file_pid(data_dir: &Path) -> Option<i32> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    // A negative pid marks a single-user backend; either way it is the lock holder.
    text.lines()
        .next()?
        .trim()
        .parse::<i32>()
        .ok()
        .map(i32::abs)
        .filter(|&pid| pid > 0)
}

/// Alive, and not a zombie: an orphaned postmaster is reparented to PID 1, which in some
/// containers never reaps it, yet a zombie holds no lock.
fn process_running(pid: i32) -> bool {
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => !is_zombie(pid),
        Err(_) => false,
    }
}

fn is_zombie(pid: i32) -> bool {
    // The state follows the command name, which ends with the line's last ')'.
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| matches!(rest.trim_start().chars().next(), Some('Z' | 'X')))
    })
}

/// Polls until `pid` is gone or no longer holds the lock file, for at most [`LOCK_WAIT`].
fn wait_for_lock_release(data_dir: &Path, pid: i32) -> anyhow::Result<()> {
    let deadline = Instant::now() + LOCK_WAIT;
    while process_running(pid) && lock_file_pid(data_dir) == Some(pid) {
        if Instant::now() >= deadline {
            bail!(
                "{} is in use by another PostgreSQL server (pid {pid}) that did not exit within \
                 {LOCK_WAIT:?}: stop it (or the program running it) first; if no PostgreSQL \
                 server uses this folder, remove {}",
                data_dir.display(),
                data_dir.join("postmaster.pid").display()
            );
        }
        thread::sleep(POLL_INTERVAL);
    }
    Ok(())
}

/// The thread that spawned, owns and finally reaps the postmaster; it returns the exit status.
///
/// PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process; so the
/// child is spawned by this dedicated thread, which lives until the server has exited.
struct Keeper {
    stop_tx: mpsc::Sender<()>,
    /// `None` once joined.
    thread: Option<JoinHandle<io::Result<ExitStatus>>>,
    /// The exit status, once the thread was joined.
    exit: Option<io::Result<ExitStatus>>,
}

impl Keeper {
    /// Spawns the keeper thread, which spawns `cmd`; returns once the child runs.
    fn spawn(cmd: Command) -> anyhow::Result<Keeper> {
        let (spawned_tx, spawned_rx) = mpsc::sync_channel(1);
        let (stop_tx, stop_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("postgres-keeper".into())
            .spawn(move || keep(cmd, &spawned_tx, &stop_rx))
            .context("starting the postgres keeper thread")?;
        match spawned_rx.recv() {
            Ok(Ok(())) => Ok(Keeper {
                stop_tx,
                thread: Some(thread),
                exit: None,
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err.into())
            }
            Err(_) => bail!("the postgres keeper thread died"),
        }
    }

    /// The server's exit status if it has exited (never blocks).
    fn exit_status(&mut self) -> Option<&io::Result<ExitStatus>> {
        if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            self.join();
        }
        self.exit.as_ref()
    }

    /// Asks for a shutdown (if the server still runs) and waits for its exit status.
    fn stop(mut self) -> anyhow::Result<ExitStatus> {
        // Fails only if the keeper has already ended.
        let _ = self.stop_tx.send(());
        self.join();
        match self.exit {
            Some(exit) => exit.context("waiting for PostgreSQL to exit"),
            None => bail!("the postgres keeper thread vanished"),
        }
    }

    /// Waits for the keeper thread (if not yet joined) and keeps its result.
    fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.exit =
                Some(thread.join().unwrap_or_else(|_| {
                    Err(io::Error::other("the postgres keeper thread panicked"))
                }));
        }
    }
}

/// The keeper thread's body: spawn, report, then supervise until the server exits.
fn keep(
    mut cmd: Command,
    spawned_tx: &mpsc::SyncSender<io::Result<()>>,
    stop_rx: &mpsc::Receiver<()>,
) -> io::Result<ExitStatus> {
    die_with_this_thread(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => {
            let not_started = io::Error::new(err.kind(), err.to_string());
            let _ = spawned_tx.send(Err(err));
            return Err(not_started);
        }
    };
    let _ = spawned_tx.send(Ok(()));
    let exit = supervise(&mut child, stop_rx);
    if let Ok(status) = &exit {
        if !status.success() {
            warn!("PostgreSQL exited with {status}");
        }
    }
    exit
}

/// Makes the kernel send the child SIGINT (fast shutdown) when this thread ends.
#[allow(unsafe_code)]
fn die_with_this_thread(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // calls are allowed: it makes a single prctl(2) system call, without allocating or locking.
    // std has already applied `uid`/`gid` by then, which matters because changing credentials
    // clears the parent-death signal.
    unsafe {
        cmd.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(io::Error::from));
    }
}

/// Waits for a stop request or for the server to exit on its own, whichever comes first. The
/// check interval grows so that startup failures show up fast and a long-running server costs
/// about one wake-up per second.
fn supervise(child: &mut Child, stop_rx: &mpsc::Receiver<()>) -> io::Result<ExitStatus> {
    let mut interval = POLL_INTERVAL;
    loop {
        match stop_rx.recv_timeout(interval) {
            // A dropped sender (a `Keeper` never stopped) also means: shut down.
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return shut_down(child),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(status) = child.try_wait()? {
                    return Ok(status);
                }
                interval = (interval * 2).min(MAX_WATCH_INTERVAL);
            }
        }
    }
}

/// Fast shutdown (SIGINT); if that hangs, immediate shutdown (SIGQUIT: crash recovery at the
/// next start, still without losing commits), and SIGKILL as the last resort.
fn shut_down(child: &mut Child) -> io::Result<ExitStatus> {
    let steps = [
        (Signal::SIGINT, FAST_SHUTDOWN_TIMEOUT),
        (Signal::SIGQUIT, IMMEDIATE_SHUTDOWN_TIMEOUT),
    ];
    for (signal, timeout) in steps {
        // Only this thread reaps the child, so an unreaped child's pid is still its own.
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        let pid = Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?);
        kill(pid, signal).map_err(io::Error::from)?;
        if let Some(status) = wait_timeout(child, timeout)? {
            return Ok(status);
        }
        warn!("PostgreSQL did not exit within {timeout:?} after {signal}");
    }
    child.kill()?;
    child.wait()
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Percent-encodes all but unreserved characters and `/` (kept for readable socket paths).
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("15") > parse_version("9.6"));
        assert_eq!(parse_version("16beta"), None);
    }

    #[test]
    fn percent_encoding_keeps_paths_readable() {
        assert_eq!(percent_encode(b"/a b/c&d=%"), "/a%20b/c%26d%3D%25");
    }

    #[test]
    fn socket_dir_rules() {
        assert!(usable_socket_dir(Path::new("/tmp/x/run"), 65535));
        assert!(!usable_socket_dir(Path::new("/tmp/a,b/run"), 5432));
        let long = PathBuf::from(format!("/{}", "d".repeat(96)));
        // "/" + 96 + "/.s.PGSQL.5432" (14) = 111 > 107
        assert!(!usable_socket_dir(&long, 5432));
    }

    #[test]
    fn error_code_is_found() {
        let body = b"SFATAL\0C57P03\0Mthe database system is starting up\0\0";
        assert_eq!(error_code(body), Some(SQLSTATE_CANNOT_CONNECT_NOW));
    }
}
