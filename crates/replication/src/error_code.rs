//! What a failure *is*, as a stable machine code: every public error of the engine has one
//! ([`Coded::code`]), wrapped errors delegate to their cause, and the shells only map it —
//! the CLI to an exit status and a `code` field in `--json`, the desktop app to the IPC body
//! `{code, message}`. The strings are part of both contracts: add codes, never rename one.

use serde::{Deserialize, Serialize};

/// An error with a stable machine code.
pub trait Coded: std::error::Error {
    /// What the failure is, for a script or the UI to branch on.
    fn code(&self) -> ErrorCode;
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal,)*) => {
        /// Every failure code the CLI's `--json` and the desktop app's IPC can carry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in JSON (`snake_case`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    // The state directory and the store.
    /// No state directory could be determined (`PGRELOCATE_HOME`, `HOME`).
    StateDirUnavailable = "state_dir_unavailable",
    /// The desktop app could not open the state store at start-up.
    EngineUnavailable = "engine_unavailable",
    /// The state store failed (SQLite, a migration, an unreadable row).
    Store = "store",
    /// `PGRELOCATE_PORTS` or another setting of the environment is malformed.
    InvalidConfiguration = "invalid_configuration",

    // Instances.
    /// An instance name that cannot be used.
    InvalidName = "invalid_name",
    /// Connection parameters that cannot be used (host, port, user, sslmode).
    InvalidEndpoint = "invalid_endpoint",
    /// An instance of that name already exists.
    DuplicateName = "duplicate_name",
    /// No instance of that name (or no running job, in the desktop app).
    NotFound = "not_found",
    /// The instance is external: pgrelocate only connects to it.
    NotManaged = "not_managed",
    /// A PostgreSQL major version pgrelocate does not support was asked for.
    UnsupportedVersion = "unsupported_version",
    /// No usable PostgreSQL server binaries for the version asked for.
    NoInstallation = "no_installation",
    /// The data directory (or the instance's folder) is already in use.
    DataDirInUse = "data_dir_in_use",
    /// The folder given to adopt holds no PostgreSQL cluster.
    NotACluster = "not_a_cluster",
    /// The cluster to adopt is not running (its password and identity cannot be checked).
    ClusterNotRunning = "cluster_not_running",
    /// The cluster to adopt belongs to another OS user than the one pgrelocate runs as.
    ClusterNotOwned = "cluster_not_owned",
    /// The server on the cluster's port serves another data directory.
    ClusterMismatch = "cluster_mismatch",
    /// The port is taken, or no free port is left in the range.
    PortInUse = "port_in_use",
    /// A sandbox already exists.
    SandboxExists = "sandbox_exists",
    /// A managed server could not be run (initdb, pg_ctl, its configuration, its OS user).
    Server = "server",
    /// A typed confirmation does not match (the instance name, to start a retired source
    /// as a writable primary); nothing was changed.
    ConfirmationMismatch = "confirmation_mismatch",

    // Credentials.
    /// No OS keyring is reachable.
    NoKeyring = "no_keyring",
    /// The OS keyring is locked or refused access.
    KeyringLocked = "keyring_locked",
    /// The OS keyring or a password file failed otherwise.
    Keyring = "keyring",

    // Connections.
    /// The server refused the login.
    AuthFailed = "auth_failed",
    /// The server asks for a password and none is stored.
    PasswordMissing = "password_missing",
    /// The server cannot be reached (the connection was lost, or failed otherwise).
    Unreachable = "unreachable",
    /// The host name does not resolve (DNS, /etc/hosts).
    HostNotFound = "host_not_found",
    /// Nothing listens on that port: the host answered with a refusal (or, for a Unix
    /// socket, no socket file is there).
    ConnectionRefused = "connection_refused",
    /// No route to the host or its network (EHOSTUNREACH, ENETUNREACH).
    HostUnreachable = "host_unreachable",
    /// No answer within the connect timeout (the host is down or a firewall drops it).
    ConnectTimeout = "connect_timeout",
    /// The server asked for an authentication method the instance's policy refuses (by
    /// default a clear-text password over an unencrypted connection); nothing was sent.
    AuthMethodRefused = "auth_method_refused",
    /// TLS could not be set up (refused, certificate rejected, settings).
    Tls = "tls",
    /// The server answered a query with an error.
    Sql = "sql",
    /// The replication protocol failed (an unexpected reply, a server error on it).
    Replication = "replication",

    // Remote hosts (SSH and the agent).
    /// An SSH destination, port or identity file that cannot be used.
    InvalidHost = "invalid_host",
    /// No registered host of that name.
    UnknownHost = "unknown_host",
    /// A host of that name is already registered.
    DuplicateHost = "duplicate_host",
    /// The host still runs managed instances.
    HostInUse = "host_in_use",
    /// The host's SSH key is not known: it must be accepted explicitly (its fingerprint).
    HostKeyUnknown = "host_key_unknown",
    /// The host's SSH key differs from the one known for it: refused.
    HostKeyChanged = "host_key_changed",
    /// The fingerprint given to accept is not the key the host offers.
    HostKeyMismatch = "host_key_mismatch",
    /// SSH refused the login (pgrelocate uses keys or an agent only, never a password).
    SshAuthFailed = "ssh_auth_failed",
    /// SSH failed otherwise (no ssh client, a broken connection).
    Ssh = "ssh",
    /// The host cannot run this pgrelocate (operating system, architecture, libc).
    HostIncompatible = "host_incompatible",
    /// The agent on the host failed or spoke an unexpected protocol.
    Agent = "agent",
    /// No longer produced (every task operation now runs through its host); kept because
    /// codes are never renamed or removed.
    RunsOnHost = "runs_on_host",
    /// The connection to the host a task runs on was lost during an operation on it; the
    /// operation goes on there and the task's status tells how it ended.
    HostLost = "host_lost",

    // Assessments and reports.
    /// The assessment could not run (not a finding: the checks themselves failed).
    AssessmentFailed = "assessment_failed",
    /// No stored report with that id.
    ReportNotFound = "report_not_found",
    /// An id prefix that starts more than one stored id.
    AmbiguousId = "ambiguous_id",
    /// An id prefix too short to look up.
    IdTooShort = "id_too_short",
    /// A report could not be written (or its format is unknown).
    ExportFailed = "export_failed",

    // Tasks.
    /// No stored task with that id.
    TaskNotFound = "task_not_found",
    /// No assessment report for this source, destination and mode.
    NoReport = "no_report",
    /// The report found blocking errors.
    ReportHasErrors = "report_has_errors",
    /// The report is for another source, destination or mode.
    ReportMismatch = "report_mismatch",
    /// A migration destination must be managed by pgrelocate on this host.
    DestinationNotManaged = "destination_not_managed",
    /// Source and destination are the same instance.
    SameInstance = "same_instance",
    /// The destination is used by another unfinished task.
    DestinationBusy = "destination_busy",
    /// The destination's prerequisites do not hold (not empty, wrong version, …).
    DestinationNotReady = "destination_not_ready",
    /// The task is not in a phase that allows this.
    WrongPhase = "wrong_phase",
    /// Another live process drives the task.
    TaskBusy = "task_busy",
    /// The full copy failed.
    BackupFailed = "backup_failed",
    /// An option of the full copy is not usable (a tablespace mapping, a rate).
    InvalidOption = "invalid_option",
    /// The target directory of a copy is not empty.
    TargetNotEmpty = "target_not_empty",
    /// The source's PostgreSQL version cannot be copied (or lacks a feature asked for).
    SourceUnsupported = "source_unsupported",
    /// The source reported a data checksum failure.
    DataCorruption = "data_corruption",
    /// The copy does not match its backup manifest.
    ManifestMismatch = "manifest_mismatch",
    /// The work was cancelled.
    Cancelled = "cancelled",
    /// The standby did not connect to the source in time.
    StandbyDidNotConnect = "standby_did_not_connect",
    /// The servers and the stored task disagree.
    Inconsistent = "inconsistent",
    /// The process driving the task did not act on a cancel request.
    CancelNotHonoured = "cancel_not_honoured",
    /// The task was stopped (its driver is shutting down).
    Stopped = "stopped",
    /// Waiting for a state of the task timed out.
    Timeout = "timeout",
    /// A file operation failed.
    Io = "io",
    /// A stored task failed (its stored error says why).
    TaskFailed = "task_failed",

    // Switchover and failover (see also `switchover::Outcome`).
    /// A guardrail forbids the switchover; nothing was touched.
    GuardrailFailed = "guardrail_failed",
    /// The switchover was rolled back: the source takes writes again.
    RolledBack = "rolled_back",
    /// The switchover failed and its rollback is incomplete.
    RollbackIncomplete = "rollback_incomplete",
    /// Promotion was requested and its outcome is unknown; the source stays fenced.
    PromotionUnknown = "promotion_unknown",
    /// The destination was promoted, but a step after promotion failed.
    AfterPromotion = "after_promotion",
    /// A failover check forbids the failover.
    FailoverRefused = "failover_refused",
    /// Failover of a migration task refused: its source still answers (use a switchover).
    SourceAnswers = "source_answers",
    /// The failover failed before promotion; the destination is still a standby.
    FailoverFailed = "failover_failed",
    /// The fence could not be applied, or its record read.
    FenceFailed = "fence_failed",
    /// The destination did not catch up within the timeout.
    CatchupTimeout = "catchup_timeout",
    /// The catch-up could not be followed to its end.
    CatchupFailed = "catchup_failed",
    /// Promotion or the proof of writes after it failed.
    PromoteFailed = "promote_failed",
    /// A fence could not be undone.
    UndoFailed = "undo_failed",
    /// The fence asked for cannot be used on this source (nothing was touched).
    FenceUnavailable = "fence_unavailable",
    /// The endpoint hook failed (exit status, or it could not start).
    HookFailed = "hook_failed",
    /// The endpoint hook ran out of time and was killed.
    HookTimeout = "hook_timeout",

    // Access rules (the source's client rules carried to the destination's pg_hba.conf).
    /// The client rules could not be read (the source's `pg_hba_file_rules` nor the copy's
    /// `pg_hba.conf.from-source`, or the destination's `pg_hba.conf`).
    AccessRulesUnreadable = "access_rules_unreadable",
    /// The rules written were refused by the server (rolled back, with its error lines), or
    /// the marked block was edited by hand and is left alone.
    AccessRulesInvalid = "access_rules_invalid",
    /// The destination's `pg_hba.conf` could not be written (nothing changed).
    AccessRulesWriteFailed = "access_rules_write_failed",
    /// Access rules of a destination on a registered remote host are not carried yet.
    AccessRemoteUnsupported = "access_remote_unsupported",

    // The way back (`task reverse`).
    /// The task cannot be reversed (not switched or failed over, the old source is not
    /// managed on this machine, already reversed, the new primary does not answer); the
    /// message says why. Nothing was changed.
    RejoinRefused = "rejoin_refused",
    /// The old source's WAL may have diverged and pg_rewind cannot be used on it (no data
    /// checksums nor wal_log_hints, or no pg_rewind of its major): a fresh copy is the way
    /// back. Nothing was changed.
    RewindUnavailable = "rewind_unavailable",
    /// pg_rewind (or the crash recovery before it) failed; its output's tail is in the
    /// message.
    RewindFailed = "rewind_failed",

    // Set by the shells themselves.
    /// The command line is malformed (CLI) or the request is (desktop).
    Usage = "usage",
    /// The desktop app's request is malformed.
    InvalidRequest = "invalid_request",
    /// The same operation is already running in the desktop app.
    Busy = "busy",
    /// The desktop app's save dialog failed.
    DialogFailed = "dialog_failed",
    /// The webview could not reach the desktop shell.
    Ipc = "ipc",
    /// A bug: something that should not fail did.
    Internal = "internal",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_written_in_json_as_its_string() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            let back: ErrorCode = serde_json::from_value(json).unwrap();
            assert_eq!(back, *code);
        }
    }
}
