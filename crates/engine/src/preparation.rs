//! The source's preparations before an assessment: the migration account and its grants,
//! the grants the SQL fence needs, the `pg_hba.conf` lines naming this host, and the
//! settings a physical copy needs. For a registered source each item is checked on the live
//! server (as the migration account), so the checklist says what is met and gives SQL for
//! what is missing only; an endpoint not registered yet gets the whole text, unchecked.
//! Shown by the desktop wizard's "Configure Source Instance" and `pgrelocate instance prepare`.

use std::net::IpAddr;

use serde::Serialize;
use tokio_postgres::Client;

use crate::assess::remedy::hba_line;
use crate::inspect;
use crate::instances::{InstanceError, Instances};
use crate::quote::sql::ident;
use crate::sql;
use crate::switchover::access::{self, CONTROL_DATABASE};

/// What the preparations depend on.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// Source host (name, address or socket directory).
    pub host: String,
    /// Source port.
    pub port: u16,
    /// The migration account's name.
    pub user: String,
    /// Source major version, when known (grants differ before 15).
    pub major: Option<u32>,
    /// The source is managed by pgrelocate: the switchover fences it by shutting it down,
    /// so the account needs no fencing grants.
    pub managed_here: bool,
}

/// Which item of the checklist (the UI titles it through its translations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PreparationId {
    /// The migration account: LOGIN, REPLICATION, pg_monitor, CREATEROLE (for the standby's
    /// own role; without it the standby uses the account's password).
    Account,
    /// What the SQL fence of the switchover needs (absent for a managed source).
    Fencing,
    /// The `pg_hba.conf` lines naming this host.
    Hba,
    /// `wal_level` for a physical copy.
    WalLevel,
    /// Enough WAL senders and replication slots.
    WalSenders,
}

/// Where an item stands on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PrepState {
    /// Checked live: everything is in place.
    Met,
    /// Checked live: something is missing (the text grants or sets just that).
    Missing,
    /// Not checked (an endpoint not registered yet, a source that did not answer, or an
    /// item SQL cannot see, like `pg_hba.conf`'s replication lines).
    Unchecked,
}

/// One privilege or setting an item needs, and whether the source has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Requirement {
    /// What, in words ("the REPLICATION attribute").
    pub what: String,
    /// The source has it.
    pub met: bool,
}

/// One item of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Preparation {
    /// Which item.
    pub id: PreparationId,
    /// Checked, and with what result.
    pub state: PrepState,
    /// What was checked, one line each (empty when unchecked).
    pub requirements: Vec<Requirement>,
    /// Text to copy and run or paste (SQL, `pg_hba.conf` lines): for a checked item only
    /// what is missing (empty when met).
    pub text: String,
}

/// The whole checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SourceChecklist {
    /// The role the items are for.
    pub role: String,
    /// The items were checked on the live source.
    pub checked: bool,
    /// Why they were not, when not.
    pub unchecked_reason: Option<String>,
    /// The items, in the order to do them.
    pub preparations: Vec<Preparation>,
}

/// The unchecked checklist for `plan` (an endpoint not registered yet); this host's address
/// toward the source fills the pg_hba lines.
pub fn source_preparations(plan: &SourcePlan) -> SourceChecklist {
    let address = inspect::address_toward(&plan.host, plan.port);
    SourceChecklist {
        role: plan.user.clone(),
        checked: false,
        unchecked_reason: Some(
            "the source is not registered yet: its account is checked once it is".into(),
        ),
        preparations: preparations_from(plan, address),
    }
}

