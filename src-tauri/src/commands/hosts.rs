//! The Hosts page: remote hosts reached over SSH, where the same binary runs as an agent
//! (add with an explicitly trusted host key, list, check, remove).

use pgrelocate_engine::host::{AddHostRequest, HostCheck, HostKey, HostProgress, Hosts};
use pgrelocate_engine::store::HostRecord;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// Sends each step to the page; a page that went away only misses the steps.
fn progress_to(channel: &Channel<HostProgress>) -> impl Fn(HostProgress) + Send + Sync + '_ {
    move |step| {
        if let Err(e) = channel.send(step) {
            tracing::debug!(error = %e, "a host progress step did not reach the page");
        }
    }
}

/// Every registered host.
#[tauri::command]
pub fn host_list(console: State<'_, Console>) -> Result<Vec<HostRecord>, CommandError> {
    Ok(console.hosts()?.list()?)
}

/// Registers a host once it answers, its key is trusted and its agent runs; steps go to
/// `on_progress`. A host whose key is not known fails with `host_key_unknown` unless
/// `request.accept_host_key` names it.
#[tauri::command]
pub async fn host_add(
    console: State<'_, Console>,
    request: AddHostRequest,
    on_progress: Channel<HostProgress>,
) -> Result<HostCheck, CommandError> {
    let hosts: Hosts = console.hosts()?;
    tracing::info!(host = %request.name, "host add requested from the console");
    Ok(hosts.add(&request, &progress_to(&on_progress)).await?)
}

/// The keys a not-yet-trusted host offers (nothing is trusted or stored), for the DBA to
/// compare with the host administrator's.
#[tauri::command]
pub async fn host_offered_keys(
    console: State<'_, Console>,
    request: AddHostRequest,
) -> Result<Vec<HostKey>, CommandError> {
    let hosts: Hosts = console.hosts()?;
    Ok(hosts.offered_keys(&request).await?)
}

/// Reaches the host, makes sure its agent runs and reads its facts; steps go to
/// `on_progress`.
#[tauri::command]
pub async fn host_check(
    console: State<'_, Console>,
    name: String,
    on_progress: Channel<HostProgress>,
) -> Result<HostCheck, CommandError> {
    let hosts: Hosts = console.hosts()?;
    Ok(hosts.check(&name, &progress_to(&on_progress)).await?)
}

/// Forgets a host and closes its SSH connection.
#[tauri::command]
pub async fn host_remove(console: State<'_, Console>, name: String) -> Result<(), CommandError> {
    let hosts: Hosts = console.hosts()?;
    hosts.remove(&name).await?;
    tracing::info!(host = %name, "host removed from the console");
    Ok(())
}
