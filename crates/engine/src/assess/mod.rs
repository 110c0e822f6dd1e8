//! Feasibility assessment: the check catalogue, how checks run, the report and its exports.

mod assessment;
pub mod check;
pub mod checks;
pub mod context;
pub mod export;
pub mod freshness;
pub mod host;
pub mod model;
pub mod queries;
pub mod remedy;
mod remote;
pub mod runner;

pub(crate) use assessment::assess_here;
pub use assessment::{assess, destination_prerequisites, AssessError, AssessRequest};
pub use check::{Check, CheckSpec, Outcome};
pub use checks::default_tablespace_target;
pub use context::Options;
pub use freshness::{freshness, Freshness};
pub use model::{CheckResult, Group, Level, Mode, Report, Status, Verdict};
