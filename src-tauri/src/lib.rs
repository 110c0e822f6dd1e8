//! pgrelocate desktop shell: the Tauri window over the engine.
//!
//! Commands are one-line wrappers over `pgrelocate_engine`; everything worth testing
//! without a window lives in the engine. Errors cross the IPC boundary as `{code, message}`.

pub mod commands;
pub mod error;
mod logging;

/// Starts the desktop app: logging, the command handlers and the main window.
pub fn run() {
    logging::init();
    tracing::info!(
        version = pgrelocate_engine::VERSION,
        "pgrelocate desktop starting"
    );
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
