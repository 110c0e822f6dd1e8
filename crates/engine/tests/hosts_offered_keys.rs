//! `Hosts::offered_keys` against a real OpenSSH server on loopback (the test kit's
//! `SshServer`): the key a not-yet-trusted host offers is read with its fingerprint, and
//! reading it trusts nothing and stores nothing — an add is still refused afterwards.

use std::sync::Arc;

use pgrelocate_engine::host::ssh::SSH_CONFIG_ENV;
use pgrelocate_engine::host::{AddHostRequest, Hosts};
use pgrelocate_engine::store::Store;
use pgrelocate_engine::Coded;
use pgrelocate_testkit::SshServer;

#[tokio::test(flavor = "multi_thread")]
async fn the_offered_key_is_shown_by_fingerprint_and_nothing_is_trusted() {
    let ssh = SshServer::start().await.unwrap();
    // Each test runs in its own process under nextest: the variable is this test's alone.
    std::env::set_var(SSH_CONFIG_ENV, ssh.client_config());
    let home = tempfile::tempdir().unwrap();
    let hosts = Hosts::new(Arc::new(Store::open(home.path()).unwrap()), home.path());
    let request = AddHostRequest {
        name: "b".into(),
        destination: ssh.destination(),
        port: Some(ssh.port()),
        identity: Some(ssh.user_key()),
        accept_host_key: None,
    };
    let users_own = std::fs::read_to_string(ssh.user_known_hosts()).unwrap_or_default();

    let keys = hosts.offered_keys(&request).await.unwrap();
    let fingerprints: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
    assert_eq!(fingerprints, [ssh.host_key_fingerprint().unwrap()]);
    assert!(!keys[0].kind.is_empty(), "{keys:?}");

    let trusted = home.path().join("ssh/known_hosts");
    assert_eq!(std::fs::read_to_string(&trusted).unwrap_or_default(), "");
    assert_eq!(
        std::fs::read_to_string(ssh.user_known_hosts()).unwrap_or_default(),
        users_own,
        "the user's own known_hosts was written"
    );
    assert!(hosts.list().unwrap().is_empty());
    let refused = hosts.add(&request, &|_| {}).await.unwrap_err();
    assert_eq!(refused.code(), "host_key_unknown", "{refused}");

    // A destination ssh would read as an option is refused before anything runs.
    let bad = AddHostRequest {
        destination: "-oProxyCommand=touch".into(),
        ..request
    };
    let err = hosts.offered_keys(&bad).await.unwrap_err();
    assert_eq!(err.code(), "invalid_host", "{err}");
}
