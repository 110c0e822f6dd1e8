//! The real OS keyring: a password is stored, read and deleted through the Secret Service.
//!
//! Needs a D-Bus session with an unlocked Secret Service. Run it like CI does:
//! `HOME=$(mktemp -d) dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon
//! --unlock --components=secrets >/dev/null; cargo nextest run -p pgrelocate-engine
//! --test instances_keyring'`

use pgrelocate_engine::secrets::{CredentialStore, Keyring, SecretError};
use pgrelocate_engine::store::InstanceId;
use pgrelocate_engine::Password;

const HOW_TO_RUN: &str = "this test needs a D-Bus session with an unlocked Secret Service; run \
     it as: HOME=$(mktemp -d) dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon \
     --unlock --components=secrets >/dev/null; cargo nextest run -p pgrelocate-engine --test \
     instances_keyring' (scripts/test.sh does this for the whole suite)";

fn os_keyring() -> Keyring {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!("no DBUS_SESSION_BUS_ADDRESS: {HOW_TO_RUN}");
    }
    Keyring::os().unwrap_or_else(|e| panic!("{e}\n{HOW_TO_RUN}"))
}

#[test]
fn secret_service_stores_reads_and_deletes_a_password() {
    let keyring = os_keyring();
    assert_eq!(keyring.name(), "Secret Service");
    let id = InstanceId::generate();
    let password = Password::new("pä's \"w\\d: with spaces ☃");
    assert_eq!(keyring.load(&id).unwrap(), None);
    keyring.save(&id, &password).unwrap();

    // A second connection (as the next CLI run would open) sees it.
    let again = os_keyring();
    assert_eq!(again.load(&id).unwrap(), Some(password.clone()));

    keyring.save(&id, &Password::new("rotated")).unwrap();
    assert_eq!(again.load(&id).unwrap(), Some(Password::new("rotated")));

    keyring.forget(&id).unwrap();
    assert_eq!(again.load(&id).unwrap(), None);
    keyring.forget(&id).unwrap();
}

#[test]
fn without_a_session_bus_the_error_names_the_fallbacks() {
    // A child process without a bus address: Keyring::os must fail clearly, not hang.
    if std::env::var_os("PGRELOCATE_KEYRING_CHILD").is_some() {
        let err = Keyring::os().expect_err("no session bus, yet a keyring was reached");
        assert!(matches!(err, SecretError::NoKeyring { .. }), "{err}");
        println!("{err}");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "without_a_session_bus_the_error_names_the_fallbacks",
            "--nocapture",
        ])
        .env("PGRELOCATE_KEYRING_CHILD", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("~/.pgpass") && stdout.contains("PGPASSFILE"),
        "{stdout}"
    );
    assert!(stdout.contains("dbus-run-session"), "{stdout}");
}
