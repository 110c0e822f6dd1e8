//! Writing archive entries to disk: target directories (refused unless empty, restored on
//! failure), tablespace links, permissions, the server user's ownership, CRC-32C of every
//! file for the manifest check, and the final fsync.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::error::BackupError;
use super::manifest::WrittenFile;
use super::options::Owner;
use super::tar::{read_entries, ArchiveEntry, EntryKind};

/// Copy buffer per file write.
const COPY_BUFFER: usize = 1 << 20;

/// A directory the backup writes into, with what is needed to put it back as it was.
#[derive(Debug, Clone)]
pub struct PreparedDir {
    /// The directory.
    pub path: PathBuf,
    /// The topmost directory this backup created (removed on rollback), if any.
    created_from: Option<PathBuf>,
    /// Mode, uid and gid of a directory that existed (empty) before.
    original: Option<(u32, u32, u32)>,
}

/// Makes `path` ready: refuses it unless absent or empty, creates it (and missing parents)
/// otherwise, and gives it `mode` and `owner`.
pub fn prepare_dir(
    path: &Path,
    mode: u32,
    owner: Option<Owner>,
) -> Result<PreparedDir, BackupError> {
    let prepared = match fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => return Err(BackupError::TargetNotDirectory(path.into())),
        Ok(meta) => {
            let mut entries = fs::read_dir(path).map_err(BackupError::io("read", path))?;
            if entries.next().is_some() {
                return Err(BackupError::TargetNotEmpty(path.into()));
            }
            PreparedDir {
                path: path.into(),
                created_from: None,
                original: Some((meta.mode() & 0o7777, meta.uid(), meta.gid())),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut topmost = path.to_path_buf();
            while let Some(parent) = topmost.parent() {
                if parent.as_os_str().is_empty() || parent.exists() {
                    break;
                }
                topmost = parent.to_path_buf();
            }
            fs::create_dir_all(path).map_err(BackupError::io("create", path))?;
            PreparedDir {
                path: path.into(),
                created_from: Some(topmost),
                original: None,
            }
        }
        Err(e) => return Err(BackupError::io("inspect", path)(e)),
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(BackupError::io("set permissions of", path))?;
    if let Some(o) = owner {
        std::os::unix::fs::lchown(path, Some(o.uid), Some(o.gid))
            .map_err(BackupError::io("change the owner of", path))?;
    }
    Ok(prepared)
}

impl PreparedDir {
    /// Removes what the backup wrote and restores the directory as it was found.
    pub fn rollback(&self) -> std::io::Result<()> {
        match (&self.created_from, self.original) {
            (Some(top), _) => match fs::remove_dir_all(top) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            (None, original) => {
                for entry in fs::read_dir(&self.path)? {
                    let entry = entry?;
                    if entry.file_type()?.is_dir() {
                        fs::remove_dir_all(entry.path())?;
                    } else {
                        fs::remove_file(entry.path())?;
                    }
                }
                if let Some((mode, uid, gid)) = original {
                    fs::set_permissions(&self.path, fs::Permissions::from_mode(mode))?;
                    std::os::unix::fs::lchown(&self.path, Some(uid), Some(gid))?;
                }
                Ok(())
            }
        }
    }
}

/// Modes of what the copy creates. They come from the source's `data_directory_mode`, never
/// from the archive: PostgreSQL needs no execute bit on a file and nothing for others, and an
/// archive's 0755 or 0777 would hand the copy to every local user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    /// Directories: 0700, or 0750 for a group-readable cluster.
    pub dir: u32,
    /// Files: 0600, or 0640.
    pub file: u32,
}

impl Modes {
    /// Owner only, PostgreSQL's default (and the only choice before 11).
    pub const PRIVATE: Modes = Modes {
        dir: 0o700,
        file: 0o600,
    };

    /// The modes for a cluster whose `data_directory_mode` is `mode`: group read access
    /// when it grants it, nothing else.
    pub fn for_data_directory_mode(mode: u32) -> Modes {
        if mode & 0o040 != 0 {
            Modes {
                dir: 0o750,
                file: 0o640,
            }
        } else {
            Modes::PRIVATE
        }
    }
}

/// Where one archive goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveTarget {
    /// Archive name for messages (`base.tar`, `16385.tar`).
    pub name: String,
    /// Directory the entries are relative to.
    pub root: PathBuf,
    /// Manifest path prefix of its files: empty for the data directory,
    /// `pg_tblspc/<oid>` for a tablespace.
    pub manifest_prefix: PathBuf,
    /// Whether this is the data directory's archive (where `pg_tblspc/<oid>` links are).
    pub is_base: bool,
}

