//! `pgrelocate task list|status|follow|cancel|retry|reverse`: tasks as the store knows them, and a
//! follower that prints their events (a progress bar during the copy, or JSON lines).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pgrelocate_engine::task::{
    EventKind, Housekeeping, HousekeepingState, Phase, RejoinMethod, ReplicationState, Sample,
    SwitchRecord, Task, TaskEvent, TaskId, TaskStatus, Tasks, WayBack,
};
use pgrelocate_engine::ErrorCode;

use crate::args::{HistoryArgs, TaskArgs, TaskCommand};
use crate::exit::CliError;
use crate::output::{print_json, print_table};
use crate::prompt::confirm;
use crate::state::open;

/// How long `follow` may wait for the standby to stream before giving up.
const STREAMING_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Runs `task …`.
pub async fn run(command: TaskCommand) -> Result<i32, CliError> {
    let tasks = Tasks::new(Arc::new(open()?));
    match command {
        TaskCommand::List { json } => list(&tasks, json).await,
        TaskCommand::Status(args) => status(&tasks, &args).await,
        TaskCommand::Follow(args) => {
            let (task, driving) = tasks.attach(&args.task_id).await.map_err(CliError::from)?;
            if !args.json {
                eprintln!(
                    "following task {} ({}{})",
                    task.id,
                    task.phase,
                    if driving { "; driven from here" } else { "" }
                );
            }
            let start = if args.all {
                Start::All
            } else if let Some(since) = &args.since {
                Start::After(
                    tasks
                        .seq_before(&task.id, &since.to_string())
                        .map_err(CliError::from)?,
                )
            } else {
                Start::Now
            };
            follow(&tasks, &task.id, args.json, Until::Ended, false, start).await
        }
        TaskCommand::History(args) => history(&tasks, &args),
        TaskCommand::Cancel(args) => cancel(&tasks, &args).await,
        TaskCommand::Reverse(args) => reverse(&tasks, &args).await,
        TaskCommand::Retry(args) => {
            let task = tasks.retry(&args.task_id).await.map_err(CliError::from)?;
            if !args.json {
                eprintln!("retrying task {} (attempt {})", task.id, task.attempts + 1);
            }
            follow(
                &tasks,
                &task.id,
                args.json,
                Until::Streaming,
                true,
                Start::All,
            )
            .await
        }
    }
}

