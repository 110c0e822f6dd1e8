//! The workstation's side of the protocol: start the agent (over SSH, or any pipe in tests),
//! check its greeting, and call it. One reader task routes each frame to its call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::protocol::{Call, Facts, Frame, Hello, Request, PROTOCOL};
use crate::{Coded, ErrorCode};

/// How long a starting agent may take to greet (a first start over a slow link included).
const HELLO_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of the agent's stderr is kept for error messages.
const STDERR_TAIL: usize = 4096;

/// Why a call to the agent failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot start the agent on {host}: {source}")]
    Start {
        host: String,
        source: std::io::Error,
    },
    #[error("the agent on {host} stopped{}", stderr_suffix(.stderr))]
    Closed { host: String, stderr: String },
    #[error("the agent on {host} did not greet within {}s{}", HELLO_TIMEOUT.as_secs(), stderr_suffix(.stderr))]
    NoGreeting { host: String, stderr: String },
    #[error("the agent on {host} speaks protocol {theirs}, this pgrelocate {ours}")]
    Incompatible {
        host: String,
        theirs: u32,
        ours: u32,
    },
    #[error("the agent on {host} sent an unreadable frame: {detail}")]
    Protocol { host: String, detail: String },
    #[error("cannot write to the agent on {host}: {source}")]
    Write {
        host: String,
        source: std::io::Error,
    },
    /// The agent ran the request and it failed there, with the engine's code.
    #[error("{message}")]
    Remote { code: ErrorCode, message: String },
}

fn stderr_suffix(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl Coded for AgentError {
    fn code(&self) -> ErrorCode {
        match self {
            AgentError::Remote { code, .. } => *code,
            _ => ErrorCode::Agent,
        }
    }
}

type Answer = Result<serde_json::Value, AgentError>;

struct Pending {
    done: oneshot::Sender<Answer>,
    events: Option<mpsc::UnboundedSender<serde_json::Value>>,
}

/// The open calls, and whether the channel has ended (then no call may be added: nobody
/// would answer it). One lock guards both, so a call cannot slip in after the end.
#[derive(Default)]
struct Calls {
    open: HashMap<u64, Pending>,
    ended: bool,
}

type PendingMap = Arc<Mutex<Calls>>;

/// A running agent and the calls open on it. Dropping it closes the channel (and kills the
/// local ssh process, which ends the agent).
pub struct AgentClient {
    host: String,
    hello: Hello,
    writer: tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    pending: PendingMap,
    next_id: AtomicU64,
    stderr: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
    _child: Option<tokio::process::Child>,
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentClient")
            .field("host", &self.host)
            .field("hello", &self.hello)
            .finish_non_exhaustive()
    }
}

