//! Facts about this host, read directly: free space, locales, the C library, memory limits,
//! files of the destination's binaries. Everything here is synchronous and cheap.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Bytes available to an unprivileged writer on the filesystem holding `path` (or, when
/// `path` does not exist yet, its nearest existing ancestor).
// The statvfs field types differ between platforms (u32 on some): keep the casts.
#[allow(clippy::unnecessary_cast)]
pub fn free_bytes(path: &Path) -> Option<u64> {
    let st = statvfs(&existing_ancestor(path)?)?;
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Size in bytes of the filesystem holding `path`.
#[allow(clippy::unnecessary_cast)]
pub fn filesystem_bytes(path: &Path) -> Option<u64> {
    let st = statvfs(&existing_ancestor(path)?)?;
    Some(st.f_blocks as u64 * st.f_frsize as u64)
}

/// The device id of the filesystem holding `path` (or its nearest existing ancestor), so
/// targets on one filesystem can be added up.
pub fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(std::fs::metadata(existing_ancestor(path)?).ok()?.dev())
}

/// `path` itself when it exists, else the closest ancestor that does.
pub fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.exists()).map(Path::to_path_buf)
}

fn statvfs(path: &Path) -> Option<libc::statvfs> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills a plain struct from a NUL-terminated path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st) == 0).then_some(st)
    }
}

/// Whether the C library of this host can load locale `name` for collation and character
/// classes: what a server started here needs for a database created with that locale.
pub fn libc_locale_exists(name: &str) -> bool {
    if is_builtin_locale(name) {
        return true;
    }
    let Ok(c) = CString::new(name) else {
        return false;
    };
    // SAFETY: newlocale only reads the name; a non-null result is freed right away.
    unsafe {
        let loc = libc::newlocale(
            libc::LC_COLLATE_MASK | libc::LC_CTYPE_MASK,
            c.as_ptr(),
            std::ptr::null_mut(),
        );
        if loc.is_null() {
            false
        } else {
            libc::freelocale(loc);
            true
        }
    }
}

/// Locales whose sort order does not depend on the C library's version.
pub fn is_builtin_locale(name: &str) -> bool {
    matches!(
        name,
        "C" | "POSIX" | "C.UTF-8" | "C.utf8" | "ucs_basic" | ""
    )
}

/// This host's C library and its version, e.g. `glibc 2.36`; `None` when unknown.
pub fn libc_version() -> Option<String> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn gnu_get_libc_version() -> *const libc::c_char;
        }
        // SAFETY: returns a pointer to a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) };
        Some(v.to_string_lossy().into_owned())
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Memory a process on this host can use: the machine's total, lowered by the memory limit
/// of the control group `pid` runs in (cgroup v2 `memory.max` or v1
/// `memory.limit_in_bytes`), as containers and systemd slices set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where the figure comes from (`/proc/meminfo` or the cgroup file).
    pub source: String,
}

/// The memory limit that applies to process `pid` (this process when `None`).
pub fn memory_limit(pid: Option<u32>) -> Option<MemoryLimit> {
    let total = mem_total()?;
    let mut best = MemoryLimit {
        bytes: total,
        source: "/proc/meminfo MemTotal".into(),
    };
    let proc_dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".into(),
    };
    let cgroups = std::fs::read_to_string(format!("{proc_dir}/cgroup")).unwrap_or_default();
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => continue,
        };
        let candidates: Vec<PathBuf> = if controllers.is_empty() {
            ancestors_of("/sys/fs/cgroup", path, "memory.max")
                .into_iter()
                .chain(ancestors_of("/sys/fs/cgroup/unified", path, "memory.max"))
                .collect()
        } else if controllers.split(',').any(|c| c == "memory") {
            ancestors_of("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes")
        } else {
            continue;
        };
        for file in candidates {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Ok(limit) = text.trim().parse::<u64>() {
                if limit < best.bytes {
                    best = MemoryLimit {
                        bytes: limit,
                        source: file.display().to_string(),
                    };
                }
            }
        }
    }
    Some(best)
}

/// `root/path/file` for the cgroup and every ancestor cgroup (a parent's limit binds too).
fn ancestors_of(root: &str, path: &str, file: &str) -> Vec<PathBuf> {
    let full = Path::new(root).join(path.trim_start_matches('/'));
    full.ancestors()
        .take_while(|p| p.starts_with(root))
        .map(|p| p.join(file))
        .collect()
}

fn mem_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The pid of the postmaster running on `data_dir`, from `postmaster.pid`.
pub fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// The owner (uid) of a file.
pub fn owner_uid(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.uid())
}

/// Where a server finds extension files and loadable modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDirs {
    /// `SHAREDIR` (holds `extension/*.control`).
    pub share_dir: PathBuf,
    /// `PKGLIBDIR` (holds `*.so` modules; `$libdir`).
    pub pkglib_dir: PathBuf,
}

