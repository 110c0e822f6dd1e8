//! The source's preparations before an assessment, as copyable text filled in for one case:
//! the migration account and its grants, the `pg_hba.conf` lines naming this host, and the
//! settings a physical copy needs. Shown by the desktop wizard's "Configure Source Instance".

use std::net::IpAddr;

use serde::Serialize;

use crate::assess::remedy::hba_line;
use crate::inspect;
use crate::quote::sql::ident;

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
    /// The source is managed on this host: the switchover fences it by shutting it down,
    /// so the account needs no fencing grants.
    pub managed_here: bool,
}

/// Which item of the checklist (the UI titles it through its translations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PreparationId {
    /// The migration account and its grants.
    Account,
    /// The `pg_hba.conf` lines naming this host.
    Hba,
    /// `wal_level` for a physical copy.
    WalLevel,
    /// Enough WAL senders and replication slots.
    WalSenders,
}

/// One item of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Preparation {
    /// Which item.
    pub id: PreparationId,
    /// Text to copy and run or paste (SQL, `pg_hba.conf` lines).
    pub text: String,
}

/// The checklist for `plan`; this host's address toward the source fills the pg_hba lines.
pub fn source_preparations(plan: &SourcePlan) -> Vec<Preparation> {
    let address = inspect::address_toward(&plan.host, plan.port);
    preparations_from(plan, address)
}

fn preparations_from(plan: &SourcePlan, address: Option<IpAddr>) -> Vec<Preparation> {
    let role = ident(&plan.user);
    let mut account = vec![
        format!("CREATE ROLE {role} LOGIN REPLICATION;"),
        // psql asks for the password, so it reaches neither the shell history nor a log.
        format!("\\password {role}"),
        format!("GRANT pg_monitor TO {role};"),
    ];
    if !plan.managed_here {
        account.push(format!("GRANT pg_signal_backend TO {role};"));
        account.push(format!(
            "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO {role};"
        ));
        match plan.major {
            Some(m) if m >= 15 => account.push(format!(
                "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO {role};"
            )),
            _ => account.push(format!(
                "-- before PostgreSQL 15 only a superuser may fence with ALTER SYSTEM:\n\
                 ALTER ROLE {role} SUPERUSER;"
            )),
        }
        account.push(format!(
            "-- and for each database that accepts connections, except template1 (the\n\
             -- fence's control database, which stays open to undo it):\n\
             ALTER DATABASE <database> OWNER TO {role};"
        ));
    }
    let hba = [
        hba_line("replication", &plan.user, address),
        hba_line("all", &plan.user, address),
    ]
    .join("\n");
    vec![
        Preparation {
            id: PreparationId::Account,
            text: account.join("\n"),
        },
        Preparation {
            id: PreparationId::Hba,
            text: format!("{hba}\n-- then, in psql:\nSELECT pg_reload_conf();"),
        },
        Preparation {
            id: PreparationId::WalLevel,
            text: "ALTER SYSTEM SET wal_level = 'replica';\n-- restart the source if it was minimal"
                .into(),
        },
        Preparation {
            id: PreparationId::WalSenders,
            text: "ALTER SYSTEM SET max_wal_senders = 10;\nALTER SYSTEM SET max_replication_slots = 10;\n\
                   -- restart the source if either was lower"
                .into(),
        },
    ]
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
        let text = |p: SourcePlan| preparations_from(&p, None)[0].text.clone();
        assert!(text(plan(Some(16), false)).contains("GRANT ALTER SYSTEM ON PARAMETER"));
        assert!(text(plan(Some(13), false)).contains("ALTER ROLE migrator SUPERUSER"));
        let managed = text(plan(Some(16), true));
        assert!(managed.contains("LOGIN REPLICATION"));
        assert!(!managed.contains("pg_signal_backend"), "{managed}");
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
