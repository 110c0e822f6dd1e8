//! `pgrelocate report list|show|export`: stored assessment reports.

use std::io::IsTerminal;

use pgrelocate_engine::assess::export::{self, Format};
use pgrelocate_engine::store::reports;

use crate::args::{ReportArgs, ReportCommand, ReportFormat};
use crate::exit::CliError;
use crate::output::{print_json, print_table};
use crate::state::open;

/// Runs one `report` subcommand.
pub async fn run(command: ReportCommand) -> Result<i32, CliError> {
    let instances = open()?;
    let store = instances.store();
    match command {
        ReportCommand::List { json } => {
            let list = reports::list(store).map_err(CliError::from)?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("no reports yet: run pgrelocate assess --source NAME --dest NAME");
            } else {
                let rows: Vec<[String; 6]> = list
                    .iter()
                    .map(|r| {
                        [
                            r.id.clone(),
                            r.created_at.clone(),
                            format!("{} → {}", r.source, r.destination),
                            r.mode.as_str().to_string(),
                            r.verdict.label().to_string(),
                            format!("{} errors, {} warnings", r.counts.errors, r.counts.warnings),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "ID",
                        "CREATED",
                        "SOURCE → DEST",
                        "MODE",
                        "VERDICT",
                        "FINDINGS",
                    ],
                    &rows,
                );
            }
            Ok(0)
        }
        ReportCommand::Show(args) | ReportCommand::Export(args) => output(store, args),
    }
}

fn output(store: &pgrelocate_engine::store::Store, args: ReportArgs) -> Result<i32, CliError> {
    let report = reports::get(store, &args.report_id).map_err(CliError::from)?;
    let format = match args.format {
        ReportFormat::Json => Format::Json,
        ReportFormat::Html => Format::Html,
        ReportFormat::Md => Format::Md,
        ReportFormat::Text => Format::Text,
    };
    match &args.out {
        Some(path) => {
            export::write_file(&report, format, path).map_err(CliError::from)?;
            eprintln!("report {} written to {}", report.id, path.display());
        }
        None if format == Format::Text => {
            print!("{}", export::text(&report, std::io::stdout().is_terminal()));
        }
        None => print!("{}", export::render(&report, format)),
    }
    Ok(0)
}