/// The checklist of the registered instance `name`, checked on the live source as its
/// migration account. A source that cannot be reached or logged into gives the unchecked
/// checklist and says why (that is no error: the wizard still shows what to do).
pub async fn check_source(
    instances: &Instances,
    name: &str,
) -> Result<SourceChecklist, InstanceError> {
    let record = instances.store().instance_by_name(name)?;
    let plan = SourcePlan {
        host: record.endpoint.host.clone(),
        port: record.endpoint.port,
        user: record.endpoint.user.clone(),
        major: record.managed.as_ref().map(|m| m.major),
        managed_here: record.managed.is_some(),
    };
    let host = plan.host.clone();
    let port = plan.port;
    let address = tokio::task::spawn_blocking(move || inspect::address_toward(&host, port))
        .await
        .unwrap_or(None);
    let unchecked = |reason: String| SourceChecklist {
        role: plan.user.clone(),
        checked: false,
        unchecked_reason: Some(reason),
        preparations: preparations_from(&plan, address),
    };
    let password = match instances.password_for(&record).await {
        Ok(p) => p,
        Err(e) => return Ok(unchecked(format!("its password could not be read: {e}"))),
    };
    let client = match sql::connect(
        &record.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return Ok(unchecked(format!("the source could not be checked: {e}"))),
    };
    match checked_from(&client, &plan, address).await {
        Ok(preparations) => Ok(SourceChecklist {
            role: plan.user.clone(),
            checked: true,
            unchecked_reason: None,
            preparations,
        }),
        Err(e) => Ok(unchecked(format!(
            "the source could not be checked: {}",
            crate::assess::context::describe_pg_error(&e)
        ))),
    }
}

/// An item from its requirements and the statements that fix the missing ones.
fn checked(id: PreparationId, items: Vec<(String, bool, Option<String>)>) -> Preparation {
    let missing: Vec<String> = items
        .iter()
        .filter(|(_, met, _)| !met)
        .filter_map(|(_, _, fix)| fix.clone())
        .collect();
    let all_met = items.iter().all(|(_, met, _)| *met);
    Preparation {
        id,
        state: if all_met {
            PrepState::Met
        } else {
            PrepState::Missing
        },
        requirements: items
            .into_iter()
            .map(|(what, met, _)| Requirement { what, met })
            .collect(),
        text: missing.join("\n"),
    }
}

