//! Standby configuration of the copy, per version: `recovery.conf` (10, 11) or
//! `standby.signal` + `postgresql.auto.conf` (12+); `primary_conninfo` with a password file;
//! the destination's own `postgresql.conf`/`pg_hba.conf`/`pg_ident.conf` kept (the source's
//! saved as `*.from-source`); the destination's host settings and the hot-standby floors
//! appended last so they win over the source's ALTER SYSTEM settings.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;
use crate::quote::conf::value as conf_value;
use crate::secrets::Password;
use crate::server::OsUser;
use crate::version::ServerVersion;

/// Configuration files that belong to the destination host, not to the copy.
pub const HOST_FILES: [&str; 3] = ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"];
/// Suffix of the source's copies of [`HOST_FILES`].
pub const FROM_SOURCE: &str = ".from-source";
/// Settings a hot standby needs at least as high as its primary's (the shared plan's).
pub use super::plan::FLOOR_SETTINGS;

/// What the standby configuration says, decided at precheck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StandbyPlan {
    /// The source's version (decides recovery.conf vs standby.signal).
    pub version: ServerVersion,
    /// The destination's `port`.
    pub port: u16,
    /// The destination's `listen_addresses`.
    pub listen_addresses: String,
    /// The destination's `unix_socket_directories`.
    pub socket_dirs: String,
    /// Hot-standby floors: each of [`FLOOR_SETTINGS`] at least the source's value.
    pub floors: Vec<(String, i64)>,
}

pub use crate::endpoint::conninfo_value;

