//! What the CLI and the desktop app do with instances — register, create, start, stop,
//! status, remove, list — composed from the store, the keyring, `server` and `sql`.
//!
//! Managed data directories go to `<state dir>/instances/<name>/data`. When pgrelocate runs
//! as root and the server's OS user cannot reach the state directory (e.g. under `/root`,
//! mode 0700), they go to `/var/lib/pgrelocate/<name>-<id>/data` instead, the way Debian
//! keeps clusters under `/var/lib/postgresql`; `--data-dir` overrides both.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, EndpointError, SslMode};
use crate::home::HomeError;
use crate::port_range::{PortRange, PortRangeError};
use crate::retirement::{self, Retirement};
use crate::secrets::{self, CredentialStore, Keyring, Password, SecretError};
use crate::server::ServerError;
use crate::server::{self, config, control, discover, initdb, Installation, OsUser, RunState};
use crate::sql::{self, ConnectionTest, SqlError};
use crate::store::{
    InstanceId, InstanceKind, InstanceName, InstanceRecord, ManagedDetails, NameError, Store,
    StoreError,
};
use crate::version::{MAX_MAJOR, MIN_MAJOR};

mod adopt;
mod remote;
pub use adopt::AdoptRequest;
pub(crate) use remote::host_of;

/// Where managed data directories go when the state directory is out of the server user's
/// reach (pgrelocate as root, state dir under `/root`).
pub const ROOT_DATA_BASE: &str = "/var/lib/pgrelocate";

/// Connect timeout for status checks (short: `list` checks every instance).
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an instance operation failed.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    #[error("instance {0:?} is external: pgrelocate only connects to it")]
    NotManaged(String),
    #[error("PostgreSQL {0} is not supported (use {MIN_MAJOR} to {MAX_MAJOR})")]
    UnsupportedMajor(u32),
    #[error(
        "no PostgreSQL {major} server binaries (initdb, pg_ctl, postgres) found on this host; \
         install them or give their folder with --bin-dir"
    )]
    NoInstallation { major: u32 },
    #[error("{0} holds no PostgreSQL server binaries")]
    NotAnInstallation(PathBuf),
    #[error("{bin_dir} holds PostgreSQL {found}, not {wanted}")]
    WrongMajor {
        bin_dir: PathBuf,
        found: String,
        wanted: u32,
    },
    #[error("{bin_dir} lacks {missing}; a managed instance needs initdb, pg_ctl and postgres")]
    CannotRunServers { bin_dir: PathBuf, missing: String },
    #[error("{0} exists and is not empty; give a new or empty data directory")]
    DataDirNotEmpty(PathBuf),
    #[error("{0} already exists; remove it or choose another name or --data-dir")]
    InstanceDirExists(PathBuf),
    #[error("port {0} is already in use on this host; choose another with --port")]
    PortInUse(u16),
    #[error(
        "port {0} is a privileged port (below 1024): a PostgreSQL server runs as an \
         unprivileged OS user and cannot listen on it; choose a port from 1024 to 65535"
    )]
    PrivilegedPort(u16),
    #[error("no free TCP port found in {0}; choose one with --port (or set PGRELOCATE_PORTS)")]
    NoFreePort(PortRange),
    #[error(transparent)]
    Ports(#[from] PortRangeError),
    #[error(
        "a managed instance keeps its generated superuser password in the OS keyring, and no \
         keyring is reachable: {0}"
    )]
    KeyringNeeded(String),
    #[error("a sandbox already exists ({0:?}); remove it first with `pgrelocate sandbox remove`")]
    SandboxExists(String),
    #[error(
        "the confirmation does not match: type the instance name {0:?} exactly to start it \
         as a writable primary; nothing was changed"
    )]
    ConfirmationMismatch(String),
    #[error("{0} holds no PostgreSQL cluster (no readable PG_VERSION)")]
    NotACluster(PathBuf),
    #[error(
        "the cluster in {0} is not running: start it first, so that its password and its \
         identity can be checked"
    )]
    ClusterNotRunning(PathBuf),
    #[error(
        "{data_dir} belongs to {owner}: pgrelocate must run as that user (or as root) to \
         manage it"
    )]
    ClusterNotOwned { data_dir: PathBuf, owner: String },
    #[error("the server on port {port} serves {served}, not {data_dir}; nothing was registered")]
    ClusterMismatch {
        port: u16,
        data_dir: PathBuf,
        served: PathBuf,
    },
    #[error(transparent)]
    Tasks(#[from] crate::store::tasks::TaskStoreError),
    #[error("background task failed: {0}")]
    Join(String),
}

