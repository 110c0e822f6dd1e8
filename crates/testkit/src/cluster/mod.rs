//! Throwaway PostgreSQL clusters: one per test, on a random loopback port, with its own
//! socket directory under `/tmp`, stopped (immediate) and removed when dropped, panics included.
//!
//! Layout of a cluster directory (`/tmp/pgrelocate-cluster-MAJOR-XXXXXX`, owned by the server
//! user): `data/`, `socket/`, `server.log`, `tablespaces/NAME/`.

mod builder;
mod config;
pub(crate) mod port;
mod reaper;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio_postgres::types::FromSqlOwned;
use tokio_postgres::{Client, Row};

pub use builder::{Auth, ClusterBuilder, DEFAULT_PASSWORD};
pub use reaper::reap_abandoned;

use crate::conn::ConnParams;
use crate::error::{Error, Result};
use crate::fetch::describe_output;
use crate::installation::Installation;
use crate::server_user::{kill_hard, process_exists, wait_for_exit, ServerUser};
use config::ServerConf;
use pgrelocate_quote::sql::{ident as quote_ident, literal as quote_literal};

/// Set to `1` to keep cluster directories (servers are still stopped) for inspection.
pub const KEEP_ENV: &str = "PGRELOCATE_KEEP_CLUSTERS";
/// Overrides the directory holding cluster directories (default `/tmp`); it must be reachable
/// by the server user.
pub const CLUSTERS_DIR_ENV: &str = "PGRELOCATE_CLUSTERS_DIR";

/// How long pg_ctl may wait for a start or stop; generous for a loaded 2-core CI machine.
const PG_CTL_TIMEOUT_SECS: &str = "120";
/// First-start attempts when another process takes the chosen port first.
const START_ATTEMPTS: usize = 5;

/// A throwaway PostgreSQL cluster. Dropping it stops the server and removes its directory.
pub struct Cluster {
    installation: Installation,
    user: &'static ServerUser,
    root: PathBuf,
    port: AtomicU16,
    started_once: AtomicBool,
    superuser: String,
    password: Option<String>,
    conf: Mutex<Option<ServerConf>>,
    server_env: Vec<(String, String)>,
    keep: bool,
}

impl Cluster {
    /// Describes a cluster of the pinned embedded build of `major` (10–18).
    pub fn builder(major: u32) -> ClusterBuilder {
        ClusterBuilder::new(major)
    }

    async fn create(installation: Installation, spec: ClusterBuilder) -> Result<Cluster> {
        let user = ServerUser::get()?;
        let base = clusters_dir();
        fs::create_dir_all(&base).map_err(Error::io("create", &base))?;
        reaper::reap_abandoned_once(&base, user);

        let root = tempfile::Builder::new()
            .prefix(&format!("{}{}-", reaper::DIR_PREFIX, installation.major()))
            .tempdir_in(&base)
            .map_err(Error::io("create a cluster directory in", &base))?
            .keep();
        // From here on, Drop removes the directory whatever fails next.
        let cluster = Cluster {
            installation,
            user,
            root,
            port: AtomicU16::new(port::reserve()),
            started_once: AtomicBool::new(false),
            superuser: spec.superuser.clone(),
            password: spec.password.clone(),
            conf: Mutex::new(None),
            server_env: spec.server_env.clone(),
            keep: std::env::var(KEEP_ENV).is_ok_and(|v| v == "1"),
        };
        cluster.make_dir(&cluster.root, 0o755)?;
        reaper::write_owner(&cluster.root, cluster.installation.bin_dir())?;
        cluster.make_dir(&cluster.socket_dir(), 0o755)?;

        cluster.initdb(&spec).await?;
        let hba_path = cluster.data_dir().join("pg_hba.conf");
        let hba = config::hba(spec.auth, &spec.hba_lines, spec.default_hba);
        fs::write(&hba_path, hba).map_err(Error::io("write", &hba_path))?;

        let conf_path = cluster.data_dir().join("postgresql.conf");
        let base_conf = fs::read_to_string(&conf_path).map_err(Error::io("read", &conf_path))?;
        let mut settings = Vec::new();
        if let Some(encryption) = spec.auth.password_encryption() {
            settings.push(("password_encryption".to_string(), encryption.to_string()));
        }
        settings.extend(spec.settings.iter().cloned());
        *cluster.conf.lock().unwrap_or_else(|e| e.into_inner()) = Some(ServerConf {
            base: base_conf,
            settings,
        });
        cluster.write_conf()?;

        if let Some(password) = &spec.password {
            cluster.set_password_offline(password).await?;
        }
        Ok(cluster)
    }

