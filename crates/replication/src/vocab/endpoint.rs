//! Where a PostgreSQL server is and how to reach it: host, port, user, database, TLS mode.
//!
//! Every endpoint is validated when it is built, so a malformed one (port 0, a host with a
//! newline, an empty user) is refused with a clear error before anything is stored or dialled.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// libpq's `sslmode`, with the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, plain otherwise (libpq's default).
    #[default]
    Prefer,
    /// TLS required; the certificate is checked only when a root certificate is given.
    Require,
    /// TLS required; the certificate chain must lead to a trusted root.
    VerifyCa,
    /// As verify-ca, and the certificate must name the host.
    VerifyFull,
}

impl SslMode {
    /// All modes, in increasing strength.
    pub const ALL: [SslMode; 5] = [
        SslMode::Disable,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The libpq spelling (`verify-full`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a plain connection is unacceptable.
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SslMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| EndpointError::SslMode(s.to_string()))
    }
}

/// Why an endpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("host is empty")]
    EmptyHost,
    #[error("host {0:?} contains a control character, or whitespace in a network host name")]
    HostCharacters(String),
    #[error("host is longer than 255 characters")]
    HostTooLong,
    #[error("port {0:?} is not a number between 1 and 65535")]
    Port(String),
    #[error("user name is empty")]
    EmptyUser,
    #[error("{field} contains a NUL or control character")]
    ControlCharacter { field: &'static str },
    #[error("{field} is longer than 63 bytes (PostgreSQL's NAMEDATALEN limit)")]
    NameTooLong { field: &'static str },
    #[error("unknown sslmode {0:?}: use disable, prefer, require, verify-ca or verify-full")]
    SslMode(String),
    #[error(
        "connect timeout {0:?} is not a whole number of seconds between 1 and {max}",
        max = MAX_CONNECT_TIMEOUT_SECS
    )]
    ConnectTimeout(String),
    #[error(transparent)]
    RequireAuth(#[from] crate::require_auth::RequireAuthError),
}

/// Seconds to wait for a TCP connection when the instance does not say (libpq waits
/// forever by default; a DBA would rather hear "no answer" soon).
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u32 = 10;
/// The longest connect timeout accepted: beyond it, a dead host looks like a hang.
pub const MAX_CONNECT_TIMEOUT_SECS: u32 = 600;

fn default_connect_timeout() -> u32 {
    DEFAULT_CONNECT_TIMEOUT_SECS
}

fn is_default_connect_timeout(secs: &u32) -> bool {
    *secs == DEFAULT_CONNECT_TIMEOUT_SECS
}

/// Parses a connect timeout typed by a user: whole seconds, 1 to
/// [`MAX_CONNECT_TIMEOUT_SECS`].
pub fn parse_connect_timeout(s: &str) -> Result<u32, EndpointError> {
    let digits = s.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::ConnectTimeout(s.to_string()));
    }
    match digits.parse::<u32>() {
        Ok(n) if (1..=MAX_CONNECT_TIMEOUT_SECS).contains(&n) => Ok(n),
        _ => Err(EndpointError::ConnectTimeout(s.to_string())),
    }
}

/// Connection parameters of one PostgreSQL server, without the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Endpoint {
    /// Host name, IP address, or an absolute Unix-socket directory.
    pub host: String,
    /// TCP port (also names the Unix socket file).
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Database for ordinary SQL connections.
    pub dbname: String,
    /// TLS policy.
    #[serde(default)]
    pub sslmode: SslMode,
    /// Root certificate (PEM) for verify-ca / verify-full; system roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ssl_root_cert: Option<PathBuf>,
    /// Seconds to wait for the TCP connection to be accepted (per resolved address).
    #[serde(
        default = "default_connect_timeout",
        skip_serializing_if = "is_default_connect_timeout"
    )]
    #[ts(as = "Option<u32>", optional)]
    pub connect_timeout_secs: u32,
    /// libpq's `require_auth`: the authentication methods the server may ask for. `None`:
    /// any method except a clear-text password over an unencrypted connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(as = "Option<String>", optional)]
    pub require_auth: Option<crate::require_auth::RequireAuth>,
}

impl Endpoint {
    /// A validated endpoint; `dbname` defaults to `postgres`.
    pub fn new(
        host: &str,
        port: u16,
        user: &str,
        dbname: Option<&str>,
        sslmode: SslMode,
    ) -> Result<Self, EndpointError> {
        let endpoint = Endpoint {
            host: host.to_string(),
            port,
            user: user.to_string(),
            dbname: dbname.unwrap_or("postgres").to_string(),
            sslmode,
            ssl_root_cert: None,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            require_auth: None,
        };
        endpoint.validate()?;
        Ok(endpoint)
    }

