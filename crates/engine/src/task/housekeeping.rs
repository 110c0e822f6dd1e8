//! Housekeeping once the destination is the primary (issue 12, item 6): the steps after
//! promotion that change pgrelocate's own state, not the servers'. They are planned into
//! the task in the same save that marks it `success`, each one's outcome is recorded as it
//! ends, and every step is idempotent, so a process killed in between leaves a record of
//! what is missing and the next command that settles the task (the switchover itself,
//! `task status`/`list`, the app's reads, `task follow`) finishes it.
//!
//! A step that fails is recorded as failed with its error and retried by the next command;
//! the task stays `success` (the destination is the primary whatever happens here).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::{now, Task};
use super::{Inner, TaskError};
use crate::store::tasks;

/// The test-only fault point: with `PGRELOCATE_FAULT=exit-after-success` in its
/// environment, a process exits (code [`FAULT_EXIT_CODE`]) right after it saved a task as
/// `success` and before any housekeeping step, as a process killed at that moment would.
/// Read in this one place; nothing else in the engine injects faults.
pub const FAULT_ENV: &str = "PGRELOCATE_FAULT";

/// The exit code of the fault point.
pub const FAULT_EXIT_CODE: i32 = 86;

/// One step after promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HousekeepingStep {
    /// The destination's stored login becomes the source's account (user, database and
    /// password): its catalog is the source's now, the old login no longer authenticates.
    DestinationLogin,
    /// The destination's former empty data directory, kept aside for a cancel, is removed.
    RemoveAsideDir,
}

impl HousekeepingStep {
    /// Every step, in the order they run.
    pub const ALL: [HousekeepingStep; 2] = [
        HousekeepingStep::DestinationLogin,
        HousekeepingStep::RemoveAsideDir,
    ];

    /// Lower-case words, as the CLI prints them.
    pub fn as_str(self) -> &'static str {
        match self {
            HousekeepingStep::DestinationLogin => "destination_login",
            HousekeepingStep::RemoveAsideDir => "remove_aside_dir",
        }
    }
}

impl std::fmt::Display for HousekeepingStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum HousekeepingState {
    /// Not run yet (or its process stopped while running it).
    Pending,
    /// Done; never run again.
    Done,
    /// The last attempt failed; the next command retries it.
    Failed,
}

/// A step and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HousekeepingEntry {
    /// The step.
    pub step: HousekeepingStep,
    /// Where it is.
    pub state: HousekeepingState,
    /// Why the last attempt failed (no secret ever reaches this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was last attempted (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// How many attempts were made.
    #[serde(default)]
    pub attempts: u32,
}

/// The housekeeping of a task that reached `success`, stored with the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Housekeeping {
    /// Every step, in the order they run.
    pub steps: Vec<HousekeepingEntry>,
}

impl Housekeeping {
    /// Every step pending.
    pub fn planned() -> Housekeeping {
        Housekeeping {
            steps: HousekeepingStep::ALL
                .iter()
                .map(|&step| HousekeepingEntry {
                    step,
                    state: HousekeepingState::Pending,
                    error: None,
                    at: None,
                    attempts: 0,
                })
                .collect(),
        }
    }

    /// Every step is done.
    pub fn is_complete(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.state == HousekeepingState::Done)
    }

    /// The steps still to run, in order.
    pub fn missing(&self) -> Vec<HousekeepingStep> {
        self.steps
            .iter()
            .filter(|s| s.state != HousekeepingState::Done)
            .map(|s| s.step)
            .collect()
    }

    /// The entry of a step.
    pub fn entry(&self, step: HousekeepingStep) -> Option<&HousekeepingEntry> {
        self.steps.iter().find(|s| s.step == step)
    }

    fn record(&mut self, step: HousekeepingStep, outcome: &Result<String, TaskError>) {
        let Some(entry) = self.steps.iter_mut().find(|s| s.step == step) else {
            return;
        };
        entry.attempts += 1;
        entry.at = Some(now());
        match outcome {
            Ok(_) => {
                entry.state = HousekeepingState::Done;
                entry.error = None;
            }
            Err(e) => {
                entry.state = HousekeepingState::Failed;
                entry.error = Some(e.to_string());
            }
        }
    }
}

/// Whether a stored task still has housekeeping to do. Tasks stored before housekeeping was
/// recorded have none: their process ran it in-line, and re-running it now could undo a
/// later change of the destination's login.
pub fn is_missing(task: &Task) -> bool {
    task.housekeeping.as_ref().is_some_and(|h| !h.is_complete())
}

/// Plans the housekeeping into a task about to be saved as `success` (same save, so no
/// process can stop between the two). The standby files are gone with the promotion.
pub(crate) fn plan(task: &mut Task) {
    task.layout.standby_files.clear();
    task.housekeeping = Some(Housekeeping::planned());
}

/// The fault point: see [`FAULT_ENV`].
pub(crate) fn fault_point(name: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|v| v == name) {
        tracing::warn!("fault point {name}: exiting as a killed process would");
        std::process::exit(FAULT_EXIT_CODE);
    }
}

