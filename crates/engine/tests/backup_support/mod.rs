//! Shared by the wire_* and backup_* tests: endpoints for test clusters, TLS certificates.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pgrelocate_engine::wire::{ConnectOptions, ReplicationConnection, WireError};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;

/// The superuser's endpoint of `cluster` over TCP, without TLS.
pub fn endpoint(cluster: &Cluster) -> Endpoint {
    Endpoint::new(
        cluster.host(),
        cluster.port(),
        cluster.superuser(),
        None,
        SslMode::Disable,
    )
    .unwrap()
}

/// The superuser's password, if the cluster has one.
pub fn password(cluster: &Cluster) -> Option<Password> {
    cluster.superuser_password().map(Password::new)
}

/// A replication connection as the superuser.
pub async fn replication(cluster: &Cluster) -> Result<ReplicationConnection, WireError> {
    ReplicationConnection::connect(
        &endpoint(cluster),
        password(cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
}

/// A CA and a server certificate for `names`, written as `server.crt`/`server.key` into the
/// data directory (owned by the server user) and `root.crt` into `dir`; returns the root's
/// path. Turn TLS on with `ssl = on` afterwards.
pub fn install_server_certificate(cluster: &Cluster, names: &[&str], dir: &Path) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pgrelocate test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

    let data = cluster.data_dir();
    for (file, text, mode) in [
        ("server.crt", server_cert.pem(), 0o644),
        ("server.key", server_key.serialize_pem(), 0o600),
    ] {
        let path = data.join(file);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        cluster.server_user().chown(&path).unwrap();
    }
    let root = dir.join("root.crt");
    std::fs::write(&root, ca.pem()).unwrap();
    root
}
