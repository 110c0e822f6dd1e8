//! `pgrelocate instance …`: register, create, start, stop, status, remove, list, discover.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use pgrelocate_engine::instances::{
    AdoptRequest, CreateRequest, InstanceStatus, Instances, RegisterRequest,
};
use pgrelocate_engine::retirement::Retirement;
use pgrelocate_engine::sql::ConnectionTest;
use pgrelocate_engine::task::Tasks;
use pgrelocate_engine::{Endpoint, Password, SslMode};
use serde::Serialize;

use crate::args::{
    AdoptArgs, CreateArgs, InstanceCommand, RegisterArgs, RemoveArgs, StartArgs, StatusArgs,
};
use crate::exit::CliError;
use crate::output::{bytes, print_json, print_table};
use crate::prompt::confirm;
pub use crate::state::open;

/// Runs one `instance` subcommand.
pub async fn run(command: InstanceCommand) -> Result<i32, CliError> {
    let instances = Arc::new(open()?);
    if matches!(
        command,
        InstanceCommand::List { .. } | InstanceCommand::Status(_)
    ) {
        // A switchover that stopped before storing the destination's new login is finished
        // first, so the status reads the destination with the right one.
        Tasks::new(instances.clone()).settle_housekeeping().await;
    }
    match command {
        InstanceCommand::List { json } => list(&instances, json).await,
        InstanceCommand::Register(args) => register(&instances, args).await,
        InstanceCommand::Create(args) => create(&instances, args).await,
        InstanceCommand::Adopt(args) => adopt(&instances, args).await,
        InstanceCommand::Start(args) => start(&instances, args).await,
        InstanceCommand::Stop(a) => {
            instances.stop(&a.name).await.map_err(CliError::from)?;
            println!("stopped {} (fast shutdown)", a.name);
            Ok(0)
        }
        InstanceCommand::Status(args) => status(&instances, args).await,
        InstanceCommand::Remove(args) => remove(&instances, args).await,
        InstanceCommand::Discover { json } => discover(&instances, json).await,
        InstanceCommand::Logs { name, lines } => {
            let tail = pgrelocate_engine::inspect::server_log(&instances, &name, lines)
                .await
                .map_err(CliError::from)?;
            if tail.truncated {
                eprintln!("(earlier lines of {} left out)", tail.path.display());
            }
            for line in &tail.lines {
                println!("{line}");
            }
            Ok(0)
        }
        InstanceCommand::Prepare { name, json } => prepare(&instances, &name, json).await,
        InstanceCommand::Parameters { name, json } => {
            let params = pgrelocate_engine::inspect::parameters(&instances, &name)
                .await
                .map_err(CliError::from)?;
            if json {
                print_json(&params)?;
            } else {
                let rows: Vec<[String; 3]> = params
                    .iter()
                    .map(|p| {
                        let pending = if p.pending_restart {
                            " (restart pending)"
                        } else {
                            ""
                        };
                        [
                            p.name.clone(),
                            format!("{}{pending}", p.value),
                            p.source.clone(),
                        ]
                    })
                    .collect();
                print_table(&["PARAMETER", "VALUE", "SOURCE"], &rows);
            }
            Ok(0)
        }
    }
}

async fn register(instances: &Instances, args: RegisterArgs) -> Result<i32, CliError> {
    let sslmode: SslMode = args
        .sslmode
        .parse()
        .map_err(|e: pgrelocate_engine::endpoint::EndpointError| CliError::from(e))?;
    let mut endpoint = Endpoint::new(
        &args.host,
        args.port,
        &args.user,
        Some(&args.dbname),
        sslmode,
    )?;
    if let Some(root) = &args.ssl_root_cert {
        let root = std::path::absolute(root)
            .map_err(|e| CliError::Usage(format!("{}: {e}", root.display())))?;
        if !root.is_file() {
            return Err(CliError::Usage(format!(
                "root certificate {} does not exist",
                root.display()
            )));
        }
        endpoint.ssl_root_cert = Some(root);
    }
    endpoint.connect_timeout_secs = args.connect_timeout;
    endpoint.require_auth = args.require_auth.clone();
    let password = if args.password_stdin {
        Some(read_password_stdin()?)
    } else if std::io::stdin().is_terminal() {
        prompt_password(&endpoint)?
    } else {
        None
    };
    let (record, test) = instances
        .register(RegisterRequest {
            name: args.name,
            endpoint,
            password,
            test: !args.no_test,
        })
        .await
        .map_err(CliError::from)?;
    let same: Vec<String> = instances
        .same_endpoint(&record)
        .map_err(CliError::from)?
        .into_iter()
        .map(|r| r.name.to_string())
        .collect();
    if !same.is_empty() {
        eprintln!("warning: {}", same_endpoint_warning(&record, &same));
    }
    if args.json {
        #[derive(Serialize)]
        struct Registered<'a> {
            instance: &'a pgrelocate_engine::store::InstanceRecord,
            connection: &'a Option<ConnectionTest>,
            same_endpoint: &'a [String],
        }
        print_json(&Registered {
            instance: &record,
            connection: &test,
            same_endpoint: &same,
        })?;
    } else {
        println!("registered {} ({})", record.name, record.endpoint.address());
        if let Some(t) = &test {
            println!("  {}", describe_test(t));
        }
    }
    Ok(0)
}

