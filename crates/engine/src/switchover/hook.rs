//! The endpoint hook: a command the DBA configures to move an endpoint (DNS, a virtual IP,
//! HAProxy, service discovery) at the cutover point, run by `sh -c` with the old and new
//! endpoints in its environment (never a password), within a timeout.
//!
//! When it runs decides what its failure means ([`HookAt`]):
//! - `before_promotion` (the default): the source is fenced and the destination has
//!   replayed everything, not yet promoted. A failure (non-zero exit, no start, timeout)
//!   rolls the switchover back: the fence is undone and the source takes writes again. The
//!   hook runs inside the write-unavailability window (its own step, `hook`).
//! - `after_promotion`: once the destination has proved writes (after the window). A
//!   failure cannot undo anything: the switchover succeeds with a warning carrying the
//!   exact command line that runs the hook again.
//!
//! Its output (bounded) goes to the event log; a timeout kills its whole process group.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::Plan;
use crate::quote::shell;
use crate::{Coded, ErrorCode};

/// The timeout when the DBA gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of each of stdout and stderr kept for the event log.
const OUTPUT_LIMIT: usize = 4096;
/// How long the output is still read once the hook exited (a process it left in the
/// background may hold the pipes open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// When the hook runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HookAt {
    /// Source fenced, destination caught up, not yet promoted: a failure rolls back.
    #[default]
    BeforePromotion,
    /// Destination promoted and writable: a failure is a warning with the rerun command.
    AfterPromotion,
}

impl HookAt {
    /// `before_promotion` / `after_promotion`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookAt::BeforePromotion => "before_promotion",
            HookAt::AfterPromotion => "after_promotion",
        }
    }
}

impl std::fmt::Display for HookAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookAt::BeforePromotion => "before promotion",
            HookAt::AfterPromotion => "after promotion",
        })
    }
}

/// The hook the DBA configured for a switchover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Hook {
    /// The command, run by `sh -c`.
    pub command: String,
    /// How long it may run before it is killed.
    pub timeout_ms: u64,
    /// When it runs.
    #[serde(default)]
    pub at: HookAt,
}

/// Why a hook cannot be used as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidHook {
    /// An empty command.
    #[error("the hook command is empty")]
    Empty,
    /// A timeout of zero or above an hour.
    #[error("the hook timeout must be between 1 s and 3600 s")]
    Timeout,
}

impl Coded for InvalidHook {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidOption
    }
}

impl Hook {
    /// A hook with its timeout checked.
    pub fn new(command: &str, timeout: Duration, at: HookAt) -> Result<Hook, InvalidHook> {
        if command.trim().is_empty() {
            return Err(InvalidHook::Empty);
        }
        if timeout < Duration::from_secs(1) || timeout > Duration::from_secs(3600) {
            return Err(InvalidHook::Timeout);
        }
        Ok(Hook {
            command: command.to_string(),
            timeout_ms: timeout.as_millis() as u64,
            at,
        })
    }

    /// Its timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// What the hook sees in its environment: the task and both endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEnv {
    vars: Vec<(&'static str, String)>,
}

impl HookEnv {
    /// The environment for `plan`'s switchover, the hook running `at`.
    pub fn of(plan: &Plan, at: HookAt) -> HookEnv {
        let (old, new) = (&plan.source.endpoint, &plan.destination.endpoint);
        HookEnv {
            vars: vec![
                ("PGRELOCATE_TASK_ID", plan.task_id.clone()),
                ("PGRELOCATE_OLD_HOST", old.host.clone()),
                ("PGRELOCATE_OLD_PORT", old.port.to_string()),
                ("PGRELOCATE_NEW_HOST", new.host.clone()),
                ("PGRELOCATE_NEW_PORT", new.port.to_string()),
                ("PGRELOCATE_HOOK_AT", at.as_str().to_string()),
            ],
        }
    }

