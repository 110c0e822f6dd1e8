//! Source connectivity: can this host reach the source, log in, open a replication
//! connection, and fence the source at switchover?

use std::net::IpAddr;

use super::{by_mode, check, shell_word, CONNECTIVITY};
use crate::assess::check::{Check, Outcome, OutcomeStatus};
use crate::assess::context::{Context, Reach};
use crate::assess::model::{Level, Mode};
use crate::assess::remedy::hba_line;
use crate::quote::sql::ident;
use crate::sql::SqlError;
use crate::switchover::{SourceHost, Unreached};
use crate::wire::WireError;

pub(super) fn checks(mode: Mode) -> Vec<Check<Context>> {
    vec![
        check!(
            "src.reachable",
            CONNECTIVITY,
            "Check source reachable",
            Level::Error,
            [],
            reachable
        ),
        check!(
            "src.login",
            CONNECTIVITY,
            "Check login",
            Level::Error,
            ["src.reachable"],
            login
        ),
        check!(
            "src.replication_conn",
            CONNECTIVITY,
            "Check replication connection",
            Level::Error,
            ["src.login"],
            replication_conn
        ),
        check!(
            "src.role_replication",
            CONNECTIVITY,
            "Check REPLICATION privilege",
            Level::Error,
            ["src.login"],
            role_replication
        ),
        check!(
            "src.role_monitor",
            CONNECTIVITY,
            "Check monitoring privilege",
            Level::Warning,
            ["src.login"],
            role_monitor
        ),
        check!(
            "src.standby_role",
            CONNECTIVITY,
            "Check the standby's own role",
            Level::Warning,
            ["src.login"],
            standby_role
        ),
        Check {
            spec: crate::assess::check::CheckSpec {
                id: "src.fencing",
                group: CONNECTIVITY,
                title: "Check switchover fence",
                fails_as: by_mode(mode, Level::Error, Level::Warning),
                depends_on: &["src.login"],
            },
            run: |ctx| Box::pin(fencing(ctx)),
        },
        check!(
            "src.way_back",
            CONNECTIVITY,
            "Check the way back after switchover",
            Level::Warning,
            ["src.login"],
            way_back
        ),
        check!(
            "src.tls",
            CONNECTIVITY,
            "Check connection encryption",
            Level::Warning,
            ["src.login"],
            tls
        ),
        check!(
            "src.auth_method",
            CONNECTIVITY,
            "Check authentication method",
            Level::Warning,
            ["src.login"],
            auth_method
        ),
    ]
}

/// This host's address as the source sees it: `inet_client_addr()` of the assessment's
/// login when it worked, else the local address of the TCP probe.
async fn client_address(ctx: &Context) -> Option<IpAddr> {
    if let Ok(facts) = ctx.source_facts().await {
        if facts.client_addr.is_some() {
            return facts.client_addr;
        }
    }
    match ctx.reach().await {
        Reach::Connected { local, .. } => Some(local.ip()),
        _ => None,
    }
}

fn reload_note() -> &'static str {
    "then reload the source's configuration: SELECT pg_reload_conf();"
}

async fn reachable(ctx: &Context) -> Outcome {
    let e = ctx.source.endpoint();
    let address = e.address();
    match ctx.reach().await {
        Reach::Connected {
            peer,
            local,
            elapsed,
        } => Outcome::pass(format!(
            "connected to {address} ({peer}) in {} ms",
            elapsed.as_millis()
        ))
        .evidence("address", peer.to_string())
        .evidence("local_address", local.to_string())
        .evidence("connect_ms", elapsed.as_millis() as u64),
        Reach::Socket { path } => Outcome::pass(format!(
            "the server socket {} accepts connections",
            path.display()
        ))
        .evidence("socket", path.display().to_string()),
        Reach::NoSuchHost(reason) => {
            Outcome::fail(format!("host name {:?} does not resolve: {reason}", e.host))
                .impact("pgrelocate cannot reach the source at all")
                .remedy(format!(
            "check the host name (DNS, /etc/hosts), or register the source by its IP address:\n\
             pgrelocate instance register {} --host <IP> --port {} --user {}",
            shell_word(ctx.source.name()),
            e.port,
            shell_word(&e.user)
        ))
                .evidence("host", &e.host)
        }
        Reach::Refused(at) => Outcome::fail(format!(
            "connection refused at {at}: nothing listens on port {} there",
            e.port
        ))
        .impact("pgrelocate cannot reach the source at all")
        .remedy(format!(
            "start the source, and make it listen on this address and port: in its \
             postgresql.conf set listen_addresses = '*' (or its address) and port = {}, then \
             restart it; allow TCP port {} in the firewall",
            e.port, e.port
        ))
        .evidence("address", at),
        Reach::Silent(timeout) => Outcome::fail(format!(
            "no answer from {address} within {} s",
            timeout.as_secs_f32()
        ))
        .impact("pgrelocate cannot reach the source at all")
        .remedy(format!(
            "check routing and firewalls between this host and {} (TCP port {}), and that the \
             source's listen_addresses includes the address this host connects to",
            e.host, e.port
        ))
        .evidence("timeout_ms", timeout.as_millis() as u64),
        Reach::Failed(reason) => Outcome::fail(format!("cannot reach {address}: {reason}"))
            .impact("pgrelocate cannot reach the source at all")
            .remedy(format!(
                "check the network path from this host to {} (routing, firewall), and that \
                 the source runs",
                e.host
            )),
    }
}

