//! What any reader of a task settles when no process drives it, so `task status`, `task
//! list` and the app tell the truth without a follower:
//!
//! - a task left in `startup` (its process stopped between moving the empty destination
//!   aside and starting the standby) is finished: the step is idempotent, so the reader
//!   runs it with a short connection wait. The data directory is in place again at once;
//!   when the standby does not connect within that wait, the task stays in `startup` with
//!   the standby started, and the next reader or `task follow` goes on.
//! - a task in `success` whose housekeeping after promotion is missing (its process stopped
//!   after saving the task as `success`) has the missing steps run: each is idempotent and
//!   recorded (see [`super::housekeeping`]), a failed one is retried by the next reader.
//! - a task in `increment` whose newest sample is older than a few sample periods is
//!   sampled from the servers now: a stopped source shows as `disconnect`, not as the
//!   `streaming` of the last sample a follower stored before it quit.
//!
//! A reader acts only under the task's lease, so it never races a driver; when another
//! process holds the lease, the stored figures are fresh by definition.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::event::{EventKind, TaskEvent};
use super::housekeeping::{self, HousekeepingState};
use super::model::{Phase, Task, TaskId};
use super::monitor::Monitor;
use super::{Inner, TaskError};
use crate::store::{events, leases};

/// A sample this much older than the sample period is stale (a driver would have stored a
/// newer one).
const STALE_PERIODS: u32 = 3;

/// The shortest age at which a sample counts as stale, whatever the period.
const STALE_FLOOR: Duration = Duration::from_secs(10);

/// Runs `work` under the task's lease when nobody else holds it; `None` when somebody does.
async fn under_lease<T>(
    inner: &Arc<Inner>,
    id: &TaskId,
    work: impl std::future::Future<Output = Result<T, TaskError>>,
) -> Result<Option<T>, TaskError> {
    if inner.driving(id) {
        return Ok(None);
    }
    if leases::lease(inner.store(), id)?.is_some_and(|l| !l.is_stale()) {
        return Ok(None);
    }
    if leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)?.is_err() {
        return Ok(None);
    }
    let result = work.await;
    let _ = leases::release_lease(inner.store(), id, &inner.me);
    result.map(Some)
}

/// Finishes a task that was interrupted in `startup`, within a wait shorter than the lease.
pub(crate) async fn startup(inner: &Arc<Inner>, id: &TaskId) -> Result<Task, TaskError> {
    let task = inner.get(id)?;
    if task.phase != Phase::Startup {
        return Ok(task);
    }
    // Stay well inside the lease, which this reader does not renew.
    let wait = inner.settings.lease_ttl * 2 / 3;
    let settled = under_lease(inner, id, async {
        let mut task = inner.get(id)?;
        if task.phase != Phase::Startup {
            return Ok(());
        }
        inner.note(
            id,
            "the task was left in startup by a process that stopped; finishing the step",
        );
        match super::startup::finish_startup(inner, &mut task, &CancellationToken::new(), wait)
            .await
        {
            Ok(()) => Ok(()),
            Err(TaskError::StandbyDidNotConnect { .. }) => {
                inner.note(
                    id,
                    format!(
                        "the standby is in place and started but did not connect within {} s; \
                         `task follow` waits for it",
                        wait.as_secs()
                    ),
                );
                Ok(())
            }
            Err(e) => {
                // A reader reports; it does not roll back what a driver may still complete.
                inner.note(id, format!("could not finish startup: {e}"));
                Ok(())
            }
        }
    })
    .await?;
    if settled.is_none() {
        tracing::debug!(task = %id, "startup is being finished by another process");
    }
    inner.get(id)
}

/// Runs the housekeeping steps a task in `success` is missing (a process that stopped after
/// promotion, or a step that failed).
pub(crate) async fn housekeeping(inner: &Arc<Inner>, id: &TaskId) -> Result<Task, TaskError> {
    let task = inner.get(id)?;
    if task.phase != Phase::Success || !housekeeping::is_missing(&task) {
        return Ok(task);
    }
    under_lease(inner, id, async {
        let mut task = inner.get(id)?;
        let Some(missing) = task.housekeeping.as_ref().map(|h| h.missing()) else {
            return Ok(());
        };
        if missing.is_empty() {
            return Ok(());
        }
        // Said for what a stopped process left; a failed step's retries are not news.
        let interrupted: Vec<&str> = task
            .housekeeping
            .iter()
            .flat_map(|h| &h.steps)
            .filter(|e| e.state == HousekeepingState::Pending)
            .map(|e| e.step.as_str())
            .collect();
        if !interrupted.is_empty() {
            inner.note(
                id,
                format!(
                    "housekeeping after promotion was not finished ({}); running it now",
                    interrupted.join(", ")
                ),
            );
        }
        housekeeping::run(inner, &mut task).await;
        Ok(())
    })
    .await?;
    inner.get(id)
}

/// Whether a sample stored at `at` (RFC 3339) is too old to stand for the servers now.
pub(crate) fn is_stale(at: &str, period: Duration) -> bool {
    let Ok(taken) = at.parse::<jiff::Timestamp>() else {
        return true;
    };
    let age = jiff::Timestamp::now().duration_since(taken);
    let limit = (period * STALE_PERIODS).max(STALE_FLOOR);
    age.unsigned_abs() > limit
}

/// The task's latest sample event, read from the servers now when the stored one is stale
/// and no process drives the task (`true`: it is that live sample).
pub(crate) async fn latest_sample(
    inner: &Arc<Inner>,
    task: &Task,
) -> Result<(Option<TaskEvent>, bool), TaskError> {
    let stored = events::latest_event(inner.store(), &task.id, "sample")?;
    let stale = stored
        .as_ref()
        .is_none_or(|e| is_stale(&e.at, inner.settings.sample_interval));
    if task.phase == Phase::Increment && stale {
        if let Some(fresh) = sample_now(inner, &task.id).await? {
            return Ok((Some(fresh), true));
        }
    }
    Ok((stored, false))
}

/// Samples a task in `increment` from the servers now, records the sample and any change
/// of the replication state, and returns the stored sample event. `None` when another
/// process drives the task (its samples are the fresh ones).
pub(crate) async fn sample_now(
    inner: &Arc<Inner>,
    id: &TaskId,
) -> Result<Option<TaskEvent>, TaskError> {
    under_lease(inner, id, async {
        let mut task = inner.get(id)?;
        if task.phase != Phase::Increment {
            return Ok(None);
        }
        let mut monitor = Monitor::new(super::increment::monitor_target(inner, &task).await?);
        let sample = monitor.sample().await;
        inner.observe(&mut task, sample.state())?;
        inner
            .emit(id, EventKind::Sample(Box::new(sample)))
            .map(Some)
    })
    .await
    .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_stale_after_a_few_periods_and_never_before_the_floor() {
        let ago = |secs: i64| {
            (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs)).to_string()
        };
        let period = Duration::from_secs(5);
        assert!(!is_stale(&ago(1), period));
        assert!(!is_stale(&ago(14), period));
        assert!(is_stale(&ago(16), period));
        // A short test period does not make every sample stale at once.
        assert!(!is_stale(&ago(5), Duration::from_millis(200)));
        assert!(is_stale(&ago(11), Duration::from_millis(200)));
        assert!(is_stale("not a time", period));
    }
}
