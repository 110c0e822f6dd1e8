//! The agent protocol: newline-delimited JSON frames over the SSH channel's stdin/stdout.
//!
//! The agent speaks first with [`Frame::Hello`] (its protocol number and version); the
//! workstation refuses any other protocol number. Then each request carries an id the
//! client chose; the agent answers it with exactly one [`Frame::Result`] or
//! [`Frame::Error`], after any number of [`Frame::Event`]s (progress) with the same id.
//! Requests may overlap. Errors carry the engine's [`ErrorCode`], so a failure on the host
//! has the same code on the workstation as it would locally. Secrets (passwords) travel only
//! inside request parameters — inside the SSH channel, never on a command line.

use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::secrets::Password;
use crate::server::Installation;
use crate::store::InstanceRecord;
use crate::ErrorCode;

/// The protocol number; bumped on any change an older peer would misread.
pub const PROTOCOL: u32 = 4;

/// The agent's greeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol number it speaks ([`PROTOCOL`]).
    pub protocol: u32,
    /// Its pgrelocate version.
    pub version: String,
}

/// What the workstation asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Request {
    /// The host's facts: OS, architecture, user, PostgreSQL installations.
    Facts,
    /// Create a managed instance on the host (initdb, configure, start).
    InstanceCreate(RemoteCreate),
    /// Register a running cluster of the host as a managed instance (its password checked
    /// there, then forgotten; the workstation keeps it in its keyring).
    InstanceAdopt(RemoteAdopt),
    /// Start a managed instance; `confirm_primary` (its name) starts a retired source as a
    /// writable primary.
    InstanceStart {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confirm_primary: Option<String>,
    },
    /// Stop a managed instance (fast shutdown).
    InstanceStop { name: String },
    /// An instance's status, with a connection test made on the host.
    InstanceStatus {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
    },
    /// Forget a managed instance and delete the folder the agent created for it.
    InstanceRemove { name: String },
    /// The end of an instance's server log.
    InstanceLogTail { name: String, lines: usize },
    /// Run the feasibility assessment on the host (where the standby will connect from),
    /// with the workstation's source record; progress events are `CheckResult`s.
    Assess(RemoteAssess),
    /// The destination's own prerequisites (the desktop wizard's live step), checked on
    /// the host where its data directory is; the mode is not used. Answers `CheckResult`s.
    DestinationPrerequisites(RemoteAssess),
    /// Start a task on the host: its driver runs there, detached, and keeps going when the
    /// workstation goes away.
    TaskCreate(RemoteTask),
    /// A task's status as the host reads it now, and its events after `after` (the
    /// agent's sequence numbers).
    TaskStatus(RemoteTaskRead),
    /// Switch over, fail over, cancel or retry a task driven on the host. The operation
    /// runs in a process of its own there (detached, like the driver), so a workstation
    /// that goes away mid-switchover cannot leave the source fenced; events are the
    /// switchover's [`crate::switchover::Progress`] steps.
    TaskOperate(RemoteOperate),
    /// The switchover or failover dialog's content for a task driven on the host.
    TaskPreview(RemoteOperate),
    /// The `shutdown` fence of a source managed on this host, asked by the destination's
    /// host during a switchover: a fast shutdown, waited for, then the stopped cluster's
    /// pg_control facts (its state and shutdown checkpoint), read here where the files are.
    /// Answers a [`crate::switchover::pg_control::ControlFile`]. The undo is
    /// [`Request::InstanceStart`].
    FenceStop { name: String },
    /// Key parameters of a running instance.
    InstanceParameters {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
    },
}

/// What [`Request::InstanceCreate`] carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCreate {
    /// The instance name (the same as on the workstation).
    pub name: String,
    /// PostgreSQL major version.
    pub major: u32,
    /// TCP port; the host's first free one when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Data directory on the host; under the agent's state directory when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Binaries folder on the host; discovered there when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<PathBuf>,
    /// The superuser password, generated on the workstation, which keeps it in its
    /// keyring; the agent uses it for initdb and forgets it.
    pub password: Secret,
}

/// What [`Request::InstanceAdopt`] carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteAdopt {
    /// The instance name (the same as on the workstation).
    pub name: String,
    /// The cluster's data directory on the host.
    pub data_dir: PathBuf,
    /// Its binaries' folder on the host; found by its version when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<PathBuf>,
    /// The superuser role to connect as.
    pub user: String,
    /// Its password, from the DBA; the agent checks it and forgets it.
    pub password: Secret,
}