async fn login(ctx: &Context) -> Outcome {
    let e = ctx.source.endpoint();
    let name = ctx.source.name();
    match ctx.source_sql().await {
        Ok(_) => match ctx.source_facts().await {
            Ok(f) => Outcome::pass(format!(
                "logged in as {} to database {} (PostgreSQL {})",
                e.user, e.dbname, f.version_text
            ))
            .evidence("user", &e.user)
            .evidence("database", &e.dbname)
            .evidence("sslmode", e.sslmode.as_str())
            .evidence("server_version", &f.version_text),
            Err(err) => Outcome::fail(format!(
                "logged in, but the server's settings cannot be read: {err}"
            ))
            .impact("no other check of the source can run")
            .remedy(format!(
                "log in as {} with psql and run SELECT * FROM pg_settings to see what fails",
                e.user
            )),
        },
        Err(err) => {
            let address = client_address(ctx).await;
            let password_remedy = format!(
                "store the right password for instance {name:?}: remove it \
                 (pgrelocate instance remove {n}) and register it again with \
                 pgrelocate instance register {n} --host {} --port {} --user {} --password-stdin; \
                 or fix its line in ~/.pgpass",
                shell_word(&e.host),
                e.port,
                shell_word(&e.user),
                n = shell_word(name),
            );
            let out = Outcome::fail(err.to_string()).impact("no other check of the source can run");
            match err {
                SqlError::AuthFailed { message, .. } if message.contains("pg_hba.conf") => out
                    .remedy(format!(
                        "add this line near the top of the source's pg_hba.conf:\n{}\n{}",
                        hba_line("all", &e.user, address),
                        reload_note()
                    )),
                SqlError::AuthFailed { message, .. } if message.contains("does not exist") => out
                    .remedy(format!(
                        "create the role on the source (as a superuser):\nCREATE ROLE {} LOGIN REPLICATION PASSWORD '…';",
                        ident(&e.user)
                    )),
                SqlError::AuthFailed { .. } | SqlError::PasswordMissing { .. } => {
                    out.remedy(password_remedy)
                }
                SqlError::NoDatabase { dbname, .. } => out.remedy(format!(
                    "register the source with an existing database (--dbname postgres), or \
                     create database {dbname:?} on it"
                )),
                SqlError::TlsRefused { .. } => out.remedy(
                    "enable ssl on the source (ssl = on with a certificate), or register it \
                     with a weaker --sslmode",
                ),
                SqlError::CertificateRejected { .. } | SqlError::Tls { .. } => out.remedy(
                    "give the source's CA certificate when registering it, or check the \
                     certificate's host names",
                ),
                SqlError::AuthRefused(refused) => out.remedy(format!(
                    "change the source's pg_hba.conf line for this host to scram-sha-256 \
                     (ALTER ROLE … PASSWORD again so a SCRAM verifier is stored), or use TLS; \
                     to accept {} knowingly, register the source with --require-auth {}",
                    refused.asked.as_str(),
                    refused.asked.as_str()
                )),
                SqlError::Connect(_) => out.remedy(
                    "check that the source runs and accepts connections from this host \
                     (listen_addresses, port, firewall); see src.reachable",
                ),
                SqlError::Timeout { .. } | SqlError::Unreachable { .. } => out.remedy(
                    "check that the source accepts connections from this host (listen_addresses, \
                     max_connections, firewall)",
                ),
                _ => out,
            }
        }
    }
}

