//! The managed part of a cluster's configuration: a marked block at the end of
//! `postgresql.conf` (later lines win, so it overrides initdb's defaults and survives
//! re-runs) and a `pg_hba.conf` of SCRAM-only rules.

use std::path::Path;

use super::ServerError;
use crate::quote::conf::value as conf_value;

const BEGIN: &str =
    "# BEGIN pgrelocate managed settings (edited by pgrelocate; changes here are replaced)";
const END: &str = "# END pgrelocate managed settings";

/// Settings pgrelocate owns on a managed instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedSettings {
    /// TCP port.
    pub port: u16,
    /// `listen_addresses` (default `127.0.0.1`: reachable from this host only).
    pub listen_addresses: String,
    /// Folder for the Unix socket (`/tmp`: writable by any server user, libpq's default).
    pub socket_dir: String,
}

impl ManagedSettings {
    /// Loopback-only settings on `port`.
    pub fn loopback(port: u16) -> Self {
        ManagedSettings {
            port,
            listen_addresses: "127.0.0.1".into(),
            socket_dir: "/tmp".into(),
        }
    }

    fn lines(&self) -> Vec<(&'static str, String)> {
        vec![
            ("port", self.port.to_string()),
            ("listen_addresses", conf_value(&self.listen_addresses)),
            ("unix_socket_directories", conf_value(&self.socket_dir)),
            ("password_encryption", conf_value("scram-sha-256")),
            ("wal_level", conf_value("replica")),
            ("hot_standby", conf_value("on")),
        ]
    }
}

/// Writes (or replaces) the managed block in `postgresql.conf`. The file keeps its owner.
pub fn write_settings(data_dir: &Path, settings: &ManagedSettings) -> Result<(), ServerError> {
    let path = data_dir.join("postgresql.conf");
    let text = std::fs::read_to_string(&path).map_err(ServerError::io(&path))?;
    let mut kept = remove_block(&text);
    if !kept.ends_with('\n') && !kept.is_empty() {
        kept.push('\n');
    }
    kept.push_str(BEGIN);
    kept.push('\n');
    for (name, value) in settings.lines() {
        kept.push_str(&format!("{name} = {value}\n"));
    }
    kept.push_str(END);
    kept.push('\n');
    std::fs::write(&path, kept).map_err(ServerError::io(&path))
}

fn remove_block(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.lines() {
        if line == BEGIN {
            inside = true;
        } else if line == END && inside {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Replaces `pg_hba.conf` with SCRAM-only rules: local socket and loopback, for ordinary
/// and replication connections.
pub fn write_hba(data_dir: &Path) -> Result<(), ServerError> {
    let path = data_dir.join("pg_hba.conf");
    let text = "# Written by pgrelocate for a managed instance: SCRAM passwords, this host only.\n\
                # TYPE  DATABASE     USER  ADDRESS       METHOD\n\
                local   all          all                 scram-sha-256\n\
                host    all          all   127.0.0.1/32  scram-sha-256\n\
                host    all          all   ::1/128       scram-sha-256\n\
                local   replication  all                 scram-sha-256\n\
                host    replication  all   127.0.0.1/32  scram-sha-256\n\
                host    replication  all   ::1/128       scram-sha-256\n";
    std::fs::write(&path, text).map_err(ServerError::io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_block_is_replaced_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("postgresql.conf");
        std::fs::write(&conf, "max_connections = 100\n#port = 5432\n").unwrap();
        write_settings(dir.path(), &ManagedSettings::loopback(5440)).unwrap();
        write_settings(dir.path(), &ManagedSettings::loopback(5441)).unwrap();
        let text = std::fs::read_to_string(&conf).unwrap();
        assert!(
            text.starts_with("max_connections = 100\n#port = 5432\n"),
            "{text}"
        );
        assert_eq!(text.matches(BEGIN).count(), 1, "{text}");
        assert!(
            text.contains("port = 5441\n") && !text.contains("port = 5440"),
            "{text}"
        );
        assert!(text.contains("listen_addresses = '127.0.0.1'"), "{text}");
    }
}
