//! What the checks read from: the two instances, connections opened once and shared by every
//! check (tokio-postgres pipelines concurrent queries on one connection), and snapshots of
//! each server's facts taken once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio_postgres::Client;

use super::host::ServerDirs;
use super::model::Mode;
use super::queries;
use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::sql::{self, SqlError};
use crate::store::{InstanceRecord, ManagedDetails};
use crate::version::ServerVersion;
use crate::wire::{ConnectOptions, ReplicationConnection, SystemIdentity, WireError};

/// `application_name` of the assessment's own connections, so the checks can tell them from
/// the source's other clients (e.g. when counting WAL senders).
pub const APPLICATION_NAME: &str = "pgrelocate_assess";

/// Tunables of one assessment (serialisable: a remote destination's agent runs it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Options {
    /// Limit for each check.
    pub check_timeout: Duration,
    /// Limit for opening a connection (a silent host is reported after this).
    pub connect_timeout: Duration,
    /// How long the source's WAL rate is sampled.
    pub wal_sample: Duration,
    /// Copy speed assumed to estimate how long the base backup takes (bytes per second).
    pub assumed_copy_rate: u64,
    /// Expected retained WAL above which the source's disk deserves a look (bytes).
    pub large_wal_bytes: u64,
    /// Transactions open longer than this are reported.
    pub long_transaction: Duration,
    /// Clock differences above this are reported.
    pub clock_tolerance: Duration,
    /// Where each source tablespace goes on this host (`OLD=NEW`).
    pub tablespace_mappings: Vec<(PathBuf, PathBuf)>,
    /// The replication slot the migration will create, when already known.
    pub slot_name: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            check_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            wal_sample: Duration::from_secs(2),
            assumed_copy_rate: 50 * 1024 * 1024,
            large_wal_bytes: 10 * 1024 * 1024 * 1024,
            long_transaction: Duration::from_secs(5 * 60),
            clock_tolerance: Duration::from_secs(2),
            tablespace_mappings: Vec::new(),
            slot_name: None,
        }
    }
}

/// One instance of the assessment and its credential.
pub struct Side {
    /// The stored instance.
    pub record: InstanceRecord,
    /// Its password, when one is stored (keyring or pgpass).
    pub password: Option<Password>,
    /// The task that promoted it (it was that task's destination): it serves as a primary.
    pub promoted_by: Option<String>,
}

impl Side {
    /// How to reach it.
    pub fn endpoint(&self) -> &Endpoint {
        &self.record.endpoint
    }

    /// Its registered name.
    pub fn name(&self) -> &str {
        self.record.name.as_str()
    }

    /// Managed details, when pgrelocate manages it on this host.
    pub fn managed(&self) -> Option<&ManagedDetails> {
        self.record.managed.as_ref()
    }
}

/// One server setting as `pg_settings` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Current value.
    pub value: String,
    /// Unit (`kB`, `8kB`, `MB`, `s`, …) or empty.
    pub unit: String,
    /// Where the value comes from (`default`, `configuration file`, …).
    pub source: String,
    /// The file that set it (only visible to superusers and pg_read_all_settings).
    pub sourcefile: Option<String>,
    /// Built-in default.
    pub boot_val: Option<String>,
    /// The value as `SHOW` spells it, with its unit (`64MB`).
    pub display: String,
}

impl Setting {
    /// The value in bytes, for memory and size settings (`-1` stays negative).
    pub fn bytes(&self) -> Option<i64> {
        let n: i64 = self.value.parse().ok()?;
        if n < 0 {
            return Some(n);
        }
        Some(n * unit_bytes(&self.unit)?)
    }

    /// The value as a number.
    pub fn number(&self) -> Option<i64> {
        self.value.parse().ok()
    }
}

fn unit_bytes(unit: &str) -> Option<i64> {
    let digits: String = unit.chars().take_while(char::is_ascii_digit).collect();
    let factor: i64 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    let base = match &unit[digits.len()..] {
        "" | "B" => 1,
        "kB" => 1024,
        "MB" => 1024 * 1024,
        "GB" => 1024 * 1024 * 1024,
        "TB" => 1024_i64.pow(4),
        _ => return None,
    };
    Some(factor * base)
}

