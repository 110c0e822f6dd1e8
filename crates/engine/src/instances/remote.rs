//! Managed instances on a registered host: the workstation keeps the record (with
//! `managed.host`) and the password (in its keyring); the host's agent keeps its own record
//! of the same id and does the work there. Every operation is one agent call.

use std::sync::Arc;

use super::{generate_password, InstanceError, InstanceStatus, Instances, Removal, Started, State};
use crate::agent::protocol::{RemoteAdopt, RemoteCreate, Request, Secret};
use crate::agent::AgentClient;
use crate::host::Hosts;
use crate::inspect::{LogTail, Parameter};
use crate::retirement;
use crate::secrets::Password;
use crate::store::{InstanceName, InstanceRecord, Store, StoreError};
use crate::Coded;

/// The host a managed record runs on, if not this machine.
pub(crate) fn host_of(record: &InstanceRecord) -> Option<&str> {
    record.managed.as_ref().and_then(|m| m.host.as_deref())
}

impl Instances {
    /// The hosts of this state directory.
    pub fn hosts(&self) -> Result<Hosts, InstanceError> {
        Ok(Hosts::new(
            Arc::new(Store::open(&self.state_dir)?),
            &self.state_dir,
        ))
    }

    async fn agent(&self, host: &str) -> Result<Arc<AgentClient>, InstanceError> {
        Ok(self.hosts()?.agent(host).await?)
    }

    /// Creates a managed instance on `host`: the password is made here and kept in this
    /// keyring; the agent runs initdb there and forgets it. Nothing is left on either side
    /// when a step fails.
    pub(super) async fn create_on_host(
        &self,
        host: &str,
        request: super::CreateRequest,
    ) -> Result<InstanceRecord, InstanceError> {
        let name = InstanceName::new(&request.name)?;
        if self.store.find_instance(name.as_str())?.is_some() {
            return Err(StoreError::DuplicateName(name.to_string()).into());
        }
        self.hosts()?.get(host)?;
        // The keyring must work before anything is made whose password it would hold.
        self.keyring()?;
        let password = match request.password {
            Some(p) => p,
            None => generate_password()?,
        };
        let agent = self.agent(host).await?;
        let remote: InstanceRecord = agent
            .call(Request::InstanceCreate(RemoteCreate {
                name: name.to_string(),
                major: request.major,
                port: request.port,
                data_dir: request.data_dir,
                bin_dir: request.bin_dir,
                password: Secret::new(&password),
            }))
            .await
            .map_err(crate::host::HostError::from)?;
        let stored = self
            .keep_from_host(host, agent, remote, &password, "half-made instance")
            .await?;
        tracing::info!(name = %stored.name, host, "created managed instance on a host");
        Ok(stored)
    }

    /// Adopts a running cluster of `host` (see [`super::adopt`]): the agent checks it and
    /// the password there; the record is kept on both sides, the password only here.
    pub(super) async fn adopt_on_host(
        &self,
        host: &str,
        request: super::AdoptRequest,
    ) -> Result<InstanceRecord, InstanceError> {
        let name = InstanceName::new(&request.name)?;
        if self.store.find_instance(name.as_str())?.is_some() {
            return Err(StoreError::DuplicateName(name.to_string()).into());
        }
        self.hosts()?.get(host)?;
        self.keyring()?;
        let agent = self.agent(host).await?;
        let record: InstanceRecord = agent
            .call(Request::InstanceAdopt(RemoteAdopt {
                name: name.to_string(),
                data_dir: request.data_dir,
                bin_dir: request.bin_dir,
                user: request.user,
                password: Secret::new(&request.password),
            }))
            .await
            .map_err(crate::host::HostError::from)?;
        let stored = self
            .keep_from_host(host, agent, record, &request.password, "adopted cluster")
            .await?;
        tracing::info!(name = %stored.name, host, "adopted a cluster on a host");
        Ok(stored)
    }

    /// Stores here the record `host`'s agent just made (marked as on that host) and keeps
    /// its password in this keyring; when either fails, the agent forgets `what` again, so
    /// nothing is left on either side.
    async fn keep_from_host(
        &self,
        host: &str,
        agent: Arc<AgentClient>,
        mut record: InstanceRecord,
        password: &Password,
        what: &str,
    ) -> Result<InstanceRecord, InstanceError> {
        if let Some(m) = record.managed.as_mut() {
            m.host = Some(host.to_string());
        }
        let undo = |agent: Arc<AgentClient>| {
            let name = record.name.to_string();
            async move {
                if let Err(e) = agent
                    .call::<Removal>(Request::InstanceRemove { name })
                    .await
                {
                    tracing::warn!(error = %e, "could not remove the {what} on the host");
                }
            }
        };
        let stored = match self.store.insert_instance(&record) {
            Ok(stored) => stored,
            Err(e) => {
                undo(agent).await;
                return Err(e.into());
            }
        };
        if let Err(e) = self.keyring_save(&stored.id, password).await {
            let _ = self.store.delete_instance(&stored.id);
            undo(agent).await;
            return Err(e);
        }
        Ok(stored)
    }