/// `instance prepare`: the live checklist, met items ticked, SQL for the rest.
async fn prepare(instances: &Instances, name: &str, json: bool) -> Result<i32, CliError> {
    use pgrelocate_engine::preparation::{self, PrepState, PreparationId};
    let list = preparation::check_source(instances, name)
        .await
        .map_err(CliError::from)?;
    if json {
        print_json(&list)?;
        return Ok(0);
    }
    match &list.unchecked_reason {
        None => println!("{name}, checked as {}:", list.role),
        Some(why) => println!(
            "{name}: not checked ({why}); everything to do for {}:",
            list.role
        ),
    }
    for p in &list.preparations {
        let title = match p.id {
            PreparationId::Account => {
                "migration account (LOGIN, REPLICATION, pg_monitor, CREATEROLE)"
            }
            PreparationId::Fencing => "grants the SQL fence needs",
            PreparationId::Hba => "pg_hba.conf lines for this host",
            PreparationId::WalLevel => "wal_level",
            PreparationId::WalSenders => "WAL senders and replication slots",
        };
        let state = match p.state {
            PrepState::Met => "met",
            PrepState::Missing => "missing",
            PrepState::Unchecked => "to check by hand",
        };
        println!("\n{title}: {state}");
        for r in &p.requirements {
            println!("  [{}] {}", if r.met { "x" } else { " " }, r.what);
        }
        if !p.text.is_empty() {
            for line in p.text.lines() {
                println!("    {line}");
            }
        }
    }
    Ok(0)
}

/// The warning about a second name for a known server (the app words it the same way).
fn same_endpoint_warning(
    record: &pgrelocate_engine::store::InstanceRecord,
    same: &[String],
) -> String {
    format!(
        "{} is already registered as {}: both names reach the same server; \
         do not use one as the source and the other as the destination",
        record.endpoint.address(),
        same.join(", ")
    )
}

async fn adopt(instances: &Instances, args: AdoptArgs) -> Result<i32, CliError> {
    let password = if args.password_stdin {
        read_password_stdin()?
    } else if std::io::stdin().is_terminal() {
        let prompt = format!(
            "Password for {} of the cluster in {}: ",
            args.user,
            args.data_dir.display()
        );
        Password::new(
            rpassword::prompt_password(prompt).map_err(|source| CliError::Io {
                what: "cannot read the password",
                source,
            })?,
        )
    } else {
        return Err(CliError::Usage(
            "adopting a cluster needs its superuser's password: give it with --password-stdin"
                .into(),
        ));
    };
    let record = instances
        .adopt(AdoptRequest {
            name: args.name,
            data_dir: args.data_dir,
            bin_dir: args.bin_dir,
            user: args.user,
            password,
            host: args.host,
        })
        .await
        .map_err(CliError::from)?;
    if args.json {
        print_json(&record)?;
    } else {
        let m = record
            .managed
            .as_ref()
            .expect("adopted instances are managed");
        println!(
            "adopted {} (PostgreSQL {}, {}, port {}{})",
            record.name,
            m.major,
            m.data_dir.display(),
            record.endpoint.port,
            m.host
                .as_deref()
                .map(|h| format!(", on {h}"))
                .unwrap_or_default()
        );
    }
    Ok(0)
}

fn read_password_stdin() -> Result<Password, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| CliError::Io {
            what: "cannot read the password from stdin",
            source,
        })?;
    let value = line.strip_suffix('\n').unwrap_or(&line);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        return Err(CliError::Usage(
            "--password-stdin read an empty password".into(),
        ));
    }
    Ok(Password::new(value))
}

