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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Request {
    /// The host's facts: OS, architecture, user, PostgreSQL installations.
    Facts,
}

/// A request with the id its answer will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), call);
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
}
