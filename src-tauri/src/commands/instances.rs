//! The Instances page: list, create, register (with a connection test), adopt, start,
//! stop, remove, and the sandbox.

use std::path::PathBuf;

use pgrelocate_engine::endpoint::{Endpoint, SslMode};
use pgrelocate_engine::instances::{
    AdoptRequest, CreateRequest, InstanceStatus, RegisterRequest, Removal, Started,
};
use pgrelocate_engine::sandbox::{self, Sandbox, SandboxPlan};
use pgrelocate_engine::server::Installation;
use pgrelocate_engine::sql::{self, ConnectionTest};
use pgrelocate_engine::store::InstanceRecord;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::credentials::PasswordInput;
use crate::error::CommandError;
use crate::state::Console;

/// Connection parameters typed in a form (no password: it travels separately).
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ConnectionInput {
    /// Host name, address or socket directory.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Database; `postgres` when empty.
    #[serde(default)]
    #[ts(optional)]
    pub dbname: Option<String>,
    /// libpq sslmode.
    #[serde(default)]
    pub sslmode: SslMode,
    /// Seconds to wait for the TCP connection, as typed; the default when empty.
    #[serde(default)]
    #[ts(optional)]
    pub connect_timeout: Option<String>,
    /// libpq's require_auth list, as typed; the default policy when empty.
    #[serde(default)]
    #[ts(optional)]
    pub require_auth: Option<String>,
}

impl ConnectionInput {
    /// The validated endpoint.
    pub fn endpoint(&self) -> Result<Endpoint, CommandError> {
        let invalid =
            |e: pgrelocate_engine::endpoint::EndpointError| CommandError::Instance(e.into());
        let dbname = self.dbname.as_deref().filter(|d| !d.is_empty());
        let mut endpoint = Endpoint::new(&self.host, self.port, &self.user, dbname, self.sslmode)
            .map_err(invalid)?;
        if let Some(typed) = self
            .connect_timeout
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            endpoint.connect_timeout_secs =
                pgrelocate_engine::endpoint::parse_connect_timeout(typed).map_err(invalid)?;
        }
        if let Some(typed) = self
            .require_auth
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            endpoint.require_auth = Some(typed.parse().map_err(
                |e: pgrelocate_engine::require_auth::RequireAuthError| invalid(e.into()),
            )?);
        }
        Ok(endpoint)
    }
}

/// The Instances page's rows, and the names still being created.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct InstanceList {
    /// Every stored instance with its live status.
    pub instances: Vec<InstanceStatus>,
    /// Instances being created right now (not stored yet).
    pub creating: Vec<String>,
}

/// Every instance with its live status (servers are asked concurrently).
#[tauri::command]
pub async fn instance_list(console: State<'_, Console>) -> Result<InstanceList, CommandError> {
    settle_housekeeping(&console).await;
    Ok(InstanceList {
        instances: console.instances()?.list().await?,
        creating: console.creating_now(),
    })
}

/// One instance with its live status.
#[tauri::command]
pub async fn instance_status(
    console: State<'_, Console>,
    name: String,
) -> Result<InstanceStatus, CommandError> {
    settle_housekeeping(&console).await;
    Ok(console.instances()?.status(&name).await?)
}

/// Finishes what a switchover that stopped after promotion left undone (the destination's
/// login first of all), so the instance is read with the right login.
async fn settle_housekeeping(console: &Console) {
    if let Ok(tasks) = console.tasks() {
        tasks.settle_housekeeping().await;
    }
}

/// PostgreSQL installations found on this host (for Create Instance's version list).
#[tauri::command]
pub async fn installations(console: State<'_, Console>) -> Result<Vec<Installation>, CommandError> {
    Ok(console.instances()?.discover().await?)
}

/// What Create Instance sends.
#[derive(Debug, Deserialize)]
pub struct CreateInput {
    /// Instance name.
    pub name: String,
    /// PostgreSQL major version.
    pub major: u32,
    /// TCP port; a free one when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// Data folder; under the state directory when absent.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Superuser password for the keyring; generated when absent.
    #[serde(default)]
    pub password: Option<PasswordInput>,
    /// The registered host to create it on; this machine when absent.
    #[serde(default)]
    pub host: Option<String>,
}

/// Creates and starts a managed instance.
#[tauri::command]
pub async fn instance_create(
    console: State<'_, Console>,
    request: CreateInput,
) -> Result<InstanceRecord, CommandError> {
    let instances = console.instances()?;
    let _creating = console.creating(&[&request.name]);
    Ok(instances
        .create(CreateRequest {
            name: request.name,
            major: request.major,
            port: request.port,
            data_dir: request.data_dir.filter(|d| !d.as_os_str().is_empty()),
            bin_dir: None,
            password: request.password.and_then(PasswordInput::into_password),
            host: request.host.filter(|h| !h.is_empty()),
        })
        .await?)
}

/// What Register Instance sends.
#[derive(Debug, Deserialize)]
pub struct RegisterInput {
    /// Instance name.
    pub name: String,
    /// Where it is.
    pub connection: ConnectionInput,
    /// Password for the keyring.
    #[serde(default)]
    pub password: Option<PasswordInput>,
}

