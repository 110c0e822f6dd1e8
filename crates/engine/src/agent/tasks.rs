//! Tasks on the destination's host: the agent starts each task's driver as a process of its
//! own (a new session, so the SSH channel closing does not end it) and answers reads from
//! its store. The workstation mirrors what it reads.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use tokio::process::{Child, ChildStdout};
use tokio_util::sync::CancellationToken;

use super::protocol::{
    Passwords, RemoteOperate, RemoteTask, RemoteTaskRead, Secret, TaskOperation, TaskView,
};
use crate::instances::{InstanceError, Instances};
use crate::secrets::memory::Memory;
use crate::secrets::CredentialStore;
use crate::store::leases;
use crate::store::{InstanceId, InstanceRecord};
use crate::switchover::Progress;
use crate::task::{Phase, Task, TaskError, TaskId, TaskRequest, Tasks};
use crate::{Coded, ErrorCode};

/// What the agent hands a driver it starts, on the driver's stdin.
#[derive(Debug, Serialize, Deserialize)]
pub struct DriveOrder {
    /// The task to create and drive.
    pub request: TaskRequest,
    /// Passwords by instance id, kept in the driver's memory only.
    pub passwords: Vec<(InstanceId, Secret)>,
}

/// The driver's first (and only) line on stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveStarted {
    /// The task was created; the driver goes on.
    Created(Box<Task>),
    /// It could not be created.
    Refused { code: ErrorCode, message: String },
}

/// The host's instances with `passwords` in memory.
pub(super) fn instances_with(
    passwords: &[(InstanceId, Secret)],
) -> Result<Instances, InstanceError> {
    let dir = crate::home::state_dir()?;
    let memory = Arc::new(Memory::default());
    for (id, secret) in passwords {
        memory.save(id, &secret.password())?;
    }
    Instances::with_credentials(&dir, Ok(memory as Arc<dyn CredentialStore>))
}

fn by_id(
    source: &InstanceRecord,
    dest: &InstanceRecord,
    passwords: &Passwords,
) -> Vec<(InstanceId, Secret)> {
    let mut out = Vec::new();
    if let Some(p) = &passwords.source {
        out.push((source.id.clone(), p.clone()));
    }
    if let Some(p) = &passwords.dest {
        out.push((dest.id.clone(), p.clone()));
    }
    out
}

/// Starts the task's driver on this host and returns the created task.
pub async fn create(req: RemoteTask) -> Result<TaskView, TaskError> {
    let instances = instances_with(&[])?;
    let source = instances
        .store()
        .upsert_external(&req.source)
        .map_err(InstanceError::from)?;
    let dest = instances
        .store()
        .instance_by_name(&req.request.dest)
        .map_err(InstanceError::from)?;
    let order = DriveOrder {
        passwords: by_id(&source, &dest, &req.passwords),
        request: TaskRequest {
            source: source.name.to_string(),
            ..req.request
        },
    };
    let (child, mut stdout, log) = spawn_detached(&instances, "--drive", &order).await?;
    let mut child = child;
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .await
        .map_err(|source| TaskError::Io {
            op: "read from",
            path: log.clone(),
            source,
        })?;
    match serde_json::from_str::<DriveStarted>(&first) {
        Ok(DriveStarted::Created(task)) => {
            tracing::info!(task = %task.id, pid = ?child.id(), log = %log.display(), "driver started");
            let tasks = Tasks::new(Arc::new(instances));
            let events = tasks.events(&task.id, 0)?;
            Ok(TaskView {
                status: crate::task::TaskStatus::as_stored(tasks.get(task.id.as_str())?),
                events,
            })
        }
        Ok(DriveStarted::Refused { code, message }) => Err(remote_refusal(code, message)),
        Err(_) => {
            let _ = child.wait().await;
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            Err(TaskError::Inconsistent(format!(
                "the task's driver ended before starting the task: {}",
                text.trim()
            )))
        }
    }
}