/// What [`Request::Assess`] carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteAssess {
    /// The source as the workstation knows it; the agent keeps an external record of the
    /// same id (its endpoint is reached from the host).
    pub source: InstanceRecord,
    /// The source's password, from the workstation's keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_password: Option<Secret>,
    /// The destination, a managed instance of the agent.
    pub dest: String,
    /// The destination's password, from the workstation's keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_password: Option<Secret>,
    /// Scenario.
    pub mode: crate::assess::Mode,
    /// Tunables.
    pub options: crate::assess::Options,
    /// The registered host the source is managed on, when it is not the agent's host (as
    /// [`SwitchOptions::source_host`]): `src.fencing` tries the reach the switchover will.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_host: Option<crate::store::HostRecord>,
}

/// What [`Request::TaskCreate`] carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteTask {
    /// The task to start (its report exists on both sides).
    pub request: crate::task::TaskRequest,
    /// The source as the workstation knows it.
    pub source: InstanceRecord,
    /// Passwords from the workstation's keyring.
    pub passwords: Passwords,
}

/// What [`Request::TaskStatus`] carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteTaskRead {
    /// The task.
    pub id: String,
    /// Events after this agent sequence number are returned.
    pub after: i64,
    /// Passwords from the workstation's keyring (a live sample connects to both ends).
    pub passwords: Passwords,
}

/// What [`Request::TaskOperate`] and [`Request::TaskPreview`] carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteOperate {
    /// The task.
    pub id: String,
    /// What to do.
    pub operation: TaskOperation,
    /// Passwords from the workstation's keyring.
    pub passwords: Passwords,
}

/// An operation on a task driven on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskOperation {
    /// Fence, catch up, promote ([`crate::task::Tasks::switchover`]).
    Switchover(Box<SwitchOptions>),
    /// Promote without fencing ([`crate::task::Tasks::failover`]).
    Failover,
    /// Undo the task before switchover ([`crate::task::Tasks::cancel`]).
    Cancel,
    /// Start a failed task again ([`crate::task::Tasks::retry`]).
    Retry,
}

/// [`crate::switchover::Options`] on the wire (durations in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchOptions {
    /// How long the catch-up may take.
    pub catchup_timeout_ms: u64,
    /// Replay lag above which the switchover does not start.
    pub max_lag_bytes: u64,
    /// A fence strategy instead of the strongest available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<crate::switchover::FenceStrategy>,
    /// Transactions older than this are reported as long-running.
    pub long_transaction_ms: u64,
    /// The registered host the source is managed on, when it is neither the destination's
    /// host nor unmanaged: the destination's host reaches it itself for the `shutdown`
    /// fence (no secret: the login, port, identity path and accepted key fingerprint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_host: Option<crate::store::HostRecord>,
    /// The endpoint hook (runs on the host that runs the switchover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<crate::switchover::Hook>,
}

impl From<&crate::switchover::Options> for SwitchOptions {
    fn from(o: &crate::switchover::Options) -> Self {
        SwitchOptions {
            catchup_timeout_ms: o.catchup_timeout.as_millis() as u64,
            max_lag_bytes: o.max_lag_bytes,
            strategy: o.strategy,
            long_transaction_ms: o.long_transaction.as_millis() as u64,
            source_host: o.source_host.clone(),
            hook: o.hook.clone(),
        }
    }
}

impl From<&SwitchOptions> for crate::switchover::Options {
    fn from(o: &SwitchOptions) -> Self {
        use std::time::Duration;
        crate::switchover::Options {
            catchup_timeout: Duration::from_millis(o.catchup_timeout_ms),
            max_lag_bytes: o.max_lag_bytes,
            strategy: o.strategy,
            long_transaction: Duration::from_millis(o.long_transaction_ms),
            source_host: o.source_host.clone(),
            hook: o.hook.clone(),
        }
    }
}

/// The passwords of a task's two instances, by instance id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Passwords {
    /// The source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Secret>,
    /// The destination's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest: Option<Secret>,
}

/// A task and its events as the agent has them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskView {
    /// The status (with the task).
    pub status: crate::task::TaskStatus,
    /// Its events after the ones asked for, oldest first.
    pub events: Vec<crate::task::TaskEvent>,
}

/// A password inside a request: serialised as text (only into the SSH channel), never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The password to send.
    pub fn new(password: &Password) -> Secret {
        Secret(password.expose().to_string())
    }

    /// The password received.
    pub fn password(&self) -> Password {
        Password::new(self.0.clone())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A request with the id its answer will carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    /// Chosen by the client, unique while the call is open.
    pub id: u64,
    /// The request.
    #[serde(flatten)]
    pub request: Request,
}

