//! `pgrelocate sandbox plan|create|remove`: a demo source with data and an empty destination.

use pgrelocate_engine::sandbox;

use crate::args::SandboxCommand;
use crate::exit::CliError;
use crate::prompt::confirm;
use crate::state::open;

/// Runs one `sandbox` subcommand.
pub async fn run(command: SandboxCommand) -> Result<i32, CliError> {
    let instances = open()?;
    match command {
        SandboxCommand::Plan { major } => {
            let plan = sandbox::plan(&instances, major)
                .await
                .map_err(CliError::from)?;
            println!(
                "sandbox create would use PostgreSQL {} from {}",
                plan.version,
                plan.bin_dir.display()
            );
            println!(
                "  source       {} on 127.0.0.1:{}",
                sandbox::SOURCE,
                plan.source_port
            );
            println!(
                "  destination  {} on 127.0.0.1:{}",
                sandbox::DESTINATION,
                plan.destination_port
            );
            Ok(0)
        }
        SandboxCommand::Create { major } => {
            let made = sandbox::create(&instances, major)
                .await
                .map_err(CliError::from)?;
            let m = made.source.managed.as_ref().expect("managed");
            println!(
                "sandbox ready: PostgreSQL {} from {}",
                m.major,
                m.bin_dir.display()
            );
            println!(
                "  source       {} on {} (pgbench tables, database {}, tablespace {}, a large object, \
                 an unlogged table, table {}{})",
                made.source.name,
                made.source.endpoint.address(),
                sandbox::SECOND_DATABASE,
                sandbox::TABLESPACE,
                sandbox::NON_ASCII_TABLE,
                made.extension
                    .as_deref()
                    .map(|e| format!(", extension {e}"))
                    .unwrap_or_default()
            );
            println!(
                "  destination  {} on {} (empty)",
                made.destination.name,
                made.destination.endpoint.address()
            );
            println!(
                "next: pgrelocate assess --source {} --dest {}",
                made.source.name, made.destination.name
            );
            Ok(0)
        }
        SandboxCommand::Remove { yes } => {
            if !confirm("Remove the sandbox instances and delete their data?", yes)? {
                eprintln!("nothing removed");
                return Ok(1);
            }
            let removed = sandbox::remove(&instances).await.map_err(CliError::from)?;
            if removed.is_empty() {
                println!("no sandbox to remove");
            } else {
                println!("removed {}", removed.join(", "));
            }
            Ok(0)
        }
    }
}
