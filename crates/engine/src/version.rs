//! PostgreSQL server versions and, in one place, what differs between majors 10 to 18.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Oldest major pgrelocate supports.
pub const MIN_MAJOR: u32 = 10;
/// Newest major pgrelocate supports.
pub const MAX_MAJOR: u32 = 18;

/// A server's version as `major.minor` (10 and later numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
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
        assert_eq!(ServerVersion::parse("18.4").unwrap(), ServerVersion::new(18, 4));
        assert_eq!(ServerVersion::parse("16beta1").unwrap(), ServerVersion::new(16, 0));
        assert_eq!(ServerVersion::parse("10.23").unwrap(), ServerVersion::new(10, 23));
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
    }
}
