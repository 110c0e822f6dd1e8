//! The standby's own credential (issue 14): when the migration account may create roles,
//! a task makes a `REPLICATION LOGIN` role of its own on the source, and only that role's
//! password is written for the standby, so the DBA's password never lands on a disk.
//!
//! The role's SCRAM verifier is computed here: the plaintext never travels in a
//! `CREATE ROLE … PASSWORD` statement the source could log (`log_statement = all` writes
//! statements to the source host's disk). The role is dropped on the new primary after a
//! switchover (it came with the copy) and on the source at cancel, or after a switchover
//! that left the source running.

use std::net::IpAddr;
use std::time::Duration;

use crate::endpoint::Endpoint;
use crate::quote::sql::{ident, literal};
use crate::secrets::Password;
use crate::sql::{self, SqlError};
use crate::wire::{ConnectOptions, ReplicationConnection, WireError};

/// The database a role is created or dropped from: always there, and the one the `sql`
/// fence leaves open (see [`crate::switchover::access::CONTROL_DATABASE`]).
const CONTROL_DATABASE: &str = crate::switchover::access::CONTROL_DATABASE;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The role of task `task_id`: a valid identifier tied to the task (the id is 12 hex digits).
pub fn name_for(task_id: &str) -> String {
    format!("pgrelocate_standby_{task_id}")
}

/// Why the standby's role could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("no randomness for the standby's password: {0}")]
    Random(String),
}

fn in_control_database(endpoint: &Endpoint) -> Endpoint {
    let mut e = endpoint.clone();
    e.dbname = CONTROL_DATABASE.into();
    e
}

async fn control(
    endpoint: &Endpoint,
    password: Option<&Password>,
) -> Result<(Endpoint, tokio_postgres::Client), SqlError> {
    let e = in_control_database(endpoint);
    let client = sql::connect(&e, password, TIMEOUT).await?;
    Ok((e, client))
}

/// Whether an account may make the standby's role: a superuser; from 16 on also an account
/// with `CREATEROLE` and `REPLICATION` (before 16 only a superuser may create a role with
/// `REPLICATION`).
pub fn can_make_role(superuser: bool, create_role: bool, replication: bool, major: u32) -> bool {
    superuser || (create_role && replication && major >= 16)
}

/// Whether the account of `endpoint` may make the standby's role ([`can_make_role`]), and
/// this host's address as the server sees it (`None` over a Unix socket).
pub async fn may_create_roles(
    endpoint: &Endpoint,
    password: Option<&Password>,
) -> Result<(bool, Option<IpAddr>), SqlError> {
    let client = sql::connect(endpoint, password, TIMEOUT).await?;
    let row = client
        .query_one(
            "SELECT rolsuper, rolcreaterole, rolreplication, \
                    current_setting('server_version_num')::int / 10000, \
                    host(inet_client_addr()) \
             FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(|e| SqlError::from_driver(&e, endpoint))?;
    let address = row.get::<_, Option<String>>(4).and_then(|a| a.parse().ok());
    let major = u32::try_from(row.get::<_, i32>(3)).unwrap_or(0);
    Ok((
        can_make_role(row.get(0), row.get(1), row.get(2), major),
        address,
    ))
}

/// A fresh password: 32 random bytes, hex (nothing to quote in a password file).
pub fn generate_password() -> Result<Password, RoleError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RoleError::Random(e.to_string()))?;
    Ok(Password::new(hex::encode(bytes)))
}

/// The statement body that gives `role` login, replication and `secret` (as a verifier).
fn attributes(secret: &Password) -> String {
    let verifier = postgres_protocol::password::scram_sha_256(secret.expose().as_bytes());
    format!("LOGIN REPLICATION PASSWORD {}", literal(&verifier))
}

/// Creates `role` on the server of `endpoint` with `secret`; a role of that name left by an
/// interrupted earlier attempt gets the new secret instead.
pub async fn create(
    endpoint: &Endpoint,
    password: Option<&Password>,
    role: &str,
    secret: &Password,
) -> Result<(), SqlError> {
    let (e, client) = control(endpoint, password).await?;
    let create = format!("CREATE ROLE {} {}", ident(role), attributes(secret));
    match client.batch_execute(&create).await {
        Ok(()) => Ok(()),
        Err(err) if err.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_OBJECT) => {
            client
                .batch_execute(&format!(
                    "ALTER ROLE {} {}",
                    ident(role),
                    attributes(secret)
                ))
                .await
                .map_err(|err| SqlError::from_driver(&err, &e))
        }
        Err(err) => Err(SqlError::from_driver(&err, &e)),
    }
}

/// Drops `role` on the server of `endpoint` (absent is fine). A fenced source is read-only by
/// default: the session turns that off for itself.
pub async fn drop(
    endpoint: &Endpoint,
    password: Option<&Password>,
    role: &str,
) -> Result<(), SqlError> {
    let (e, client) = control(endpoint, password).await?;
    let run = |statement: String| {
        let client = &client;
        async move { client.batch_execute(&statement).await }
    };
    // Apart: one query string is one implicit transaction, read-only from its start.
    run("SET default_transaction_read_only = off".into())
        .await
        .map_err(|err| SqlError::from_driver(&err, &e))?;
    run(drop_command(role))
        .await
        .map_err(|err| SqlError::from_driver(&err, &e))
}

/// Proves the source takes `role`'s replication connection (its `pg_hba.conf` may name the
/// DBA's account only), connecting as the standby will.
pub async fn admits_replication(
    source: &Endpoint,
    role: &str,
    secret: &Password,
) -> Result<(), WireError> {
    let mut e = source.clone();
    e.user = role.to_string();
    let options = ConnectOptions {
        application_name: "pgrelocate_task".into(),
        connect_timeout: TIMEOUT,
    };
    let conn = ReplicationConnection::connect(&e, Some(secret), &options).await?;
    let _ = conn.close().await;
    Ok(())
}

/// The command to drop `role` by hand when pgrelocate could not.
pub fn drop_command(role: &str) -> String {
    format!("DROP ROLE IF EXISTS {}", ident(role))
}

/// The `pg_hba.conf` line that would admit the role's replication connections from
/// `address` (this host as the source sees it).
pub fn hba_line(role: &str, address: Option<IpAddr>) -> String {
    crate::assess::remedy::hba_line("replication", role, address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_16_only_a_superuser_makes_a_replication_role() {
        assert!(can_make_role(true, false, false, 10));
        assert!(!can_make_role(false, true, true, 15));
        assert!(can_make_role(false, true, true, 16));
        assert!(!can_make_role(false, true, false, 17));
        assert!(!can_make_role(false, false, true, 18));
    }

    #[test]
    fn names_are_valid_identifiers_tied_to_the_task() {
        let id = crate::task::TaskId::generate();
        let name = name_for(id.as_str());
        assert!(name.len() <= 63);
        assert!(name.contains(id.as_str()));
        assert_eq!(ident(&name), name, "needs no quoting");
    }

    #[test]
    fn the_statement_carries_a_verifier_never_the_password() {
        let secret = generate_password().unwrap();
        assert_eq!(secret.expose().len(), 64);
        let text = attributes(&secret);
        assert!(text.contains("SCRAM-SHA-256$4096:"), "{text}");
        assert!(!text.contains(secret.expose()), "{text}");
        assert_ne!(generate_password().unwrap().expose(), secret.expose());
    }
}