/// A database and its locale.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// Name.
    pub name: String,
    /// Accepts connections.
    pub allow_connections: bool,
    /// A template.
    pub is_template: bool,
    /// `LC_COLLATE`.
    pub collate: String,
    /// `LC_CTYPE`.
    pub ctype: String,
    /// `c` libc, `i` ICU, `b` builtin.
    pub provider: String,
    /// ICU (or builtin) locale.
    pub icu_locale: Option<String>,
    /// Size in bytes, when readable.
    pub size: Option<u64>,
    /// The current role is (a member of) its owner.
    pub owned: bool,
}

/// A user tablespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Tablespace {
    /// Name.
    pub name: String,
    /// Folder on the server's host.
    pub location: PathBuf,
    /// Size in bytes, when readable.
    pub size: Option<u64>,
}

/// A snapshot of one server, taken over its SQL connection.
#[derive(Debug, Clone)]
pub struct ServerFacts {
    /// Version.
    pub version: ServerVersion,
    /// `server_version` as spelled by the server.
    pub version_text: String,
    /// `version()`: build platform, compiler, word size.
    pub build: String,
    /// In recovery (a standby).
    pub in_recovery: bool,
    /// System identifier, when readable.
    pub system_id: Option<String>,
    /// Every setting by name.
    pub settings: HashMap<String, Setting>,
    /// The role logged in.
    pub current_user: String,
    /// It is superuser.
    pub superuser: bool,
    /// It has REPLICATION.
    pub replication: bool,
    /// It has CREATEROLE (the task then gives the standby a role of its own).
    pub create_role: bool,
    /// Member of pg_monitor.
    pub monitor: bool,
    /// Member of pg_signal_backend.
    pub signal_backend: bool,
    /// Member of pg_read_all_settings (sees every setting's source file).
    pub read_all_settings: bool,
    /// This host's address as the server sees it (`None` over a Unix socket).
    pub client_addr: Option<IpAddr>,
    /// The backend serving the assessment.
    pub backend_pid: i32,
    /// TLS version of the connection, when encrypted.
    pub tls: Option<String>,
    /// Server clock minus this host's clock, in seconds (midpoint of the round trip).
    pub clock_offset: f64,
    /// Databases.
    pub databases: Vec<Database>,
    /// User tablespaces.
    pub tablespaces: Vec<Tablespace>,
    /// Size of pg_wal, when readable.
    pub wal_bytes: Option<u64>,
}

