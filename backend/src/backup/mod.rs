//! Backups of the whole database with PostgreSQL's own tools: `pg_dump --format=custom`
//! writes one file (`qbr backup`, the nightly backup), `pg_restore` reads it back
//! (`qbr restore`). A backup holds everything of every organization: values, history,
//! users, sessions, keys' hashes, sealed vendor credentials (which open only with the
//! same `QBR_SECRET_KEY`).
//!
//! A backup must restore anywhere: into the private cluster of a fresh install, or into
//! a database whose owner has another name. So a restore
//! - leaves out who owned what (`--no-owner`: the restoring user owns everything, as
//!   if it had run the migrations) and the archive's default privileges, which name the
//!   old owner; it grants them again for itself, as the migration `row_level_security`
//!   does;
//! - makes sure the role `qbr_app` exists and may be taken, before the archive's grants
//!   to it (roles belong to the cluster, not to the dump);
//! - runs in one transaction: the schema's old objects dropped, the archive restored,
//!   the privileges granted; anything failing leaves the database as it was;
//! - then migrates, so a backup of an older `qbr` comes up to date.
//!
//! The tools are the machine's PostgreSQL client programs (`pg_dump`, `pg_restore`,
//! `psql`): beside the private cluster's server programs when they are there (the same
//! version), else on `PATH`. A password in the URL reaches them through `PGPASSWORD`,
//! never their command line.
pub mod nightly;

use anyhow::{bail, Context};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Tables every backup of `qbr` holds; a file without them is not one.
const QBR_TABLES: [&str; 4] = [
    "__diesel_schema_migrations",
    "organization",
    "qbr_metrics_monthly",
    "qbr_smartnumbers",
];

/// The PostgreSQL client programs a backup and a restore run.
#[derive(Debug, Clone)]
pub struct PgTools {
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
    pub psql: PathBuf,
}

impl PgTools {
    /// The first folder that has all three: the server programs' (`pg_cluster`), then
    /// each folder of `PATH`.
    pub fn find() -> anyhow::Result<PgTools> {
        let path_dirs = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default();
        pg_cluster::find_pg_bin_dir()
            .ok()
            .into_iter()
            .chain(path_dirs)
            .find_map(|dir| {
                let tools = PgTools {
                    pg_dump: dir.join("pg_dump"),
                    pg_restore: dir.join("pg_restore"),
                    psql: dir.join("psql"),
                };
                [&tools.pg_dump, &tools.pg_restore, &tools.psql]
                    .iter()
                    .all(|p| p.is_file())
                    .then_some(tools)
            })
            .context(
                "PostgreSQL's client programs (pg_dump, pg_restore, psql) not found beside \
                 initdb nor on PATH: install them (Debian/Ubuntu: apt install postgresql-client)",
            )
    }
}

/// A database URL as the tools take it: without its password, which goes in
/// `PGPASSWORD`.
struct Target {
    url: String,
    password: Option<String>,
}

impl Target {
    fn new(url: &str) -> Target {
        let Ok(mut parsed) = reqwest::Url::parse(url) else {
            return Target {
                url: url.to_string(),
                password: None,
            };
        };
        let password = parsed.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        if password.is_some() && parsed.set_password(None).is_ok() {
            return Target {
                url: parsed.to_string(),
                password,
            };
        }
        Target {
            url: url.to_string(),
            password: None,
        }
    }

    /// `program` with the password in its environment; never asks for one.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_remove("PGPASSWORD");
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }
}

/// `url` without its password, to show.
pub fn display_url(url: &str) -> String {
    Target::new(url).url
}

/// Runs `cmd`; its stdout, or its stderr in the error.
async fn output(mut cmd: Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!("{what} failed ({}): {}", out.status, stderr.trim());
    }
    Ok(out.stdout)
}

/// A backup file written.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub tables: usize,
    pub duration: Duration,
}

