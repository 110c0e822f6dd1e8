//! Instance records: what pgrelocate knows about each external or managed instance.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{path_text, Store, StoreError};
use crate::endpoint::{Endpoint, SslMode};

/// A stable, generated instance id (32 hex digits). The keyring keys passwords by it, so
/// renaming an instance would not lose its password.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct InstanceId(String);

impl InstanceId {
    /// A new random id.
    pub fn generate() -> Self {
        InstanceId(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 digits, for folder names and messages.
    pub fn short(&self) -> &str {
        &self.0[..8.min(self.0.len())]
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("instance name is empty")]
    Empty,
    #[error("instance name {0:?} is longer than 63 characters")]
    TooLong(String),
    #[error("instance name {0:?} contains '/'; names become folder names")]
    Slash(String),
    #[error("instance name {0:?} contains a control character")]
    ControlCharacter(String),
    #[error("instance name {0:?} is reserved; choose another")]
    Reserved(String),
}

/// A user-chosen instance name: unique, 1–63 characters, no `/`, no control characters,
/// not `.` or `..`. Quotes, backslashes, spaces and non-ASCII letters are fine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct InstanceName(String);

impl InstanceName {
    /// A validated name.
    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > 63 {
            return Err(NameError::TooLong(name.to_string()));
        }
        if name.contains('/') {
            return Err(NameError::Slash(name.to_string()));
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter(name.to_string()));
        }
        if name == "." || name == ".." {
            return Err(NameError::Reserved(name.to_string()));
        }
        Ok(InstanceName(name.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstanceName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        InstanceName::new(&s)
    }
}

impl From<InstanceName> for String {
    fn from(n: InstanceName) -> String {
        n.0
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether pgrelocate only connects to an instance or also runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum InstanceKind {
    /// Reachable by connection parameters only.
    External,
    /// Data directory and binaries on this host; pgrelocate starts and stops it.
    Managed,
}

impl InstanceKind {
    /// `external` / `managed`.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceKind::External => "external",
            InstanceKind::Managed => "managed",
        }
    }
}

/// What pgrelocate needs to run a managed instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ManagedDetails {
    /// The cluster's data directory.
    pub data_dir: PathBuf,
    /// Folder holding `initdb`, `pg_ctl` and `postgres`.
    pub bin_dir: PathBuf,
    /// Major version of those binaries.
    pub major: u32,
    /// OS user the server runs as when pgrelocate runs as root.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub os_user: Option<String>,
    /// The outermost folder pgrelocate created for this instance; `remove` deletes it and
    /// nothing else. `None` when the user supplied an existing data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub created_dir: Option<PathBuf>,
    /// The registered host it runs on (its agent manages it there); `None`: this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub host: Option<String>,
    /// An existing cluster registered as managed (`instance adopt`): pgrelocate did not
    /// create it, and removing it neither stops it nor deletes anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub adopted: bool,
}

/// One stored instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceRecord {
    /// Stable id.
    pub id: InstanceId,
    /// Unique name.
    pub name: InstanceName,
    /// How to reach it (no password: that lives in the keyring).
    pub endpoint: Endpoint,
    /// Present for managed instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub managed: Option<ManagedDetails>,
    /// When it was stored (UTC, RFC 3339).
    pub created_at: String,
}

impl InstanceRecord {
    /// A new external instance record with a fresh id.
    pub fn external(name: InstanceName, endpoint: Endpoint) -> Self {
        InstanceRecord {
            id: InstanceId::generate(),
            name,
            endpoint,
            managed: None,
            created_at: String::new(),
        }
    }

    /// External or managed.
    pub fn kind(&self) -> InstanceKind {
        if self.managed.is_some() {
            InstanceKind::Managed
        } else {
            InstanceKind::External
        }
    }
}

const COLUMNS: &str = "id, name, host, port, user_name, dbname, sslmode, ssl_root_cert, \
                       connect_timeout, require_auth, \
                       data_dir, bin_dir, major, os_user, created_dir, managed_host, adopted, \
                       created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<InstanceRecord, StoreError>> {
    let corrupt = |what: String| Err(StoreError::Corrupt(what));
    let name: String = row.get("name")?;
    let name = match InstanceName::new(&name) {
        Ok(n) => n,
        Err(e) => return Ok(corrupt(e.to_string())),
    };
    let sslmode: String = row.get("sslmode")?;
    let sslmode = match sslmode.parse::<SslMode>() {
        Ok(m) => m,
        Err(e) => return Ok(corrupt(e.to_string())),
    };
    let require_auth = match row.get::<_, Option<String>>("require_auth")? {
        Some(text) => match text.parse() {
            Ok(r) => Some(r),
            Err(e) => return Ok(corrupt(format!("require_auth {text:?}: {e}"))),
        },
        None => None,
    };
    let endpoint = Endpoint {
        host: row.get("host")?,
        port: row.get("port")?,
        user: row.get("user_name")?,
        dbname: row.get("dbname")?,
        sslmode,
        ssl_root_cert: row
            .get::<_, Option<String>>("ssl_root_cert")?
            .map(PathBuf::from),
        connect_timeout_secs: row.get("connect_timeout")?,
        require_auth,
    };
    let data_dir: Option<String> = row.get("data_dir")?;
    let managed = match data_dir {
        Some(data_dir) => Some(ManagedDetails {
            data_dir: data_dir.into(),
            bin_dir: row.get::<_, String>("bin_dir")?.into(),
            major: row.get("major")?,
            os_user: row.get("os_user")?,
            created_dir: row
                .get::<_, Option<String>>("created_dir")?
                .map(PathBuf::from),
            host: row.get("managed_host")?,
            adopted: row.get("adopted")?,
        }),
        None => None,
    };
    Ok(Ok(InstanceRecord {
        id: InstanceId(row.get("id")?),
        name,
        endpoint,
        managed,
        created_at: row.get("created_at")?,
    }))
}