/// libpq-style interactive prompt; Enter alone means "no password here" (rely on
/// ~/.pgpass or trust).
fn prompt_password(endpoint: &Endpoint) -> Result<Option<Password>, CliError> {
    let prompt = format!(
        "Password for {}@{} (Enter for none: use ~/.pgpass): ",
        endpoint.user,
        endpoint.address()
    );
    let value = rpassword::prompt_password(prompt).map_err(|source| CliError::Io {
        what: "cannot read the password",
        source,
    })?;
    Ok((!value.is_empty()).then(|| Password::new(value)))
}

fn describe_test(t: &ConnectionTest) -> String {
    format!(
        "PostgreSQL {} · {} · system identifier {} · {} · authentication {} · round trip {:.2} ms",
        t.version,
        t.role.as_str(),
        t.system_identifier.as_deref().unwrap_or("(not readable)"),
        t.tls
            .as_deref()
            .map(|v| format!("TLS {v}"))
            .unwrap_or_else(|| "no TLS".into()),
        t.auth_method,
        t.round_trip_ms
    )
}

async fn create(instances: &Instances, args: CreateArgs) -> Result<i32, CliError> {
    let record = instances
        .create(CreateRequest {
            name: args.name,
            major: args.major,
            port: args.port,
            data_dir: args.data_dir,
            bin_dir: args.bin_dir,
            password: None,
            host: args.host.clone(),
        })
        .await
        .map_err(CliError::from)?;
    if args.json {
        print_json(&record)?;
    } else {
        let m = record
            .managed
            .as_ref()
            .expect("created instances are managed");
        let on = match &m.host {
            Some(host) => format!("host {host}, port {}", record.endpoint.port),
            None => record.endpoint.address(),
        };
        println!(
            "created {}: PostgreSQL {} on {on}, running",
            record.name, m.major
        );
        println!("  data directory {}", m.data_dir.display());
        println!("  binaries       {}", m.bin_dir.display());
        println!(
            "  superuser {} (password in the OS keyring)",
            record.endpoint.user
        );
    }
    Ok(0)
}

async fn start(instances: &Instances, args: StartArgs) -> Result<i32, CliError> {
    let started = match &args.confirm {
        Some(typed) if args.as_primary => instances.start_as_primary(&args.name, typed).await,
        _ => instances.start(&args.name).await,
    }
    .map_err(CliError::from)?;
    let name = &started.instance.name;
    match (&started.retired, started.in_recovery) {
        (Some(r), true) => {
            println!("started {name} in recovery: it refuses every write");
            println!("  {}", retired_line(r));
            println!(
                "  to start it as a writable primary anyway: pgrelocate instance start {name} \
                 --as-primary --confirm {name}"
            );
        }
        (Some(r), false) => {
            println!("started {name} as a writable primary");
            eprintln!(
                "pgrelocate: warning: {}; {} is the primary now, and writes here never reach it",
                retired_line(r),
                r.successor
            );
        }
        (None, true) => println!("started {name} (in recovery)"),
        (None, false) => println!("started {name}"),
    }
    Ok(0)
}

/// "retired by task …": which task made it an old primary, and when.
fn retired_line(r: &Retirement) -> String {
    let operation = r
        .operation
        .map(|o| format!("{o:?}").to_lowercase())
        .unwrap_or_else(|| "switch".into());
    format!(
        "retired by task {} ({operation} to {}{})",
        r.task_id,
        r.successor,
        r.at.as_deref()
            .map(|at| format!(" at {at}"))
            .unwrap_or_default()
    )
}

/// What the server reports about itself: stopped, in recovery, read-only or running.
fn server_state(s: &InstanceStatus) -> &'static str {
    match (&s.connection, s.state) {
        (Some(t), _) if t.role == pgrelocate_engine::sql::ServerRole::Standby => "in recovery",
        (Some(t), _) if t.read_only => "read-only",
        (_, state) => state.as_str(),
    }
}

