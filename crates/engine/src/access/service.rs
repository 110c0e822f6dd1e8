//! Show, apply and undo a task's access rules. The source's rules are read live (else from
//! the copy), the destination's from its data directory; the block is written on this host
//! only (a destination on a registered remote host is refused with
//! `access_remote_unsupported`).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::block;
use super::diff::{self, Diff};
use super::error::AccessError;
use super::read::{self, Origin};
use super::rule::{Rule, Transport};
use crate::sql;
use crate::task::{Phase, Task, Tasks};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A source rule to carry, as reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PendingLine {
    /// The line the block holds (the source's rule as PostgreSQL read it).
    pub line: String,
    /// The rule's line in the source's file.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<u32>,
    /// Its clients in words: `host 10.0.0.0/8 (database all, user all)`.
    pub clients: String,
    /// What the destination refuses of it now (`database app, user all, without TLS:
    /// refused by line 3`); empty for a `reject` carried so the block refuses what the
    /// source refused.
    pub refused: Vec<String>,
}

/// A source rule that is not carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SkippedLine {
    /// The source's rule.
    pub line: String,
    /// Why it stays behind.
    pub reason: String,
}

/// A task's access rules: what the source admits that the destination refuses, and the
/// block in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AccessDiff {
    /// The task.
    pub task_id: String,
    /// Where the source's rules were read.
    pub origin: Origin,
    /// The destination's `pg_hba.conf`.
    pub dest_file: String,
    /// Rules `access apply` would write (empty: nothing the destination refuses).
    pub pending: Vec<PendingLine>,
    /// The rule lines of the block in force (empty: none).
    pub applied: Vec<String>,
    /// Source rules not carried, and why.
    pub skipped: Vec<SkippedLine>,
}

impl AccessDiff {
    /// Clients the source admits are still refused.
    pub fn has_pending(&self) -> bool {
        self.pending.iter().any(|p| !p.refused.is_empty())
    }
}

/// What `apply` or `undo` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AccessOutcome {
    /// The file was changed and reloaded.
    pub changed: bool,
    /// The rules after it (`None` after an undo when the source's rules cannot be read).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<AccessDiff>,
}

fn transport(t: Transport) -> &'static str {
    match t {
        Transport::Plain => "without TLS",
        Transport::Tls => "over TLS",
        Transport::Gss => "with GSSAPI encryption",
    }
}

/// The diff's pending rules as reviewed lines.
pub fn pending_lines(d: &Diff) -> Vec<PendingLine> {
    d.pending
        .iter()
        .map(|p| PendingLine {
            line: p.rule.render(),
            source_line: p.rule.line,
            clients: diff::describe(&p.rule),
            refused: p
                .refused
                .iter()
                .map(|r| {
                    format!(
                        "database {}, user {}, {}: {}",
                        r.database,
                        r.user,
                        transport(r.transport),
                        match r.by_line {
                            Some(n) => format!("refused by line {n}"),
                            None => "no rule admits it".into(),
                        }
                    )
                })
                .collect(),
        })
        .collect()
}

/// The diff of `source` against the destination's file `text` (with its block, if any).
pub fn review(
    task_id: &str,
    origin: Origin,
    dest_file: &std::path::Path,
    source: &[Rule],
    text: &str,
) -> Result<AccessDiff, AccessError> {
    let applied = block::find(text, task_id)?
        .map(|b| b.lines)
        .unwrap_or_default();
    let d = diff::diff(source, &read::text_rules(text));
    Ok(AccessDiff {
        task_id: task_id.to_string(),
        origin,
        dest_file: dest_file.display().to_string(),
        pending: if d.has_pending() {
            pending_lines(&d)
        } else {
            Vec::new()
        },
        applied,
        skipped: d
            .skipped
            .iter()
            .map(|s| SkippedLine {
                line: s.rule.render(),
                reason: s.reason.to_string(),
            })
            .collect(),
    })
}

/// The task's rules as its destination's data directory holds them now (the copy in
/// place): the source's read live through `source`, else from the copy.
pub async fn pending_for(
    task_id: &str,
    source: Result<&Client, String>,
    data_dir: &std::path::Path,
) -> Result<AccessDiff, AccessError> {
    let (rules, origin) = read::source_rules(source, Some(data_dir)).await?;
    let path = read::hba_file(data_dir);
    let text = read::read_text(&path)?;
    review(task_id, origin, &path, &rules, &text)
}

/// Everything an operation on one task's rules works on.
struct Ends {
    task: Task,
    data_dir: PathBuf,
    source: Result<Client, String>,
    dest: crate::endpoint::Endpoint,
    password: Option<crate::Password>,
}

impl Ends {
    async fn open(tasks: &Tasks, id: &str) -> Result<Ends, AccessError> {
        let task = tasks.get(id)?;
        if let Some(host) = tasks.host_of_task(&task.id)? {
            return Err(AccessError::RemoteUnsupported {
                task: task.id.to_string(),
                host,
            });
        }
        let access = tasks.inner().standby_access(&task).await?;
        let source = sql::connect(
            &access.source.endpoint,
            access.source_password.as_ref(),
            CONNECT_TIMEOUT,
        )
        .await
        .map_err(|e| e.to_string());
        Ok(Ends {
            data_dir: access.dest_managed.data_dir.clone(),
            dest: access.dest_endpoint,
            password: access.source_password,
            source,
            task,
        })
    }