    /// The variables, in order.
    pub fn vars(&self) -> &[(&'static str, String)] {
        &self.vars
    }

    /// The command line that runs `command` again with this environment, every word
    /// shell-quoted: `env NAME=VALUE … sh -c COMMAND`.
    pub fn rerun(&self, command: &str) -> String {
        let mut words = vec!["env".to_string()];
        words.extend(
            self.vars
                .iter()
                .map(|(k, v)| shell::word(&format!("{k}={v}"))),
        );
        words.extend(["sh".into(), "-c".into(), shell::word(command)]);
        words.join(" ")
    }
}

/// How a hook run ended (stored in the report and the event log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HookRun {
    /// When it ran.
    pub at: HookAt,
    /// The command.
    pub command: String,
    /// Its exit status, when it exited.
    pub exit_code: Option<i32>,
    /// It ran out of time and was killed.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed_ms: u64,
    /// The start of its standard output (bounded).
    pub stdout: String,
    /// The start of its standard error (bounded).
    pub stderr: String,
    /// The exact command line that runs it again, environment included (shell-quoted).
    pub rerun: String,
}

impl HookRun {
    /// It exited with status 0 in time.
    pub fn succeeded(&self) -> bool {
        !self.timed_out && self.exit_code == Some(0)
    }
}

/// A hook that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// `sh` could not be started.
    #[error("the endpoint hook could not start ({source}); run it again with: {rerun}")]
    Spawn {
        /// Why.
        source: std::io::Error,
        /// The command line that runs it again.
        rerun: String,
    },
    /// It exited with a non-zero status (or was killed by a signal).
    #[error("the endpoint hook failed ({}){}; run it again with: {}", status(.0), output(.0), .0.rerun)]
    Failed(Box<HookRun>),
    /// It did not finish in time and was killed.
    #[error("the endpoint hook did not finish within {} s and was killed{}; run it again with: {}", .0.elapsed_ms / 1000, output(.0), .0.rerun)]
    TimedOut(Box<HookRun>),
}

impl HookError {
    /// The command line that runs the hook again.
    pub fn rerun(&self) -> &str {
        match self {
            HookError::Spawn { rerun, .. } => rerun,
            HookError::Failed(r) | HookError::TimedOut(r) => &r.rerun,
        }
    }

    /// The run, when it started.
    pub fn run(&self) -> Option<&HookRun> {
        match self {
            HookError::Spawn { .. } => None,
            HookError::Failed(r) | HookError::TimedOut(r) => Some(r),
        }
    }
}

impl Coded for HookError {
    fn code(&self) -> ErrorCode {
        match self {
            HookError::TimedOut(_) => ErrorCode::HookTimeout,
            _ => ErrorCode::HookFailed,
        }
    }
}

fn status(r: &HookRun) -> String {
    match r.exit_code {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".into(),
    }
}

fn output(r: &HookRun) -> String {
    let last = |s: &str| s.trim().lines().last().map(str::to_string);
    match last(&r.stderr).or_else(|| last(&r.stdout)) {
        Some(line) => format!(": {line}"),
        None => String::new(),
    }
}

/// Runs the hook with `env`; `Ok` only when it exited 0 within its timeout.
pub async fn run(hook: &Hook, env: &HookEnv) -> Result<HookRun, HookError> {
    let rerun = env.rerun(&hook.command);
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&hook.command)
        // Whatever libpq would read for a password stays out of the hook's reach.
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .envs(env.vars().iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout kills whatever it started too.
    #[cfg(unix)]
    cmd.process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| HookError::Spawn {
        source,
        rerun: rerun.clone(),
    })?;
    let pid = child.id();
    let out = tokio::spawn(read_bounded(child.stdout.take()));
    let err = tokio::spawn(read_bounded(child.stderr.take()));
    let (exit_code, timed_out) = match tokio::time::timeout(hook.timeout(), child.wait()).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "waiting for the endpoint hook failed");
            (None, false)
        }
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            (None, true)
        }
    };
    let elapsed_ms = super::window::ms(started.elapsed());
    let drained = |h: tokio::task::JoinHandle<String>| async move {
        match tokio::time::timeout(DRAIN_GRACE, h).await {
            Ok(Ok(s)) => s,
            _ => String::new(),
        }
    };
    let run = HookRun {
        at: hook.at,
        command: hook.command.clone(),
        exit_code,
        timed_out,
        elapsed_ms,
        stdout: drained(out).await,
        stderr: drained(err).await,
        rerun,
    };
    if run.succeeded() {
        Ok(run)
    } else if run.timed_out {
        Err(HookError::TimedOut(Box::new(run)))
    } else {
        Err(HookError::Failed(Box::new(run)))
    }
}