impl ServerFacts {
    /// A setting by name.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.get(name)
    }

    /// A setting's value, or "" when the server has no such setting.
    pub fn value(&self, name: &str) -> &str {
        self.settings
            .get(name)
            .map(|s| s.value.as_str())
            .unwrap_or("")
    }

    /// A numeric setting.
    pub fn number(&self, name: &str) -> Option<i64> {
        self.settings.get(name)?.number()
    }

    /// A size setting in bytes.
    pub fn bytes(&self, name: &str) -> Option<i64> {
        self.settings.get(name)?.bytes()
    }

    /// Size of every database plus pg_wal, when all were readable.
    pub fn size_bytes(&self) -> Option<u64> {
        let mut total = 0u64;
        for db in &self.databases {
            total += db.size?;
        }
        Some(total + self.wal_bytes.unwrap_or(0))
    }

    /// WAL segment size in bytes.
    pub fn wal_segment_bytes(&self) -> u64 {
        self.bytes("wal_segment_size")
            .filter(|b| *b > 0)
            .unwrap_or(16 * 1024 * 1024) as u64
    }

    /// Reads the facts over `client`.
    pub async fn read(client: &Client) -> Result<ServerFacts, tokio_postgres::Error> {
        let local_before = now_epoch();
        let row = client
            .query_one(
                "SELECT current_setting('server_version'), \
                        current_setting('server_version_num')::int, version(), \
                        pg_is_in_recovery(), current_user::text, r.rolsuper, r.rolreplication, \
                        pg_has_role(current_user, 'pg_monitor', 'MEMBER'), \
                        pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'), \
                        pg_has_role(current_user, 'pg_read_all_settings', 'MEMBER'), \
                        host(inet_client_addr()), pg_backend_pid(), \
                        (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl), \
                        extract(epoch FROM clock_timestamp())::float8, r.rolcreaterole \
                 FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .await?;
        let local_after = now_epoch();
        let version = ServerVersion::from_num(row.get::<_, i32>(1) as u32);
        let server_clock: f64 = row.get(13);
        let mut settings = HashMap::new();
        for r in client
            .query(
                "SELECT name, setting, coalesce(unit, ''), source, sourcefile, boot_val, \
                 coalesce(current_setting(name, true), setting, '') FROM pg_settings",
                &[],
            )
            .await?
        {
            settings.insert(
                r.get::<_, String>(0),
                Setting {
                    value: r.get::<_, Option<String>>(1).unwrap_or_default(),
                    unit: r.get(2),
                    source: r.get(3),
                    sourcefile: r.get(4),
                    boot_val: r.get(5),
                    display: r.get(6),
                },
            );
        }
        let system_id = client
            .query_one(
                "SELECT system_identifier::text FROM pg_control_system()",
                &[],
            )
            .await
            .ok()
            .map(|r| r.get::<_, String>(0));
        let databases = client
            .query(queries::databases(version), &[])
            .await?
            .iter()
            .map(|r| Database {
                name: r.get(0),
                allow_connections: r.get(1),
                is_template: r.get(2),
                collate: r.get(3),
                ctype: r.get(4),
                provider: r.get(5),
                icu_locale: r.get(6),
                size: r.get::<_, Option<i64>>(7).map(|s| s.max(0) as u64),
                owned: r.get(8),
            })
            .collect();
        let tablespaces = client
            .query(
                "SELECT spcname::text, pg_tablespace_location(oid), \
                 CASE WHEN has_tablespace_privilege(oid, 'CREATE') \
                      OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') \
                      THEN pg_tablespace_size(oid) END \
                 FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY 1",
                &[],
            )
            .await?
            .iter()
            .map(|r| Tablespace {
                name: r.get(0),
                location: PathBuf::from(r.get::<_, String>(1)),
                size: r.get::<_, Option<i64>>(2).map(|s| s.max(0) as u64),
            })
            .collect();
        // pg_ls_waldir needs superuser (10) or pg_monitor (11+); without it WAL is left out.
        let wal_bytes = client
            .query_one(
                "SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()",
                &[],
            )
            .await
            .ok()
            .map(|r| r.get::<_, i64>(0).max(0) as u64);
        Ok(ServerFacts {
            version,
            version_text: row.get(0),
            build: row.get(2),
            in_recovery: row.get(3),
            system_id,
            settings,
            current_user: row.get(4),
            superuser: row.get(5),
            replication: row.get(6),
            create_role: row.get(14),
            monitor: row.get(7),
            signal_backend: row.get(8),
            read_all_settings: row.get(9),
            client_addr: row
                .get::<_, Option<String>>(10)
                .and_then(|s| s.parse().ok()),
            backend_pid: row.get(11),
            tls: row.get(12),
            clock_offset: server_clock - (local_before + local_after) / 2.0,
            databases,
            tablespaces,
            wal_bytes,
        })
    }
}

fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// What one source database holds that a physical copy cares about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseContents {
    /// Database name.
    pub name: String,
    /// Why it could not be inspected, if so.
    pub error: Option<String>,
    /// Extensions and their installed versions.
    pub extensions: Vec<(String, String)>,
    /// C-language functions: (signature, library, owning extension).
    pub c_functions: Vec<(String, String, Option<String>)>,
    /// Unlogged tables: (schema, name, bytes).
    pub unlogged: Vec<(String, String, u64)>,
    /// Collations used by indexes: (name, provider, version now).
    pub index_collations: Vec<(String, String, Option<String>)>,
}

/// How the TCP probe of the source went.
#[derive(Debug, Clone)]
pub enum Reach {
    /// Connected.
    Connected {
        /// The address connected to.
        peer: SocketAddr,
        /// This host's address on that connection.
        local: SocketAddr,
        /// Time to connect.
        elapsed: Duration,
    },
    /// A Unix socket exists and accepts connections.
    Socket {
        /// The socket file.
        path: PathBuf,
    },
    /// The name does not resolve.
    NoSuchHost(String),
    /// The port refused (nothing listens).
    Refused(String),
    /// No answer within the connect timeout.
    Silent(Duration),
    /// Another failure (no route, …).
    Failed(String),
}

