//! Registering external instances against real servers: SCRAM over TLS with a CA made in
//! the test (verify-full passes, a wrong CA or host name fails clearly) and without TLS;
//! a wrong password or a closed port gives a clear error and stores nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pgrelocate_engine::instances::{InstanceError, Instances, RegisterRequest};
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::sql::SqlError;
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

const ROLE: &str = "mig'r \\ä";
const PASSWORD: &str = "pä's \"w\\d: ☃";

/// A CA and a server certificate for `localhost`, as PEM.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn make_pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pgrelocate test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn write_private(path: &Path, text: &str, cluster: &Cluster) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    cluster.server_user().chown(path).unwrap();
}

/// A SCRAM server with TLS on (certificate for `localhost` signed by the test CA), a role
/// whose name and password hold quotes, backslashes, spaces and non-ASCII letters, and the
/// CA written to a file for the client.
async fn tls_server(dir: &Path) -> (Cluster, PathBuf) {
    let pki = make_pki(&["localhost"]);
    let cluster = Cluster::builder(16)
        .setting("ssl", "on")
        .init()
        .await
        .unwrap();
    let data = cluster.data_dir();
    write_private(&data.join("server.crt"), &pki.cert_pem, &cluster);
    write_private(&data.join("server.key"), &pki.key_pem, &cluster);
    cluster.start().await.unwrap();
    cluster.create_role(ROLE, Some(PASSWORD), "").await.unwrap();
    let ca = dir.join("root ca.crt");
    std::fs::write(&ca, pki.ca_pem).unwrap();
    (cluster, ca)
}

fn instances(dir: &Path, keyring: &Arc<Keyring>) -> Instances {
    Instances::with_credentials(dir, Ok(keyring.clone() as Arc<dyn CredentialStore>)).unwrap()
}

fn endpoint(host: &str, port: u16, mode: SslMode, root: Option<&Path>) -> Endpoint {
    let mut e = Endpoint::new(host, port, ROLE, Some("postgres"), mode).unwrap();
    e.ssl_root_cert = root.map(Path::to_path_buf);
    e
}

fn request(name: &str, endpoint: Endpoint, password: &str) -> RegisterRequest {
    RegisterRequest {
        name: name.into(),
        endpoint,
        password: Some(Password::new(password)),
        test: true,
    }
}

fn assert_nothing_stored(inst: &Instances) {
    assert!(inst.store().list_instances().unwrap().is_empty());
}

#[tokio::test]
async fn register_over_tls_with_verify_full_reports_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, ca) = tls_server(dir.path()).await;
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let name = "src \"east\" o'neil \\ é";
    let (record, test) = inst
        .register(request(
            name,
            endpoint("localhost", cluster.port(), SslMode::VerifyFull, Some(&ca)),
            PASSWORD,
        ))
        .await
        .unwrap();
    let test = test.unwrap();
    assert_eq!(test.version.major, 16);
    assert!(
        test.tls.as_deref().unwrap_or("").starts_with("TLSv1"),
        "{test:?}"
    );
    assert_eq!(test.role.as_str(), "primary");
    let sysid: String = cluster
        .query_scalar("SELECT system_identifier::text FROM pg_control_system()")
        .await
        .unwrap();
    assert_eq!(test.system_identifier.as_deref(), Some(sysid.as_str()));
    assert!(test.round_trip_ms > 0.0);

    // Stored with every odd character intact; the password is in the keyring only.
    let back = inst.store().instance_by_name(name).unwrap();
    assert_eq!(back, record);
    assert_eq!(back.endpoint.user, ROLE);
    assert_eq!(back.endpoint.ssl_root_cert.as_deref(), Some(ca.as_path()));
    assert_eq!(
        keyring.load(&record.id).unwrap(),
        Some(Password::new(PASSWORD))
    );

    // Status reconnects with the keyring's password, over TLS.
    let status = inst.status(name).await.unwrap();
    assert!(status.connection.unwrap().tls.is_some());

    // verify-ca accepts the certificate for another host name; prefer and require encrypt.
    for (host, mode) in [
        ("127.0.0.1", SslMode::VerifyCa),
        ("127.0.0.1", SslMode::Require),
        ("127.0.0.1", SslMode::Prefer),
    ] {
        let (_, test) = inst
            .register(request(
                &format!("{mode}"),
                endpoint(host, cluster.port(), mode, Some(&ca)),
                PASSWORD,
            ))
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(test.unwrap().tls.is_some(), "{mode} did not encrypt");
    }
    // disable stays plain.
    let (_, test) = inst
        .register(request(
            "plain",
            endpoint("127.0.0.1", cluster.port(), SslMode::Disable, None),
            PASSWORD,
        ))
        .await
        .unwrap();
    assert_eq!(test.unwrap().tls, None);
}