    /// Checks every field; called by [`Endpoint::new`] and after deserialising user input.
    pub fn validate(&self) -> Result<(), EndpointError> {
        if self.host.is_empty() {
            return Err(EndpointError::EmptyHost);
        }
        if self.host.len() > 255 {
            return Err(EndpointError::HostTooLong);
        }
        // A socket directory is a path and may hold spaces; a network host never does.
        let bad_char = |c: char| c.is_control() || (c.is_whitespace() && !self.is_unix_socket());
        if self.host.chars().any(bad_char) {
            return Err(EndpointError::HostCharacters(self.host.clone()));
        }
        if self.port == 0 {
            return Err(EndpointError::Port("0".into()));
        }
        if self.user.is_empty() {
            return Err(EndpointError::EmptyUser);
        }
        if !(1..=MAX_CONNECT_TIMEOUT_SECS).contains(&self.connect_timeout_secs) {
            return Err(EndpointError::ConnectTimeout(
                self.connect_timeout_secs.to_string(),
            ));
        }
        for (field, value) in [("user name", &self.user), ("database name", &self.dbname)] {
            if value.chars().any(char::is_control) {
                return Err(EndpointError::ControlCharacter { field });
            }
            if value.len() > 63 {
                return Err(EndpointError::NameTooLong { field });
            }
        }
        Ok(())
    }

    /// How long to wait for the TCP connection.
    pub fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.connect_timeout_secs.into())
    }

    /// Whether `host` names a Unix-socket directory rather than a network host.
    pub fn is_unix_socket(&self) -> bool {
        self.host.starts_with('/')
    }

    /// Whether the host is this machine's loopback (traffic never leaves the host).
    pub fn is_loopback(&self) -> bool {
        self.is_unix_socket()
            || self.host == "localhost"
            || self
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false)
    }

    /// Whether `other` reaches the same server as far as the endpoints tell: the same port
    /// and the same host, where every name of this machine's loopback (`localhost`,
    /// `127.0.0.1`, `::1`, a socket directory) is one host. Host names compare without case.
    pub fn same_server(&self, other: &Endpoint) -> bool {
        let bare = |h: &str| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        };
        self.port == other.port
            && ((self.is_loopback() && other.is_loopback())
                || bare(&self.host) == bare(&other.host))
    }

    /// `host:port` as shown to a DBA (IPv6 in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl Endpoint {
    /// The endpoint as a libpq connection URI an application can paste
    /// (`postgresql://user@host:port/db?sslmode=…`), every part percent-encoded; a socket
    /// directory goes to the `host` parameter, as libpq reads it. No password: applications
    /// keep their own.
    pub fn uri(&self) -> String {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        // RFC 3986's unreserved characters stay as they are; everything else is encoded.
        const PART: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let enc = |s: &str| utf8_percent_encode(s, PART).to_string();
        let mut params = Vec::new();
        let authority = if self.is_unix_socket() {
            params.push(format!("host={}", enc(&self.host)));
            params.push(format!("port={}", self.port));
            String::new()
        } else {
            // An IPv6 literal stays in brackets; a name or IPv4 address needs no encoding
            // beyond what validation already allows, but encode it anyway (a `@` or `/`).
            let bare = self.host.trim_start_matches('[').trim_end_matches(']');
            let host = if bare.contains(':') {
                format!("[{bare}]")
            } else {
                enc(bare)
            };
            format!("{host}:{}", self.port)
        };
        params.push(format!("sslmode={}", self.sslmode));
        if let Some(root) = &self.ssl_root_cert {
            params.push(format!("sslrootcert={}", enc(&root.to_string_lossy())));
        }
        format!(
            "postgresql://{}@{authority}/{}?{}",
            enc(&self.user),
            enc(&self.dbname),
            params.join("&")
        )
    }

    /// The endpoint as libpq keyword/value pairs (`host='…' port=… user='…' dbname='…'
    /// sslmode=…`), values quoted the libpq way; no password.
    pub fn keywords(&self) -> String {
        let mut out = vec![
            format!(
                "host={}",
                conninfo_value(self.host.trim_start_matches('[').trim_end_matches(']'))
            ),
            format!("port={}", self.port),
            format!("user={}", conninfo_value(&self.user)),
            format!("dbname={}", conninfo_value(&self.dbname)),
            format!("sslmode={}", self.sslmode),
        ];
        if let Some(root) = &self.ssl_root_cert {
            out.push(format!(
                "sslrootcert={}",
                conninfo_value(&root.to_string_lossy())
            ));
        }
        out.join(" ")
    }
}

/// A value inside a libpq keyword/value connection string: single-quoted, with `\` and `'`
/// escaped by a backslash (libpq's rules).
pub fn conninfo_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Parses a port typed by a user, refusing 0 and anything above 65535 with a clear error.
pub fn parse_port(s: &str) -> Result<u16, EndpointError> {
    // Digits only: Rust's integer parser takes a leading '+', and a form must not turn
    // "54x2" into 54 or "99999" into 65535 — anything else is refused as typed.
    let digits = s.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::Port(s.to_string()));
    }
    match digits.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(EndpointError::Port(s.to_string())),
    }
}

