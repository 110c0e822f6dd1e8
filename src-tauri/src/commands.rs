//! The `#[tauri::command]` handlers: thin wrappers over the engine.

use crate::error::CommandError;
use pgrelocate_engine::home;
use serde::Serialize;

/// What the console shows about itself: the version and where its state lives.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// The engine's version.
    pub version: String,
    /// The state directory (`$PGRELOCATE_HOME` or the platform data directory).
    pub state_dir: String,
}

/// The app's version and state directory, shown in the console's frame.
#[tauri::command]
pub fn app_info() -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        version: pgrelocate_engine::VERSION.to_owned(),
        state_dir: home::state_dir()?.display().to_string(),
    })
}