/// What the agent writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
pub enum Frame {
    /// The first frame.
    Hello(Hello),
    /// A call's result.
    Result {
        /// The call.
        id: u64,
        /// Its value, as the request's result type serialises.
        value: serde_json::Value,
    },
    /// A call's failure, with the engine's code.
    Error {
        /// The call.
        id: u64,
        /// What the failure is.
        code: ErrorCode,
        /// For people.
        message: String,
    },
    /// Progress of a call still running.
    Event {
        /// The call.
        id: u64,
        /// The event, as the request's event type serialises.
        event: serde_json::Value,
    },
}

/// The answer to [`Request::Facts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Facts {
    /// The agent's pgrelocate version.
    pub version: String,
    /// Operating system, as `uname -s` says (`Linux`).
    pub os: String,
    /// Machine architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// The login user the agent runs as.
    pub user: String,
    /// The agent's state directory on the host (its own store, separate from the
    /// workstation's).
    #[ts(type = "string")]
    pub state_dir: std::path::PathBuf,
    /// PostgreSQL installations found on the host, newest first.
    pub installations: Vec<Installation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_one_json_object_each_with_their_kind() {
        let call = Call {
            id: 7,
            request: Request::Facts,
        };
        let text = serde_json::to_string(&call).unwrap();
        assert_eq!(text, r#"{"id":7,"method":"facts"}"#);
        let back = serde_json::from_str::<Call>(&text).unwrap();
        assert!(back.id == 7 && matches!(back.request, Request::Facts));
        let hello = Frame::Hello(Hello {
            protocol: PROTOCOL,
            version: "1.2.3".into(),
        });
        let text = serde_json::to_string(&hello).unwrap();
        assert_eq!(text, r#"{"frame":"hello","protocol":4,"version":"1.2.3"}"#);
        let error = Frame::Error {
            id: 7,
            code: ErrorCode::NoInstallation,
            message: "none".into(),
        };
        let text = serde_json::to_string(&error).unwrap();
        assert!(text.contains(r#""code":"no_installation""#), "{text}");
        assert_eq!(serde_json::from_str::<Frame>(&text).unwrap(), error);
    }

    #[test]
    fn switchover_options_survive_the_wire() {
        let options = crate::switchover::Options {
            catchup_timeout: std::time::Duration::from_millis(1500),
            strategy: Some(crate::switchover::FenceStrategy::Sql),
            source_host: Some(crate::store::HostRecord {
                name: "a".into(),
                ssh_user: Some("postgres".into()),
                ssh_host: "db-a".into(),
                ssh_port: Some(2222),
                identity: Some("/home/dba/.ssh/id_ed25519".into()),
                host_key: Some("SHA256:abc".into()),
                added_at: "2026-01-01T00:00:00Z".into(),
            }),
            hook: Some(crate::switchover::Hook {
                command: "vip-move \"$PGRELOCATE_NEW_HOST\"".into(),
                timeout_ms: 20_000,
                at: crate::switchover::HookAt::AfterPromotion,
            }),
            ..Default::default()
        };
        let call = Call {
            id: 3,
            request: Request::TaskOperate(RemoteOperate {
                id: "t1".into(),
                operation: TaskOperation::Switchover(Box::new((&options).into())),
                passwords: Passwords::default(),
            }),
        };
        let text = serde_json::to_string(&call).unwrap();
        let Request::TaskOperate(back) = serde_json::from_str::<Call>(&text).unwrap().request
        else {
            panic!("{text}")
        };
        let TaskOperation::Switchover(wire) = back.operation else {
            panic!("{text}")
        };
        let again = crate::switchover::Options::from(wire.as_ref());
        assert_eq!(again.catchup_timeout, options.catchup_timeout);
        assert_eq!(again.strategy, options.strategy);
        assert_eq!(again.max_lag_bytes, options.max_lag_bytes);
        assert_eq!(again.long_transaction, options.long_transaction);
        assert_eq!(again.source_host, options.source_host);
        assert_eq!(again.hook, options.hook);
    }

    #[test]
    fn a_password_travels_in_the_call_and_never_in_debug_output() {
        let call = Call {
            id: 1,
            request: Request::InstanceStatus {
                name: "d'b".into(),
                password: Some(Secret::new(&Password::new("s3cr\\\"et"))),
            },
        };
        let text = serde_json::to_string(&call).unwrap();
        assert_eq!(
            text,
            r#"{"id":1,"method":"instance_status","params":{"name":"d'b","password":"s3cr\\\"et"}}"#
        );
        let back = serde_json::from_str::<Call>(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert!(!format!("{call:?}").contains("s3cr"), "{call:?}");
    }
}
