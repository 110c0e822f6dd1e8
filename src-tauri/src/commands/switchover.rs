//! The Switchover and Failover dialogs: guardrails evaluated fresh, then the operation run
//! in the background with every step streamed; a reloaded page re-subscribes by task id.

use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::switchover::{
    FailoverPreview, FailoverReport, FenceStrategy, Hook, Options, Preview, Progress,
    SwitchoverError, SwitchoverReport,
};
use pgrelocate_engine::task::{TaskError, Tasks};
use pgrelocate_engine::{Coded, ErrorCode};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{CommandError, ErrorBody};
use crate::jobs::Job;
use crate::state::Console;

/// Longest catch-up timeout the dialog accepts (a day).
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// What a switchover or failover streams, in order: steps, then one outcome.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum SwitchEvent {
    /// A step as it happens (guardrails, fence, catch-up, promotion, verification, …).
    Step(Progress),
    /// The switchover succeeded: the report with the measured window.
    Succeeded(Box<SwitchoverReport>),
    /// The failover succeeded.
    FailoverSucceeded(Box<FailoverReport>),
    /// Rolled back before promotion: the source takes writes again.
    RolledBack {
        /// What made it roll back (the cause's code, e.g. `catchup_timeout`).
        cause: ErrorCode,
        /// Why.
        reason: String,
        /// The whole message.
        message: String,
    },
    /// Refused by a guardrail, or failed.
    Failed(ErrorBody),
}

/// The guardrails, freshly evaluated, every fence with its guarantee and availability, and
/// the one that would be used (`strategy`, when given and available; else the strongest).
/// Changes nothing.
#[tauri::command]
pub async fn switchover_preview(
    console: State<'_, Console>,
    id: String,
    strategy: Option<FenceStrategy>,
) -> Result<Preview, CommandError> {
    let options = Options {
        strategy,
        ..Options::default()
    };
    Ok(console.tasks()?.switchover_preview(&id, &options).await?)
}

