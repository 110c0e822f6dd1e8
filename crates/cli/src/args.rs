//! The command-line contract (architecture.md, "CLI contract"): scripts and tests rely on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Move a whole PostgreSQL instance (10–18) onto an empty destination by physical streaming
/// replication, then switch workloads over with no acknowledged commit lost.
#[derive(Debug, Parser)]
#[command(
    name = "pgrelocate",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register, create, start, stop and list PostgreSQL instances.
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Run a feasibility assessment of SOURCE → DEST and print its report.
    Assess(AssessArgs),
    /// Show or export a stored assessment report.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Start a migration or DR task: full copy, then continuous sync.
    Migrate(MigrateArgs),
    /// List, inspect, follow or cancel tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Stop writes on the source, catch up, promote the destination.
    Switchover(SwitchoverArgs),
    /// Promote a DR destination without fencing the source (source lost).
    Failover(FailoverArgs),
    /// Carry the source's client access rules (pg_hba) to a task's destination.
    #[command(subcommand)]
    Access(AccessCommand),
    /// Take a raw base backup of a source into a directory.
    Backup(BackupArgs),
    /// Create or remove the demo source and empty destination.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Print the state directory ($PGRELOCATE_HOME or the platform data dir).
    Home,
    /// Register, check, list and remove remote hosts reached over SSH.
    #[command(subcommand)]
    Host(HostCommand),
    /// Serve the agent protocol on stdin/stdout (started by pgrelocate over SSH).
    #[command(hide = true)]
    Agent(AgentArgs),
}