/// What registration found.
#[derive(Debug, Serialize)]
pub struct Registered {
    /// The stored instance.
    pub instance: InstanceRecord,
    /// The connection test it passed.
    pub connection: Option<ConnectionTest>,
    /// Other instances registered at the same endpoint (the page warns).
    pub same_endpoint: Vec<String>,
}

/// Registers an external instance after a successful connection test; nothing is stored
/// when the test fails.
#[tauri::command]
pub async fn instance_register(
    console: State<'_, Console>,
    request: RegisterInput,
) -> Result<Registered, CommandError> {
    let instances = console.instances()?;
    let (instance, connection) = instances
        .register(RegisterRequest {
            name: request.name,
            endpoint: request.connection.endpoint()?,
            password: request.password.and_then(PasswordInput::into_password),
            test: true,
        })
        .await?;
    let same_endpoint = instances
        .same_endpoint(&instance)?
        .into_iter()
        .map(|r| r.name.to_string())
        .collect();
    Ok(Registered {
        instance,
        connection,
        same_endpoint,
    })
}

/// What Adopt Existing Cluster sends.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct AdoptInput {
    /// Instance name.
    pub name: String,
    /// The running cluster's data directory (on the host when `host` is set).
    pub data_dir: PathBuf,
    /// Folder of its server binaries; found by its major version when absent.
    #[serde(default)]
    #[ts(optional)]
    pub bin_dir: Option<PathBuf>,
    /// A superuser role to connect as.
    pub user: String,
    /// That role's password, for the keyring; never printed or logged.
    #[ts(type = "string")]
    pub password: PasswordInput,
    /// The registered host it runs on; this machine when absent.
    #[serde(default)]
    #[ts(optional)]
    pub host: Option<String>,
}

/// Registers a running cluster, here or on a registered host, as a managed instance once
/// its password and identity are checked; nothing is stored when a check fails.
#[tauri::command]
pub async fn instance_adopt(
    console: State<'_, Console>,
    request: AdoptInput,
) -> Result<InstanceRecord, CommandError> {
    let password = request
        .password
        .into_password()
        .ok_or_else(|| CommandError::Invalid("the password is empty".into()))?;
    Ok(console
        .instances()?
        .adopt(AdoptRequest {
            name: request.name,
            data_dir: request.data_dir,
            bin_dir: request.bin_dir.filter(|d| !d.as_os_str().is_empty()),
            user: request.user,
            password,
            host: request.host.filter(|h| !h.is_empty()),
        })
        .await?)
}

/// "Test connection" in Register Instance: connects with what was typed, stores nothing.
#[tauri::command]
pub async fn connection_test(
    connection: ConnectionInput,
    password: Option<PasswordInput>,
) -> Result<ConnectionTest, CommandError> {
    let password = password.and_then(PasswordInput::into_password);
    Ok(sql::test_connection(
        &connection.endpoint()?,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?)
}

/// Starts a managed instance; a retired source in recovery, unless `confirm` (the name the
/// DBA typed) asks for a writable primary.
#[tauri::command]
pub async fn instance_start(
    console: State<'_, Console>,
    name: String,
    confirm: Option<String>,
) -> Result<Started, CommandError> {
    let instances = console.instances()?;
    Ok(match confirm {
        Some(typed) => instances.start_as_primary(&name, &typed).await?,
        None => instances.start(&name).await?,
    })
}

/// Stops a managed instance (fast shutdown).
#[tauri::command]
pub async fn instance_stop(
    console: State<'_, Console>,
    name: String,
) -> Result<InstanceRecord, CommandError> {
    Ok(console.instances()?.stop(&name).await?)
}

/// Forgets an instance; a managed one is stopped and the folder pgrelocate made is deleted.
#[tauri::command]
pub async fn instance_remove(
    console: State<'_, Console>,
    name: String,
) -> Result<Removal, CommandError> {
    Ok(console.instances()?.remove(&name).await?)
}

/// Which PostgreSQL and ports the sandbox would use (nothing is made).
#[tauri::command]
pub async fn sandbox_plan(console: State<'_, Console>) -> Result<SandboxPlan, CommandError> {
    let instances = console.instances()?;
    Ok(sandbox::plan(&instances, None).await?)
}

/// Creates the sandbox: a source with sample data and an empty destination.
#[tauri::command]
pub async fn sandbox_create(console: State<'_, Console>) -> Result<Sandbox, CommandError> {
    let instances = console.instances()?;
    let _creating = console.creating(&[sandbox::SOURCE, sandbox::DESTINATION]);
    Ok(sandbox::create(&instances, None).await?)
}

/// Removes the sandbox's instances and their data.
#[tauri::command]
pub async fn sandbox_remove(console: State<'_, Console>) -> Result<Vec<String>, CommandError> {
    let instances = console.instances()?;
    Ok(sandbox::remove(&instances).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adopt_request_reads_the_pages_json_and_never_prints_the_password() {
        let input: AdoptInput = serde_json::from_value(serde_json::json!({
            "name": "legacy-16",
            "data_dir": "/var/lib/postgresql/16/main",
            "user": "postgres",
            "password": "s3cret'pw",
            "host": "db-east",
        }))
        .unwrap();
        assert_eq!(input.data_dir, PathBuf::from("/var/lib/postgresql/16/main"));
        assert_eq!(input.bin_dir, None);
        assert_eq!(input.host.as_deref(), Some("db-east"));
        let printed = format!("{input:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("PasswordInput(***)"), "{printed}");
    }
}
