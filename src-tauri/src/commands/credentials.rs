//! Accounts: a password typed in the window goes to the OS keyring and is never sent back.
//! The page can set one, test the stored one, or forget it — nothing reads it out.

use pgrelocate_engine::secrets::{Password, PasswordSource};
use pgrelocate_engine::sql::{self, ConnectionTest};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// A password as it arrives from the webview: it becomes a [`Password`] (zeroed on drop,
/// never printed) before anything else sees it.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct PasswordInput(String);

impl PasswordInput {
    /// The engine's password type; an empty field means "no password".
    pub fn into_password(self) -> Option<Password> {
        (!self.0.is_empty()).then(|| Password::new(self.0))
    }
}

impl std::fmt::Debug for PasswordInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordInput(***)")
    }
}

/// Where an instance's password would come from.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// Stored in the OS keyring.
    Keyring,
    /// Found in a libpq password file.
    PasswordFile {
        /// The file.
        path: String,
    },
    /// None stored: the server must trust this host, or logins fail.
    None,
}

/// Where the instance's password is kept (never the password itself).
#[tauri::command]
pub async fn credential_status(
    console: State<'_, Console>,
    name: String,
) -> Result<Credential, CommandError> {
    let source = console.instances()?.password_source(&name).await?;
    Ok(match source {
        Some(PasswordSource::Keyring) => Credential::Keyring,
        Some(PasswordSource::PassFile(path)) => Credential::PasswordFile {
            path: path.display().to_string(),
        },
        None => Credential::None,
    })
}

/// Stores (or replaces) the instance's password in the OS keyring.
#[tauri::command]
pub async fn credential_set(
    console: State<'_, Console>,
    name: String,
    password: PasswordInput,
) -> Result<(), CommandError> {
    let password = password
        .into_password()
        .ok_or_else(|| CommandError::Invalid("the password is empty".into()))?;
    console.instances()?.set_password(&name, &password).await?;
    Ok(())
}

/// Deletes the instance's password from the OS keyring.
#[tauri::command]
pub async fn credential_forget(
    console: State<'_, Console>,
    name: String,
) -> Result<(), CommandError> {
    console.instances()?.forget_password(&name).await?;
    Ok(())
}

/// Logs in with the stored credential and reports what the server said.
#[tauri::command]
pub async fn credential_test(
    console: State<'_, Console>,
    name: String,
) -> Result<ConnectionTest, CommandError> {
    let instances = console.instances()?;
    let record = instances.store().instance_by_name(&name)?;
    let password = instances.password_for(&record).await?;
    Ok(sql::test_connection(
        &record.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_password_never_prints_and_empty_means_none() {
        let input: PasswordInput = serde_json::from_str("\"s3cret'\\\\\"").unwrap();
        assert_eq!(format!("{input:?}"), "PasswordInput(***)");
        assert_eq!(input.into_password().unwrap().expose(), "s3cret'\\");
        let empty: PasswordInput = serde_json::from_str("\"\"").unwrap();
        assert!(empty.into_password().is_none());
    }

    #[test]
    fn the_credential_kind_is_a_tag_the_page_reads() {
        let json = serde_json::to_value(Credential::PasswordFile {
            path: "/home/dba/.pgpass".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "password_file", "path": "/home/dba/.pgpass"})
        );
        assert_eq!(
            serde_json::to_value(Credential::Keyring).unwrap(),
            serde_json::json!({"kind": "keyring"})
        );
    }
}
