//! pgrelocate's lower layer, split from the engine as postgres-protocol is from tokio-postgres:
//! PostgreSQL's replication protocol ([`wire`]: pure framing and decoding plus a connection
//! driver), the base backup's streamers ([`backup`]: receive → decompress → tar → extract →
//! manifest verify), the socket both clients open ([`dial`]) and the vocabulary they speak
//! ([`vocab`]: endpoints, versions, TLS, `require_auth`; [`Password`]; the stable
//! [`ErrorCode`]s every pgrelocate error carries).
//!
//! Nothing here knows instances, the state store, tasks or the shells; the engine
//! (`pgrelocate-engine`) re-exports these modules under the same paths.

pub mod backup;
pub mod dial;
pub mod error_code;
mod password;
pub mod vocab;
pub mod wire;

pub use vocab::{endpoint, require_auth, tls, version};

pub use endpoint::{Endpoint, SslMode};
pub use error_code::{Coded, ErrorCode};
pub use password::Password;
pub use version::ServerVersion;