/// `pgrelocate host …`
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Register a host: check its SSH key, log in, put the agent there, read its facts.
    Add(HostAddArgs),
    /// List registered hosts.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Reach a host and its agent: OS, architecture, PostgreSQL installations, versions.
    Check {
        /// Host name.
        name: String,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Forget a host (its accepted key stays in pgrelocate's known_hosts). Refused while a
    /// managed instance runs on it.
    Remove {
        /// Host name.
        name: String,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// `host add`
#[derive(Debug, Args)]
pub struct HostAddArgs {
    /// Name to register the host under.
    pub name: String,
    /// SSH destination, [USER@]HOST (an alias of ~/.ssh/config works).
    #[arg(long, value_name = "[USER@]HOST")]
    pub ssh: String,
    /// SSH port, when not ssh's default for the host.
    #[arg(long, value_parser = parse_port)]
    pub port: Option<u16>,
    /// Private key file, when not ssh's defaults or agent.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Trust the host's SSH key with this fingerprint (SHA256:…), when it is not known yet.
    /// Without it, an unknown key is shown and asked about on a terminal, else refused.
    #[arg(long, value_name = "FINGERPRINT")]
    pub accept_host_key: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `agent`
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct AgentArgs {
    /// Speak the protocol on standard input and output (the only transport).
    #[arg(long)]
    pub stdio: bool,
    /// Create and drive the task ordered on standard input (started by the agent, detached).
    #[arg(long)]
    pub drive: bool,
    /// Run the task operation ordered on standard input (started by the agent, detached).
    #[arg(long)]
    pub operate: bool,
}

/// `pgrelocate instance …`
#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// List registered and managed instances.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Register an external instance; the password goes to the OS keyring.
    Register(RegisterArgs),
    /// Create a managed instance on this host (initdb, configure, start).
    Create(CreateArgs),
    /// Register a running cluster as managed (here or on a registered host): pgrelocate
    /// then starts, stops and reads it, and can fence it by shutting it down at a
    /// switchover. Removing it later forgets it and leaves the server and its files.
    Adopt(AdoptArgs),
    /// Start a managed instance. A retired source (the old primary of a task that switched
    /// or failed over) starts in recovery, refusing writes, unless --as-primary is given.
    Start(StartArgs),
    /// Stop a managed instance (fast shutdown).
    Stop(NameArg),
    /// Show an instance's status and test its connection.
    Status(StatusArgs),
    /// Forget an instance; for a managed one, also delete the data directory pgrelocate created.
    Remove(RemoveArgs),
    /// List PostgreSQL installations found on this host.
    Discover {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Print the end of a managed instance's server log (here or on its host).
    Logs {
        /// Instance name.
        name: String,
        /// How many lines.
        #[arg(long, default_value = "100")]
        lines: usize,
    },
    /// Check a registered source for a migration, as its migration account: what is in
    /// place (REPLICATION, pg_monitor, the fence's grants, settings) and the SQL for what is not.
    Prepare {
        /// Instance name.
        name: String,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Show an instance's key parameters (pg_settings).
    Parameters {
        /// Instance name.
        name: String,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// An instance name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// Instance name.
    pub name: String,
}

/// `instance start`
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Instance name.
    pub name: String,
    /// Start a retired source as a writable primary: its writes never reach the new
    /// primary, and the two diverge. Needs --confirm with the instance name.
    #[arg(long, requires = "confirm")]
    pub as_primary: bool,
    /// The instance name, typed again to confirm --as-primary.
    #[arg(long, value_name = "NAME", requires = "as_primary")]
    pub confirm: Option<String>,
}

/// `instance status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Instance name.
    pub name: String,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `instance remove`
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Instance name.
    pub name: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// `instance register`
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Name to register the instance under.
    pub name: String,
    /// Host name, IP address or Unix-socket directory.
    #[arg(long)]
    pub host: String,
    /// TCP port (1–65535).
    #[arg(long, value_parser = parse_port)]
    pub port: u16,
    /// Role to connect as.
    #[arg(long)]
    pub user: String,
    /// Database for ordinary connections.
    #[arg(long, default_value = "postgres")]
    pub dbname: String,
    /// libpq sslmode: disable, prefer, require, verify-ca, verify-full.
    #[arg(long, default_value = "prefer")]
    pub sslmode: String,
    /// Root certificate (PEM) for verify-ca / verify-full.
    #[arg(long)]
    pub ssl_root_cert: Option<PathBuf>,
    /// Seconds to wait for the server to accept the TCP connection (1–600).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_connect_timeout)]
    pub connect_timeout: u32,
    /// Authentication methods the server may ask for, as libpq's require_auth:
    /// comma-separated password, md5, scram-sha-256, gss, sspi, none, or all negated
    /// (!password). Default: any method except a clear-text password without TLS.
    #[arg(long, value_name = "METHODS", value_parser = parse_require_auth)]
    pub require_auth: Option<pgrelocate_engine::require_auth::RequireAuth>,
    /// Read the password from standard input (first line) instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Store without testing the connection first.
    #[arg(long)]
    pub no_test: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `instance adopt`
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Name to register the instance under.
    pub name: String,
    /// The cluster's data directory (on the host with --host).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The registered host it runs on (default: this machine).
    #[arg(long)]
    pub host: Option<String>,
    /// Folder of its server binaries (default: found by the cluster's version).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// A superuser role to connect as.
    #[arg(long, default_value = "postgres")]
    pub user: String,
    /// Read the password from standard input (first line) instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `instance create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the new managed instance.
    pub name: String,
    /// PostgreSQL major version (10–18) of the binaries to use.
    #[arg(long)]
    pub major: u32,
    /// TCP port; a free one is chosen when omitted.
    #[arg(long, value_parser = parse_port)]
    pub port: Option<u16>,
    /// Data directory; under the state directory when omitted.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Folder holding initdb, pg_ctl and postgres; discovered when omitted.
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Create it on this registered host (`pgrelocate host add`); paths are the host's.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Scenario of an assessment or task.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Migration to the destination, ending with a switchover.
    Migration,
    /// Disaster-recovery standby, kept in sync until failover.
    Dr,
}

/// `assess`
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Registered source instance.
    #[arg(long)]
    pub source: String,
    /// Managed destination instance.
    #[arg(long)]
    pub dest: String,
    /// Scenario.
    #[arg(long, value_enum, default_value = "migration")]
    pub mode: Mode,
    /// Tablespace mapping OLD=NEW (repeatable).
    #[arg(long = "tablespace-mapping", value_name = "OLD=NEW")]
    pub tablespace_mappings: Vec<String>,
    /// Print the report as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Also write the report to FILE (format from the extension: .json .html .md .txt).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Report export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// Versioned JSON document.
    Json,
    /// Self-contained printable HTML page.
    Html,
    /// Markdown.
    Md,
    /// The console text form.
    Text,
}

/// `report …`
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// List stored reports.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Print a report.
    Show(ReportArgs),
    /// Write a report to a file (or stdout).
    Export(ReportArgs),
}

/// `report show|export`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report id.
    pub report_id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Output file (written atomically); stdout when omitted.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Server-side compression of the base backup (15+).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Compression {
    /// No compression.
    None,
    /// LZ4 (fast).
    Lz4,
    /// Zstandard.
    Zstd,
}

/// `migrate`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Registered source instance.
    #[arg(long)]
    pub source: String,
    /// Managed destination instance.
    #[arg(long)]
    pub dest: String,
    /// Scenario.
    #[arg(long, value_enum, default_value = "migration")]
    pub mode: Mode,
    /// Tablespace mapping OLD=NEW (repeatable).
    #[arg(long = "tablespace-mapping", value_name = "OLD=NEW")]
    pub tablespace_mappings: Vec<String>,
    /// Throttle the full copy, e.g. 50M (bytes/s; k, M, G suffixes).
    #[arg(long)]
    pub max_rate: Option<String>,
    /// Server-side compression of the full copy (15+).
    #[arg(long, value_enum, default_value = "none")]
    pub compress: Compression,
    /// Keep following the task after it reaches streaming.
    #[arg(long)]
    pub follow: bool,
    /// Do not fsync the copy (only where durability does not matter, e.g. tests).
    #[arg(long)]
    pub no_sync: bool,
    /// Print JSON lines instead of a progress bar.
    #[arg(long)]
    pub json: bool,
}

/// `task …`
#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// List tasks.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Show a task's phase, replication state and lag.
    Status(TaskArgs),
    /// Follow a task's events from now (JSON lines with --json; --since/--all for history).
    Follow(FollowArgs),
    /// A task's replication lag over a period, from its stored history.
    History(HistoryArgs),
    /// Cancel a task before switchover and restore the destination.
    Cancel(TaskArgs),
    /// Start a failed task again from the beginning (a new full copy).
    Retry(TaskArgs),
    /// The way back: make a switched- or failed-over task's old source a standby of the new
    /// primary (no full copy) and create the reverse task; switch it over to go back.
    Reverse(TaskArgs),
}

