//! libpq's password file (`~/.pgpass`, or `PGPASSFILE`): read with libpq's rules.
//!
//! Each line is `hostname:port:database:username:password`; `*` matches anything in the
//! first four fields; `\:` and `\\` escape; `#` starts a comment line; the first matching
//! line wins. On Unix a file readable by group or others is ignored with a warning, as libpq
//! does, and so is anything but a regular file.

use std::path::{Path, PathBuf};

use super::{Password, SecretError};
use crate::endpoint::Endpoint;

/// Socket directories libpq treats as "localhost" (stock builds and Debian's).
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/tmp", "/var/run/postgresql"];

/// The password file libpq would read: `PGPASSFILE`, else `~/.pgpass`
/// (`%APPDATA%\postgresql\pgpass.conf` on Windows).
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if cfg!(windows) {
        std::env::var_os("APPDATA").map(|a| PathBuf::from(a).join("postgresql/pgpass.conf"))
    } else {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass"))
    }
}

/// The password for `endpoint` from the password file, and which file it came from.
pub fn lookup(endpoint: &Endpoint) -> Result<Option<(Password, PathBuf)>, SecretError> {
    let Some(path) = path() else { return Ok(None) };
    Ok(lookup_in(&path, endpoint)?.map(|p| (p, path)))
}

/// The password for `endpoint` from the file at `path` (missing file: `None`).
pub fn lookup_in(path: &Path, endpoint: &Endpoint) -> Result<Option<Password>, SecretError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SecretError::PassFile {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if !meta.is_file() {
        tracing::warn!(file = %path.display(), "password file is not a plain file; ignored");
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                "password file has group or world access; permissions should be u=rw (0600) \
                 or less; ignored"
            );
            return Ok(None);
        }
    }
    let text = std::fs::read(path).map_err(|source| SecretError::PassFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(find(&String::from_utf8_lossy(&text), endpoint))
}

/// The first line of `text` that matches `endpoint`, libpq style.
pub fn find(text: &str, endpoint: &Endpoint) -> Option<Password> {
    let host = if endpoint.host.is_empty() || DEFAULT_SOCKET_DIRS.contains(&endpoint.host.as_str())
    {
        "localhost"
    } else {
        endpoint.host.as_str()
    };
    let port = endpoint.port.to_string();
    let wanted = [
        host,
        port.as_str(),
        endpoint.dbname.as_str(),
        endpoint.user.as_str(),
    ];
    text.lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|line| {
            let mut rest = line;
            for want in wanted {
                rest = match_field(rest, want)?;
            }
            Some(Password::new(unescape_last(rest)))
        })
}

/// Matches one `:`-terminated field against `want`; returns what follows the `:`.
fn match_field<'a>(line: &'a str, want: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut chars = line.char_indices();
    let mut want_chars = want.chars();
    while let Some((i, c)) = chars.next() {
        let c = match c {
            ':' => {
                return want_chars.next().is_none().then(|| &line[i + 1..]);
            }
            '\\' => match chars.next() {
                Some((_, escaped)) => escaped,
                None => return None,
            },
            c => c,
        };
        if want_chars.next() != Some(c) {
            return None;
        }
    }
    None
}

/// The password field: up to the first unescaped `:`, escapes removed.
fn unescape_last(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' => break,
            '\\' => match chars.next() {
                Some(escaped) => out.push(escaped),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SslMode;

    fn ep(host: &str, port: u16, db: &str, user: &str) -> Endpoint {
        Endpoint::new(host, port, user, Some(db), SslMode::Prefer).unwrap()
    }

    #[test]
    fn first_matching_line_wins_with_wildcards() {
        let text = "# comment\n\
                    db1:5432:app:alice:first\n\
                    *:5432:*:alice:second\n\
                    *:*:*:*:fallback\n";
        let get = |e: &Endpoint| find(text, e).map(|p| p.expose().to_string());
        assert_eq!(
            get(&ep("db1", 5432, "app", "alice")).as_deref(),
            Some("first")
        );
        assert_eq!(
            get(&ep("db2", 5432, "app", "alice")).as_deref(),
            Some("second")
        );
        assert_eq!(
            get(&ep("db2", 5433, "app", "alice")).as_deref(),
            Some("fallback")
        );
    }

    #[test]
    fn escapes_colons_and_backslashes_in_every_field() {
        let text = "fe80\\:\\:1:5432:d\\\\b:u\\:ser:pa\\:ss\\\\w:ord\n";
        let p = find(text, &ep("fe80::1", 5432, "d\\b", "u:ser")).unwrap();
        // The password ends at the first unescaped ':' (libpq ignores what follows).
        assert_eq!(p.expose(), "pa:ss\\w");
        assert!(find(text, &ep("fe80::1", 5432, "db", "u:ser")).is_none());
    }

    #[test]
    fn socket_directories_match_localhost() {
        let text = "localhost:5432:*:postgres:local\n";
        assert!(find(text, &ep("/var/run/postgresql", 5432, "x", "postgres")).is_some());
        assert!(find(text, &ep("/tmp", 5432, "x", "postgres")).is_some());
        assert!(find(text, &ep("/srv/sock", 5432, "x", "postgres")).is_none());
        assert!(find(text, &ep("127.0.0.1", 5432, "x", "postgres")).is_none());
    }

    #[test]
    fn a_prefix_of_a_field_does_not_match() {
        let text = "db:5432:app:alice:x\n";
        assert!(find(text, &ep("db", 5432, "app", "alic")).is_none());
        assert!(find(text, &ep("d", 5432, "app", "alice")).is_none());
        assert!(find(text, &ep("db", 543, "app", "alice")).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_ignored_and_0600_is_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "*:*:*:*:s3cret\n").unwrap();
        let e = ep("h", 5432, "d", "u");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(lookup_in(&file, &e).unwrap().is_none());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup_in(&file, &e).unwrap().unwrap().expose(), "s3cret");
        assert!(lookup_in(&dir.path().join("missing"), &e)
            .unwrap()
            .is_none());
        assert!(lookup_in(dir.path(), &e).unwrap().is_none());
    }
}
