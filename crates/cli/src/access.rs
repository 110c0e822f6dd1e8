//! `pgrelocate access show|apply|undo TASK_ID`: the source's client rules the destination
//! would refuse, written as a marked block at the top of its `pg_hba.conf`, and removed.

use std::io::IsTerminal;
use std::sync::Arc;

use pgrelocate_engine::access::{self, AccessDiff, AccessOutcome, Origin};
use pgrelocate_engine::task::Tasks;

use crate::args::{AccessApplyArgs, AccessCommand};
use crate::exit::CliError;
use crate::output::print_json;
use crate::prompt::ask;
use crate::state::open;

/// Runs `access …`.
pub async fn run(command: AccessCommand) -> Result<i32, CliError> {
    let tasks = Tasks::new(Arc::new(open()?));
    match command {
        AccessCommand::Show(args) => {
            let diff = access::show(&tasks, &args.task_id).await?;
            if args.json {
                print_json(&diff)?;
            } else {
                print_diff(&diff);
            }
            Ok(0)
        }
        AccessCommand::Apply(args) => apply(&tasks, &args).await,
        AccessCommand::Undo(args) => {
            let outcome = access::undo(&tasks, &args.task_id).await?;
            if args.json {
                print_json(&outcome)?;
            } else if outcome.changed {
                println!(
                    "Removed task {}'s access rules from the destination's pg_hba.conf and reloaded it.",
                    args.task_id
                );
            } else {
                println!("No access rules of task {} to remove.", args.task_id);
            }
            Ok(0)
        }
    }
}

async fn apply(tasks: &Tasks, args: &AccessApplyArgs) -> Result<i32, CliError> {
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(
                "refusing to change the destination's pg_hba.conf without confirmation: review \
                 it with `pgrelocate access show TASK_ID`, then pass --yes"
                    .into(),
            ));
        }
        let diff = access::show(tasks, &args.task_id).await?;
        print_diff(&diff);
        if diff.pending.is_empty() {
            return Ok(0);
        }
        if !ask("Write these rules at the top of the destination's pg_hba.conf and reload it?")? {
            eprintln!("nothing changed");
            return Ok(1);
        }
    }
    let outcome = access::apply_rules(tasks, &args.task_id).await?;
    if args.json {
        print_json(&outcome)?;
    } else {
        print_outcome(&outcome);
    }
    Ok(0)
}

fn print_outcome(o: &AccessOutcome) {
    let Some(rules) = &o.rules else { return };
    if o.changed {
        println!(
            "Wrote {} rule(s) at the top of {} and reloaded it; pg_hba_file_rules reports no error.",
            rules.applied.len(),
            rules.dest_file
        );
    } else {
        println!("Nothing to change: {}", summary(rules));
    }
}

fn summary(d: &AccessDiff) -> String {
    if d.has_pending() {
        format!("{} source rule(s) still refused", d.pending.len())
    } else if d.applied.is_empty() {
        "the destination admits every client network the source admits".into()
    } else {
        format!(
            "the destination admits every client network the source admits ({} rule(s) carried)",
            d.applied.len()
        )
    }
}

fn print_diff(d: &AccessDiff) {
    let origin = match d.origin {
        Origin::FileRules => "the source's pg_hba_file_rules",
        Origin::CopiedFile => "the copy's pg_hba.conf.from-source",
    };
    println!("Source rules from {origin}; destination {}", d.dest_file);
    if !d.applied.is_empty() {
        println!("In force (task {}'s block):", d.task_id);
        for l in &d.applied {
            println!("  {l}");
        }
    }
    if d.pending.is_empty() {
        println!("{}.", summary(d));
    } else {
        println!("Would be refused by the destination; `access apply` writes at its top:");
        for p in &d.pending {
            println!("+ {}", p.line);
            for r in &p.refused {
                println!("    {r}");
            }
        }
    }
    for s in &d.skipped {
        println!("not carried: {} ({})", s.line, s.reason);
    }
}
