//! Migration to Cloud and DR Construction: task tables, create, cancel, retry, and a task's
//! event stream (stored history first, then live events) for the details page.

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::backup::{Compression, MaxRate, TablespaceMapping};
use pgrelocate_engine::task::history::{LagHistory, Period};
use pgrelocate_engine::task::{CopyOptions, Task, TaskEvent, TaskRequest, TaskStatus};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// What a task's channel carries.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum TaskStream {
    /// A stored event (phase, replication, copy progress, lag sample, note, warning, error).
    TaskEvent(TaskEvent),
}

/// Every task with its driver and latest progress or sample, newest first.
#[tauri::command]
pub async fn task_list(console: State<'_, Console>) -> Result<Vec<TaskStatus>, CommandError> {
    let tasks = console.tasks()?;
    let mut out = Vec::new();
    for task in tasks.list()? {
        let status = match tasks.status(task.id.as_str()).await {
            Ok(s) => s,
            // A host that is away: its task is listed as last read from it.
            Err(e) if matches!(tasks.host_of_task(&task.id), Ok(Some(_))) => {
                tracing::warn!(task = %task.id, error = %e, "task's host unreachable");
                TaskStatus::as_stored(task)
            }
            Err(e) => return Err(e.into()),
        };
        out.push(status);
    }
    Ok(out)
}

/// One task with its driver and latest progress or sample.
#[tauri::command]
pub async fn task_status(
    console: State<'_, Console>,
    id: String,
) -> Result<TaskStatus, CommandError> {
    Ok(console.tasks()?.status(&id).await?)
}

/// What Create Cloud Migration Task / Create DR Construction Task sends.
#[derive(Debug, Deserialize)]
pub struct TaskInput {
    /// Source instance.
    pub source: String,
    /// Destination instance.
    pub destination: String,
    /// Scenario.
    pub mode: Mode,
    /// The successful assessment to start from.
    pub report_id: String,
    /// Throttle, e.g. `100M` (bytes per second).
    #[serde(default)]
    pub max_rate: Option<String>,
    /// Server-side compression (15+).
    #[serde(default)]
    pub compression: Compression,
    /// Where each source tablespace goes on this host.
    #[serde(default)]
    pub tablespace_mappings: Vec<TablespaceMapping>,
}

/// Creates a task from a successful assessment and starts driving it here.
#[tauri::command]
pub async fn task_create(
    console: State<'_, Console>,
    request: TaskInput,
) -> Result<Task, CommandError> {
    let max_rate = match request.max_rate.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(
            text.parse::<MaxRate>()
                .map_err(|e| CommandError::Invalid(e.to_string()))?,
        ),
        _ => None,
    };
    if let Some(m) = request
        .tablespace_mappings
        .iter()
        .find(|m| !m.old.is_absolute() || !m.new.is_absolute())
    {
        return Err(CommandError::Invalid(format!(
            "tablespace mapping {} → {} needs two absolute paths",
            m.old.display(),
            m.new.display()
        )));
    }
    Ok(console
        .tasks()?
        .create(TaskRequest {
            source: request.source,
            dest: request.destination,
            mode: request.mode,
            report_id: Some(request.report_id),
            options: CopyOptions {
                tablespace_mappings: request.tablespace_mappings,
                max_rate,
                compression: request.compression,
                ..CopyOptions::default()
            },
        })
        .await?)
}

/// Cancels a task before switchover (the destination is restored, the slot dropped).
#[tauri::command]
pub async fn task_cancel(console: State<'_, Console>, id: String) -> Result<Task, CommandError> {
    Ok(console.tasks()?.cancel(&id).await?)
}

/// Starts a failed task again from precheck.
#[tauri::command]
pub async fn task_retry(console: State<'_, Console>, id: String) -> Result<Task, CommandError> {
    Ok(console.tasks()?.retry(&id).await?)
}

/// The way back: the old source of a switched- or failed-over task becomes a standby of the
/// new primary (followed directly, or after pg_rewind) under a new reverse task, returned
/// once its standby connected.
#[tauri::command]
pub async fn task_reverse(console: State<'_, Console>, id: String) -> Result<Task, CommandError> {
    Ok(console.tasks()?.reverse(&id).await?)
}

/// Streams a task's stored events after `after`, then its live ones, to `on_event`.
/// Returns the subscription's id for `task_unwatch`.
#[tauri::command]
pub async fn task_watch(
    console: State<'_, Console>,
    id: String,
    after: i64,
    on_event: Channel<TaskStream>,
) -> Result<u64, CommandError> {
    let tasks = console.tasks()?;
    let task = tasks.get(&id)?;
    let mut watch = tasks.watch(&task.id, after)?;
    let forwarder = tokio::spawn(async move {
        while let Some(event) = watch.recv().await {
            if on_event.send(TaskStream::TaskEvent(event)).is_err() {
                return;
            }
        }
    });
    Ok(console.watches.add(forwarder))
}

/// A page of a task's event log, newest first, and where live events start.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct EventPage {
    /// The events (samples left out: the chart reads `task_lag`), newest first.
    pub events: Vec<TaskEvent>,
    /// The newest stored event's `seq` of any kind: `task_watch` from here sends only what
    /// is new, so an old task's page never replays its history.
    pub newest_seq: i64,
}

/// The newest `limit` events before `before` (none: the newest of all), newest first.
#[tauri::command]
pub async fn task_events_before(
    console: State<'_, Console>,
    id: String,
    before: Option<i64>,
    limit: usize,
) -> Result<EventPage, CommandError> {
    let tasks = console.tasks()?;
    let task = tasks.get(&id)?;
    Ok(EventPage {
        newest_seq: tasks.newest_seq(&task.id)?,
        events: tasks.events_before(&task.id, before, limit.min(1000), false)?,
    })
}

/// The task's lag over a period ending now, from the finest stored resolution covering it.
#[tauri::command]
pub async fn task_lag(
    console: State<'_, Console>,
    id: String,
    period: Period,
) -> Result<LagHistory, CommandError> {
    let tasks = console.tasks()?;
    let task = tasks.get(&id)?;
    Ok(tasks.lag(&task.id, period)?)
}

/// Ends a subscription (the page left).
#[tauri::command]
pub fn task_unwatch(console: State<'_, Console>, watch: u64) {
    console.watches.remove(watch);
}