fn opt_path(p: Option<&PathBuf>) -> Result<Option<&str>, StoreError> {
    p.map(|p| path_text(p)).transpose()
}

impl Store {
    /// Stores a new instance; refuses a name already taken.
    pub fn insert_instance(&self, record: &InstanceRecord) -> Result<InstanceRecord, StoreError> {
        let e = &record.endpoint;
        let m = record.managed.as_ref();
        let result = self.conn().execute(
            "INSERT INTO instances (id, name, kind, host, port, user_name, dbname, sslmode,
                                    ssl_root_cert, data_dir, bin_dir, major, os_user, created_dir,
                                    connect_timeout, require_auth, managed_host, adopted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18)",
            params![
                record.id.as_str(),
                record.name.as_str(),
                record.kind().as_str(),
                e.host,
                e.port,
                e.user,
                e.dbname,
                e.sslmode.as_str(),
                opt_path(e.ssl_root_cert.as_ref())?,
                opt_path(m.map(|m| &m.data_dir))?,
                opt_path(m.map(|m| &m.bin_dir))?,
                m.map(|m| m.major),
                m.and_then(|m| m.os_user.as_deref()),
                opt_path(m.and_then(|m| m.created_dir.as_ref()))?,
                e.connect_timeout_secs,
                e.require_auth.as_ref().map(|r| r.to_string()),
                m.and_then(|m| m.host.as_deref()),
                m.is_some_and(|m| m.adopted),
            ],
        );
        match result {
            Ok(_) => self.instance(&record.id),
            Err(rusqlite::Error::SqliteFailure(err, Some(msg)))
                if err.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.contains("instances.name") =>
            {
                Err(StoreError::DuplicateName(record.name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a new external instance under a fresh id.
    pub fn insert_external(
        &self,
        name: &InstanceName,
        endpoint: &Endpoint,
    ) -> Result<InstanceRecord, StoreError> {
        self.insert_instance(&InstanceRecord::external(name.clone(), endpoint.clone()))
    }

    /// Changes the role and database an instance is reached with (after a switchover the
    /// destination's catalog, and so its roles, are the source's).
    pub fn set_instance_login(
        &self,
        id: &InstanceId,
        user: &str,
        dbname: &str,
    ) -> Result<InstanceRecord, StoreError> {
        self.conn().execute(
            "UPDATE instances SET user_name = ?2, dbname = ?3 WHERE id = ?1",
            params![id.as_str(), user, dbname],
        )?;
        self.instance(id)
    }

    /// Keeps an external record of `record` under its own id: inserted, or its name and
    /// endpoint brought up to date (a host's agent mirroring a workstation's source). A
    /// managed instance of this store with that id (a source managed on the same host) is
    /// returned as it is.
    pub fn upsert_external(&self, record: &InstanceRecord) -> Result<InstanceRecord, StoreError> {
        let e = &record.endpoint;
        let updated = self.conn().execute(
            "UPDATE instances SET name = ?2, host = ?3, port = ?4, user_name = ?5, dbname = ?6,
                    sslmode = ?7, ssl_root_cert = ?8, connect_timeout = ?9, require_auth = ?10
             WHERE id = ?1 AND data_dir IS NULL",
            params![
                record.id.as_str(),
                record.name.as_str(),
                e.host,
                e.port,
                e.user,
                e.dbname,
                e.sslmode.as_str(),
                opt_path(e.ssl_root_cert.as_ref())?,
                e.connect_timeout_secs,
                e.require_auth.as_ref().map(|r| r.to_string()),
            ],
        );
        match updated {
            Ok(1) => self.instance(&record.id),
            Ok(_) if self.find_instance_by_id(&record.id)?.is_some() => self.instance(&record.id),
            Ok(_) => {
                let external = InstanceRecord {
                    managed: None,
                    ..record.clone()
                };
                self.insert_instance(&external)
            }
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::DuplicateName(record.name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The instance with this id, if any.
    pub fn find_instance_by_id(
        &self,
        id: &InstanceId,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        match self.instance(id) {
            Ok(r) => Ok(Some(r)),
            Err(StoreError::NoSuchInstance(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The instance with this id.
    pub fn instance(&self, id: &InstanceId) -> Result<InstanceRecord, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM instances WHERE id = ?1"),
                [id.as_str()],
                from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchInstance(id.to_string()))?
    }

    /// The instance with this name, if any.
    pub fn find_instance(&self, name: &str) -> Result<Option<InstanceRecord>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM instances WHERE name = ?1"),
                [name],
                from_row,
            )
            .optional()?
            .transpose()
    }

    /// The instance with this name, or [`StoreError::NoSuchInstance`].
    pub fn instance_by_name(&self, name: &str) -> Result<InstanceRecord, StoreError> {
        self.find_instance(name)?
            .ok_or_else(|| StoreError::NoSuchInstance(name.to_string()))
    }

    /// Every instance, by name.
    pub fn list_instances(&self) -> Result<Vec<InstanceRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM instances ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Forgets an instance. Returns whether it existed.
    pub fn delete_instance(&self, id: &InstanceId) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM instances WHERE id = ?1", [id.as_str()])?
            > 0)
    }

    /// Remembers a folder the user pointed binary discovery at.
    pub fn add_bin_folder(&self, path: &Path) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO bin_folders (path) VALUES (?1)",
            [path_text(path)?],
        )?;
        Ok(())
    }

    /// Folders the user added to binary discovery, oldest first.
    pub fn bin_folders(&self) -> Result<Vec<PathBuf>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT path FROM bin_folders ORDER BY added_at, path")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| r.map(PathBuf::from).map_err(StoreError::from))
            .collect()
    }
}

impl crate::Coded for NameError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidName
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn names_with_quotes_backslashes_spaces_and_non_ascii_round_trip() {
        let (_dir, store) = store();
        let name = InstanceName::new("prod \"east\" o'neil \\ café 東京").unwrap();
        let endpoint = Endpoint::new(
            "db-ü.example",
            5433,
            "mig'r\\ä tør",
            Some("données \"x\""),
            SslMode::VerifyFull,
        )
        .unwrap();
        let stored = store.insert_external(&name, &endpoint).unwrap();
        let back = store.instance_by_name(name.as_str()).unwrap();
        assert_eq!(back, stored);
        assert_eq!(back.name, name);
        assert_eq!(back.endpoint, endpoint);
        assert_eq!(back.kind(), InstanceKind::External);
    }

    #[test]
    fn refuses_hostile_names() {
        assert_eq!(InstanceName::new(""), Err(NameError::Empty));
        assert!(matches!(InstanceName::new("a/b"), Err(NameError::Slash(_))));
        assert!(matches!(
            InstanceName::new("a\nb"),
            Err(NameError::ControlCharacter(_))
        ));
        assert!(matches!(
            InstanceName::new(".."),
            Err(NameError::Reserved(_))
        ));
        assert!(matches!(
            InstanceName::new(&"x".repeat(64)),
            Err(NameError::TooLong(_))
        ));
        assert!(InstanceName::new(&"é".repeat(63)).is_ok());
        let err = InstanceName::new("a/b").unwrap_err().to_string();
        assert!(err.contains('/'), "{err}");
    }

    #[test]
    fn names_are_unique() {
        let (_dir, store) = store();
        let name = InstanceName::new("src").unwrap();
        let endpoint = Endpoint::new("h", 5432, "u", None, SslMode::Prefer).unwrap();
        store.insert_external(&name, &endpoint).unwrap();
        let err = store.insert_external(&name, &endpoint).unwrap_err();
        assert!(
            matches!(err, StoreError::DuplicateName(ref n) if n == "src"),
            "{err}"
        );
        assert_eq!(store.list_instances().unwrap().len(), 1);
    }

    #[test]
    fn managed_details_round_trip_and_delete_forgets() {
        let (_dir, store) = store();
        let endpoint =
            Endpoint::new("127.0.0.1", 5440, "postgres", None, SslMode::Disable).unwrap();
        let record = InstanceRecord {
            id: InstanceId::generate(),
            name: InstanceName::new("dest").unwrap(),
            endpoint,
            managed: Some(ManagedDetails {
                data_dir: "/var/lib/pgrelocate/x/data".into(),
                bin_dir: "/usr/lib/postgresql/15/bin".into(),
                major: 15,
                os_user: Some("postgres".into()),
                created_dir: Some("/var/lib/pgrelocate/x".into()),
                adopted: false,
                host: None,
            }),
            created_at: String::new(),
        };
        let stored = store.insert_instance(&record).unwrap();
        assert_eq!(stored.managed, record.managed);
        assert_eq!(stored.kind(), InstanceKind::Managed);
        assert!(!stored.created_at.is_empty());
        assert!(store.delete_instance(&record.id).unwrap());
        assert!(store.find_instance("dest").unwrap().is_none());
        assert!(!store.delete_instance(&record.id).unwrap());
    }

    #[test]
    fn bin_folders_are_remembered_once() {
        let (_dir, store) = store();
        store.add_bin_folder(Path::new("/opt/pg/16/bin")).unwrap();
        store.add_bin_folder(Path::new("/opt/pg/16/bin")).unwrap();
        assert_eq!(
            store.bin_folders().unwrap(),
            vec![PathBuf::from("/opt/pg/16/bin")]
        );
    }
}