/// Writes a backup of the database at `url` to `out`: to a hidden file beside it first
/// (readable by its owner only, synced), renamed into place once `pg_restore` has read
/// its table of contents back; a failure leaves no file at `out`.
pub async fn backup(tools: &PgTools, url: &str, out: &Path) -> anyhow::Result<Written> {
    let started = Instant::now();
    let name = out
        .file_name()
        .with_context(|| format!("{} is not a file name", out.display()))?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut partial_name = std::ffi::OsString::from(".");
    partial_name.push(name);
    partial_name.push(".partial");
    let partial = dir.join(partial_name);
    let result = write_partial(tools, url, &partial).await;
    let archive = match result {
        Ok(archive) => archive,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving the backup to {}", out.display()))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(Written {
        path: out.to_path_buf(),
        bytes,
        tables: archive.tables,
        duration: started.elapsed(),
    })
}

async fn write_partial(tools: &PgTools, url: &str, partial: &Path) -> anyhow::Result<Archive> {
    // Created first, for its mode: pg_dump truncates and fills it.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let target = Target::new(url);
    let mut cmd = target.command(&tools.pg_dump);
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(partial)
        .arg("--dbname")
        .arg(&target.url);
    output(cmd, "pg_dump").await?;
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", partial.display()))?;
    inspect(tools, partial).await
}

/// What a backup file holds, as far as a restore cares.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The schema of its tables (`public`).
    pub schema: String,
    /// How many tables.
    pub tables: usize,
    /// The versions of the migrations the backed-up database had run.
    pub migrations: Vec<String>,
    /// `pg_restore --list`: one line per object.
    toc: String,
}

/// Reads a backup's table of contents and its migrations; fails on a file that is no
/// PostgreSQL archive or no backup of `qbr`.
pub async fn inspect(tools: &PgTools, file: &Path) -> anyhow::Result<Archive> {
    let mut cmd = Command::new(&tools.pg_restore);
    cmd.arg("--list").arg(file).stdin(Stdio::null());
    let toc = output(cmd, "pg_restore --list")
        .await
        .with_context(|| format!("{} is not a backup made by qbr backup", file.display()))?;
    let toc = String::from_utf8_lossy(&toc).into_owned();
    let tables: Vec<(String, String)> = toc
        .lines()
        .filter_map(|line| toc_object(line, "TABLE"))
        .collect();
    for wanted in QBR_TABLES {
        if !tables.iter().any(|(_, name)| name == wanted) {
            bail!(
                "{} is a PostgreSQL backup but not of qbr's database (it has no table {wanted})",
                file.display()
            );
        }
    }
    let schema = tables
        .iter()
        .find(|(_, name)| name == "qbr_metrics_monthly")
        .map(|(schema, _)| schema.clone())
        .unwrap_or_else(|| "public".into());
    let mut cmd = Command::new(&tools.pg_restore);
    cmd.args([
        "--data-only",
        "--table=__diesel_schema_migrations",
        "--file=-",
    ])
    .arg(file)
    .stdin(Stdio::null());
    let data = output(cmd, "pg_restore (the migrations)").await?;
    Ok(Archive {
        schema,
        tables: tables.len(),
        migrations: copied_rows(&String::from_utf8_lossy(&data)),
        toc,
    })
}

/// `(schema, name)` of a `pg_restore --list` line for an object of `kind` (`TABLE`), as
/// in `215; 1259 16390 TABLE public organization postgres`: two object ids, the kind
/// (`TABLE DATA`, `FK CONSTRAINT`, `ACL public TABLE`: one word or more), the schema, the
/// name and the owner.
fn toc_object(line: &str, kind: &str) -> Option<(String, String)> {
    let (_, rest) = line.split_once("; ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let n = words.len();
    if n < 6 || words[2..n - 3].join(" ") != kind {
        return None;
    }
    Some((words[n - 3].to_string(), words[n - 2].to_string()))
}

/// The first column of every row of the `COPY ... FROM stdin;` blocks of a script.
fn copied_rows(script: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut copying = false;
    for line in script.lines() {
        if copying {
            if line == "\\." {
                copying = false;
            } else if let Some(first) = line.split('\t').next() {
                rows.push(first.to_string());
            }
        } else if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            copying = true;
        }
    }
    rows
}

