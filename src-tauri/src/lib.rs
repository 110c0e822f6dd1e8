//! pgrelocate desktop shell: the Tauri window over the engine.
//!
//! Commands are one-line wrappers over `pgrelocate_engine`; everything worth testing
//! without a window lives in the engine. Errors cross the IPC boundary as `{code, message}`;
//! long work streams typed events through channels, and its state stays here in Rust so a
//! reloaded page can re-subscribe.

pub mod bindings;
pub mod commands;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod state;
pub mod watches;

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
            // Tasks left running by an earlier session are monitored again.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle.state::<state::Console>().attach_tasks().await;
            });
            Ok(())
        })
        // A page that (re)loads subscribes afresh; the old page's subscriptions end.
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Started {
                if let Some(console) = webview.try_state::<state::Console>() {
                    console.watches.clear();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::instances::instance_list,
            commands::instances::instance_status,
            commands::instances::installations,
            commands::instances::instance_create,
            commands::instances::instance_register,
            commands::instances::instance_adopt,
            commands::instances::connection_test,
            commands::instances::instance_start,
            commands::instances::instance_stop,
            commands::instances::instance_remove,
            commands::instances::sandbox_plan,
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
            commands::reports::report_freshness,
            commands::reports::report_export,
            commands::tasks::task_list,
            commands::tasks::task_status,
            commands::tasks::task_create,
            commands::tasks::task_cancel,
            commands::tasks::task_retry,
            commands::tasks::task_reverse,
            commands::tasks::task_watch,
            commands::tasks::task_events_before,
            commands::tasks::task_lag,
            commands::tasks::task_unwatch,
            commands::switchover::switchover_preview,
            commands::switchover::switchover_start,
            commands::switchover::failover_preview,
            commands::switchover::failover_start,
            commands::switchover::switchover_watch,
            commands::hosts::host_list,
            commands::hosts::host_add,
            commands::hosts::host_offered_keys,
            commands::hosts::host_check,
            commands::hosts::host_remove,
            commands::access::access_diff,
            commands::access::access_apply,
            commands::access::access_undo,
        ])
        .build(tauri::generate_context!())
        .expect("the desktop app failed to start")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                // Give the task leases back; the replication itself runs inside PostgreSQL.
                let console = app.state::<state::Console>();
                tauri::async_runtime::block_on(console.shutdown());
            }
        });
}
