//! PostgreSQL server versions and, in one place, what differs between majors 10 to 18.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Oldest major pgrelocate supports.
pub const MIN_MAJOR: u32 = 10;
/// Newest major pgrelocate supports.
pub const MAX_MAJOR: u32 = 18;

/// A server's version as `major.minor` (10 and later numbering).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
pub struct ServerVersion {
    /// Major version, e.g. 15.
    pub major: u32,
    /// Minor version, e.g. 18 in 15.18 (0 for betas and release candidates).
    pub minor: u32,
}

/// A version string that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read a PostgreSQL version from {0:?}")]
pub struct VersionParseError(pub String);

impl ServerVersion {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32) -> Self {
        ServerVersion { major, minor }
    }

    /// Parses `server_version` as reported at startup or by `SHOW server_version`, e.g.
    /// `15.18 (Debian 15.18-0+deb12u1)`, `18.4`, `16beta1`, `9.6.24`.
    pub fn parse(s: &str) -> Result<Self, VersionParseError> {
        let err = || VersionParseError(s.to_string());
        let head = s.split_whitespace().next().ok_or_else(err)?;
        let digits_end = head
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(head.len());
        let major: u32 = head[..digits_end].parse().map_err(|_| err())?;
        let rest = &head[digits_end..];
        let minor_part = |r: &str| -> u32 {
            let r = r.strip_prefix('.').unwrap_or("");
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            r[..end].parse().unwrap_or(0)
        };
        if major < 10 {
            // 9.6.24 → major 9.6 is reported as 9 with minor 6; good enough to refuse it.
            return Ok(ServerVersion::new(major, minor_part(rest)));
        }
        Ok(ServerVersion::new(major, minor_part(rest)))
    }

    /// Parses `server_version_num`, e.g. `150018`.
    pub fn from_num(num: u32) -> Self {
        if num >= 100_000 {
            ServerVersion::new(num / 10_000, num % 10_000)
        } else {
            ServerVersion::new(num / 10_000, (num / 100) % 100)
        }
    }

    /// Whether pgrelocate can migrate this major.
    pub fn is_supported(self) -> bool {
        (MIN_MAJOR..=MAX_MAJOR).contains(&self.major)
    }

    /// Standby configuration goes to `recovery.conf` (10, 11) rather than
    /// `standby.signal` + `postgresql.auto.conf` (12+).
    pub fn uses_recovery_conf(self) -> bool {
        self.major < 12
    }

    /// `pg_promote()` exists (12+); older servers need `pg_ctl promote`.
    pub fn has_pg_promote(self) -> bool {
        self.major >= 12
    }

    /// `wal_keep_size` (13+) replaced `wal_keep_segments`.
    pub fn wal_keep_setting(self) -> &'static str {
        if self.major >= 13 {
            "wal_keep_size"
        } else {
            "wal_keep_segments"
        }
    }

    /// Slots report `wal_status` / `safe_wal_size` and honour `max_slot_wal_keep_size` (13+).
    pub fn has_slot_wal_status(self) -> bool {
        self.major >= 13
    }

    /// BASE_BACKUP can send a backup manifest (13+).
    pub fn has_backup_manifest(self) -> bool {
        self.major >= 13
    }

    /// BASE_BACKUP uses the parenthesised option list and the archive sub-protocol (15+).
    pub fn has_new_base_backup_syntax(self) -> bool {
        self.major >= 15
    }

    /// BASE_BACKUP can compress on the server (15+).
    pub fn has_server_compression(self) -> bool {
        self.major >= 15
    }

    /// How BASE_BACKUP's options are written and how its archives arrive.
    pub fn base_backup_syntax(self) -> BaseBackupSyntax {
        if self.major >= 15 {
            BaseBackupSyntax::OptionList
        } else {
            BaseBackupSyntax::Keywords {
                manifest: self.has_backup_manifest(),
            }
        }
    }

    /// `CREATE_REPLICATION_SLOT` for a physical slot that reserves WAL at once.
    /// 15+ prefers the parenthesised option list (the bare form is deprecated there).
    pub fn create_physical_slot_command(self, name: &str, temporary: bool) -> String {
        let temporary = if temporary { " TEMPORARY" } else { "" };
        if self.major >= 15 {
            format!("CREATE_REPLICATION_SLOT \"{name}\"{temporary} PHYSICAL (RESERVE_WAL)")
        } else {
            format!("CREATE_REPLICATION_SLOT \"{name}\"{temporary} PHYSICAL RESERVE_WAL")
        }
    }

    /// `SHOW data_directory_mode` works (11+); 10 always uses 0700.
    pub fn has_data_directory_mode(self) -> bool {
        self.major >= 11
    }
}

