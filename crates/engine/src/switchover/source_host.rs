//! A source managed on another registered host, fenced there by its own agent: the process
//! that switches over (on the destination's host) reaches the source's host itself, so
//! nothing of the fence depends on the workstation staying connected.
//!
//! [`reach`] is tried when the plan is built: connect with the accepted host key, the
//! agent's greeting, the instance known there (the same id) and running. Only a source
//! reached is offered the `shutdown` fence; otherwise [`Unreached`] says why, as a value
//! the preview shows. The fence then stops it there ([`RemoteServer::stop`], which answers
//! the stopped cluster's pg_control facts) and a rollback starts it again
//! ([`RemoteServer::start`]), reconnecting when the agent was lost in between.

use std::sync::{Arc, Mutex};

use super::pg_control::ControlFile;
use crate::agent::protocol::Request;
use crate::agent::{AgentClient, AgentError};
use crate::host::{HostError, Hosts};
use crate::instances::{InstanceStatus, State};
use crate::store::{HostRecord, InstanceId};
use crate::{Coded, ErrorCode};

/// How the source's host came out.
#[derive(Debug, Clone)]
pub enum SourceHost {
    /// Its agent answers and runs the source.
    Reached(RemoteServer),
    /// The `shutdown` fence cannot be driven there.
    Unreachable(Unreached),
}

/// Why the source's host cannot fence it, with the code of the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreached {
    /// The host's registered name.
    pub host: String,
    /// What the failure is (`ssh_auth_failed`, `host_key_mismatch`, …).
    pub code: ErrorCode,
    /// For people.
    pub error: String,
}

/// The source's instance on its host, through that host's agent.
#[derive(Clone)]
pub struct RemoteServer {
    /// The host as the workstation registered it.
    pub host: HostRecord,
    /// The instance's name there.
    pub instance: String,
    hosts: Hosts,
    agent: Arc<Mutex<Arc<AgentClient>>>,
}

impl std::fmt::Debug for RemoteServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteServer")
            .field("host", &self.host.name)
            .field("instance", &self.instance)
            .finish()
    }
}

/// Why a call to the source's host failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("the source's host {host} cannot be reached from here: {source}")]
    Host {
        host: String,
        #[source]
        source: HostError,
    },
    #[error("on the source's host {host}: {source}")]
    Agent {
        host: String,
        #[source]
        source: AgentError,
    },
}

impl Coded for RemoteError {
    fn code(&self) -> ErrorCode {
        match self {
            RemoteError::Host { source, .. } => source.code(),
            RemoteError::Agent { source, .. } => source.code(),
        }
    }
}

/// Reaches `host` from here and checks that it manages the source `instance` (id `id`),
/// running unless `stopped_ok` (undoing a fence that stopped it).
pub async fn reach(
    hosts: &Hosts,
    host: &HostRecord,
    instance: &str,
    id: &InstanceId,
    stopped_ok: bool,
) -> SourceHost {
    let unreached = |code, error: String| {
        SourceHost::Unreachable(Unreached {
            host: host.name.clone(),
            code,
            error,
        })
    };
    let agent = match hosts.reach(host).await {
        Ok(agent) => agent,
        Err(e) => return unreached(e.code(), e.to_string()),
    };
    let status: InstanceStatus = match agent
        .call(Request::InstanceStatus {
            name: instance.to_string(),
            password: None,
        })
        .await
    {
        Ok(s) => s,
        Err(e) => return unreached(e.code(), e.to_string()),
    };
    if status.instance.id != *id || status.instance.managed.is_none() {
        return unreached(
            ErrorCode::NotManaged,
            format!(
                "{} is not the source's managed instance on {}",
                instance, host.name
            ),
        );
    }
    if status.state != State::Running && !(stopped_ok && status.state == State::Stopped) {
        return unreached(
            ErrorCode::ClusterNotRunning,
            format!("{instance} is {} on {}", status.state.as_str(), host.name),
        );
    }
    SourceHost::Reached(RemoteServer {
        host: host.clone(),
        instance: instance.to_string(),
        hosts: hosts.clone(),
        agent: Arc::new(Mutex::new(agent)),
    })
}

impl RemoteServer {
    /// The host's agent: the one reached, or a new one when its channel closed.
    async fn agent(&self) -> Result<Arc<AgentClient>, RemoteError> {
        let current = self.agent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if !current.is_closed() {
            return Ok(current);
        }
        let fresh = self
            .hosts
            .reach(&self.host)
            .await
            .map_err(|source| RemoteError::Host {
                host: self.host.name.clone(),
                source,
            })?;
        *self.agent.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<T, RemoteError> {
        self.agent()
            .await?
            .call(request)
            .await
            .map_err(|source| RemoteError::Agent {
                host: self.host.name.clone(),
                source,
            })
    }

    /// Stops the source there (fast, waited for) and reads its pg_control there.
    pub async fn stop(&self) -> Result<ControlFile, RemoteError> {
        self.call(Request::FenceStop {
            name: self.instance.clone(),
        })
        .await
    }

    /// Starts the source there again (a rollback).
    pub async fn start(&self) -> Result<(), RemoteError> {
        let _: serde_json::Value = self
            .call(Request::InstanceStart {
                name: self.instance.clone(),
                confirm_primary: None,
            })
            .await?;
        Ok(())
    }
}
