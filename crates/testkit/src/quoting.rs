//! Quoting names and values into SQL text, for statements that cannot take parameters
//! (`CREATE ROLE … PASSWORD`, `CREATE DATABASE`, …).

/// `name` as a double-quoted identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as an `E'…'` literal: correct whatever `standard_conforming_strings` says, and
/// free of line breaks, so it also works in single-user mode where a newline ends a statement.
pub fn quote_literal(value: &str) -> String {
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
    fn identifiers_double_their_quotes() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_ident("Zürich"), "\"Zürich\"");
    }

    #[test]
    fn literals_escape_quotes_backslashes_and_line_breaks() {
        assert_eq!(quote_literal(r"p'w\x"), r"E'p''w\\x'");
        assert_eq!(quote_literal("a\nb"), r"E'a\x0ab'");
        assert_eq!(quote_literal("ü"), "E'ü'");
    }
}
