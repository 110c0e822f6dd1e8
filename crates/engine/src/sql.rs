//! Ordinary SQL connections (tokio-postgres over our rustls settings), with a connect
//! timeout and driver errors mapped to what a DBA needs to hear. Also "test connection".
//!
//! The password is handed to the driver only; no error here is built from it, and the
//! driver's own messages (server errors, I/O, TLS) do not contain it.

mod auth_guard;

use std::error::Error as StdError;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::Client;

use auth_guard::{AuthGuard, GuardedTls, Policy, Start};

use crate::dial::{self, DialError, Socket};
use crate::endpoint::{Endpoint, SslMode};
use crate::require_auth::{AuthMethod, AuthRefused};
use crate::secrets::Password;
use crate::tls::{self, TlsError};
use crate::version::ServerVersion;

/// Connect timeout when the caller has no better idea.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a SQL connection or query failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(transparent)]
    Connect(#[from] DialError),
    #[error(transparent)]
    AuthRefused(#[from] AuthRefused),
    #[error("cannot reach {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("timed out after {secs} s connecting to {address}")]
    Timeout { address: String, secs: u64 },
    #[error("authentication failed for user {user:?} at {address}: {message}")]
    AuthFailed {
        user: String,
        address: String,
        message: String,
    },
    #[error(
        "{address} asks for a password and none was found for user {user:?} \
         (not in the keyring, ~/.pgpass or PGPASSFILE)"
    )]
    PasswordMissing { user: String, address: String },
    #[error("{address} does not accept TLS connections, and sslmode={sslmode} requires TLS")]
    TlsRefused { address: String, sslmode: SslMode },
    #[error("the server certificate of {address} was rejected (sslmode={sslmode}): {reason}")]
    CertificateRejected {
        address: String,
        sslmode: SslMode,
        reason: String,
    },
    #[error("TLS with {address} failed: {reason}")]
    Tls { address: String, reason: String },
    #[error(transparent)]
    TlsSettings(#[from] TlsError),
    #[error("database {dbname:?} does not exist on {address}")]
    NoDatabase { dbname: String, address: String },
    #[error("server error {code} at {address}: {message}")]
    Server {
        code: String,
        address: String,
        message: String,
    },
    #[error("connection to {address} failed: {reason}")]
    Other { address: String, reason: String },
}

impl SqlError {
    /// The SQLSTATE, when the server sent one (the machine code is [`crate::Coded::code`]).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            SqlError::Server { code, .. } => Some(code),
            SqlError::AuthFailed { .. } => Some("28P01"),
            SqlError::NoDatabase { .. } => Some("3D000"),
            _ => None,
        }
    }

    /// Maps a driver error for `endpoint`.
    pub fn from_driver(e: &tokio_postgres::Error, endpoint: &Endpoint) -> SqlError {
        let address = endpoint.address();
        if let Some(db) = e.as_db_error() {
            let message = db.message().to_string();
            return match *db.code() {
                SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                    SqlError::AuthFailed {
                        user: endpoint.user.clone(),
                        address,
                        message,
                    }
                }
                SqlState::INVALID_CATALOG_NAME => SqlError::NoDatabase {
                    dbname: endpoint.dbname.clone(),
                    address,
                },
                ref code => SqlError::Server {
                    code: code.code().to_string(),
                    address,
                    message,
                },
            };
        }
        if let Some(refused) = find_source::<AuthRefused>(e) {
            return SqlError::AuthRefused(refused.clone());
        }
        if let Some(rustls_error) = find_source::<rustls::Error>(e) {
            return match rustls_error {
                rustls::Error::InvalidCertificate(cert) => SqlError::CertificateRejected {
                    address,
                    sslmode: endpoint.sslmode,
                    reason: certificate_reason(cert, endpoint),
                },
                other => SqlError::Tls {
                    address,
                    reason: other.to_string(),
                },
            };
        }
        let text = full_message(e);
        if text.contains("password missing") {
            return SqlError::PasswordMissing {
                user: endpoint.user.clone(),
                address,
            };
        }
        if text.contains("does not support TLS") {
            return SqlError::TlsRefused {
                address,
                sslmode: endpoint.sslmode,
            };
        }
        if let Some(io) = find_source::<std::io::Error>(e) {
            use std::io::ErrorKind::*;
            let reason = match io.kind() {
                ConnectionRefused => {
                    "connection refused: is the server running and accepting TCP connections \
                     on that port?"
                        .to_string()
                }
                TimedOut => "timed out".to_string(),
                NotFound if endpoint.is_unix_socket() => {
                    format!("no server socket in {}", endpoint.host)
                }
                _ => io.to_string(),
            };
            return SqlError::Unreachable { address, reason };
        }
        SqlError::Other {
            address,
            reason: text,
        }
    }
}

