//! The agent: the same `pgrelocate` binary run on a remote host (`pgrelocate agent --stdio`,
//! started over the host's SSH connection), answering typed requests from the workstation.
//!
//! - [`protocol`]: the frames both sides exchange, one JSON object per line, versioned.
//! - [`serve`]: the agent's side — reads requests on stdin, answers on stdout.
//! - [`client`]: the workstation's side — starts the agent and calls it.
//! - [`binary`]: which local file is the agent uploaded to a host.

pub mod assess;
pub mod binary;
pub mod client;
pub mod instances;
pub mod protocol;
pub mod serve;
pub mod tasks;

pub use client::{AgentClient, AgentError};
pub use protocol::{Facts, Hello, Request, PROTOCOL};