async fn replication_conn(ctx: &Context) -> Outcome {
    let e = ctx.source.endpoint();
    match ctx.replication().await {
        Ok(id) => Outcome::pass(format!(
            "replication connection accepted: system {}, timeline {}, WAL at {}",
            id.system_id, id.timeline, id.xlogpos
        ))
        .evidence("system_identifier", id.system_id.to_string())
        .evidence("timeline", id.timeline)
        .evidence("wal_position", id.xlogpos.to_string()),
        Err(err) => {
            let out = Outcome::fail(match err {
                WireError::Server(s) => s.message.clone(),
                other => other.to_string(),
            })
            .impact("the base backup and streaming need a replication connection")
            .evidence("sqlstate", err.sqlstate().unwrap_or(""));
            let Some(server) = err.server_error() else {
                return out.remedy(
                    "check that the source accepts replication connections from this host",
                );
            };
            match server.code.as_str() {
                "28000" if server.message.contains("pg_hba.conf") => out.remedy(format!(
                    "add this line near the top of the source's pg_hba.conf (the database \
                     field must be the keyword replication):\n{}\n{}",
                    hba_line("replication", &e.user, client_address(ctx).await),
                    reload_note()
                )),
                "42501" => out.remedy(format!(
                    "give the role the REPLICATION attribute (as a superuser on the source):\n\
                     ALTER ROLE {} REPLICATION;",
                    ident(&e.user)
                )),
                "53300" => out.remedy(
                    "all WAL senders are busy: raise max_wal_senders on the source (restart \
                     needed) or stop another replication client; see src.wal_senders",
                ),
                "28P01" => out.remedy(format!(
                    "store the right password for instance {:?}",
                    ctx.source.name()
                )),
                _ => match server.remedy() {
                    Some(r) => out.remedy(r),
                    None => out,
                },
            }
        }
    }
}

async fn role_replication(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let out = |o: Outcome| {
        o.evidence("role", &f.current_user)
            .evidence("superuser", f.superuser)
            .evidence("replication", f.replication)
    };
    if f.superuser {
        out(Outcome::pass(format!("{} is a superuser", f.current_user)))
    } else if f.replication {
        out(Outcome::pass(format!("{} has REPLICATION", f.current_user)))
    } else {
        out(Outcome::fail(format!(
            "role {} has neither REPLICATION nor superuser",
            f.current_user
        ))
        .impact("the source refuses the base backup and WAL streaming to this role")
        .remedy(format!(
            "run on the source as a superuser:\nALTER ROLE {} REPLICATION;",
            ident(&f.current_user)
        )))
    }
}

/// Whether the task can give the standby a role of its own, so the account's password is
/// never written for it (see [`crate::standby_role`]).
async fn standby_role(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let out = |o: Outcome| {
        o.evidence("superuser", f.superuser)
            .evidence("createrole", f.create_role)
            .evidence("replication", f.replication)
    };
    let major = f.version.major;
    if crate::standby_role::can_make_role(f.superuser, f.create_role, f.replication, major) {
        return out(Outcome::pass(format!(
            "{} may create roles: the standby will use its own role (REPLICATION LOGIN, a \
             random password), and {}'s password is never written to a disk",
            f.current_user, f.current_user
        )));
    }
    let warned = out(Outcome::warn(format!(
        "{} cannot create roles for the standby: it authenticates as {} with its password",
        f.current_user, f.current_user
    ))
    .impact(
        "the account's password is kept in a file beside the destination's data directory \
         (0600, the server's user) for the whole life of the task",
    ));
    if major < 16 {
        warned.remedy(
            "before PostgreSQL 16 only a superuser may create a role with REPLICATION: migrate \
             as a superuser, or accept the password file with this account's password",
        )
    } else {
        warned.remedy(format!(
            "run on the source as a superuser:\nALTER ROLE {} CREATEROLE;\n\
             or accept the password file with this account's password",
            ident(&f.current_user)
        ))
    }
}

async fn role_monitor(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    if f.superuser || f.monitor {
        Outcome::pass(format!(
            "{} sees every session and setting ({})",
            f.current_user,
            if f.superuser {
                "superuser"
            } else {
                "member of pg_monitor"
            }
        ))
        .evidence("pg_monitor", f.monitor)
    } else {
        Outcome::warn(format!("{} is not a member of pg_monitor", f.current_user))
            .impact(
                "replication progress (pg_stat_replication), other sessions' transactions and \
             some settings stay hidden: lag and long transactions are only partly visible",
            )
            .remedy(format!(
                "run on the source as a superuser:\nGRANT pg_monitor TO {};",
                ident(&f.current_user)
            ))
            .evidence("pg_monitor", false)
    }
}

