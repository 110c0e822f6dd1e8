//! Registering an existing cluster as managed ("adopt"): pgrelocate then starts, stops and
//! reads it (status, parameters, server log) like one it created, and can fence it by
//! shutting it down at a switchover — but never deletes its data directory and leaves its
//! configuration as it is. The cluster must be running: its password and its identity (the
//! server on the port serves that data directory) are checked before anything is stored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{absolute, InstanceError, Instances};
use crate::endpoint::{Endpoint, SslMode};
use crate::secrets::Password;
use crate::server::{OsUser, ServerError};
use crate::store::{InstanceId, InstanceName, InstanceRecord, ManagedDetails, StoreError};

/// A request to adopt an existing cluster.
#[derive(Debug, Clone)]
pub struct AdoptRequest {
    /// Name to register it under.
    pub name: String,
    /// Its data directory (on the host when `host` is set).
    pub data_dir: PathBuf,
    /// Folder of its server binaries; found by its major version when `None`.
    pub bin_dir: Option<PathBuf>,
    /// A superuser role to connect as.
    pub user: String,
    /// That role's password, kept in the keyring.
    pub password: Password,
    /// The registered host it runs on; `None`: this machine.
    pub host: Option<String>,
}

/// How long the identity check may wait for the server.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

impl Instances {
    /// Adopts the running cluster in `req.data_dir` as a managed instance (see the module).
    pub async fn adopt(&self, req: AdoptRequest) -> Result<InstanceRecord, InstanceError> {
        if let Some(host) = req.host.clone() {
            return self.adopt_on_host(&host, req).await;
        }
        let record = self.adoptable(&req).await?;
        self.keyring()?;
        let stored = self.store.insert_instance(&record)?;
        if let Err(e) = self.keyring_save(&stored.id, &req.password).await {
            let _ = self.store.delete_instance(&stored.id);
            return Err(e);
        }
        tracing::info!(name = %stored.name, data_dir = %req.data_dir.display(), "adopted an existing cluster");
        Ok(stored)
    }

    /// The record `req` would store, once the cluster is found running, reachable with the
    /// password, and serving that data directory. Changes nothing.
    pub(crate) async fn adoptable(
        &self,
        req: &AdoptRequest,
    ) -> Result<InstanceRecord, InstanceError> {
        let name = InstanceName::new(&req.name)?;
        if self.store.find_instance(name.as_str())?.is_some() {
            return Err(StoreError::DuplicateName(name.to_string()).into());
        }
        let data_dir = absolute(&req.data_dir)?;
        let major = cluster_major(&data_dir)?;
        let installation = self.installation(major, req.bin_dir.as_deref()).await?;
        let os_user = server_user(&data_dir)?;
        let port = running_port(&data_dir)?;
        let endpoint = Endpoint::new("127.0.0.1", port, &req.user, None, SslMode::Prefer)?;
        check_identity(&endpoint, &req.password, &data_dir).await?;
        Ok(InstanceRecord {
            id: InstanceId::generate(),
            name,
            endpoint,
            managed: Some(ManagedDetails {
                data_dir,
                bin_dir: installation.bin_dir,
                major,
                os_user: os_user.map(|u| u.name),
                created_dir: None,
                host: None,
                adopted: true,
            }),
            created_at: String::new(),
        })
    }
}

/// The cluster's major version, from its `PG_VERSION`.
fn cluster_major(data_dir: &Path) -> Result<u32, InstanceError> {
    let file = data_dir.join("PG_VERSION");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InstanceError::NotACluster(data_dir.to_path_buf()))
        }
        Err(e) => return Err(ServerError::io(&file)(e).into()),
    };
    let major = text
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| InstanceError::NotACluster(data_dir.to_path_buf()))?;
    if !(crate::version::MIN_MAJOR..=crate::version::MAX_MAJOR).contains(&major) {
        return Err(InstanceError::UnsupportedMajor(major));
    }
    Ok(major)
}

/// The OS user its server runs as: the data directory's owner, which this process must be
/// (or be root, and then run the server as that owner).
fn server_user(data_dir: &Path) -> Result<Option<OsUser>, InstanceError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(data_dir).map_err(ServerError::io(data_dir))?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if me == 0 {
        let owner = user_name(meta.uid()).ok_or(InstanceError::ClusterNotOwned {
            data_dir: data_dir.to_path_buf(),
            owner: meta.uid().to_string(),
        })?;
        return Ok(Some(OsUser::lookup(&owner)?));
    }
    if meta.uid() != me {
        return Err(InstanceError::ClusterNotOwned {
            data_dir: data_dir.to_path_buf(),
            owner: user_name(meta.uid()).unwrap_or_else(|| meta.uid().to_string()),
        });
    }
    Ok(None)
}

fn user_name(uid: u32) -> Option<String> {
    // SAFETY: getpwuid returns static storage or null; the name is copied at once.
    unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The port of the running server, from `postmaster.pid` (its fourth line), once its
/// process is seen alive.
fn running_port(data_dir: &Path) -> Result<u16, InstanceError> {
    let not_running = || InstanceError::ClusterNotRunning(data_dir.to_path_buf());
    let text =
        std::fs::read_to_string(data_dir.join("postmaster.pid")).map_err(|_| not_running())?;
    let mut lines = text.lines();
    let pid: u32 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(not_running)?;
    if !crate::store::leases::process_alive(pid) {
        return Err(not_running());
    }
    lines
        .nth(2)
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(not_running)
}

/// Connects with the password and checks that the server there serves `data_dir`.
async fn check_identity(
    endpoint: &Endpoint,
    password: &Password,
    data_dir: &Path,
) -> Result<(), InstanceError> {
    let client = crate::sql::connect(endpoint, Some(password), CHECK_TIMEOUT).await?;
    let row = client
        .query_one("SELECT current_setting('data_directory')", &[])
        .await
        .map_err(|e| crate::sql::SqlError::from_driver(&e, endpoint))?;
    let served = PathBuf::from(row.get::<_, String>(0));
    let same = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if same(&served) != same(data_dir) {
        return Err(InstanceError::ClusterMismatch {
            port: endpoint.port,
            data_dir: data_dir.to_path_buf(),
            served,
        });
    }
    Ok(())
}