/// Everything the checks share.
pub struct Context {
    /// Scenario.
    pub mode: Mode,
    /// Tunables.
    pub options: Options,
    /// The source instance.
    pub source: Side,
    /// The destination instance.
    pub dest: Side,
    reach: OnceCell<Reach>,
    source_sql: OnceCell<Result<(Client, sql::Session), Arc<SqlError>>>,
    dest_sql: OnceCell<Result<(Client, sql::Session), Arc<SqlError>>>,
    source_facts: OnceCell<Result<ServerFacts, String>>,
    dest_facts: OnceCell<Result<ServerFacts, String>>,
    contents: OnceCell<Vec<DatabaseContents>>,
    replication: OnceCell<Result<(SystemIdentity, ReplicationAuth), Arc<WireError>>>,
    dest_dirs: OnceCell<Option<ServerDirs>>,
    source_host: Option<(crate::host::Hosts, crate::store::HostRecord)>,
}

impl Context {
    /// A context for one assessment.
    pub fn new(mode: Mode, options: Options, source: Side, dest: Side) -> Self {
        Context {
            mode,
            options,
            source,
            dest,
            reach: OnceCell::new(),
            source_sql: OnceCell::new(),
            dest_sql: OnceCell::new(),
            source_facts: OnceCell::new(),
            dest_facts: OnceCell::new(),
            contents: OnceCell::new(),
            replication: OnceCell::new(),
            dest_dirs: OnceCell::new(),
            source_host: None,
        }
    }

    /// The source is managed on `host`, another registered host, reached from here through
    /// `hosts` (the workstation handed its record over).
    pub fn with_source_host(
        mut self,
        hosts: crate::host::Hosts,
        host: crate::store::HostRecord,
    ) -> Self {
        self.source_host = Some((hosts, host));
        self
    }

    /// The source's host reached from here as the switchover's plan reaches it (the same
    /// code): `None` when the source is not managed on another host.
    pub async fn source_host(&self) -> Option<crate::switchover::SourceHost> {
        let (hosts, host) = self.source_host.as_ref()?;
        let source = &self.source.record;
        Some(
            crate::switchover::source_host::reach(
                hosts,
                host,
                source.name.as_str(),
                &source.id,
                false,
            )
            .await,
        )
    }

    /// The TCP (or Unix-socket) probe of the source.
    pub async fn reach(&self) -> &Reach {
        self.reach
            .get_or_init(|| probe(self.source.endpoint(), self.options.connect_timeout))
            .await
    }

    /// The shared SQL connection to the source.
    pub async fn source_sql(&self) -> Result<&Client, &SqlError> {
        self.source_session().await.map(|(c, _)| c)
    }

    /// The shared SQL connection to the source, and how it was authenticated.
    pub async fn source_session(&self) -> Result<&(Client, sql::Session), &SqlError> {
        open(&self.source_sql, &self.source, self.options.connect_timeout).await
    }

    /// The shared SQL connection to the destination.
    pub async fn dest_sql(&self) -> Result<&Client, &SqlError> {
        open(&self.dest_sql, &self.dest, self.options.connect_timeout)
            .await
            .map(|(c, _)| c)
    }

    /// The source's facts (read once).
    pub async fn source_facts(&self) -> Result<&ServerFacts, String> {
        facts(&self.source_facts, self.source_sql().await).await
    }

    /// The destination's facts (read once).
    pub async fn dest_facts(&self) -> Result<&ServerFacts, String> {
        facts(&self.dest_facts, self.dest_sql().await).await
    }

    /// The source facts when they could be read, for checks that already depend on the login.
    pub async fn source_facts_or_skip(&self) -> Result<&ServerFacts, super::Outcome> {
        self.source_facts()
            .await
            .map_err(|e| super::Outcome::skip(format!("cannot read the source's settings: {e}")))
    }

    /// The destination facts when they could be read.
    pub async fn dest_facts_or_skip(&self) -> Result<&ServerFacts, super::Outcome> {
        self.dest_facts().await.map_err(|e| {
            super::Outcome::skip(format!("cannot read the destination's settings: {e}"))
        })
    }

