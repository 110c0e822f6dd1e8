//! Which authentication methods a server may ask for before pgrelocate answers: libpq's
//! `require_auth` (PostgreSQL 16+), plus a safe default.
//!
//! The check runs when the server's authentication request arrives, before anything is
//! sent, so a refused method never receives the password (or any hash of it). Both the
//! replication client ([`crate::wire`]) and the SQL client (the engine's `sql`) apply it.
//!
//! Without a setting, every method is allowed except a clear-text password over a
//! connection that is not encrypted: a server that declines TLS under `sslmode=prefer` and
//! asks for `password` would otherwise read it off the wire — and so would anyone between.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An authentication method a server asks for, in libpq's `require_auth` spelling.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// The server let the login in without asking (trust, peer on a socket, …).
    None,
    /// Clear-text password (`AuthenticationCleartextPassword`).
    Password,
    /// MD5 challenge.
    Md5,
    /// SCRAM-SHA-256 (SASL).
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    /// GSSAPI (Kerberos); pgrelocate does not speak it.
    Gss,
    /// SSPI (Windows); pgrelocate does not speak it.
    Sspi,
}

impl AuthMethod {
    /// Every method `require_auth` can name.
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::None,
        AuthMethod::Password,
        AuthMethod::Md5,
        AuthMethod::ScramSha256,
        AuthMethod::Gss,
        AuthMethod::Sspi,
    ];

    /// libpq's spelling (`scram-sha-256`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Password => "password",
            AuthMethod::Md5 => "md5",
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Gss => "gss",
            AuthMethod::Sspi => "sspi",
        }
    }

    /// How a DBA would describe the method.
    pub fn describe(self) -> &'static str {
        match self {
            AuthMethod::None => "no authentication (trust)",
            AuthMethod::Password => "a clear-text password (method password)",
            AuthMethod::Md5 => "an MD5 password challenge (method md5)",
            AuthMethod::ScramSha256 => "SCRAM-SHA-256",
            AuthMethod::Gss => "GSSAPI",
            AuthMethod::Sspi => "SSPI",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a `require_auth` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequireAuthError {
    #[error("require_auth is empty: list methods such as scram-sha-256,md5")]
    Empty,
    #[error(
        "unknown authentication method {0:?} in require_auth: use password, md5, \
         scram-sha-256, gss, sspi or none (each optionally negated with !)"
    )]
    Unknown(String),
    #[error("require_auth names {0:?} twice")]
    Duplicate(String),
    #[error("require_auth mixes allowed and negated (!) methods; use one kind only")]
    Mixed,
}

impl crate::Coded for RequireAuthError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidEndpoint
    }
}

/// A `require_auth` list: the methods allowed, or (all negated) the methods refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequireAuth {
    negated: bool,
    methods: BTreeSet<AuthMethod>,
}

impl RequireAuth {
    /// Whether the server may use `method` under this list.
    pub fn allows(&self, method: AuthMethod) -> bool {
        self.methods.contains(&method) != self.negated
    }
}

impl FromStr for RequireAuth {
    type Err = RequireAuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut negated = None;
        let mut methods = BTreeSet::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (neg, name) = match item.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, item),
            };
            if *negated.get_or_insert(neg) != neg {
                return Err(RequireAuthError::Mixed);
            }
            let method = AuthMethod::ALL
                .into_iter()
                .find(|m| m.as_str() == name)
                .ok_or_else(|| RequireAuthError::Unknown(name.to_string()))?;
            if !methods.insert(method) {
                return Err(RequireAuthError::Duplicate(name.to_string()));
            }
        }
        match negated {
            None => Err(RequireAuthError::Empty),
            Some(negated) => Ok(RequireAuth { negated, methods }),
        }
    }
}

impl fmt::Display for RequireAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bang = if self.negated { "!" } else { "" };
        let list: Vec<String> = self
            .methods
            .iter()
            .map(|m| format!("{bang}{}", m.as_str()))
            .collect();
        f.write_str(&list.join(","))
    }
}

impl Serialize for RequireAuth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for RequireAuth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The server asked for a method the policy refuses; nothing was sent in answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct AuthRefused {
    /// `host:port` of the server.
    pub address: String,
    /// What the server asked for.
    pub asked: AuthMethod,
    /// Whether the connection was encrypted.
    pub tls: bool,
    /// The instance's `require_auth`, when it has one (else the default policy refused).
    pub policy: Option<RequireAuth>,
}

