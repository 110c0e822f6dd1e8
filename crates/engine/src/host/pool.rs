//! One running agent per host in this process: the first call starts it (its binary checked
//! on both sides, or uploaded), later calls share it while its channel stays open. Starting
//! an agent costs an SSH session and a checksum of a large binary on each side — too much
//! to pay on every read of a task that is being followed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use crate::agent::AgentClient;

/// A host by the state directory that registered it (its ssh folder) and its name.
type Key = (PathBuf, String);

static AGENTS: LazyLock<Mutex<HashMap<Key, Arc<AgentClient>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn key(ssh_dir: &Path, name: &str) -> Key {
    (ssh_dir.to_path_buf(), name.to_string())
}

/// The agent already running for the host, if its channel is still open.
pub(super) fn live(ssh_dir: &Path, name: &str) -> Option<Arc<AgentClient>> {
    let mut agents = AGENTS.lock().unwrap_or_else(|e| e.into_inner());
    let key = key(ssh_dir, name);
    match agents.get(&key) {
        Some(agent) if !agent.is_closed() => Some(agent.clone()),
        Some(_) => {
            agents.remove(&key);
            None
        }
        None => None,
    }
}

/// Keeps `agent` as the host's running agent and returns it.
pub(super) fn keep(ssh_dir: &Path, name: &str, agent: AgentClient) -> Arc<AgentClient> {
    let agent = Arc::new(agent);
    AGENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key(ssh_dir, name), agent.clone());
    agent
}

/// Forgets the host's agent (the host is removed or registered anew); calls still open on
/// it finish, and it stops once the last is done.
pub(super) fn forget(ssh_dir: &Path, name: &str) {
    AGENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key(ssh_dir, name));
}
