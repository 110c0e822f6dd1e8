// The package manifest sits at the repository root (the Tauri CLI wants it beside
// tauri.conf.json), so the capabilities folder is named relative to the root.

/// Every command the app registers; each needs an explicit grant in a capability.
const COMMANDS: &[&str] = &[
    "app_info",
    "instance_list",
    "instance_status",
    "installations",
    "instance_create",
    "instance_register",
    "instance_adopt",
    "connection_test",
    "instance_start",
    "instance_stop",
    "instance_remove",
    "sandbox_plan",
    "sandbox_create",
    "sandbox_remove",
    "credential_status",
    "credential_set",
    "credential_forget",
    "credential_test",
    "instance_parameters",
    "instance_log",
    "host_addresses",
    "source_preparations",
    "destination_prerequisites",
    "assessment_start",
    "assessment_watch",
    "assessment_list",
    "assessment_delete",
    "report_get",
    "report_freshness",
    "report_export",
    "task_list",
    "task_status",
    "task_create",
    "task_cancel",
    "task_retry",
    "task_reverse",
    "task_watch",
    "task_events_before",
    "task_lag",
    "task_unwatch",
    "switchover_preview",
    "switchover_start",
    "failover_preview",
    "failover_start",
    "switchover_watch",
    "host_list",
    "host_add",
    "host_offered_keys",
    "host_check",
    "host_remove",
    "access_diff",
    "access_apply",
    "access_undo",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    // The embedded UI (custom-protocol builds): a fresh `npm run build` must reach the binary.
    println!("cargo:rerun-if-changed=dist");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
