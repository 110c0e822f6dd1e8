//! What a DBA types to name a host: `[USER@]HOST`, a port, an identity file. Checked before
//! anything runs, so a value can never reach ssh as an option (`-oProxyCommand=…`).

use std::path::{Path, PathBuf};

/// Why a host's SSH settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the SSH destination is empty")]
    Empty,
    #[error("the SSH destination {0:?} starts with '-'")]
    LeadingDash(String),
    #[error("the SSH destination {0:?} contains whitespace or a control character")]
    Whitespace(String),
    #[error("the SSH destination {0:?} has more than one '@'")]
    TwoAts(String),
    #[error("the SSH destination {0:?} has an empty user or host")]
    EmptyPart(String),
    #[error("the identity file {0} does not exist or is not a file")]
    NoIdentity(PathBuf),
}

/// A parsed `[USER@]HOST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The login user, when given.
    pub user: Option<String>,
    /// Host name, address or ssh_config alias.
    pub host: String,
}

/// Parses `[USER@]HOST`.
pub fn parse_destination(text: &str) -> Result<Destination, TargetError> {
    if text.is_empty() {
        return Err(TargetError::Empty);
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::Whitespace(text.into()));
    }
    let (user, host) = match text.split_once('@') {
        Some((_, rest)) if rest.contains('@') => return Err(TargetError::TwoAts(text.into())),
        Some((user, host)) => (Some(user), host),
        None => (None, text),
    };
    if host.is_empty() || user.is_some_and(str::is_empty) {
        return Err(TargetError::EmptyPart(text.into()));
    }
    if text.starts_with('-') || host.starts_with('-') {
        return Err(TargetError::LeadingDash(text.into()));
    }
    Ok(Destination {
        user: user.map(str::to_string),
        host: host.to_string(),
    })
}

/// An identity file must exist (ssh would silently skip a missing one).
pub fn check_identity(path: &Path) -> Result<PathBuf, TargetError> {
    if path.is_file() {
        Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    } else {
        Err(TargetError::NoIdentity(path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_parsed_and_option_lookalikes_refused() {
        assert_eq!(
            parse_destination("postgres@db-b").unwrap(),
            Destination {
                user: Some("postgres".into()),
                host: "db-b".into()
            }
        );
        assert_eq!(parse_destination("db-b").unwrap().user, None);
        assert_eq!(parse_destination("[::1]").unwrap().host, "[::1]");
        for bad in [
            "",
            "-oProxyCommand=x",
            "u@-oProxyCommand=x",
            "a b",
            "u@",
            "@h",
            "a@b@c",
            "h\n",
        ] {
            assert!(parse_destination(bad).is_err(), "{bad:?}");
        }
    }
}