fn certificate_reason(e: &rustls::CertificateError, endpoint: &Endpoint) -> String {
    use rustls::CertificateError::*;
    match e {
        UnknownIssuer | BadSignature => match &endpoint.ssl_root_cert {
            Some(root) => format!(
                "it is not signed by the root certificate {} (unknown issuer)",
                root.display()
            ),
            None => "it is not signed by a trusted root (unknown issuer); give the server's \
                     CA with the root certificate option"
                .to_string(),
        },
        NotValidForName | NotValidForNameContext { .. } => format!(
            "it does not name host {:?} (verify-full checks the name; verify-ca does not)",
            endpoint.host
        ),
        Expired | ExpiredContext { .. } => "it has expired".to_string(),
        NotValidYet | NotValidYetContext { .. } => "it is not valid yet".to_string(),
        Revoked => "it has been revoked".to_string(),
        other => format!("{other:?}"),
    }
}

fn find_source<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        // I/O errors hide their payload from `source()` in some versions: look inside too.
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = inner.downcast_ref::<T>() {
                    return Some(found);
                }
            }
        }
        current = err.source();
    }
    None
}

fn full_message(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Opens an ordinary SQL connection. The connection task runs on the current runtime and
/// ends when the returned client is dropped.
pub async fn connect(
    endpoint: &Endpoint,
    password: Option<&Password>,
    timeout: Duration,
) -> Result<Client, SqlError> {
    connect_session(endpoint, password, timeout)
        .await
        .map(|(client, _)| client)
}

/// How a SQL connection was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// What the server asked for (`none`: it let the login in without asking).
    pub auth_method: AuthMethod,
    /// Whether the connection is encrypted.
    pub tls: bool,
}

/// As [`connect`], and says how the server authenticated the connection.
pub async fn connect_session(
    endpoint: &Endpoint,
    password: Option<&Password>,
    timeout: Duration,
) -> Result<(Client, Session), SqlError> {
    let attempt = connect_once(endpoint, password, timeout, endpoint.sslmode).await;
    match attempt {
        // libpq's prefer falls back to a plain connection when TLS fails.
        Err(SqlError::Tls { .. } | SqlError::CertificateRejected { .. })
            if endpoint.sslmode == SslMode::Prefer =>
        {
            connect_once(endpoint, password, timeout, SslMode::Disable).await
        }
        other => other,
    }
}

async fn connect_once(
    endpoint: &Endpoint,
    password: Option<&Password>,
    timeout: Duration,
    mode: SslMode,
) -> Result<(Client, Session), SqlError> {
    let address = endpoint.address();
    let timed_out = || SqlError::Timeout {
        address: address.clone(),
        secs: timeout.as_secs(),
    };
    tokio::time::timeout(timeout, connect_dialled(endpoint, password, mode))
        .await
        .map_err(|_| timed_out())?
}

/// Dials with [`dial`] (so refusals, unknown hosts and timeouts read the same as on the
/// replication path), then hands the socket to tokio-postgres behind the auth guard.
async fn connect_dialled(
    endpoint: &Endpoint,
    password: Option<&Password>,
    mode: SslMode,
) -> Result<(Client, Session), SqlError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&endpoint.host)
        .port(endpoint.port)
        .user(&endpoint.user)
        .dbname(&endpoint.dbname)
        .application_name("pgrelocate");
    if let Some(p) = password {
        config.password(p.expose());
    }
    let policy = Policy {
        require_auth: endpoint.require_auth.clone(),
        address: endpoint.address(),
        observed: Arc::new(Mutex::new(None)),
        tls: Arc::default(),
    };
    let observed = policy.observed.clone();
    let map = |e: tokio_postgres::Error| {
        if e.as_db_error().is_none() && find_source::<AuthRefused>(&e).is_none() && said_nothing(&e)
        {
            return SqlError::Connect(DialError::ClosedAtStartup {
                address: endpoint.address(),
            });
        }
        SqlError::from_driver(&e, endpoint)
    };
    let tls_config = match dial::dial(endpoint).await? {
        Socket::Unix(socket) => {
            // libpq ignores sslmode for Unix sockets: there is nothing to encrypt against.
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let socket = AuthGuard::new(socket, Start::Messages, policy, true);
            let (client, connection) = config
                .connect_raw(socket, tokio_postgres::NoTls)
                .await
                .map_err(map)?;
            tokio::spawn(drive(connection));
            return Ok((client, session(&observed, false)));
        }
        Socket::Tcp(socket) => match tls::client_config(mode, endpoint.ssl_root_cert.as_deref())? {
            None => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let socket = AuthGuard::new(socket, Start::Messages, policy, false);
                let (client, connection) = config
                    .connect_raw(socket, tokio_postgres::NoTls)
                    .await
                    .map_err(map)?;
                tokio::spawn(drive(connection));
                return Ok((client, session(&observed, false)));
            }
            Some(tls_config) => (socket, tls_config),
        },
    };
    let (socket, tls_config) = tls_config;
    config.ssl_mode(if mode.requires_tls() {
        tokio_postgres::config::SslMode::Require
    } else {
        tokio_postgres::config::SslMode::Prefer
    });
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let mut maker = tokio_postgres_rustls::MakeRustlsConnect::new((*tls_config).clone());
    let connector =
        MakeTlsConnect::<AuthGuard<tokio::net::TcpStream>>::make_tls_connect(&mut maker, host)
            .map_err(|e| SqlError::Tls {
                address: endpoint.address(),
                reason: e.to_string(),
            })?;
    let policy_tls = policy.tls.clone();
    let socket = AuthGuard::new(socket, Start::AfterTlsAnswer, policy.clone(), false);
    let guarded = GuardedTls {
        inner: connector,
        policy,
    };
    let encrypted = policy_tls.clone();
    let (client, connection) = config.connect_raw(socket, guarded).await.map_err(map)?;
    tokio::spawn(drive(connection));
    Ok((client, session(&observed, encrypted.load(Ordering::SeqCst))))
}

