//! SQL text: identifiers and literals for statements that cannot take parameters
//! (`CREATE ROLE … PASSWORD`, `CREATE DATABASE`, `DROP …` remedies).

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

/// An identifier, double-quoted only when needed (as PostgreSQL's `quote_ident` does), so
/// copyable remedies read naturally and hostile names stay one identifier.
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

/// A string literal: `'…'` when that reads the same whatever `standard_conforming_strings`
/// says, else `E'…'` with backslashes doubled and control characters as `\xNN`, so the
/// text holds no line break (single-user mode ends a statement at a newline).
pub fn literal(value: &str) -> String {
    let escaped = value.contains('\\') || value.chars().any(|c| c.is_ascii_control());
    if !escaped {
        return format!("'{}'", value.replace('\'', "''"));
    }
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("E'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
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
        assert_eq!(ident(""), "\"\"");
        assert_eq!(qualified("public", "My Table"), "public.\"My Table\"");
    }

    #[test]
    fn literals_escape_quotes_backslashes_and_line_breaks() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("ü"), "'ü'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
        assert_eq!(literal(r"p'w\x"), r"E'p''w\\x'");
        assert_eq!(literal("a\nb"), r"E'a\x0ab'");
    }
}
