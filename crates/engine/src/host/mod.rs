//! Remote hosts (issue 13): machines pgrelocate reaches over SSH, where the same binary runs
//! as an agent. [`Hosts`] adds, checks, lists and removes them, and starts their agent.
//!
//! - [`target`]: the `[USER@]HOST` a DBA types, checked before anything runs.
//! - [`ssh`]: the system OpenSSH client — strict host keys, batch mode, one multiplexed
//!   connection per host.
//! - [`host_key`]: the key a host offers and accepting it explicitly.
//! - [`install`]: the agent binary on the host (installed, cached or uploaded).
//! - `reach`: a host another pgrelocate registered, reached from here (the source's host,
//!   from the destination's, for the `shutdown` fence).

pub mod host_key;
pub mod install;
mod pool;
mod reach;
pub mod ssh;
pub mod target;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::agent::binary::{self, BinaryError};
use crate::agent::{AgentClient, AgentError, Facts};
use crate::quote::shell::word;
use crate::store::{HostRecord, InstanceName, NameError, Store, StoreError};
pub use host_key::HostKey;
pub use install::AgentPlacement;
use ssh::{Ssh, SshError};
use target::TargetError;

/// Why a host operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("host {0}")]
    Name(#[from] NameError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("no host named {0:?} is registered")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error(
        "the SSH host key of {host} is not known: {}. Check it with the host's administrator \
         (ssh-keygen -l -f /etc/ssh/ssh_host_*_key.pub on the host), then accept it explicitly",
        describe_keys(.offered)
    )]
    KeyUnknown { host: String, offered: Vec<HostKey> },
    #[error(
        "{host} offers {}, not the key {given} you accepted: nothing was changed",
        describe_keys(.offered)
    )]
    KeyMismatch {
        host: String,
        given: String,
        offered: Vec<HostKey>,
    },
    #[error("{host} cannot run this pgrelocate: {detail}")]
    Incompatible { host: String, detail: String },
    #[error("cannot upload the agent to {host}: {detail}")]
    Upload { host: String, detail: String },
    #[error(transparent)]
    Binary(#[from] BinaryError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot use pgrelocate's ssh folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The record `req` describes, its destination and identity file checked (not stored).
fn record_for(req: &AddHostRequest) -> Result<HostRecord, HostError> {
    let dest = target::parse_destination(&req.destination)?;
    let identity = req
        .identity
        .as_deref()
        .map(target::check_identity)
        .transpose()?;
    Ok(HostRecord {
        name: req.name.clone(),
        ssh_user: dest.user,
        ssh_host: dest.host,
        ssh_port: req.port,
        identity,
        host_key: None,
        added_at: jiff::Timestamp::now().to_string(),
    })
}

fn describe_keys(keys: &[HostKey]) -> String {
    keys.iter()
        .map(|k| format!("{} {}", k.kind, k.fingerprint))
        .collect::<Vec<_>>()
        .join(", ")
}

impl crate::Coded for HostError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            HostError::Name(_) => ErrorCode::InvalidName,
            HostError::Target(_) => ErrorCode::InvalidHost,
            HostError::Unknown(_) => ErrorCode::UnknownHost,
            HostError::Store(e) => e.code(),
            HostError::Ssh(e) => e.code(),
            HostError::KeyUnknown { .. } => ErrorCode::HostKeyUnknown,
            HostError::KeyMismatch { .. } => ErrorCode::HostKeyMismatch,
            HostError::Incompatible { .. } => ErrorCode::HostIncompatible,
            HostError::Upload { .. } => ErrorCode::Agent,
            HostError::Binary(e) => e.code(),
            HostError::Agent(e) => e.code(),
            HostError::Folder { .. } => ErrorCode::Io,
        }
    }
}