#[tokio::test]
async fn a_wrong_ca_or_host_name_is_rejected_clearly_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, _ca) = tls_server(dir.path()).await;
    let other_ca = dir.path().join("other.crt");
    std::fs::write(&other_ca, make_pki(&["localhost"]).ca_pem).unwrap();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);

    let err = inst
        .register(request(
            "src",
            endpoint(
                "localhost",
                cluster.port(),
                SslMode::VerifyFull,
                Some(&other_ca),
            ),
            PASSWORD,
        ))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            InstanceError::Sql(SqlError::CertificateRejected { .. })
        ),
        "{text}"
    );
    assert!(
        text.contains("not signed by the root certificate"),
        "{text}"
    );
    assert!(
        text.contains("other.crt") && !text.contains(PASSWORD),
        "{text}"
    );
    assert_nothing_stored(&inst);

    let ca = dir.path().join("root ca.crt");
    let err = inst
        .register(request(
            "src",
            endpoint("127.0.0.1", cluster.port(), SslMode::VerifyFull, Some(&ca)),
            PASSWORD,
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not name host \"127.0.0.1\""),
        "{err}"
    );
    assert_nothing_stored(&inst);
}

#[tokio::test]
async fn without_tls_scram_works_and_require_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::builder(15).start().await.unwrap();
    cluster.create_role(ROLE, Some(PASSWORD), "").await.unwrap();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);

    let err = inst
        .register(request(
            "src",
            endpoint("127.0.0.1", cluster.port(), SslMode::Require, None),
            PASSWORD,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, InstanceError::Sql(SqlError::TlsRefused { .. })),
        "{err}"
    );
    assert_nothing_stored(&inst);

    let (record, test) = inst
        .register(request(
            "src",
            endpoint("127.0.0.1", cluster.port(), SslMode::Prefer, None),
            PASSWORD,
        ))
        .await
        .unwrap();
    let test = test.unwrap();
    assert_eq!(test.tls, None);
    assert_eq!(test.version.major, 15);
    assert!(keyring.load(&record.id).unwrap().is_some());
}

#[tokio::test]
async fn a_wrong_password_or_closed_port_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::builder(15).start().await.unwrap();
    cluster.create_role(ROLE, Some(PASSWORD), "").await.unwrap();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);

    let wrong = "not-the-password";
    let err = inst
        .register(request(
            "src",
            endpoint("127.0.0.1", cluster.port(), SslMode::Disable, None),
            wrong,
        ))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, InstanceError::Sql(SqlError::AuthFailed { .. })),
        "{text}"
    );
    assert!(
        text.contains("authentication failed") && text.contains(ROLE),
        "{text}"
    );
    assert!(!text.contains(wrong), "{text}");
    assert_nothing_stored(&inst);

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound then released: nothing listens there
    let err = inst
        .register(request(
            "src",
            endpoint("127.0.0.1", closed, SslMode::Prefer, None),
            PASSWORD,
        ))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            InstanceError::Sql(SqlError::Connect(
                pgrelocate_engine::dial::DialError::Refused { .. }
            ))
        ),
        "{text}"
    );
    assert!(
        text.contains("connection refused") && text.contains(&closed.to_string()),
        "{text}"
    );
    assert_nothing_stored(&inst);

    // Without a test, a closed port is stored as asked (e.g. registering ahead of time).
    let mut req = request(
        "later",
        endpoint("127.0.0.1", closed, SslMode::Prefer, None),
        PASSWORD,
    );
    req.test = false;
    inst.register(req).await.unwrap();
    assert_eq!(inst.store().list_instances().unwrap().len(), 1);
}

#[tokio::test]
async fn a_pgpass_file_is_honoured_with_libpq_rules() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::builder(15).start().await.unwrap();
    cluster.create_role(ROLE, Some(PASSWORD), "").await.unwrap();
    let escape = |s: &str| s.replace('\\', "\\\\").replace(':', "\\:");
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# other servers first\nelsewhere:*:*:*:nope\n127.0.0.1:{}:*:{}:{}\n",
            cluster.port(),
            escape(ROLE),
            escape(PASSWORD)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Each test runs in its own process under nextest, so the variable stays ours.
    std::env::set_var("PGPASSFILE", &pgpass);
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let ep = endpoint("127.0.0.1", cluster.port(), SslMode::Disable, None);
    let (record, test) = inst
        .register(RegisterRequest {
            name: "via pgpass".into(),
            endpoint: ep.clone(),
            password: None,
            test: true,
        })
        .await
        .unwrap();
    assert!(test.is_some());
    assert_eq!(
        keyring.load(&record.id).unwrap(),
        None,
        "nothing goes to the keyring"
    );
    assert!(inst
        .status("via pgpass")
        .await
        .unwrap()
        .connection
        .is_some());

    // libpq ignores a password file others can read; so do we.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let status = inst.status("via pgpass").await.unwrap();
    let error = status.error.unwrap_or_default();
    assert!(
        error.contains("asks for a password and none was found"),
        "{error}"
    );
}
