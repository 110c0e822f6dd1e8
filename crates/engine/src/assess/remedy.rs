//! Pieces of copyable remedies: identifiers and literals quoted as PostgreSQL's
//! `quote_ident` / `quote_literal` would, `pg_hba.conf` lines, configuration lines.

use std::net::IpAddr;

/// Keywords `quote_ident` quotes (PostgreSQL's reserved and non-unreserved keywords that
/// role, table and database names meet in practice).
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// An SQL identifier, double-quoted only when needed (as `quote_ident` does).
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !KEYWORDS.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A qualified name `schema.name`, each part quoted as needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// An SQL string literal (`E'…'` when it holds a backslash, as `quote_literal` does).
pub fn literal(value: &str) -> String {
    let doubled = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

/// A `pg_hba.conf` user or database field: quoted when it holds spaces, commas, quotes or
/// is one of the file's keywords.
pub fn hba_field(value: &str) -> String {
    let keyword = matches!(
        value,
        "all" | "sameuser" | "samerole" | "samegroup" | "replication"
    );
    let plain = !value.is_empty()
        && !keyword
        && !value.starts_with('+')
        && !value.starts_with('@')
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
    if plain {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('"', "\"\""))
    }
}

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

/// A `postgresql.conf` line, the value single-quoted as the file reads it.
pub fn conf_line(name: &str, value: &str) -> String {
    format!(
        "{name} = '{}'",
        value.replace('\\', "\\\\").replace('\'', "''")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("migrator"), "migrator");
        assert_eq!(ident("Migrator"), "\"Migrator\"");
        assert_eq!(ident("mig\"r"), "\"mig\"\"r\"");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("1abc"), "\"1abc\"");
        assert_eq!(ident("données"), "\"données\"");
        assert_eq!(qualified("public", "My Table"), "public.\"My Table\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
    }

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