/// Starts the switchover of task `id` with a catch-up timeout, the fence chosen (`None`:
/// the strongest available; an unavailable one is refused with `fence_unavailable`) and the
/// endpoint hook, if any; its steps go to `on_event`.
#[tauri::command]
pub async fn switchover_start(
    console: State<'_, Console>,
    id: String,
    timeout_secs: u64,
    strategy: Option<FenceStrategy>,
    hook: Option<Hook>,
    on_event: Channel<SwitchEvent>,
) -> Result<(), CommandError> {
    if !(1..=MAX_TIMEOUT_SECS).contains(&timeout_secs) {
        return Err(CommandError::Invalid(format!(
            "the catch-up timeout must be between 1 and {MAX_TIMEOUT_SECS} seconds"
        )));
    }
    let hook = match hook {
        Some(h) => Some(
            Hook::new(&h.command, h.timeout(), h.at)
                .map_err(|e| CommandError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    let tasks = console.tasks()?;
    let task = tasks.get(&id)?;
    let job = console.switches.start_keyed(task.id.as_str())?;
    job.subscribe(Box::new(on_event));
    tracing::info!(task = %task.id, timeout_secs, ?strategy, "switchover requested from the console");
    let options = Options {
        catchup_timeout: Duration::from_secs(timeout_secs),
        strategy,
        hook,
        ..Options::default()
    };
    tauri::async_runtime::spawn(async move {
        let steps = step_recorder(&job);
        let outcome = match tasks.switchover(task.id.as_str(), &options, &steps).await {
            Ok(report) => SwitchEvent::Succeeded(Box::new(report)),
            Err(e) => failure(e),
        };
        job.finish(outcome);
    });
    Ok(())
}

/// What a failover of task `id` would cost, read now: the source's answer, the
/// destination's positions and times, the estimated loss. Changes nothing.
#[tauri::command]
pub async fn failover_preview(
    console: State<'_, Console>,
    id: String,
) -> Result<FailoverPreview, CommandError> {
    Ok(console.tasks()?.failover_preview(&id).await?)
}

/// Starts the failover of task `id` (promote without the source); steps go to `on_event`.
#[tauri::command]
pub async fn failover_start(
    console: State<'_, Console>,
    id: String,
    on_event: Channel<SwitchEvent>,
) -> Result<(), CommandError> {
    let tasks: Tasks = console.tasks()?;
    let task = tasks.get(&id)?;
    let job = console.switches.start_keyed(task.id.as_str())?;
    job.subscribe(Box::new(on_event));
    tracing::info!(task = %task.id, "failover requested from the console");
    tauri::async_runtime::spawn(async move {
        let steps = step_recorder(&job);
        let outcome = match tasks.failover(task.id.as_str(), &steps).await {
            Ok(report) => SwitchEvent::FailoverSucceeded(Box::new(report)),
            Err(e) => failure(e),
        };
        job.finish(outcome);
    });
    Ok(())
}

/// Re-subscribes a page to the latest switchover or failover of task `id` started here:
/// every step so far, then the live ones.
#[tauri::command]
pub fn switchover_watch(
    console: State<'_, Console>,
    id: String,
    on_event: Channel<SwitchEvent>,
) -> Result<(), CommandError> {
    let task = console.tasks()?.get(&id)?;
    let job = console
        .switches
        .get(task.id.as_str())
        .ok_or_else(|| CommandError::NoSuchJob(task.id.to_string()))?;
    job.subscribe(Box::new(on_event));
    Ok(())
}

fn step_recorder(job: &Arc<Job<SwitchEvent>>) -> impl Fn(&Progress) + Send + Sync + 'static {
    let job = job.clone();
    move |p: &Progress| job.publish(SwitchEvent::Step(p.clone()))
}

/// The outcome event of a failed operation.
fn failure(e: TaskError) -> SwitchEvent {
    match &e {
        TaskError::Switchover(SwitchoverError::RolledBack { reason }) => SwitchEvent::RolledBack {
            cause: reason.code(),
            reason: reason.to_string(),
            message: e.to_string(),
        },
        _ => SwitchEvent::Failed(CommandError::from(e).body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgrelocate_engine::switchover::catchup::CatchupError;
    use pgrelocate_engine::switchover::AbortCause;

    #[test]
    fn a_rollback_says_why_and_that_the_source_takes_writes_again() {
        let event = failure(TaskError::Switchover(SwitchoverError::RolledBack {
            reason: Box::new(AbortCause::Catchup(CatchupError::Timeout {
                secs: 300,
                target: "0/3000060".parse().unwrap(),
                replayed: "0/3000000".parse().unwrap(),
                remaining: 96,
            })),
        }));
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["event"], "rolled_back");
        assert_eq!(json["data"]["cause"], "catchup_timeout");
        assert!(json["data"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("the destination did not catch up within 300 s"));
        assert!(json["data"]["message"]
            .as_str()
            .unwrap()
            .contains("the source accepts writes again"));
    }

    #[test]
    fn a_step_crosses_ipc_with_the_engines_step_tag_inside() {
        let json = serde_json::to_value(SwitchEvent::Step(Progress::CatchUp {
            target_lsn: "0/3000060".parse().unwrap(),
            received_lsn: None,
            replayed_lsn: None,
            remaining_bytes: 8192,
        }))
        .unwrap();
        assert_eq!(json["event"], "step");
        assert_eq!(json["data"]["step"], "catch_up");
        assert_eq!(json["data"]["remaining_bytes"], 8192);
    }

    #[test]
    fn a_refused_switchover_fails_with_the_guardrail_code() {
        let event = failure(TaskError::Switchover(SwitchoverError::Guardrails {
            checks: vec![pgrelocate_engine::switchover::Guardrail::new(
                "replication.lag",
                "Replication lag",
                pgrelocate_engine::switchover::GuardrailStatus::Error,
                "900 MiB behind",
            )],
        }));
        let json = serde_json::to_value(event).unwrap();
        assert_eq!(json["event"], "failed");
        assert_eq!(json["data"]["code"], "guardrail_failed");
        assert!(json["data"]["message"]
            .as_str()
            .unwrap()
            .contains("Replication lag (900 MiB behind)"));
    }
}