async fn list(tasks: &Tasks, json: bool) -> Result<i32, CliError> {
    let all = tasks.list().map_err(CliError::from)?;
    let mut statuses = Vec::new();
    for t in &all {
        let status = match tasks.status(t.id.as_str()).await {
            Ok(s) => s,
            // A host that is away: its task is shown as last read.
            Err(e) if matches!(tasks.host_of_task(&t.id), Ok(Some(_))) => {
                eprintln!("pgrelocate: task {}: {e}; showing it as last read", t.id);
                pgrelocate_engine::task::TaskStatus::as_stored(t.clone())
            }
            Err(e) => return Err(CliError::from(e)),
        };
        statuses.push(status);
    }
    if json {
        print_json(&statuses)?;
        return Ok(0);
    }
    if statuses.is_empty() {
        println!("no tasks; start one with `pgrelocate migrate --source NAME --dest NAME`");
        return Ok(0);
    }
    let rows: Vec<[String; 7]> = statuses
        .iter()
        .map(|s| {
            [
                s.task.id.to_string(),
                s.task.mode.as_str().into(),
                s.task.source.name.clone(),
                s.task.destination.name.clone(),
                s.task.phase.to_string(),
                replication_of(s),
                s.task.created_at.clone(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "MODE",
            "SOURCE",
            "DEST",
            "PHASE",
            "REPLICATION",
            "CREATED",
        ],
        &rows,
    );
    Ok(0)
}

async fn status(tasks: &Tasks, args: &TaskArgs) -> Result<i32, CliError> {
    let s = tasks.status(&args.task_id).await.map_err(CliError::from)?;
    if args.json {
        print_json(&s)?;
    } else {
        print_status(&s);
    }
    Ok(0)
}

fn print_status(s: &TaskStatus) {
    let t = &s.task;
    println!("task         {} ({})", t.id, t.mode.as_str());
    println!("source       {}", t.source.name);
    println!("destination  {}", t.destination.name);
    println!("report       {}", t.report_id);
    println!("phase        {}", t.phase);
    println!("replication  {}", replication_of(s));
    if let Some(lines) = disconnect_meaning(s) {
        for line in lines {
            println!("  {line}");
        }
    }
    for (phase, at) in &t.phase_times {
        println!("  {phase:<11} {at}");
    }
    if let Some(e) = &t.error {
        println!("error        {e}");
    }
    if let Some(h) = &t.housekeeping {
        print_housekeeping(h);
    }
    if let Some(r) = &t.rejoin {
        println!(
            "rejoin       by {} from task {}: {} copied of {} of data ({} ms)",
            r.method,
            r.forward_task,
            crate::output::bytes(r.bytes_copied),
            crate::output::bytes(r.data_bytes),
            r.duration_ms
        );
    }
    if let Some(w) = &s.way_back {
        print_way_back(t, w);
    }
    match &s.driver {
        Some(l) => println!("driven by    process {} on {}", l.holder.pid, l.holder.host),
        None => println!(
            "driven by    nobody (a standby streams on its own; `task follow` monitors it)"
        ),
    }
    println!("slot         {}", t.layout.slot_name);
    if let Some(switch) = &t.switch {
        print_switch(switch);
    }
    if let Some(p) = &s.progress {
        println!(
            "copy         {} {}",
            p.stage,
            bytes_of(p.bytes_done, p.bytes_total)
        );
    }
    if let Some(sample) = &s.sample {
        println!("lag          {}", describe_sample(sample));
        if let Some(at) = &s.sample_at {
            let how = if s.sample_live {
                "read from the servers now: no process monitors the task"
            } else {
                "the newest stored sample"
            };
            println!("  taken      {at} ({}; {how})", age(at));
        }
    }
}

/// A completed switchover's measured window and what remains to do; a failover's steps.
fn print_switch(switch: &SwitchRecord) {
    if let Some(r) = &switch.switchover {
        println!(
            "window       writes unavailable for {} ms ({} fence, {})",
            r.window.write_unavailable_ms, r.strategy, r.new_primary
        );
        crate::switchover::print_next(&r.next_steps);
    } else if let Some(r) = &switch.failover {
        println!(
            "failover     promoted in {} ms (timeline {})",
            r.promote_ms,
            r.timeline.map_or("unknown".into(), |t| t.to_string())
        );
        crate::switchover::print_next(&r.next_steps);
    }
}

/// What `task reverse` would do now.
fn print_way_back(t: &Task, w: &WayBack) {
    if w.diverged && w.source_running {
        println!(
            "way back     {} runs again and has diverged from {}: keep it as a standby with \
             `pgrelocate task reverse {}` (pg_rewind) rather than as a second primary",
            w.old_source, w.new_primary, t.id
        );
    }
    match (&w.reason, w.available) {
        (_, true) => println!(
            "way back     `pgrelocate task reverse {}`: {} follows {} ({})",
            t.id,
            w.old_source,
            w.new_primary,
            match w.method {
                RejoinMethod::Follow => "directly, nothing copied",
                RejoinMethod::Rewind => "after pg_rewind",
            }
        ),
        (Some(reason), false) => println!("way back     unavailable: {reason}"),
        (None, false) => {}
    }
}

/// The steps after promotion: one line when all are done, else each one's state (a failed
/// one with its error; the next command retries it).
fn print_housekeeping(h: &Housekeeping) {
    if h.is_complete() {
        println!("housekeeping done");
        return;
    }
    println!("housekeeping incomplete (the next command retries what is missing)");
    for entry in &h.steps {
        let state = match entry.state {
            HousekeepingState::Done => "done".to_string(),
            HousekeepingState::Pending => "pending".to_string(),
            HousekeepingState::Failed => format!(
                "failed after {} attempt(s): {}",
                entry.attempts,
                entry.error.as_deref().unwrap_or("unknown error")
            ),
        };
        println!("  {:<18} {state}", entry.step.as_str());
    }
}

/// The replication state, with since when when it is not streaming (a disconnect that
/// began an hour ago is a different matter from one that began a second ago).
fn replication_of(s: &TaskStatus) -> String {
    let state = s.task.replication;
    match (&s.replication_since, state) {
        (Some(at), ReplicationState::Disconnect | ReplicationState::Catchup) => {
            format!("{state} since {at} ({})", age(at))
        }
        _ => state.to_string(),
    }
}

/// What a disconnected standby means, and the way out when the source is lost (issue 12,
/// item 9: the app's alert says the same).
fn disconnect_meaning(s: &TaskStatus) -> Option<Vec<String>> {
    if s.task.phase != Phase::Increment || s.task.replication != ReplicationState::Disconnect {
        return None;
    }
    let replayed = s
        .sample
        .as_ref()
        .and_then(|x| x.dest_replay_delay_ms)
        .map(|ms| {
            let at = jiff::Timestamp::now() - jiff::SignedDuration::from_millis(ms as i64);
            let at = at.round(jiff::Unit::Second).unwrap_or(at);
            format!("; its data is as of {at} (the last replayed transaction)")
        })
        .unwrap_or_default();
    let mut lines = vec![format!(
        "the standby is no longer receiving changes from the source{replayed}"
    )];
    lines.push(match s.task.mode.as_str() {
        "dr" => format!(
            "if the source is lost, run `pgrelocate failover {}` (it shows the estimated loss first)",
            s.task.id
        ),
        _ => format!(
            "if the source is lost for good, run `pgrelocate failover {}`; while it answers, use `pgrelocate switchover {}`",
            s.task.id, s.task.id
        ),
    });
    Some(lines)
}

/// How long ago an RFC 3339 time was, in the largest whole unit.
fn age(at: &str) -> String {
    let Ok(then) = at.parse::<jiff::Timestamp>() else {
        return "time unknown".into();
    };
    let secs = jiff::Timestamp::now().duration_since(then).as_secs().max(0);
    match secs {
        0..=119 => format!("{secs} s ago"),
        120..=7199 => format!("{} min ago", secs / 60),
        7200..=172_799 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

fn bytes_of(done: u64, total: Option<u64>) -> String {
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    match total {
        Some(t) => format!("{:.1}/{:.1} MiB", mib(done), mib(t)),
        None => format!("{:.1} MiB", mib(done)),
    }
}

fn describe_sample(s: &Sample) -> String {
    let bytes = |b: Option<u64>| b.map(|b| format!("{b} B")).unwrap_or_else(|| "?".into());
    let mut text = format!(
        "replay {} behind (sent {}, flushed {})",
        bytes(s.replay_lag_bytes),
        bytes(s.sent_lag_bytes),
        bytes(s.flush_lag_bytes)
    );
    if let Some(ms) = s.replay_lag_ms {
        text.push_str(&format!(", replay lag {:.0} ms", ms));
    }
    if let Some(slot) = &s.slot {
        if let Some(kept) = slot.retained_bytes {
            text.push_str(&format!(
                ", slot keeps {:.1} MiB",
                kept as f64 / (1 << 20) as f64
            ));
        }
        if let Some(status) = &slot.wal_status {
            text.push_str(&format!(" ({status})"));
        }
    }
    if let Some(e) = &s.source_error {
        text.push_str(&format!("; source: {e}"));
    }
    text
}

/// `task reverse`: the old source becomes a standby of the new primary; prints the reverse
/// task (one JSON document with --json) once its standby connected.
async fn reverse(tasks: &Tasks, args: &TaskArgs) -> Result<i32, CliError> {
    let task = tasks.get(&args.task_id).map_err(CliError::from)?;
    let question = format!(
        "make {} a standby of {} (its own changes since the switch are discarded) and create \
         the reverse task?",
        task.source.name, task.destination.name
    );
    if !confirm(&question, args.yes)? {
        return Ok(0);
    }
    let reverse = tasks
        .reverse(task.id.as_str())
        .await
        .map_err(CliError::from)?;
    if args.json {
        print_json(&reverse)?;
        return Ok(if reverse.phase == Phase::Increment {
            0
        } else {
            1
        });
    }
    if let Some(r) = &reverse.rejoin {
        println!(
            "task {}: {} follows {} as a standby (rejoined by {}: {} copied of {} of data, {} ms)",
            reverse.id,
            reverse.destination.name,
            reverse.source.name,
            r.method,
            crate::output::bytes(r.bytes_copied),
            crate::output::bytes(r.data_bytes),
            r.duration_ms
        );
    }
    if reverse.phase != Phase::Increment {
        println!(
            "the reverse task is {}: {}",
            reverse.phase,
            reverse
                .error
                .as_deref()
                .unwrap_or("see `pgrelocate task status`")
        );
        return Ok(1);
    }
    println!(
        "switch back with `pgrelocate switchover {}`; `pgrelocate task follow {}` monitors it",
        reverse.id, reverse.id
    );
    Ok(0)
}

async fn cancel(tasks: &Tasks, args: &TaskArgs) -> Result<i32, CliError> {
    let task = tasks.get(&args.task_id).map_err(CliError::from)?;
    let question = format!(
        "cancel task {} and restore {} to an empty instance?",
        task.id, task.destination.name
    );
    if !confirm(&question, args.yes)? {
        return Ok(0);
    }
    let task = tasks
        .cancel(task.id.as_str())
        .await
        .map_err(CliError::from)?;
    if args.json {
        print_json(&task)?;
    } else {
        println!(
            "task {} cancelled: {} is empty and running again; slot {} dropped",
            task.id, task.destination.name, task.layout.slot_name
        );
    }
    Ok(0)
}

/// `task history`: the lag over a period, one line per bucket (or one JSON document).
fn history(tasks: &Tasks, args: &HistoryArgs) -> Result<i32, CliError> {
    let task = tasks.get(&args.task_id).map_err(CliError::from)?;
    let history = tasks.lag(&task.id, args.period).map_err(CliError::from)?;
    if args.json {
        print_json(&history)?;
        return Ok(0);
    }
    println!(
        "task {}: lag from {} to {}, {} s per line (most behind in each)",
        task.id, history.from, history.to, history.width_secs
    );
    let rows: Vec<[String; 5]> = history
        .buckets
        .iter()
        .map(|b| {
            [
                b.start.clone(),
                b.samples.to_string(),
                b.bytes_max
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
                b.secs_max
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_else(|| "-".into()),
                match b.worst {
                    Some(w) if b.not_streaming > 0 => {
                        format!("{w} ({} samples not streaming)", b.not_streaming)
                    }
                    Some(w) => w.to_string(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    print_table(
        &[
            "START",
            "SAMPLES",
            "BYTES BEHIND",
            "SECONDS BEHIND",
            "STATE",
        ],
        &rows,
    );
    Ok(0)
}

/// Where `follow` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The task's whole stored history (a task just started: all of it is new).
    All,
    /// The present: JSON lines from the next event; text after a few recent ones.
    Now,
    /// After this stored event.
    After(i64),
}

/// When `follow` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Once the destination streams (or the task fails).
    Streaming,
    /// When the task ends (success, cancelled, failed) — or Ctrl-C.
    Ended,
}

/// Prints the task's events as they are stored, until `until`. Ctrl-C cancels the task when
/// `cancel_on_interrupt` and the copy is not done yet; otherwise it only stops following.
pub async fn follow(
    tasks: &Tasks,
    id: &TaskId,
    json: bool,
    until: Until,
    cancel_on_interrupt: bool,
    start: Start,
) -> Result<i32, CliError> {
    let mut printer = Printer::new(json);
    let after = match start {
        Start::All => 0,
        Start::After(seq) => seq,
        Start::Now if json => tasks.newest_seq(id).map_err(CliError::from)?,
        Start::Now => {
            // A few recent events for context, read newest first: a months-old task's whole
            // history is never loaded.
            let mut recent = tasks
                .events_before(id, None, 20, true)
                .map_err(CliError::from)?;
            recent.reverse();
            for e in &recent {
                printer.event(e);
            }
            match recent.last() {
                Some(e) => e.seq,
                None => tasks.newest_seq(id).map_err(CliError::from)?,
            }
        }
    };
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let started = std::time::Instant::now();
    // The same watch the desktop app uses (a task driven on a host is read from there).
    let mut watch = tasks.watch(id, after).map_err(CliError::from)?;
    let mut last = after;
    loop {
        while let Some(e) = watch.try_recv() {
            if e.seq > last {
                last = e.seq;
            }
            printer.event(&e);
        }
        let task = tasks.get(id.as_str()).map_err(CliError::from)?;
        if let Some(code) = finished(&task, until) {
            // What was stored before the task got there and is still on its way.
            for e in tasks.events(id, last).map_err(CliError::from)? {
                printer.event(&e);
            }
            printer.done();
            if code == 0 && until == Until::Streaming {
                // The standby streams inside PostgreSQL; stop monitoring from this process.
                tasks.detach(id).await;
                if !json {
                    println!(
                        "task {} is streaming: {} follows {} ({}); watch it with `pgrelocate task follow {}`",
                        task.id, task.destination.name, task.source.name, task.mode.as_str(), task.id
                    );
                }
            } else {
                tasks.shutdown().await;
            }
            if let (Phase::Failed, Some(e)) = (task.phase, &task.error) {
                return Err(CliError::Engine {
                    code: ErrorCode::TaskFailed,
                    message: format!("task {} failed: {e}", task.id),
                });
            }
            return Ok(code);
        }
        if until == Until::Streaming && started.elapsed() > STREAMING_TIMEOUT {
            return Err(CliError::Engine {
                code: ErrorCode::Timeout,
                message: "gave up waiting for streaming".into(),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = &mut interrupted => {
                printer.done();
                let before_copy_done = matches!(task.phase, Phase::Precheck | Phase::Basebackup);
                if cancel_on_interrupt && before_copy_done {
                    eprintln!("interrupted: cancelling task {} and restoring the destination", task.id);
                    let task = tasks.cancel(task.id.as_str()).await.map_err(CliError::from)?;
                    eprintln!("task {} cancelled", task.id);
                    return Ok(1);
                }
                tasks.shutdown().await;
                eprintln!("stopped following task {} ({}/{}); the servers carry on", task.id, task.phase, task.replication);
                return Ok(0);
            }
        }
    }
}

/// The exit code once the task is where `until` wants it.
fn finished(task: &Task, until: Until) -> Option<i32> {
    match task.phase {
        Phase::Failed => Some(1),
        Phase::Cancelled | Phase::Success => Some(0),
        Phase::Increment
            if until == Until::Streaming && task.replication == ReplicationState::Streaming =>
        {
            Some(0)
        }
        _ => None,
    }
}

/// Turns events into a progress bar and lines (stderr), or JSON lines (stdout).
struct Printer {
    json: bool,
    bar: Option<ProgressBar>,
}

impl Printer {
    fn new(json: bool) -> Printer {
        Printer { json, bar: None }
    }

    fn event(&mut self, e: &TaskEvent) {
        if self.json {
            if let Ok(line) = serde_json::to_string(e) {
                println!("{line}");
            }
            return;
        }
        match &e.kind {
            EventKind::Copy(p) => {
                if !std::io::stderr().is_terminal() {
                    return;
                }
                let bar = self.bar.get_or_insert_with(new_bar);
                if let Some(total) = p.bytes_total {
                    bar.set_length(total);
                }
                bar.set_position(p.bytes_done);
                bar.set_message(format!("full copy: {}", p.stage));
            }
            EventKind::Sample(s) => self.line(&format!("{}  {}", e.at, describe_sample(s))),
            EventKind::Phase {
                from,
                to,
                operation,
            } => {
                let of = operation
                    .map(|o| format!(" ({})", o.as_str()))
                    .unwrap_or_default();
                self.line(&format!("{}  phase {from} → {to}{of}", e.at))
            }
            EventKind::Replication { from, to } => {
                self.line(&format!("{}  replication {from} → {to}", e.at))
            }
            EventKind::Step(step) => self.line(&format!("{}  {step}", e.at)),
            EventKind::Note { message } => self.line(&format!("{}  {message}", e.at)),
            EventKind::Warning(w) => self.line(&format!("{}  warning: {w}", e.at)),
            EventKind::Error { message } => self.line(&format!("{}  error: {message}", e.at)),
        }
    }

    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn done(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:<22} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
