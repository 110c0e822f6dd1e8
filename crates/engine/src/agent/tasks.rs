//! Tasks on the destination's host: the agent starts each task's driver as a process of its
//! own (a new session, so the SSH channel closing does not end it) and answers reads from
//! its store. The workstation mirrors what it reads.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::protocol::{Passwords, RemoteTask, RemoteTaskRead, Secret, TaskView};
use crate::instances::{InstanceError, Instances};
use crate::inventory::{InstanceId, InstanceRecord};
use crate::secrets::memory::Memory;
use crate::secrets::CredentialStore;
use crate::task::{Task, TaskError, TaskRequest, Tasks};
use crate::ErrorCode;

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
    let exe = std::env::current_exe().map_err(|source| TaskError::Io {
        op: "find",
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    let log_dir = instances.state_dir().join("logs");
    let io = |op, path: &PathBuf| {
        let path = path.clone();
        move |source| TaskError::Io { op, path, source }
    };
    std::fs::create_dir_all(&log_dir).map_err(io("create", &log_dir))?;
    let log = log_dir.join(format!(
        "drive-{}.log",
        jiff::Timestamp::now().as_millisecond()
    ));
    let log_file = std::fs::File::create(&log).map_err(io("create", &log))?;
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.args(["agent", "--drive"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .current_dir("/");
    // SAFETY: setsid is async-signal-safe; it detaches the driver from the SSH session's
    // process group and terminal, so a dropped connection does not signal it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(io("start", &exe))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut line = serde_json::to_vec(&order).expect("orders serialise");
    line.push(b'\n');
    stdin.write_all(&line).await.map_err(io("write to", &exe))?;
    drop(stdin);
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .await
        .map_err(io("read from", &exe))?;
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

/// A refusal of the driver as the engine error it was (its code survives the hop).
fn remote_refusal(code: ErrorCode, message: String) -> TaskError {
    TaskError::Instance(InstanceError::Host(crate::host::HostError::Agent(
        crate::agent::AgentError::Remote { code, message },
    )))
}

/// The task's status as this host reads it (settling what nobody drives, sampling live),
/// with its events after `after`.
pub async fn status(req: RemoteTaskRead) -> Result<TaskView, TaskError> {
    let plain = instances_with(&[])?;
    let task = crate::task::store::get(plain.store(), &req.id)?;
    let source = plain
        .store()
        .instance(&task.source.id)
        .map_err(InstanceError::from)?;
    let dest = plain
        .store()
        .instance(&task.destination.id)
        .map_err(InstanceError::from)?;
    let instances = instances_with(&by_id(&source, &dest, &req.passwords))?;
    let tasks = Tasks::new(Arc::new(instances));
    let status = tasks.status(task.id.as_str()).await?;
    let events = tasks.events(&task.id, req.after)?;
    Ok(TaskView { status, events })
}

/// `pgrelocate agent --drive`: reads a [`DriveOrder`] on stdin, creates the task, says so on
/// stdout, then drives it until it ends (the copy, the standby's start, its monitoring).
pub async fn drive_stdin() -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await?;
    let order: DriveOrder = serde_json::from_str(&line).map_err(std::io::Error::other)?;
    let say = |started: DriveStarted| {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&started).expect("serialises")
        );
        let _ = out.flush();
        // Nothing else goes to stdout: the agent reading it may be gone.
        // SAFETY: dup2 onto our own stdout with a file we opened.
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            use std::os::fd::AsRawFd;
            unsafe { libc::dup2(null.as_raw_fd(), 1) };
        }
    };
    let instances = match instances_with(&order.passwords) {
        Ok(i) => Arc::new(i),
        Err(e) => {
            use crate::Coded;
            say(DriveStarted::Refused {
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
            use crate::Coded;
            say(DriveStarted::Refused {
                code: e.code(),
                message: e.to_string(),
            });
            return Ok(());
        }
    };
    say(DriveStarted::Created(Box::new(task.clone())));
    tracing::info!(task = %task.id, "driving on this host");
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        match tasks.get(task.id.as_str()) {
            Ok(t) if t.phase.is_terminal() || t.phase == crate::task::Phase::Failed => break,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the task"),
        }
        let store_file = tasks
            .instances()
            .state_dir()
            .join(crate::inventory::STORE_FILE);
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
    tasks.shutdown().await;
    Ok(())
}
