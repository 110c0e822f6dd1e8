//! pgrelocate desktop shell: the Tauri window over the engine.
//!
//! Commands are one-line wrappers over `pgrelocate_engine`; everything worth testing
//! without a window lives in the engine. Errors cross the IPC boundary as `{code, message}`;
//! long work streams typed events through channels, and its state stays here in Rust so a
//! reloaded page can re-subscribe.

pub mod commands;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod state;

use tauri::Manager;

/// Starts the desktop app: logging, the engine, the command handlers and the main window.
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let log_dir = logging::init(logging::log_dir(app.path().app_log_dir().ok()));
            tracing::info!(
                version = pgrelocate_engine::VERSION,
                log_dir = ?log_dir,
                "pgrelocate desktop starting"
            );
            app.manage(state::Console::open(log_dir));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::instances::instance_list,
            commands::instances::instance_status,
            commands::instances::installations,
            commands::instances::instance_create,
            commands::instances::instance_register,
            commands::instances::connection_test,
            commands::instances::instance_start,
            commands::instances::instance_stop,
            commands::instances::instance_remove,
            commands::instances::sandbox_create,
            commands::instances::sandbox_remove,
            commands::credentials::credential_status,
            commands::credentials::credential_set,
            commands::credentials::credential_forget,
            commands::credentials::credential_test,
            commands::detail::instance_parameters,
            commands::detail::instance_log,
            commands::detail::host_addresses,
            commands::assessments::source_preparations,
            commands::assessments::destination_prerequisites,
            commands::assessments::assessment_start,
            commands::assessments::assessment_watch,
            commands::assessments::assessment_list,
            commands::assessments::assessment_delete,
            commands::reports::report_get,
            commands::reports::report_export,
        ])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
