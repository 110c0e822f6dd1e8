//! The fence: stop every write on the source in the strongest way available, say what it
//! guarantees, and undo it exactly when the switchover rolls back.
//!
//! - `shutdown` (source managed on this host, or on another registered host this process
//!   reached — see [`super::source_host`]): CHECKPOINT, then a fast shutdown. A clean
//!   shutdown stops its WAL senders only after the shutdown checkpoint was sent and confirmed,
//!   so the destination then holds every byte the source ever wrote.
//! - `sql` (any source the account may fence): from a control connection in
//!   [`CONTROL_DATABASE`], block new logins (`ALLOW_CONNECTIONS false`) in every other
//!   database in one transaction, terminate every client backend (never a WAL sender) until
//!   none remains, make the instance read-only by default (`ALTER SYSTEM` + reload), and
//!   keep terminating newcomers to the control database until promotion.
//!
//! `default_transaction_read_only` alone is no fence: any session may `SET` it off. What
//! stops such a session is that it was terminated and cannot log in again. The control
//! database stays open on purpose: it is how the fence is undone if anything goes wrong
//! (on the source at rollback, and on the destination, where the blocked databases arrive
//! through the WAL, right after promotion).
//!
//! Every change is written to the [`FenceRecord`] (and handed to the journal) before it is
//! made, so an interrupted switchover knows what to undo.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::access::CONTROL_DATABASE;
use super::pg_control::{self, ClusterState, ControlFileError};
use super::promote::PromoteError;
use super::source_host::RemoteError;
use super::{LocalServer, Source};
use crate::endpoint::Endpoint;
use crate::quote::sql::ident;
use crate::secrets::Password;
use crate::server::{control, ServerError};
use crate::sql::{self, SqlError};
use crate::wire::Lsn;

/// How long the fence may take to see every client backend gone.
pub const TERMINATE_WITHIN: Duration = Duration::from_secs(10);
/// How many flushed commits of our own may be needed before the flushed position is at the
/// end of a record (see [`Fence::target`]).
const FLUSH_ATTEMPTS: usize = 3;
/// Connect timeout of the fence's own connections.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How writes on the source are stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FenceStrategy {
    /// CHECKPOINT and a fast shutdown of a source managed on this host.
    Shutdown,
    /// Logins blocked, read-only by default, client sessions terminated (any source).
    Sql,
}

impl FenceStrategy {
    /// `shutdown` / `sql`.
    pub fn as_str(self) -> &'static str {
        match self {
            FenceStrategy::Shutdown => "shutdown",
            FenceStrategy::Sql => "sql",
        }
    }

    /// What the strategy guarantees, in the words the dialog and the CLI show.
    pub fn guarantee(self) -> &'static str {
        match self {
            FenceStrategy::Shutdown => {
                "full: a clean shutdown sends every WAL byte up to its shutdown checkpoint to \
                 the connected destination before the source stops, and the destination is \
                 promoted only after it has replayed that checkpoint; the source takes no \
                 write afterwards"
            }
            FenceStrategy::Sql => {
                "every commit the source acknowledged is on the destination: new logins are \
                 refused in every database but template1, every client session was \
                 terminated, and the destination replayed past the source's flushed WAL \
                 position taken after that; template1 stays open for the fence's own control \
                 connection, read-only by default and watched until promotion"
            }
        }
    }
}

impl std::fmt::Display for FenceStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the fence did to the source: written before each change, so it can be undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FenceRecord {
    /// The strategy.
    pub strategy: FenceStrategy,
    /// `sql`: the database the control connection used (never blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_database: Option<String>,
    /// `sql`: databases set to `ALLOW_CONNECTIONS false` (they all allowed connections).
    #[serde(default)]
    pub blocked_databases: Vec<String>,
    /// `sql`: `ALTER SYSTEM SET default_transaction_read_only = on` was run.
    #[serde(default)]
    pub read_only: bool,
    /// `sql`: the source was already read-only by default from a configuration file, so an
    /// undo leaves the setting alone.
    #[serde(default)]
    pub read_only_before: bool,
    /// `sql`: client sessions terminated.
    #[serde(default)]
    pub terminated_sessions: u32,
    /// `shutdown`: the source was (being) stopped.
    #[serde(default)]
    pub stopped: bool,
    /// `shutdown` of a source managed on another host: that host, as registered where the
    /// task was started (no secret), so whoever undoes the fence can reach it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<Box<crate::store::HostRecord>>,
}

