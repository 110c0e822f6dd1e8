//! The files the test kit writes into a fresh data directory: `pg_hba.conf` and the managed
//! block at the end of `postgresql.conf`.

use std::path::Path;

use super::builder::Auth;

/// `pg_hba.conf`: the test's own lines first (first match wins), then, unless turned off,
/// `auth` for every database and for replication over the socket and loopback.
pub(super) fn hba(auth: Auth, extra_lines: &[String], defaults: bool) -> String {
    let mut text = String::from("# Written by pgrelocate-testkit.\n");
    for line in extra_lines {
        text.push_str(line);
        text.push('\n');
    }
    if defaults {
        let method = auth.hba_method();
        for (kind, database, address) in [
            ("local", "all", ""),
            ("host", "all", "127.0.0.1/32"),
            ("host", "all", "::1/128"),
            ("local", "replication", ""),
            ("host", "replication", "127.0.0.1/32"),
            ("host", "replication", "::1/128"),
        ] {
            let line = format!("{kind} {database} all {address} {method}");
            text.push_str(&line.replace("  ", " "));
            text.push('\n');
        }
    }
    text
}

/// `postgresql.conf` as initdb wrote it, plus the settings the test kit manages.
#[derive(Debug, Clone)]
pub(super) struct ServerConf {
    /// initdb's file.
    pub base: String,
    /// `password_encryption` for the auth method, then the test's own settings.
    pub settings: Vec<(String, String)>,
}

impl ServerConf {
    /// The whole file for a server on `port` with its socket in `socket_dir`. Later lines win,
    /// so the test's settings override the managed ones.
    pub fn render(&self, port: u16, socket_dir: &Path) -> String {
        let mut text = self.base.clone();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("\n# Managed by pgrelocate-testkit.\n");
        let managed = [
            ("listen_addresses", "127.0.0.1".to_string()),
            ("port", port.to_string()),
            (
                "unix_socket_directories",
                socket_dir.to_string_lossy().into_owned(),
            ),
        ];
        let settings = managed
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(self.settings.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (name, value) in settings {
            // Single quotes, which every parameter type accepts.
            text.push_str(&pgrelocate_quote::conf::line(name, value));
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_hba_lines_come_before_the_defaults() {
        let text = hba(
            Auth::Scram,
            &["host replication repl 127.0.0.1/32 reject".into()],
            true,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "host replication repl 127.0.0.1/32 reject");
        assert!(lines.contains(&"local all all scram-sha-256"));
        assert!(lines.contains(&"host replication all 127.0.0.1/32 scram-sha-256"));
    }

    #[test]
    fn without_defaults_only_the_tests_lines_remain() {
        let text = hba(Auth::Trust, &["local all all trust".into()], false);
        assert_eq!(
            text.lines().skip(1).collect::<Vec<_>>(),
            ["local all all trust"]
        );
    }

    #[test]
    fn test_settings_follow_the_managed_ones_and_are_quoted() {
        let conf = ServerConf {
            base: "max_connections = 100".into(),
            settings: vec![("application_name".into(), "it's".into())],
        };
        let text = conf.render(25432, Path::new("/tmp/x/socket"));
        let port_at = text.find("port = '25432'").unwrap();
        let app_at = text.find("application_name = 'it''s'").unwrap();
        assert!(port_at < app_at);
        assert!(text.contains("unix_socket_directories = '/tmp/x/socket'"));
    }
}
