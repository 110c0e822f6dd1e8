//! The assessment's SQL that differs between PostgreSQL 10 and 18, in one place: each
//! function takes the server's version and returns the statement for it.

use crate::version::ServerVersion;

/// Databases with their locale: `datname, datallowconn, datistemplate, datcollate, datctype,
/// provider ('c' libc, 'i' ICU, 'b' builtin), icu_locale, size (NULL when not readable),
/// owned (the current role is a member of the owner)`.
///
/// The locale provider arrived in 15 (`daticulocale`), renamed `datlocale` in 17.
pub fn databases(v: ServerVersion) -> &'static str {
    if v.major >= 17 {
        "SELECT d.datname, d.datallowconn, d.datistemplate, d.datcollate, d.datctype, \
         d.datlocprovider::text, d.datlocale, \
         CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END, \
         pg_has_role(d.datdba, 'MEMBER') FROM pg_database d ORDER BY 1"
    } else if v.major >= 15 {
        "SELECT d.datname, d.datallowconn, d.datistemplate, d.datcollate, d.datctype, \
         d.datlocprovider::text, d.daticulocale, \
         CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END, \
         pg_has_role(d.datdba, 'MEMBER') FROM pg_database d ORDER BY 1"
    } else {
        "SELECT d.datname, d.datallowconn, d.datistemplate, d.datcollate, d.datctype, \
         'c'::text, NULL::text, \
         CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END, \
         pg_has_role(d.datdba, 'MEMBER') FROM pg_database d ORDER BY 1"
    }
}

/// Replication slots: `slot_name, slot_type, active, wal_status, safe_wal_size`
/// (the last two only exist from 13: NULL before).
pub fn slots(v: ServerVersion) -> &'static str {
    if v.has_slot_wal_status() {
        "SELECT slot_name::text, slot_type, active, wal_status, safe_wal_size \
         FROM pg_replication_slots ORDER BY 1"
    } else {
        "SELECT slot_name::text, slot_type, active, NULL::text, NULL::bigint \
         FROM pg_replication_slots ORDER BY 1"
    }
}

/// The WAL a server keeps for standbys regardless of slots, in bytes, given the settings
/// `wal_keep_segments` (≤ 12, a count of segments) or `wal_keep_size` (13+, megabytes).
pub fn wal_keep_bytes(v: ServerVersion, setting: i64, wal_segment_bytes: u64) -> u64 {
    let setting = setting.max(0) as u64;
    if v.major >= 13 {
        setting * 1024 * 1024
    } else {
        setting * wal_segment_bytes
    }
}

/// The library that archives WAL: `archive_command`, or from 15 `archive_library` too.
pub fn archive_settings(v: ServerVersion) -> &'static [&'static str] {
    if v.major >= 15 {
        &["archive_command", "archive_library"]
    } else {
        &["archive_command"]
    }
}

/// Collations that indexes of user tables use, with the version the provider reports now:
/// `collname, collprovider, actual_version`. libc collations report a version from 13;
/// earlier the version is NULL.
pub fn index_collations(_v: ServerVersion) -> &'static str {
    "SELECT DISTINCT c.collname::text, c.collprovider::text, \
     pg_collation_actual_version(c.oid) \
     FROM pg_index i CROSS JOIN LATERAL unnest(i.indcollation::oid[]) AS ic(coll) \
     JOIN pg_collation c ON c.oid = ic.coll \
     WHERE i.indrelid >= 16384 AND c.collprovider IN ('c', 'i') \
     AND c.collname NOT IN ('C', 'POSIX', 'ucs_basic') ORDER BY 1"
}

/// The version of the C library's collations, as the server sees it (13+: `glibc` reports
/// its own version for every libc collation). `None` before 13, which cannot tell.
pub fn libc_collation_version(v: ServerVersion) -> Option<&'static str> {
    (v.major >= 13).then_some(
        "SELECT pg_collation_actual_version(oid) FROM pg_collation \
         WHERE collprovider = 'c' AND collname NOT IN ('C', 'POSIX', 'ucs_basic') \
         AND collencoding IN (-1, pg_char_to_encoding(current_setting('server_encoding'))) \
         AND pg_collation_actual_version(oid) IS NOT NULL LIMIT 1",
    )
}

/// `backend_type` (10+) tells client backends from walsenders and background workers.
pub fn long_transactions(_v: ServerVersion) -> &'static str {
    "SELECT pid, usename::text, datname::text, \
     extract(epoch FROM clock_timestamp() - xact_start)::float8, state, \
     left(query, 200) \
     FROM pg_stat_activity \
     WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
     AND xact_start IS NOT NULL \
     AND xact_start < clock_timestamp() - make_interval(secs => $1::float8) \
     ORDER BY xact_start"
}

/// Whether the role may change settings with ALTER SYSTEM without being superuser
/// (15+: `GRANT ALTER SYSTEM ON PARAMETER`); before 15 only superusers can.
pub fn alter_system_privilege(v: ServerVersion) -> Option<&'static str> {
    (v.major >= 15).then_some(
        "SELECT has_parameter_privilege('default_transaction_read_only', 'ALTER SYSTEM')",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_choices() {
        let v = ServerVersion::new;
        assert!(databases(v(14, 0)).contains("'c'::text"));
        assert!(databases(v(15, 0)).contains("daticulocale"));
        assert!(databases(v(17, 0)).contains("datlocale"));
        assert!(slots(v(12, 0)).contains("NULL::text"));
        assert!(slots(v(13, 0)).contains("safe_wal_size"));
        assert_eq!(wal_keep_bytes(v(12, 0), 4, 16 << 20), 64 << 20);
        assert_eq!(wal_keep_bytes(v(13, 0), 64, 16 << 20), 64 << 20);
        assert_eq!(archive_settings(v(14, 0)), &["archive_command"]);
        assert!(libc_collation_version(v(12, 0)).is_none());
        assert!(alter_system_privilege(v(14, 0)).is_none());
        assert!(alter_system_privilege(v(15, 0)).is_some());
    }
}
