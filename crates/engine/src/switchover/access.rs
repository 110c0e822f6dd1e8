//! Which fence the source account can perform. Shared by the assessment's `src.fencing`
//! check and the switchover's guardrails, so the report and the switchover agree.

use tokio_postgres::Client;

use crate::assess::queries;
use crate::quote::sql::ident;
use crate::version::ServerVersion;

/// The database the `sql` fence works from. It is never blocked, so the fence can always be
/// undone through it (on the source, and on the destination after promotion); applications
/// do not use it, and it stays read-only and watched while the fence holds.
pub const CONTROL_DATABASE: &str = "template1";

/// Something the account lacks for the `sql` fence, with the statement that grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// What is missing, in words.
    pub what: String,
    /// SQL a superuser runs to grant it.
    pub grant: String,
}

/// What the source account may do for the `sql` fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFenceAccess {
    /// The role logged in.
    pub role: String,
    /// It is a superuser (can do everything, including terminating superuser sessions).
    pub superuser: bool,
    /// What it lacks (empty: it can fence).
    pub gaps: Vec<Gap>,
}

impl SqlFenceAccess {
    /// The account can perform every step of the `sql` fence.
    pub fn can_fence(&self) -> bool {
        self.superuser || self.gaps.is_empty()
    }
}

/// Reads what the logged-in account may do for the `sql` fence: `ALTER SYSTEM` on
/// `default_transaction_read_only`, `pg_reload_conf()`, `pg_signal_backend`, and ownership
/// of every database it must block (all that accept connections but the control database).
pub async fn sql_fence_access(client: &Client) -> Result<SqlFenceAccess, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_user::text, r.rolsuper, \
                    pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'), \
                    has_function_privilege('pg_reload_conf()', 'EXECUTE'), \
                    current_setting('server_version_num')::int \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await?;
    let role: String = row.get(0);
    let superuser: bool = row.get(1);
    if superuser {
        return Ok(SqlFenceAccess {
            role,
            superuser,
            gaps: Vec::new(),
        });
    }
    let (signal_backend, reload): (bool, bool) = (row.get(2), row.get(3));
    let version = ServerVersion::from_num(row.get::<_, i32>(4) as u32);
    let quoted = ident(&role);
    let mut gaps = Vec::new();
    match queries::alter_system_privilege(version) {
        Some(q) => {
            if !client.query_one(q, &[]).await?.get::<_, bool>(0) {
                gaps.push(Gap {
                    what: "ALTER SYSTEM on default_transaction_read_only".into(),
                    grant: format!(
                        "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO {quoted};"
                    ),
                });
            }
        }
        None => gaps.push(Gap {
            what: format!(
                "ALTER SYSTEM (superuser only before PostgreSQL 15; the source runs {version})"
            ),
            grant: format!("ALTER ROLE {quoted} SUPERUSER;"),
        }),
    }
    if !signal_backend {
        gaps.push(Gap {
            what: "membership in pg_signal_backend".into(),
            grant: format!("GRANT pg_signal_backend TO {quoted};"),
        });
    }
    if !reload {
        gaps.push(Gap {
            what: "EXECUTE on pg_reload_conf()".into(),
            grant: format!("GRANT EXECUTE ON FUNCTION pg_reload_conf() TO {quoted};"),
        });
    }
    for r in client
        .query(
            "SELECT datname::text FROM pg_database \
             WHERE datallowconn AND datname <> $1 AND NOT pg_has_role(datdba, 'MEMBER') \
             ORDER BY 1",
            &[&CONTROL_DATABASE],
        )
        .await?
    {
        let name: String = r.get(0);
        gaps.push(Gap {
            what: format!("ownership of database {name}"),
            grant: format!("ALTER DATABASE {} OWNER TO {quoted};", ident(&name)),
        });
    }
    Ok(SqlFenceAccess {
        role,
        superuser,
        gaps,
    })
}