    /// A real replication connection to the source, answering IDENTIFY_SYSTEM (tried once).
    pub async fn replication(&self) -> Result<&SystemIdentity, &WireError> {
        self.replication_probe().await.map(|(id, _)| id)
    }

    /// How the replication connection was authenticated (when it worked).
    pub async fn replication_auth(&self) -> Result<&ReplicationAuth, &WireError> {
        self.replication_probe().await.map(|(_, auth)| auth)
    }

    async fn replication_probe(&self) -> Result<&(SystemIdentity, ReplicationAuth), &WireError> {
        self.replication
            .get_or_init(|| async {
                let options = ConnectOptions {
                    application_name: APPLICATION_NAME.into(),
                    connect_timeout: self.options.connect_timeout,
                };
                let mut conn = ReplicationConnection::connect(
                    self.source.endpoint(),
                    self.source.password.as_ref(),
                    &options,
                )
                .await
                .map_err(Arc::new)?;
                let auth = ReplicationAuth {
                    method: conn.auth_method(),
                    tls: conn.is_tls(),
                };
                let identity = conn.identify_system().await.map_err(Arc::new)?;
                let _ = conn.close().await;
                Ok((identity, auth))
            })
            .await
            .as_ref()
            .map_err(|e| &**e)
    }

    /// What every source database holds (each inspected over its own short connection).
    pub async fn source_contents(&self) -> Result<&[DatabaseContents], String> {
        let facts = self.source_facts().await?;
        Ok(self
            .contents
            .get_or_init(|| inspect_databases(&self.source, facts, self.options.connect_timeout))
            .await)
    }

    /// Where the destination's binaries keep extension files and modules: as its server
    /// reports them (`pg_config()`), else guessed from the binaries' folder.
    pub async fn dest_dirs(&self) -> Option<&ServerDirs> {
        self.dest_dirs
            .get_or_init(|| async {
                if let Ok(client) = self.dest_sql().await {
                    if let Ok(rows) = client
                        .query(
                            "SELECT name, setting FROM pg_config() \
                             WHERE name IN ('SHAREDIR', 'PKGLIBDIR')",
                            &[],
                        )
                        .await
                    {
                        let get = |n: &str| {
                            rows.iter()
                                .find(|r| r.get::<_, String>(0) == n)
                                .map(|r| PathBuf::from(r.get::<_, String>(1)))
                        };
                        if let (Some(share_dir), Some(pkglib_dir)) =
                            (get("SHAREDIR"), get("PKGLIBDIR"))
                        {
                            return Some(ServerDirs {
                                share_dir,
                                pkglib_dir,
                            });
                        }
                    }
                }
                self.dest
                    .managed()
                    .and_then(|m| ServerDirs::guess(&m.bin_dir))
            })
            .await
            .as_ref()
    }
}

/// How the source authenticated pgrelocate's replication connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationAuth {
    /// What the server asked for.
    pub method: crate::require_auth::AuthMethod,
    /// Whether the connection was encrypted.
    pub tls: bool,
}

async fn open<'a>(
    cell: &'a OnceCell<Result<(Client, sql::Session), Arc<SqlError>>>,
    side: &Side,
    timeout: Duration,
) -> Result<&'a (Client, sql::Session), &'a SqlError> {
    cell.get_or_init(|| async {
        sql::connect_session(side.endpoint(), side.password.as_ref(), timeout)
            .await
            .map_err(Arc::new)
    })
    .await
    .as_ref()
    .map_err(|e| &**e)
}

async fn facts<'a>(
    cell: &'a OnceCell<Result<ServerFacts, String>>,
    client: Result<&Client, &SqlError>,
) -> Result<&'a ServerFacts, String> {
    let client = client.map_err(|e| e.to_string())?;
    cell.get_or_init(|| async {
        ServerFacts::read(client)
            .await
            .map_err(|e| describe_pg_error(&e))
    })
    .await
    .as_ref()
    .map_err(Clone::clone)
}

/// A driver error as one line: the server's message when there is one.
pub fn describe_pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

