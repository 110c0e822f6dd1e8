//! Promotion and what makes the destination a plain primary afterwards: `pg_promote()` (12+,
//! falling back to `pg_ctl promote` when the account may not call it) or `pg_ctl promote -w`
//! (10, 11); wait until it leaves recovery; read the new timeline; prove that a fresh client
//! connection to every database can commit; remove the standby settings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::LocalServer;
use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::server::{control, ServerError};
use crate::sql::{self, SqlError};
use crate::task::standby::write_owned;
use crate::version::ServerVersion;

/// How long we wait to see the server leave recovery after asking it to promote.
pub const PROMOTE_WITHIN: Duration = Duration::from_secs(60);
/// Connect timeout of the write proofs.
const PROOF_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Settings that make a server follow a primary.
const STANDBY_SETTINGS: [&str; 2] = ["primary_conninfo", "primary_slot_name"];
/// Files that make a server start as a standby (or record that it was one).
const STANDBY_FILES: [&str; 4] = [
    "standby.signal",
    "recovery.signal",
    "recovery.conf",
    "recovery.done",
];

/// How the destination was promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PromoteMethod {
    /// `SELECT pg_promote(true, 60)` (12+).
    PgPromote,
    /// `pg_ctl promote -w`.
    PgCtl,
}

impl PromoteMethod {
    /// As the DBA would type it.
    pub fn as_str(self) -> &'static str {
        match self {
            PromoteMethod::PgPromote => "pg_promote()",
            PromoteMethod::PgCtl => "pg_ctl promote",
        }
    }
}

/// Why promotion or the checks after it failed.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("pg_promote() returned false: the destination could not be signalled to promote")]
    NotPromoted,
    #[error("the destination is still in recovery {0} s after promotion was requested")]
    StillInRecovery(u64),
    #[error("database {database} does not accept writes from a fresh connection: {reason}")]
    WritesRefused { database: String, reason: String },
    #[error("cannot remove the standby settings: {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Asks the destination to promote, without waiting (the caller polls with
/// [`wait_until_primary`], more often than `pg_promote(true)` and `pg_ctl promote -w`
/// would, which check every 100 ms). `client` is a connection to it (kept from before).
pub async fn promote(
    client: &Client,
    endpoint: &Endpoint,
    server: &LocalServer,
    version: ServerVersion,
) -> Result<PromoteMethod, PromoteError> {
    if version.has_pg_promote() {
        match client.query_one("SELECT pg_promote(false)", &[]).await {
            Ok(row) if row.get::<_, bool>(0) => return Ok(PromoteMethod::PgPromote),
            Ok(_) => return Err(PromoteError::NotPromoted),
            // Only superusers may call it unless granted; the managed server is ours anyway.
            Err(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) =>
            {
                tracing::info!("pg_promote() is not granted to the account; using pg_ctl promote");
            }
            Err(e) => return Err(SqlError::from_driver(&e, endpoint).into()),
        }
    }
    control::promote(
        &server.bin_dir,
        &server.data_dir,
        server.os_user.as_ref(),
        false,
    )
    .await?;
    Ok(PromoteMethod::PgCtl)
}

/// Whether the server is in recovery.
pub async fn in_recovery(client: &Client, endpoint: &Endpoint) -> Result<bool, SqlError> {
    client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .map(|r| r.get(0))
        .map_err(|e| SqlError::from_driver(&e, endpoint))
}