impl crate::Coded for EndpointError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidEndpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_encodes_what_libpq_would_misread() {
        let mut e = Endpoint::new(
            "db1.example",
            5433,
            "o'brien@corp",
            Some("sales/eu"),
            SslMode::Require,
        )
        .unwrap();
        assert_eq!(
            e.uri(),
            "postgresql://o%27brien%40corp@db1.example:5433/sales%2Feu?sslmode=require"
        );
        e.host = "::1".into();
        assert!(e
            .uri()
            .starts_with("postgresql://o%27brien%40corp@[::1]:5433/"));
        e.host = "/var/run/postgresql".into();
        assert_eq!(
            e.uri(),
            "postgresql://o%27brien%40corp@/sales%2Feu?host=%2Fvar%2Frun%2Fpostgresql&port=5433&sslmode=require"
        );
        assert_eq!(
            e.keywords(),
            r"host='/var/run/postgresql' port=5433 user='o\'brien@corp' dbname='sales/eu' sslmode=require"
        );
    }

    #[test]
    fn the_same_server_is_recognised_under_its_other_loopback_names_and_cases() {
        let at = |host: &str, port: u16| {
            Endpoint::new(host, port, "postgres", None, SslMode::Prefer).unwrap()
        };
        assert!(at("127.0.0.1", 7101).same_server(&at("localhost", 7101)));
        assert!(at("::1", 7101).same_server(&at("/var/run/postgresql", 7101)));
        assert!(at("DB1.example", 5432).same_server(&at("db1.example", 5432)));
        assert!(at("[2001:db8::1]", 5432).same_server(&at("2001:db8::1", 5432)));
        assert!(!at("127.0.0.1", 7101).same_server(&at("127.0.0.1", 7102)));
        assert!(!at("db1.example", 5432).same_server(&at("db2.example", 5432)));
        assert!(!at("127.0.0.1", 5432).same_server(&at("db1.example", 5432)));
    }

    #[test]
    fn refuses_hostile_input() {
        assert_eq!(parse_port("0"), Err(EndpointError::Port("0".into())));
        assert_eq!(
            parse_port("70000"),
            Err(EndpointError::Port("70000".into()))
        );
        assert_eq!(parse_port("5432"), Ok(5432));
        for typed in [
            "54x2", "99999", "70x1", "+5432", "-1", "5 432", "", "0x10", "5432.0",
        ] {
            assert_eq!(
                parse_port(typed),
                Err(EndpointError::Port(typed.into())),
                "{typed:?}"
            );
        }
        assert!(matches!(
            Endpoint::new("db\nevil", 5432, "u", None, SslMode::Prefer),
            Err(EndpointError::HostCharacters(_))
        ));
        assert!(matches!(
            Endpoint::new("", 5432, "u", None, SslMode::Prefer),
            Err(EndpointError::EmptyHost)
        ));
        assert!(matches!(
            Endpoint::new("h", 0, "u", None, SslMode::Prefer),
            Err(EndpointError::Port(_))
        ));
        assert!(matches!(
            Endpoint::new("h", 1, "", None, SslMode::Prefer),
            Err(EndpointError::EmptyUser)
        ));
    }

    #[test]
    fn keeps_quotes_backslashes_and_non_ascii_in_names() {
        let e = Endpoint::new(
            "db.example",
            5432,
            "mig'r\\ä tør",
            Some("données \"x\""),
            SslMode::VerifyFull,
        )
        .unwrap();
        let json = serde_json::to_string(&e).unwrap();
        let back: Endpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.user, "mig'r\\ä tør");
    }

    #[test]
    fn a_socket_directory_may_hold_spaces_but_a_network_host_may_not() {
        let e = Endpoint::new("/tmp/my sockets/ä'\\", 5432, "u", None, SslMode::Disable).unwrap();
        assert!(e.is_unix_socket() && e.is_loopback());
        assert!(Endpoint::new("db host", 5432, "u", None, SslMode::Disable).is_err());
        assert!(Endpoint::new("/tmp/a\nb", 5432, "u", None, SslMode::Disable).is_err());
    }

    #[test]
    fn sslmode_round_trips_in_libpq_spelling() {
        for m in SslMode::ALL {
            assert_eq!(m.as_str().parse::<SslMode>().unwrap(), m);
        }
        assert!("verify_full".parse::<SslMode>().is_err());
    }

    #[test]
    fn loopback_and_address() {
        let e = Endpoint::new("::1", 5432, "u", None, SslMode::Disable).unwrap();
        assert!(e.is_loopback());
        assert_eq!(e.address(), "[::1]:5432");
        let e = Endpoint::new("10.1.2.3", 5433, "u", None, SslMode::Disable).unwrap();
        assert!(!e.is_loopback());
    }
}
