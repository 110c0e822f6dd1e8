// The package manifest sits at the repository root (the Tauri CLI wants it beside
// tauri.conf.json), so the capabilities folder is named relative to the root.
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        // Listing the app's commands makes each one need an explicit grant in a capability.
        .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"]));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