    async fn initdb(&self, spec: &ClusterBuilder) -> Result<()> {
        let mut cmd = self.server_command(&self.installation.bin("initdb"));
        cmd.arg("-D")
            .arg(self.data_dir())
            .args(spec.initdb_options());
        let output = cmd.output().await.map_err(|e| Error::Command {
            program: "initdb".into(),
            detail: e.to_string(),
        })?;
        if !output.status.success() {
            return Err(Error::Command {
                program: "initdb".into(),
                detail: describe_output(&output),
            });
        }
        Ok(())
    }

    /// Sets the superuser's password in single-user mode, before any server listens, so the
    /// cluster never accepts a connection without the authentication the test asked for.
    async fn set_password_offline(&self, password: &str) -> Result<()> {
        let mut cmd = self.server_command(&self.installation.bin("postgres"));
        cmd.arg("--single")
            .arg("-D")
            .arg(self.data_dir())
            // A failed statement exits non-zero, and is not echoed with its password.
            .args([
                "-c",
                "exit_on_error=on",
                "-c",
                "log_min_error_statement=panic",
            ])
            .arg("postgres")
            .stdin(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| Error::Command {
            program: "postgres --single".into(),
            detail: e.to_string(),
        })?;
        let statement = format!(
            "ALTER ROLE {} PASSWORD {};\n",
            quote_ident(&self.superuser),
            quote_literal(password)
        );
        if let Some(mut stdin) = child.stdin.take() {
            let written = stdin.write_all(statement.as_bytes()).await;
            drop(stdin);
            written.map_err(|e| Error::Command {
                program: "postgres --single".into(),
                detail: e.to_string(),
            })?;
        }
        let output = child.wait_with_output().await.map_err(|e| Error::Command {
            program: "postgres --single".into(),
            detail: e.to_string(),
        })?;
        if !output.status.success() {
            return Err(Error::Command {
                program: "setting the superuser password (postgres --single)".into(),
                detail: describe_output(&output),
            });
        }
        Ok(())
    }

    // --- Server control -------------------------------------------------------------------

    /// Starts the server and waits until it accepts connections. If the very first start
    /// finds its port taken by another process, it retries on a fresh port.
    pub async fn start(&self) -> Result<()> {
        for attempt in 1..=START_ATTEMPTS {
            let log_start = fs::metadata(self.log_path()).map_or(0, |m| m.len());
            let output = self
                .pg_ctl(
                    &["start", "-w", "-t", PG_CTL_TIMEOUT_SECS, "-l"],
                    Some(&self.log_path()),
                )
                .await?;
            if output.status.success() {
                self.started_once.store(true, Ordering::SeqCst);
                return Ok(());
            }
            let new_log = self.read_log_from(log_start);
            let first_start = !self.started_once.load(Ordering::SeqCst);
            if first_start && port::was_taken(&new_log) && attempt < START_ATTEMPTS {
                let old = self.port.swap(port::reserve(), Ordering::SeqCst);
                port::release(old);
                self.write_conf()?;
                continue;
            }
            return Err(Error::Start {
                major: self.major(),
                data_dir: self.data_dir(),
                detail: describe_output(&output),
                log_tail: tail(&new_log, 30),
            });
        }
        unreachable!("the last attempt returns")
    }

    /// Stops the server cleanly (fast mode: running sessions are rolled back).
    pub async fn stop(&self) -> Result<()> {
        self.pg_ctl_checked(&["stop", "-w", "-t", PG_CTL_TIMEOUT_SECS, "-m", "fast"])
            .await
    }

    /// Stops the server in immediate mode: like a crash, recovery runs at the next start.
    pub async fn stop_immediate(&self) -> Result<()> {
        self.pg_ctl_checked(&["stop", "-w", "-t", PG_CTL_TIMEOUT_SECS, "-m", "immediate"])
            .await
    }