/// Ports below this one need root (or CAP_NET_BIND_SERVICE) to listen on, which a managed
/// server never has: PostgreSQL refuses to run as root.
pub const FIRST_UNPRIVILEGED_PORT: u16 = 1024;

/// The instance operations over one state directory.
pub struct Instances {
    store: Store,
    state_dir: PathBuf,
    keyring: Result<Arc<dyn CredentialStore>, Arc<SecretError>>,
    /// Where a new managed instance's port comes from when none is given.
    ports: PortRange,
}

impl std::fmt::Debug for Instances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instances")
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// A request to register an external instance.
#[derive(Debug, Clone)]
pub struct RegisterRequest {
    /// Name to register it under.
    pub name: String,
    /// How to reach it.
    pub endpoint: Endpoint,
    /// Password to keep in the keyring; `None` relies on `~/.pgpass` or trust.
    pub password: Option<Password>,
    /// Test the connection first (and store nothing if it fails).
    pub test: bool,
}

/// A request to create a managed instance.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Name of the new instance.
    pub name: String,
    /// PostgreSQL major version.
    pub major: u32,
    /// TCP port; a free one when `None`.
    pub port: Option<u16>,
    /// Data directory; under the state directory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Binaries folder; discovered when `None`.
    pub bin_dir: Option<PathBuf>,
    /// Superuser password to set (and keep in the keyring); generated when `None`.
    pub password: Option<Password>,
    /// The registered host to create it on (its agent does the work); `None`: here.
    pub host: Option<String>,
}

/// What `instance status` and `instance list` report about one instance.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceStatus {
    /// The stored instance.
    #[serde(flatten)]
    pub instance: InstanceRecord,
    /// External or managed.
    pub kind: InstanceKind,
    /// Running, stopped, missing, unreachable or unknown.
    pub state: State,
    /// What "test connection" found, when it could connect.
    pub connection: Option<ConnectionTest>,
    /// Why the connection test (or the status check) failed.
    pub error: Option<String>,
    /// Disk use of a managed instance.
    pub storage: Option<Storage>,
    /// The task that retired it (it was that task's source), if any: a plain start brings
    /// it up in recovery.
    pub retired: Option<Retirement>,
}

/// What `start` did.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Started {
    /// The instance.
    #[serde(flatten)]
    pub instance: InstanceRecord,
    /// The server runs in recovery (standby mode) and refuses every write.
    pub in_recovery: bool,
    /// The task that retired it, if any.
    pub retired: Option<Retirement>,
}

/// An instance's state as a DBA would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "EngineState")]
pub enum State {
    /// The server answers (it may still refuse our login: see `error`).
    Running,
    /// Managed and stopped.
    Stopped,
    /// Managed, but its data directory is gone.
    Missing,
    /// External and not answering.
    Unreachable,
    /// Could not be determined (see `error`).
    Unknown,
}

impl State {
    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Stopped => "stopped",
            State::Missing => "missing",
            State::Unreachable => "unreachable",
            State::Unknown => "unknown",
        }
    }
}

/// Space used by a managed instance's data directory and left on its filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Storage {
    /// Bytes under the data directory.
    pub used_bytes: u64,
    /// Bytes available to the server on that filesystem.
    pub free_bytes: u64,
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Removal {
    /// The forgotten instance.
    pub instance: InstanceRecord,
    /// Folder deleted (only ever one pgrelocate created).
    pub deleted_dir: Option<PathBuf>,
    /// Data directory left in place because pgrelocate did not create it.
    pub kept_data_dir: Option<PathBuf>,
    /// Something that could not be cleaned up (e.g. the keyring was unreachable).
    pub warning: Option<String>,
}

impl Instances {
    /// Opens the state directory with the OS keyring (an unreachable keyring is reported
    /// only by the operations that need it).
    pub fn open(state_dir: &Path) -> Result<Instances, InstanceError> {
        let keyring = Keyring::os()
            .map(|k| Arc::new(k) as Arc<dyn CredentialStore>)
            .map_err(Arc::new);
        Self::with_credentials(state_dir, keyring)
    }