/// SIGKILL to the hook's process group.
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SAFETY: killpg only sends a signal; the group is the hook's own (process_group(0)).
        unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Reads a stream to its end, keeping its first [`OUTPUT_LIMIT`] bytes (the rest is read
/// and dropped so the hook never blocks on a full pipe).
async fn read_bounded(stream: Option<impl AsyncRead + Unpin>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    let mut truncated = false;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                truncated |= n > room;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if truncated {
        text.push_str(" …(truncated)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HookEnv {
        HookEnv {
            vars: vec![
                ("PGRELOCATE_TASK_ID", "42ef".into()),
                ("PGRELOCATE_NEW_HOST", "db new".into()),
            ],
        }
    }

    #[test]
    fn the_rerun_command_quotes_every_word() {
        assert_eq!(
            env().rerun("dns-switch --to \"$PGRELOCATE_NEW_HOST\" && echo it's done"),
            "env PGRELOCATE_TASK_ID=42ef 'PGRELOCATE_NEW_HOST=db new' sh -c 'dns-switch --to \
             \"$PGRELOCATE_NEW_HOST\" && echo it'\\''s done'"
        );
    }

    #[test]
    fn a_hook_needs_a_command_and_a_sane_timeout() {
        assert_eq!(
            Hook::new(" ", DEFAULT_TIMEOUT, HookAt::BeforePromotion),
            Err(InvalidHook::Empty)
        );
        assert_eq!(
            Hook::new("true", Duration::ZERO, HookAt::BeforePromotion),
            Err(InvalidHook::Timeout)
        );
        let hook = Hook::new("true", DEFAULT_TIMEOUT, HookAt::AfterPromotion).unwrap();
        assert_eq!(hook.timeout(), DEFAULT_TIMEOUT);
        let json = serde_json::to_value(&hook).unwrap();
        assert_eq!(json["at"], "after_promotion");
    }

    #[tokio::test]
    async fn a_hook_sees_its_environment_and_no_password() {
        std::env::set_var("PGPASSWORD", "secret-of-the-test");
        let hook = Hook::new(
            "echo \"$PGRELOCATE_NEW_HOST/${PGPASSWORD:-none}\"; echo oops >&2",
            DEFAULT_TIMEOUT,
            HookAt::BeforePromotion,
        )
        .unwrap();
        let run = run(&hook, &env()).await.unwrap();
        assert_eq!(run.stdout, "db new/none\n");
        assert_eq!(run.stderr, "oops\n");
        assert_eq!(run.exit_code, Some(0));
    }

    #[tokio::test]
    async fn a_failing_hook_says_how_and_how_to_run_it_again() {
        let hook = Hook::new(
            "echo no route >&2; exit 3",
            DEFAULT_TIMEOUT,
            HookAt::AfterPromotion,
        )
        .unwrap();
        let e = run(&hook, &env()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::HookFailed);
        assert_eq!(e.run().unwrap().exit_code, Some(3));
        let text = e.to_string();
        assert!(text.contains("(exit status 3): no route"), "{text}");
        assert!(
            text.ends_with(&env().rerun("echo no route >&2; exit 3")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_hook_out_of_time_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let hook = Hook {
            command: format!("(sleep 3; touch {}) & sleep 60", marker.display()),
            timeout_ms: 300,
            at: HookAt::BeforePromotion,
        };
        let started = Instant::now();
        let e = run(&hook, &env()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::HookTimeout);
        assert!(e.run().unwrap().timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        // The background child was in the hook's group: it never got to touch the file.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(
            !marker.exists(),
            "a process the hook started outlived the timeout"
        );
    }
}
