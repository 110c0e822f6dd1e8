//! precheck: the report and the destination's prerequisites again (the assessment's own
//! checks), then what the standby configuration needs from both servers — the source's
//! version, hot-standby floors and tablespaces, the destination's port, listen addresses and
//! socket folder — and where each tablespace goes ([`super::plan`], the rule the assessment
//! proposed). Nothing is made yet: the result is recorded in the task (its plan and layout),
//! so the next phases and a rollback know exactly what to do.

use std::path::{Path, PathBuf};

use super::model::{TablespaceTarget, Task};
use super::plan::{self, FLOOR_SETTINGS};
use super::standby::StandbyPlan;
use super::{check_report, Inner, TaskError};
use crate::assess;
use crate::backup::placement::{self, DirState};
use crate::sql;
use crate::store::reports;
use crate::store::tasks;
use crate::store::InstanceRecord;
use crate::version::ServerVersion;

/// What precheck reads on the source.
struct SourceSettings {
    version: ServerVersion,
    floors: Vec<(String, i64)>,
    /// User tablespaces: OID, location, name.
    tablespaces: Vec<(i64, String, String)>,
}

/// What precheck reads on the destination.
struct DestinationSettings {
    port: i32,
    listen_addresses: String,
    socket_dirs: String,
    floors: Vec<(String, i64)>,
}

const FLOOR_QUERY: &str =
    "SELECT name, setting::int8 FROM pg_settings WHERE name = ANY($1) ORDER BY name";

/// The phase: checks, reads both servers, and records the standby plan and the tablespace
/// targets in the task.
pub(crate) async fn precheck(inner: &Inner, task: &mut Task) -> Result<(), TaskError> {
    let mappings: Vec<(PathBuf, PathBuf)> = task
        .options
        .tablespace_mappings
        .iter()
        .map(|m| (m.old.clone(), m.new.clone()))
        .collect();
    let (source, dest) = destination_ready(inner, task, &mappings).await?;
    let src = read_source(inner, &source).await?;
    let dst = read_destination(inner, &dest).await?;

    let dest_data_dir = dest
        .managed
        .as_ref()
        .map(|m| m.data_dir.clone())
        .ok_or_else(|| TaskError::DestinationNotReady("the destination is not managed".into()))?;
    task.layout.tablespaces = place_tablespaces(
        inner,
        task,
        plan::source_on_this_host(&source),
        &dest_data_dir,
        src.tablespaces,
        &mappings,
    )?;
    task.plan = Some(StandbyPlan {
        version: src.version,
        port: dst.port as u16,
        listen_addresses: dst.listen_addresses,
        socket_dirs: dst.socket_dirs,
        floors: plan::standby_floors(&src.floors, &dst.floors),
    });
    tasks::save(inner.store(), task)?;
    Ok(())
}

/// The report still lets the task start, and the assessment's destination prerequisites
/// pass now. Returns both instances.
async fn destination_ready(
    inner: &Inner,
    task: &Task,
    mappings: &[(PathBuf, PathBuf)],
) -> Result<(InstanceRecord, InstanceRecord), TaskError> {
    let report = reports::get(inner.store(), &task.report_id)?;
    check_report(
        &report,
        &task.source.name,
        &task.destination.name,
        task.mode,
    )?;
    let source = inner.instance(&task.source)?;
    let (dest, _, _) = inner.managed_dest(task)?;

    let options = assess::Options {
        tablespace_mappings: mappings.to_vec(),
        slot_name: Some(task.layout.slot_name.clone()),
        ..assess::Options::default()
    };
    let checks = assess::destination_prerequisites(
        &inner.instances,
        source.name.as_str(),
        dest.name.as_str(),
        options,
    )
    .await?;
    let blocking: Vec<String> = checks
        .iter()
        .filter(|c| c.status == assess::Status::Error)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect();
    if !blocking.is_empty() {
        return Err(TaskError::DestinationNotReady(blocking.join("; ")));
    }
    inner.note(
        &task.id,
        format!("destination checks passed ({} checks)", checks.len()),
    );
    Ok((source, dest))
}

