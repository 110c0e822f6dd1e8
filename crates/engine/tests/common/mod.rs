//! Set-up every engine integration test does the same way: a state directory the server
//! user can traverse, and the engine's services over it, with an in-memory keyring and
//! ports for managed instances that no parallel test takes.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::assess::Options;
use pgrelocate_engine::instances::Instances;
use pgrelocate_engine::secrets::CredentialStore;
use pgrelocate_engine::task::{TaskSettings, Tasks};

/// A fresh state directory under `/tmp`, mode 0711: when the tests run as root the servers
/// run as `postgres`, who must reach the managed data directories inside it.
pub fn state_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    dir
}

/// `Instances` over `dir` with `keyring`; new managed instances take their ports from a
/// block this test process holds (see `PortBlock`).
pub fn instances(dir: &Path, keyring: Arc<dyn CredentialStore>) -> Instances {
    let block = pgrelocate_testkit::PortBlock::reserve();
    Instances::with_credentials(dir, Ok(keyring))
        .unwrap()
        .with_ports(block.env_value().parse().unwrap())
}

/// `Tasks` that sample twice a second, give up a dead driver's lease quickly and wait
/// patiently for a standby that loads a slow machine.
pub fn tasks(instances: Arc<Instances>) -> Tasks {
    let settings = TaskSettings {
        sample_interval: Duration::from_millis(500),
        lease_ttl: Duration::from_secs(6),
        standby_connect_timeout: Duration::from_secs(120),
        ..TaskSettings::default()
    };
    Tasks::with_settings(instances, settings)
}

/// Assessment options for tests: a short WAL sample, and connect timeouts long enough for a
/// loopback server on a loaded two-core machine (3 s was seen to run out while a dozen
/// test servers and pgbench shared the cores).
pub fn assess_options() -> Options {
    Options {
        connect_timeout: Duration::from_secs(10),
        wal_sample: Duration::from_millis(500),
        ..Options::default()
    }
}