/// Runs the steps the task's record says are missing, recording each outcome in the task
/// (saved after every step). The caller holds the task's lease. Failures are recorded and
/// noted, never returned: the task is `success` either way.
pub(crate) async fn run(inner: &Inner, task: &mut Task) {
    let Some(missing) = task.housekeeping.as_ref().map(Housekeeping::missing) else {
        return;
    };
    for step in missing {
        let outcome = match step {
            HousekeepingStep::DestinationLogin => destination_login(inner, task).await,
            HousekeepingStep::RemoveAsideDir => remove_aside_dir(&task.layout.aside_dir),
        };
        let Some(h) = task.housekeeping.as_mut() else {
            return;
        };
        let before = h.entry(step).map(|e| e.error.clone());
        h.record(step, &outcome);
        // Every reader retries a failed step; the log says it once per distinct error.
        let after = h.entry(step).map(|e| e.error.clone());
        match &outcome {
            Ok(done) => inner.note(&task.id, done.clone()),
            Err(e) if before != after => inner.note(
                &task.id,
                format!("housekeeping step {step} failed (the next command retries it): {e}"),
            ),
            Err(e) => {
                tracing::debug!(task = %task.id, %step, error = %e, "housekeeping retry failed")
            }
        }
        // Saved before the next step, so a stop between steps loses no outcome.
        if let Err(e) = tasks::save(inner.store(), task) {
            tracing::warn!(task = %task.id, error = %e, "cannot save the housekeeping record");
        }
    }
}

/// Stores the source's account as the destination's login. Re-applied as a whole each time
/// (user, database and password), so a stop between its parts leaves nothing half-done.
async fn destination_login(inner: &Inner, task: &Task) -> Result<String, TaskError> {
    let source = inner.instance(&task.source)?;
    let dest = inner.instance(&task.destination)?;
    inner
        .store()
        .set_instance_login(&dest.id, &source.endpoint.user, &source.endpoint.dbname)?;
    if let Some(password) = inner.password(&source).await? {
        inner
            .instances
            .set_password(dest.name.as_str(), &password)
            .await?;
    }
    Ok(format!(
        "the destination instance's login is now {} (the source's account)",
        source.endpoint.user
    ))
}

/// Removes the kept-aside directory: gone already is done, half-removed is finished.
fn remove_aside_dir(aside: &Path) -> Result<String, TaskError> {
    // Not `exists()`: it follows a symlink, and a dangling one would count as removed.
    match std::fs::symlink_metadata(aside) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(format!(
                "the destination's former empty data directory {} is gone",
                aside.display()
            ));
        }
        Err(e) => return Err(TaskError::io("inspect", aside)(e)),
        Ok(meta) if !meta.is_dir() => {
            std::fs::remove_file(aside).map_err(TaskError::io("remove", aside))?;
        }
        Ok(_) => std::fs::remove_dir_all(aside).map_err(TaskError::io("remove", aside))?,
    }
    Ok(format!(
        "removed the destination's former empty data directory {}",
        aside.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_record_is_missing_every_step_until_each_is_done() {
        let mut h = Housekeeping::planned();
        assert_eq!(h.missing(), HousekeepingStep::ALL.to_vec());
        h.record(HousekeepingStep::DestinationLogin, &Ok("ok".into()));
        h.record(
            HousekeepingStep::RemoveAsideDir,
            &Err(TaskError::Inconsistent("busy".into())),
        );
        assert_eq!(h.missing(), vec![HousekeepingStep::RemoveAsideDir]);
        let failed = &h.steps[1];
        assert_eq!(
            (failed.state, failed.error.as_deref(), failed.attempts),
            (HousekeepingState::Failed, Some("busy"), 1)
        );
        h.record(HousekeepingStep::RemoveAsideDir, &Ok("ok".into()));
        assert!(h.is_complete());
        assert_eq!((h.steps[1].attempts, &h.steps[1].error), (2, &None));
    }

    #[test]
    fn removing_the_aside_directory_finishes_a_partial_removal_and_accepts_none() {
        let dir = tempfile::tempdir().unwrap();
        let aside = dir.path().join("d.pgrelocate-x-empty");
        std::fs::create_dir_all(aside.join("base/1")).unwrap();
        std::fs::write(aside.join("base/1/112"), b"x").unwrap();
        std::fs::write(aside.join("PG_VERSION"), b"16").unwrap();
        // Half-removed: part of the tree is gone already.
        std::fs::remove_file(aside.join("PG_VERSION")).unwrap();
        remove_aside_dir(&aside).unwrap();
        assert!(std::fs::symlink_metadata(&aside).is_err());
        assert!(remove_aside_dir(&aside).unwrap().contains("is gone"));
    }

    #[test]
    fn a_stored_record_loads_with_defaults_and_names_what_is_missing() {
        let h: Housekeeping = serde_json::from_str(
            r#"{"steps":[{"step":"destination_login","state":"done"},{"step":"remove_aside_dir","state":"pending"}]}"#,
        )
        .unwrap();
        assert_eq!(h.missing(), vec![HousekeepingStep::RemoveAsideDir]);
        assert_eq!(h.steps[0].attempts, 0);
    }
}