/// What `host add` is asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AddHostRequest {
    /// The name to register it under.
    pub name: String,
    /// `[USER@]HOST` (an ssh_config alias works).
    pub destination: String,
    /// SSH port, when not ssh's default for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub port: Option<u16>,
    /// A private key file, when not ssh's defaults or agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub identity: Option<PathBuf>,
    /// The fingerprint of the host key the DBA accepts (`SHA256:…`), for a host whose key
    /// is not known yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub accept_host_key: Option<String>,
}

/// A step of adding or checking a host, for progress lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum HostProgress {
    /// Opening the SSH connection.
    Connecting,
    /// The DBA's accepted key matched what the host offers.
    KeyAccepted { fingerprint: String },
    /// Reading what the host is and has.
    Probing,
    /// Uploading the agent binary.
    Uploading { sent: u64, total: u64 },
    /// Running the agent binary once on the host.
    Verifying,
    /// Starting the agent and reading the host's facts.
    StartingAgent,
}

/// What a check of a host found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HostCheck {
    /// The host.
    pub host: HostRecord,
    /// Time to run a command there over SSH (connection set-up included when it had to be
    /// opened), in milliseconds.
    pub ssh_ms: u64,
    /// Where its agent comes from.
    pub agent: AgentPlacement,
    /// What the agent reports.
    pub facts: Facts,
}

/// The hosts service.
#[derive(Debug, Clone)]
pub struct Hosts {
    store: Arc<Store>,
    ssh_dir: PathBuf,
}

type Progress<'a> = &'a (dyn Fn(HostProgress) + Send + Sync);

impl Hosts {
    /// The hosts of the state directory `state_dir`, whose `ssh/` folder holds pgrelocate's
    /// known_hosts and control sockets.
    pub fn new(store: Arc<Store>, state_dir: &Path) -> Hosts {
        Hosts {
            store,
            ssh_dir: state_dir.join("ssh"),
        }
    }

    fn ssh(&self, host: &HostRecord) -> Ssh {
        Ssh::new(host, &self.ssh_dir)
    }

