//! The check catalogue (assessment-checks.md), one module per group. Each check declares its
//! id, group, title, level on failure and prerequisites; `catalogue(mode)` lists them all.

mod access;
mod configuration;
mod connectivity;
mod data;
mod destination;

pub use destination::default_tablespace_target;

use super::check::{Check, CheckSpec};
use super::context::Context;
use super::model::{Level, Mode};

/// Group titles, in report order.
pub const CONNECTIVITY: &str = "Source connectivity";
/// Destination group.
pub const DESTINATION: &str = "Destination";
/// Source configuration group.
pub const CONFIGURATION: &str = "Source configuration";
/// Source data group.
pub const DATA: &str = "Source data";

/// Declares a check: `check!(id, group, title, level, [deps…], async fn)`.
macro_rules! check {
    ($id:literal, $group:expr, $title:literal, $level:expr, [$($dep:literal),* $(,)?], $run:path) => {
        $crate::assess::check::Check {
            spec: $crate::assess::check::CheckSpec {
                id: $id,
                group: $group,
                title: $title,
                fails_as: $level,
                depends_on: &[$($dep),*],
            },
            run: |ctx| Box::pin($run(ctx)),
        }
    };
}
pub(crate) use check;

/// Every check for `mode`, in report order.
pub fn catalogue(mode: Mode) -> Vec<Check<Context>> {
    let mut all = connectivity::checks(mode);
    all.extend(destination::checks());
    all.extend(access::checks());
    all.extend(configuration::checks());
    all.extend(data::checks());
    all
}

/// The checks the desktop wizard shows live before an assessment: the destination's own
/// prerequisites (managed, primary, empty, same major, storage) and the source login they
/// need.
pub fn destination_prerequisites() -> Vec<Check<Context>> {
    const IDS: [&str; 7] = [
        "src.reachable",
        "src.login",
        "dest.managed",
        "dest.primary",
        "dest.empty",
        "dest.version",
        "dest.storage",
    ];
    catalogue(Mode::Migration)
        .into_iter()
        .filter(|c| IDS.contains(&c.spec.id))
        .collect()
}

/// The declaration of every check, e.g. for documentation and the UI.
pub fn specs(mode: Mode) -> Vec<CheckSpec> {
    catalogue(mode).into_iter().map(|c| c.spec).collect()
}

/// The level a check fails at in `mode` when it differs between scenarios (the fence).
fn by_mode(mode: Mode, migration: Level, dr: Level) -> Level {
    match mode {
        Mode::Migration => migration,
        Mode::Dr => dr,
    }
}

/// `123.4 MiB`-style sizes for messages.
fn size(bytes: u64) -> String {
    super::export::human_bytes(bytes)
}

/// A list for a message: the first `max` items, then "and N more".
fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!(
            "{}, and {} more",
            items[..max].join(", "),
            items.len() - max
        )
    }
}

/// `n thing` / `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// `n thing` / `n things`, for a word whose plural is not `-s`.
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

use crate::quote::shell::word as shell_word;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::runner::waves;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "standby"), "1 standby");
        assert_eq!(count(2, "standby"), "2 standbys");
        assert_eq!(
            count_of(0, "preloaded library", "preloaded libraries"),
            "0 preloaded libraries"
        );
        assert_eq!(
            count_of(1, "preloaded library", "preloaded libraries"),
            "1 preloaded library"
        );
    }

    #[test]
    fn the_catalogue_is_complete_and_well_formed() {
        for mode in [Mode::Migration, Mode::Dr] {
            let checks = catalogue(mode);
            waves(&checks).expect("no duplicate, unknown or cyclic dependency");
            let ids: Vec<&str> = checks.iter().map(|c| c.spec.id).collect();
            for id in [
                "dest.managed",
                "dest.primary",
                "dest.empty",
                "dest.same_system",
                "dest.version",
                "dest.storage",
                "dest.binary_compat",
                "dest.locales",
                "dest.tablespaces",
                "dest.extensions",
                "dest.c_functions",
                "dest.standby_params",
                "dest.access_rules",
                "src.reachable",
                "src.login",
                "src.replication_conn",
                "src.role_replication",
                "src.role_monitor",
                "src.standby_role",
                "src.fencing",
                "src.way_back",
                "src.tls",
                "src.auth_method",
                "src.version",
                "src.wal_level",
                "src.wal_senders",
                "src.slots",
                "src.wal_retention",
                "src.wal_keep",
                "src.archive",
                "src.unlogged",
                "src.logical_slots",
                "src.prepared_xacts",
                "src.long_xacts",
                "src.collation",
                "src.checksums",
                "src.config_drift",
                "src.clock",
            ] {
                assert!(ids.contains(&id), "{id} missing");
            }
            assert_eq!(ids.len(), 38);
        }
        let fence = |mode| {
            catalogue(mode)
                .into_iter()
                .find(|c| c.spec.id == "src.fencing")
                .unwrap()
                .spec
                .fails_as
        };
        assert_eq!(fence(Mode::Migration), Level::Error);
        assert_eq!(fence(Mode::Dr), Level::Warning);
        assert_eq!(destination_prerequisites().len(), 7);
    }
}