/// How much a database holds, to compare a restore with its backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Contents {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub organizations: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub values: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub history: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub runs: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub api_keys: i64,
}

impl Contents {
    /// Anything a person or a collection put there: more than the seeded organization.
    pub fn has_data(&self) -> bool {
        self.organizations > 1
            || self.values > 0
            || self.history > 0
            || self.runs > 0
            || self.api_keys > 0
    }
}

impl std::fmt::Display for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} organization{}, {} stored values, {} history entries, {} collection runs, {} API keys",
            self.organizations,
            if self.organizations == 1 { "" } else { "s" },
            self.values,
            self.history,
            self.runs,
            self.api_keys
        )
    }
}

/// What the database at `url` holds (as its login user, whom row-level security does
/// not restrict); `None` when it has no `qbr` tables.
pub async fn contents(url: &str) -> anyhow::Result<Option<Contents>> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to the database")?;
    contents_of(&mut conn).await
}

async fn contents_of(conn: &mut AsyncPgConnection) -> anyhow::Result<Option<Contents>> {
    #[derive(QueryableByName)]
    struct Migrated {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        migrated: bool,
    }
    let m: Migrated = diesel::sql_query(
        "SELECT to_regclass('qbr_metrics_monthly') IS NOT NULL \
             AND to_regclass('qbr_metric_history') IS NOT NULL \
             AND to_regclass('qbr_collection_log') IS NOT NULL \
             AND to_regclass('api_keys') IS NOT NULL AS migrated",
    )
    .get_result(conn)
    .await?;
    if !m.migrated {
        return Ok(None);
    }
    let c: Contents = diesel::sql_query(
        "SELECT (SELECT count(*) FROM organization) AS organizations, \
                (SELECT count(*) FROM qbr_metrics_monthly) AS values, \
                (SELECT count(*) FROM qbr_metric_history) AS history, \
                (SELECT count(*) FROM qbr_collection_log) AS runs, \
                (SELECT count(*) FROM api_keys) AS api_keys",
    )
    .get_result(conn)
    .await?;
    Ok(Some(c))
}

/// How a restore may treat the database it restores into.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// Replace a database that holds data, even while other sessions are connected.
    pub force: bool,
}

/// A restore that went through.
#[derive(Debug, Clone)]
pub struct Restored {
    pub archive: Archive,
    /// Migrations run after it (a backup of an older `qbr`).
    pub migrated: Vec<String>,
    pub contents: Option<Contents>,
    pub duration: Duration,
}

/// Restores `file` into the database at `url` (see the module's documentation):
/// refused for a file that is not a backup of `qbr`, for one made by a newer `qbr`, and,
/// without `force`, for a database that holds data or that others are connected to.
pub async fn restore(
    tools: &PgTools,
    url: &str,
    file: &Path,
    opts: RestoreOptions,
) -> anyhow::Result<Restored> {
    let started = Instant::now();
    let archive = inspect(tools, file).await?;
    check_migrations_known(&archive)?;
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to the database to restore into")?;
    if !opts.force {
        refuse_if_busy(&mut conn).await?;
    }
    ensure_app_role(&mut conn).await?;
    drop(conn);
    let list = restore_list(&archive.toc);
    let list_file = tempfile_in_temp_dir(&list)?;
    run_restore(tools, url, file, list_file.path(), &archive.schema).await?;
    let migrated = crate::db::run_migrations(url).await?;
    let contents = contents(url).await?;
    Ok(Restored {
        archive,
        migrated,
        contents,
        duration: started.elapsed(),
    })
}