    fn hba(&self) -> PathBuf {
        read::hba_file(&self.data_dir)
    }

    /// The source's rules (live, else from the copy once it is in place).
    async fn source_rules(&self) -> Result<(Vec<Rule>, Origin), AccessError> {
        let copied = copy_in_place(self.task.phase).then_some(self.data_dir.as_path());
        read::source_rules(self.source.as_ref().map_err(Clone::clone), copied).await
    }

    async fn dest_client(&self) -> Result<Client, AccessError> {
        Ok(sql::connect(&self.dest, self.password.as_ref(), CONNECT_TIMEOUT).await?)
    }

    /// Refuses changing the file before the copy is in place (the data directory still
    /// holds the destination's own cluster) or during a switchover.
    fn writable(&self, action: &'static str) -> Result<(), AccessError> {
        match self.task.phase {
            Phase::Increment | Phase::Success => Ok(()),
            phase => Err(crate::task::TaskError::from(crate::task::TransitionError {
                task: self.task.id.clone(),
                action,
                phase,
            })
            .into()),
        }
    }
}

/// The copy (with its `pg_hba.conf.from-source`) is the destination's data directory.
fn copy_in_place(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Startup | Phase::Increment | Phase::Switch | Phase::Success
    )
}

/// The task's access rules, for review. Changes nothing.
pub async fn show(tasks: &Tasks, id: &str) -> Result<AccessDiff, AccessError> {
    let ends = Ends::open(tasks, id).await?;
    let (source, origin) = ends.source_rules().await?;
    let path = ends.hba();
    let text = read::read_text(&path)?;
    review(ends.task.id.as_str(), origin, &path, &source, &text)
}

/// Writes the pending rules as the task's block at the top of the destination's
/// `pg_hba.conf` (replacing an earlier block of the task), checks and reloads it.
pub async fn apply(tasks: &Tasks, id: &str) -> Result<AccessOutcome, AccessError> {
    let ends = Ends::open(tasks, id).await?;
    ends.writable("apply access rules")?;
    let task = ends.task.id.to_string();
    let (source, origin) = ends.source_rules().await?;
    let path = ends.hba();
    let old = read::read_text(&path)?;
    let current = block::find(&old, &task)?
        .map(|b| b.lines)
        .unwrap_or_default();
    // What the destination refuses without the block: the block to write.
    let bare = block::remove(&old, &task)?;
    let d = diff::diff(&source, &read::text_rules(&bare));
    let lines: Vec<String> = if d.has_pending() {
        d.pending.iter().map(|p| p.rule.render()).collect()
    } else {
        Vec::new()
    };
    if lines == current {
        return Ok(AccessOutcome {
            changed: false,
            rules: Some(review(&task, origin, &path, &source, &old)?),
        });
    }
    let new = if lines.is_empty() {
        bare
    } else {
        block::insert(&old, &task, &lines)?
    };
    let client = ends.dest_client().await?;
    super::apply::put_in_force(&client, &path, &old, &new).await?;
    tracing::info!(task = %task, rules = lines.len(), file = %path.display(), "access rules applied");
    Ok(AccessOutcome {
        changed: true,
        rules: Some(review(&task, origin, &path, &source, &new)?),
    })
}

/// Removes exactly the task's block from the destination's `pg_hba.conf` and reloads.
pub async fn undo(tasks: &Tasks, id: &str) -> Result<AccessOutcome, AccessError> {
    let ends = Ends::open(tasks, id).await?;
    ends.writable("undo access rules")?;
    let task = ends.task.id.to_string();
    let path = ends.hba();
    let old = read::read_text(&path)?;
    let changed = block::find(&old, &task)?.is_some();
    let new = block::remove(&old, &task)?;
    if changed {
        let client = ends.dest_client().await?;
        super::apply::put_in_force(&client, &path, &old, &new).await?;
        tracing::info!(task = %task, file = %path.display(), "access rules removed");
    }
    let rules = match ends.source_rules().await {
        Ok((source, origin)) => Some(review(&task, origin, &path, &source, &new)?),
        Err(e) => {
            tracing::info!(task = %task, error = %e, "after the undo, the source's rules are not readable");
            None
        }
    };
    Ok(AccessOutcome { changed, rules })
}

/// Reloads the destination's configuration when the task's block is in its `pg_hba.conf`
/// (before the switchover's fence). Failures are logged: the block was reloaded when it
/// was applied, so this only covers a file changed since.
pub async fn reload_if_applied(client: &Client, task_id: &str, data_dir: &std::path::Path) {
    let path = read::hba_file(data_dir);
    let applied = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| block::find(&text, task_id).ok().flatten())
        .is_some();
    if !applied {
        return;
    }
    match super::apply::reload(client).await {
        Ok(()) => tracing::info!(task = task_id, "access rules reloaded before the fence"),
        Err(e) => {
            tracing::warn!(task = task_id, error = %e, "access rules not reloaded before the fence")
        }
    }
}
