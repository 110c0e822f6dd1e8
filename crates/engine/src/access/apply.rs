//! Putting a new `pg_hba.conf` in force: written atomically (a temporary file beside it,
//! fsync, rename, the directory fsynced; the old file's mode and owner kept), checked with
//! `pg_hba_file_rules` (which reads the file on disk), then `pg_reload_conf()`. When the
//! server reports an error line, the previous text is put back the same way and reloaded,
//! and the error lines are returned.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use tokio_postgres::Client;

use super::error::AccessError;
use super::read::file_errors;

/// Replaces `path` with `text` atomically, keeping its mode and owner.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.pgrelocate-tmp"));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        let created = f.metadata()?;
        if created.uid() != meta.uid() || created.gid() != meta.gid() {
            std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `pg_reload_conf()` on `client`'s server.
pub async fn reload(client: &Client) -> Result<(), AccessError> {
    client
        .execute("SELECT pg_catalog.pg_reload_conf()", &[])
        .await
        .map(|_| ())
        .map_err(|e| {
            AccessError::CheckUnreadable(match e.as_db_error() {
                Some(db) => format!("pg_reload_conf(): {}", db.message()),
                None => e.to_string(),
            })
        })
}

/// Writes `new` over `path` (whose text is `old`), checks it and reloads; on an error
/// line, restores `old`, reloads and returns them.
pub async fn put_in_force(
    client: &Client,
    path: &Path,
    old: &str,
    new: &str,
) -> Result<(), AccessError> {
    // A file PostgreSQL already refuses is not reloaded at all: adding to it would not help.
    let before = file_errors(client).await?;
    if !before.is_empty() {
        return Err(AccessError::AlreadyInvalid { errors: before });
    }
    write_atomically(path, new).map_err(|source| AccessError::WriteFailed {
        path: path.to_path_buf(),
        source,
    })?;
    let after = match file_errors(client).await {
        Ok(a) => a,
        Err(e) => {
            let _ = write_atomically(path, old);
            return Err(e);
        }
    };
    let errors = after;
    if errors.is_empty() {
        return reload(client).await;
    }
    if let Err(e) = write_atomically(path, old) {
        return Err(AccessError::RestoreFailed {
            path: path.to_path_buf(),
            errors,
            restore: e.to_string(),
        });
    }
    let _ = reload(client).await;
    Err(AccessError::Invalid { errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_with_its_mode_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pg_hba.conf");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
