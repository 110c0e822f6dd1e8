//! The OS keyring through `keyring-core` and its platform store crates.

use std::sync::Arc;

use keyring_core::{CredentialStore as KeyringStore, Entry, Error as KeyringError};

use super::{CredentialStore, Password, SecretError};
use crate::store::InstanceId;

/// Keyring "service" under which every pgrelocate password is filed.
pub const SERVICE: &str = "pgrelocate";

/// A keyring-core credential store: the OS one, or the in-memory mock for unit tests.
pub struct Keyring {
    store: Arc<KeyringStore>,
    name: &'static str,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({})", self.name)
    }
}

impl Keyring {
    /// The OS keyring. Fails with [`SecretError::NoKeyring`] (naming the fallbacks) when
    /// none is reachable, e.g. no D-Bus session or no Secret Service on Linux.
    pub fn os() -> Result<Keyring, SecretError> {
        platform_store().map_err(|e| SecretError::NoKeyring {
            reason: describe(&e),
            hint: PLATFORM_HINT,
        })
    }

    /// keyring-core's in-memory store: no persistence, for unit tests.
    pub fn in_memory() -> Keyring {
        Keyring {
            store: keyring_core::mock::Store::new().expect("the mock store cannot fail"),
            name: "in-memory store",
        }
    }

    fn entry(&self, id: &InstanceId) -> Result<Entry, SecretError> {
        self.store
            .build(SERVICE, id.as_str(), None)
            .map_err(|e| self.error(e, id))
    }

    fn error(&self, e: KeyringError, id: &InstanceId) -> SecretError {
        match e {
            KeyringError::NoStorageAccess(_) => SecretError::Locked(describe(&e)),
            KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
                SecretError::Unreadable(id.to_string())
            }
            other => SecretError::Keyring(format!("{}: {}", self.name, describe(&other))),
        }
    }
}

impl CredentialStore for Keyring {
    fn save(&self, id: &InstanceId, password: &Password) -> Result<(), SecretError> {
        self.entry(id)?
            .set_password(password.expose())
            .map_err(|e| self.error(e, id))
    }

    fn load(&self, id: &InstanceId) -> Result<Option<Password>, SecretError> {
        match self.entry(id)?.get_password() {
            Ok(p) => Ok(Some(Password::new(p))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(self.error(e, id)),
        }
    }

    fn forget(&self, id: &InstanceId) -> Result<(), SecretError> {
        match self.entry(id)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(self.error(e, id)),
        }
    }

    fn name(&self) -> &str {
        self.name
    }
}

/// keyring-core errors as text, never echoing secret bytes (`BadEncoding` and
/// `BadDataFormat` carry them; their `Display` does not print them, but say so here).
fn describe(e: &KeyringError) -> String {
    match e {
        KeyringError::BadEncoding(_) => "stored data is not UTF-8".into(),
        KeyringError::BadDataFormat(..) => "stored data is malformed".into(),
        other => other.to_string(),
    }
}

#[cfg(target_os = "linux")]
const PLATFORM_HINT: &str = ". On Linux the keyring is a Secret Service (GNOME Keyring, KWallet) \
     on the D-Bus session bus: log in to a desktop session or start one, e.g. \
     `dbus-run-session` with `gnome-keyring-daemon --unlock`";
#[cfg(not(target_os = "linux"))]
const PLATFORM_HINT: &str = "";

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Keyring, KeyringError> {
    Ok(Keyring {
        store: zbus_secret_service_keyring_store::Store::new()?,
        name: "Secret Service",
    })
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Keyring, KeyringError> {
    Ok(Keyring {
        store: apple_native_keyring_store::keychain::Store::new()?,
        name: "macOS Keychain",
    })
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<Keyring, KeyringError> {
    Ok(Keyring {
        store: windows_native_keyring_store::Store::new()?,
        name: "Windows Credential Manager",
    })
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<Keyring, KeyringError> {
    Err(KeyringError::NotSupportedByStore(
        "no OS keyring support on this platform".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_forgets_by_instance_id() {
        let keyring = Keyring::in_memory();
        let a = InstanceId::generate();
        let b = InstanceId::generate();
        assert_eq!(keyring.load(&a).unwrap(), None);
        keyring.save(&a, &Password::new("pä's \"w\\d")).unwrap();
        keyring.save(&b, &Password::new("other")).unwrap();
        assert_eq!(
            keyring.load(&a).unwrap(),
            Some(Password::new("pä's \"w\\d"))
        );
        keyring.save(&a, &Password::new("replaced")).unwrap();
        assert_eq!(keyring.load(&a).unwrap(), Some(Password::new("replaced")));
        keyring.forget(&a).unwrap();
        keyring.forget(&a).unwrap();
        assert_eq!(keyring.load(&a).unwrap(), None);
        assert_eq!(keyring.load(&b).unwrap(), Some(Password::new("other")));
    }

    #[test]
    fn the_no_keyring_error_names_the_fallbacks() {
        let e = SecretError::NoKeyring {
            reason: "no D-Bus session".into(),
            hint: PLATFORM_HINT,
        };
        let text = e.to_string();
        assert!(
            text.contains("~/.pgpass") && text.contains("PGPASSFILE"),
            "{text}"
        );
        assert!(text.contains("prompt"), "{text}");
    }
}