/// A task id with output options.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// Task id.
    pub task_id: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Do not ask for confirmation (cancel, reverse).
    #[arg(long)]
    pub yes: bool,
}

/// `task follow`
#[derive(Debug, Args)]
pub struct FollowArgs {
    /// Task id.
    pub task_id: String,
    /// JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Start at a time: RFC 3339 (`2026-12-01T08:00:00Z`) or an age (`90s`, `30m`, `2h`, `7d`).
    #[arg(long, value_parser = parse_since, conflicts_with = "all")]
    pub since: Option<jiff::Timestamp>,
    /// Start with the task's whole stored history.
    #[arg(long)]
    pub all: bool,
}

/// `--since`: a time, or how long ago.
fn parse_since(s: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is neither an RFC 3339 time nor an age like 30m, 2h or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the age's unit must be s, m, h or d")),
    };
    let ago = n
        .checked_mul(secs)
        .ok_or_else(|| format!("{s:?} is too long ago"))?;
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(ago))
        .map_err(|_| format!("{s:?} is too long ago"))
}

/// `task history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Task id.
    pub task_id: String,
    /// The period, ending now: 15m, 1h, 24h, 7d, 30d or all.
    #[arg(long, default_value = "24h")]
    pub period: pgrelocate_engine::task::history::Period,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `switchover`
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// Task id.
    pub task_id: String,
    /// Catch-up timeout in seconds before rolling back.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// The fence to use instead of the strongest available (refused, with nothing
    /// touched, when it cannot be used on this source).
    #[arg(long, value_enum)]
    pub fence: Option<Fence>,
    /// Only show the guardrails and every fence with its guarantee, the chosen one marked.
    #[arg(long, conflicts_with = "yes")]
    pub preview: bool,
    /// A command that moves the endpoint (DNS, a virtual IP, HAProxy, service discovery),
    /// run by `sh -c` at the cutover point with PGRELOCATE_OLD_HOST/PORT,
    /// PGRELOCATE_NEW_HOST/PORT, PGRELOCATE_TASK_ID and PGRELOCATE_HOOK_AT in its
    /// environment (never a password).
    #[arg(long, value_name = "CMD")]
    pub hook: Option<String>,
    /// How long the hook may run before it is killed: seconds, or with a unit (`30s`, `2m`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, requires = "hook")]
    pub hook_timeout: std::time::Duration,
    /// When the hook runs: before promotion (source fenced, destination caught up; a
    /// failure rolls back) or after it (destination writable; a failure is a warning with
    /// the command to run it again).
    #[arg(
        long,
        value_enum,
        default_value = "before-promotion",
        requires = "hook"
    )]
    pub hook_at: HookAt,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Print one JSON document at the end: the outcome, every step and the report (with
    /// `--preview`: the preview).
    #[arg(long)]
    pub json: bool,
}

/// When the endpoint hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookAt {
    /// Source fenced, destination caught up, not yet promoted: a failure rolls back.
    BeforePromotion,
    /// Destination promoted and writable: a failure is reported with the rerun command.
    AfterPromotion,
}