impl Drop for AgentClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl AgentClient {
    /// Starts `command` (e.g. `ssh … pgrelocate agent --stdio`) and waits for its greeting.
    pub async fn spawn(
        mut command: tokio::process::Command,
        host: &str,
    ) -> Result<AgentClient, AgentError> {
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| AgentError::Start {
            host: host.to_string(),
            source,
        })?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        if let Some(mut stderr) = child.stderr.take() {
            let tail = stderr_tail.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = stderr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    tracing::debug!(target: "pgrelocate_engine::agent::stderr", "{}", text.trim_end());
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    tail.push_str(&text);
                    if tail.len() > STDERR_TAIL {
                        let cut = tail.len() - STDERR_TAIL;
                        let cut = (cut..tail.len())
                            .find(|i| tail.is_char_boundary(*i))
                            .unwrap_or(0);
                        tail.drain(..cut);
                    }
                }
            });
        }
        let mut client = Self::start(stdout, stdin, host, stderr_tail).await?;
        client._child = Some(child);
        Ok(client)
    }

    /// Speaks the protocol over any pipe (tests; an agent already started).
    pub async fn over<R, W>(read: R, write: W, host: &str) -> Result<AgentClient, AgentError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        Self::start(read, write, host, Arc::new(Mutex::new(String::new()))).await
    }

    async fn start<R, W>(
        read: R,
        write: W,
        host: &str,
        stderr: Arc<Mutex<String>>,
    ) -> Result<AgentClient, AgentError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let tail = |s: &Arc<Mutex<String>>| s.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut lines = BufReader::new(read).lines();
        let first = match tokio::time::timeout(HELLO_TIMEOUT, lines.next_line()).await {
            Err(_) => {
                return Err(AgentError::NoGreeting {
                    host: host.into(),
                    stderr: tail(&stderr),
                })
            }
            Ok(Ok(Some(line))) => line,
            Ok(_) => {
                // Give the stderr reader a moment to collect why the agent ended.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(AgentError::Closed {
                    host: host.into(),
                    stderr: tail(&stderr),
                });
            }
        };
        let hello = match serde_json::from_str::<Frame>(&first) {
            Ok(Frame::Hello(hello)) => hello,
            _ => {
                return Err(AgentError::Protocol {
                    host: host.into(),
                    detail: format!("expected a greeting, got {:?}", truncate(&first)),
                })
            }
        };
        if hello.protocol != PROTOCOL {
            return Err(AgentError::Incompatible {
                host: host.into(),
                theirs: hello.protocol,
                ours: PROTOCOL,
            });
        }
        let pending: PendingMap = Arc::new(Mutex::new(Calls::default()));
        let reader = tokio::spawn(route(
            lines,
            pending.clone(),
            host.to_string(),
            stderr.clone(),
        ));
        Ok(AgentClient {
            host: host.to_string(),
            hello,
            writer: tokio::sync::Mutex::new(Box::new(write)),
            pending,
            next_id: AtomicU64::new(1),
            stderr,
            reader,
            _child: None,
        })
    }

    /// The agent's greeting.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The host it runs on (for messages).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Calls `request` and decodes its result.
    pub async fn call<T: DeserializeOwned>(&self, request: Request) -> Result<T, AgentError> {
        self.call_with_events(request, |_| {}).await
    }

    /// Calls `request`, handing each progress event to `on_event` until the result comes.
    pub async fn call_with_events<T: DeserializeOwned>(
        &self,
        request: Request,
        mut on_event: impl FnMut(serde_json::Value),
    ) -> Result<T, AgentError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (done, mut answer) = oneshot::channel();
        let (events_tx, mut events) = mpsc::unbounded_channel();
        {
            let mut calls = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if calls.ended {
                return Err(self.closed());
            }
            calls.open.insert(
                id,
                Pending {
                    done,
                    events: Some(events_tx),
                },
            );
        }
        let mut line = serde_json::to_vec(&Call { id, request }).expect("calls serialise");
        line.push(b'\n');
        {
            let mut writer = self.writer.lock().await;
            let written = async {
                writer.write_all(&line).await?;
                writer.flush().await
            };
            if let Err(source) = written.await {
                self.pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .open
                    .remove(&id);
                return Err(AgentError::Write {
                    host: self.host.clone(),
                    source,
                });
            }
        }
        let value = loop {
            tokio::select! {
                biased;
                Some(event) = events.recv() => on_event(event),
                result = &mut answer => {
                    // Events sent before the result are delivered first.
                    while let Ok(event) = events.try_recv() {
                        on_event(event);
                    }
                    break match result {
                        Ok(answer) => answer?,
                        Err(_) => return Err(self.closed()),
                    };
                }
            }
        };
        serde_json::from_value(value).map_err(|e| AgentError::Protocol {
            host: self.host.clone(),
            detail: format!("unexpected result: {e}"),
        })
    }

    /// The host's facts.
    pub async fn facts(&self) -> Result<Facts, AgentError> {
        self.call(Request::Facts).await
    }

    /// Whether the channel has ended (the agent or its SSH connection is gone).
    pub fn is_closed(&self) -> bool {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).ended || self.reader.is_finished()
    }

    fn closed(&self) -> AgentError {
        AgentError::Closed {
            host: self.host.clone(),
            stderr: self
                .stderr
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Routes frames to their calls; when the channel ends, every open call fails.
async fn route<R: AsyncRead + Unpin>(
    mut lines: tokio::io::Lines<BufReader<R>>,
    pending: PendingMap,
    host: String,
    stderr: Arc<Mutex<String>>,
) {
    let fail_all = |error: &dyn Fn() -> AgentError| {
        let open: Vec<Pending> = {
            let mut calls = pending.lock().unwrap_or_else(|e| e.into_inner());
            calls.ended = true;
            calls.open.drain().map(|(_, p)| p).collect()
        };
        for p in open {
            let _ = p.done.send(Err(error()));
        }
    };
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            _ => break,
        };
        let frame = match serde_json::from_str::<Frame>(&line) {
            Ok(frame) => frame,
            Err(e) => {
                let detail = format!("{e} in {:?}", truncate(&line));
                fail_all(&|| AgentError::Protocol {
                    host: host.clone(),
                    detail: detail.clone(),
                });
                return;
            }
        };
        let mut calls = pending.lock().unwrap_or_else(|e| e.into_inner());
        let map = &mut calls.open;
        match frame {
            Frame::Hello(_) => {}
            Frame::Event { id, event } => {
                if let Some(tx) = map.get(&id).and_then(|p| p.events.as_ref()) {
                    let _ = tx.send(event);
                }
            }
            Frame::Result { id, value } => {
                if let Some(p) = map.remove(&id) {
                    let _ = p.done.send(Ok(value));
                }
            }
            Frame::Error { id, code, message } => {
                if let Some(p) = map.remove(&id) {
                    let _ = p.done.send(Err(AgentError::Remote { code, message }));
                }
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
    fail_all(&|| AgentError::Closed {
        host: host.clone(),
        stderr: text.clone(),
    });
}

fn truncate(line: &str) -> String {
    line.chars().take(200).collect()
}