/// Files and bytes written so far, with each file's size and CRC-32C.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Per manifest path.
    pub files: HashMap<PathBuf, WrittenFile>,
    /// Bytes of file data written.
    pub bytes: u64,
}

/// Writes entries of the archives of one backup.
pub struct Extractor {
    owner: Option<Owner>,
    modes: Modes,
    /// Start writing each file back as soon as it is complete (when the copy will be fsynced).
    writeback: bool,
    /// Tablespace OID → the directory its archive went to (the `pg_tblspc` link target).
    tablespace_dirs: HashMap<u32, PathBuf>,
    extracted: Extracted,
    buf: Vec<u8>,
}

impl Extractor {
    /// An extractor giving files to `owner`, linking `pg_tblspc/<oid>` to `tablespace_dirs`.
    pub fn new(owner: Option<Owner>, tablespace_dirs: HashMap<u32, PathBuf>) -> Self {
        Extractor {
            owner,
            modes: Modes::PRIVATE,
            writeback: false,
            tablespace_dirs,
            extracted: Extracted::default(),
            buf: vec![0; COPY_BUFFER],
        }
    }

    /// Gives directories and files these modes instead of the archive's.
    pub fn with_modes(mut self, modes: Modes) -> Self {
        self.modes = modes;
        self
    }

    /// Starts each file's writeback as soon as it is written, so that a final fsync finds
    /// little left to do; without a final fsync this would only slow the copy down.
    pub fn with_early_writeback(mut self, on: bool) -> Self {
        self.writeback = on;
        self
    }

    /// Extracts one tar stream into its target; returns the reader positioned after the
    /// archive's last entry.
    pub fn extract<R: Read>(
        &mut self,
        reader: R,
        target: &ArchiveTarget,
    ) -> Result<R, BackupError> {
        read_entries(reader, &target.name, |entry, data| {
            self.entry(target, entry, data)
        })
    }

    /// What was written.
    pub fn into_extracted(self) -> Extracted {
        self.extracted
    }

    fn entry(
        &mut self,
        target: &ArchiveTarget,
        entry: ArchiveEntry,
        data: &mut dyn Read,
    ) -> Result<(), BackupError> {
        let refuse = |why: &'static str| BackupError::UnsafeEntry {
            archive: target.name.clone(),
            path: entry.path.display().to_string(),
            why,
        };
        let full = target.root.join(&entry.path);
        let link_oid = tablespace_link_oid(target, &entry.path);
        // Only the links pgrelocate makes itself live in pg_tblspc; anything else there (or
        // below a link) would be written through the link.
        if target.is_base
            && entry.path.starts_with("pg_tblspc")
            && entry.path != Path::new("pg_tblspc")
        {
            match (&entry.kind, link_oid) {
                (EntryKind::Symlink(_), Some(_)) => {}
                _ => return Err(refuse("pg_tblspc holds only tablespace links")),
            }
        }
        match &entry.kind {
            EntryKind::Directory => {
                if entry.path.as_os_str().is_empty() {
                    return Ok(());
                }
                self.make_dir(&full, self.modes.dir).map_err(|e| match e {
                    BackupError::UnsafeEntry { why, .. } => refuse(why),
                    e => e,
                })?;
            }
            EntryKind::File => self.write_file(target, &entry, &full, data)?,
            EntryKind::Symlink(_) => {
                let Some(oid) = link_oid else {
                    return Err(refuse(
                        "symbolic links are refused, except the tablespace links in pg_tblspc",
                    ));
                };
                let link_to = self
                    .tablespace_dirs
                    .get(&oid)
                    .cloned()
                    .ok_or_else(|| refuse("a link to a tablespace the source did not list"))?;
                self.ensure_parent(&full)?;
                std::os::unix::fs::symlink(&link_to, &full)
                    .map_err(BackupError::io("create the link", &full))?;
                self.give(&full)?;
            }
        }
        Ok(())
    }

    fn write_file(
        &mut self,
        target: &ArchiveTarget,
        entry: &ArchiveEntry,
        full: &Path,
        data: &mut dyn Read,
    ) -> Result<(), BackupError> {
        self.ensure_parent(full)?;
        // create_new: never write through an existing file or link.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(self.modes.file)
            .open(full)
            .map_err(BackupError::io("create", full))?;
        let mut crc = 0u32;
        let mut size = 0u64;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(BackupError::Archive {
                        archive: target.name.clone(),
                        message: e.to_string(),
                    })
                }
            };
            let chunk = &self.buf[..n];
            file.write_all(chunk)
                .map_err(BackupError::io("write", full))?;
            crc = crc32c::crc32c_append(crc, chunk);
            size += n as u64;
        }
        if size != entry.size {
            return Err(BackupError::Archive {
                archive: target.name.clone(),
                message: format!(
                    "{} ended after {size} of {} bytes",
                    entry.path.display(),
                    entry.size
                ),
            });
        }
        if self.modes.file & 0o077 != 0 {
            // The umask may have removed the group bits of a group-readable cluster.
            file.set_permissions(fs::Permissions::from_mode(self.modes.file))
                .map_err(BackupError::io("set permissions of", full))?;
        }
        if let Some(o) = self.owner {
            std::os::unix::fs::fchown(&file, Some(o.uid), Some(o.gid))
                .map_err(BackupError::io("change the owner of", full))?;
        }
        if self.writeback {
            start_writeback(&file);
        }
        self.extracted.bytes += size;
        self.extracted.files.insert(
            target.manifest_prefix.join(&entry.path),
            WrittenFile { size, crc32c: crc },
        );
        Ok(())
    }

    fn make_dir(&self, path: &Path, mode: u32) -> Result<(), BackupError> {
        match fs::create_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = fs::symlink_metadata(path).map_err(BackupError::io("inspect", path))?;
                if !meta.is_dir() {
                    return Err(BackupError::UnsafeEntry {
                        archive: String::new(),
                        path: path.display().to_string(),
                        why: "directory entry over an existing file or link",
                    });
                }
            }
            Err(e) => return Err(BackupError::io("create", path)(e)),
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(BackupError::io("set permissions of", path))?;
        self.give(path)
    }

    /// Parents normally arrive as entries first; create them if an archive skips one.
    fn ensure_parent(&self, path: &Path) -> Result<(), BackupError> {
        match path.parent() {
            Some(parent) if !parent.exists() => {
                fs::create_dir_all(parent).map_err(BackupError::io("create", parent))?;
                fs::set_permissions(parent, fs::Permissions::from_mode(self.modes.dir))
                    .map_err(BackupError::io("set permissions of", parent))?;
                self.give(parent)
            }
            _ => Ok(()),
        }
    }

    fn give(&self, path: &Path) -> Result<(), BackupError> {
        if let Some(o) = self.owner {
            std::os::unix::fs::lchown(path, Some(o.uid), Some(o.gid))
                .map_err(BackupError::io("change the owner of", path))?;
        }
        Ok(())
    }
}