    /// Opens the state directory with the given credential store (tests: the in-memory one).
    /// New instances take their ports from `PGRELOCATE_PORTS` or the default range.
    pub fn with_credentials(
        state_dir: &Path,
        keyring: Result<Arc<dyn CredentialStore>, Arc<SecretError>>,
    ) -> Result<Instances, InstanceError> {
        Ok(Instances {
            store: Store::open(state_dir)?,
            state_dir: state_dir.to_path_buf(),
            keyring,
            ports: PortRange::from_env()?,
        })
    }

    /// New instances without a chosen port take one from `ports`.
    pub fn with_ports(mut self, ports: PortRange) -> Instances {
        self.ports = ports;
        self
    }

    /// The state store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn keyring(&self) -> Result<Arc<dyn CredentialStore>, InstanceError> {
        self.keyring.clone().map_err(|e| {
            InstanceError::Secret(match &*e {
                SecretError::NoKeyring { reason, hint } => SecretError::NoKeyring {
                    reason: reason.clone(),
                    hint,
                },
                other => SecretError::Keyring(other.to_string()),
            })
        })
    }

    async fn keyring_save(
        &self,
        id: &InstanceId,
        password: &Password,
    ) -> Result<(), InstanceError> {
        let keyring = self.keyring()?;
        let (id, password) = (id.clone(), password.clone());
        blocking(move || keyring.save(&id, &password)).await
    }

    async fn keyring_forget(&self, id: &InstanceId) -> Result<(), InstanceError> {
        let keyring = self.keyring()?;
        let id = id.clone();
        blocking(move || keyring.forget(&id)).await
    }

    /// The password for an instance: keyring, then `~/.pgpass` / `PGPASSFILE`.
    pub async fn password_for(
        &self,
        record: &InstanceRecord,
    ) -> Result<Option<Password>, InstanceError> {
        let keyring = self.keyring.clone();
        let (id, endpoint) = (record.id.clone(), record.endpoint.clone());
        let found = blocking(move || {
            let store: Result<&dyn CredentialStore, &SecretError> = match &keyring {
                Ok(k) => Ok(k.as_ref()),
                Err(e) => Err(e.as_ref()),
            };
            secrets::find_password(store, &id, &endpoint)
        })
        .await?;
        Ok(found.map(|(p, _)| p))
    }

    /// Stores (or replaces) an instance's password in the OS keyring.
    pub async fn set_password(
        &self,
        name: &str,
        password: &Password,
    ) -> Result<InstanceRecord, InstanceError> {
        let record = self.store.instance_by_name(name)?;
        self.keyring_save(&record.id, password).await?;
        tracing::info!(name = %record.name, "password stored in the keyring");
        Ok(record)
    }

    /// Deletes an instance's password from the OS keyring (none stored is not an error).
    pub async fn forget_password(&self, name: &str) -> Result<InstanceRecord, InstanceError> {
        let record = self.store.instance_by_name(name)?;
        self.keyring_forget(&record.id).await?;
        tracing::info!(name = %record.name, "password removed from the keyring");
        Ok(record)
    }

    /// Where an instance's password would come from (keyring, password file), without
    /// handing it out; `None` when there is none.
    pub async fn password_source(
        &self,
        name: &str,
    ) -> Result<Option<secrets::PasswordSource>, InstanceError> {
        let record = self.store.instance_by_name(name)?;
        let keyring = self.keyring.clone();
        let (id, endpoint) = (record.id.clone(), record.endpoint.clone());
        let found = blocking(move || {
            let store: Result<&dyn CredentialStore, &SecretError> = match &keyring {
                Ok(k) => Ok(k.as_ref()),
                Err(e) => Err(e.as_ref()),
            };
            secrets::find_password(store, &id, &endpoint)
        })
        .await?;
        Ok(found.map(|(_, source)| source))
    }

    /// Registers an external instance. With `test`, the connection is tried first; on any
    /// failure nothing is stored, neither row nor password.
    pub async fn register(
        &self,
        request: RegisterRequest,
    ) -> Result<(InstanceRecord, Option<ConnectionTest>), InstanceError> {
        let name = InstanceName::new(&request.name)?;
        request.endpoint.validate()?;
        if self.store.find_instance(name.as_str())?.is_some() {
            return Err(StoreError::DuplicateName(name.to_string()).into());
        }
        if request.password.is_some() {
            self.keyring()?;
        }
        let tested = if request.test {
            let password = match &request.password {
                Some(p) => Some(p.clone()),
                None => secrets::pgpass::lookup(&request.endpoint)?.map(|(p, _)| p),
            };
            Some(
                sql::test_connection(
                    &request.endpoint,
                    password.as_ref(),
                    sql::DEFAULT_CONNECT_TIMEOUT,
                )
                .await?,
            )
        } else {
            None
        };
        let record = InstanceRecord::external(name, request.endpoint);
        if let Some(p) = &request.password {
            self.keyring_save(&record.id, p).await?;
        }
        match self.store.insert_instance(&record) {
            Ok(stored) => {
                tracing::info!(name = %stored.name, id = %stored.id, "registered external instance");
                Ok((stored, tested))
            }
            Err(e) => {
                if request.password.is_some() {
                    let _ = self.keyring_forget(&record.id).await;
                }
                Err(e.into())
            }
        }
    }

    /// The other instances registered at `record`'s endpoint (see
    /// [`Endpoint::same_server`]): registering one server twice is allowed (another account,
    /// say) but never silent, since two names of one server can end up as source and
    /// destination of one task. A managed instance on a registered host listens on that
    /// host's loopback, which is not this machine's.
    pub fn same_endpoint(
        &self,
        record: &InstanceRecord,
    ) -> Result<Vec<InstanceRecord>, InstanceError> {
        let here = |r: &InstanceRecord| remote::host_of(r).is_none();
        Ok(self
            .store
            .list_instances()?
            .into_iter()
            .filter(|other| other.id != record.id)
            .filter(|other| {
                let both_loopback = other.endpoint.is_loopback() && record.endpoint.is_loopback();
                other.endpoint.same_server(&record.endpoint)
                    && (!both_loopback || (here(other) && here(record)))
            })
            .collect())
    }

    /// The installation to use for `major`: `bin_dir` (remembered for discovery) or the
    /// newest one discovered.
    pub async fn installation(
        &self,
        major: u32,
        bin_dir: Option<&Path>,
    ) -> Result<Installation, InstanceError> {
        if !(MIN_MAJOR..=MAX_MAJOR).contains(&major) {
            return Err(InstanceError::UnsupportedMajor(major));
        }
        let installation = match bin_dir {
            Some(dir) => {
                let dir = absolute(dir)?;
                let found = Installation::inspect(&dir)
                    .await?
                    .ok_or_else(|| InstanceError::NotAnInstallation(dir.clone()))?;
                if found.version.major != major {
                    return Err(InstanceError::WrongMajor {
                        bin_dir: dir,
                        found: found.version.to_string(),
                        wanted: major,
                    });
                }
                self.store.add_bin_folder(&dir)?;
                found
            }
            None => discover::find_major(major, &self.store.bin_folders()?)
                .await
                .ok_or(InstanceError::NoInstallation { major })?,
        };
        if !installation.can_run_servers {
            let missing = discover::REQUIRED
                .iter()
                .filter(|r| !installation.has(r))
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(InstanceError::CannotRunServers {
                bin_dir: installation.bin_dir,
                missing,
            });
        }
        Ok(installation)
    }

    /// Every installation found on this host (plus remembered folders).
    pub async fn discover(&self) -> Result<Vec<Installation>, InstanceError> {
        Ok(discover::discover(&self.store.bin_folders()?).await)
    }

    /// Creates a managed instance: initdb (UTF8, checksums, SCRAM, a generated superuser
    /// password kept in the keyring), managed settings and pg_hba, then starts it. On any
    /// failure everything it created is removed again.
    pub async fn create(&self, request: CreateRequest) -> Result<InstanceRecord, InstanceError> {
        if let Some(host) = request.host.clone() {
            return self.create_on_host(&host, request).await;
        }
        let name = InstanceName::new(&request.name)?;
        // Refused here, before initdb, rather than left to pg_ctl's "Permission denied".
        match request.port {
            Some(0) => return Err(EndpointError::Port("0".into()).into()),
            Some(port) if port < FIRST_UNPRIVILEGED_PORT => {
                return Err(InstanceError::PrivilegedPort(port))
            }
            _ => {}
        }
        if self.store.find_instance(name.as_str())?.is_some() {
            return Err(StoreError::DuplicateName(name.to_string()).into());
        }
        if let Err(InstanceError::Secret(SecretError::NoKeyring { reason, hint })) = self.keyring()
        {
            return Err(InstanceError::KeyringNeeded(format!("{reason}{hint}")));
        }
        let installation = self
            .installation(request.major, request.bin_dir.as_deref())
            .await?;
        let os_user = OsUser::for_servers(None)?;
        let port = match request.port {
            Some(p) if !port_is_free(p) => return Err(InstanceError::PortInUse(p)),
            Some(p) => p,
            None => self.free_port(&[])?,
        };
        let id = InstanceId::generate();
        let (data_dir, created_dir) = match &request.data_dir {
            Some(dir) => self.prepare_given_data_dir(&absolute(dir)?, os_user.as_ref())?,
            None => self.prepare_default_data_dir(&name, &id, os_user.as_ref())?,
        };
        let record = InstanceRecord {
            id,
            name,
            endpoint: Endpoint::new("127.0.0.1", port, initdb::SUPERUSER, None, SslMode::Disable)?,
            managed: Some(ManagedDetails {
                data_dir: data_dir.clone(),
                bin_dir: installation.bin_dir.clone(),
                major: installation.version.major,
                os_user: os_user.as_ref().map(|u| u.name.clone()),
                created_dir: created_dir.clone(),
                host: None,
                adopted: false,
            }),
            created_at: String::new(),
        };
        let result = self
            .build_managed(
                record.clone(),
                &installation,
                request.port.is_none(),
                os_user.as_ref(),
                request.password,
            )
            .await;
        match result {
            Ok(stored) => {
                tracing::info!(name = %stored.name, id = %stored.id, data_dir = %data_dir.display(), port = stored.endpoint.port, "created managed instance");
                Ok(stored)
            }
            Err(e) => {
                tracing::warn!(error = %e, "creating the instance failed; undoing");
                let _ = control::stop(&installation.bin_dir, &data_dir, os_user.as_ref()).await;
                if let Some(dir) = &created_dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
                let _ = self.keyring_forget(&record.id).await;
                let _ = self.store.delete_instance(&record.id);
                Err(e)
            }
        }
    }

    async fn build_managed(
        &self,
        mut record: InstanceRecord,
        installation: &Installation,
        port_chosen_here: bool,
        os_user: Option<&OsUser>,
        password: Option<Password>,
    ) -> Result<InstanceRecord, InstanceError> {
        let data_dir = record.managed.as_ref().expect("managed").data_dir.clone();
        let password = match password {
            Some(p) => p,
            None => generate_password()?,
        };
        initdb::initdb(&installation.bin_dir, &data_dir, &password, os_user).await?;
        config::write_hba(&data_dir)?;
        self.keyring_save(&record.id, &password).await?;
        // A port found free can be taken before the server binds it (another pgrelocate,
        // another test): when we chose it, move on to the next free one.
        let mut tried = Vec::new();
        loop {
            let port = record.endpoint.port;
            config::write_settings(&data_dir, &config::ManagedSettings::loopback(port))?;
            match control::start(&installation.bin_dir, &data_dir, os_user).await {
                Ok(()) => break,
                Err(ServerError::StartFailed { log })
                    if port_chosen_here
                        && log.contains("Address already in use")
                        && tried.len() < 10 =>
                {
                    tracing::info!(port, "port taken meanwhile; trying the next free one");
                    tried.push(port);
                    record.endpoint.port = self.free_port(&tried)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.store.insert_instance(&record)?)
    }

    fn prepare_given_data_dir(
        &self,
        dir: &Path,
        os_user: Option<&OsUser>,
    ) -> Result<(PathBuf, Option<PathBuf>), InstanceError> {
        if dir.exists() {
            let empty = std::fs::read_dir(dir)
                .map_err(ServerError::io(dir))?
                .next()
                .is_none();
            if !empty {
                return Err(InstanceError::DataDirNotEmpty(dir.to_path_buf()));
            }
            if let Some(u) = os_user {
                u.chown_tree(dir)?;
            }
            Ok((dir.to_path_buf(), None))
        } else {
            Ok((dir.to_path_buf(), Some(dir.to_path_buf())))
        }
    }

    fn prepare_default_data_dir(
        &self,
        name: &InstanceName,
        id: &InstanceId,
        os_user: Option<&OsUser>,
    ) -> Result<(PathBuf, Option<PathBuf>), InstanceError> {
        let inside_state = self.state_dir.join("instances");
        let instance_dir = match os_user {
            Some(u) if !u.can_traverse(&inside_state) => {
                tracing::info!(
                    user = %u.name,
                    "the state directory is out of the server user's reach; data goes under {ROOT_DATA_BASE}"
                );
                PathBuf::from(ROOT_DATA_BASE).join(format!("{name}-{}", id.short()))
            }
            _ => inside_state.join(name.as_str()),
        };
        if instance_dir.exists() {
            return Err(InstanceError::InstanceDirExists(instance_dir));
        }
        let parent = instance_dir.parent().expect("has a parent");
        std::fs::create_dir_all(parent).map_err(ServerError::io(parent))?;
        server::os_user::create_private_dir(&instance_dir, os_user)?;
        Ok((instance_dir.join("data"), Some(instance_dir)))
    }

    /// The first `count` ports that creating that many instances one after the other would
    /// take (see `free_port`), for a plan shown before anything is made.
    pub fn free_ports(&self, count: usize) -> Result<Vec<u16>, InstanceError> {
        let mut ports = Vec::with_capacity(count);
        for _ in 0..count {
            ports.push(self.free_port(&ports)?);
        }
        Ok(ports)
    }

    fn free_port(&self, also_skip: &[u16]) -> Result<u16, InstanceError> {
        let taken: Vec<u16> = self
            .store
            .list_instances()?
            .iter()
            .filter(|r| r.endpoint.is_loopback())
            .map(|r| r.endpoint.port)
            .collect();
        self.ports
            .ports()
            .find(|p| !taken.contains(p) && !also_skip.contains(p) && port_is_free(*p))
            .ok_or(InstanceError::NoFreePort(self.ports))
    }

    fn managed(
        &self,
        name: &str,
    ) -> Result<(InstanceRecord, ManagedDetails, Option<OsUser>), InstanceError> {
        let record = self.store.instance_by_name(name)?;
        let details = record
            .managed
            .clone()
            .ok_or_else(|| InstanceError::NotManaged(name.to_string()))?;
        let os_user = OsUser::for_servers(details.os_user.as_deref())?;
        Ok((record, details, os_user))
    }

    /// Starts a managed instance (no-op when running). A retired source (see
    /// [`retirement`]) starts in recovery: the server refuses every write.
    pub async fn start(&self, name: &str) -> Result<Started, InstanceError> {
        let (record, m, user) = self.managed(name)?;
        if let Some(host) = m.host.clone() {
            return self.start_on_host(&host, record, None).await;
        }
        let retired = retirement::of(&self.store, &record.id)?;
        let running = control::status(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        if retired.is_some() && running != RunState::Running {
            retirement::write_recovery_signal(&m.data_dir, m.major, user.as_ref())?;
            tracing::info!(name = %record.name, "retired source: starting it in recovery");
        }
        control::start(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        Ok(Started {
            in_recovery: retirement::recovery_signal_present(&m.data_dir, m.major),
            instance: record,
            retired,
        })
    }

    /// Starts a managed instance as a writable primary, also when it is a retired source:
    /// `confirm` must be its name, typed by the DBA (else nothing changes). One running in
    /// recovery is stopped first; its recovery signal is removed.
    pub async fn start_as_primary(
        &self,
        name: &str,
        confirm: &str,
    ) -> Result<Started, InstanceError> {
        let (record, m, user) = self.managed(name)?;
        if let Some(host) = m.host.clone() {
            return self.start_on_host(&host, record, Some(confirm)).await;
        }
        if confirm != record.name.as_str() {
            return Err(InstanceError::ConfirmationMismatch(record.name.to_string()));
        }
        let retired = retirement::of(&self.store, &record.id)?;
        let running = control::status(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        if running == RunState::Running && retirement::recovery_signal_present(&m.data_dir, m.major)
        {
            control::stop(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        }
        retirement::remove_recovery_signal(&m.data_dir, m.major)?;
        control::start(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        if let Some(r) = &retired {
            tracing::warn!(name = %record.name, task = %r.task_id, successor = %r.successor,
                "retired source started as a writable primary at the DBA's typed request");
        }
        Ok(Started {
            in_recovery: retirement::recovery_signal_present(&m.data_dir, m.major),
            instance: record,
            retired,
        })
    }

    /// Stops a managed instance with a fast shutdown (no-op when stopped).
    pub async fn stop(&self, name: &str) -> Result<InstanceRecord, InstanceError> {
        let (record, m, user) = self.managed(name)?;
        if let Some(host) = m.host.clone() {
            return self.stop_on_host(&host, record).await;
        }
        control::stop(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
        Ok(record)
    }

    /// The status of one instance, with a connection test when it is up.
    pub async fn status(&self, name: &str) -> Result<InstanceStatus, InstanceError> {
        let record = self.store.instance_by_name(name)?;
        Ok(self.status_of(record).await)
    }

    /// The status of every instance (checked concurrently), by name.
    pub async fn list(&self) -> Result<Vec<InstanceStatus>, InstanceError> {
        let records = self.store.list_instances()?;
        Ok(futures::future::join_all(records.into_iter().map(|r| self.status_of(r))).await)
    }

    async fn status_of(&self, record: InstanceRecord) -> InstanceStatus {
        let mut status = InstanceStatus {
            kind: record.kind(),
            state: State::Unknown,
            connection: None,
            error: None,
            storage: None,
            retired: retirement::of(&self.store, &record.id).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read which task retired the instance");
                None
            }),
            instance: record,
        };
        if let Some(host) = host_of(&status.instance).map(str::to_string) {
            return self.status_on_host(&host, status).await;
        }
        if let Some(m) = status.instance.managed.clone() {
            status.storage = storage(&m.data_dir).await;
            let run_state = match OsUser::for_servers(m.os_user.as_deref()) {
                Ok(user) => control::status(&m.bin_dir, &m.data_dir, user.as_ref()).await,
                Err(e) => Err(e),
            };
            match run_state {
                Ok(RunState::Running) => status.state = State::Running,
                Ok(RunState::Stopped) => {
                    status.state = State::Stopped;
                    return status;
                }
                Ok(RunState::Missing) => {
                    status.state = State::Missing;
                    status.error = Some(format!("data directory {} is gone", m.data_dir.display()));
                    return status;
                }
                Err(e) => {
                    status.error = Some(e.to_string());
                    return status;
                }
            }
        }
        // Without a keyring, still find out whether the server answers; its password
        // question is then answered by the keyring's error.
        let (password, lookup_error) = match self.password_for(&status.instance).await {
            Ok(p) => (p, None),
            Err(e) => (None, Some(e)),
        };
        let endpoint = &status.instance.endpoint;
        match sql::test_connection(endpoint, password.as_ref(), STATUS_TIMEOUT).await {
            Ok(test) => {
                status.state = State::Running;
                status.connection = Some(test);
            }
            Err(e) => {
                let answered = !matches!(
                    e,
                    SqlError::Connect(_)
                        | SqlError::Unreachable { .. }
                        | SqlError::Timeout { .. }
                        | SqlError::Other { .. }
                        | SqlError::TlsSettings(_)
                );
                if status.kind == InstanceKind::External {
                    status.state = if answered {
                        State::Running
                    } else {
                        State::Unreachable
                    };
                }
                status.error = Some(match (e, lookup_error) {
                    (SqlError::PasswordMissing { .. }, Some(lookup)) => lookup.to_string(),
                    (e, _) => e.to_string(),
                });
            }
        }
        status
    }

    /// Forgets an instance and its password. A managed one is stopped first, and the folder
    /// pgrelocate created for it is deleted; a data directory the user supplied is kept.
    pub async fn remove(&self, name: &str) -> Result<Removal, InstanceError> {
        let record = self.store.instance_by_name(name)?;
        if let Some(host) = host_of(&record).map(str::to_string) {
            return self.remove_on_host(&host, record).await;
        }
        let mut removal = Removal {
            instance: record.clone(),
            deleted_dir: None,
            kept_data_dir: None,
            warning: None,
        };
        if let Some(m) = record.managed.as_ref().filter(|m| m.adopted) {
            // Not ours: it keeps running, with its files, as before it was adopted.
            removal.kept_data_dir = Some(m.data_dir.clone());
        } else if let Some(m) = &record.managed {
            let user = OsUser::for_servers(m.os_user.as_deref())?;
            if m.bin_dir.is_dir() {
                control::stop(&m.bin_dir, &m.data_dir, user.as_ref()).await?;
            }
            match &m.created_dir {
                Some(dir) => {
                    if dir.exists() {
                        std::fs::remove_dir_all(dir).map_err(ServerError::io(dir))?;
                    }
                    removal.deleted_dir = Some(dir.clone());
                }
                None => removal.kept_data_dir = Some(m.data_dir.clone()),
            }
        }
        if let Err(e) = self.keyring_forget(&record.id).await {
            removal.warning = Some(format!("the password could not be deleted: {e}"));
        }
        self.store.delete_instance(&record.id)?;
        tracing::info!(name = %record.name, id = %record.id, "removed instance");
        Ok(removal)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
) -> Result<T, InstanceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| InstanceError::Join(e.to_string()))?
        .map_err(InstanceError::from)
}

fn absolute(path: &Path) -> Result<PathBuf, InstanceError> {
    std::path::absolute(path).map_err(|e| ServerError::io(path)(e).into())
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A 32-character random password of letters and digits (no quoting issues anywhere).
fn generate_password() -> Result<Password, InstanceError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Keyring(format!("no randomness: {e}")))?;
    Ok(Password::new(
        bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect::<String>(),
    ))
}

async fn storage(data_dir: &Path) -> Option<Storage> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let used_bytes = dir_size(&dir);
        let free_bytes = free_space(&dir)?;
        Some(Storage {
            used_bytes,
            free_bytes,
        })
    })
    .await
    .ok()
    .flatten()
}

fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills a plain struct from a NUL-terminated path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st) == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
    }
}

impl crate::Coded for InstanceError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            InstanceError::Name(e) => e.code(),
            InstanceError::Endpoint(e) => e.code(),
            InstanceError::Home(e) => e.code(),
            InstanceError::Store(e) => e.code(),
            InstanceError::Host(e) => e.code(),
            InstanceError::Secret(e) => e.code(),
            InstanceError::Sql(e) => e.code(),
            InstanceError::Server(e) => e.code(),
            InstanceError::Ports(e) => e.code(),
            InstanceError::NotManaged(_) => ErrorCode::NotManaged,
            InstanceError::UnsupportedMajor(_) => ErrorCode::UnsupportedVersion,
            InstanceError::NoInstallation { .. }
            | InstanceError::NotAnInstallation(_)
            | InstanceError::WrongMajor { .. }
            | InstanceError::CannotRunServers { .. } => ErrorCode::NoInstallation,
            InstanceError::DataDirNotEmpty(_) | InstanceError::InstanceDirExists(_) => {
                ErrorCode::DataDirInUse
            }
            InstanceError::PortInUse(_) | InstanceError::NoFreePort(_) => ErrorCode::PortInUse,
            InstanceError::PrivilegedPort(_) => ErrorCode::InvalidEndpoint,
            InstanceError::KeyringNeeded(_) => ErrorCode::NoKeyring,
            InstanceError::SandboxExists(_) => ErrorCode::SandboxExists,
            InstanceError::ConfirmationMismatch(_) => ErrorCode::ConfirmationMismatch,
            InstanceError::NotACluster(_) => ErrorCode::NotACluster,
            InstanceError::ClusterNotRunning(_) => ErrorCode::ClusterNotRunning,
            InstanceError::ClusterNotOwned { .. } => ErrorCode::ClusterNotOwned,
            InstanceError::ClusterMismatch { .. } => ErrorCode::ClusterMismatch,
            InstanceError::Tasks(e) => e.code(),
            InstanceError::Join(_) => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The desktop app shares one `Instances` between async commands on a multi-threaded
    /// runtime: it and its futures must be `Send + Sync` / `Send`.
    #[test]
    fn instances_can_be_shared_across_tasks() {
        fn shared<T: Send + Sync>(_: &T) {}
        fn sendable<F: std::future::Future + Send>(_: F) {}
        let dir = tempfile::tempdir().unwrap();
        let keyring: Arc<dyn CredentialStore> = Arc::new(Keyring::in_memory());
        let inst = Instances::with_credentials(dir.path(), Ok(keyring)).unwrap();
        shared(&inst);
        sendable(inst.list());
        sendable(inst.create(CreateRequest::default()));
        sendable(inst.register(RegisterRequest {
            name: "x".into(),
            endpoint: Endpoint::new("h", 1, "u", None, SslMode::Disable).unwrap(),
            password: None,
            test: false,
        }));
        sendable(inst.remove("x"));
        sendable(crate::sandbox::create(&inst, None));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.expose().len(), 32);
        assert_ne!(a, b);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
