//! The replication connection against real servers: every password method, TLS modes, and
//! the clear errors DBAs get for the usual setup mistakes.

mod support;

use pgrelocate_engine::wire::{ConnectOptions, ReplicationConnection, SlotName, WireError};
use std::time::Duration;
use support::{endpoint, install_server_certificate, password, replication};

use pgrelocate_engine::require_auth::AuthMethod;
use pgrelocate_engine::sql;
use pgrelocate_engine::{Coded, ErrorCode, Password, SslMode};
use pgrelocate_testkit::{Auth, Cluster, DEBIAN_MAJOR};

const MAJOR: u32 = DEBIAN_MAJOR;

async fn logs_in_with(auth: Auth) {
    let cluster = Cluster::builder(MAJOR).auth(auth).start().await.unwrap();
    let mut conn = replication(&cluster).await.unwrap();
    assert_eq!(conn.server_version().major, MAJOR);
    let id = conn.identify_system().await.unwrap();
    assert!(id.system_id > 0 && id.timeline == 1);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn logs_in_with_scram() {
    logs_in_with(Auth::Scram).await;
}

#[tokio::test]
async fn logs_in_with_md5() {
    logs_in_with(Auth::Md5).await;
}

/// A clear-text password over a plain connection is sent only when the instance allows
/// it (`require_auth=password`); the default refuses it (see below).
#[tokio::test]
async fn logs_in_with_cleartext_password() {
    let cluster = Cluster::builder(MAJOR)
        .auth(Auth::Password)
        .start()
        .await
        .unwrap();
    let mut ep = endpoint(&cluster);
    ep.require_auth = Some("password".parse().unwrap());
    let mut conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(conn.auth_method(), AuthMethod::Password);
    conn.identify_system().await.unwrap();
    conn.close().await.unwrap();
    // And the SQL path under the same setting.
    let test = sql::test_connection(&ep, password(&cluster).as_ref(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(test.auth_method, AuthMethod::Password);
}

/// A server that declines TLS (sslmode=prefer) and asks for a clear-text password does
/// not get it, on the replication path nor the SQL path: the login fails with
/// `auth_method_refused` before anything is answered. A wrong password makes it visible:
/// had it been sent, the server would have logged "password authentication failed".
#[tokio::test]
async fn cleartext_password_is_refused_by_default_and_never_sent() {
    let cluster = Cluster::builder(MAJOR)
        .auth(Auth::Password)
        .start()
        .await
        .unwrap();
    let mut ep = endpoint(&cluster);
    ep.sslmode = SslMode::Prefer;
    let wrong = Password::new("not-the-password-xyzzy");

    let err = ReplicationConnection::connect(&ep, Some(&wrong), &ConnectOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthMethodRefused, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("clear text") && text.contains("--require-auth password"),
        "{text}"
    );
    let err = sql::connect(&ep, Some(&wrong), Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthMethodRefused, "{err}");
    assert!(matches!(err, sql::SqlError::AuthRefused(_)), "{err}");

    // An allowed login afterwards: its log lines come after any of the refused attempts'.
    ep.require_auth = Some("password".parse().unwrap());
    let conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert!(
        !cluster.log().contains("password authentication failed"),
        "the server received a password it should not have:\n{}",
        cluster.log()
    );
    // The check is meaningful: sending the wrong password does show in the log.
    let err = ReplicationConnection::connect(&ep, Some(&wrong), &ConnectOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !cluster.log().contains("password authentication failed") {
        assert!(std::time::Instant::now() < deadline, "{}", cluster.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `require_auth` lists are enforced as libpq does: scram-only refuses md5 and trust;
/// a negated list refuses what it names.
#[tokio::test]
async fn require_auth_lists_are_enforced_on_both_paths() {
    let cluster = Cluster::builder(MAJOR)
        .auth(Auth::Md5)
        .start()
        .await
        .unwrap();
    let mut ep = endpoint(&cluster);
    let pw = password(&cluster);
    for (policy, allowed) in [
        ("scram-sha-256", false),
        ("!md5", false),
        ("md5,scram-sha-256", true),
        ("!password", true),
    ] {
        ep.require_auth = Some(policy.parse().unwrap());
        let wire =
            ReplicationConnection::connect(&ep, pw.as_ref(), &ConnectOptions::default()).await;
        let sql = sql::connect(&ep, pw.as_ref(), Duration::from_secs(30)).await;
        if allowed {
            let conn = wire.unwrap();
            assert_eq!(conn.auth_method(), AuthMethod::Md5);
            conn.close().await.unwrap();
            sql.unwrap();
        } else {
            let err = wire.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AuthMethodRefused, "{policy}: {err}");
            assert!(err.to_string().contains("MD5"), "{err}");
            assert_eq!(
                sql.unwrap_err().code(),
                ErrorCode::AuthMethodRefused,
                "{policy}"
            );
        }
    }
}

#[tokio::test]
async fn logs_in_with_trust_and_no_password() {
    let cluster = Cluster::builder(MAJOR)
        .auth(Auth::Trust)
        .no_superuser_password()
        .start()
        .await
        .unwrap();
    let conn =
        ReplicationConnection::connect(&endpoint(&cluster), None, &ConnectOptions::default())
            .await
            .unwrap();
    assert_eq!(conn.auth_method(), AuthMethod::None);
    conn.close().await.unwrap();
    // require_auth without none refuses a server that asks for nothing.
    let mut ep = endpoint(&cluster);
    ep.require_auth = Some("scram-sha-256".parse().unwrap());
    let err = ReplicationConnection::connect(&ep, None, &ConnectOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthMethodRefused, "{err}");
    let err = sql::connect(&ep, None, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthMethodRefused, "{err}");
}

#[tokio::test]
async fn wrong_password_is_refused_and_never_echoed() {
    let cluster = Cluster::builder(MAJOR).start().await.unwrap();
    let wrong = Password::new("not-the-password-xyzzy");
    let err = ReplicationConnection::connect(
        &endpoint(&cluster),
        Some(&wrong),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
    assert!(!err.to_string().contains("xyzzy"));
}

#[tokio::test]
async fn missing_password_is_a_clear_error() {
    let cluster = Cluster::builder(MAJOR).start().await.unwrap();
    let err = ReplicationConnection::connect(&endpoint(&cluster), None, &ConnectOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, WireError::PasswordRequired), "{err}");
}

#[tokio::test]
async fn role_without_replication_attribute_gets_a_clear_error() {
    let cluster = Cluster::builder(MAJOR).start().await.unwrap();
    cluster
        .create_role("app", Some("app-pw"), "")
        .await
        .unwrap();
    let mut ep = endpoint(&cluster);
    ep.user = "app".into();
    let err = ReplicationConnection::connect(
        &ep,
        Some(&Password::new("app-pw")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.sqlstate(), Some("42501"), "{err}");
    assert!(
        err.to_string().contains("ALTER ROLE <user> REPLICATION"),
        "{err}"
    );
}

#[tokio::test]
async fn replication_role_that_is_not_superuser_can_connect() {
    let cluster = Cluster::builder(MAJOR).start().await.unwrap();
    cluster
        .create_role("repl", Some("r'e\\pl"), "REPLICATION")
        .await
        .unwrap();
    let mut ep = endpoint(&cluster);
    ep.user = "repl".into();
    let mut conn = ReplicationConnection::connect(
        &ep,
        Some(&Password::new("r'e\\pl")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    conn.identify_system().await.unwrap();
}

#[tokio::test]
async fn missing_replication_hba_line_gets_a_clear_error() {
    let cluster = Cluster::builder(MAJOR)
        .without_default_hba()
        .hba_line("local all all scram-sha-256")
        .hba_line("host all all 127.0.0.1/32 scram-sha-256")
        .start()
        .await
        .unwrap();
    let err = replication(&cluster).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("28000"), "{err}");
    assert!(err.to_string().contains("host replication"), "{err}");
}

#[tokio::test]
async fn full_slot_table_gets_a_clear_error() {
    let cluster = Cluster::builder(MAJOR)
        .setting("max_replication_slots", "1")
        .start()
        .await
        .unwrap();
    let mut conn = replication(&cluster).await.unwrap();
    conn.create_physical_slot(&SlotName::new("first").unwrap(), false)
        .await
        .unwrap();
    let err = conn
        .create_physical_slot(&SlotName::new("second").unwrap(), false)
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("53400"), "{err}");
    assert!(err.to_string().contains("max_replication_slots"), "{err}");
    // The connection is still usable after an ERROR.
    conn.drop_slot(&SlotName::new("first").unwrap(), false)
        .await
        .unwrap();
}

async fn tls_cluster(names: &[&str], dir: &std::path::Path) -> (Cluster, std::path::PathBuf) {
    let cluster = Cluster::builder(MAJOR)
        .setting("ssl", "on")
        .init()
        .await
        .unwrap();
    let root = install_server_certificate(&cluster, names, dir);
    cluster.start().await.unwrap();
    (cluster, root)
}

#[tokio::test]
async fn sslmode_require_encrypts() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, _root) = tls_cluster(&["db.example"], dir.path()).await;
    let mut ep = endpoint(&cluster);
    ep.sslmode = SslMode::Require;
    let conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(conn.is_tls());
    let ssl: bool = cluster
        .query_scalar(&format!(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = {}",
            conn.process_id()
        ))
        .await
        .unwrap();
    assert!(
        ssl,
        "the server sees the replication connection as unencrypted"
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn sslmode_verify_full_checks_the_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, root) = tls_cluster(&["127.0.0.1"], dir.path()).await;
    let mut ep = endpoint(&cluster);
    ep.sslmode = SslMode::VerifyFull;
    ep.ssl_root_cert = Some(root.clone());
    let conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(conn.is_tls());
    conn.close().await.unwrap();

    // Same chain, but the certificate names another host: verify-full refuses, verify-ca accepts.
    let dir2 = tempfile::tempdir().unwrap();
    let (other, root2) = tls_cluster(&["db.example"], dir2.path()).await;
    let mut ep = endpoint(&other);
    ep.sslmode = SslMode::VerifyFull;
    ep.ssl_root_cert = Some(root2.clone());
    let err =
        ReplicationConnection::connect(&ep, password(&other).as_ref(), &ConnectOptions::default())
            .await
            .unwrap_err();
    assert!(matches!(err, WireError::TlsHandshake { .. }), "{err}");
    ep.sslmode = SslMode::VerifyCa;
    ReplicationConnection::connect(&ep, password(&other).as_ref(), &ConnectOptions::default())
        .await
        .unwrap();
    // A root that did not sign the server's certificate is refused even by verify-ca.
    ep.ssl_root_cert = Some(root);
    assert!(ReplicationConnection::connect(
        &ep,
        password(&other).as_ref(),
        &ConnectOptions::default()
    )
    .await
    .is_err());
}

#[tokio::test]
async fn sslmode_require_refuses_a_server_without_tls() {
    let cluster = Cluster::builder(MAJOR).start().await.unwrap();
    let mut ep = endpoint(&cluster);
    ep.sslmode = SslMode::Require;
    let err = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, WireError::TlsRefused(_)), "{err}");
    ep.sslmode = SslMode::Prefer;
    let conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(!conn.is_tls());
}

/// Over TLS the default sends a clear-text password (nobody on the path reads it), on both
/// paths, and says so.
#[tokio::test]
async fn cleartext_password_over_tls_is_allowed_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::builder(MAJOR)
        .auth(Auth::Password)
        .setting("ssl", "on")
        .init()
        .await
        .unwrap();
    install_server_certificate(&cluster, &["db.example"], dir.path());
    cluster.start().await.unwrap();
    let mut ep = endpoint(&cluster);
    ep.sslmode = SslMode::Require;
    let conn = ReplicationConnection::connect(
        &ep,
        password(&cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(conn.is_tls());
    assert_eq!(conn.auth_method(), AuthMethod::Password);
    conn.close().await.unwrap();
    let (_client, session) =
        sql::connect_session(&ep, password(&cluster).as_ref(), Duration::from_secs(30))
            .await
            .unwrap();
    assert!(session.tls);
    assert_eq!(session.auth_method, AuthMethod::Password);
}