/// Waits until the server has left recovery.
pub async fn wait_until_primary(client: &Client, endpoint: &Endpoint) -> Result<(), PromoteError> {
    let started = Instant::now();
    while in_recovery(client, endpoint).await? {
        if started.elapsed() > PROMOTE_WITHIN {
            return Err(PromoteError::StillInRecovery(PROMOTE_WITHIN.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// The timeline the promoted server writes on: the first 8 hex digits of the name of the
/// WAL file it writes (`pg_control_checkpoint()` lags until the next checkpoint).
pub async fn timeline(client: &Client, endpoint: &Endpoint) -> Result<u32, SqlError> {
    let name: String = client
        .query_one("SELECT pg_walfile_name(pg_current_wal_lsn())", &[])
        .await
        .map_err(|e| SqlError::from_driver(&e, endpoint))?
        .get(0);
    name.get(..8)
        .and_then(|t| u32::from_str_radix(t, 16).ok())
        .ok_or_else(|| SqlError::Other {
            address: endpoint.address(),
            reason: format!("unexpected WAL file name {name:?}"),
        })
}

/// One database's write proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct WriteProof {
    /// The database.
    pub database: String,
    /// It committed a transaction with a transaction id from a fresh connection; `false`
    /// when the account may not connect to it (not checked).
    pub committed: bool,
}

/// Proves that a fresh client connection to every database that accepts connections can
/// commit: not in recovery, not read-only by default, a transaction id assigned and its
/// commit acknowledged. Databases the account may not connect to are listed, unchecked.
pub async fn prove_writes(
    client: &Client,
    endpoint: &Endpoint,
    password: Option<&Password>,
) -> Result<Vec<WriteProof>, PromoteError> {
    let rows = client
        .query(
            "SELECT datname::text, has_database_privilege(datname, 'CONNECT') \
             FROM pg_database WHERE datallowconn ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| SqlError::from_driver(&e, endpoint))?;
    let databases: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let proofs = databases.iter().map(|(db, allowed)| async move {
        if !*allowed {
            return Ok(WriteProof {
                database: db.clone(),
                committed: false,
            });
        }
        prove_database(endpoint, password, db)
            .await
            .map(|()| WriteProof {
                database: db.clone(),
                committed: true,
            })
    });
    futures::future::join_all(proofs)
        .await
        .into_iter()
        .collect()
}

/// Proves that a fresh connection to `database` can commit.
pub async fn prove_database(
    endpoint: &Endpoint,
    password: Option<&Password>,
    database: &str,
) -> Result<(), PromoteError> {
    let mut e = endpoint.clone();
    e.dbname = database.to_string();
    let refused = |reason: String| PromoteError::WritesRefused {
        database: database.to_string(),
        reason,
    };
    let client = sql::connect(&e, password, PROOF_CONNECT_TIMEOUT)
        .await
        .map_err(|err| refused(err.to_string()))?;
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')",
            &[],
        )
        .await
        .map_err(|err| refused(SqlError::from_driver(&err, &e).to_string()))?;
    if row.get::<_, bool>(0) {
        return Err(refused("it is still in recovery".into()));
    }
    if row.get::<_, String>(1) != "off" {
        return Err(refused("new transactions are read-only by default".into()));
    }
    client
        .batch_execute("BEGIN; SELECT txid_current(); COMMIT;")
        .await
        .map_err(|err| refused(SqlError::from_driver(&err, &e).to_string()))
}

/// Removes what made the server a standby: `primary_conninfo` / `primary_slot_name` from
/// `postgresql.auto.conf`, and `standby.signal` / `recovery.conf` / `recovery.done`.
/// Returns the files changed or removed.
pub fn remove_standby_settings(server: &LocalServer) -> Result<Vec<PathBuf>, PromoteError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PromoteError::Io { path, source }
    };
    let mut changed = Vec::new();
    let auto = server.data_dir.join("postgresql.auto.conf");
    match std::fs::read_to_string(&auto) {
        Ok(text) => {
            let kept = without_standby_settings(&text);
            if kept != text {
                write_owned(&auto, kept.as_bytes(), 0o600, server.os_user.as_ref())
                    .map_err(io(&auto))?;
                changed.push(auto);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&auto)(e)),
    }
    for name in STANDBY_FILES {
        let path = server.data_dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => changed.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Ok(changed)
}

/// The configuration text without lines setting [`STANDBY_SETTINGS`].
fn without_standby_settings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let key = line
            .split(['=', ' ', '\t'])
            .find(|s| !s.is_empty())
            .unwrap_or("");
        if !STANDBY_SETTINGS.contains(&key) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl crate::Coded for PromoteError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            PromoteError::Sql(e) => e.code(),
            PromoteError::Server(e) => e.code(),
            PromoteError::NotPromoted
            | PromoteError::StillInRecovery(_)
            | PromoteError::WritesRefused { .. } => ErrorCode::PromoteFailed,
            PromoteError::Io { .. } => ErrorCode::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_standby_settings_leave_the_auto_conf() {
        let text = "work_mem = '64MB'\n# BEGIN pgrelocate task t\nport = 5433\n\
                    primary_conninfo = 'host=''h'''\nprimary_slot_name='pgrelocate_t'\n\
                    # END pgrelocate task t\n";
        assert_eq!(
            without_standby_settings(text),
            "work_mem = '64MB'\n# BEGIN pgrelocate task t\nport = 5433\n# END pgrelocate task t\n"
        );
        assert_eq!(without_standby_settings("port = 1\n"), "port = 1\n");
    }

    #[test]
    fn removing_standby_settings_twice_changes_nothing_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("postgresql.auto.conf"),
            "primary_conninfo = 'x'\nport = 5\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("standby.signal"), "").unwrap();
        let server = LocalServer {
            data_dir: dir.path().to_path_buf(),
            bin_dir: PathBuf::new(),
            os_user: None,
        };
        assert_eq!(remove_standby_settings(&server).unwrap().len(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("postgresql.auto.conf")).unwrap(),
            "port = 5\n"
        );
        assert!(remove_standby_settings(&server).unwrap().is_empty());
    }
}
