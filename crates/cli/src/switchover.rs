//! `pgrelocate switchover TASK_ID` and `pgrelocate failover TASK_ID`: the guardrails and the
//! fence that will be used, a confirmation, then each step live and the measured
//! write-unavailability window. With `--json`, one JSON document at the end holding every
//! step and the report (or the error). Exit 0 on success, 1 when the operation was refused,
//! rolled back or failed (the message says whether the source takes writes again), 2 for a
//! missing confirmation.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pgrelocate_engine::switchover::{
    describe, FailoverPreview, FailoverReport, Guardrail, GuardrailStatus, Hook, NextStep, Options,
    Outcome as Ending, Preview, Progress, SlotOutcome, SwitchoverError, SwitchoverReport,
};
use pgrelocate_engine::task::{TaskError, Tasks};
use pgrelocate_engine::ErrorCode;
use serde::Serialize;

use crate::args::{FailoverArgs, SwitchoverArgs};
use crate::exit::{exit_status, CliError};
use crate::output::print_json;
use crate::state::open;

/// The document `--json` prints.
#[derive(Serialize)]
struct Outcome<'a, R: Serialize> {
    task_id: &'a str,
    operation: &'static str,
    /// How it ended (the engine's outcome: `success`, `refused`, `rolled_back`, …).
    outcome: Ending,
    /// The failure's code, when it failed.
    code: Option<ErrorCode>,
    error: Option<String>,
    steps: Vec<Progress>,
    report: Option<R>,
}

/// Prints steps as they happen (a terminal or a log) and keeps them for `--json`.
struct Live {
    json: bool,
    started: Instant,
    steps: Mutex<Vec<Progress>>,
}

impl Live {
    fn new(json: bool) -> Live {
        Live {
            json,
            started: Instant::now(),
            steps: Mutex::new(Vec::new()),
        }
    }