/// `pg_tblspc/<oid>` in the base archive: the link the backup makes itself.
fn tablespace_link_oid(target: &ArchiveTarget, path: &Path) -> Option<u32> {
    if !target.is_base {
        return None;
    }
    let mut parts = path.components();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Component::Normal(dir)), Some(Component::Normal(oid)), None)
            if dir == "pg_tblspc" =>
        {
            oid.to_str()?.parse().ok()
        }
        _ => None,
    }
}

/// Asks the kernel to start writing the file back now, so the final fsync finds little
/// left to do (PostgreSQL's own pre-sync does the same).
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules I/O.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// fsyncs every file and directory under `root` (not following links), then `root`'s
/// parent, so the new directory entry itself is durable.
pub fn sync_tree(root: &Path) -> Result<(), BackupError> {
    fn walk(dir: &Path) -> Result<(), BackupError> {
        for entry in fs::read_dir(dir).map_err(BackupError::io("read", dir))? {
            let entry = entry.map_err(BackupError::io("read", dir))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(BackupError::io("inspect", &path))?;
            if kind.is_dir() {
                walk(&path)?;
            } else if kind.is_file() {
                File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(BackupError::io("fsync", &path))?;
            }
        }
        File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(BackupError::io("fsync", dir))
    }
    walk(root)?;
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|f| f.sync_all())
            .map_err(BackupError::io("fsync", parent))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_target_and_restores_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), b"").unwrap();
        assert!(matches!(
            prepare_dir(dir.path(), 0o700, None),
            Err(BackupError::TargetNotEmpty(_))
        ));

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::set_permissions(&empty, fs::Permissions::from_mode(0o755)).unwrap();
        let prepared = prepare_dir(&empty, 0o700, None).unwrap();
        std::fs::write(empty.join("file"), b"data").unwrap();
        std::fs::create_dir(empty.join("sub")).unwrap();
        prepared.rollback().unwrap();
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
        assert_eq!(std::fs::metadata(&empty).unwrap().mode() & 0o777, 0o755);

        let fresh = dir.path().join("new/deeper/data");
        let prepared = prepare_dir(&fresh, 0o750, None).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o750);
        prepared.rollback().unwrap();
        assert!(!dir.path().join("new").exists());
    }
}
