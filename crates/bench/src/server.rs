//! The real `qbr serve`, started as a process of its own so that its CPU time can be
//! read apart from the load generator's, and stopped the way production stops it.
use crate::thousands;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// The server's database pool (`QBR_DB_POOL_SIZE`, its default).
pub const POOL_SIZE: usize = 16;

/// `--qbr`, else the `qbr` beside this program (cargo builds both into one directory).
pub fn qbr_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        anyhow::ensure!(path.is_file(), "--qbr {}: no such file", path.display());
        return Ok(path.to_path_buf());
    }
    let exe = std::env::current_exe().context("locating this program")?;
    let beside = exe.with_file_name("qbr");
    anyhow::ensure!(
        beside.is_file(),
        "no `qbr` beside {}: build both with `cargo build --release -p backend -p bench \
         --bins` (same CARGO_TARGET_DIR), or pass --qbr PATH",
        exe.display()
    );
    Ok(beside)
}

/// The binary's path and age, so a stale build is noticed.
pub fn describe_binary(path: &Path) -> String {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or_else(
            || "age unknown".to_string(),
            |d| format!("built {} min ago", d.as_secs() / 60),
        );
    let kind = if path.components().any(|c| c.as_os_str() == "debug") {
        ", DEBUG BUILD: figures are meaningless"
    } else {
        ""
    };
    format!("{}, {age}{kind}", path.display())
}

/// `qbr serve` in a child process, killed if dropped without [`QbrServer::stop`].
pub struct QbrServer {
    child: tokio::process::Child,
    pub pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl QbrServer {
    /// Starts `qbr serve` on a free loopback port with the database at `database_url`,
    /// no SPA, the default pool, `RUST_LOG=info` into `log`, plus `extra_env` (what
    /// the benchmark needs: sign-in, rate limits, …); waits until it answers.
    pub async fn start(
        qbr: &Path,
        database_url: &str,
        log: &Path,
        extra_env: &[(&str, String)],
    ) -> anyhow::Result<QbrServer> {
        let port = free_port()?;
        // Logs go to a file: a pipe nobody reads would fill up and stall the server.
        let out = std::fs::File::create(log).context("creating the server log")?;
        let err = out.try_clone().context("cloning the server log handle")?;
        // A clean environment: settings of the calling shell (collectors, sign-in) must
        // not change what is measured; but the runtime's size may be tried on purpose.
        let mut command = tokio::process::Command::new(qbr);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("QBR_LISTEN", format!("127.0.0.1:{port}"))
            .env("QBR_DIST_DIR", "/nonexistent")
            .env("QBR_DB_POOL_SIZE", POOL_SIZE.to_string())
            .env("RUST_LOG", "info");
        for (name, value) in extra_env {
            command.env(name, value);
        }
        if let Some(threads) = std::env::var_os("TOKIO_WORKER_THREADS") {
            command.env("TOKIO_WORKER_THREADS", threads);
        }
        let child = command
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} serve", qbr.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = QbrServer {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    /// Polls `/api/health` until it answers 200 (30 s at most).
    pub async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("building the HTTP client")?;
        let url = format!("{}/api/health", self.base);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("`qbr serve` exited with {status}:\n{}", log_tail(&self.log));
            }
            if let Ok(res) = client.get(&url).send().await {
                if res.status() == reqwest::StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "`qbr serve` did not answer within 30 s:\n{}",
                    log_tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (the server drains in-flight requests), SIGKILL after 15 s.
    pub async fn stop(mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        let pid = i32::try_from(self.pid).unwrap_or(i32::MAX);
        if let Err(e) = kill(Pid::from_raw(pid), Signal::SIGTERM) {
            println!("WARNING: SIGTERM to the server: {e}");
        }
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => println!("server stopped"),
            Ok(Ok(status)) => {
                println!(
                    "WARNING: the server exited with {status}:\n{}",
                    log_tail(&self.log)
                );
            }
            Ok(Err(e)) => println!("WARNING: waiting for the server: {e}"),
            Err(_) => {
                println!("WARNING: the server did not stop within 15 s; killing it");
                let _ = self.child.kill().await;
            }
        }
        println!(
            "server log: {} lines ({})",
            count_lines(&self.log).map_or_else(|| "?".to_string(), thousands),
            self.log.display()
        );
    }
}

/// A loopback port nothing listens on now (the server binds it a moment later).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The last lines of a log, for error messages.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Lines in a file (the server writes one per request at `RUST_LOG=info`).
pub fn count_lines(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    Some(bytes.iter().filter(|b| **b == b'\n').count() as u64)
}
