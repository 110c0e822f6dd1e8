//! Feasibility assessment: the check catalogue, how checks run, the report and its exports.

pub mod check;
pub mod export;
pub mod model;
pub mod runner;

pub use check::{Check, CheckSpec, Outcome};
pub use model::{CheckResult, Group, Level, Mode, Report, Status, Verdict};
