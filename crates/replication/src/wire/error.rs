//! Errors of the replication connection, with the server's SQLSTATE and, for the mistakes
//! DBAs meet most, what to do about them.

use std::fmt;

use super::frame::FrameError;
use super::messages::DecodeError;
use crate::tls::TlsError;

/// An ErrorResponse or NoticeResponse from the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, `PANIC`, `WARNING`, `NOTICE`, … (never localised).
    pub severity: String,
    /// SQLSTATE, e.g. `42501`.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// Optional detail.
    pub detail: Option<String>,
    /// Optional hint from the server.
    pub hint: Option<String>,
}

impl ServerError {
    /// What a DBA should do about this error, for the cases pgrelocate users meet.
    pub fn remedy(&self) -> Option<&'static str> {
        let msg = self.message.as_str();
        Some(match self.code.as_str() {
            "28000" if msg.contains("pg_hba.conf") => {
                "add a `host replication <user> <client address> scram-sha-256` line to the \
                 source's pg_hba.conf (the database field must be the keyword `replication`) \
                 and reload the server"
            }
            "42501" if msg.contains("replication") || msg.contains("WAL sender") => {
                "give the role the REPLICATION attribute on the source: \
                 ALTER ROLE <user> REPLICATION"
            }
            "28P01" => "check the password stored for this instance",
            "53400" if msg.contains("replication slots") => {
                "every replication slot is in use: drop an unused slot on the source or \
                 raise max_replication_slots (needs a restart)"
            }
            "53300" if msg.contains("max_wal_senders") || msg.contains("walsender") => {
                "raise max_wal_senders on the source (needs a restart) or stop another \
                 replication client"
            }
            "55000" if msg.contains("max_replication_slots") => {
                "set max_replication_slots above 0 on the source (needs a restart)"
            }
            "55000" if msg.contains("wal_level") => {
                "set wal_level = replica (or logical) on the source (needs a restart)"
            }
            "XX001" => {
                "the source has a page with a bad data checksum: this copy is not valid; \
                 repair the source (pg_amcheck, restore the relation) before copying again"
            }
            _ => return None,
        })
    }

    /// Whether the server reported a data checksum failure during BASE_BACKUP.
    pub fn is_data_corruption(&self) -> bool {
        self.code == "XX001"
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (SQLSTATE {})",
            self.severity, self.message, self.code
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "; {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        if let Some(remedy) = self.remedy() {
            write!(f, " — {remedy}")?;
        }
        Ok(())
    }
}

/// Why a replication-protocol operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error(transparent)]
    Connect(#[from] crate::dial::DialError),
    #[error(transparent)]
    AuthRefused(#[from] crate::require_auth::AuthRefused),
    #[error("timed out connecting to {0} (connection, TLS and login did not finish in time)")]
    ConnectTimeout(String),
    #[error("connection to the server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server does not accept TLS connections, and sslmode={0} requires TLS")]
    TlsRefused(&'static str),
    #[error("TLS settings: {0}")]
    TlsConfig(#[from] TlsError),
    #[error("TLS handshake with {address} failed: {source}")]
    TlsHandshake {
        address: String,
        source: std::io::Error,
    },
    #[error("TLS over a Unix socket is not possible; use sslmode=disable or prefer for {0}")]
    TlsOnUnixSocket(String),
    #[error("server error: {0}")]
    Server(Box<ServerError>),
    #[error("the server asks for a password and none is stored for this instance")]
    PasswordRequired,
    #[error("the server asks for an authentication method pgrelocate does not support ({0}); use scram-sha-256, md5, password or trust in pg_hba.conf")]
    UnsupportedAuth(String),
    #[error("SCRAM authentication failed: {0}")]
    Scram(std::io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("protocol error: {0}")]
    Frame(#[from] FrameError),
    #[error("protocol error: {0}")]
    Decode(#[from] DecodeError),
    #[error("the server closed the connection unexpectedly")]
    Closed,
    #[error("server version {0:?} is not understood")]
    Version(String),
}

impl WireError {
    /// The server's error, when the failure came from the server.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            WireError::Server(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// The SQLSTATE, when the failure came from the server.
    pub fn sqlstate(&self) -> Option<&str> {
        self.server_error().map(|e| e.code.as_str())
    }
}

impl crate::Coded for WireError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            WireError::Connect(e) => e.code(),
            WireError::AuthRefused(e) => e.code(),
            WireError::ConnectTimeout(_) => ErrorCode::ConnectTimeout,
            WireError::Io(_) | WireError::Closed => ErrorCode::Unreachable,
            WireError::TlsRefused(_)
            | WireError::TlsConfig(_)
            | WireError::TlsHandshake { .. }
            | WireError::TlsOnUnixSocket(_) => ErrorCode::Tls,
            WireError::Server(e) if e.code.starts_with("28") => ErrorCode::AuthFailed,
            WireError::PasswordRequired => ErrorCode::PasswordMissing,
            WireError::UnsupportedAuth(_) | WireError::Scram(_) => ErrorCode::AuthFailed,
            WireError::Server(_)
            | WireError::Protocol(_)
            | WireError::Frame(_)
            | WireError::Decode(_)
            | WireError::Version(_) => ErrorCode::Replication,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_a_missing_replication_attribute() {
        let e = ServerError {
            severity: "FATAL".into(),
            code: "42501".into(),
            message: "permission denied to start WAL sender".into(),
            detail: Some(
                "Only roles with the REPLICATION attribute may start a WAL sender process.".into(),
            ),
            hint: None,
        };
        let text = e.to_string();
        assert!(text.contains("SQLSTATE 42501"), "{text}");
        assert!(text.contains("ALTER ROLE <user> REPLICATION"), "{text}");
    }
}
