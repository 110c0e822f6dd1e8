//! A throwaway OpenSSH server on loopback, standing in for a remote host: Debian's `sshd`
//! with generated host and user keys, a login user other than root (the server user,
//! `postgres` when the tests run as root), and that user's own state and cache folders for
//! the agent, separate from the workstation's. Each server has its own port and folder.
//!
//! ```no_run
//! # async fn f() -> pgrelocate_testkit::Result<()> {
//! let host = pgrelocate_testkit::SshServer::start().await?;
//! // PGRELOCATE_SSH_CONFIG=host.client_config(); `host add b --ssh host.destination()
//! //   --port host.port() --identity host.user_key()`
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cluster::port;
use crate::error::{Error, Result};
use crate::server_user::{running_as_root, ServerUser};

const SSHD: &str = "/usr/sbin/sshd";
/// How long sshd may take to listen on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running sshd and its files. Dropping it stops the server and every session it serves.
#[derive(Debug)]
pub struct SshServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<std::process::Child>,
    login: String,
}

impl SshServer {
    /// Generates keys and starts sshd on a free loopback port.
    pub async fn start() -> Result<SshServer> {
        tokio::task::spawn_blocking(Self::start_blocking)
            .await
            .map_err(|e| Error::Command {
                program: "sshd".into(),
                detail: e.to_string(),
            })?
    }

    fn start_blocking() -> Result<SshServer> {
        if !Path::new(SSHD).exists() {
            return Err(Error::Command {
                program: SSHD.into(),
                detail: "not installed (apt-get install openssh-server)".into(),
            });
        }
        let user = ServerUser::get()?;
        unlock_login(&user.name)?;
        let dir = tempfile::Builder::new()
            .prefix("pgrelocate-ssh-")
            .tempdir()
            .map_err(Error::io("create", Path::new("/tmp")))?;
        set_mode(dir.path(), 0o755)?;
        for key in ["host_key", "user_key"] {
            keygen(&dir.path().join(key))?;
        }
        let authorized = dir.path().join("authorized_keys");
        std::fs::copy(dir.path().join("user_key.pub"), &authorized)
            .map_err(Error::io("write", &authorized))?;
        set_mode(&authorized, 0o644)?;
        // The login user's side: its own state and cache folders.
        for sub in ["remote", "remote/home", "remote/cache", "remote/data"] {
            let path = dir.path().join(sub);
            std::fs::create_dir_all(&path).map_err(Error::io("create", &path))?;
            set_mode(&path, 0o700)?;
            user.chown(&path)?;
        }
        set_mode(&dir.path().join("remote"), 0o755)?;
        outbound_ssh(dir.path(), user)?;
        std::fs::write(dir.path().join("known_hosts"), "")
            .map_err(Error::io("write", dir.path()))?;
        let client = format!(
            "Host *\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n",
            known = dir.path().join("known_hosts").display(),
        );
        std::fs::write(dir.path().join("client_config"), client)
            .map_err(Error::io("write", dir.path()))?;
        if running_as_root() {
            std::fs::create_dir_all("/run/sshd")
                .map_err(Error::io("create", Path::new("/run/sshd")))?;
        }
        let mut server = SshServer {
            dir,
            port: 0,
            child: None,
            login: user.name.clone(),
        };
        server.launch()?;
        Ok(server)
    }