    pub(super) async fn start_on_host(
        &self,
        host: &str,
        record: InstanceRecord,
        confirm_primary: Option<&str>,
    ) -> Result<Started, InstanceError> {
        if let Some(confirm) = confirm_primary {
            if confirm != record.name.as_str() {
                return Err(InstanceError::ConfirmationMismatch(record.name.to_string()));
            }
        }
        let started: Started = self
            .agent(host)
            .await?
            .call(Request::InstanceStart {
                name: record.name.to_string(),
                confirm_primary: confirm_primary.map(str::to_string),
            })
            .await
            .map_err(crate::host::HostError::from)?;
        Ok(Started {
            in_recovery: started.in_recovery,
            retired: retirement::of(&self.store, &record.id)?,
            instance: record,
        })
    }

    pub(super) async fn stop_on_host(
        &self,
        host: &str,
        record: InstanceRecord,
    ) -> Result<InstanceRecord, InstanceError> {
        let _: InstanceRecord = self
            .agent(host)
            .await?
            .call(Request::InstanceStop {
                name: record.name.to_string(),
            })
            .await
            .map_err(crate::host::HostError::from)?;
        Ok(record)
    }

    /// The status as the agent reads it on the host (the connection test runs there), with
    /// this machine's record; an unreachable host is `unknown` with the reason.
    pub(super) async fn status_on_host(
        &self,
        host: &str,
        mut status: InstanceStatus,
    ) -> InstanceStatus {
        let password = match self.password_for(&status.instance).await {
            Ok(p) => p,
            Err(e) => {
                status.error = Some(e.to_string());
                None
            }
        };
        let read = async {
            let remote: InstanceStatus = self
                .agent(host)
                .await?
                .call(Request::InstanceStatus {
                    name: status.instance.name.to_string(),
                    password: password.as_ref().map(Secret::new),
                })
                .await
                .map_err(crate::host::HostError::from)?;
            Ok::<_, InstanceError>(remote)
        };
        match read.await {
            Ok(remote) => {
                status.state = remote.state;
                status.connection = remote.connection;
                status.storage = remote.storage;
                status.error = remote.error.or(status.error);
            }
            Err(e) => {
                status.state = State::Unknown;
                status.error = Some(format!("host {host}: {e} ({})", e.code()));
            }
        }
        status
    }

    /// Removes it on the host (the agent deletes only the folder it created), then here.
    /// A host that cannot be reached keeps the record: nothing is forgotten half-way.
    pub(super) async fn remove_on_host(
        &self,
        host: &str,
        record: InstanceRecord,
    ) -> Result<Removal, InstanceError> {
        let remote: Removal = self
            .agent(host)
            .await?
            .call(Request::InstanceRemove {
                name: record.name.to_string(),
            })
            .await
            .map_err(crate::host::HostError::from)?;
        let mut removal = Removal {
            instance: record.clone(),
            deleted_dir: remote.deleted_dir,
            kept_data_dir: remote.kept_data_dir,
            warning: None,
        };
        if let Err(e) = self.keyring_forget(&record.id).await {
            removal.warning = Some(format!("the password could not be deleted: {e}"));
        }
        self.store.delete_instance(&record.id)?;
        tracing::info!(name = %record.name, host, "removed instance on a host");
        Ok(removal)
    }

    /// The end of the server log, read on the host.
    pub(crate) async fn log_tail_on_host(
        &self,
        host: &str,
        record: &InstanceRecord,
        lines: usize,
    ) -> Result<LogTail, InstanceError> {
        Ok(self
            .agent(host)
            .await?
            .call(Request::InstanceLogTail {
                name: record.name.to_string(),
                lines,
            })
            .await
            .map_err(crate::host::HostError::from)?)
    }

    /// Key parameters, read on the host with this keyring's password.
    pub(crate) async fn parameters_on_host(
        &self,
        host: &str,
        record: &InstanceRecord,
    ) -> Result<Vec<Parameter>, InstanceError> {
        let password = self.password_for(record).await?;
        Ok(self
            .agent(host)
            .await?
            .call(Request::InstanceParameters {
                name: record.name.to_string(),
                password: password.as_ref().map(Secret::new),
            })
            .await
            .map_err(crate::host::HostError::from)?)
    }
}
