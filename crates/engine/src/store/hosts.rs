//! Host records: the remote machines pgrelocate reaches over SSH (issue 13).

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{path_text, Store, StoreError};

/// A registered host: how the system's OpenSSH client reaches it. `ssh_host` may be an
/// alias of `~/.ssh/config`; what ssh resolves it to is ssh's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HostRecord {
    /// The user-chosen name (instance name rules).
    pub name: String,
    /// The login user; `None` leaves it to ssh (its config, else the local user).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ssh_user: Option<String>,
    /// Host name, address or ssh_config alias.
    pub ssh_host: String,
    /// The SSH port; `None` leaves it to ssh (its config, else 22).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ssh_port: Option<u16>,
    /// A private key file; `None` leaves it to ssh (its config, the agent, defaults).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub identity: Option<PathBuf>,
    /// The fingerprint of the host key accepted when the host was added (`SHA256:…`), or
    /// `None` when ssh already knew the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host_key: Option<String>,
    /// When it was added (RFC 3339).
    pub added_at: String,
}

impl HostRecord {
    /// `[user@]host`, as ssh takes it.
    pub fn destination(&self) -> String {
        match &self.ssh_user {
            Some(user) => format!("{user}@{}", self.ssh_host),
            None => self.ssh_host.clone(),
        }
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<HostRecord> {
    Ok(HostRecord {
        name: row.get("name")?,
        ssh_user: row.get("ssh_user")?,
        ssh_host: row.get("ssh_host")?,
        ssh_port: row.get("ssh_port")?,
        identity: row.get::<_, Option<String>>("identity")?.map(PathBuf::from),
        host_key: row.get("host_key")?,
        added_at: row.get("added_at")?,
    })
}

const COLUMNS: &str = "name, ssh_user, ssh_host, ssh_port, identity, host_key, added_at";

impl Store {
    /// Stores a new host; refuses a name already taken.
    pub fn insert_host(&self, host: &HostRecord) -> Result<(), StoreError> {
        let identity = host.identity.as_deref().map(path_text).transpose()?;
        let result = self.conn().execute(
            "INSERT INTO hosts (name, ssh_user, ssh_host, ssh_port, identity, host_key, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                host.name,
                host.ssh_user,
                host.ssh_host,
                host.ssh_port,
                identity,
                host.host_key,
                host.added_at,
            ],
        );
        match result {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::DuplicateHost(host.name.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The host of that name, if registered.
    pub fn find_host(&self, name: &str) -> Result<Option<HostRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM hosts WHERE name = ?1"),
                [name],
                from_row,
            )
            .optional()?)
    }

    /// Every registered host, by name.
    pub fn list_hosts(&self) -> Result<Vec<HostRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM hosts ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets a host; `false` when there was none of that name. Refused while a managed
    /// instance runs on it.
    pub fn delete_host(&self, name: &str) -> Result<bool, StoreError> {
        match self
            .conn()
            .execute("DELETE FROM hosts WHERE name = ?1", [name])
        {
            Ok(n) => Ok(n > 0),
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::HostInUse(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> HostRecord {
        HostRecord {
            name: name.into(),
            ssh_user: Some("postgres".into()),
            ssh_host: "db-b.example".into(),
            ssh_port: Some(2222),
            identity: Some(PathBuf::from("/home/dba/.ssh/id_ed25519")),
            host_key: Some("SHA256:abc".into()),
            added_at: "2026-12-03T10:00:00Z".into(),
        }
    }

    #[test]
    fn hosts_are_stored_listed_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.insert_host(&host("b")).unwrap();
        store.insert_host(&host("a")).unwrap();
        assert!(matches!(
            store.insert_host(&host("a")),
            Err(StoreError::DuplicateHost(n)) if n == "a"
        ));
        let names: Vec<_> = store
            .list_hosts()
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(store.find_host("b").unwrap(), Some(host("b")));
        assert_eq!(host("b").destination(), "postgres@db-b.example");
        assert!(store.delete_host("b").unwrap());
        assert!(!store.delete_host("b").unwrap());
        assert_eq!(store.find_host("b").unwrap(), None);
    }
}