    fn ensure_dir(&self) -> Result<(), HostError> {
        let made = std::fs::create_dir_all(&self.ssh_dir).and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.ssh_dir, std::fs::Permissions::from_mode(0o700))
        });
        made.map_err(|source| HostError::Folder {
            path: self.ssh_dir.clone(),
            source,
        })
    }

    /// Registers a host once it answers, its key is trusted and its agent runs. A host whose
    /// key is not known is refused with the key's fingerprint ([`HostError::KeyUnknown`])
    /// unless `accept_host_key` names it. Nothing is stored (and no key trusted) on failure.
    pub async fn add(
        &self,
        req: &AddHostRequest,
        progress: Progress<'_>,
    ) -> Result<HostCheck, HostError> {
        InstanceName::new(&req.name)?;
        let mut record = record_for(req)?;
        if self.store.find_host(&req.name)?.is_some() {
            return Err(StoreError::DuplicateHost(req.name.clone()).into());
        }
        // An agent kept for an earlier host of this name is not this one's.
        pool::forget(&self.ssh_dir, &req.name);
        self.ensure_dir()?;
        // Keys accepted now are trusted from a file of their own until the host is stored.
        let pending = tempfile::Builder::new()
            .prefix("known_hosts.pending")
            .tempfile_in(&self.ssh_dir)
            .map_err(|source| HostError::Folder {
                path: self.ssh_dir.clone(),
                source,
            })?;
        let ssh = self
            .ssh(&record)
            .with_pending_known_hosts(pending.path().to_path_buf());
        progress(HostProgress::Connecting);
        let mut accepted = Vec::new();
        match ssh.run("true").await {
            Ok(_) => {}
            Err(SshError::KeyUnknown { host }) => {
                let offered = host_key::offered(&ssh).await?;
                let Some(given) = &req.accept_host_key else {
                    return Err(HostError::KeyUnknown { host, offered });
                };
                accepted = offered
                    .iter()
                    .filter(|k| host_key::matches(k, given))
                    .cloned()
                    .collect();
                if accepted.is_empty() {
                    return Err(HostError::KeyMismatch {
                        host,
                        given: given.clone(),
                        offered,
                    });
                }
                host_key::append(pending.path(), &accepted).map_err(|source| {
                    HostError::Folder {
                        path: pending.path().to_path_buf(),
                        source,
                    }
                })?;
                record.host_key = Some(accepted[0].fingerprint.clone());
                progress(HostProgress::KeyAccepted {
                    fingerprint: accepted[0].fingerprint.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let check = self.check_with(&ssh, &record, progress).await?;
        if !accepted.is_empty() {
            host_key::append(&ssh.known_hosts(), &accepted).map_err(|source| {
                HostError::Folder {
                    path: ssh.known_hosts(),
                    source,
                }
            })?;
        }
        self.store.insert_host(&record)?;
        Ok(check)
    }

    /// The keys a host offers, read without trusting any of them or storing anything, so a
    /// DBA refused with [`HostError::KeyUnknown`] can be shown the fingerprints to compare
    /// with the host administrator's before accepting one.
    pub async fn offered_keys(&self, req: &AddHostRequest) -> Result<Vec<HostKey>, HostError> {
        let record = record_for(req)?;
        self.ensure_dir()?;
        Ok(host_key::offered(&self.ssh(&record)).await?)
    }

    /// Every registered host.
    pub fn list(&self) -> Result<Vec<HostRecord>, HostError> {
        Ok(self.store.list_hosts()?)
    }

    /// The registered host of that name.
    pub fn get(&self, name: &str) -> Result<HostRecord, HostError> {
        self.store
            .find_host(name)?
            .ok_or_else(|| HostError::Unknown(name.to_string()))
    }

    /// Reaches the host, makes sure its agent runs, and reads its facts.
    pub async fn check(&self, name: &str, progress: Progress<'_>) -> Result<HostCheck, HostError> {
        let record = self.get(name)?;
        let ssh = self.ssh(&record);
        progress(HostProgress::Connecting);
        self.check_with(&ssh, &record, progress).await
    }

    async fn check_with(
        &self,
        ssh: &Ssh,
        record: &HostRecord,
        progress: Progress<'_>,
    ) -> Result<HostCheck, HostError> {
        let started = Instant::now();
        ssh.run("true").await?;
        let ssh_ms = started.elapsed().as_millis() as u64;
        let (agent, placement) = self.start_agent(ssh, progress).await?;
        let facts = agent.facts().await?;
        Ok(HostCheck {
            host: record.clone(),
            ssh_ms,
            agent: placement,
            facts,
        })
    }

    async fn start_agent(
        &self,
        ssh: &Ssh,
        progress: Progress<'_>,
    ) -> Result<(AgentClient, AgentPlacement), HostError> {
        let local = binary::describe(&binary::locate()?).await?;
        let placement = install::ensure(ssh, &local, progress).await?;
        progress(HostProgress::StartingAgent);
        let cmd = ssh
            .command(&format!("exec {} agent --stdio", word(placement.path())))
            .await;
        let client = AgentClient::spawn(cmd, ssh.label()).await?;
        Ok((client, placement))
    }

    /// A running agent on the host (installed or uploaded first when needed), shared by
    /// this process's calls while its channel stays open.
    pub async fn agent(&self, name: &str) -> Result<Arc<AgentClient>, HostError> {
        let record = self.get(name)?;
        if let Some(agent) = pool::live(&self.ssh_dir, name) {
            return Ok(agent);
        }
        let (client, _) = self.start_agent(&self.ssh(&record), &|_| {}).await?;
        Ok(pool::keep(&self.ssh_dir, name, client))
    }

    /// Forgets a host and closes its SSH connection. Its key stays in pgrelocate's
    /// known_hosts (a host added again keeps being checked against it).
    pub async fn remove(&self, name: &str) -> Result<(), HostError> {
        let record = self.get(name)?;
        self.store.delete_host(name)?;
        pool::forget(&self.ssh_dir, name);
        self.ssh(&record).close().await;
        Ok(())
    }
}
