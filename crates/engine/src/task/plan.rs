//! The plan the assessment and the task share, as pure functions of what was read: where
//! each source tablespace goes on this host, and the settings a hot standby needs at least
//! as high as its primary's. The assessment (`dest.tablespaces`, `dest.standby_params`)
//! says what the task (its `precheck` phase) will then do.

use std::path::{Path, PathBuf};

use crate::store::InstanceRecord;

/// Settings a hot standby needs at least as high as its primary's.
pub const FLOOR_SETTINGS: [&str; 5] = [
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
];

/// The standby's value of each setting the source reports: the higher of the source's and
/// the destination's (a setting the destination does not report counts as 0). In the
/// source's order.
pub fn standby_floors(source: &[(String, i64)], dest: &[(String, i64)]) -> Vec<(String, i64)> {
    source
        .iter()
        .map(|(name, value)| {
            let own = dest
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .unwrap_or(0);
            (name.clone(), (*value).max(own))
        })
        .collect()
}

/// Whether the source runs on this very host (managed here, or reached over loopback): then
/// it owns its tablespace folders, and the copy must not go into them.
pub fn source_on_this_host(source: &InstanceRecord) -> bool {
    source.managed.is_some() || source.endpoint.is_loopback()
}

/// Where one source tablespace goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablespacePlace {
    /// The folder on this host.
    pub target: PathBuf,
    /// The DBA mapped it (`OLD=NEW`): an existing empty folder may be used.
    pub mapped: bool,
    /// Not mapped, and its location is the source's own folder on this host: it goes to
    /// [`default_tablespace_target`] instead.
    pub defaulted: bool,
}

/// Where tablespace `name` at `location` goes: its mapping's NEW; without a mapping, when the
/// source shares this host and something exists at `location` (`location_exists`), the
/// default folder beside the destination's data directory; else `location` itself (which the
/// copy then refuses when anything exists there: see [`crate::backup::placement`]).
pub fn place_tablespace(
    location: &Path,
    name: &str,
    mappings: &[(PathBuf, PathBuf)],
    source_on_this_host: bool,
    location_exists: bool,
    dest_data_dir: &Path,
) -> TablespacePlace {
    if let Some((_, new)) = mappings.iter().find(|(old, _)| old == location) {
        return TablespacePlace {
            target: new.clone(),
            mapped: true,
            defaulted: false,
        };
    }
    if source_on_this_host && location_exists {
        return TablespacePlace {
            target: default_tablespace_target(dest_data_dir, name),
            mapped: false,
            defaulted: true,
        };
    }
    TablespacePlace {
        target: location.to_path_buf(),
        mapped: false,
        defaulted: false,
    }
}

/// Where a tablespace goes when the source shares this host and no mapping was given:
/// `<destination instance folder>/tablespaces/<name>`, beside the data directory.
pub fn default_tablespace_target(dest_data_dir: &Path, name: &str) -> PathBuf {
    dest_data_dir
        .parent()
        .unwrap_or(dest_data_dir)
        .join("tablespaces")
        .join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(n, x)| (n.to_string(), *x)).collect()
    }

    #[test]
    fn floors_take_the_higher_value_in_the_sources_order() {
        let floors = standby_floors(
            &pairs(&[("max_connections", 200), ("max_wal_senders", 5)]),
            &pairs(&[("max_wal_senders", 10), ("max_connections", 100)]),
        );
        assert_eq!(
            floors,
            pairs(&[("max_connections", 200), ("max_wal_senders", 10)])
        );
        assert_eq!(
            standby_floors(&pairs(&[("max_connections", 7)]), &[]),
            pairs(&[("max_connections", 7)])
        );
    }

    #[test]
    fn a_mapping_wins_then_a_local_sources_folder_goes_beside_the_destination() {
        let data = Path::new("/srv/dest/data");
        let loc = Path::new("/srv/ts/a");
        let mappings = vec![(PathBuf::from("/srv/ts/a"), PathBuf::from("/mnt/a"))];
        let mapped = place_tablespace(loc, "a", &mappings, true, true, data);
        assert_eq!(mapped.target, PathBuf::from("/mnt/a"));
        assert!(mapped.mapped && !mapped.defaulted);
        let defaulted = place_tablespace(loc, "a", &[], true, true, data);
        assert_eq!(defaulted.target, PathBuf::from("/srv/dest/tablespaces/a"));
        assert!(!defaulted.mapped && defaulted.defaulted);
        for (local, exists) in [(true, false), (false, true), (false, false)] {
            let own = place_tablespace(loc, "a", &[], local, exists, data);
            assert_eq!(own.target, loc);
            assert!(!own.mapped && !own.defaulted);
        }
    }
}
