//! A password that never prints.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A password. `Debug` shows `Password(***)`; there is no `Display` and no `Serialize`, so it
/// cannot reach a log line, an error message, a store row, an event or a report by accident.
/// The memory is zeroed when dropped.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Password(SecretString::from(value.into()))
    }

    /// The clear text, for the one place that needs it (authentication, the keyring, a
    /// passfile). Keep the borrow short.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the password is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Password {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Password::new("s3cr'et\\pw");
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert_eq!(format!("{:?}", Some(&p)), "Some(Password(***))");
        assert_eq!(p.expose(), "s3cr'et\\pw");
    }
}