    /// Starts sshd on a fresh port (or the same one, after [`SshServer::restart_with_new_host_key`]).
    fn launch(&mut self) -> Result<()> {
        for _ in 0..5 {
            let fresh = self.port == 0;
            if fresh {
                self.port = port::reserve();
            }
            self.write_config()?;
            let log = self.dir.path().join("sshd.log");
            let log_file = std::fs::File::create(&log).map_err(Error::io("create", &log))?;
            let child = std::process::Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(self.dir.path().join("sshd_config"))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(log_file)
                .spawn()
                .map_err(|e| Error::Command {
                    program: SSHD.into(),
                    detail: e.to_string(),
                })?;
            self.child = Some(child);
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("Server listening") {
                    return Ok(());
                }
                let exited = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                    .is_some();
                if exited || Instant::now() > deadline {
                    self.kill();
                    if fresh && text.contains("Address already in use") {
                        port::release(self.port);
                        self.port = 0;
                        break;
                    }
                    return Err(Error::Command {
                        program: SSHD.into(),
                        detail: format!("did not start: {}", text.trim()),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(Error::Command {
            program: SSHD.into(),
            detail: "no free port after 5 tries".into(),
        })
    }

    fn write_config(&self) -> Result<()> {
        let d = self.dir.path();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nUsePAM no\n\
             StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             AllowUsers {login}\nSetEnv PGRELOCATE_HOME={d}/remote/home XDG_CACHE_HOME={d}/remote/cache \
             PGRELOCATE_SSH_CONFIG={d}/remote/ssh/config\n\
             MaxSessions 50\nMaxStartups 50\nLogLevel VERBOSE\n",
            port = self.port,
            d = d.display(),
            login = self.login,
        );
        let path = d.join("sshd_config");
        std::fs::write(&path, config).map_err(Error::io("write", &path))
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `LOGIN@127.0.0.1`.
    pub fn destination(&self) -> String {
        format!("{}@127.0.0.1", self.login)
    }

    /// The login user (not root).
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The private key the server accepts.
    pub fn user_key(&self) -> PathBuf {
        self.dir.path().join("user_key")
    }

    /// An ssh_config for the workstation side (`PGRELOCATE_SSH_CONFIG`): no machine-wide
    /// known_hosts, the test's own "user" known_hosts file, only the keys given.
    pub fn client_config(&self) -> PathBuf {
        self.dir.path().join("client_config")
    }

    /// The "user's own" known_hosts file that [`SshServer::client_config`] names.
    pub fn user_known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// The agent's state directory on the "remote" side (`PGRELOCATE_HOME` of its sessions).
    pub fn remote_state_dir(&self) -> PathBuf {
        self.dir.path().join("remote/home")
    }

    /// The login user's cache folder (`XDG_CACHE_HOME` of its sessions).
    pub fn remote_cache_dir(&self) -> PathBuf {
        self.dir.path().join("remote/cache")
    }

    /// A folder the login user owns, for data directories made on the host.
    pub fn remote_data_dir(&self) -> PathBuf {
        self.dir.path().join("remote/data")
    }

    /// The public key the login user of this "host" logs in to *other* hosts with (its
    /// sessions' ssh reads `remote/ssh/config`: this key only, its own known_hosts, no
    /// machine-wide files). No server accepts it until [`SshServer::authorize`] is called.
    pub fn outbound_public_key(&self) -> PathBuf {
        self.dir.path().join("remote/ssh/id_ed25519.pub")
    }

    /// Lets the holder of `public_key` (e.g. another server's
    /// [`SshServer::outbound_public_key`]) log in here too.
    pub fn authorize(&self, public_key: &Path) -> Result<()> {
        use std::io::Write;
        let key = std::fs::read_to_string(public_key).map_err(Error::io("read", public_key))?;
        let path = self.dir.path().join("authorized_keys");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(Error::io("open", &path))?;
        writeln!(file, "{}", key.trim()).map_err(Error::io("write", &path))
    }

    /// The host key's fingerprint, `SHA256:…`, as an administrator would read it off the host.
    pub fn host_key_fingerprint(&self) -> Result<String> {
        let out = std::process::Command::new("ssh-keygen")
            .arg("-l")
            .arg("-f")
            .arg(self.dir.path().join("host_key.pub"))
            .output()
            .map_err(|e| Error::Command {
                program: "ssh-keygen".into(),
                detail: e.to_string(),
            })?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
            .ok_or_else(|| Error::Command {
                program: "ssh-keygen -l".into(),
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
    }

    /// Stops the server and its sessions, makes a new host key, starts again on the same
    /// port: what a reinstalled host (or a machine in the middle) looks like.
    /// Blocks for the restart (a moment).
    pub fn restart_with_new_host_key(&mut self) -> Result<()> {
        self.kill();
        let key = self.dir.path().join("host_key");
        let _ = std::fs::remove_file(&key);
        let _ = std::fs::remove_file(key.with_extension("pub"));
        keygen(&key)?;
        self.launch()
    }

    /// Stops the server and every session it serves (a host that went away).
    pub fn stop(&mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Sessions are sshd's descendants (privilege separation puts the connection in
            // a grandchild, the agent below it); they outlive the listener unless ended too.
            for pid in descendants_of(child.id()) {
                // SAFETY: kill has no memory effects.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        self.kill();
        // What the "host" started for itself and detached (a task's driver, the servers it
        // manages) runs from this server's folder: end it with the server.
        for pid in running_from(self.dir.path()) {
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        if self.port != 0 {
            port::release(self.port);
        }
    }
}

/// The pids whose program or data directory lies under `dir` (from /proc: the first two
/// words of the command line, e.g. an uploaded agent, or `postgres -D DIR/…`).
fn running_from(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let dir = dir.as_os_str().as_encoded_bytes();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).take(3).collect();
            let program = words.first().is_some_and(|w| w.starts_with(dir));
            let data_dir = words.get(1) == Some(&&b"-D"[..])
                && words.get(2).is_some_and(|w| w.starts_with(dir));
            program || data_dir
        })
        .collect()
}

/// Every pid below `root` in the process tree, parents before their children.
fn descendants_of(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        for child in children_of(pid) {
            out.push(child);
            next.push(child);
        }
    }
    out
}

/// The pids whose parent is `parent` (from /proc).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// The login user's own ssh client set-up under `dir/remote/ssh`: a key, a known_hosts file
/// and a config naming only those (its sessions get `PGRELOCATE_SSH_CONFIG` pointing there),
/// so a "host" can reach other test hosts without the machine's or the user's real files.
fn outbound_ssh(dir: &Path, user: &ServerUser) -> Result<()> {
    let ssh = dir.join("remote/ssh");
    std::fs::create_dir_all(&ssh).map_err(Error::io("create", &ssh))?;
    set_mode(&ssh, 0o700)?;
    keygen(&ssh.join("id_ed25519"))?;
    let known = ssh.join("known_hosts");
    std::fs::write(&known, "").map_err(Error::io("write", &known))?;
    let config = ssh.join("config");
    let text = format!(
        "Host *\n  IdentitiesOnly yes\n  IdentityFile {id}\n  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n",
        id = ssh.join("id_ed25519").display(),
        known = known.display(),
    );
    std::fs::write(&config, text).map_err(Error::io("write", &config))?;
    set_mode(&config, 0o600)?;
    for path in [
        ssh.clone(),
        ssh.join("id_ed25519"),
        ssh.join("id_ed25519.pub"),
        known,
        config,
    ] {
        user.chown(&path)?;
    }
    Ok(())
}

fn keygen(path: &Path) -> Result<()> {
    let out = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "pgrelocate-test",
            "-f",
        ])
        .arg(path)
        .output()
        .map_err(|e| Error::Command {
            program: "ssh-keygen".into(),
            detail: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(Error::Command {
            program: "ssh-keygen".into(),
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io("chmod", path))
}

/// Debian creates `postgres` with a locked password (`!`), which sshd without PAM refuses
/// ("account is locked"); `*` unlocks it without giving it a password.
fn unlock_login(user: &str) -> Result<()> {
    if !running_as_root() {
        return Ok(());
    }
    let locked = || {
        std::fs::read_to_string("/etc/shadow")
            .unwrap_or_default()
            .lines()
            .any(|l| {
                l.split(':').next() == Some(user)
                    && l.split(':').nth(1).is_some_and(|p| p.starts_with('!'))
            })
    };
    // usermod takes /etc/shadow's lock: parallel tests retry until one of them did it.
    for _ in 0..50 {
        if !locked() {
            return Ok(());
        }
        let _ = std::process::Command::new("usermod")
            .args(["-p", "*", user])
            .output();
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::Command {
        program: "usermod".into(),
        detail: format!("could not unlock the login of {user} for sshd"),
    })
}
