//! `pgrelocate`: the headless command line over the engine. See `pgrelocate --help`.

mod access;
mod args;
mod assess;
mod backup;
mod exit;
mod host;
mod instance;
mod logging;
mod migrate;
mod output;
mod prompt;
mod report;
mod sandbox;
mod state;
mod switchover;
mod task;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::CliError;

fn main() {
    let cli = Cli::parse();
    // Every subcommand's flag has the same name (`report` says `--format json`), and clap
    // has accepted the line by now.
    let words: Vec<String> = std::env::args().skip(1).collect();
    let json = words.iter().any(|a| a == "--json" || a == "--format=json")
        || words
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
    logging::init(cli.verbose);
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pgrelocate: {err}");
            // With --json a failure is a document too: the same {code, message} the desktop
            // app's IPC carries. An assessment with blocking errors printed its report.
            if json && !matches!(err, CliError::AssessmentFailed) {
                if let Ok(text) = serde_json::to_string_pretty(&err.body()) {
                    println!("{text}");
                }
            }
            err.exit_code()
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            what: "cannot start the async runtime",
            source,
        })?;
    runtime.block_on(async move {
        match cli.command {
            Command::Instance(command) => instance::run(command).await,
            Command::Assess(args) => assess::run(args).await,
            Command::Report(command) => report::run(command).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Task(command) => task::run(command).await,
            Command::Switchover(args) => switchover::run_switchover(args).await,
            Command::Failover(args) => switchover::run_failover(args).await,
            Command::Access(command) => access::run(command).await,
            Command::Backup(args) => backup::run(args).await,
            Command::Sandbox(command) => sandbox::run(command).await,
            Command::Host(command) => host::run(command).await,
            Command::Agent(args) => {
                let served = if args.drive {
                    pgrelocate_engine::agent::tasks::drive_stdin().await
                } else if args.operate {
                    pgrelocate_engine::agent::tasks::operate_stdin().await
                } else {
                    pgrelocate_engine::agent::serve::serve_stdio().await
                };
                served.map_err(|source| CliError::Io {
                    what: "the agent's channel failed",
                    source,
                })?;
                Ok(0)
            }
            Command::Home => {
                let dir = pgrelocate_engine::home::state_dir()?;
                println!("{}", dir.display());
                Ok(0)
            }
        }
    })
}
