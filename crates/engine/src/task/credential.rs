//! The credential the standby connects with (issue 14): a role of the task's own on the
//! source when the task account may create roles and the source admits that role for
//! replication; else the task account's, as before, with a note saying why and the remedy.

use super::model::Task;
use super::{Inner, TaskError};
use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::standby_role::{self, RoleError};
use crate::store::{tasks, InstanceRecord};

/// Who the standby connects as, and the password written for it (`None`: no password file).
pub(crate) struct StandbyCredential {
    pub endpoint: Endpoint,
    pub password: Option<Password>,
}

/// The standby's credential for `task`, making its role on the source when it can. The role
/// is recorded in the task before it is created, so a crash in between leaves nothing
/// untracked (every cleanup drops it, absent or not).
pub(crate) async fn standby_credential(
    inner: &Inner,
    task: &mut Task,
    source: &InstanceRecord,
    password: Option<Password>,
) -> Result<StandbyCredential, TaskError> {
    let fallback = |password: Option<Password>| StandbyCredential {
        endpoint: source.endpoint.clone(),
        password,
    };
    let endpoint = &source.endpoint;
    let address = match standby_role::may_create_roles(endpoint, password.as_ref()).await {
        Ok((true, address)) => address,
        Ok((false, _)) => {
            inner.note(
                &task.id,
                format!(
                    "the account {} cannot create roles for the standby: it authenticates \
                     with the account's password, kept in {} until the switchover or cancel \
                     (a superuser, or from PostgreSQL 16 on an account with CREATEROLE and \
                     REPLICATION, gives the standby a role of its own)",
                    endpoint.user,
                    task.layout.passfile.display(),
                ),
            );
            return Ok(fallback(password));
        }
        Err(e) => {
            inner.note(
                &task.id,
                format!("cannot tell whether the account may create roles ({e}): the standby uses its password"),
            );
            return Ok(fallback(password));
        }
    };
    let role = standby_role::name_for(task.id.as_str());
    let secret = match standby_role::generate_password() {
        Ok(s) => s,
        Err(e) => {
            inner.note(
                &task.id,
                format!("{e}: the standby uses the account's password"),
            );
            return Ok(fallback(password));
        }
    };
    task.layout.standby_role = Some(role.clone());
    tasks::save(inner.store(), task)?;
    if let Err(e) = standby_role::create(endpoint, password.as_ref(), &role, &secret).await {
        inner.note(
            &task.id,
            format!(
                "{}: the standby uses the account's password",
                RoleError::from(e)
            ),
        );
        task.layout.standby_role = None;
        tasks::save(inner.store(), task)?;
        return Ok(fallback(password));
    }
    if let Err(e) = standby_role::admits_replication(endpoint, &role, &secret).await {
        inner.note(
            &task.id,
            format!(
                "the source refused a replication connection of the standby role {role} ({e}): \
                 the standby uses the account's password instead. The line \"{}\" before \
                 the others in the source's pg_hba.conf (then SELECT pg_reload_conf()) admits \
                 the role next time",
                standby_role::hba_line(&role, address),
            ),
        );
        match standby_role::drop(endpoint, password.as_ref(), &role).await {
            Ok(()) => {
                task.layout.standby_role = None;
                tasks::save(inner.store(), task)?;
            }
            Err(e) => inner.note(
                &task.id,
                format!(
                    "the role {role} could not be dropped yet ({e}); the task drops it at \
                     switchover or cancel"
                ),
            ),
        }
        return Ok(fallback(password));
    }
    inner.note(
        &task.id,
        format!(
            "standby role {role} created on the source (REPLICATION LOGIN, a password of its \
             own): only that password is written for the standby"
        ),
    );
    let mut endpoint = endpoint.clone();
    endpoint.user = role;
    Ok(StandbyCredential {
        endpoint,
        password: Some(secret),
    })
}
