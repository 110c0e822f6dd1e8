//! Shared by the `instance_*` CLI tests: running `pgrelocate` in a fresh state directory
//! inside the D-Bus session with the real Secret Service.

#![allow(dead_code)]

pub mod hosts;
pub mod migration;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const HOW_TO_RUN: &str = "these tests use the real OS keyring: run them inside a D-Bus \
     session with an unlocked gnome-keyring, e.g. HOME=$(mktemp -d) dbus-run-session -- bash -c \
     'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; cargo nextest \
     run -p pgrelocate-cli' (scripts/test.sh runs the whole suite that way)";

/// Fails with instructions when not inside a D-Bus session with a Secret Service.
pub fn require_keyring() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!("no DBUS_SESSION_BUS_ADDRESS: {HOW_TO_RUN}");
    }
    if let Err(e) = pgrelocate_engine::secrets::Keyring::os() {
        panic!("{e}\n{HOW_TO_RUN}");
    }
}

/// A state directory the server user can traverse, ports for its managed instances that
/// no parallel test uses, plus the captured output of every run.
pub struct Cli {
    pub home: tempfile::TempDir,
    pub ports: pgrelocate_testkit::PortBlock,
    pub transcript: Vec<u8>,
}

impl Cli {
    pub fn new() -> Cli {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        Cli {
            home,
            ports: pgrelocate_testkit::PortBlock::reserve(),
            transcript: Vec::new(),
        }
    }

    /// `pgrelocate` with this state directory and port block.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgrelocate"));
        command
            .env("PGRELOCATE_HOME", self.home.path())
            .env("PGRELOCATE_PORTS", self.ports.env_value());
        command
    }

    /// Runs `pgrelocate -vvv ARGS` (trace logs on stderr) with `stdin` piped in.
    pub fn run_with_stdin(&mut self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .arg("-vvv")
            .args(args)
            .env("RUST_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        self.transcript.extend_from_slice(&out.stdout);
        self.transcript.extend_from_slice(&out.stderr);
        out
    }

    pub fn run(&mut self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&mut self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pgrelocate {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&mut self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    pub fn state_dir(&self) -> &Path {
        self.home.path()
    }
}

/// Every file under `dir` (following no symlinks).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(files_under(&path)),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