/// `primary_conninfo` for the source: no password inline, `passfile=` when one is needed.
/// The instance's `require_auth` goes to the walreceiver's libpq too where it knows the
/// setting (16+), so the standby asks no more of the source than pgrelocate's own clients.
pub fn primary_conninfo(
    source: &Endpoint,
    version: ServerVersion,
    passfile: Option<&Path>,
    application_name: &str,
) -> String {
    let mut parts = vec![
        ("host", source.host.clone()),
        ("port", source.port.to_string()),
        ("user", source.user.clone()),
        ("application_name", application_name.to_string()),
        ("sslmode", source.sslmode.as_str().to_string()),
    ];
    if let Some(root) = &source.ssl_root_cert {
        parts.push(("sslrootcert", root.display().to_string()));
    }
    if let Some(p) = passfile {
        parts.push(("passfile", p.display().to_string()));
    }
    if let Some(require) = source.require_auth.as_ref().filter(|_| version.major >= 16) {
        parts.push(("require_auth", require.to_string()));
    }
    parts
        .iter()
        .map(|(k, v)| format!("{k}={}", conninfo_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One field of a libpq password file line: `\` and `:` escaped by a backslash.
fn passfile_field(value: &str) -> String {
    value.replace('\\', "\\\\").replace(':', "\\:")
}

/// The password file line for replication connections to `source`.
pub fn passfile_line(source: &Endpoint, password: &Password) -> String {
    // libpq compares a socket directory to "localhost" only for the default one: a
    // wildcard host is simpler and this file serves one connection only.
    let host = if source.is_unix_socket() {
        "*".to_string()
    } else {
        passfile_field(&source.host)
    };
    format!(
        "{host}:{}:replication:{}:{}\n",
        source.port,
        passfile_field(&source.user),
        passfile_field(password.expose())
    )
}

/// Writes `content` to `path` with `mode`, owned by `owner` (replacing the file).
pub fn write_owned(
    path: &Path,
    content: &[u8],
    mode: u32,
    owner: Option<&OsUser>,
) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(content)?;
    f.sync_all()?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    if let Some(u) = owner {
        std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))?;
    }
    Ok(())
}

/// Writes the password file (0600, owned by the server user).
pub fn write_passfile(
    path: &Path,
    source: &Endpoint,
    password: &Password,
    owner: Option<&OsUser>,
) -> std::io::Result<()> {
    write_owned(
        path,
        passfile_line(source, password).as_bytes(),
        0o600,
        owner,
    )
}

/// Puts the destination's own host files into the copy: the source's versions (when they
/// came with the copy) become `*.from-source`; the destination's are copied from `own_dir`.
pub fn keep_destination_files(
    copy_dir: &Path,
    own_dir: &Path,
    owner: Option<&OsUser>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for name in HOST_FILES {
        let in_copy = copy_dir.join(name);
        if in_copy.exists() {
            let saved = copy_dir.join(format!("{name}{FROM_SOURCE}"));
            std::fs::rename(&in_copy, &saved)?;
        }
        let own = own_dir.join(name);
        if own.is_file() {
            let text = std::fs::read(&own)?;
            let mode = std::fs::metadata(&own)?.permissions().mode() & 0o777;
            write_owned(&in_copy, &text, mode, owner)?;
        }
    }
    Ok(())
}

fn block_begin(task: &str) -> String {
    format!(
        "# BEGIN pgrelocate task {task}: destination host and standby settings (last, so they win)"
    )
}

fn block_end(task: &str) -> String {
    format!("# END pgrelocate task {task}")
}

/// Writes the standby configuration into `data_dir` (the finished copy) and returns the
/// files that hold it. `conninfo` must not contain a password.
pub fn write_standby_config(
    data_dir: &Path,
    task: &str,
    plan: &StandbyPlan,
    conninfo: &str,
    slot_name: &str,
    owner: Option<&OsUser>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut host = vec![
        ("port".to_string(), plan.port.to_string()),
        (
            "listen_addresses".to_string(),
            conf_value(&plan.listen_addresses),
        ),
        (
            "unix_socket_directories".to_string(),
            conf_value(&plan.socket_dirs),
        ),
        ("hot_standby".to_string(), conf_value("on")),
    ];
    host.extend(plan.floors.iter().map(|(k, v)| (k.clone(), v.to_string())));
    let standby = [
        ("primary_conninfo".to_string(), conf_value(conninfo)),
        ("primary_slot_name".to_string(), conf_value(slot_name)),
    ];

    let auto_path = data_dir.join("postgresql.auto.conf");
    let mut auto = match std::fs::read_to_string(&auto_path) {
        Ok(text) => remove_block(&text, task),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if !auto.is_empty() && !auto.ends_with('\n') {
        auto.push('\n');
    }
    auto.push_str(&block_begin(task));
    auto.push('\n');
    let in_auto: Vec<_> = if plan.version.uses_recovery_conf() {
        host.iter().collect()
    } else {
        host.iter().chain(standby.iter()).collect()
    };
    for (k, v) in in_auto {
        auto.push_str(&format!("{k} = {v}\n"));
    }
    auto.push_str(&block_end(task));
    auto.push('\n');
    write_owned(&auto_path, auto.as_bytes(), 0o600, owner)?;

    let mut files = vec![auto_path];
    if plan.version.uses_recovery_conf() {
        let path = data_dir.join("recovery.conf");
        let mut text = format!("# Written by pgrelocate for task {task}.\nstandby_mode = 'on'\n");
        for (k, v) in &standby {
            text.push_str(&format!("{k} = {v}\n"));
        }
        text.push_str("recovery_target_timeline = 'latest'\n");
        write_owned(&path, text.as_bytes(), 0o600, owner)?;
        files.push(path);
    } else {
        let path = data_dir.join("standby.signal");
        write_owned(&path, b"", 0o600, owner)?;
        files.push(path);
    }
    Ok(files)
}

/// The text without the task's block (so rewriting it does not repeat it).
pub fn remove_block(text: &str, task: &str) -> String {
    let (begin, end) = (block_begin(task), block_end(task));
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.lines() {
        if line == begin {
            inside = true;
        } else if inside && line == end {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Whether `data_dir` holds this task's standby configuration.
pub fn is_configured(data_dir: &Path, task: &str) -> bool {
    std::fs::read_to_string(data_dir.join("postgresql.auto.conf"))
        .map(|t| t.lines().any(|l| l == block_begin(task)))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::SslMode;

    fn plan(major: u32) -> StandbyPlan {
        StandbyPlan {
            version: ServerVersion::new(major, 0),
            port: 5999,
            listen_addresses: "127.0.0.1".into(),
            socket_dirs: "/tmp".into(),
            floors: vec![("max_connections".into(), 200)],
        }
    }

    #[test]
    fn conninfo_values_escape_quotes_and_backslashes_the_libpq_way() {
        assert_eq!(conninfo_value(r"it's a \ path"), r"'it\'s a \\ path'");
        let source =
            Endpoint::new("127.0.0.1", 5432, r"o'brien\x", None, SslMode::Disable).unwrap();
        let c = primary_conninfo(
            &source,
            ServerVersion::new(15, 0),
            Some(Path::new("/p/pass file")),
            "pgrelocate_x",
        );
        assert_eq!(
            c,
            r"host='127.0.0.1' port='5432' user='o\'brien\\x' application_name='pgrelocate_x' sslmode='disable' passfile='/p/pass file'"
        );
        // In the config file the whole string is quoted once more; PostgreSQL reads back
        // exactly the conninfo.
        assert_eq!(conf_value(r"user='o\'b'"), r"'user=''o\\''b'''");
    }

    #[test]
    fn require_auth_reaches_the_walreceiver_from_16_on() {
        let mut source = Endpoint::new("db", 5432, "u", None, SslMode::Prefer).unwrap();
        source.require_auth = Some("scram-sha-256".parse().unwrap());
        let c16 = primary_conninfo(&source, ServerVersion::new(16, 0), None, "a");
        assert!(c16.ends_with("require_auth='scram-sha-256'"), "{c16}");
        // libpq before 16 refuses a connection string with a keyword it does not know.
        let c15 = primary_conninfo(&source, ServerVersion::new(15, 0), None, "a");
        assert!(!c15.contains("require_auth"), "{c15}");
    }

    #[test]
    fn passfile_lines_escape_colons_and_backslashes() {
        let source = Endpoint::new("127.0.0.1", 5432, "re:pl", None, SslMode::Disable).unwrap();
        let line = passfile_line(&source, &Password::new(r"p:a\s's"));
        assert_eq!(line, "127.0.0.1:5432:replication:re\\:pl:p\\:a\\\\s's\n");
    }

    #[test]
    fn version_12_and_later_use_standby_signal_and_auto_conf() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("postgresql.auto.conf"),
            "work_mem = '64MB'\nport = 6000\n",
        )
        .unwrap();
        let files = write_standby_config(
            dir.path(),
            "t1",
            &plan(12),
            "host='h'",
            "pgrelocate_t1",
            None,
        )
        .unwrap();
        assert_eq!(files.len(), 2);
        assert!(dir.path().join("standby.signal").is_file());
        assert!(!dir.path().join("recovery.conf").exists());
        let auto = std::fs::read_to_string(dir.path().join("postgresql.auto.conf")).unwrap();
        assert!(
            auto.starts_with("work_mem = '64MB'\nport = 6000\n"),
            "{auto}"
        );
        let port_at = auto.rfind("port = 5999").unwrap();
        assert!(
            port_at > auto.find("port = 6000").unwrap(),
            "host settings come last"
        );
        assert!(auto.contains("primary_conninfo = 'host=''h'''"), "{auto}");
        assert!(auto.contains("primary_slot_name = 'pgrelocate_t1'"));
        assert!(auto.contains("max_connections = 200"));
        assert!(is_configured(dir.path(), "t1"));
        // Rewriting replaces the block.
        write_standby_config(
            dir.path(),
            "t1",
            &plan(12),
            "host='h'",
            "pgrelocate_t1",
            None,
        )
        .unwrap();
        let again = std::fs::read_to_string(dir.path().join("postgresql.auto.conf")).unwrap();
        assert_eq!(again, auto);
    }

    #[test]
    fn versions_10_and_11_use_recovery_conf_following_the_latest_timeline() {
        let dir = tempfile::tempdir().unwrap();
        write_standby_config(
            dir.path(),
            "t1",
            &plan(11),
            "host='h'",
            "pgrelocate_t1",
            None,
        )
        .unwrap();
        let rec = std::fs::read_to_string(dir.path().join("recovery.conf")).unwrap();
        assert!(rec.contains("standby_mode = 'on'"));
        assert!(rec.contains("recovery_target_timeline = 'latest'"));
        assert!(rec.contains("primary_slot_name = 'pgrelocate_t1'"));
        assert!(!dir.path().join("standby.signal").exists());
        let auto = std::fs::read_to_string(dir.path().join("postgresql.auto.conf")).unwrap();
        assert!(!auto.contains("primary_conninfo"), "{auto}");
        assert!(auto.contains("port = 5999"));
    }

    #[test]
    fn the_destination_keeps_its_own_host_files() {
        let copy = tempfile::tempdir().unwrap();
        let own = tempfile::tempdir().unwrap();
        std::fs::write(copy.path().join("postgresql.conf"), "port = 1\n").unwrap();
        std::fs::write(own.path().join("postgresql.conf"), "port = 2\n").unwrap();
        std::fs::write(own.path().join("pg_hba.conf"), "local all all trust\n").unwrap();
        keep_destination_files(copy.path(), own.path(), None).unwrap();
        let read = |n: &str| std::fs::read_to_string(copy.path().join(n)).unwrap();
        assert_eq!(read("postgresql.conf"), "port = 2\n");
        assert_eq!(read("postgresql.conf.from-source"), "port = 1\n");
        assert_eq!(read("pg_hba.conf"), "local all all trust\n");
        assert!(!copy.path().join("pg_hba.conf.from-source").exists());
    }
}