/// Starts `pgrelocate agent <role>` as a process of its own session (so the SSH channel
/// closing does not signal it), hands it `order` on stdin, and returns it with its stdout
/// and the log file its stderr goes to.
async fn spawn_detached(
    instances: &Instances,
    role: &str,
    order: &impl Serialize,
) -> Result<(Child, BufReader<ChildStdout>, PathBuf), TaskError> {
    let io = |op, path: &PathBuf| {
        let path = path.clone();
        move |source| TaskError::Io { op, path, source }
    };
    let exe = std::env::current_exe().map_err(io("find", &PathBuf::from("/proc/self/exe")))?;
    let log_dir = instances.state_dir().join("logs");
    std::fs::create_dir_all(&log_dir).map_err(io("create", &log_dir))?;
    let log = log_dir.join(format!(
        "{}-{}.log",
        role.trim_start_matches('-'),
        jiff::Timestamp::now().as_millisecond()
    ));
    let log_file = std::fs::File::create(&log).map_err(io("create", &log))?;
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.args(["agent", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .current_dir("/");
    // SAFETY: setsid is async-signal-safe; it detaches the process from the SSH session's
    // process group and terminal, so a dropped connection does not signal it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(io("start", &exe))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut line = serde_json::to_vec(order).expect("orders serialise");
    line.push(b'\n');
    stdin.write_all(&line).await.map_err(io("write to", &exe))?;
    drop(stdin);
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    Ok((child, stdout, log))
}

/// A refusal of the driver as the engine error it was (its code survives the hop).
fn remote_refusal(code: ErrorCode, message: String) -> TaskError {
    TaskError::Instance(InstanceError::Host(crate::host::HostError::Agent(
        crate::agent::AgentError::Remote { code, message },
    )))
}

/// The passwords of task `id`'s two instances, by the ids this host knows them by.
fn task_passwords(id: &str, passwords: &Passwords) -> Result<Vec<(InstanceId, Secret)>, TaskError> {
    let plain = instances_with(&[])?;
    let task = crate::store::tasks::get(plain.store(), id)?;
    let store = plain.store();
    let source = store
        .instance(&task.source.id)
        .map_err(InstanceError::from)?;
    let dest = store
        .instance(&task.destination.id)
        .map_err(InstanceError::from)?;
    Ok(by_id(&source, &dest, passwords))
}

/// The task's status as this host reads it (settling what nobody drives, sampling live),
/// with its events after `after`.
pub async fn status(req: RemoteTaskRead) -> Result<TaskView, TaskError> {
    let instances = instances_with(&task_passwords(&req.id, &req.passwords)?)?;
    let tasks = Tasks::new(Arc::new(instances));
    let status = tasks.status(&req.id).await?;
    let id = status.task.id.clone();
    let events = tasks.events(&id, req.after)?;
    Ok(TaskView { status, events })
}

/// The switchover or failover dialog's content, read on this host.
pub async fn preview(req: RemoteOperate) -> Result<serde_json::Value, TaskError> {
    let instances = instances_with(&task_passwords(&req.id, &req.passwords)?)?;
    let tasks = Tasks::new(Arc::new(instances));
    let value = match &req.operation {
        TaskOperation::Switchover(options) => serde_json::to_value(
            tasks
                .switchover_preview(&req.id, &options.as_ref().into())
                .await?,
        ),
        TaskOperation::Failover => serde_json::to_value(tasks.failover_preview(&req.id).await?),
        TaskOperation::Cancel | TaskOperation::Retry => {
            return Err(TaskError::Inconsistent(format!(
                "no preview for {:?}",
                req.operation
            )))
        }
    };
    Ok(value.expect("previews serialise"))
}

/// What the agent hands an operation's process on its stdin.
#[derive(Debug, Serialize, Deserialize)]
pub struct OperateOrder {
    /// The task.
    pub id: String,
    /// What to do.
    pub operation: TaskOperation,
    /// Passwords by instance id, kept in the process's memory only.
    pub passwords: Vec<(InstanceId, Secret)>,
}

/// A line of an operation's process on stdout: steps as they happen, then its answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperateLine {
    /// A step of the switchover or failover.
    Progress(Progress),
    /// The operation's result (a report, or the task).
    Done(serde_json::Value),
    /// It failed, with the engine's code.
    Failed { code: ErrorCode, message: String },
}

/// Runs `req` in a detached process of its own and relays its steps through `emit` until
/// it answers. The process goes on when this agent (or its SSH channel) ends: it finishes
/// the operation, records it in the task, and keeps driving a task still replicating.
pub async fn operate(
    req: RemoteOperate,
    emit: &(dyn Fn(serde_json::Value) + Send + Sync),
) -> Result<serde_json::Value, TaskError> {
    let instances = instances_with(&[])?;
    let order = OperateOrder {
        passwords: task_passwords(&req.id, &req.passwords)?,
        id: req.id,
        operation: req.operation,
    };
    let (child, mut stdout, log) = spawn_detached(&instances, "--operate", &order).await?;
    tracing::info!(task = %order.id, pid = ?child.id(), log = %log.display(), "operation started");
    let mut line = String::new();
    loop {
        line.clear();
        let read = stdout
            .read_line(&mut line)
            .await
            .map_err(|source| TaskError::Io {
                op: "read from",
                path: log.clone(),
                source,
            })?;
        if read == 0 {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(TaskError::Inconsistent(format!(
                "the operation's process ended without an answer: {}",
                text.trim()
            )));
        }
        match serde_json::from_str::<OperateLine>(&line) {
            Ok(OperateLine::Progress(p)) => {
                if let Ok(value) = serde_json::to_value(&p) {
                    emit(value);
                }
            }
            Ok(OperateLine::Done(value)) => return Ok(value),
            Ok(OperateLine::Failed { code, message }) => return Err(remote_refusal(code, message)),
            Err(e) => {
                tracing::warn!(error = %e, line = line.trim(), "unreadable line from the operation")
            }
        }
    }
}

/// The order a detached process reads first: one JSON line on stdin.
async fn read_order<T: serde::de::DeserializeOwned>() -> std::io::Result<T> {
    let mut line = String::new();
    BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

/// Writes one line to stdout, ignoring a reader that is gone (the agent may have ended with
/// its SSH channel; the process goes on regardless).
fn say(line: &impl Serialize) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(line).expect("serialises"));
    let _ = out.flush();
}

