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

use crate::inventory::InstanceRecord;
use crate::secrets::Password;
use crate::server::Installation;
use crate::ErrorCode;

/// The protocol number; bumped on any change an older peer would misread.
pub const PROTOCOL: u32 = 1;

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
    /// Start a task on the host: its driver runs there, detached, and keeps going when the
    /// workstation goes away.
    TaskCreate(RemoteTask),
    /// A task's status as the host reads it now, and its events after `after` (the
    /// agent's sequence numbers).
    TaskStatus(RemoteTaskRead),
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
        assert_eq!(text, r#"{"frame":"hello","protocol":1,"version":"1.2.3"}"#);
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
