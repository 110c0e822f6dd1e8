//! Which clients the source admits that the destination would refuse. For every network
//! rule of the source that admits (in the source's order), each of its database × user ×
//! transport combinations is run through the destination's rules first-match, as
//! PostgreSQL does: the first destination rule that matches the whole combination decides;
//! a rule that matches only part of it (a wider source network, a `+group`, `samenet`)
//! decides only when it refuses (then part of the clients are refused). A source rule with
//! any refused combination is pending, with the source's `reject` rules that precede and
//! overlap it, so the carried block refuses what the source refused.

use super::rule::{Address, ConnType, Rule, Token, Transport};

/// A combination the destination refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Database.
    pub database: String,
    /// User.
    pub user: String,
    /// Transport of the connection.
    pub transport: Transport,
    /// The destination rule that refuses it (`None`: no rule matches).
    pub by_line: Option<u32>,
}

/// A source rule the destination does not fully admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRule {
    /// The source's rule (carried as is).
    pub rule: Rule,
    /// What the destination refuses of it (empty for a carried `reject`).
    pub refused: Vec<Refusal>,
}

/// A source rule that is not carried, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The rule.
    pub rule: Rule,
    /// Why it stays behind.
    pub reason: &'static str,
}

/// The outcome of comparing both files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Rules to carry, in the source's order.
    pub pending: Vec<PendingRule>,
    /// Rules not carried.
    pub skipped: Vec<Skipped>,
}

impl Diff {
    /// Some client the source admits is refused by the destination.
    pub fn has_pending(&self) -> bool {
        self.pending.iter().any(|p| !p.refused.is_empty())
    }

    /// The networks refused, for a summary (`10.0.0.0/8 (db app, user all)`).
    pub fn networks(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|p| !p.refused.is_empty())
            .map(|p| describe(&p.rule))
            .collect()
    }
}

/// `hostssl 10.0.0.0/8 (database app, user all)`.
pub fn describe(rule: &Rule) -> String {
    let names = |t: &[Token]| {
        t.iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{} {} (database {}, user {})",
        rule.conn_type.as_str(),
        rule.address
            .as_ref()
            .map(Address::render)
            .unwrap_or_default(),
        names(&rule.databases),
        names(&rule.users)
    )
}

/// How much of a combination a destination rule's field matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cover {
    /// None of it.
    None,
    /// Some of it, or it cannot be told without the connection (`samerole`, `+group`).
    Part,
    /// All of it.
    Full,
}

fn best(items: impl Iterator<Item = Cover>) -> Cover {
    items.max().unwrap_or(Cover::None)
}

/// The same name: quoting matters only for a word that is a keyword unquoted (the view
/// shows names without their quotes).
fn same_name(a: &Token, b: &Token) -> bool {
    a.text == b.text && (a.quoted == b.quoted || !Token::plain(a.text.as_str()).is_special())
}

/// A destination database token against a source database token.
fn database_cover(dest: &Token, src: &Token) -> Cover {
    let src_replication = src.is("replication");
    if dest.is("replication") {
        return if src_replication {
            Cover::Full
        } else {
            Cover::None
        };
    }
    if src_replication {
        return Cover::None; // `all` and names never match replication connections
    }
    if dest.is("all") {
        return Cover::Full;
    }
    if same_name(dest, src) {
        return Cover::Full;
    }
    if dest.is_special() || src.is_special() {
        return Cover::Part;
    }
    Cover::None
}

/// A destination user token against a source user token.
fn user_cover(dest: &Token, src: &Token) -> Cover {
    if dest.is("all") {
        return Cover::Full;
    }
    if same_name(dest, src) {
        return Cover::Full;
    }
    let special = |t: &Token| !t.quoted && (t.text == "all" || t.text.starts_with(['+', '@', '/']));
    if special(dest) || special(src) {
        return Cover::Part;
    }
    Cover::None
}

/// A destination address against a source address.
fn address_cover(dest: &Address, src: &Address) -> Cover {
    match (dest, src) {
        (Address::All, _) => Cover::Full,
        (Address::Net(d), Address::Net(s)) => {
            if d.contains(s) {
                Cover::Full
            } else if s.contains(d) {
                Cover::Part
            } else {
                Cover::None
            }
        }
        (Address::Hostname(d), Address::Hostname(s)) if d == s => Cover::Full,
        (Address::SameHost, Address::SameHost) | (Address::SameNet, Address::SameNet) => {
            Cover::Full
        }
        _ => Cover::Part,
    }
}

/// Which destination rule decides a combination: `Ok(())` admitted, `Err(line)` refused.
fn evaluate(
    dest: &[Rule],
    database: &Token,
    user: &Token,
    address: &Address,
    transport: Transport,
) -> Result<(), Option<u32>> {
    for rule in dest {
        if !rule.conn_type.matches(transport) {
            continue;
        }
        let Some(addr) = &rule.address else { continue };
        let cover = best(rule.databases.iter().map(|d| database_cover(d, database)))
            .min(best(rule.users.iter().map(|u| user_cover(u, user))))
            .min(address_cover(addr, address));
        match cover {
            Cover::None => continue,
            Cover::Part if rule.rejects() => return Err(rule.line),
            Cover::Part => continue,
            Cover::Full if rule.rejects() => return Err(rule.line),
            Cover::Full => return Ok(()),
        }
    }
    Err(None)
}