impl FenceRecord {
    fn new(strategy: FenceStrategy) -> FenceRecord {
        FenceRecord {
            strategy,
            control_database: None,
            blocked_databases: Vec::new(),
            read_only: false,
            read_only_before: false,
            terminated_sessions: 0,
            stopped: false,
            host: None,
        }
    }
}

/// The WAL position the destination must replay before it may be promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchupTarget {
    /// The position.
    pub lsn: Lsn,
    /// What it is.
    pub kind: TargetKind,
}

/// Where a catch-up target comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// `pg_current_wal_flush_lsn()` after the fence (and after a flushed commit of our own,
    /// so asynchronous commits acknowledged earlier are inside it): replay must reach it.
    FlushedPosition,
    /// Start of the shutdown checkpoint record of the stopped source: replay must pass it.
    ShutdownCheckpoint,
}

impl CatchupTarget {
    /// Whether a destination that replayed up to `replayed` has everything.
    pub fn reached_by(&self, replayed: Lsn) -> bool {
        match self.kind {
            TargetKind::FlushedPosition => replayed >= self.lsn,
            TargetKind::ShutdownCheckpoint => replayed > self.lsn,
        }
    }

    /// Bytes still to replay.
    pub fn remaining(&self, replayed: Lsn) -> u64 {
        if self.reached_by(replayed) {
            0
        } else {
            (self.lsn.0 + u64::from(self.kind == TargetKind::ShutdownCheckpoint))
                .saturating_sub(replayed.0)
        }
    }
}

/// Why fencing (or reading the target) failed. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum FenceError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    ControlFile(#[from] ControlFileError),
    #[error("the source is not managed on this host, so it cannot be fenced by shutting it down")]
    NotManaged,
    /// The source's host (a `shutdown` fence there) failed or was lost.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("the source did not finish its shutdown within {0} s")]
    StopTimeout(u64),
    #[error("the source did not shut down cleanly (pg_control state {0:?}); its last WAL may not have reached the destination")]
    NotCleanlyStopped(ClusterState),
    #[error(
        "{count} client session(s) were still connected {secs} s after the fence began: {detail}"
    )]
    SessionsRemain {
        count: usize,
        secs: u64,
        detail: String,
    },
}

/// A fence on one source, from its first change to its undo or its hand-over.
pub struct Fence<'a> {
    source: &'a Source,
    record: FenceRecord,
    control: Option<Client>,
    /// `shutdown` on another host: the pg_control facts read there after the stop.
    stopped_control: Option<pg_control::ControlFile>,
}

/// Which rows of `pg_stat_activity` are client sessions to end: `client backend`, and rows
/// whose type is hidden (an account without pg_read_all_stats sees other roles' sessions
/// without their type) that have a role and a database, as client sessions do, and are not
/// WAL senders (`pg_stat_replication` shows every sender's pid to everyone). Never our own.
pub const CLIENT_SESSION: &str = "a.pid <> pg_backend_pid() \
     AND (a.backend_type = 'client backend' \
          OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL AND a.datid IS NOT NULL)) \
     AND a.pid NOT IN (SELECT s.pid FROM pg_stat_replication s WHERE s.pid IS NOT NULL)";

/// The client sessions other than ours: pid, role, database, role is superuser.
fn client_sessions_query() -> String {
    format!(
        "SELECT a.pid, coalesce(a.usename::text, ''), coalesce(a.datname::text, ''), \
                coalesce(r.rolsuper, false) \
         FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid \
         WHERE {CLIENT_SESSION}"
    )
}