async fn fencing(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    if let Some(m) = ctx.source.managed().filter(|m| m.host.is_none()) {
        if m.data_dir.join("PG_VERSION").is_file() {
            return Outcome::pass(
                "fence: shutdown. The source is managed on this host: at switchover it gets a \
                 checkpoint and a fast shutdown, which sends every WAL byte to the destination \
                 before it stops (the full guarantee)",
            )
            .evidence("strategy", "shutdown")
            .evidence("data_dir", m.data_dir.display().to_string());
        }
    }
    // Managed on another registered host: the switchover tries this same reach.
    let unreached = match ctx.source_host().await {
        Some(SourceHost::Reached(on)) => {
            return Outcome::pass(format!(
                "fence: shutdown (on host {}). The source is managed on host {}, which this \
                 host reaches over SSH: at switchover its agent there gives it a checkpoint \
                 and a fast shutdown, which sends every WAL byte to the destination before it \
                 stops (the full guarantee)",
                on.host.name, on.host.name
            ))
            .evidence("strategy", "shutdown")
            .evidence("host", on.host.name.as_str());
        }
        Some(SourceHost::Unreachable(u)) => Some(u),
        None => None,
    };
    let outcome = sql_fence(ctx, f).await;
    match unreached {
        Some(u) => without_source_host(outcome, &u),
        None => outcome,
    }
}

/// Whether the old source can become a standby of the new primary after the switchover
/// (`task reverse`, see [`crate::task::reverse`]) without a new full copy: a source managed
/// on this machine follows directly after the `shutdown` fence; after the `sql` fence or a
/// failover it needs pg_rewind (data checksums or wal_log_hints, and the rewind binary).
async fn way_back(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let (sums, hints) = (f.value("data_checksums"), f.value("wal_log_hints"));
    let major = f.version.major;
    let out = |o: Outcome| {
        o.evidence("data_checksums", sums)
            .evidence("wal_log_hints", hints)
    };
    let Some(m) = ctx.source.managed().filter(|m| m.host.is_none()) else {
        let where_ = match ctx.source.managed().and_then(|m| m.host.clone()) {
            Some(host) => format!("runs on the registered host {host}"),
            None => "is an external instance".to_string(),
        };
        // Not a finding against the source (most sources are external): the way back is a
        // capability of managed sources, said here so the DBA knows before the switchover.
        return out(Outcome::skip(format!(
            "the way back without a full copy is not offered: the source {where_}, and \
             pgrelocate rejoins an old source only where it reaches its files (a managed \
             instance on this machine; `pgrelocate instance adopt` registers a cluster as \
             managed)"
        )));
    };
    let rewind = crate::task::rejoin::rewind_binary(major, &m.bin_dir).await;
    let out = |o: Outcome| {
        out(o).evidence(
            "pg_rewind",
            rewind
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "not found".into()),
        )
    };
    let can_rewind = (sums == "on" || hints == "on") && rewind.is_some();
    if can_rewind {
        return out(Outcome::pass(
            "way back: after the shutdown fence the old source follows the new primary \
             directly (`pgrelocate task reverse`, nothing copied); after the sql fence or a \
             failover pg_rewind copies only what changed",
        ));
    }
    let mut missing = Vec::new();
    let mut remedy = vec![];
    if sums != "on" && hints != "on" {
        missing.push("neither data checksums nor wal_log_hints are on".to_string());
    }
    if rewind.is_none() {
        missing.push(format!(
            "no pg_rewind of PostgreSQL {major} on this machine"
        ));
    }
    if ctx.mode == Mode::Migration {
        // The switchover's default fence here is `shutdown`, after which the way back
        // needs no rewind.
        return out(Outcome::pass(format!(
            "way back: after the shutdown fence (the default for this source) the old source \
             follows the new primary directly (`pgrelocate task reverse`, nothing copied); \
             after the sql fence or a failover it would need a full copy ({})",
            missing.join("; ")
        )));
    }
    remedy.push(
        "switch over with the shutdown fence rather than failing over when the source still \
         runs: the old source then follows directly"
            .to_string(),
    );
    if sums != "on" && hints != "on" {
        remedy.push(
            "run on the source as a superuser:\nALTER SYSTEM SET wal_log_hints = on;\nthen \
             restart the source (this setting needs a restart)"
                .to_string(),
        );
    }
    if rewind.is_none() {
        remedy.push(format!(
            "install the client tools of PostgreSQL {major} (pg_rewind), e.g. the \
             postgresql-{major} package, or add their folder to PGRELOCATE_BIN_DIRS"
        ));
    }
    out(Outcome::warn(format!(
        "way back only after the shutdown fence: {}",
        missing.join("; ")
    ))
    .impact(
        "after the sql fence or a failover the old source may have diverged and cannot be \
         rewound: going back needs a full copy",
    )
    .remedy(remedy.join("\n")))
}

