//! Instance detail: parameters, the server log, this host's addresses.

use pgrelocate_engine::inspect::{self, LogTail, Parameter};
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// Most log lines one request returns.
const MAX_LOG_LINES: usize = 2000;

/// The instance's key settings (read-only).
#[tauri::command]
pub async fn instance_parameters(
    console: State<'_, Console>,
    name: String,
) -> Result<Vec<Parameter>, CommandError> {
    let instances = console.instances()?;
    Ok(inspect::parameters(&instances, &name).await?)
}

/// The end of a managed instance's server log.
#[tauri::command]
pub async fn instance_log(
    console: State<'_, Console>,
    name: String,
    lines: usize,
) -> Result<LogTail, CommandError> {
    let instances = console.instances()?;
    let lines = lines.min(MAX_LOG_LINES);
    Ok(inspect::server_log(&instances, &name, lines).await?)
}

/// This host's network addresses, for the access rules a source must add.
#[tauri::command]
pub fn host_addresses() -> Vec<String> {
    inspect::host_addresses()
        .into_iter()
        .map(|ip| ip.to_string())
        .collect()
}