impl ServerDirs {
    /// Guesses the layout of an installation from its `bin` folder when the server cannot
    /// say (`pg_config()`): Debian's `/usr/lib/postgresql/N/{bin,lib}` +
    /// `/usr/share/postgresql/N`, or a relocatable `PREFIX/{bin,lib/postgresql,share/postgresql}`.
    pub fn guess(bin_dir: &Path) -> Option<ServerDirs> {
        let prefix = bin_dir.parent()?;
        // /usr/lib/postgresql/15 → /usr/share/postgresql/15
        let debian_share = prefix
            .ancestors()
            .nth(3)
            .zip(prefix.file_name())
            .map(|(usr, major)| usr.join("share/postgresql").join(major));
        let candidates = [
            (
                prefix.join("share/postgresql"),
                prefix.join("lib/postgresql"),
            ),
            (prefix.join("share"), prefix.join("lib")),
        ];
        if let Some(share) = debian_share.filter(|s| s.join("extension").is_dir()) {
            return Some(ServerDirs {
                share_dir: share,
                pkglib_dir: prefix.join("lib"),
            });
        }
        candidates
            .into_iter()
            .find(|(share, _)| share.join("extension").is_dir())
            .map(|(share_dir, pkglib_dir)| ServerDirs {
                share_dir,
                pkglib_dir,
            })
    }

    /// The file a `probin` (or a `shared_preload_libraries` entry) names for these binaries:
    /// `$libdir/x` and bare names resolve in `PKGLIBDIR`, with the `.so` suffix added as the
    /// server does.
    pub fn library_path(&self, probin: &str) -> PathBuf {
        let name = probin.trim();
        let path = if let Some(rest) = name.strip_prefix("$libdir/") {
            self.pkglib_dir.join(rest)
        } else if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            self.pkglib_dir.join(name)
        };
        if path
            .extension()
            .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
        {
            path
        } else {
            let mut with = path.into_os_string();
            with.push(std::env::consts::DLL_SUFFIX);
            PathBuf::from(with)
        }
    }

    /// Whether a library exists for these binaries (with or without the suffix, as the
    /// server tries both).
    pub fn has_library(&self, probin: &str) -> bool {
        let with_suffix = self.library_path(probin);
        if with_suffix.is_file() {
            return true;
        }
        let name = probin.trim();
        let bare = match name.strip_prefix("$libdir/") {
            Some(rest) => self.pkglib_dir.join(rest),
            None if name.starts_with('/') => PathBuf::from(name),
            None => self.pkglib_dir.join(name),
        };
        bare.is_file()
    }

    /// The control file of an extension.
    pub fn control_file(&self, extension: &str) -> PathBuf {
        self.share_dir
            .join("extension")
            .join(format!("{extension}.control"))
    }

    /// Whether the install or update scripts can produce `version` of `extension`: a
    /// `name--version.sql` or an update script `name--old--version.sql`.
    pub fn has_version_script(&self, extension: &str, version: &str) -> bool {
        let dir = self.share_dir.join("extension");
        if dir.join(format!("{extension}--{version}.sql")).is_file() {
            return true;
        }
        let suffix = format!("--{version}.sql");
        let prefix = format!("{extension}--");
        std::fs::read_dir(&dir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.starts_with(&prefix) && n.ends_with(&suffix)
                })
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_missing_path_is_its_ancestors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("a/b/c");
        assert_eq!(free_bytes(&missing).map(|b| b > 0), Some(true));
        assert_eq!(device_of(&missing), device_of(dir.path()));
    }

    #[test]
    fn builtin_and_missing_locales() {
        assert!(libc_locale_exists("C"));
        assert!(libc_locale_exists("C.UTF-8"));
        assert!(!libc_locale_exists("xx_NOWHERE.UTF-8"));
    }

    #[test]
    fn memory_limit_is_at_most_the_machine() {
        let m = memory_limit(None).unwrap();
        assert!(m.bytes > 0 && m.bytes <= mem_total().unwrap());
    }

    #[test]
    fn library_paths_resolve_like_the_server() {
        let dirs = ServerDirs {
            share_dir: "/s".into(),
            pkglib_dir: "/l".into(),
        };
        assert_eq!(
            dirs.library_path("$libdir/pltcl"),
            PathBuf::from("/l/pltcl.so")
        );
        assert_eq!(
            dirs.library_path("auto_explain"),
            PathBuf::from("/l/auto_explain.so")
        );
        assert_eq!(
            dirs.library_path("/opt/x/lib.so"),
            PathBuf::from("/opt/x/lib.so")
        );
    }

    #[test]
    fn guesses_debian_and_relocatable_layouts() {
        if Path::new("/usr/share/postgresql/15/extension").is_dir() {
            let d = ServerDirs::guess(Path::new("/usr/lib/postgresql/15/bin")).unwrap();
            assert_eq!(d.share_dir, PathBuf::from("/usr/share/postgresql/15"));
            assert_eq!(d.pkglib_dir, PathBuf::from("/usr/lib/postgresql/15/lib"));
            assert!(d.has_library("$libdir/pg_stat_statements"));
            assert!(d.control_file("pg_trgm").is_file());
            assert!(d.has_version_script("pg_trgm", "1.6"));
        }
    }
}
