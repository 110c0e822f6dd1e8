//! TypeScript declarations of everything the UI reads over IPC, generated from the Rust
//! types with ts-rs into `ui/api/generated/` (committed). A test regenerates them into a
//! temporary folder and fails when the committed copy drifted.
//!
//! Regenerate: `PGRELOCATE_UPDATE_BINDINGS=1 cargo nextest run -p pgrelocate-desktop --lib bindings`.

use std::path::{Path, PathBuf};

use pgrelocate_engine::access::{AccessDiff, AccessOutcome};
use pgrelocate_engine::agent::Facts;
use pgrelocate_engine::assess::export::Format;
use pgrelocate_engine::assess::{Freshness, Report};
use pgrelocate_engine::host::{AddHostRequest, AgentPlacement, HostCheck, HostKey, HostProgress};
use pgrelocate_engine::inspect::{LogTail, Parameter};
use pgrelocate_engine::instances::{Removal, Started};
use pgrelocate_engine::preparation::SourceChecklist;
use pgrelocate_engine::sandbox::SandboxPlan;
use pgrelocate_engine::server::Installation;
use pgrelocate_engine::store::{HostRecord, InstanceRecord};
use pgrelocate_engine::switchover::{FailoverPreview, Outcome, Preview};
use pgrelocate_engine::task::history::{LagHistory, Period};
use pgrelocate_engine::task::{Task, TaskEvent, TaskStatus};
use pgrelocate_engine::ErrorCode;
use ts_rs::{Config, ExportError, TS};

use crate::commands::assessments::{AssessmentEvent, AssessmentRow};
use crate::commands::credentials::Credential;
use crate::commands::instances::{AdoptInput, ConnectionInput, InstanceList};
use crate::commands::switchover::SwitchEvent;
use crate::commands::tasks::{EventPage, TaskStream};
use crate::commands::AppInfo;
use crate::error::ErrorBody;

/// The committed folder, relative to the repository root.
pub const GENERATED_DIR: &str = "ui/api/generated";

/// Writes the declaration of every IPC type (and of each type it uses) into `dir`, one file
/// per type.
pub fn export(dir: &Path) -> Result<(), ExportError> {
    // JSON numbers are JavaScript numbers: no u64 reaches 2^53 here (bytes, ms, LSNs are
    // strings), so `number` rather than ts-rs's default `bigint`.
    let cfg = Config::new().with_out_dir(dir).with_large_int("number");
    ErrorCode::export_all(&cfg)?;
    ErrorBody::export_all(&cfg)?;
    Outcome::export_all(&cfg)?;
    Task::export_all(&cfg)?;
    TaskStatus::export_all(&cfg)?;
    LagHistory::export_all(&cfg)?;
    Period::export_all(&cfg)?;
    EventPage::export_all(&cfg)?;
    TaskEvent::export_all(&cfg)?;
    TaskStream::export_all(&cfg)?;
    Preview::export_all(&cfg)?;
    FailoverPreview::export_all(&cfg)?;
    SwitchEvent::export_all(&cfg)?;
    Report::export_all(&cfg)?;
    SourceChecklist::export_all(&cfg)?;
    AssessmentEvent::export_all(&cfg)?;
    AssessmentRow::export_all(&cfg)?;
    Format::export_all(&cfg)?;
    InstanceList::export_all(&cfg)?;
    Started::export_all(&cfg)?;
    InstanceRecord::export_all(&cfg)?;
    Installation::export_all(&cfg)?;
    ConnectionInput::export_all(&cfg)?;
    AdoptInput::export_all(&cfg)?;
    Credential::export_all(&cfg)?;
    Parameter::export_all(&cfg)?;
    LogTail::export_all(&cfg)?;
    Removal::export_all(&cfg)?;
    AppInfo::export_all(&cfg)?;
    HostRecord::export_all(&cfg)?;
    HostCheck::export_all(&cfg)?;
    HostProgress::export_all(&cfg)?;
    AddHostRequest::export_all(&cfg)?;
    HostKey::export_all(&cfg)?;
    AgentPlacement::export_all(&cfg)?;
    Facts::export_all(&cfg)?;
    SandboxPlan::export_all(&cfg)?;
    Freshness::export_all(&cfg)?;
    AccessDiff::export_all(&cfg)?;
    AccessOutcome::export_all(&cfg)?;
    Ok(())
}

/// The committed folder in this checkout.
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED_DIR)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn files(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "ts") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
        out
    }

    #[test]
    fn the_committed_typescript_bindings_match_the_rust_types() {
        let fresh = tempfile::tempdir().unwrap();
        export(fresh.path()).unwrap();
        let committed = committed_dir();
        if std::env::var_os("PGRELOCATE_UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            export(&committed).unwrap();
            return;
        }
        let (want, have) = (files(fresh.path()), files(&committed));
        let drifted: Vec<&String> = want
            .keys()
            .chain(have.keys())
            .filter(|name| want.get(*name) != have.get(*name))
            .collect();
        assert!(
            drifted.is_empty(),
            "{GENERATED_DIR} is out of date with the Rust types ({drifted:?} differ): \
             regenerate it with `PGRELOCATE_UPDATE_BINDINGS=1 cargo nextest run -p \
             pgrelocate-desktop --lib bindings` and commit the result"
        );
    }
}
