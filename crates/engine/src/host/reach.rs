//! Reaching a host that *another* pgrelocate registered: the destination's host reaches the
//! source's host itself for the `shutdown` fence (the workstation hands it the host record).
//! The same ssh machinery as for a host registered here (BatchMode, strict host keys, this
//! user's keys, ssh-agent and ssh_config, one multiplexed connection), plus one rule: the
//! key the host offers must be the one the workstation accepted, whatever this machine's
//! known_hosts say. The record is not stored here.

use std::sync::Arc;

use super::{host_key, pool, HostError, Hosts};
use crate::agent::AgentClient;
use crate::store::HostRecord;

/// The pool's name for a host reached for another pgrelocate (never a host registered
/// here, whose name it cannot be: names have no `:`).
fn pool_name(record: &HostRecord) -> String {
    format!("reach:{}", record.name)
}

impl Hosts {
    /// The agent of `record`'s host, reached from here: the identity file is used when it
    /// exists on this machine (else ssh's defaults and agent); the offered host key must
    /// match the fingerprint accepted where the host was registered
    /// ([`HostError::KeyMismatch`] otherwise, before anything is authenticated), and is then
    /// trusted in pgrelocate's own known_hosts here. A record without a fingerprint (ssh
    /// already knew the key there) relies on this machine's known_hosts alone.
    pub async fn reach(&self, record: &HostRecord) -> Result<Arc<AgentClient>, HostError> {
        let name = pool_name(record);
        if let Some(agent) = pool::live(&self.ssh_dir, &name) {
            return Ok(agent);
        }
        let mut record = record.clone();
        record.identity = record.identity.filter(|p| p.is_file());
        self.ensure_dir()?;
        let ssh = self.ssh(&record);
        if let Some(given) = &record.host_key {
            let offered = host_key::offered(&ssh).await?;
            let accepted: Vec<_> = offered
                .iter()
                .filter(|k| host_key::matches(k, given))
                .cloned()
                .collect();
            if accepted.is_empty() {
                return Err(HostError::KeyMismatch {
                    host: record.name.clone(),
                    given: given.clone(),
                    offered,
                });
            }
            let file = ssh.known_hosts();
            let known = std::fs::read_to_string(&file).unwrap_or_default();
            let new: Vec<_> = accepted
                .into_iter()
                .filter(|k| !known.lines().any(|l| l.trim() == k.line.trim()))
                .collect();
            if !new.is_empty() {
                host_key::append(&file, &new)
                    .map_err(|source| HostError::Folder { path: file, source })?;
            }
        }
        let (client, _) = self.start_agent(&ssh, &|_| {}).await?;
        Ok(pool::keep(&self.ssh_dir, &name, client))
    }
}
