//! The engine integration tests' one environment, included by each test with `mod support;`:
//! a state directory with the real services over it ([`env`]), what tests do with servers
//! ([`servers`]), pgbench load ([`load`]), files a task leaves ([`files`]), a switchover's
//! source and steps ([`switchover`]), assertions on reports ([`reports`]) and the
//! replication-protocol tests' endpoints, certificates and standbys ([`protocol`]).
// Each test uses part of it.
#![allow(dead_code)]

pub mod env;
pub mod files;
pub mod load;
pub mod protocol;
pub mod reports;
pub mod servers;
pub mod switchover;

// One flat namespace for the tests (`use support::*`); each uses a part.
#[allow(unused_imports)]
pub use env::*;
#[allow(unused_imports)]
pub use files::*;
#[allow(unused_imports)]
pub use load::*;
#[allow(unused_imports)]
pub use protocol::*;
#[allow(unused_imports)]
pub use reports::*;
#[allow(unused_imports)]
pub use servers::*;
#[allow(unused_imports)]
pub use switchover::*;
