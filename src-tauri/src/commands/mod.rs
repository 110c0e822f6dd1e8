//! The `#[tauri::command]` handlers: thin wrappers over the engine, one module per console
//! area. Each returns `Result<_, CommandError>`, which the webview sees as `{code, message}`.

pub mod access;
pub mod assessments;
pub mod credentials;
pub mod detail;
pub mod hosts;
pub mod instances;
pub mod reports;
pub mod switchover;
pub mod tasks;

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// What the console shows about itself: the version and where its state and logs live.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AppInfo {
    /// The engine's version.
    pub version: String,
    /// The state directory (`$PGRELOCATE_HOME` or the platform data directory).
    pub state_dir: String,
    /// The folder of the app's log files, if it could be created.
    pub log_dir: Option<String>,
}

/// The app's version, state directory and log folder, shown in the console's frame.
#[tauri::command]
pub fn app_info(console: State<'_, Console>) -> Result<AppInfo, CommandError> {
    let state_dir = match console.state_dir() {
        Some(dir) => dir.clone(),
        None => pgrelocate_engine::home::state_dir()?,
    };
    Ok(AppInfo {
        version: pgrelocate_engine::VERSION.to_owned(),
        state_dir: state_dir.display().to_string(),
        log_dir: console.log_dir.as_ref().map(|d| d.display().to_string()),
    })
}