/// Points stdout at /dev/null once the answer is given: nothing else goes there.
fn close_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto our own stdout with a file we opened.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

/// SIGTERM asks a driver to hand its task over (an operation about to take its lease, or
/// the host shutting down): it fires the returned token, unless `busy` is set — a process
/// in the middle of a switchover does not let go.
fn on_terminate(busy: Arc<std::sync::atomic::AtomicBool>) -> CancellationToken {
    use std::sync::atomic::Ordering;
    let stop = CancellationToken::new();
    let fire = stop.clone();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terms) => {
            tokio::spawn(async move {
                while terms.recv().await.is_some() {
                    if busy.load(Ordering::SeqCst) {
                        tracing::warn!("asked to stop mid-operation: ignored until it ends");
                    } else {
                        fire.cancel();
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot watch for SIGTERM"),
    }
    stop
}

/// `pgrelocate agent --operate`: reads an [`OperateOrder`], runs it, says how it ended, and
/// goes on driving the task when it still replicates (after a rollback or a retry).
pub async fn operate_stdin() -> std::io::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let order: OperateOrder = read_order().await?;
    let busy = Arc::new(AtomicBool::new(true));
    let stop = on_terminate(busy.clone());
    let tasks = match instances_with(&order.passwords) {
        Ok(i) => Tasks::new(Arc::new(i)),
        Err(e) => {
            say(&OperateLine::Failed {
                code: e.code(),
                message: e.to_string(),
            });
            return Ok(());
        }
    };
    let progress = |p: &Progress| say(&OperateLine::Progress(p.clone()));
    let result = run_operation(&tasks, &order, &progress).await;
    say(&match result {
        Ok(value) => OperateLine::Done(value),
        Err(e) => OperateLine::Failed {
            code: e.code(),
            message: e.to_string(),
        },
    });
    close_stdout();
    busy.store(false, Ordering::SeqCst);
    if let Ok(task) = tasks.get(&order.id) {
        match tasks.attach(task.id.as_str()).await {
            Ok((task, true)) => drive_loop(&tasks, &task, &stop).await,
            Ok(_) => {}
            Err(e) => tracing::warn!(task = %task.id, error = %e, "cannot drive the task on"),
        }
    }
    tasks.shutdown().await;
    Ok(())
}

async fn run_operation(
    tasks: &Tasks,
    order: &OperateOrder,
    progress: crate::switchover::ProgressFn<'_>,
) -> Result<serde_json::Value, TaskError> {
    let id = tasks.get(&order.id)?.id;
    let value = match &order.operation {
        TaskOperation::Switchover(options) => {
            hand_over(tasks, &id).await?;
            serde_json::to_value(
                tasks
                    .switchover(id.as_str(), &options.as_ref().into(), progress)
                    .await?,
            )
        }
        TaskOperation::Failover => {
            hand_over(tasks, &id).await?;
            serde_json::to_value(tasks.failover(id.as_str(), progress).await?)
        }
        // A cancel asks the driver to stop through the store.
        TaskOperation::Cancel => serde_json::to_value(tasks.cancel(id.as_str()).await?),
        TaskOperation::Retry => serde_json::to_value(tasks.retry(id.as_str()).await?),
    };
    Ok(value.expect("results serialise"))
}

/// How long a driver has to let go of its task once asked.
const HAND_OVER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Asks the detached driver of a replicating task to let go of it (SIGTERM: it stops
/// monitoring and gives the lease back) and waits until it has. A lease held by anything
/// else is left alone: the switchover then reports the task busy.
async fn hand_over(tasks: &Tasks, id: &TaskId) -> Result<(), TaskError> {
    if tasks.get(id.as_str())?.phase != Phase::Increment {
        return Ok(()); // the task's own guardrail says why nothing happens
    }
    let store = tasks.instances().store();
    let Some(lease) = leases::lease(store, id)? else {
        return Ok(());
    };
    if lease.is_stale() || lease.holder.host != leases::host_name() {
        return Ok(());
    }
    let pid = lease.holder.pid;
    if !is_driver(pid) {
        return Ok(());
    }
    tracing::info!(task = %id, pid, "asking the driver to hand the task over");
    // SAFETY: kill only sends a signal, to the process holding the task's lease.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let started = std::time::Instant::now();
    while started.elapsed() < HAND_OVER_WAIT {
        match leases::lease(store, id)? {
            Some(l) if l.holder.pid == pid && !l.is_stale() => {}
            _ => return Ok(()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Whether `pid` is a driver or operation process of pgrelocate's agent (`agent --drive`,
/// `agent --operate`), the only ones asked to hand a task over.
fn is_driver(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.iter().any(|a| *a == b"agent")
        && args.iter().any(|a| *a == b"--drive" || *a == b"--operate")
}

/// Drives `task` from this process until it ends, its destination or state folder goes, the
/// driver lets go (a lost lease), or `stop` fires (SIGTERM: another process takes over).
async fn drive_loop(tasks: &Tasks, task: &Task, stop: &CancellationToken) {
    tracing::info!(task = %task.id, "driving on this host");
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                tracing::info!(task = %task.id, "asked to hand the task over: the driver stops");
                break;
            }
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
        match tasks.get(task.id.as_str()) {
            Ok(t) if t.phase.is_terminal() || t.phase == Phase::Failed => break,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the task"),
        }
        let store_file = tasks.instances().state_dir().join(crate::store::STORE_FILE);
        if !store_file.exists()
            || tasks
                .instances()
                .store()
                .find_instance(task.destination.name.as_str())
                .ok()
                .flatten()
                .is_none()
        {
            // The destination was removed on this host (or the agent's state folder with
            // it): nothing is left to drive.
            tracing::warn!(task = %task.id, "the destination is gone: the driver stops");
            break;
        }
        if !tasks.is_driving(&task.id) {
            // The driver ended (a lost lease, a stop): another reader settles the rest.
            break;
        }
    }
}

/// `pgrelocate agent --drive`: reads a [`DriveOrder`] on stdin, creates the task, says so on
/// stdout, then drives it until it ends (the copy, the standby's start, its monitoring).
pub async fn drive_stdin() -> std::io::Result<()> {
    let order: DriveOrder = read_order().await?;
    let stop = on_terminate(Arc::new(std::sync::atomic::AtomicBool::new(false)));
    let started = |started: DriveStarted| {
        say(&started);
        close_stdout();
    };
    let instances = match instances_with(&order.passwords) {
        Ok(i) => Arc::new(i),
        Err(e) => {
            started(DriveStarted::Refused {
                code: e.code(),
                message: e.to_string(),
            });
            return Ok(());
        }
    };
    let tasks = Tasks::new(instances);
    let task = match tasks.create(order.request).await {
        Ok(task) => task,
        Err(e) => {
            started(DriveStarted::Refused {
                code: e.code(),
                message: e.to_string(),
            });
            return Ok(());
        }
    };
    started(DriveStarted::Created(Box::new(task.clone())));
    drive_loop(&tasks, &task, &stop).await;
    tasks.shutdown().await;
    Ok(())
}
