//! Managed instances on real PostgreSQL 10, 13, 15 and 18: create (initdb, configure,
//! start), test connection with the generated SCRAM password, stop, start, remove.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pgrelocate_engine::instances::{CreateRequest, InstanceError, Instances, State};
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::server::{control, OsUser, RunState};
use pgrelocate_engine::sql;
use pgrelocate_engine::Coded;

fn state_dir() -> tempfile::TempDir {
    support::state_dir("pgrelocate-instances-test-")
}

fn instances(dir: &Path, keyring: &Arc<Keyring>) -> Instances {
    support::instances(dir, keyring.clone())
}

/// The test kit's build of `major`.
async fn bin_dir(major: u32) -> PathBuf {
    support::embedded_bin_dir(major).await
}

/// Stops every server under `dir` if the test panics, so a failure leaves nothing running.
struct StopOnPanic(PathBuf);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Ok(pids) = std::process::Command::new("pgrep")
            .args(["-f", &format!("-D {}", self.0.display())])
            .output()
        else {
            return;
        };
        for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", pid])
                .status();
        }
    }
}

async fn lifecycle(major: u32) {
    let dir = state_dir();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let _guard = StopOnPanic(dir.path().to_path_buf());
    let name = format!("dest {major} «é»");
    let created = inst
        .create(CreateRequest {
            name: name.clone(),
            major,
            bin_dir: Some(bin_dir(major).await),
            ..Default::default()
        })
        .await
        .unwrap();
    let m = created.managed.clone().unwrap();
    assert_eq!(m.major, major);
    assert_eq!(
        m.data_dir,
        dir.path().join("instances").join(&name).join("data")
    );

    // Running, with SCRAM and the generated password from the keyring.
    let status = inst.status(&name).await.unwrap();
    assert_eq!(status.state, State::Running, "{status:?}");
    let test = status.connection.unwrap();
    assert_eq!(test.version.major, major);
    assert_eq!(test.role.as_str(), "primary");
    assert!(test.system_identifier.is_some());
    let password = keyring
        .load(&created.id)
        .unwrap()
        .expect("password in the keyring");
    let client = sql::connect(
        &created.endpoint,
        Some(&password),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .unwrap();
    let row = client
        .query_one(
            "SELECT current_setting('data_checksums'), \
                    pg_encoding_to_char(encoding), \
                    (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres') \
             FROM pg_database WHERE datname = 'postgres'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "on");
    assert_eq!(row.get::<_, String>(1), "UTF8");
    assert!(
        row.get::<_, bool>(2),
        "superuser password is not a SCRAM verifier"
    );
    drop(client);
    let wrong = pgrelocate_engine::Password::new("wrong");
    let err = sql::connect(
        &created.endpoint,
        Some(&wrong),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("authentication failed"), "{err}");

    inst.stop(&name).await.unwrap();
    assert_eq!(inst.status(&name).await.unwrap().state, State::Stopped);
    inst.stop(&name).await.unwrap(); // idempotent
    inst.start(&name).await.unwrap();
    assert_eq!(inst.status(&name).await.unwrap().state, State::Running);

    let removal = inst.remove(&name).await.unwrap();
    assert_eq!(removal.deleted_dir.as_deref(), m.created_dir.as_deref());
    assert!(!m.data_dir.exists(), "data directory left behind");
    assert_eq!(
        keyring.load(&created.id).unwrap(),
        None,
        "password left behind"
    );
    assert!(inst.store().find_instance(&name).unwrap().is_none());
}

#[tokio::test]
async fn managed_10_is_created_stopped_started_and_removed() {
    lifecycle(10).await;
}

#[tokio::test]
async fn managed_13_is_created_stopped_started_and_removed() {
    lifecycle(13).await;
}

#[tokio::test]
async fn managed_15_is_created_stopped_started_and_removed() {
    lifecycle(15).await;
}

#[tokio::test]
async fn managed_18_is_created_stopped_started_and_removed() {
    lifecycle(18).await;
}

#[tokio::test]
async fn a_user_supplied_data_dir_is_kept_on_remove_and_a_busy_port_is_refused() {
    let dir = state_dir();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let bin = bin_dir(15).await;
    let data = dir.path().join("my data");
    std::fs::create_dir(&data).unwrap();
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap().port();
    let err = inst
        .create(CreateRequest {
            name: "mine".into(),
            major: 15,
            port: Some(busy),
            data_dir: Some(data.clone()),
            bin_dir: Some(bin.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, InstanceError::PortInUse(p) if p == busy),
        "{err}"
    );
    assert!(inst.store().list_instances().unwrap().is_empty());

    let created = inst
        .create(CreateRequest {
            name: "mine".into(),
            major: 15,
            data_dir: Some(data.clone()),
            bin_dir: Some(bin.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.managed.as_ref().unwrap().created_dir, None);
    let removal = inst.remove("mine").await.unwrap();
    assert_eq!(removal.kept_data_dir.as_deref(), Some(data.as_path()));
    assert!(
        data.join("PG_VERSION").exists(),
        "a data directory we did not create was deleted"
    );
    let m = created.managed.unwrap();
    let user = OsUser::for_servers(None).unwrap();
    assert_eq!(
        control::status(&m.bin_dir, &data, user.as_ref())
            .await
            .unwrap(),
        RunState::Stopped,
        "remove left the server running"
    );

    // A non-empty folder is refused before anything happens.
    let err = inst
        .create(CreateRequest {
            name: "again".into(),
            major: 15,
            data_dir: Some(data.clone()),
            bin_dir: Some(bin),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, InstanceError::DataDirNotEmpty(_)), "{err}");
}

#[tokio::test]
async fn a_privileged_port_is_refused_before_anything_is_created() {
    let dir = state_dir();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let bin = bin_dir(15).await;
    let given = dir.path().join("given data");
    for (port, data_dir) in [(80, None), (1023, Some(given.clone())), (0, None)] {
        let err = inst
            .create(CreateRequest {
                name: "low".into(),
                major: 15,
                port: Some(port),
                data_dir,
                bin_dir: Some(bin.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        if port == 0 {
            assert_eq!(
                err.code(),
                pgrelocate_engine::ErrorCode::InvalidEndpoint,
                "{err}"
            );
        } else {
            assert!(
                matches!(err, InstanceError::PrivilegedPort(p) if p == port),
                "{err}"
            );
            assert!(err.to_string().contains("1024 to 65535"), "{err}");
        }
    }
    assert!(inst.store().list_instances().unwrap().is_empty());
    assert!(
        !dir.path().join("instances").exists(),
        "an instance folder was created"
    );
    assert!(!given.exists(), "the given data directory was created");
}

#[tokio::test]
async fn as_root_a_private_state_dir_puts_data_under_var_lib() {
    if !pgrelocate_engine::server::os_user::running_as_root() {
        return; // the fallback exists only for root
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // Like /root: the server user cannot traverse it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let created = inst
        .create(CreateRequest {
            name: "private-home".into(),
            major: 15,
            bin_dir: Some(bin_dir(15).await),
            ..Default::default()
        })
        .await
        .unwrap();
    let m = created.managed.clone().unwrap();
    assert!(
        m.data_dir.starts_with("/var/lib/pgrelocate"),
        "{}",
        m.data_dir.display()
    );
    assert_eq!(m.os_user.as_deref(), Some("postgres"));
    assert_eq!(
        inst.status("private-home").await.unwrap().state,
        State::Running
    );
    inst.remove("private-home").await.unwrap();
    assert!(!m.created_dir.unwrap().exists());
}

#[tokio::test]
async fn missing_binaries_or_a_wrong_major_are_refused_clearly() {
    let dir = state_dir();
    let keyring = Arc::new(Keyring::in_memory());
    let inst = instances(dir.path(), &keyring);
    let err = inst
        .create(CreateRequest {
            name: "x".into(),
            major: 13,
            bin_dir: Some(bin_dir(15).await),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, InstanceError::WrongMajor { .. }), "{err}");
    let err = inst
        .create(CreateRequest {
            name: "x".into(),
            major: 9,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = inst
        .create(CreateRequest {
            name: "x".into(),
            major: 15,
            bin_dir: Some(empty.path().to_path_buf()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, InstanceError::NotAnInstallation(_)), "{err}");
    let err = inst
        .create(CreateRequest {
            name: "a/b".into(),
            major: 15,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains('/'), "{err}");
    assert!(inst.store().list_instances().unwrap().is_empty());
}

/// The recovery signal a retired source starts with works on each signal style: the
/// `recovery.conf` of 10 and 11, the `standby.signal` of 12+; removing it gives a primary.
#[tokio::test]
async fn the_recovery_signal_starts_10_and_15_as_standbys_and_its_removal_as_primaries() {
    use pgrelocate_engine::retirement;
    for major in [10, 15] {
        let dir = state_dir();
        let keyring = Arc::new(Keyring::in_memory());
        let inst = instances(dir.path(), &keyring);
        let _guard = StopOnPanic(dir.path().to_path_buf());
        let created = inst
            .create(CreateRequest {
                name: "old".into(),
                major,
                bin_dir: Some(bin_dir(major).await),
                ..Default::default()
            })
            .await
            .unwrap();
        let m = created.managed.clone().unwrap();
        let user = OsUser::for_servers(m.os_user.as_deref()).unwrap();
        inst.stop("old").await.unwrap();
        retirement::write_recovery_signal(&m.data_dir, m.major, user.as_ref()).unwrap();
        let started = inst.start("old").await.unwrap();
        assert!(started.in_recovery, "{major}");
        let role = inst.status("old").await.unwrap().connection.unwrap().role;
        assert_eq!(role, sql::ServerRole::Standby, "{major}");

        inst.stop("old").await.unwrap();
        retirement::remove_recovery_signal(&m.data_dir, m.major).unwrap();
        let started = inst.start("old").await.unwrap();
        assert!(!started.in_recovery, "{major}");
        let role = inst.status("old").await.unwrap().connection.unwrap().role;
        assert_eq!(role, sql::ServerRole::Primary, "{major}");
        inst.remove("old").await.unwrap();
    }
}
