//! Clusters left running by a test process that was killed (no Drop) are stopped and removed.
//! In a file of its own: it points PGRELOCATE_CLUSTERS_DIR at a private directory, so no
//! other test process reaps (or is reaped by) it.

use std::os::unix::fs::PermissionsExt;

use pgrelocate_testkit::cluster::{reap_abandoned, CLUSTERS_DIR_ENV};
use pgrelocate_testkit::server_user::process_exists;
use pgrelocate_testkit::Cluster;

#[tokio::test]
async fn clusters_of_killed_test_processes_are_stopped_and_removed() {
    let base = tempfile::Builder::new()
        .prefix("pgrelocate-reaper-test-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The only test in this binary, so no other thread reads the environment meanwhile.
    std::env::set_var(CLUSTERS_DIR_ENV, base.path());

    let cluster = Cluster::builder(14).start().await.unwrap();
    let pid = cluster.postmaster_pid().unwrap();
    let root = cluster.root_dir().to_path_buf();
    // Make its owner a process that has exited, and skip Drop, as a SIGKILL would.
    let mut owner = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = owner.id();
    owner.wait().unwrap();
    let owner_file = root.join("testkit-owner");
    let recorded = std::fs::read_to_string(&owner_file).unwrap();
    let bin_dir = recorded.lines().nth(1).unwrap().to_string();
    std::fs::write(&owner_file, format!("{dead_pid}\n{bin_dir}\n")).unwrap();
    std::mem::forget(cluster);

    let reaped = reap_abandoned().unwrap();

    assert_eq!(reaped, std::slice::from_ref(&root));
    assert!(!root.exists());
    assert!(!process_exists(pid), "postmaster {pid} still running");
}