/// Whether the server closed the connection during startup without a message (the
/// driver says "connection closed", "early eof" or "bytes remaining on stream").
fn said_nothing(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(io) = find_source::<std::io::Error>(e) {
        use std::io::ErrorKind::*;
        if matches!(io.kind(), UnexpectedEof | ConnectionReset | BrokenPipe) {
            return true;
        }
    }
    full_message(e).contains("bytes remaining on stream")
}

fn session(observed: &Mutex<Option<AuthMethod>>, tls: bool) -> Session {
    Session {
        auth_method: observed
            .lock()
            .expect("auth guard lock")
            .unwrap_or(AuthMethod::None),
        tls,
    }
}

async fn drive<C>(connection: C)
where
    C: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "SQL connection ended");
    }
}

/// What "test connection" found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnectionTest {
    /// Server version.
    pub version: ServerVersion,
    /// `server_version` as the server spells it.
    pub version_text: String,
    /// The cluster's system identifier (text: it does not fit a JSON number); `None` when
    /// the role may not read `pg_control_system()`.
    pub system_identifier: Option<String>,
    /// `primary` or `standby` (in recovery).
    pub role: ServerRole,
    /// `default_transaction_read_only` is on: sessions start read-only (the SQL fence sets
    /// it; a standby refuses writes whatever it says).
    pub read_only: bool,
    /// TLS protocol in use (`TLSv1.3`), or `None` for a plain connection.
    pub tls: Option<String>,
    /// Best of three `SELECT 1` round trips, in milliseconds.
    pub round_trip_ms: f64,
    /// How the server authenticated the connection (`none`: it asked for nothing).
    pub auth_method: AuthMethod,
}

/// Whether a server accepts writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ServerRole {
    /// Not in recovery.
    Primary,
    /// In recovery (a standby).
    Standby,
}

impl ServerRole {
    /// `primary` / `standby`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Primary => "primary",
            ServerRole::Standby => "standby",
        }
    }
}

/// Connects and reports version, system identifier, role, TLS and round-trip time.
pub async fn test_connection(
    endpoint: &Endpoint,
    password: Option<&Password>,
    timeout: Duration,
) -> Result<ConnectionTest, SqlError> {
    let (client, session) = connect_session(endpoint, password, timeout).await?;
    let map = |e: tokio_postgres::Error| SqlError::from_driver(&e, endpoint);
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int, \
                    pg_is_in_recovery(), \
                    (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl), \
                    current_setting('default_transaction_read_only')::bool",
            &[],
        )
        .await
        .map_err(map)?;
    let version_text: String = row.get(0);
    let version = ServerVersion::from_num(row.get::<_, i32>(1) as u32);
    let role = if row.get::<_, bool>(2) {
        ServerRole::Standby
    } else {
        ServerRole::Primary
    };
    let tls: Option<String> = row.get(3);
    let read_only: bool = row.get(4);
    let system_identifier = match client
        .query_one(
            "SELECT system_identifier::text FROM pg_control_system()",
            &[],
        )
        .await
    {
        Ok(row) => Some(row.get::<_, String>(0)),
        Err(e) => {
            tracing::debug!(error = %e, "pg_control_system() not readable");
            None
        }
    };
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        client.simple_query("SELECT 1").await.map_err(map)?;
        best = best.min(start.elapsed());
    }
    Ok(ConnectionTest {
        version,
        version_text,
        system_identifier,
        role,
        read_only,
        tls,
        round_trip_ms: best.as_secs_f64() * 1000.0,
        auth_method: session.auth_method,
    })
}

impl crate::Coded for SqlError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            SqlError::Connect(e) => e.code(),
            SqlError::AuthRefused(e) => e.code(),
            SqlError::Timeout { .. } => ErrorCode::ConnectTimeout,
            SqlError::AuthFailed { .. } => ErrorCode::AuthFailed,
            SqlError::PasswordMissing { .. } => ErrorCode::PasswordMissing,
            SqlError::Unreachable { .. } => ErrorCode::Unreachable,
            SqlError::TlsRefused { .. }
            | SqlError::CertificateRejected { .. }
            | SqlError::Tls { .. }
            | SqlError::TlsSettings(_) => ErrorCode::Tls,
            SqlError::NoDatabase { .. } | SqlError::Server { .. } | SqlError::Other { .. } => {
                ErrorCode::Sql
            }
        }
    }
}