async fn status(instances: &Instances, args: StatusArgs) -> Result<i32, CliError> {
    let s = instances.status(&args.name).await.map_err(CliError::from)?;
    if args.json {
        print_json(&s)?;
        return Ok(0);
    }
    println!(
        "{} ({}): {}",
        s.instance.name,
        s.kind.as_str(),
        server_state(&s)
    );
    if let Some(r) = &s.retired {
        println!("  {}", retired_line(r));
    }
    println!("  endpoint  {}", endpoint_text(&s.instance.endpoint));
    if let Some(host) = s.instance.managed.as_ref().and_then(|m| m.host.as_ref()) {
        println!("  host      {host} (managed there by its agent)");
    }
    if let Some(m) = &s.instance.managed {
        println!("  data      {}", m.data_dir.display());
        println!(
            "  binaries  {} (PostgreSQL {})",
            m.bin_dir.display(),
            m.major
        );
    }
    if let Some(st) = &s.storage {
        println!(
            "  storage   {} used, {} free",
            bytes(st.used_bytes),
            bytes(st.free_bytes)
        );
    }
    if let Some(t) = &s.connection {
        println!("  {}", describe_test(t));
    }
    if let Some(e) = &s.error {
        println!("  error     {e}");
    }
    Ok(0)
}

async fn remove(instances: &Instances, args: RemoveArgs) -> Result<i32, CliError> {
    let record = instances
        .store()
        .instance_by_name(&args.name)
        .map_err(CliError::from)?;
    let what = match record.managed.as_ref().and_then(|m| m.created_dir.as_ref()) {
        Some(dir) => format!(
            "Remove instance {:?}, stop it and delete {}?",
            record.name.as_str(),
            dir.display()
        ),
        None => format!("Remove instance {:?}?", record.name.as_str()),
    };
    if !confirm(&what, args.yes)? {
        eprintln!("nothing removed");
        return Ok(1);
    }
    let removal = instances.remove(&args.name).await.map_err(CliError::from)?;
    println!("removed {}", removal.instance.name);
    if let Some(dir) = &removal.deleted_dir {
        println!("  deleted {}", dir.display());
    }
    if let Some(dir) = &removal.kept_data_dir {
        println!("  kept {} (pgrelocate did not create it)", dir.display());
    }
    if let Some(w) = &removal.warning {
        eprintln!("pgrelocate: warning: {w}");
    }
    Ok(0)
}

async fn list(instances: &Instances, json: bool) -> Result<i32, CliError> {
    let all = instances.list().await.map_err(CliError::from)?;
    if json {
        print_json(&all)?;
        return Ok(0);
    }
    if all.is_empty() {
        println!("no instances: `pgrelocate instance register` or `instance create` adds one");
        return Ok(0);
    }
    let rows: Vec<[String; 8]> = all.iter().map(row).collect();
    print_table(
        &[
            "NAME",
            "HOST",
            "KIND",
            "STATUS",
            "ROLE",
            "VERSION",
            "ENDPOINT",
            "STORAGE (used/free)",
        ],
        &rows,
    );
    Ok(0)
}

fn row(s: &InstanceStatus) -> [String; 8] {
    let role = s
        .connection
        .as_ref()
        .map(|t| t.role.as_str().to_string())
        .unwrap_or_else(|| "-".into());
    let version = s
        .connection
        .as_ref()
        .map(|t| t.version.to_string())
        .or_else(|| s.instance.managed.as_ref().map(|m| m.major.to_string()))
        .unwrap_or_else(|| "-".into());
    let storage = s
        .storage
        .map(|st| format!("{} / {}", bytes(st.used_bytes), bytes(st.free_bytes)))
        .unwrap_or_else(|| "-".into());
    let host = s
        .instance
        .managed
        .as_ref()
        .and_then(|m| m.host.clone())
        .unwrap_or_else(|| "-".into());
    [
        s.instance.name.to_string(),
        host,
        s.kind.as_str().into(),
        server_state(s).into(),
        role,
        version,
        endpoint_text(&s.instance.endpoint),
        storage,
    ]
}

fn endpoint_text(e: &Endpoint) -> String {
    format!(
        "{}@{}/{} sslmode={}",
        e.user,
        e.address(),
        e.dbname,
        e.sslmode
    )
}

async fn discover(instances: &Instances, json: bool) -> Result<i32, CliError> {
    let found = instances.discover().await.map_err(CliError::from)?;
    if json {
        print_json(&found)?;
        return Ok(0);
    }
    if found.is_empty() {
        println!(
            "no PostgreSQL installation found; install one or use `instance create --bin-dir`"
        );
        return Ok(0);
    }
    let rows: Vec<[String; 4]> = found
        .iter()
        .map(|i| {
            [
                i.version.to_string(),
                i.bin_dir.display().to_string(),
                if i.can_run_servers { "yes" } else { "no" }.to_string(),
                i.binaries.join(" "),
            ]
        })
        .collect();
    print_table(&["VERSION", "BIN DIR", "SERVERS", "BINARIES"], &rows);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
