//! Describing a throwaway cluster before it exists.

use crate::error::{Error, Result};
use crate::installation::{Flavour, Installation};

use super::Cluster;

/// The authentication method of the default `pg_hba.conf` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    /// No password asked (only for tests that are not about authentication).
    Trust,
    /// Clear-text password.
    Password,
    /// MD5 challenge; passwords are stored as MD5 hashes.
    Md5,
    /// SCRAM-SHA-256; passwords are stored as SCRAM verifiers.
    #[default]
    Scram,
}

impl Auth {
    /// The `pg_hba.conf` method name.
    pub fn hba_method(self) -> &'static str {
        match self {
            Auth::Trust => "trust",
            Auth::Password => "password",
            Auth::Md5 => "md5",
            Auth::Scram => "scram-sha-256",
        }
    }

    /// The `password_encryption` that makes stored passwords fit the method, where it matters.
    pub(super) fn password_encryption(self) -> Option<&'static str> {
        match self {
            Auth::Md5 => Some("md5"),
            Auth::Scram => Some("scram-sha-256"),
            Auth::Trust | Auth::Password => None,
        }
    }
}

/// The superuser password when the test does not choose one.
pub const DEFAULT_PASSWORD: &str = "pgrelocate-test";

/// A cluster to be created: see [`Cluster::builder`].
#[derive(Clone)]
pub struct ClusterBuilder {
    pub(super) major: u32,
    pub(super) flavour: Flavour,
    pub(super) auth: Auth,
    pub(super) superuser: String,
    pub(super) password: Option<String>,
    pub(super) hba_lines: Vec<String>,
    pub(super) default_hba: bool,
    pub(super) settings: Vec<(String, String)>,
    pub(super) initdb_args: Vec<String>,
    pub(super) data_checksums: Option<bool>,
    pub(super) locale: String,
    pub(super) server_env: Vec<(String, String)>,
}

impl ClusterBuilder {
    pub(super) fn new(major: u32) -> Self {
        ClusterBuilder {
            major,
            flavour: Flavour::Embedded,
            auth: Auth::Scram,
            superuser: "postgres".into(),
            password: Some(DEFAULT_PASSWORD.into()),
            hba_lines: Vec::new(),
            default_hba: true,
            settings: Vec::new(),
            initdb_args: Vec::new(),
            data_checksums: None,
            locale: "C.UTF-8".into(),
            server_env: Vec::new(),
        }
    }

    /// Where the binaries come from (default: the pinned embedded build).
    pub fn flavour(mut self, flavour: Flavour) -> Self {
        self.flavour = flavour;
        self
    }

    /// The method of the default `pg_hba.conf` lines (default: SCRAM).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The bootstrap superuser's name (default `postgres`).
    pub fn superuser(mut self, name: impl Into<String>) -> Self {
        self.superuser = name.into();
        self
    }

    /// The superuser's password (default [`DEFAULT_PASSWORD`]); any characters, quotes and
    /// backslashes included.
    pub fn superuser_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Leaves the superuser without a password (only usable with trust lines).
    pub fn no_superuser_password(mut self) -> Self {
        self.password = None;
        self
    }

    /// Adds a `pg_hba.conf` line, placed before the default ones so it takes precedence.
    pub fn hba_line(mut self, line: impl Into<String>) -> Self {
        self.hba_lines.push(line.into());
        self
    }

    /// Drops the default lines (all databases and replication, socket and loopback), leaving
    /// only those added with [`ClusterBuilder::hba_line`].
    pub fn without_default_hba(mut self) -> Self {
        self.default_hba = false;
        self
    }

    /// Sets a server parameter in `postgresql.conf` (the value is quoted for you). `port`,
    /// `listen_addresses` and `unix_socket_directories` are managed by the test kit.
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Passes an extra argument to initdb.
    pub fn initdb_arg(mut self, arg: impl Into<String>) -> Self {
        self.initdb_args.push(arg.into());
        self
    }

    /// Turns data checksums on or off (default: what initdb of that major does: off before
    /// 18, on from 18).
    pub fn data_checksums(mut self, on: bool) -> Self {
        self.data_checksums = Some(on);
        self
    }

    /// initdb's `--locale` (default `C.UTF-8`; the encoding is always UTF8).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// Sets an environment variable for the server (given to `pg_ctl start`, which passes it
    /// on), e.g. `LOCPATH` for locales only this server sees, or `LD_PRELOAD` + `FAKETIME`
    /// for a server whose clock is off.
    pub fn server_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.server_env.push((name.into(), value.into()));
        self
    }

    /// Creates the cluster (initdb, configuration, superuser password) without starting it.
    pub async fn init(self) -> Result<Cluster> {
        let (major, flavour) = (self.major, self.flavour);
        let installation = tokio::task::spawn_blocking(move || Installation::get(major, flavour))
            .await
            .map_err(|e| Error::Command {
                program: "fetch".into(),
                detail: e.to_string(),
            })??;
        Cluster::create(installation, self).await
    }

    /// Creates the cluster and starts it.
    pub async fn start(self) -> Result<Cluster> {
        let cluster = self.init().await?;
        cluster.start().await?;
        Ok(cluster)
    }

    /// initdb's arguments after `-D`.
    pub(super) fn initdb_options(&self) -> Vec<String> {
        let mut args = vec![
            "-U".to_string(),
            self.superuser.clone(),
            "--auth=trust".into(),
            "--encoding=UTF8".into(),
            format!("--locale={}", self.locale),
            // No fsync: a throwaway cluster does not need to survive a power cut.
            "--nosync".into(),
        ];
        match self.data_checksums {
            Some(true) => args.push("--data-checksums".into()),
            Some(false) if self.major >= 18 => args.push("--no-data-checksums".into()),
            _ => {}
        }
        args.extend(self.initdb_args.iter().cloned());
        args
    }
}