/// Two rules may match the same client.
fn overlaps(a: &Rule, b: &Rule) -> bool {
    let (Some(x), Some(y)) = (&a.address, &b.address) else {
        return false;
    };
    let types = a
        .conn_type
        .transports()
        .iter()
        .any(|t| b.conn_type.matches(*t));
    let dbs = a.databases.iter().any(|d| {
        b.databases
            .iter()
            .any(|e| database_cover(d, e) != Cover::None)
    });
    let users = a
        .users
        .iter()
        .any(|u| b.users.iter().any(|v| user_cover(u, v) != Cover::None));
    types
        && dbs
        && users
        && address_cover(x, y) != Cover::None
        && address_cover(y, x) != Cover::None
}

/// Compares the source's rules with the destination's (both in file order).
pub fn diff(source: &[Rule], dest: &[Rule]) -> Diff {
    let mut out = Diff::default();
    let mut carried_rejects: Vec<usize> = Vec::new();
    for (i, rule) in source.iter().enumerate() {
        let Some(address) = &rule.address else {
            out.skipped.push(Skipped {
                rule: rule.clone(),
                reason: "a local (Unix socket) rule: it admits clients on the source's own host",
            });
            continue;
        };
        if matches!(address, Address::SameHost | Address::SameNet) {
            out.skipped.push(Skipped {
                rule: rule.clone(),
                reason:
                    "samehost/samenet name the source host's own networks, not the destination's",
            });
            continue;
        }
        if rule.rejects() {
            continue;
        }
        let mut refused = Vec::new();
        for database in &rule.databases {
            for user in &rule.users {
                for transport in rule.conn_type.transports() {
                    // GSSAPI encryption is rare; a rule admitting it is judged by TLS and
                    // plain clients unless it only admits GSSAPI.
                    if *transport == Transport::Gss && rule.conn_type != ConnType::HostGssEnc {
                        continue;
                    }
                    if let Err(by_line) = evaluate(dest, database, user, address, *transport) {
                        refused.push(Refusal {
                            database: database.text.clone(),
                            user: user.text.clone(),
                            transport: *transport,
                            by_line,
                        });
                    }
                }
            }
        }
        if refused.is_empty() {
            continue;
        }
        // The source's rejects before it that overlap it come first.
        for (j, earlier) in source[..i].iter().enumerate() {
            if earlier.rejects()
                && !carried_rejects.contains(&j)
                && earlier.address.is_some()
                && overlaps(earlier, rule)
            {
                carried_rejects.push(j);
                out.pending.push(PendingRule {
                    rule: earlier.clone(),
                    refused: Vec::new(),
                });
            }
        }
        out.pending.push(PendingRule {
            rule: rule.clone(),
            refused,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::rule::{parse_file, rules};

    fn d(source: &str, dest: &str) -> Diff {
        diff(&rules(&parse_file(source)), &rules(&parse_file(dest)))
    }

    const DEST: &str = "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n";

    #[test]
    fn a_network_the_destination_refuses_is_pending_and_a_covered_one_is_not() {
        let x = d(
            "local all all trust\nhost all all 127.0.0.1/32 md5\nhost all all 127.0.0.2/32 scram-sha-256\nhost all all samenet md5\n",
            DEST,
        );
        assert!(x.has_pending());
        assert_eq!(x.pending.len(), 1, "{x:?}");
        assert_eq!(
            x.networks(),
            vec!["host 127.0.0.2/32 (database all, user all)".to_string()]
        );
        assert_eq!(x.skipped.len(), 2);
        // Covered by a wider destination network.
        let y = d(
            "host app alice 10.1.0.0/16 md5\n",
            "host all all 10.0.0.0/8 md5\n",
        );
        assert!(!y.has_pending(), "{y:?}");
    }

    #[test]
    fn first_match_a_reject_or_a_narrower_rule_first_leaves_it_pending() {
        // A reject before the admitting rule refuses part of the network.
        let x = d(
            "host all all 10.0.0.0/8 md5\n",
            "host all all 10.9.0.0/16 reject\nhost all all 10.0.0.0/8 md5\n",
        );
        assert!(x.has_pending());
        assert_eq!(x.pending[0].refused[0].by_line, Some(1));
        // A narrower admitting rule first does not decide; the wider one after it does.
        let y = d(
            "host all all 10.0.0.0/8 md5\n",
            "host all all 10.9.0.0/16 md5\nhost all all 10.0.0.0/8 md5\n",
        );
        assert!(!y.has_pending(), "{y:?}");
        // Replication is not covered by `all`.
        let z = d(
            "host replication all 10.0.0.0/8 md5\n",
            "host all all 0.0.0.0/0 md5\n",
        );
        assert!(z.has_pending());
        // A hostssl destination refuses plain clients of a host rule.
        let t = d(
            "host all all 10.0.0.0/8 md5\n",
            "hostssl all all 10.0.0.0/8 md5\n",
        );
        assert_eq!(t.pending[0].refused.len(), 1);
        assert_eq!(t.pending[0].refused[0].transport, Transport::Plain);
    }

    #[test]
    fn the_sources_rejects_before_a_carried_rule_travel_with_it() {
        let x = d(
            "host all bob 10.0.0.0/8 reject\nhost all all 192.168.0.0/16 reject\nhost all all 10.0.0.0/8 md5\n",
            DEST,
        );
        let lines: Vec<String> = x.pending.iter().map(|p| p.rule.render()).collect();
        assert_eq!(
            lines,
            vec![
                "host all bob 10.0.0.0/8 reject",
                "host all all 10.0.0.0/8 md5"
            ]
        );
    }
}
