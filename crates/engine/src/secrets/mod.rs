//! Credentials: the [`Password`] type and where passwords are kept.

mod password;

pub use password::Password;
