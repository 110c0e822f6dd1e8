//! Passwords held in memory only: the agent's credential store. A host keeps no password
//! of the workstation's: each call brings the one it needs, inside the SSH channel.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{CredentialStore, Password, SecretError};
use crate::store::InstanceId;

/// A credential store that forgets everything when dropped.
#[derive(Debug, Default)]
pub struct Memory {
    passwords: Mutex<HashMap<InstanceId, Password>>,
}

impl CredentialStore for Memory {
    fn save(&self, id: &InstanceId, password: &Password) -> Result<(), SecretError> {
        self.passwords
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), password.clone());
        Ok(())
    }

    fn load(&self, id: &InstanceId) -> Result<Option<Password>, SecretError> {
        Ok(self
            .passwords
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned())
    }

    fn forget(&self, id: &InstanceId) -> Result<(), SecretError> {
        self.passwords
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        Ok(())
    }

    fn name(&self) -> &str {
        "the agent's memory"
    }
}