fn floor_names() -> Vec<String> {
    FLOOR_SETTINGS.iter().map(|s| s.to_string()).collect()
}

/// The source's version, hot-standby floors and user tablespaces.
async fn read_source(inner: &Inner, source: &InstanceRecord) -> Result<SourceSettings, TaskError> {
    let password = inner.password(source).await?;
    let src = sql::connect(
        &source.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?;
    let src_err =
        |e: tokio_postgres::Error| TaskError::Sql(sql::SqlError::from_driver(&e, &source.endpoint));
    let version_num: i32 = src
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(src_err)?
        .get(0);
    let floors: Vec<(String, i64)> = src
        .query(FLOOR_QUERY, &[&floor_names()])
        .await
        .map_err(src_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let tablespaces: Vec<(i64, String, String)> = src
        .query(
            "SELECT oid::int8, pg_tablespace_location(oid), spcname::text FROM pg_tablespace \
             WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid",
            &[],
        )
        .await
        .map_err(src_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(SourceSettings {
        version: ServerVersion::from_num(version_num as u32),
        floors,
        tablespaces,
    })
}

/// The destination's port, listen addresses, socket folders and hot-standby floors.
async fn read_destination(
    inner: &Inner,
    dest: &InstanceRecord,
) -> Result<DestinationSettings, TaskError> {
    let password = inner.password(dest).await?;
    let dst = sql::connect(
        &dest.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?;
    let dst_err =
        |e: tokio_postgres::Error| TaskError::Sql(sql::SqlError::from_driver(&e, &dest.endpoint));
    let row = dst
        .query_one(
            "SELECT current_setting('port')::int, current_setting('listen_addresses'), \
                    current_setting('unix_socket_directories')",
            &[],
        )
        .await
        .map_err(dst_err)?;
    let floors: Vec<(String, i64)> = dst
        .query(FLOOR_QUERY, &[&floor_names()])
        .await
        .map_err(dst_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(DestinationSettings {
        port: row.get(0),
        listen_addresses: row.get(1),
        socket_dirs: row.get(2),
        floors,
    })
}

/// Where each tablespace goes ([`plan::place_tablespace`]), checked against the backup's own
/// rule here so the task stops before the slot, with whether each target existed (empty).
fn place_tablespaces(
    inner: &Inner,
    task: &Task,
    source_on_this_host: bool,
    dest_data_dir: &Path,
    tablespaces: Vec<(i64, String, String)>,
    mappings: &[(PathBuf, PathBuf)],
) -> Result<Vec<TablespaceTarget>, TaskError> {
    let mut targets = Vec::new();
    for (oid, location, name) in tablespaces {
        // The backup's own rule (one code path): a canonical absolute location, and an
        // existing directory only when mapped.
        let old = placement::check_location(oid as u32, &location)?;
        let place = plan::place_tablespace(
            &old,
            &name,
            mappings,
            source_on_this_host,
            placement::exists(&old),
            dest_data_dir,
        );
        let target = if place.mapped {
            place.target
        } else if place.defaulted {
            inner.note(
                &task.id,
                format!(
                    "tablespace {name} ({location}) is this host's source folder: copying \
                     it to {} (give --tablespace-mapping to choose another folder)",
                    place.target.display()
                ),
            );
            place.target
        } else {
            placement::place(oid as u32, &location, &[])?.dir
        };
        let existed = match placement::dir_state(&target) {
            Ok(DirState::NotEmpty) => {
                return Err(TaskError::DestinationNotReady(format!(
                    "tablespace {oid} would be copied into {}, which is not empty; map it \
                     elsewhere with --tablespace-mapping {location}=NEW_DIR",
                    target.display()
                )))
            }
            Ok(DirState::Empty) => true,
            Ok(DirState::Missing) => false,
            Err(e) => return Err(TaskError::io("inspect", &target)(e)),
        };
        targets.push(TablespaceTarget {
            oid: oid as u32,
            source_location: location,
            target,
            existed,
        });
    }
    Ok(targets)
}