async fn probe(endpoint: &Endpoint, timeout: Duration) -> Reach {
    if endpoint.is_unix_socket() {
        let path = PathBuf::from(&endpoint.host).join(format!(".s.PGSQL.{}", endpoint.port));
        return match tokio::time::timeout(timeout, tokio::net::UnixStream::connect(&path)).await {
            Ok(Ok(_)) => Reach::Socket { path },
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Reach::Failed(format!("no server socket {}", path.display()))
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                Reach::Refused(path.display().to_string())
            }
            Ok(Err(e)) => Reach::Failed(e.to_string()),
            Err(_) => Reach::Silent(timeout),
        };
    }
    let started = Instant::now();
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> =
        match tokio::time::timeout(timeout, tokio::net::lookup_host((host, endpoint.port))).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => return Reach::NoSuchHost(e.to_string()),
            Err(_) => return Reach::Silent(timeout),
        };
    if addrs.is_empty() {
        return Reach::NoSuchHost("no address".into());
    }
    let mut last = Reach::Failed("no address".into());
    for addr in addrs {
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                return Reach::Connected {
                    peer: addr,
                    local: stream.local_addr().unwrap_or(addr),
                    elapsed: started.elapsed(),
                }
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = Reach::Refused(addr.to_string())
            }
            Ok(Err(e)) => last = Reach::Failed(format!("{addr}: {e}")),
            Err(_) => return Reach::Silent(timeout),
        }
    }
    last
}

/// Inspects every connectable database, a few at a time.
async fn inspect_databases(
    side: &Side,
    facts: &ServerFacts,
    timeout: Duration,
) -> Vec<DatabaseContents> {
    use futures::StreamExt;
    let names: Vec<String> = facts
        .databases
        .iter()
        .filter(|d| d.allow_connections)
        .map(|d| d.name.clone())
        .collect();
    let version = facts.version;
    futures::stream::iter(names)
        .map(|name| async move {
            let mut endpoint = side.endpoint().clone();
            endpoint.dbname = name.clone();
            match inspect_one(&endpoint, side.password.as_ref(), version, timeout).await {
                Ok(mut c) => {
                    c.name = name;
                    c
                }
                Err(error) => DatabaseContents {
                    name,
                    error: Some(error),
                    ..Default::default()
                },
            }
        })
        .buffered(4)
        .collect()
        .await
}

async fn inspect_one(
    endpoint: &Endpoint,
    password: Option<&Password>,
    version: ServerVersion,
    timeout: Duration,
) -> Result<DatabaseContents, String> {
    let client = sql::connect(endpoint, password, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let e = |e: tokio_postgres::Error| describe_pg_error(&e);
    let extensions = client
        .query(
            "SELECT extname::text, extversion FROM pg_extension ORDER BY 1",
            &[],
        )
        .await
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // Functions made by initdb (oid < 16384, e.g. plpgsql's handler) exist in every build.
    let c_functions = client
        .query(
            "SELECT p.oid::regprocedure::text, p.probin, e.extname::text \
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'c' \
             LEFT JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid \
                  AND d.deptype = 'e' \
             LEFT JOIN pg_extension e ON e.oid = d.refobjid \
             WHERE p.oid >= 16384 AND p.probin IS NOT NULL ORDER BY 1",
            &[],
        )
        .await
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let unlogged = client
        .query(
            "SELECT n.nspname::text, c.relname::text, pg_total_relation_size(c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p', 'm') ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2).max(0) as u64))
        .collect();
    let index_collations = client
        .query(queries::index_collations(version), &[])
        .await
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(DatabaseContents {
        name: String::new(),
        error: None,
        extensions,
        c_functions,
        unlogged,
        index_collations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_convert_units_to_bytes() {
        let s = |value: &str, unit: &str| Setting {
            value: value.into(),
            unit: unit.into(),
            source: "default".into(),
            sourcefile: None,
            boot_val: None,
            display: value.into(),
        };
        assert_eq!(s("2048", "8kB").bytes(), Some(16 * 1024 * 1024));
        assert_eq!(s("16777216", "B").bytes(), Some(16 * 1024 * 1024));
        assert_eq!(s("-1", "MB").bytes(), Some(-1));
        assert_eq!(s("1024", "MB").bytes(), Some(1 << 30));
        assert_eq!(s("on", "").bytes(), None);
    }
}
