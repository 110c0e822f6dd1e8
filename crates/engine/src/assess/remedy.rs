//! Pieces of copyable remedies: `pg_hba.conf` lines (the quoting rules are in [`crate::quote`]).

use std::net::IpAddr;

use crate::quote::hba::field as hba_field;

/// A `pg_hba.conf` line admitting `user` from `address` (this host as the server sees it),
/// for `database` (the keywords `replication` for a physical walsender, `all`), with SCRAM. A Unix-socket
/// client (`None`) gets a `local` line.
pub fn hba_line(database: &str, user: &str, address: Option<IpAddr>) -> String {
    let database = if matches!(database, "replication" | "all") {
        database.to_string()
    } else {
        hba_field(database)
    };
    match address {
        Some(ip) => {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            format!(
                "host    {database} {} {ip}/{bits} scram-sha-256",
                hba_field(user)
            )
        }
        None => format!("local   {database} {} scram-sha-256", hba_field(user)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hba_lines_name_the_client_address() {
        assert_eq!(
            hba_line("replication", "migrator", Some("10.0.0.5".parse().unwrap())),
            "host    replication migrator 10.0.0.5/32 scram-sha-256"
        );
        assert_eq!(
            hba_line("all", "a b", Some("::1".parse().unwrap())),
            "host    all \"a b\" ::1/128 scram-sha-256"
        );
        assert_eq!(
            hba_line("replication", "all", None),
            "local   replication \"all\" scram-sha-256"
        );
    }
}