/// `outcome` (the `sql` fence's, or none) told why the source's host cannot give the
/// `shutdown` fence: a warning at least, the reach's cause as evidence, and its remedy.
fn without_source_host(outcome: Outcome, u: &Unreached) -> Outcome {
    let why = format!(
        "; the shutdown fence on host {} cannot be used: this host does not reach it ({}: {})",
        u.host,
        u.code.as_str(),
        u.error
    );
    let remedy = format!(
        "let this host's login user (the one pgrelocate's agent runs as here) log in to host \
         {} over SSH without a prompt: add its public key to the authorized_keys of the login \
         registered for {}; the host key it offers must stay the one accepted when {} was \
         added. Then assess again (fence: shutdown on host {})",
        u.host, u.host, u.host, u.host
    );
    let mut out = Outcome {
        message: format!("{}{why}", outcome.message),
        remedy: if outcome.remedy.is_empty() {
            remedy
        } else {
            format!("{}\nor {remedy}", outcome.remedy)
        },
        ..outcome
    }
    .evidence("source_host", u.host.as_str())
    .evidence("source_host_code", u.code.as_str())
    .evidence("source_host_error", u.error.as_str());
    if out.status == OutcomeStatus::Pass {
        out.status = OutcomeStatus::Warn;
        out.impact = "the switchover fences with SQL, not by shutting the source down on its \
                      host: the SQL fence's guarantee only"
            .into();
    }
    out
}

/// The `sql` fence as the source account can perform it, or none.
async fn sql_fence(ctx: &Context, f: &crate::assess::context::ServerFacts) -> Outcome {
    let sql_guarantee = "logins are blocked, the instance is made read-only and client \
                         sessions are terminated; the destination then catches up to the \
                         source's last WAL position before promotion";
    if f.superuser {
        return Outcome::pass(format!("fence: sql (superuser). {sql_guarantee}"))
            .evidence("strategy", "sql");
    }
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    // The switchover's own reading of the account, so the report and the switchover agree.
    let access = match crate::switchover::access::sql_fence_access(client).await {
        Ok(a) => a,
        Err(e) => return Outcome::skip(format!("the account's privileges cannot be read: {e}")),
    };
    let missing: Vec<(String, String)> =
        access.gaps.into_iter().map(|g| (g.what, g.grant)).collect();
    if missing.is_empty() {
        return Outcome::pass(format!("fence: sql (granted privileges). {sql_guarantee}"))
            .evidence("strategy", "sql");
    }
    let needs: Vec<String> = missing.iter().map(|(what, _)| what.clone()).collect();
    let grants: Vec<String> = missing.into_iter().map(|(_, sql)| sql).collect();
    Outcome::fail(format!(
        "fence: none. {} can neither shut the source down (it is not managed on this host) \
         nor fence it with SQL; it lacks {}",
        f.current_user,
        super::list(&needs, 4)
    ))
    .impact(match ctx.mode {
        Mode::Migration => {
            "the switchover could not stop writes on the source: commits made after the \
             destination's promotion would be lost"
        }
        Mode::Dr => "a later switchover would have no fence; a failover (source lost) still works",
    })
    .remedy(format!(
        "run on the source as a superuser:\n{}\nor run pgrelocate on the source's host with \
         the source as a managed instance (fence: shutdown)",
        grants.join("\n")
    ))
    .evidence("strategy", "none")
    .evidence("missing", needs)
}

