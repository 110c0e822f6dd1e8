//! `pgrelocate host …`: add, list, check, remove remote hosts (issue 13).

use std::io::IsTerminal;
use std::sync::Arc;

use pgrelocate_engine::host::{AddHostRequest, HostCheck, HostError, HostProgress, Hosts};
use pgrelocate_engine::store::{HostRecord, Store};
use serde::Serialize;

use crate::args::{HostAddArgs, HostCommand};
use crate::exit::CliError;
use crate::output::print_json;
use crate::prompt::ask;

/// Runs one `host` subcommand.
pub async fn run(command: HostCommand) -> Result<i32, CliError> {
    let dir = pgrelocate_engine::home::state_dir()?;
    let hosts = Hosts::new(Arc::new(Store::open(&dir)?), &dir);
    match command {
        HostCommand::Add(args) => add(&hosts, args).await,
        HostCommand::List { json } => list(&hosts, json),
        HostCommand::Check { name, json } => {
            let check = hosts.check(&name, &progress).await?;
            if json {
                print_json(&check)?;
            } else {
                print_check(&check);
            }
            Ok(0)
        }
        HostCommand::Remove { name, json } => {
            hosts.remove(&name).await?;
            if json {
                print_json(&serde_json::json!({ "removed": name }))?;
            } else {
                println!("removed host {name}");
            }
            Ok(0)
        }
    }
}

async fn add(hosts: &Hosts, args: HostAddArgs) -> Result<i32, CliError> {
    let mut req = AddHostRequest {
        name: args.name,
        destination: args.ssh,
        port: args.port,
        identity: args.identity,
        accept_host_key: args.accept_host_key,
    };
    let check = match hosts.add(&req, &progress).await {
        Err(HostError::KeyUnknown { host, offered }) => {
            let interactive = !args.json && std::io::stdin().is_terminal();
            let err = HostError::KeyUnknown {
                host,
                offered: offered.clone(),
            };
            if !interactive {
                let flag = offered
                    .first()
                    .map(|k| {
                        format!(
                            "pass --accept-host-key {} once you have checked it",
                            k.fingerprint
                        )
                    })
                    .unwrap_or_default();
                return Err(CliError::from(err).with_advice(&flag));
            }
            eprintln!("{err}");
            if !ask("Trust this key and add the host?")? {
                return Err(CliError::from(err));
            }
            req.accept_host_key = offered.first().map(|k| k.fingerprint.clone());
            hosts.add(&req, &progress).await?
        }
        other => other?,
    };
    if args.json {
        print_json(&check)?;
    } else {
        println!("added host {}", check.host.name);
        print_check(&check);
    }
    Ok(0)
}

#[derive(Serialize)]
struct HostList<'a> {
    hosts: &'a [HostRecord],
}

fn list(hosts: &Hosts, json: bool) -> Result<i32, CliError> {
    let list = hosts.list()?;
    if json {
        print_json(&HostList { hosts: &list })?;
        return Ok(0);
    }
    if list.is_empty() {
        println!("no hosts registered (add one with `pgrelocate host add NAME --ssh USER@HOST`)");
        return Ok(0);
    }
    println!("{:<20} {:<32} {:<6} HOST KEY", "NAME", "SSH", "PORT");
    for h in &list {
        println!(
            "{:<20} {:<32} {:<6} {}",
            h.name,
            h.destination(),
            h.ssh_port
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            h.host_key.as_deref().unwrap_or("known to ssh"),
        );
    }
    Ok(0)
}

fn progress(step: HostProgress) {
    match step {
        HostProgress::Connecting => eprintln!("connecting over SSH…"),
        HostProgress::KeyAccepted { fingerprint } => eprintln!("host key {fingerprint} accepted"),
        HostProgress::Probing => eprintln!("reading the host…"),
        HostProgress::Uploading { sent, total } => {
            eprintln!("uploading the agent: {} of {}", mib(sent), mib(total))
        }
        HostProgress::Verifying => eprintln!("checking the agent runs there…"),
        HostProgress::StartingAgent => eprintln!("starting the agent…"),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn print_check(check: &HostCheck) {
    let h = &check.host;
    let f = &check.facts;
    println!("  ssh        {} ({} ms)", h.destination(), check.ssh_ms);
    if let Some(port) = h.ssh_port {
        println!("  port       {port}");
    }
    if let Some(key) = &h.host_key {
        println!("  host key   {key}");
    }
    println!("  system     {} {}, user {}", f.os, f.arch, f.user);
    let how = match &check.agent {
        pgrelocate_engine::host::AgentPlacement::Installed { path } => {
            format!("installed at {path}")
        }
        pgrelocate_engine::host::AgentPlacement::Cached { path } => format!("cached at {path}"),
        pgrelocate_engine::host::AgentPlacement::Uploaded { path, bytes } => {
            format!("uploaded to {path} ({})", mib(*bytes))
        }
    };
    println!("  agent      pgrelocate {}, {how}", f.version);
    println!("  state      {}", f.state_dir.display());
    if f.installations.is_empty() {
        println!("  PostgreSQL none found");
    }
    for i in &f.installations {
        println!(
            "  PostgreSQL {}.{} in {}{}",
            i.version.major,
            i.version.minor,
            i.bin_dir.display(),
            if i.can_run_servers {
                ""
            } else {
                " (client tools only)"
            }
        );
    }
}