/// Refused: a backup made by a `qbr` with migrations this one does not have.
fn check_migrations_known(archive: &Archive) -> anyhow::Result<()> {
    use diesel::migration::MigrationSource;
    let known: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(&crate::db::MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading the embedded migrations: {e}"))?
        .iter()
        .map(|m| normalize_version(&m.name().version().to_string()))
        .collect();
    let unknown: Vec<&String> = archive
        .migrations
        .iter()
        .filter(|v| !known.contains(&normalize_version(v)))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the backup was made by a newer qbr (migrations {unknown:?} are unknown to this \
             one, {}): restore it with that version",
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(())
}

fn normalize_version(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

/// Without `--force`: no data to lose, nobody else connected (a running `qbr serve`
/// would keep answering from what it had read).
async fn refuse_if_busy(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    if let Some(c) = contents_of(conn).await? {
        if c.has_data() {
            bail!(
                "the database holds data ({c}): restoring would replace it; add --force to do so"
            );
        }
    }
    #[derive(QueryableByName)]
    struct Others {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        others: i64,
    }
    let o: Others = diesel::sql_query(
        "SELECT count(*) AS others FROM pg_stat_activity \
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result(conn)
    .await?;
    if o.others > 0 {
        bail!(
            "{} other session(s) are connected to the database (a running qbr serve?): stop \
             them first, or add --force",
            o.others
        );
    }
    Ok(())
}

/// The role the archive grants to must exist in this cluster, and the restoring user
/// must be able to grant to it and take it, as the migration `row_level_security`
/// arranges (README, Production, for an owner that may not).
async fn ensure_app_role(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let role = crate::db::tenant::APP_ROLE;
    diesel::sql_query(format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN \
             CREATE ROLE {role} NOLOGIN; \
           END IF; \
           IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN \
             EXECUTE format('GRANT {role} TO %I', current_user); \
           END IF; \
         END $$"
    ))
    .execute(conn)
    .await
    .with_context(|| {
        format!(
            "preparing the role {role}: as a superuser, run once: CREATE ROLE {role} NOLOGIN; \
             GRANT {role} TO <the user of DATABASE_URL>"
        )
    })?;
    Ok(())
}

/// The archive's table of contents without its default privileges (they name the old
/// owner; the restore grants them for the new one).
fn restore_list(toc: &str) -> String {
    toc.lines()
        .filter(|line| !line.contains(" DEFAULT ACL "))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn tempfile_in_temp_dir(text: &str) -> anyhow::Result<TempFile> {
    let path = std::env::temp_dir().join(format!(
        "qbr-restore-{}-{:016x}.list",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(TempFile(path))
}

/// A file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// SQL run before the archive: every table, view, sequence, function and type of
/// `schema` dropped, so nothing of the database before survives beside the backup.
fn clean_schema_sql(schema: &str) -> String {
    let s = schema.replace('\'', "''");
    format!(
        "DO $clean$ DECLARE r record; BEGIN\n\
         FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE n.nspname = '{s}' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP\n\
           EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' \
             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' \
             ELSE 'TABLE' END, '{s}', r.relname);\n\
         END LOOP;\n\
         FOR r IN SELECT p.oid::regprocedure AS sig, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE n.nspname = '{s}' LOOP\n\
           EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' \
             WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.sig);\n\
         END LOOP;\n\
         FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE n.nspname = '{s}' AND t.typtype IN ('e', 'd', 'r', 'm') LOOP\n\
           EXECUTE format('DROP TYPE IF EXISTS %I.%I CASCADE', '{s}', r.typname);\n\
         END LOOP;\n\
         END $clean$;\n"
    )
}

/// SQL run after the archive: the default privileges the archive's name the old owner
/// for, granted for the restoring user (the same as the migration `row_level_security`),
/// so tables of later migrations reach `qbr_app` too.
fn default_privileges_sql(schema: &str) -> String {
    let role = crate::db::tenant::APP_ROLE;
    let s = schema.replace('"', "\"\"");
    format!(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA \"{s}\" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA \"{s}\" GRANT USAGE, SELECT ON SEQUENCES TO {role};\n"
    )
}

/// `pg_restore` writes the archive as SQL, `psql` runs it inside one transaction between
/// the cleaning and the privileges; `ON_ERROR_STOP` ends it at the first error, which
/// rolls everything back.
async fn run_restore(
    tools: &PgTools,
    url: &str,
    file: &Path,
    list: &Path,
    schema: &str,
) -> anyhow::Result<()> {
    let target = Target::new(url);
    let mut restore = Command::new(&tools.pg_restore);
    restore
        .args(["--no-owner", "--file=-"])
        .arg("--use-list")
        .arg(list)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut restore = restore.spawn().context("running pg_restore")?;
    let mut psql = target.command(&tools.psql);
    psql.args([
        "--no-psqlrc",
        "--quiet",
        "--no-password",
        "--set=ON_ERROR_STOP=1",
        "--file=-",
    ])
    .arg("--dbname")
    .arg(&target.url)
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut psql = psql.spawn().context("running psql")?;
    let (Some(mut script), Some(mut sql)) = (restore.stdout.take(), psql.stdin.take()) else {
        bail!("no pipe between pg_restore and psql");
    };
    let feed = async {
        // Notices (each object a CASCADE drops) would fill psql's stderr, unread meanwhile.
        sql.write_all(b"SET client_min_messages = warning;\nBEGIN;\n")
            .await?;
        sql.write_all(clean_schema_sql(schema).as_bytes()).await?;
        tokio::io::copy(&mut script, &mut sql).await?;
        sql.write_all(b"\n").await?;
        sql.write_all(default_privileges_sql(schema).as_bytes())
            .await?;
        sql.write_all(b"COMMIT;\n").await?;
        sql.shutdown().await?;
        drop(sql);
        Ok::<_, std::io::Error>(())
    };
    // psql stops reading at the first error: a broken pipe then says nothing more.
    let fed = feed.await;
    let restored = restore.wait_with_output().await.context("pg_restore")?;
    let ran = psql.wait_with_output().await.context("psql")?;
    if !ran.status.success() {
        bail!(
            "the restore failed and was rolled back ({}): {}",
            ran.status,
            String::from_utf8_lossy(&ran.stderr).trim()
        );
    }
    if !restored.status.success() {
        bail!(
            "pg_restore failed ({}): {}",
            restored.status,
            String::from_utf8_lossy(&restored.stderr).trim()
        );
    }
    fed.context("feeding psql")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_contents_lines_are_read() {
        let line = "215; 1259 16390 TABLE public organization postgres";
        assert_eq!(
            toc_object(line, "TABLE"),
            Some(("public".into(), "organization".into()))
        );
        assert_eq!(
            toc_object(
                "3574; 0 16390 TABLE DATA public organization postgres",
                "TABLE"
            ),
            None
        );
        assert_eq!(toc_object("; Archive created at 2026-01-01", "TABLE"), None);
        assert_eq!(
            toc_object("3710; 0 0 ACL public TABLE api_keys postgres", "TABLE"),
            None
        );
        let toc = "1; 0 0 ACL public TABLE vendor postgres\n2139; 826 16810 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres\n";
        assert_eq!(
            restore_list(toc),
            "1; 0 0 ACL public TABLE vendor postgres\n"
        );
    }

    #[test]
    fn copied_rows_are_the_first_column() {
        let script = "SET x = 1;\nCOPY public.__diesel_schema_migrations (version, run_on) FROM stdin;\n20260101000001\t2026-01-01 00:00:00\n20261203000020\t2026-12-03 00:00:00\n\\.\n";
        assert_eq!(
            copied_rows(script),
            vec!["20260101000001", "20261203000020"]
        );
        assert_eq!(normalize_version("2026-12-03-000020"), "20261203000020");
    }

    #[test]
    fn a_password_goes_to_the_environment() {
        let t = Target::new("postgres://qbr:p%40ss@db.example:5432/qbr");
        assert_eq!(t.url, "postgres://qbr@db.example:5432/qbr");
        assert_eq!(t.password.as_deref(), Some("p@ss"));
        let socket = "postgres://postgres@/qbr?host=/tmp/x/run&port=5999";
        let t = Target::new(socket);
        assert_eq!((t.url.as_str(), t.password), (socket, None));
    }
}
