//! Tar parsing with path safety: turns an archive stream (terminated or not) into entries
//! whose paths are relative and cannot climb out of the directory they are extracted into.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::error::BackupError;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file; its bytes follow.
    File,
    /// A directory.
    Directory,
    /// A symbolic link with its target as the archive states it (unchecked: the extractor
    /// allows only `pg_tblspc/<oid>` links, and replaces their targets).
    Symlink(PathBuf),
}

/// One archive entry with a safe relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Relative path, without `.`/`..`/empty components; empty for the archive's root.
    pub path: PathBuf,
    /// Kind of entry.
    pub kind: EntryKind,
    /// Permission bits (setuid/setgid/sticky removed).
    pub mode: u32,
    /// Size of the file's data.
    pub size: u64,
}

/// Checks an entry path: relative, no `..`; `.` and repeated slashes are dropped.
pub fn safe_relative_path(raw: &[u8]) -> Result<PathBuf, &'static str> {
    if raw.first() == Some(&b'/') {
        return Err("absolute path");
    }
    if raw.contains(&0) {
        return Err("NUL in path");
    }
    let mut path = PathBuf::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("path climbs out with '..'"),
            part => path.push(OsStr::from_bytes(part)),
        }
    }
    Ok(path)
}

/// Reads every entry of `reader` and hands it to `visit` with a reader over its data.
/// Stops at the end-of-archive blocks or at the end of the stream (10–14 send unterminated
/// archives), and returns the reader so the caller can drain what follows.
pub fn read_entries<R: Read>(
    reader: R,
    archive_name: &str,
    mut visit: impl FnMut(ArchiveEntry, &mut dyn Read) -> Result<(), BackupError>,
) -> Result<R, BackupError> {
    let bad = |e: std::io::Error| BackupError::Archive {
        archive: archive_name.to_string(),
        message: e.to_string(),
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let raw_path = entry.path_bytes().into_owned();
        let unsafe_entry = |why| BackupError::UnsafeEntry {
            archive: archive_name.to_string(),
            path: String::from_utf8_lossy(&raw_path).into_owned(),
            why,
        };
        let path = safe_relative_path(&raw_path).map_err(unsafe_entry)?;
        let header = entry.header();
        let mode = header.mode().map_err(bad)? & 0o777;
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Directory,
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| PathBuf::from(OsStr::from_bytes(&b)))
                    .ok_or_else(|| unsafe_entry("symbolic link without a target"))?;
                EntryKind::Symlink(target)
            }
            tar::EntryType::Link => {
                return Err(unsafe_entry(
                    "hard links are refused (PostgreSQL never sends one)",
                ))
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(unsafe_entry(
                    "device and FIFO entries are refused (PostgreSQL never sends one)",
                ))
            }
            _ => return Err(unsafe_entry("entry type PostgreSQL never sends")),
        };
        if path.as_os_str().is_empty() && kind != EntryKind::Directory {
            return Err(unsafe_entry("empty path"));
        }
        let size = if kind == EntryKind::File {
            entry.size()
        } else {
            0
        };
        visit(
            ArchiveEntry {
                path,
                kind,
                mode,
                size,
            },
            &mut entry,
        )?;
    }
    Ok(archive.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_relative() {
        assert_eq!(
            safe_relative_path(b"./base//1/./1259").unwrap(),
            PathBuf::from("base/1/1259")
        );
        assert_eq!(
            safe_relative_path(b"pg_wal/").unwrap(),
            PathBuf::from("pg_wal")
        );
        assert!(safe_relative_path(b"/etc/passwd").is_err());
        assert!(safe_relative_path(b"base/../../x").is_err());
        assert!(safe_relative_path(b"..").is_err());
    }

    fn archive(entries: &[(&str, tar::EntryType, &[u8])], terminate: bool) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(*kind);
            h.set_mode(0o600);
            h.set_size(data.len() as u64);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name(std::str::from_utf8(data).unwrap()).unwrap();
                h.set_size(0);
            }
            // set_path refuses '..', so write the name bytes directly.
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            let body: &[u8] = if *kind == tar::EntryType::Symlink {
                b""
            } else {
                data
            };
            builder.append(&h, body).unwrap();
        }
        let mut bytes = builder.into_inner().unwrap();
        if !terminate {
            bytes.truncate(bytes.len() - 1024);
        }
        bytes
    }

    #[test]
    fn reads_unterminated_archives_and_hands_back_the_rest() {
        let bytes = archive(
            &[
                ("base/", tar::EntryType::Directory, b""),
                ("base/1", tar::EntryType::Regular, b"hello"),
                ("pg_tblspc/16384", tar::EntryType::Symlink, b"/srv/ts"),
            ],
            false,
        );
        let mut seen = Vec::new();
        read_entries(&bytes[..], "base.tar", |e, data| {
            let mut s = String::new();
            data.read_to_string(&mut s).unwrap();
            seen.push((e.path.display().to_string(), e.kind, s));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].2, "hello");
        assert_eq!(seen[2].1, EntryKind::Symlink(PathBuf::from("/srv/ts")));
    }

    #[test]
    fn refuses_escaping_entries() {
        for path in ["../evil", "/etc/x", "a/../../b"] {
            let bytes = archive(&[(path, tar::EntryType::Regular, b"x")], true);
            let err = read_entries(&bytes[..], "t", |_, _| Ok(())).unwrap_err();
            assert!(
                matches!(err, BackupError::UnsafeEntry { .. }),
                "{path}: {err}"
            );
        }
        let bytes = archive(&[("dev", tar::EntryType::Char, b"")], true);
        assert!(read_entries(&bytes[..], "t", |_, _| Ok(())).is_err());
    }
}
