//! The shared vocabulary: pure value types every layer speaks, with no service behind them —
//! where a server is and how to reach it ([`endpoint`]), which version it runs and what differs
//! between majors ([`version`]), TLS settings with libpq's `sslmode` semantics ([`tls`]) and
//! which authentication methods a server may ask for ([`require_auth`]).
//!
//! The crate root re-exports each module (`crate::endpoint`, `crate::version`, …), so paths
//! stay short; this module is where they live.

pub mod endpoint;
pub mod require_auth;
pub mod tls;
pub mod version;
