//! PostgreSQL's replication protocol, spoken by pgrelocate itself (no `pg_basebackup`).
//!
//! `frame` and `messages` are pure encode/decode functions over bytes; `connection` drives
//! a socket with them; `commands` holds the replication commands other than BASE_BACKUP
//! (which lives in [`crate::backup`]).

pub mod commands;
pub mod connection;
pub mod error;
pub mod frame;
pub mod lsn;
pub mod messages;

pub use commands::{CreatedSlot, SlotName, SlotNameError, SystemIdentity};
pub use connection::{ConnectOptions, ReplicationConnection, ResultSet};
pub use error::{ServerError, WireError};
pub use lsn::Lsn;