    /// Stops (fast) and starts the server again on the same port.
    pub async fn restart(&self) -> Result<()> {
        self.stop().await?;
        self.start().await
    }

    /// Asks the server to re-read its configuration files (asynchronous on the server side).
    pub async fn reload(&self) -> Result<()> {
        self.pg_ctl_checked(&["reload"]).await
    }

    /// The postmaster's pid, when a server of this cluster is running.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        (process_exists(pid) && self.is_our_postgres(pid)).then_some(pid)
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.postmaster_pid().is_some()
    }

    /// Whether `pid` runs this installation's postgres: a stale postmaster.pid may name a
    /// recycled pid, which must never be signalled.
    fn is_our_postgres(&self, pid: u32) -> bool {
        let exe = fs::read_link(format!("/proc/{pid}/exe"));
        let ours = fs::canonicalize(self.installation.bin("postgres"));
        matches!((exe, ours), (Ok(exe), Ok(ours)) if exe == ours)
    }

    async fn pg_ctl(&self, args: &[&str], last: Option<&Path>) -> Result<std::process::Output> {
        let mut cmd = self.server_command(&self.installation.bin("pg_ctl"));
        cmd.args(args);
        if args.first() == Some(&"start") {
            cmd.envs(self.server_env.iter().map(|(k, v)| (k, v)));
        }
        if let Some(path) = last {
            cmd.arg(path);
        }
        cmd.arg("-D").arg(self.data_dir());
        cmd.output().await.map_err(|e| Error::Command {
            program: "pg_ctl".into(),
            detail: e.to_string(),
        })
    }

    async fn pg_ctl_checked(&self, args: &[&str]) -> Result<()> {
        let output = self.pg_ctl(args, None).await?;
        if !output.status.success() {
            return Err(Error::Command {
                program: format!("pg_ctl {}", args[0]),
                detail: describe_output(&output),
            });
        }
        Ok(())
    }

    /// A command that runs as the server user, from the cluster directory.
    fn server_command(&self, program: &Path) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.user.apply(&mut cmd);
        cmd
    }

    fn write_conf(&self) -> Result<()> {
        let conf = self.conf.lock().unwrap_or_else(|e| e.into_inner());
        let Some(conf) = conf.as_ref() else {
            return Ok(());
        };
        let path = self.data_dir().join("postgresql.conf");
        fs::write(&path, conf.render(self.port(), &self.socket_dir()))
            .map_err(Error::io("write", &path))
    }

    /// Creates `dir` with `mode`, owned by the server user.
    fn make_dir(&self, dir: &Path, mode: u32) -> Result<()> {
        if !dir.is_dir() {
            fs::create_dir(dir).map_err(Error::io("create", dir))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(Error::io("chmod", dir))?;
        self.user.chown(dir)
    }

    // --- Where things are -----------------------------------------------------------------

    /// The major version.
    pub fn major(&self) -> u32 {
        self.installation.major()
    }

    /// The binaries this cluster runs.
    pub fn installation(&self) -> &Installation {
        &self.installation
    }

    /// The directory with this cluster's `postgres`, `pg_ctl`, `initdb`.
    pub fn bin_dir(&self) -> &Path {
        self.installation.bin_dir()
    }

    /// The TCP host the server listens on.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The TCP port (final once the first start succeeded).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::SeqCst)
    }

    /// The cluster directory (holds data, socket, log, tablespaces).
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The data directory (`PGDATA`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The Unix socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("socket")
    }

    /// The server log file.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// The whole server log so far.
    pub fn log(&self) -> String {
        self.read_log_from(0)
    }

    fn read_log_from(&self, offset: u64) -> String {
        let mut text = String::new();
        if let Ok(mut file) = fs::File::open(self.log_path()) {
            if file.seek(SeekFrom::Start(offset)).is_ok() {
                let mut bytes = Vec::new();
                let _ = file.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
        }
        text
    }

    /// The OS user the server runs as.
    pub fn server_user(&self) -> &'static ServerUser {
        self.user
    }

    /// The superuser's name.
    pub fn superuser(&self) -> &str {
        &self.superuser
    }

    /// The superuser's password.
    pub fn superuser_password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Connection parameters for the superuser and database `postgres`, over TCP.
    pub fn params(&self) -> ConnParams {
        ConnParams {
            host: self.host().to_string(),
            port: self.port(),
            user: self.superuser.clone(),
            password: self.password.clone(),
            dbname: "postgres".into(),
        }
    }

    // --- SQL ------------------------------------------------------------------------------

    /// A new superuser connection to database `postgres`.
    pub async fn connect(&self) -> Result<Client> {
        self.params().connect().await
    }

    /// Runs one or more statements (simple protocol) as the superuser in `postgres`.
    pub async fn sql(&self, statements: &str) -> Result<()> {
        Ok(self.connect().await?.batch_execute(statements).await?)
    }

    /// Runs a query as the superuser in `postgres` and returns its rows.
    pub async fn query(&self, query: &str) -> Result<Vec<Row>> {
        Ok(self.connect().await?.query(query, &[]).await?)
    }

    /// Runs a query that returns exactly one row with one column, and returns that value.
    pub async fn query_scalar<T: FromSqlOwned>(&self, query: &str) -> Result<T> {
        Ok(self
            .connect()
            .await?
            .query_one(query, &[])
            .await?
            .try_get(0)?)
    }

    /// Creates a login role, with a password if given, and extra attributes such as
    /// `"REPLICATION"` or `"SUPERUSER"`.
    pub async fn create_role(
        &self,
        name: &str,
        password: Option<&str>,
        attributes: &str,
    ) -> Result<()> {
        let mut statement = format!("CREATE ROLE {} LOGIN {attributes}", quote_ident(name));
        if let Some(password) = password {
            statement.push_str(" PASSWORD ");
            statement.push_str(&quote_literal(password));
        }
        self.sql(&statement).await
    }

    /// Creates a database owned by the superuser.
    pub async fn create_database(&self, name: &str) -> Result<()> {
        self.sql(&format!("CREATE DATABASE {}", quote_ident(name)))
            .await
    }

    /// Creates an empty directory for a tablespace, owned by the server user, inside the
    /// cluster directory (so it goes away with the cluster).
    pub fn tablespace_dir(&self, name: &str) -> Result<PathBuf> {
        let parent = self.root.join("tablespaces");
        self.make_dir(&parent, 0o755)?;
        let dir = parent.join(name);
        self.make_dir(&dir, 0o700)?;
        Ok(dir)
    }

    /// Creates tablespace `name` in a fresh [`Cluster::tablespace_dir`] and returns its path.
    pub async fn create_tablespace(&self, name: &str) -> Result<PathBuf> {
        let dir = self.tablespace_dir(name)?;
        let location = quote_literal(&dir.to_string_lossy());
        self.sql(&format!(
            "CREATE TABLESPACE {} LOCATION {location}",
            quote_ident(name)
        ))
        .await?;
        Ok(dir)
    }

    /// Stops the server in immediate mode and returns once the postmaster has exited (used by
    /// Drop, so a dropped cluster never leaves a process behind).
    fn stop_now(&self) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        let mut cmd = std::process::Command::new(self.installation.bin("pg_ctl"));
        cmd.args(["stop", "-w", "-t", "60", "-m", "immediate", "-D"])
            .arg(self.data_dir())
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.user.apply_std(&mut cmd);
        let _ = cmd.status();
        // pg_ctl returns when postmaster.pid is gone; the process itself may take a moment more.
        if !wait_for_exit(pid, Duration::from_secs(10)) && self.is_our_postgres(pid) {
            kill_hard(pid);
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("major", &self.major())
            .field("flavour", &self.installation.flavour())
            .field("port", &self.port())
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- PostgreSQL {} server log ({}), last lines ---\n{}",
                self.major(),
                self.log_path().display(),
                tail(&self.log(), 40)
            );
        }
        self.stop_now();
        port::release(self.port());
        if self.keep {
            let _ = fs::write(self.root.join(reaper::KEPT_FILE), "");
            eprintln!("{KEEP_ENV}: kept {}", self.root.display());
        } else {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// Where cluster directories go: `$PGRELOCATE_CLUSTERS_DIR`, else `/tmp` (not `$TMPDIR`, which
/// may point into root's 0700 home).
pub(crate) fn clusters_dir() -> PathBuf {
    std::env::var_os(CLUSTERS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