impl From<HookAt> for pgrelocate_engine::switchover::HookAt {
    fn from(a: HookAt) -> Self {
        match a {
            HookAt::BeforePromotion => Self::BeforePromotion,
            HookAt::AfterPromotion => Self::AfterPromotion,
        }
    }
}

/// `30`, `30s`, `2m`: a duration in whole seconds or minutes.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = match text.strip_suffix('s') {
        Some(d) => (d, 1),
        None => match text.strip_suffix('m') {
            Some(d) => (d, 60),
            None => (text, 1),
        },
    };
    match digits.parse::<u64>() {
        Ok(n) if !digits.starts_with('+') => Ok(std::time::Duration::from_secs(n * unit)),
        _ => Err(format!("{text:?} is not a duration like 30, 30s or 2m")),
    }
}

/// A fence strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fence {
    /// CHECKPOINT and a clean shutdown of a source managed here or on a registered host.
    Shutdown,
    /// Logins blocked, read-only by default, client sessions terminated; the source keeps
    /// running.
    Sql,
}

impl From<Fence> for pgrelocate_engine::switchover::FenceStrategy {
    fn from(f: Fence) -> Self {
        match f {
            Fence::Shutdown => Self::Shutdown,
            Fence::Sql => Self::Sql,
        }
    }
}

/// `failover`
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Task id.
    pub task_id: String,
    /// Only show what a failover would cost now (source, positions, estimated loss).
    #[arg(long, conflicts_with = "yes")]
    pub preview: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Print one JSON document at the end: the outcome, every step and the report.
    #[arg(long)]
    pub json: bool,
}

/// `backup`
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Registered source instance.
    #[arg(long)]
    pub source: String,
    /// Empty (or missing) directory to write the copy into.
    #[arg(long)]
    pub target_dir: PathBuf,
    /// Tablespace mapping OLD=NEW (repeatable).
    #[arg(long = "tablespace-mapping", value_name = "OLD=NEW")]
    pub tablespace_mappings: Vec<String>,
    /// Server-side compression (15+).
    #[arg(long, value_enum, default_value = "none")]
    pub compress: Compression,
    /// Throttle, e.g. 50M (bytes/s; k, M, G suffixes).
    #[arg(long)]
    pub max_rate: Option<String>,
    /// Skip the final fsync (tests only: a crash could lose the copy).
    #[arg(long)]
    pub no_sync: bool,
    /// Print JSON lines instead of a progress bar.
    #[arg(long)]
    pub json: bool,
}

/// `sandbox …`
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Say which PostgreSQL and which ports `sandbox create` would use, making nothing.
    Plan {
        /// Major version (default: the newest installed).
        #[arg(long)]
        major: Option<u32>,
    },
    /// Create a demo source with data and an empty destination of the same major.
    Create {
        /// Major version (default: the newest installed).
        #[arg(long)]
        major: Option<u32>,
    },
    /// Remove the sandbox instances and their data.
    Remove {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

fn parse_connect_timeout(s: &str) -> Result<u32, String> {
    pgrelocate_engine::endpoint::parse_connect_timeout(s).map_err(|e| e.to_string())
}

fn parse_require_auth(s: &str) -> Result<pgrelocate_engine::require_auth::RequireAuth, String> {
    s.parse()
        .map_err(|e: pgrelocate_engine::require_auth::RequireAuthError| e.to_string())
}

fn parse_port(s: &str) -> Result<u16, String> {
    pgrelocate_engine::endpoint::parse_port(s).map_err(|e| e.to_string())
}

/// `access …`
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Show which client networks the source admits that the destination would refuse.
    Show(TaskArgs),
    /// Write those rules as a marked block at the top of the destination's pg_hba.conf,
    /// check and reload it (shows the diff and asks unless --yes).
    Apply(AccessApplyArgs),
    /// Remove exactly the task's block from the destination's pg_hba.conf and reload.
    Undo(TaskArgs),
}

/// `access apply TASK_ID [--yes]`
#[derive(Debug, Args)]
pub struct AccessApplyArgs {
    /// Task id (or a unique prefix).
    pub task_id: String,
    /// Apply without asking (required without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_contract_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn refuses_a_port_out_of_range() {
        for port in ["0", "70000", "x"] {
            let err = Cli::try_parse_from([
                "pgrelocate",
                "instance",
                "register",
                "src",
                "--host",
                "h",
                "--port",
                port,
                "--user",
                "u",
            ])
            .unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("between 1 and 65535"), "{err}");
        }
    }
}
