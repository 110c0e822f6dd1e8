//! pgrelocate engine: everything a DBA cares about, with no dependency on the desktop shell.
//!
//! The CLI (`crates/cli`) and the desktop app (`src-tauri/`) are thin layers over this crate.

pub mod access;
pub mod agent;
pub mod assess;
pub mod home;
pub mod host;
pub mod inspect;
pub mod instances;
pub mod preparation;
pub use pgrelocate_quote as quote;
pub mod retirement;
pub mod sandbox;
pub mod secrets;
pub mod server;
pub mod sql;
pub mod standby_role;
pub mod store;
pub mod switchover;
pub mod task;
pub mod vocab;

pub use pgrelocate_replication::{backup, dial, error_code, wire};
pub use vocab::{endpoint, port_range, require_auth, tls, version};

pub use endpoint::{Endpoint, SslMode};
pub use error_code::{Coded, ErrorCode};
pub use secrets::Password;
pub use version::ServerVersion;

/// The engine's version, shown by the CLI and the desktop app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