fn with_dbname(endpoint: &Endpoint, dbname: &str) -> Endpoint {
    let mut e = endpoint.clone();
    e.dbname = dbname.to_string();
    e
}

/// Opens a control connection: the control database, or the endpoint's own database when
/// the control database refuses it. Our session must be able to change catalogs whatever
/// the instance's default becomes.
pub async fn open_control(
    endpoint: &Endpoint,
    password: Option<&Password>,
    preferred: Option<&str>,
) -> Result<(Client, String), SqlError> {
    let mut candidates = vec![preferred.unwrap_or(CONTROL_DATABASE).to_string()];
    if preferred.is_none() && endpoint.dbname != CONTROL_DATABASE {
        candidates.push(endpoint.dbname.clone());
    }
    let mut last = None;
    for db in candidates {
        let e = with_dbname(endpoint, &db);
        match sql::connect(&e, password, CONNECT_TIMEOUT).await {
            Ok(client) => {
                client
                    .batch_execute(
                        "SET default_transaction_read_only = off; SET statement_timeout = 0; \
                         SET lock_timeout = '30s'",
                    )
                    .await
                    .map_err(|e| SqlError::from_driver(&e, endpoint))?;
                return Ok((client, db));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one candidate"))
}

impl<'a> Fence<'a> {
    /// A fence not applied yet.
    pub fn new(strategy: FenceStrategy, source: &'a Source) -> Fence<'a> {
        Fence {
            source,
            record: FenceRecord::new(strategy),
            control: None,
            stopped_control: None,
        }
    }

    /// A fence a previous process applied, as its record says (to undo it after a crash).
    pub fn resume(record: FenceRecord, source: &'a Source) -> Fence<'a> {
        Fence {
            source,
            record,
            control: None,
            stopped_control: None,
        }
    }

    /// What the fence did so far.
    pub fn record(&self) -> &FenceRecord {
        &self.record
    }

    fn err(&self) -> impl Fn(tokio_postgres::Error) -> FenceError + '_ {
        |e| FenceError::Sql(SqlError::from_driver(&e, &self.source.endpoint))
    }

    /// Gets ready while the source still takes writes (outside the window): opens the
    /// control connection (`sql`), or runs a CHECKPOINT so the shutdown checkpoint is short
    /// (`shutdown`; it needs superuser or pg_checkpoint, and is skipped without).
    pub async fn prepare(&mut self) -> Result<(), FenceError> {
        match self.record.strategy {
            FenceStrategy::Sql => {
                let (client, db) =
                    open_control(&self.source.endpoint, self.source.password.as_ref(), None)
                        .await?;
                self.control = Some(client);
                self.record.control_database = Some(db);
            }
            FenceStrategy::Shutdown => {
                if self.source.managed.is_none() && self.source.remote().is_none() {
                    return Err(FenceError::NotManaged);
                }
                let client = sql::connect(
                    &self.source.endpoint,
                    self.source.password.as_ref(),
                    CONNECT_TIMEOUT,
                )
                .await?;
                if let Err(e) = client.batch_execute("CHECKPOINT").await {
                    tracing::info!(error = %e, "CHECKPOINT before the shutdown was refused");
                }
            }
        }
        Ok(())
    }

    /// Applies the fence (after [`Fence::prepare`]). `journal` sees the record before each
    /// change. On error the fence may be partly applied: call [`Fence::undo`].
    pub async fn apply(
        &mut self,
        journal: &(dyn Fn(&FenceRecord) + Send + Sync),
    ) -> Result<(), FenceError> {
        match self.record.strategy {
            FenceStrategy::Shutdown => self.apply_shutdown(journal).await,
            FenceStrategy::Sql => self.apply_sql(journal).await,
        }
    }

    async fn apply_shutdown(
        &mut self,
        journal: &(dyn Fn(&FenceRecord) + Send + Sync),
    ) -> Result<(), FenceError> {
        let source = self.source;
        if let (None, Some(remote)) = (&source.managed, source.remote()) {
            // Journaled first: if the host's answer is lost, the source may be stopped.
            self.record.stopped = true;
            self.record.host = Some(Box::new(remote.host.clone()));
            journal(&self.record);
            self.stopped_control = Some(remote.stop().await?);
            return Ok(());
        }
        let managed = self.source.managed.as_ref().ok_or(FenceError::NotManaged)?;
        self.record.stopped = true;
        journal(&self.record);
        shut_down(managed).await
    }

    async fn apply_sql(
        &mut self,
        journal: &(dyn Fn(&FenceRecord) + Send + Sync),
    ) -> Result<(), FenceError> {
        if self.control.is_none() {
            self.prepare().await?;
        }
        let client = self.control.as_ref().expect("prepared");
        let err = |e: tokio_postgres::Error| {
            FenceError::Sql(SqlError::from_driver(&e, &self.source.endpoint))
        };
        let databases: Vec<String> = client
            .query(
                "SELECT datname::text FROM pg_database \
                 WHERE datallowconn AND datname <> current_database() ORDER BY 1",
                &[],
            )
            .await
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        self.record.blocked_databases = databases.clone();
        journal(&self.record);
        // One transaction: every database is blocked, or none is.
        if !databases.is_empty() {
            let mut batch = String::from("BEGIN;");
            for d in &databases {
                batch.push_str(&format!(
                    " ALTER DATABASE {} ALLOW_CONNECTIONS false;",
                    ident(d)
                ));
            }
            batch.push_str(" COMMIT;");
            client.batch_execute(&batch).await.map_err(err)?;
        }

        let terminated = self.terminate_clients(TERMINATE_WITHIN).await?;
        self.record.terminated_sessions = terminated;
        journal(&self.record);

        let row = client
            .query_one(
                "SELECT setting, source FROM pg_settings \
                 WHERE name = 'default_transaction_read_only'",
                &[],
            )
            .await
            .map_err(err)?;
        let (setting, source): (String, String) = (row.get(0), row.get(1));
        self.record.read_only_before = setting == "on" && source == "configuration file";
        self.record.read_only = true;
        journal(&self.record);
        // ALTER SYSTEM refuses to run inside a transaction block: send it alone.
        client
            .batch_execute("ALTER SYSTEM SET default_transaction_read_only = on")
            .await
            .map_err(err)?;
        client
            .query_one("SELECT pg_reload_conf()", &[])
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Terminates every client backend but ours until none is left (or `within` passes).
    /// Returns how many were terminated.
    async fn terminate_clients(&self, within: Duration) -> Result<u32, FenceError> {
        let client = self
            .control
            .as_ref()
            .expect("the sql fence has its control connection");
        let err = self.err();
        let started = Instant::now();
        let mut terminated = BTreeSet::new();
        let mut refused: BTreeMap<i32, String> = BTreeMap::new();
        let query = client_sessions_query();
        loop {
            let rows = client.query(&query, &[]).await.map_err(&err)?;
            if rows.is_empty() {
                return Ok(terminated.len() as u32);
            }
            if started.elapsed() > within {
                let detail = rows
                    .iter()
                    .map(|r| {
                        let pid: i32 = r.get(0);
                        let who = format!(
                            "pid {pid} ({} in {}{})",
                            r.get::<_, String>(1),
                            r.get::<_, String>(2),
                            if r.get::<_, bool>(3) {
                                ", superuser"
                            } else {
                                ""
                            }
                        );
                        match refused.get(&pid) {
                            Some(why) => format!("{who}: {why}"),
                            None => who,
                        }
                    })
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(FenceError::SessionsRemain {
                    count: rows.len(),
                    secs: within.as_secs(),
                    detail,
                });
            }
            for r in &rows {
                let pid: i32 = r.get(0);
                match client
                    .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                    .await
                {
                    Ok(row) if row.get::<_, bool>(0) => {
                        terminated.insert(pid);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        // A superuser's session, for an account that is not one.
                        let message = e
                            .as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string());
                        refused.insert(pid, message);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The position the destination must replay. `sql`: a flushed commit of our own first,
    /// so every earlier commit (asynchronous ones too) is inside the flushed position. The
    /// transaction must write a WAL record of its own (a transactional logical message: any
    /// role may, at any `wal_level`): one that only takes a transaction id commits
    /// asynchronously whatever `synchronous_commit` says. The flushed position can still
    /// end inside a record another process is inserting (a flush goes as far as every
    /// insertion has got; the WAL writer flushes whole pages); replay reaches it only once
    /// the rest is flushed, up to `wal_writer_delay` later. So while WAL was inserted beyond
    /// it, or it sits exactly at a page boundary, another commit of ours moves it on and it
    /// is read again (at most [`FLUSH_ATTEMPTS`] times).
    /// `shutdown`: the shutdown checkpoint from the stopped source's control file.
    pub async fn target(&mut self) -> Result<CatchupTarget, FenceError> {
        match self.record.strategy {
            FenceStrategy::Shutdown => {
                let control = match (&self.source.managed, self.stopped_control) {
                    (Some(managed), _) => pg_control::read(&managed.data_dir)?,
                    (None, Some(read_there)) => read_there,
                    (None, None) => return Err(FenceError::NotManaged),
                };
                if control.state != ClusterState::ShutDown {
                    return Err(FenceError::NotCleanlyStopped(control.state));
                }
                Ok(CatchupTarget {
                    lsn: control.checkpoint,
                    kind: TargetKind::ShutdownCheckpoint,
                })
            }
            FenceStrategy::Sql => {
                let client = self.control.as_ref().expect("applied");
                let err = self.err();
                let parse = |text: String| -> Result<Lsn, FenceError> {
                    text.parse().map_err(|_| {
                        FenceError::Sql(SqlError::Other {
                            address: self.source.endpoint.address(),
                            reason: format!("unexpected WAL position {text:?}"),
                        })
                    })
                };
                let mut flushed = Lsn(0);
                for _ in 0..FLUSH_ATTEMPTS {
                    client
                        .batch_execute(
                            "BEGIN READ WRITE; SET LOCAL synchronous_commit = local; \
                             SELECT pg_logical_emit_message(true, 'pgrelocate', 'fence'); \
                             COMMIT;",
                        )
                        .await
                        .map_err(&err)?;
                    let row = client
                        .query_one(
                            "SELECT f::text, i::text, (pg_walfile_name_offset(i)).file_offset, \
                                    current_setting('wal_block_size')::int \
                             FROM (SELECT pg_current_wal_flush_lsn() f, \
                                          pg_current_wal_insert_lsn() i) p",
                            &[],
                        )
                        .await
                        .map_err(&err)?;
                    flushed = parse(row.get(0))?;
                    let inserted = parse(row.get(1))?;
                    let offset: i32 = row.get(2);
                    let block: i32 = row.get(3);
                    // Whole-page flushes stop at page boundaries, often inside a record.
                    let at_boundary = block > 0 && flushed.0.is_multiple_of(block as u64);
                    if record_end(inserted, offset, block) <= flushed && !at_boundary {
                        break;
                    }
                }
                Ok(CatchupTarget {
                    lsn: flushed,
                    kind: TargetKind::FlushedPosition,
                })
            }
        }
    }

    /// `sql`: terminates client sessions that appeared since (only the control database
    /// accepts logins). Returns how many; the caller then takes a new target, so whatever
    /// they committed is waited for too. `shutdown`: nothing can appear.
    pub async fn guard(&mut self) -> Result<u32, FenceError> {
        if self.record.strategy != FenceStrategy::Sql || self.control.is_none() {
            return Ok(0);
        }
        let found = self.terminate_clients(TERMINATE_WITHIN).await?;
        self.record.terminated_sessions += found;
        Ok(found)
    }

    /// Undoes the fence: logins allowed and read-only off again, or the managed source
    /// started again. Returns what could not be undone.
    pub async fn undo(&mut self) -> Result<(), Vec<UndoError>> {
        let problems = match self.record.strategy {
            FenceStrategy::Shutdown => self.undo_shutdown().await,
            FenceStrategy::Sql => self.undo_sql().await,
        };
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    async fn undo_shutdown(&mut self) -> Vec<UndoError> {
        if !self.record.stopped {
            return Vec::new();
        }
        let source = self.source;
        if let (None, Some(remote)) = (&source.managed, source.remote()) {
            return match remote.start().await {
                Ok(()) => {
                    self.record.stopped = false;
                    Vec::new()
                }
                Err(e) => vec![UndoError::StartOnHost {
                    host: remote.host.name.clone(),
                    source: e,
                }],
            };
        }
        let Some(managed) = self.source.managed.as_ref() else {
            return vec![match &self.record.host {
                Some(host) => UndoError::HostNotReached {
                    host: host.name.clone(),
                },
                None => UndoError::NotManaged,
            }];
        };
        match control::start(
            &managed.bin_dir,
            &managed.data_dir,
            managed.os_user.as_ref(),
        )
        .await
        {
            Ok(()) => {
                self.record.stopped = false;
                Vec::new()
            }
            Err(e) => vec![UndoError::Start(e)],
        }
    }

    async fn undo_sql(&mut self) -> Vec<UndoError> {
        let nothing_done = self.record.blocked_databases.is_empty() && !self.record.read_only;
        if nothing_done {
            return Vec::new();
        }
        if self.control.is_none() {
            match open_control(
                &self.source.endpoint,
                self.source.password.as_ref(),
                self.record.control_database.as_deref(),
            )
            .await
            {
                Ok((client, _)) => self.control = Some(client),
                Err(e) => {
                    return vec![UndoError::Reconnect {
                        source: e,
                        record: self.record.clone(),
                    }]
                }
            }
        }
        let client = self.control.as_ref().expect("connected");
        let mut problems = Vec::new();
        if self.record.read_only && !self.record.read_only_before {
            let reset = async {
                client
                    .batch_execute("ALTER SYSTEM RESET default_transaction_read_only")
                    .await?;
                client.query_one("SELECT pg_reload_conf()", &[]).await
            };
            match reset.await {
                Ok(_) => self.record.read_only = false,
                Err(e) => problems.push(UndoError::ReadOnly(SqlError::from_driver(
                    &e,
                    &self.source.endpoint,
                ))),
            }
        }
        if !self.record.blocked_databases.is_empty() {
            match allow_connections(client, &self.record.blocked_databases).await {
                Ok(()) => self.record.blocked_databases.clear(),
                Err(e) => problems.push(UndoError::Logins(SqlError::from_driver(
                    &e,
                    &self.source.endpoint,
                ))),
            }
        }
        if !problems.is_empty() {
            problems.push(UndoError::ByHand(self.record.clone()));
        }
        problems
    }

    /// Ends the fence's work with the fence in force (after promotion): the source stays
    /// fenced. Returns the record of what is in force.
    pub fn hold(mut self) -> FenceRecord {
        self.control = None;
        self.record
    }
}

/// A fast shutdown of a server managed on this host, waited for by its pid file (the
/// postmaster removes it last, after the shutdown checkpoint was sent): 5 ms polls where
/// pg_ctl's own wait polls every 100 ms.
pub async fn shut_down(server: &LocalServer) -> Result<(), FenceError> {
    control::request_fast_stop(&server.bin_dir, &server.data_dir, server.os_user.as_ref()).await?;
    let pid_file = server.data_dir.join("postmaster.pid");
    let started = Instant::now();
    while pid_file.exists() {
        if started.elapsed() > control::WAIT {
            return Err(FenceError::StopTimeout(control::WAIT.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// The insert position `inserted` as a record end: at the start of a page the server
/// reports it past the page header (`file_offset` is the position within its segment; the
/// first page of a segment has the long header), where no record ends.
fn record_end(inserted: Lsn, file_offset: i32, block: i32) -> Lsn {
    const SHORT_HEADER: i32 = 24;
    const LONG_HEADER: i32 = 40;
    if file_offset == LONG_HEADER {
        Lsn(inserted.0 - LONG_HEADER as u64)
    } else if block > 0 && file_offset % block == SHORT_HEADER {
        Lsn(inserted.0 - SHORT_HEADER as u64)
    } else {
        inserted
    }
}

/// `ALTER DATABASE … ALLOW_CONNECTIONS true` for each, in one transaction.
async fn allow_connections(
    client: &Client,
    databases: &[String],
) -> Result<(), tokio_postgres::Error> {
    let mut batch = String::from("BEGIN;");
    for d in databases {
        batch.push_str(&format!(
            " ALTER DATABASE {} ALLOW_CONNECTIONS true;",
            ident(d)
        ));
    }
    batch.push_str(" COMMIT;");
    client.batch_execute(&batch).await
}

/// What a rollback could not undo, each saying what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    /// A stopped source that is not managed here cannot be started by pgrelocate.
    #[error("the source is not managed here and cannot be started")]
    NotManaged,
    /// The stopped source did not start again.
    #[error("the source did not start again: {0}")]
    Start(#[source] ServerError),
    /// The source on another host did not start again (its agent lost, or the start failed
    /// there): it is stopped.
    #[error(
        "the source on host {host} is stopped and did not start again ({source}); start it \
         there (pgrelocate instance start) before it can take writes"
    )]
    StartOnHost {
        /// The source's host.
        host: String,
        /// Why.
        source: RemoteError,
    },
    /// A source stopped on another host, which this process did not reach.
    #[error(
        "the source on host {host} is stopped and that host was not reached from here; start \
         it there (pgrelocate instance start) before it can take writes"
    )]
    HostNotReached {
        /// The source's host.
        host: String,
    },
    /// No control connection to the source: the whole fence is still in force.
    #[error(
        "cannot reconnect to the source to undo the fence: {source}; {}",
        manual_undo(record)
    )]
    Reconnect {
        /// Why.
        source: SqlError,
        /// What is in force.
        record: FenceRecord,
    },
    /// `ALTER SYSTEM RESET default_transaction_read_only` failed.
    #[error("default_transaction_read_only could not be reset: {0}")]
    ReadOnly(#[source] SqlError),
    /// `ALTER DATABASE … ALLOW_CONNECTIONS true` failed.
    #[error("logins could not be allowed again: {0}")]
    Logins(#[source] SqlError),
    /// What is left in force, as the statements a DBA runs by hand.
    #[error("{}", manual_undo(.0))]
    ByHand(FenceRecord),
    /// The fence is undone, but a fresh connection to the source does not commit.
    #[error("the source does not accept writes again: {0}")]
    SourceWrites(#[source] PromoteError),
}

/// The statements a DBA runs to undo what the record says is in force.
pub fn manual_undo(record: &FenceRecord) -> String {
    let mut statements = Vec::new();
    if record.read_only && !record.read_only_before {
        statements.push("ALTER SYSTEM RESET default_transaction_read_only;".to_string());
        statements.push("SELECT pg_reload_conf();".to_string());
    }
    for d in &record.blocked_databases {
        statements.push(format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true;",
            ident(d)
        ));
    }
    if statements.is_empty() {
        return "nothing is left to undo".into();
    }
    format!(
        "to undo it by hand, connect to {} as a superuser and run: {}",
        record
            .control_database
            .as_deref()
            .unwrap_or(CONTROL_DATABASE),
        statements.join(" ")
    )
}

/// A control connection to the destination, opened while it is still a standby: it
/// survives promotion, so the replicated fence can be undone at once, whichever databases
/// the fence blocked.
pub async fn destination_control(
    destination: &Endpoint,
    password: Option<&Password>,
) -> Result<Client, SqlError> {
    open_control(destination, password, None)
        .await
        .map(|(client, _)| client)
}

/// After promotion: the blocked databases arrived on the destination through the WAL;
/// allow logins there again (through `control`, or a new control connection).
pub async fn undo_replicated(
    control: Option<&Client>,
    destination: &Endpoint,
    password: Option<&Password>,
    record: &FenceRecord,
) -> Result<Vec<String>, SqlError> {
    if record.blocked_databases.is_empty() {
        return Ok(Vec::new());
    }
    let opened;
    let client = match control {
        Some(c) => c,
        None => {
            opened = open_control(
                destination,
                password,
                Some(
                    record
                        .control_database
                        .as_deref()
                        .unwrap_or(CONTROL_DATABASE),
                ),
            )
            .await?
            .0;
            &opened
        }
    };
    allow_connections(client, &record.blocked_databases)
        .await
        .map_err(|e| SqlError::from_driver(&e, destination))?;
    Ok(record.blocked_databases.clone())
}

impl crate::Coded for FenceError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            FenceError::Sql(e) => e.code(),
            FenceError::Server(e) => e.code(),
            FenceError::NotManaged => ErrorCode::NotManaged,
            FenceError::Remote(e) => e.code(),
            FenceError::ControlFile(_)
            | FenceError::StopTimeout(_)
            | FenceError::NotCleanlyStopped(_)
            | FenceError::SessionsRemain { .. } => ErrorCode::FenceFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shutdown_checkpoint_must_be_passed_a_flushed_position_reached() {
        let flushed = CatchupTarget {
            lsn: Lsn(100),
            kind: TargetKind::FlushedPosition,
        };
        assert!(flushed.reached_by(Lsn(100)));
        assert_eq!(flushed.remaining(Lsn(40)), 60);
        let checkpoint = CatchupTarget {
            lsn: Lsn(100),
            kind: TargetKind::ShutdownCheckpoint,
        };
        assert!(!checkpoint.reached_by(Lsn(100)));
        assert!(checkpoint.reached_by(Lsn(214)));
        assert_eq!(checkpoint.remaining(Lsn(100)), 1);
    }

    #[test]
    fn an_insert_position_past_a_page_header_is_the_page_start() {
        assert_eq!(record_end(Lsn(0x2000 + 24), 0x2000 + 24, 8192), Lsn(0x2000));
        assert_eq!(record_end(Lsn(0x100_0028), 40, 8192), Lsn(0x100_0000));
        assert_eq!(record_end(Lsn(0x2000 + 80), 0x2000 + 80, 8192), Lsn(0x2050));
    }

    #[test]
    fn manual_undo_names_every_statement_with_quoted_names() {
        let mut r = FenceRecord::new(FenceStrategy::Sql);
        assert_eq!(manual_undo(&r), "nothing is left to undo");
        r.control_database = Some("template1".into());
        r.blocked_databases = vec!["app".into(), "Données".into()];
        r.read_only = true;
        let text = manual_undo(&r);
        assert!(text.contains("connect to template1"), "{text}");
        assert!(text.contains("ALTER SYSTEM RESET default_transaction_read_only;"));
        assert!(text.contains("ALTER DATABASE app ALLOW_CONNECTIONS true;"));
        assert!(text.contains("ALTER DATABASE \"Données\" ALLOW_CONNECTIONS true;"));
        r.read_only_before = true;
        assert!(!manual_undo(&r).contains("RESET"));
    }

    #[test]
    fn the_record_round_trips_as_json() {
        let mut r = FenceRecord::new(FenceStrategy::Shutdown);
        r.stopped = true;
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"strategy\":\"shutdown\""), "{json}");
        assert_eq!(serde_json::from_str::<FenceRecord>(&json).unwrap(), r);
    }
}
