//! `postgresql.conf` values: single-quoted, as the server's configuration parser reads them.

/// A value in single quotes, backslashes and quotes escaped.
pub fn value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// A `name = 'value'` line.
pub fn line(name: &str, value: &str) -> String {
    format!("{name} = {}", self::value(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_the_way_postgresql_conf_reads_them() {
        assert_eq!(value("it's a \\ path"), "'it''s a \\\\ path'");
        assert_eq!(
            line("archive_command", "cp '%p'"),
            "archive_command = 'cp ''%p'''"
        );
    }
}
