//! Credentials: the [`Password`] type and where passwords are kept.
//!
//! Passwords live in the OS keyring ([`Keyring`]: Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows), keyed by instance id. As libpq users expect,
//! `~/.pgpass` / `PGPASSFILE` ([`pgpass`]) and an interactive prompt (the CLI's) are
//! honoured too. pgrelocate never writes a plaintext password file of its own.

mod keyring;
pub mod memory;
pub mod pgpass;

use std::path::PathBuf;

pub use keyring::Keyring;
pub use pgrelocate_replication::Password;

use crate::endpoint::Endpoint;
use crate::store::InstanceId;

/// What the user can do when no OS keyring is reachable.
pub const FALLBACKS: &str = "put the password in ~/.pgpass (or the file named by PGPASSFILE), \
     or type it when pgrelocate prompts for it";

/// Why a credential could not be saved, read or deleted.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no OS keyring is reachable ({reason}). Fallbacks: {FALLBACKS}{hint}")]
    NoKeyring { reason: String, hint: &'static str },
    #[error("the OS keyring refused access ({0}); unlock it and retry")]
    Locked(String),
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("the keyring entry for instance {0} does not hold UTF-8 text")]
    Unreadable(String),
    #[error("cannot read password file {path}: {source}")]
    PassFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where passwords are kept, keyed by instance id. Calls may block on IPC: from async code,
/// call them through `tokio::task::spawn_blocking`.
pub trait CredentialStore: Send + Sync {
    /// Saves (or replaces) the password of an instance.
    fn save(&self, id: &InstanceId, password: &Password) -> Result<(), SecretError>;
    /// The saved password, if any.
    fn load(&self, id: &InstanceId) -> Result<Option<Password>, SecretError>;
    /// Deletes the saved password; deleting a missing one is not an error.
    fn forget(&self, id: &InstanceId) -> Result<(), SecretError>;
    /// A name for messages, e.g. `Secret Service`.
    fn name(&self) -> &str;
}

/// Where a password was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The OS keyring.
    Keyring,
    /// A libpq password file.
    PassFile(PathBuf),
}

/// Finds the password for an instance the way a libpq user expects: the keyring first,
/// then the password file. `Ok(None)`: none found (the caller may prompt). When the keyring
/// is unreachable and the password file has nothing either, the keyring's error is
/// returned, naming the fallbacks.
pub fn find_password(
    store: Result<&dyn CredentialStore, &SecretError>,
    id: &InstanceId,
    endpoint: &Endpoint,
) -> Result<Option<(Password, PasswordSource)>, SecretError> {
    let keyring_failure = match store {
        Ok(store) => match store.load(id) {
            Ok(Some(p)) => return Ok(Some((p, PasswordSource::Keyring))),
            Ok(None) => None,
            Err(e) => Some(e),
        },
        Err(e) => Some(SecretError::NoKeyring {
            reason: e.to_string(),
            hint: "",
        }),
    };
    if let Some((p, path)) = pgpass::lookup(endpoint)? {
        return Ok(Some((p, PasswordSource::PassFile(path))));
    }
    match keyring_failure {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

impl crate::Coded for SecretError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            SecretError::NoKeyring { .. } => ErrorCode::NoKeyring,
            SecretError::Locked(_) => ErrorCode::KeyringLocked,
            SecretError::Keyring(_) | SecretError::Unreadable(_) | SecretError::PassFile { .. } => {
                ErrorCode::Keyring
            }
        }
    }
}
