//! The agent's side of the protocol: greet, then answer each call on its own task, one frame
//! per line on the output. Logging goes to stderr (the SSH channel's stderr), never stdout.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::protocol::{Call, Facts, Frame, Hello, Request, PROTOCOL};
use crate::{Coded, ErrorCode};

/// Serves calls read from `input` until it ends (the workstation closed the channel), then
/// waits for the calls still running to answer.
pub async fn serve<R, W>(input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (frames, mut outbox) = mpsc::unbounded_channel::<Frame>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(frame) = outbox.recv().await {
            let mut line = serde_json::to_vec(&frame).expect("frames serialise");
            line.push(b'\n');
            output.write_all(&line).await?;
            output.flush().await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let _ = frames.send(Frame::Hello(Hello {
        protocol: PROTOCOL,
        version: crate::VERSION.to_string(),
    }));
    let frames = Arc::new(frames);
    let mut lines = BufReader::new(input).lines();
    let mut running = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let call: Call = match serde_json::from_str(&line) {
            Ok(call) => call,
            Err(e) => {
                // Without an id nothing can be answered; a client of another protocol
                // would have been refused at the greeting.
                tracing::warn!(error = %e, "unreadable call");
                continue;
            }
        };
        let frames = frames.clone();
        running.spawn(async move {
            let id = call.id;
            let events = frames.clone();
            let emit = move |event: serde_json::Value| {
                let _ = events.send(Frame::Event { id, event });
            };
            let frame = match answer(call.request, &emit).await {
                Ok(value) => Frame::Result { id: call.id, value },
                Err((code, message)) => Frame::Error {
                    id: call.id,
                    code,
                    message,
                },
            };
            let _ = frames.send(frame);
        });
    }
    while running.join_next().await.is_some() {}
    drop(frames);
    writer.await.map_err(std::io::Error::other)?
}

/// Serves on this process's stdin and stdout (`pgrelocate agent --stdio`).
pub async fn serve_stdio() -> std::io::Result<()> {
    serve(tokio::io::stdin(), tokio::io::stdout()).await
}

type Answer = Result<serde_json::Value, (ErrorCode, String)>;

/// Sends one progress event of the call being answered.
type Emit<'a> = &'a (dyn Fn(serde_json::Value) + Send + Sync);

async fn answer(request: Request, emit: Emit<'_>) -> Answer {
    use super::instances as on_host;
    match request {
        Request::Assess(req) => {
            let progress = |c: &crate::assess::CheckResult| {
                if let Ok(value) = serde_json::to_value(c) {
                    emit(value);
                }
            };
            encode(super::assess::run(req, &progress).await)
        }
        Request::DestinationPrerequisites(req) => {
            encode(super::assess::destination_prerequisites(req).await)
        }
        Request::Facts => encode(facts().await),
        Request::InstanceCreate(req) => encode(on_host::create(req).await),
        Request::InstanceAdopt(req) => encode(on_host::adopt(req).await),
        Request::InstanceStart {
            name,
            confirm_primary,
        } => encode(on_host::start(&name, confirm_primary.as_deref()).await),
        Request::InstanceStop { name } => encode(on_host::stop(&name).await),
        Request::FenceStop { name } => encode(on_host::fence_stop(&name).await),
        Request::TaskCreate(req) => encode(super::tasks::create(req).await),
        Request::TaskStatus(req) => encode(super::tasks::status(req).await),
        Request::TaskOperate(req) => encode(super::tasks::operate(req, emit).await),
        Request::TaskPreview(req) => encode(super::tasks::preview(req).await),
        Request::InstanceStatus { name, password } => {
            encode(on_host::status(&name, password.as_ref()).await)
        }
        Request::InstanceRemove { name } => encode(on_host::remove(&name).await),
        Request::InstanceLogTail { name, lines } => encode(on_host::log_tail(&name, lines).await),
        Request::InstanceParameters { name, password } => {
            encode(on_host::parameters(&name, password.as_ref()).await)
        }
    }
}

fn encode<T: serde::Serialize, E: Coded>(result: Result<T, E>) -> Answer {
    match result {
        Ok(value) => serde_json::to_value(value).map_err(|e| (ErrorCode::Internal, e.to_string())),
        Err(e) => Err((e.code(), e.to_string())),
    }
}

async fn facts() -> Result<Facts, crate::home::HomeError> {
    let (os, arch) = uname();
    Ok(Facts {
        version: crate::VERSION.to_string(),
        os,
        arch,
        user: login_user(),
        state_dir: crate::home::state_dir()?,
        installations: crate::server::discover::discover(&[]).await,
    })
}

/// `uname -s` and `uname -m`.
fn uname() -> (String, String) {
    // SAFETY: uname fills the struct it is given; zeroed is a valid initial value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (std::env::consts::OS.into(), std::env::consts::ARCH.into());
    }
    let text = |field: &[libc::c_char]| {
        // SAFETY: uname's fields are NUL-terminated within their arrays.
        unsafe { std::ffi::CStr::from_ptr(field.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    (text(&u.sysname), text(&u.machine))
}

/// The user this process runs as (the SSH login).
fn login_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() {
            return libc::geteuid().to_string();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::client::AgentClient;

    #[tokio::test]
    async fn a_client_over_a_pipe_reads_the_greeting_and_the_facts() {
        let (client_side, agent_side) = tokio::io::duplex(1 << 16);
        let (agent_in, agent_out) = tokio::io::split(agent_side);
        let agent = tokio::spawn(serve(agent_in, agent_out));
        let (read, write) = tokio::io::split(client_side);
        let client = AgentClient::over(read, write, "pipe").await.unwrap();
        assert_eq!(client.hello().version, crate::VERSION);
        let facts = client.facts().await.unwrap();
        assert_eq!(facts.os, "Linux");
        assert_eq!(facts.arch, std::env::consts::ARCH);
        assert_eq!(facts.user, login_user());
        drop(client);
        agent.await.unwrap().unwrap();
    }
}