/// The two BASE_BACKUP dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseBackupSyntax {
    /// 10–14: `BASE_BACKUP LABEL 'l' PROGRESS FAST …`; one CopyOut per tablespace with an
    /// unterminated tar, then (13/14, when asked) one CopyOut with the manifest.
    Keywords {
        /// The server can send a backup manifest (13, 14).
        manifest: bool,
    },
    /// 15+: `BASE_BACKUP (LABEL 'l', …)`; a single CopyOut of `n`/`d`/`p`/`m` sub-messages,
    /// optional server-side compression.
    OptionList,
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl crate::Coded for VersionParseError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::UnsupportedVersion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_servers_report() {
        assert_eq!(
            ServerVersion::parse("15.18 (Debian 15.18-0+deb12u1)").unwrap(),
            ServerVersion::new(15, 18)
        );
        assert_eq!(
            ServerVersion::parse("18.4").unwrap(),
            ServerVersion::new(18, 4)
        );
        assert_eq!(
            ServerVersion::parse("16beta1").unwrap(),
            ServerVersion::new(16, 0)
        );
        assert_eq!(
            ServerVersion::parse("10.23").unwrap(),
            ServerVersion::new(10, 23)
        );
        assert!(!ServerVersion::parse("9.6.24").unwrap().is_supported());
        assert!(ServerVersion::parse("").is_err());
        assert!(ServerVersion::parse("abc").is_err());
    }

    #[test]
    fn parses_version_num() {
        assert_eq!(ServerVersion::from_num(150018), ServerVersion::new(15, 18));
        assert_eq!(ServerVersion::from_num(100023), ServerVersion::new(10, 23));
        assert_eq!(ServerVersion::from_num(90624), ServerVersion::new(9, 6));
    }

    #[test]
    fn version_differences_live_here() {
        let v11 = ServerVersion::new(11, 22);
        let v13 = ServerVersion::new(13, 23);
        let v15 = ServerVersion::new(15, 18);
        assert!(v11.uses_recovery_conf() && !v13.uses_recovery_conf());
        assert_eq!(v11.wal_keep_setting(), "wal_keep_segments");
        assert_eq!(v13.wal_keep_setting(), "wal_keep_size");
        assert!(!v11.has_backup_manifest() && v13.has_backup_manifest());
        assert!(!v13.has_new_base_backup_syntax() && v15.has_new_base_backup_syntax());
        assert_eq!(
            ServerVersion::new(12, 0).base_backup_syntax(),
            BaseBackupSyntax::Keywords { manifest: false }
        );
        assert_eq!(
            v13.base_backup_syntax(),
            BaseBackupSyntax::Keywords { manifest: true }
        );
        assert_eq!(v15.base_backup_syntax(), BaseBackupSyntax::OptionList);
        assert_eq!(
            v13.create_physical_slot_command("s", false),
            "CREATE_REPLICATION_SLOT \"s\" PHYSICAL RESERVE_WAL"
        );
        assert_eq!(
            v15.create_physical_slot_command("s", true),
            "CREATE_REPLICATION_SLOT \"s\" TEMPORARY PHYSICAL (RESERVE_WAL)"
        );
    }
}