    fn step(&self, p: &Progress) {
        self.steps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.clone());
        if self.json {
            return;
        }
        let at = self.started.elapsed().as_secs_f64();
        match p {
            Progress::Guardrails { checks } => print_guardrails(checks),
            other => {
                if let Some(line) = describe(other) {
                    println!("[{at:7.3}s] {line}");
                }
            }
        }
        let _ = std::io::stdout().flush();
    }

    fn steps(&self) -> Vec<Progress> {
        std::mem::take(&mut *self.steps.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn print_guardrails(checks: &[Guardrail]) {
    println!("Guardrails:");
    for c in checks {
        let mark = match c.status {
            GuardrailStatus::Pass => "ok     ",
            GuardrailStatus::Warning => "warning",
            GuardrailStatus::Error => "error  ",
        };
        println!("  {mark} {:<32} {}", c.title(), c.finding);
    }
}

/// Every fence with its guarantee, the one that will be used marked `*` (an unavailable
/// one says why not).
fn print_fences(preview: &Preview) {
    if preview.fences.is_empty() {
        return;
    }
    println!("Fences:");
    for c in &preview.fences {
        let chosen = preview.strategy == Some(c.strategy);
        let mark = if chosen { "*" } else { " " };
        let default = if preview.default_strategy == Some(c.strategy) {
            " (default)"
        } else {
            ""
        };
        if c.available {
            println!("  {mark} {}{default}: {}", c.strategy, c.guarantee);
        } else {
            println!("  {mark} {}: unavailable: {}", c.strategy, c.finding);
        }
    }
    if let Some(strategy) = preview.strategy {
        println!("Fence: {strategy}. Guarantee: {}", strategy.guarantee());
    }
}

/// Asks `question` on the terminal; without one, `--yes` is required.
fn confirm(question: &str, yes: bool) -> Result<bool, CliError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "refusing to proceed without confirmation: pass --yes".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|source| CliError::Io {
            what: "cannot read the answer",
            source,
        })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// The error as the CLI reports it, with what the DBA should know next.
fn failure(e: TaskError) -> CliError {
    let busy = matches!(e, TaskError::Busy(_));
    let error = CliError::from(e);
    if busy {
        return error
            .with_advice("stop following it there (or close the desktop app) and try again");
    }
    error
}

/// The `--json` fields of a failed operation: outcome, code, message.
fn failed(e: TaskError) -> (Ending, Option<ErrorCode>, Option<String>) {
    let outcome = e.outcome();
    let error = failure(e);
    (outcome, Some(error.code()), Some(error.to_string()))
}

/// Runs `switchover`.
pub async fn run_switchover(args: SwitchoverArgs) -> Result<i32, CliError> {
    let tasks = Tasks::new(Arc::new(open()?));
    let task = tasks.get(&args.task_id).map_err(CliError::from)?;
    let hook = match &args.hook {
        Some(command) => Some(
            Hook::new(command, args.hook_timeout, args.hook_at.into()).map_err(CliError::engine)?,
        ),
        None => None,
    };
    let options = Options {
        catchup_timeout: Duration::from_secs(args.timeout),
        strategy: args.fence.map(Into::into),
        hook,
        ..Options::default()
    };
    if args.preview || !args.yes {
        let preview = tasks
            .switchover_preview(task.id.as_str(), &options)
            .await
            .map_err(failure)?;
        if args.preview && args.json {
            print_json(&preview)?;
            return Ok(0);
        }
        if !args.json {
            print_guardrails(&preview.guardrails);
            print_fences(&preview);
        }
        if args.preview {
            return Ok(0);
        }
        if !preview.ready {
            return Err(CliError::engine(preview.refusal(&options)));
        }
        let question = format!(
            "Switch task {} over from {} to {}? Writes to the source will be stopped and its \
             sessions terminated; applications must reconnect to the destination; the source \
             stays fenced afterwards.",
            task.id, task.source.name, task.destination.name
        );
        if !confirm(&question, false)? {
            eprintln!("switchover not started");
            return Ok(1);
        }
    }
    let live = Live::new(args.json);
    let result = tasks
        .switchover(task.id.as_str(), &options, &|p| live.step(p))
        .await;
    if args.json {
        let ((outcome, error_code, error), report) = match result {
            Ok(r) => ((Ending::Success, None, None), Some(r)),
            Err(e) => (failed(e), None),
        };
        print_json(&Outcome::<SwitchoverReport> {
            task_id: task.id.as_str(),
            operation: "switchover",
            outcome,
            code: error_code,
            error,
            steps: live.steps(),
            report,
        })?;
        return Ok(error_code.map_or(0, exit_status));
    }
    let report = result.map_err(failure)?;
    print_switchover(&report);
    warn_housekeeping(&tasks, task.id.as_str());
    Ok(0)
}

/// Says which housekeeping step after promotion failed, if any (the task is `success`; the
/// next command retries it).
fn warn_housekeeping(tasks: &Tasks, id: &str) {
    let Ok(task) = tasks.get(id) else { return };
    for entry in task.housekeeping.iter().flat_map(|h| &h.steps) {
        if let Some(error) = &entry.error {
            println!(
                "Warning: housekeeping step {} failed: {error}; `pgrelocate task status {id}` retries it",
                entry.step
            );
        }
    }
}

fn print_switchover(r: &SwitchoverReport) {
    let w = &r.window;
    println!();
    println!(
        "Switchover complete: the new primary is {} (timeline {}).",
        r.new_primary,
        r.timeline
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    println!(
        "Writes were unavailable for {} ms ({}).",
        w.write_unavailable_ms,
        w.steps
            .iter()
            .map(|s| format!("{} {} ms", s.step, s.ms))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("Fence: {}. Guarantee: {}", r.strategy, r.guarantee);
    if let Some(h) = &r.hook {
        println!(
            "Endpoint hook ({}): {} in {} ms{}.",
            h.at,
            if h.succeeded() { "succeeded" } else { "FAILED" },
            h.elapsed_ms,
            if h.at == pgrelocate_engine::switchover::HookAt::BeforePromotion {
                ", inside the window"
            } else {
                ", after the window"
            }
        );
    }
    println!(
        "The destination replayed up to {} (the source's final position: {}).",
        r.replayed_lsn, r.source_final_lsn
    );
    print_slot(&r.slot);
    for w in &r.warnings {
        println!("Warning: {w}");
    }
    print_next(&r.next_steps);
}

fn print_slot(slot: &SlotOutcome) {
    match slot {
        SlotOutcome::Dropped { slot } => println!("Slot {slot} was dropped on the source."),
        SlotOutcome::Kept {
            slot,
            reason,
            drop_with,
        } => println!("Slot {slot} is still on the source ({reason}): {drop_with}"),
    }
}

pub(crate) fn print_next(steps: &[NextStep]) {
    println!("What to do next:");
    for (i, s) in steps.iter().enumerate() {
        println!("  {}. {s}", i + 1);
        // Each command alone on its line, so a triple-click copies exactly it.
        for command in s.commands() {
            println!("       {command}");
        }
    }
}

/// What a failover would cost, as read now.
fn print_failover_preview(p: &FailoverPreview) {
    print_guardrails(&p.guardrails);
    println!("Read at {}:", p.read_at);
    match (&p.source_lsn, &p.source_error) {
        (Some(at), _) => println!(
            "  source       ANSWERS, at {at}: a failover does not stop it; writes there after \
             the promotion are not on the destination"
        ),
        (None, error) => println!(
            "  source       does not answer{}{}",
            error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
            p.source_unreachable_since
                .as_ref()
                .map(|s| format!("; disconnected since {s}"))
                .unwrap_or_default()
        ),
    }
    let lsn = |l: Option<pgrelocate_engine::wire::Lsn>| {
        l.map(|l| l.to_string()).unwrap_or_else(|| "unknown".into())
    };
    let at = |t: &Option<String>| t.as_ref().map(|t| format!(" at {t}")).unwrap_or_default();
    println!(
        "  received     up to {}{}",
        lsn(p.received_lsn),
        at(&p.received_at)
    );
    println!(
        "  replayed     up to {} (last transaction committed{})",
        lsn(p.replayed_lsn),
        p.replayed_at
            .as_ref()
            .map(|t| format!(" {t}"))
            .unwrap_or_else(|| " at an unknown time".into())
    );
    let bytes = match p.loss_bytes {
        Some(b) => format!("{b} byte(s) of WAL the source has and the destination did not replay"),
        None => "bytes unknown (the source does not answer)".into(),
    };
    let since = p
        .loss_since_replay_ms
        .map(|ms| {
            format!(
                "; at most what was committed in the last {:.0} s (since the last replayed transaction)",
                ms as f64 / 1000.0
            )
        })
        .unwrap_or_else(|| {
            "; no transaction was replayed since the standby started, so its age is unknown"
                .into()
        });
    println!("  est. loss    {bytes}{since}");
    println!("  new primary  {}", p.new_endpoint);
}

/// Runs `failover`.
pub async fn run_failover(args: FailoverArgs) -> Result<i32, CliError> {
    let tasks = Tasks::new(Arc::new(open()?));
    let task = tasks.get(&args.task_id).map_err(CliError::from)?;
    if args.preview || !args.yes {
        let preview = tasks
            .failover_preview(task.id.as_str())
            .await
            .map_err(failure)?;
        if args.preview && args.json {
            print_json(&preview)?;
            return Ok(0);
        }
        if !args.json {
            print_failover_preview(&preview);
        }
        if args.preview {
            return Ok(0);
        }
        if !preview.ready {
            let refused = SwitchoverError::FailoverRefused {
                checks: preview.guardrails,
            };
            return Err(CliError::engine(refused));
        }
    }
    let question = format!(
        "Fail task {} over: promote {} without fencing {}? Use this when the source is lost: \
         anything written to the source from now on will not be on the destination.",
        task.id, task.destination.name, task.source.name
    );
    if !confirm(&question, args.yes)? {
        eprintln!("failover not started");
        return Ok(1);
    }
    let live = Live::new(args.json);
    let result = tasks.failover(task.id.as_str(), &|p| live.step(p)).await;
    if args.json {
        let ((outcome, error_code, error), report) = match result {
            Ok(r) => ((Ending::Success, None, None), Some(r)),
            Err(e) => (failed(e), None),
        };
        print_json(&Outcome::<FailoverReport> {
            task_id: task.id.as_str(),
            operation: "failover",
            outcome,
            code: error_code,
            error,
            steps: live.steps(),
            report,
        })?;
        return Ok(error_code.map_or(0, exit_status));
    }
    let report = result.map_err(failure)?;
    println!();
    println!(
        "Failover complete: the destination is the primary (timeline {}); promotion took {} ms.",
        report
            .timeline
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into()),
        report.promote_ms
    );
    if let Some(since) = &report.source_unreachable_since {
        println!("The source had been unreachable since {since}.");
    }
    println!(
        "Last replayed position: {} (everything up to it is on the destination).",
        report.last_replayed_lsn
    );
    match (report.source_lsn, report.gap_bytes) {
        (Some(at), Some(gap)) => println!(
            "The source still answers, at {at}: it has {gap} byte(s) of WAL the destination does not."
        ),
        _ => println!("The source does not answer: the gap cannot be measured."),
    }
    print_slot(&report.slot);
    for w in &report.warnings {
        println!("Warning: {w}");
    }
    print_next(&report.next_steps);
    warn_housekeeping(&tasks, task.id.as_str());
    Ok(0)
}
