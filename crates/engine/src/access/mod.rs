//! Access rules travel (issue 14, item 1): the client rules the source admits
//! (`pg_hba_file_rules`, else the copy's `pg_hba.conf.from-source`) compared with the
//! destination's `pg_hba.conf` first-match, as PostgreSQL evaluates it ([`diff`]); the
//! source rules the destination would refuse are written as a marked block at the top of
//! the destination's file ([`block`]), atomically, checked with `pg_hba_file_rules` and
//! reloaded, rolled back on an error line ([`apply`]); undo removes exactly that block.
//! The assessment's `dest.access_rules` and the switchover's `access.rules` guardrail read
//! the same diff.

pub mod apply;
pub mod block;
pub mod diff;
pub mod error;
pub mod read;
pub mod rule;
pub mod service;

pub use error::AccessError;
pub use read::Origin;
pub use service::{
    apply as apply_rules, show, undo, AccessDiff, AccessOutcome, PendingLine, SkippedLine,
};
