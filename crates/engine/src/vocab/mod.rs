//! The shared vocabulary: pure value types every layer speaks, with no service behind them —
//! where a server is and how to reach it ([`endpoint`]), which version it runs and what differs
//! between majors ([`version`]), TLS settings with libpq's `sslmode` semantics ([`tls`]), which
//! authentication methods a server may ask for ([`require_auth`]) and the ports new managed
//! instances take ([`port_range`]).
//!
//! All but `port_range` live in `pgrelocate-replication` (the protocol layer speaks them too)
//! and are re-exported here. The crate root re-exports each module (`crate::endpoint`,
//! `crate::version`, …), so paths stay short and callers do not change.

pub mod port_range;
pub use pgrelocate_replication::vocab::{endpoint, require_auth, tls, version};