/// Every item checked over `client`, logged in as the migration account.
async fn checked_from(
    client: &Client,
    plan: &SourcePlan,
    address: Option<IpAddr>,
) -> Result<Vec<Preparation>, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_user::text, r.rolsuper, r.rolreplication, r.rolcreaterole, \
                    pg_has_role(current_user, 'pg_monitor', 'MEMBER'), \
                    pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'), \
                    current_setting('wal_level'), \
                    current_setting('max_wal_senders')::int, \
                    (SELECT count(*)::int FROM pg_stat_replication), \
                    current_setting('max_replication_slots')::int, \
                    (SELECT count(*)::int FROM pg_replication_slots), \
                    current_setting('server_version_num')::int / 10000 \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await?;
    let role: String = row.get(0);
    let quoted = ident(&role);
    let superuser: bool = row.get(1);
    let (replication, create_role, monitor, read_all_stats): (bool, bool, bool, bool) =
        (row.get(2), row.get(3), row.get(4), row.get(5));
    let wal_level: String = row.get(6);
    let major: i32 = row.get(11);
    let (senders, senders_used, slots, slots_used): (i32, i32, i32, i32) =
        (row.get(7), row.get(8), row.get(9), row.get(10));

    // The role exists and logs in (it just did): no CREATE ROLE, only what it lacks.
    let mut list = vec![checked(
        PreparationId::Account,
        vec![
            (format!("role {role} exists and may log in"), true, None),
            (
                "the REPLICATION attribute".into(),
                superuser || replication,
                Some(format!("ALTER ROLE {quoted} REPLICATION;")),
            ),
            (
                "membership in pg_monitor (or pg_read_all_stats)".into(),
                superuser || monitor || read_all_stats,
                Some(format!("GRANT pg_monitor TO {quoted};")),
            ),
            (
                "the CREATEROLE attribute (the standby gets a role of its own, so this \
                 account's password is never written to a disk)"
                    .into(),
                crate::standby_role::can_make_role(
                    superuser,
                    create_role,
                    replication,
                    u32::try_from(major).unwrap_or(0),
                ),
                Some(if major >= 16 {
                    format!("ALTER ROLE {quoted} CREATEROLE;")
                } else {
                    "-- before PostgreSQL 16 only a superuser may create the standby's role: \
                     without one, the standby uses this account's password"
                        .to_string()
                }),
            ),
        ],
    )];

    if !plan.managed_here {
        // The same reading the switchover's guardrails and the `src.fencing` check use.
        let fence = access::sql_fence_access(client).await?;
        let items = if fence.superuser {
            vec![(
                "superuser: may perform every step of the fence".to_string(),
                true,
                None,
            )]
        } else {
            let gap = |prefix: &str| fence.gaps.iter().find(|g| g.what.starts_with(prefix));
            let mut items: Vec<(String, bool, Option<String>)> = Vec::new();
            for (prefix, what) in [
                (
                    "ALTER SYSTEM",
                    "ALTER SYSTEM on default_transaction_read_only",
                ),
                (
                    "membership in pg_signal_backend",
                    "membership in pg_signal_backend",
                ),
                ("EXECUTE on pg_reload_conf()", "EXECUTE on pg_reload_conf()"),
            ] {
                match gap(prefix) {
                    Some(g) => items.push((g.what.clone(), false, Some(g.grant.clone()))),
                    None => items.push((what.to_string(), true, None)),
                }
            }
            let databases: Vec<_> = fence
                .gaps
                .iter()
                .filter(|g| g.what.starts_with("ownership of database"))
                .collect();
            if databases.is_empty() {
                items.push((
                    format!("ownership of every database that accepts connections, except {CONTROL_DATABASE}"),
                    true,
                    None,
                ));
            }
            for g in databases {
                items.push((g.what.clone(), false, Some(g.grant.clone())));
            }
            items
        };
        list.push(checked(PreparationId::Fencing, items));
    }

    // pg_hba.conf's replication lines are not visible to SQL: the lines stay to compare.
    list.push(hba(plan, address));

    list.push(checked(
        PreparationId::WalLevel,
        vec![(
            format!("wal_level is {wal_level}"),
            wal_level == "replica" || wal_level == "logical",
            Some(WAL_LEVEL_SQL.into()),
        )],
    ));
    list.push(checked(
        PreparationId::WalSenders,
        vec![
            (
                format!("a free WAL sender ({senders_used} of max_wal_senders = {senders} in use)"),
                senders > senders_used,
                Some(format!(
                    "ALTER SYSTEM SET max_wal_senders = {};\n-- restart the source",
                    (senders_used + 2).max(10)
                )),
            ),
            (
                format!("a free replication slot ({slots_used} of max_replication_slots = {slots} in use)"),
                slots > slots_used,
                Some(format!(
                    "ALTER SYSTEM SET max_replication_slots = {};\n-- restart the source",
                    (slots_used + 2).max(10)
                )),
            ),
        ],
    ));
    Ok(list)
}

const WAL_LEVEL_SQL: &str =
    "ALTER SYSTEM SET wal_level = 'replica';\n-- restart the source if it was minimal";

fn hba(plan: &SourcePlan, address: Option<IpAddr>) -> Preparation {
    let lines = [
        hba_line("replication", &plan.user, address),
        hba_line("all", &plan.user, address),
    ]
    .join("\n");
    Preparation {
        id: PreparationId::Hba,
        state: PrepState::Unchecked,
        requirements: Vec::new(),
        text: format!("{lines}\n-- then, in psql:\nSELECT pg_reload_conf();"),
    }
}

fn unchecked(id: PreparationId, text: String) -> Preparation {
    Preparation {
        id,
        state: PrepState::Unchecked,
        requirements: Vec::new(),
        text,
    }
}

