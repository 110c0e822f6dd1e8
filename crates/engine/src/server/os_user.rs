//! The OS user a managed server runs as. PostgreSQL refuses to run as root, so when
//! pgrelocate runs as root, server commands run as an unprivileged user (default
//! `postgres`, or `PGRELOCATE_SERVER_USER`) who owns the cluster's files, as Debian's
//! cluster tools do. Otherwise they run as the invoking user.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use super::ServerError;

/// Environment variable naming the server's OS user when running as root.
pub const SERVER_USER_ENV: &str = "PGRELOCATE_SERVER_USER";

/// A looked-up OS account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
}

/// Whether this process runs as root.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The configured server user name: `PGRELOCATE_SERVER_USER`, else `postgres`.
pub fn configured_name() -> String {
    std::env::var(SERVER_USER_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres".to_string())
}

impl OsUser {
    /// Looks up an account by name.
    pub fn lookup(name: &str) -> Result<OsUser, ServerError> {
        let c_name = CString::new(name).map_err(|_| ServerError::NoSuchOsUser(name.into()))?;
        let mut buf = vec![0u8; 16 * 1024];
        // SAFETY: passwd is plain data; getpwnam_r fills it and points into buf, which
        // outlives every read below.
        unsafe {
            let mut pwd: libc::passwd = std::mem::zeroed();
            let mut result: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            );
            if rc != 0 || result.is_null() {
                return Err(ServerError::NoSuchOsUser(name.into()));
            }
            let home = CStr::from_ptr(pwd.pw_dir).to_string_lossy().into_owned();
            Ok(OsUser {
                name: name.to_string(),
                uid: pwd.pw_uid,
                gid: pwd.pw_gid,
                home: PathBuf::from(home),
            })
        }
    }

    /// The user servers must run as: the configured one when root, `None` (this process's
    /// own user) otherwise.
    pub fn for_servers(configured: Option<&str>) -> Result<Option<OsUser>, ServerError> {
        if !running_as_root() {
            return Ok(None);
        }
        let name = configured
            .map(str::to_string)
            .unwrap_or_else(configured_name);
        OsUser::lookup(&name).map(Some)
    }

    /// Makes `cmd` run as this user, with its HOME, from `/` (root's cwd is often private).
    pub fn apply(&self, cmd: &mut tokio::process::Command) {
        cmd.uid(self.uid)
            .gid(self.gid)
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .current_dir("/");
    }

    /// Gives `path` (and everything beneath it) to this user.
    pub fn chown_tree(&self, path: &Path) -> Result<(), ServerError> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .map_err(ServerError::io(path))?;
        let meta = std::fs::symlink_metadata(path).map_err(ServerError::io(path))?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).map_err(ServerError::io(path))? {
                let entry = entry.map_err(ServerError::io(path))?;
                self.chown_tree(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Whether this user can reach `dir` (search permission on it and every ancestor),
    /// judged from mode bits, owner and primary group.
    pub fn can_traverse(&self, dir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        dir.ancestors().all(|d| match std::fs::metadata(d) {
            Ok(m) => {
                let mode = m.mode();
                if m.uid() == self.uid {
                    mode & 0o100 != 0
                } else if m.gid() == self.gid {
                    mode & 0o010 != 0
                } else {
                    mode & 0o001 != 0
                }
            }
            Err(_) => true, // not created yet: we create it with the right owner
        })
    }
}

/// Creates `dir` (mode 0700) owned by `owner` (or by this process when `None`).
pub fn create_private_dir(dir: &Path, owner: Option<&OsUser>) -> Result<(), ServerError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(ServerError::io(dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(ServerError::io(dir))?;
    if let Some(u) = owner {
        u.chown_tree(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_root_and_refuses_a_missing_user() {
        let root = OsUser::lookup("root").unwrap();
        assert_eq!(root.uid, 0);
        let err = OsUser::lookup("no-such-user-pgrelocate").unwrap_err();
        assert!(err.to_string().contains("PGRELOCATE_SERVER_USER"), "{err}");
    }

    #[test]
    fn a_private_folder_of_another_owner_is_not_traversable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let nobody = OsUser {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
            home: "/".into(),
        };
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!nobody.can_traverse(&dir.path().join("instances")));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        assert!(nobody.can_traverse(&dir.path().join("instances")));
    }
}