async fn tls(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let e = ctx.source.endpoint();
    let out = |o: Outcome| {
        o.evidence("sslmode", e.sslmode.as_str())
            .evidence("tls", f.tls.clone().unwrap_or_else(|| "none".into()))
    };
    if e.is_loopback() {
        return out(Outcome::pass(
            "the source is on this host (loopback): traffic never leaves it",
        ));
    }
    if e.sslmode.requires_tls() {
        let note = if e.sslmode == crate::endpoint::SslMode::VerifyFull {
            "and the certificate names the host"
        } else {
            "(verify-full would also check the certificate's host name)"
        };
        return out(Outcome::pass(format!(
            "traffic to {} is encrypted ({}) with sslmode={} {note}",
            e.host,
            f.tls.as_deref().unwrap_or("TLS"),
            e.sslmode
        )));
    }
    let state = match &f.tls {
        Some(v) => format!("encrypted ({v}) only because the server offered it"),
        None => "not encrypted".to_string(),
    };
    out(Outcome::warn(format!(
        "traffic to {} is {state}: sslmode={}",
        e.host, e.sslmode
    ))
    .impact(
        "data and WAL cross the network readable by anyone on the path; with sslmode=prefer \
         an attacker can also force a plain connection",
    )
    .remedy(format!(
        "enable ssl on the source (ssl = on, ssl_cert_file, ssl_key_file), then register it \
         with --sslmode verify-full (or at least require):\npgrelocate instance register {} \
         --host {} --port {} --user {} --sslmode verify-full --password-stdin",
        shell_word(ctx.source.name()),
        shell_word(&e.host),
        e.port,
        shell_word(&e.user)
    )))
}

/// Which method the source authenticates pgrelocate with, on the SQL and the replication
/// connection (pg_hba.conf may choose differently for `replication`), and over what.
async fn auth_method(ctx: &Context) -> Outcome {
    use crate::require_auth::AuthMethod;
    let e = ctx.source.endpoint();
    let session = match ctx.source_session().await {
        Ok((_, s)) => *s,
        Err(err) => return Outcome::skip(format!("cannot log in: {err}")),
    };
    let replication = ctx.replication_auth().await.ok().copied();
    let transport = |tls: bool| {
        if tls {
            "TLS"
        } else if e.is_unix_socket() {
            "Unix socket"
        } else {
            "unencrypted"
        }
    };
    let mut methods = vec![(session.auth_method, session.tls)];
    if let Some(r) = replication {
        methods.push((r.method, r.tls));
    }
    let describe = format!(
        "SQL login: {} over {}{}",
        session.auth_method.describe(),
        transport(session.tls),
        match replication {
            Some(r) => format!(
                "; replication: {} over {}",
                r.method.describe(),
                transport(r.tls)
            ),
            None => String::new(),
        }
    );
    let out = |o: Outcome| {
        let o = o
            .evidence("sql_method", session.auth_method.as_str())
            .evidence("sql_tls", session.tls)
            .evidence(
                "require_auth",
                e.require_auth
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "default (no clear-text password without TLS)".into()),
            );
        match replication {
            Some(r) => o
                .evidence("replication_method", r.method.as_str())
                .evidence("replication_tls", r.tls),
            None => o,
        }
    };
    let weakest = methods
        .iter()
        .map(|(m, tls)| match m {
            AuthMethod::ScramSha256 => 0,
            AuthMethod::Gss | AuthMethod::Sspi => 0,
            AuthMethod::None if e.is_loopback() => 0,
            AuthMethod::Md5 => 1,
            AuthMethod::Password if *tls || e.is_unix_socket() => 1,
            AuthMethod::Password => 3,
            AuthMethod::None => 2,
        })
        .max()
        .unwrap_or(0);
    let hba = format!(
        "set the method of the source's pg_hba.conf lines for this host (database all and \
         replication) to scram-sha-256, set password_encryption = scram-sha-256, set the \
         role's password again (ALTER ROLE {} PASSWORD '…'), and reload",
        ident(&e.user)
    );
    match weakest {
        0 => out(Outcome::pass(describe)),
        1 => out(Outcome::warn(describe)
            .impact(
                "md5 is deprecated (PostgreSQL 18 warns on it) and a stolen md5 hash logs in as \
                 the role; a clear-text password, even over TLS, is read by the server process",
            )
            .remedy(hba)),
        2 => out(Outcome::warn(describe)
            .impact("the source lets anyone who reaches it log in as this role without a password")
            .remedy(hba)),
        _ => out(Outcome::warn(describe)
            .impact("the password crosses the network in clear text, readable on the path")
            .remedy(hba)),
    }
}
