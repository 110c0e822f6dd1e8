//! The OS user that runs test servers: `postgres` when the tests run as root (PostgreSQL
//! refuses to run as root), otherwise the current user.

use std::ffi::CString;
use std::path::Path;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Who initdb, pg_ctl and postgres run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUser {
    /// The OS user name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary gid.
    pub gid: u32,
    /// Whether commands must switch to it (the tests run as root).
    pub switches: bool,
}

impl ServerUser {
    /// The server user of this process, looked up once.
    pub fn get() -> Result<&'static ServerUser> {
        static USER: OnceLock<Option<ServerUser>> = OnceLock::new();
        USER.get_or_init(Self::lookup)
            .as_ref()
            .ok_or(Error::NoServerUser)
    }

    fn lookup() -> Option<ServerUser> {
        // SAFETY: geteuid/getegid cannot fail and touch no memory.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        if euid != 0 {
            return Some(ServerUser {
                name: user_name(euid).unwrap_or_else(|| euid.to_string()),
                uid: euid,
                gid: egid,
                switches: false,
            });
        }
        let (uid, gid) = passwd_entry("postgres")?;
        Some(ServerUser {
            name: "postgres".into(),
            uid,
            gid,
            switches: true,
        })
    }

    /// Makes `cmd` run as this user (the supplementary groups are dropped by std).
    pub fn apply(&self, cmd: &mut tokio::process::Command) {
        if self.switches {
            cmd.uid(self.uid).gid(self.gid);
        }
    }

    /// [`ServerUser::apply`] for a blocking command.
    pub fn apply_std(&self, cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        if self.switches {
            cmd.uid(self.uid).gid(self.gid);
        }
    }

    /// Gives `path` to this user, when the tests run as root.
    pub fn chown(&self, path: &Path) -> Result<()> {
        if self.switches {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
                .map_err(Error::io("chown", path))?;
        }
        Ok(())
    }
}

/// Whether the current process runs as root.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// uid and gid of the named user, through NSS.
fn passwd_entry(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is a valid value before getpwnam_r fills it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and buf outlives the use of pwd's fields.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
}

/// The name of `uid`, through NSS.
fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: as in passwd_entry.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: as in passwd_entry; pw_name points into buf, read before buf is dropped.
    unsafe {
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found);
        if rc != 0 || found.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// Whether a live process has this pid (EPERM means it exists under another user; a zombie
/// waiting to be reaped counts as gone).
pub fn process_exists(pid: u32) -> bool {
    if is_zombie(pid) {
        return false;
    }
    // pid 0 would address our own process group.
    let Ok(pid @ 1..) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Waits up to `timeout` for `pid` to exit; returns whether it did.
pub fn wait_for_exit(pid: u32, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while process_exists(pid) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

/// Sends SIGKILL to `pid`, ignoring failure (last resort when pg_ctl cannot stop a server).
pub fn kill_hard(pid: u32) {
    if let Ok(pid @ 1..) = libc::pid_t::try_from(pid) {
        // SAFETY: plain kill(2).
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Whether `pid` has exited but not been reaped yet (state `Z` in `/proc/PID/stat`).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The command name may contain spaces and parentheses; the state follows the last ')'.
            let after = &stat[stat.rfind(')')? + 1..];
            after.split_whitespace().next().map(|state| state == "Z")
        })
        .unwrap_or(false)
}
