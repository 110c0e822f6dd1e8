//! Where a source's tablespace goes on this host — the one rule `backup` and `migrate` share.
//!
//! The location comes from the source, and a hostile (or confused) source must not decide
//! where files land: it must be an absolute path in PostgreSQL's canonical form (PostgreSQL
//! itself only stores such locations), and without an explicit `OLD=NEW` mapping it goes to a
//! directory that does not exist yet — an existing one, even empty, may belong to someone
//! else (a root-owned folder would be chowned and filled), so it is used only when the DBA
//! maps the tablespace to it (`OLD=OLD` to accept its own location).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::error::BackupError;
use super::options::TablespaceMapping;

/// A tablespace's directory on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The directory its archive is extracted into (`pg_tblspc/<oid>` links to it).
    pub dir: PathBuf,
    /// Whether the DBA mapped it (then an existing empty directory may be used).
    pub mapped: bool,
}

/// The location as a path, or why it is refused: absolute, no `.`/`..` component, no NUL.
/// Trailing and repeated slashes are dropped.
pub fn check_location(oid: u32, location: &str) -> Result<PathBuf, BackupError> {
    let refuse = |why: &'static str| BackupError::UnsafeTablespace {
        oid,
        location: location.to_string(),
        why,
    };
    let raw = location.as_bytes();
    if raw.contains(&0) {
        return Err(refuse("the location contains a NUL byte"));
    }
    if raw.first() != Some(&b'/') {
        return Err(refuse("the location is not an absolute path"));
    }
    let mut path = PathBuf::from("/");
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" => {}
            b"." | b".." => return Err(refuse("the location contains '.' or '..'")),
            part => path.push(OsStr::from_bytes(part)),
        }
    }
    if path == Path::new("/") {
        return Err(refuse("the location is the root directory"));
    }
    Ok(path)
}

/// Where tablespace `oid` at `location` goes: its mapping's NEW, or else `location` itself
/// when nothing exists there yet.
pub fn place(
    oid: u32,
    location: &str,
    mappings: &[TablespaceMapping],
) -> Result<Placement, BackupError> {
    let source = check_location(oid, location)?;
    if let Some(m) = mappings.iter().find(|m| m.old == source) {
        return Ok(Placement {
            dir: m.new.clone(),
            mapped: true,
        });
    }
    if exists(&source) {
        return Err(BackupError::TablespaceExists {
            oid,
            location: source.display().to_string(),
        });
    }
    Ok(Placement {
        dir: source,
        mapped: false,
    })
}

/// Whether anything (a directory, a file, a dangling link) is at `path`.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// What is at a folder the copy may write into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirState {
    /// Nothing there.
    Missing,
    /// An empty directory.
    Empty,
    /// A directory with something in it.
    NotEmpty,
}

impl DirState {
    /// Missing or an empty directory: the copy may use it.
    pub fn is_missing_or_empty(self) -> bool {
        self != DirState::NotEmpty
    }
}

/// Whether `dir` is missing, an empty directory or a directory with content (an error when
/// it cannot be read, or is not a directory).
pub fn dir_state(dir: &Path) -> Result<DirState, std::io::Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(if entries.next().is_some() {
            DirState::NotEmpty
        } else {
            DirState::Empty
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DirState::Missing),
        Err(e) => Err(e),
    }
}

/// Refuses a tablespace directory that lies inside, or contains, the data directory or
/// another tablespace's directory: extracting one archive would write into the other.
pub fn check_apart(
    oid: u32,
    dir: &Path,
    others: impl IntoIterator<Item = impl AsRef<Path>>,
) -> Result<(), BackupError> {
    for other in others {
        let other = other.as_ref();
        if dir.starts_with(other) || other.starts_with(dir) {
            return Err(BackupError::TablespaceOverlaps {
                oid,
                dir: dir.to_path_buf(),
                other: other.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Whether `path` is made of normal components only (after the root).
pub(crate) fn is_canonical(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_must_be_absolute_and_canonical() {
        assert_eq!(
            check_location(1, "/srv/ts//a/").unwrap(),
            PathBuf::from("/srv/ts/a")
        );
        for bad in [
            "ts",
            "./ts",
            "",
            "/srv/../etc",
            "/srv/./ts",
            "/",
            "//",
            "/a\0b",
        ] {
            let err = check_location(7, bad).unwrap_err();
            assert!(
                matches!(err, BackupError::UnsafeTablespace { oid: 7, .. }),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn an_existing_directory_is_used_only_when_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().to_str().unwrap();
        let err = place(5, here, &[]).unwrap_err();
        assert!(
            matches!(err, BackupError::TablespaceExists { oid: 5, .. }),
            "{err}"
        );
        let same = TablespaceMapping {
            old: dir.path().into(),
            new: dir.path().into(),
        };
        assert!(place(5, here, &[same]).unwrap().mapped);
        let fresh = dir.path().join("new");
        let p = place(5, fresh.to_str().unwrap(), &[]).unwrap();
        assert_eq!((p.dir, p.mapped), (fresh, false));
    }

    #[test]
    fn directories_must_not_nest() {
        let data = Path::new("/d/data");
        assert!(check_apart(1, Path::new("/d/ts"), [data]).is_ok());
        assert!(check_apart(1, Path::new("/d/data/pg_wal"), [data]).is_err());
        assert!(check_apart(1, Path::new("/d"), [data]).is_err());
        assert!(is_canonical(Path::new("/a/b")) && !is_canonical(Path::new("/a/../b")));
    }
}
