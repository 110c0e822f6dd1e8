//! `pgrelocate migrate`: starts a migration or DR task from the newest assessment of the two
//! instances (running one first when there is none), shows the full copy's progress bar (or
//! JSON lines with `--json`), and returns once the destination streams — or keeps following
//! with `--follow`. Ctrl-C before streaming cancels the task and restores the destination;
//! after it, pgrelocate just stops watching (the standby keeps streaming).

use std::sync::Arc;

use pgrelocate_engine::assess::{self, AssessRequest, Mode, Options, Verdict};
use pgrelocate_engine::backup::{Compression, MaxRate, TablespaceMapping};
use pgrelocate_engine::task::{CopyOptions, TaskError, TaskRequest, Tasks};

use crate::args::{self, MigrateArgs};
use crate::exit::CliError;
use crate::state::open;
use crate::task::{follow, Start, Until};

/// Runs `migrate`.
pub async fn run(args: MigrateArgs) -> Result<i32, CliError> {
    let options = copy_options(&args)?;
    let mode = match args.mode {
        args::Mode::Migration => Mode::Migration,
        args::Mode::Dr => Mode::Dr,
    };
    let instances = Arc::new(open()?);
    let tasks = Tasks::new(instances.clone());
    let request = TaskRequest {
        source: args.source.clone(),
        dest: args.dest.clone(),
        mode,
        report_id: None,
        options,
    };
    let task = match tasks.create(request.clone()).await {
        Err(TaskError::NoReport { .. }) => {
            if !assess_first(&tasks, &args, mode).await? {
                return Err(CliError::AssessmentFailed);
            }
            tasks.create(request).await.map_err(CliError::from)?
        }
        other => other.map_err(CliError::from)?,
    };
    if !args.json {
        eprintln!(
            "task {} started: {} → {} ({}); follow it with `pgrelocate task follow {}`",
            task.id,
            task.source.name,
            task.destination.name,
            mode.as_str(),
            task.id
        );
    }
    // An old report, or one of a source that has grown since, understates the copy.
    match assess::freshness(tasks.instances(), &task.report_id).await {
        Ok(f) => {
            if let Some(why) = f.describe() {
                eprintln!(
                    "warning: {why}; to re-assess, cancel with `pgrelocate task cancel {}` and run                      `pgrelocate assess --source {} --dest {}`",
                    task.id, task.source.name, task.destination.name
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "the assessment's freshness could not be judged"),
    }
    let until = if args.follow {
        Until::Ended
    } else {
        Until::Streaming
    };
    follow(&tasks, &task.id, args.json, until, true, Start::All).await
}

/// Runs the assessment the task needs; `false` when it found blocking errors.
async fn assess_first(tasks: &Tasks, args: &MigrateArgs, mode: Mode) -> Result<bool, CliError> {
    let mappings = copy_options(args)?
        .tablespace_mappings
        .into_iter()
        .map(|m| (m.old, m.new))
        .collect();
    if !args.json {
        eprintln!(
            "no assessment of {} → {} yet: assessing first",
            args.source, args.dest
        );
    }
    let report = assess::assess(
        tasks.instances(),
        AssessRequest {
            source: args.source.clone(),
            dest: args.dest.clone(),
            mode,
            options: Options {
                tablespace_mappings: mappings,
                ..Options::default()
            },
        },
        &|_| {},
    )
    .await
    .map_err(CliError::from)?;
    if !args.json {
        eprintln!("report {}: {}", report.id, report.summary_line());
    }
    if report.verdict == Verdict::Error {
        eprintln!(
            "see it with `pgrelocate report show {}`; fix the errors and run migrate again",
            report.id
        );
        return Ok(false);
    }
    Ok(true)
}

fn copy_options(args: &MigrateArgs) -> Result<CopyOptions, CliError> {
    Ok(CopyOptions {
        tablespace_mappings: args
            .tablespace_mappings
            .iter()
            .map(|m| m.parse::<TablespaceMapping>())
            .collect::<Result<_, _>>()
            .map_err(CliError::from)?,
        max_rate: args
            .max_rate
            .as_deref()
            .map(str::parse::<MaxRate>)
            .transpose()
            .map_err(CliError::from)?,
        compression: match args.compress {
            args::Compression::None => Compression::None,
            args::Compression::Lz4 => Compression::Lz4,
            args::Compression::Zstd => Compression::Zstd,
        },
        sync: !args.no_sync,
    })
}
