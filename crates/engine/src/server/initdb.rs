//! Creating a cluster with `initdb`: UTF8, data checksums, SCRAM for every connection, and
//! a superuser password handed over in a private file that is deleted right after.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use super::{run, tail, OsUser, ServerError};
use crate::secrets::Password;

/// The superuser pgrelocate creates in managed clusters.
pub const SUPERUSER: &str = "postgres";

/// Runs initdb into `data_dir` (which must be missing or empty; its parent must exist).
pub async fn initdb(
    bin_dir: &Path,
    data_dir: &Path,
    password: &Password,
    os_user: Option<&OsUser>,
) -> Result<(), ServerError> {
    if !data_dir.exists() {
        super::os_user::create_private_dir(data_dir, os_user)?;
    }
    // The password reaches initdb through a 0600 file only the server user can read,
    // never through argv or the environment, which other users can see.
    let pw_dir = tempfile::Builder::new()
        .prefix("pgrelocate-initdb-")
        .tempdir()
        .map_err(ServerError::io(std::env::temp_dir()))?;
    let pw_file = pw_dir.path().join("pwfile");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pw_file)
            .map_err(ServerError::io(&pw_file))?;
        writeln!(f, "{}", password.expose()).map_err(ServerError::io(&pw_file))?;
    }
    if let Some(u) = os_user {
        u.chown_tree(pw_dir.path())?;
    }
    let pwfile_arg = format!("--pwfile={}", pw_file.display());
    let args: Vec<&OsStr> = vec![
        OsStr::new("-D"),
        data_dir.as_os_str(),
        OsStr::new("-U"),
        OsStr::new(SUPERUSER),
        OsStr::new(&pwfile_arg),
        OsStr::new("--auth-local=scram-sha-256"),
        OsStr::new("--auth-host=scram-sha-256"),
        OsStr::new("--encoding=UTF8"),
        OsStr::new("--locale=C"),
        OsStr::new("--data-checksums"),
    ];
    let result = run(bin_dir, "initdb", &args, os_user).await;
    drop(pw_dir);
    let (status, output) = result?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "initdb",
            status: status.to_string(),
            output: tail(&output, 20),
        });
    }
    Ok(())
}
