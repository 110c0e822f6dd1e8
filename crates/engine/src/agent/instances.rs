//! What the agent does with instances on its host: the same [`Instances`] service a local
//! pgrelocate uses, over the agent's own state directory, with passwords held in memory
//! for the one call that brought them.

use std::sync::Arc;

use super::protocol::{RemoteAdopt, RemoteCreate, Secret};
use crate::inspect::{self, LogTail, Parameter};
use crate::instances::{
    AdoptRequest, CreateRequest, InstanceError, InstanceStatus, Instances, Removal, Started,
};
use crate::secrets::memory::Memory;
use crate::secrets::CredentialStore;
use crate::store::InstanceRecord;
use crate::switchover::pg_control::{self, ControlFile};
use crate::switchover::LocalServer;

/// The host's instances, knowing `password` for instance `name` when given.
async fn open(name: &str, password: Option<&Secret>) -> Result<Instances, InstanceError> {
    let dir = crate::home::state_dir()?;
    let memory = Arc::new(Memory::default());
    let instances =
        Instances::with_credentials(&dir, Ok(memory.clone() as Arc<dyn CredentialStore>))?;
    if let Some(secret) = password {
        if let Some(record) = instances.store().find_instance(name)? {
            memory.save(&record.id, &secret.password())?;
        }
    }
    Ok(instances)
}

/// `instance create` on the host.
pub async fn create(req: RemoteCreate) -> Result<InstanceRecord, InstanceError> {
    let instances = open(&req.name, None).await?;
    instances
        .create(CreateRequest {
            name: req.name,
            major: req.major,
            port: req.port,
            data_dir: req.data_dir,
            bin_dir: req.bin_dir,
            password: Some(req.password.password()),
            host: None,
        })
        .await
}

/// `instance adopt` on the host: the password is checked there and forgotten.
pub async fn adopt(req: RemoteAdopt) -> Result<InstanceRecord, InstanceError> {
    let instances = open(&req.name, None).await?;
    instances
        .adopt(AdoptRequest {
            name: req.name,
            data_dir: req.data_dir,
            bin_dir: req.bin_dir,
            user: req.user,
            password: req.password.password(),
            host: None,
        })
        .await
}

/// `instance start` on the host.
pub async fn start(name: &str, confirm_primary: Option<&str>) -> Result<Started, InstanceError> {
    let instances = open(name, None).await?;
    match confirm_primary {
        Some(confirm) => instances.start_as_primary(name, confirm).await,
        None => instances.start(name).await,
    }
}

/// `instance stop` on the host.
pub async fn stop(name: &str) -> Result<InstanceRecord, InstanceError> {
    open(name, None).await?.stop(name).await
}

/// Why the `shutdown` fence of a source managed here failed.
#[derive(Debug, thiserror::Error)]
pub enum FenceStopError {
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error(transparent)]
    Fence(#[from] crate::switchover::fence::FenceError),
}

impl crate::Coded for FenceStopError {
    fn code(&self) -> crate::ErrorCode {
        match self {
            FenceStopError::Instance(e) => e.code(),
            FenceStopError::Fence(e) => e.code(),
        }
    }
}

/// The `shutdown` fence of a source managed on this host, asked by the destination's host:
/// a fast shutdown waited for as a local fence waits, then its pg_control read here.
pub async fn fence_stop(name: &str) -> Result<ControlFile, FenceStopError> {
    let instances = open(name, None).await?;
    let record = instances
        .store()
        .instance_by_name(name)
        .map_err(InstanceError::from)?;
    let m = match record.managed {
        Some(m) if m.host.is_none() => m,
        _ => return Err(InstanceError::NotManaged(name.to_string()).into()),
    };
    let server = LocalServer {
        os_user: crate::server::OsUser::for_servers(m.os_user.as_deref())
            .map_err(crate::switchover::fence::FenceError::from)?,
        data_dir: m.data_dir,
        bin_dir: m.bin_dir,
    };
    crate::switchover::fence::shut_down(&server).await?;
    tracing::info!(name, "source stopped for the destination's shutdown fence");
    Ok(pg_control::read(&server.data_dir).map_err(crate::switchover::fence::FenceError::from)?)
}

/// `instance status` on the host.
pub async fn status(
    name: &str,
    password: Option<&Secret>,
) -> Result<InstanceStatus, InstanceError> {
    open(name, password).await?.status(name).await
}

/// `instance remove` on the host.
pub async fn remove(name: &str) -> Result<Removal, InstanceError> {
    open(name, None).await?.remove(name).await
}

/// The end of the server log on the host.
pub async fn log_tail(name: &str, lines: usize) -> Result<LogTail, InstanceError> {
    let instances = open(name, None).await?;
    let name = name.to_string();
    tokio::task::spawn_blocking(move || inspect::server_log_tail(&instances, &name, lines))
        .await
        .map_err(|e| InstanceError::Join(e.to_string()))?
}

/// Key parameters, read on the host.
pub async fn parameters(
    name: &str,
    password: Option<&Secret>,
) -> Result<Vec<Parameter>, InstanceError> {
    let instances = open(name, password).await?;
    inspect::parameters(&instances, name).await
}