impl AuthRefused {
    fn message(&self) -> String {
        match &self.policy {
            None => format!(
                "{} asks for the password in clear text over an unencrypted connection; \
                 pgrelocate did not send it. Use TLS (ssl = on on the server and \
                 --sslmode require or stronger), change the pg_hba.conf method to \
                 scram-sha-256, or allow it knowingly with --require-auth password",
                self.address
            ),
            Some(policy) if self.asked == AuthMethod::None => format!(
                "{} let the login in without authentication, which require_auth={policy} \
                 does not allow (a server that asks for nothing may not be the one you \
                 meant); add none to --require-auth if trust is intended",
                self.address
            ),
            Some(policy) => format!(
                "{} asks for {}, which require_auth={policy} does not allow; nothing was \
                 sent. Change the server's pg_hba.conf method, or register the instance \
                 with --require-auth allowing {}",
                self.address,
                self.asked.describe(),
                self.asked.as_str()
            ),
        }
    }
}

impl crate::Coded for AuthRefused {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::AuthMethodRefused
    }
}

/// Decides whether to answer the server's request for `asked` (`None` = it asked nothing).
/// `protected` is true over TLS or a Unix socket (nothing between us and the server).
pub fn check(
    policy: Option<&RequireAuth>,
    asked: AuthMethod,
    protected: bool,
    address: &str,
) -> Result<(), AuthRefused> {
    let allowed = match policy {
        Some(p) => p.allows(asked),
        None => asked != AuthMethod::Password || protected,
    };
    if allowed {
        Ok(())
    } else {
        Err(AuthRefused {
            address: address.to_string(),
            asked,
            tls: protected,
            policy: policy.cloned(),
        })
    }
}

/// The method named by an `AuthenticationRequest` code (the protocol's numbering);
/// `None` for requests that only continue an exchange already started (SASL continue,
/// GSS continue) or that no policy can name.
pub fn method_of_request(code: i32) -> Option<AuthMethod> {
    match code {
        0 => Some(AuthMethod::None),
        3 => Some(AuthMethod::Password),
        5 => Some(AuthMethod::Md5),
        7 => Some(AuthMethod::Gss),
        9 => Some(AuthMethod::Sspi),
        10 => Some(AuthMethod::ScramSha256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libpq_lists() {
        let p: RequireAuth = "scram-sha-256, md5".parse().unwrap();
        assert!(p.allows(AuthMethod::Md5) && !p.allows(AuthMethod::Password));
        assert!(!p.allows(AuthMethod::None));
        assert_eq!(p.to_string(), "md5,scram-sha-256");
        let n: RequireAuth = "!password,!none".parse().unwrap();
        assert!(!n.allows(AuthMethod::Password) && n.allows(AuthMethod::ScramSha256));
        assert!(!n.allows(AuthMethod::None));
        assert_eq!(
            "md5,!password".parse::<RequireAuth>(),
            Err(RequireAuthError::Mixed)
        );
        assert_eq!("".parse::<RequireAuth>(), Err(RequireAuthError::Empty));
        assert!(matches!(
            "scram".parse::<RequireAuth>(),
            Err(RequireAuthError::Unknown(_))
        ));
        assert!(matches!(
            "md5,md5".parse::<RequireAuth>(),
            Err(RequireAuthError::Duplicate(_))
        ));
    }

    #[test]
    fn default_refuses_cleartext_only_when_unprotected() {
        assert!(check(None, AuthMethod::Password, false, "h:1").is_err());
        assert!(check(None, AuthMethod::Password, true, "h:1").is_ok());
        assert!(check(None, AuthMethod::Md5, false, "h:1").is_ok());
        assert!(check(None, AuthMethod::None, false, "h:1").is_ok());
        let allow: RequireAuth = "password".parse().unwrap();
        assert!(check(Some(&allow), AuthMethod::Password, false, "h:1").is_ok());
        let err = check(Some(&allow), AuthMethod::Md5, true, "h:1").unwrap_err();
        assert!(err.to_string().contains("require_auth=password"), "{err}");
    }
}
