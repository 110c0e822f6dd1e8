//! `pg_hba.conf` fields.

/// A user or database field: double-quoted when it holds spaces, commas or quotes, starts
/// with `+` or `@`, or is one of the file's keywords (a quoted keyword is a plain name).
pub fn field(value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_separators_are_quoted() {
        assert_eq!(field("migrator"), "migrator");
        assert_eq!(field("all"), "\"all\"");
        assert_eq!(field("a b"), "\"a b\"");
        assert_eq!(field("+group"), "\"+group\"");
        assert_eq!(field("x\"y"), "\"x\"\"y\"");
    }
}