/// The whole text, unchecked.
fn preparations_from(plan: &SourcePlan, address: Option<IpAddr>) -> Vec<Preparation> {
    let role = ident(&plan.user);
    let account = [
        format!("-- a new role (if {role} exists, give it only what it lacks:\n-- ALTER ROLE {role} LOGIN REPLICATION CREATEROLE; and the GRANT):"),
        // CREATEROLE: the task gives the standby a role of its own (see standby_role).
        format!("CREATE ROLE {role} LOGIN REPLICATION CREATEROLE;"),
        // psql asks for the password, so it reaches neither the shell history nor a log.
        format!("\\password {role}"),
        format!("GRANT pg_monitor TO {role};"),
    ];
    let mut list = vec![unchecked(PreparationId::Account, account.join("\n"))];
    if !plan.managed_here {
        let mut fencing = vec![
            format!("GRANT pg_signal_backend TO {role};"),
            format!("GRANT EXECUTE ON FUNCTION pg_reload_conf() TO {role};"),
        ];
        match plan.major {
            Some(m) if m >= 15 => fencing.push(format!(
                "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO {role};"
            )),
            _ => fencing.push(format!(
                "-- before PostgreSQL 15 only a superuser may fence with ALTER SYSTEM\n\
                 -- (from 15: GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO {role};):\n\
                 ALTER ROLE {role} SUPERUSER;"
            )),
        }
        fencing.push(format!(
            "-- and for each database that accepts connections, except {CONTROL_DATABASE} (the\n\
             -- fence's control database, which stays open to undo it):\n\
             ALTER DATABASE <database> OWNER TO {role};"
        ));
        list.push(unchecked(PreparationId::Fencing, fencing.join("\n")));
    }
    list.push(hba(plan, address));
    list.push(unchecked(PreparationId::WalLevel, WAL_LEVEL_SQL.into()));
    list.push(unchecked(
        PreparationId::WalSenders,
        "ALTER SYSTEM SET max_wal_senders = 10;\nALTER SYSTEM SET max_replication_slots = 10;\n\
         -- restart the source if either was lower"
            .into(),
    ));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(major: Option<u32>, managed_here: bool) -> SourcePlan {
        SourcePlan {
            host: "db1.example".into(),
            port: 5432,
            user: "migrator".into(),
            major,
            managed_here,
        }
    }

    #[test]
    fn hba_lines_name_this_hosts_address() {
        let steps = preparations_from(&plan(Some(15), false), Some("10.1.2.3".parse().unwrap()));
        let hba = &steps
            .iter()
            .find(|s| s.id == PreparationId::Hba)
            .unwrap()
            .text;
        assert!(
            hba.contains("host    replication migrator 10.1.2.3/32 scram-sha-256"),
            "{hba}"
        );
        assert!(
            hba.contains("host    all migrator 10.1.2.3/32 scram-sha-256"),
            "{hba}"
        );
    }

    #[test]
    fn fencing_grants_follow_the_version_and_are_absent_for_a_managed_source() {
        let text = |p: SourcePlan| {
            preparations_from(&p, None)
                .iter()
                .filter(|s| matches!(s.id, PreparationId::Account | PreparationId::Fencing))
                .map(|s| s.text.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(text(plan(Some(16), false)).contains("GRANT ALTER SYSTEM ON PARAMETER"));
        assert!(text(plan(Some(13), false)).contains("ALTER ROLE migrator SUPERUSER"));
        let managed = text(plan(Some(16), true));
        assert!(managed.contains("LOGIN REPLICATION"));
        assert!(!managed.contains("pg_signal_backend"), "{managed}");
        // A managed source gets no fencing item at all: no heading promises grants it lacks.
        assert!(!preparations_from(&plan(Some(16), true), None)
            .iter()
            .any(|s| s.id == PreparationId::Fencing));
    }

    #[test]
    fn no_password_is_ever_written_into_the_text() {
        let all: String = preparations_from(&plan(None, false), None)
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert!(!all.contains("PASSWORD '"), "{all}");
        assert!(all.contains("\\password migrator"));
    }
}
