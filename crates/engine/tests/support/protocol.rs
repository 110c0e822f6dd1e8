//! For the wire_* and backup_* tests: endpoints for test clusters, TLS certificates, scratch
//! directories, and a copy started as a standby.

use std::path::{Path, PathBuf};

use pgrelocate_engine::wire::{ConnectOptions, ReplicationConnection, WireError};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;

/// The superuser's endpoint of `cluster` over TCP, without TLS.
pub fn endpoint(cluster: &Cluster) -> Endpoint {
    Endpoint::new(
        cluster.host(),
        cluster.port(),
        cluster.superuser(),
        None,
        SslMode::Disable,
    )
    .unwrap()
}

/// The superuser's password, if the cluster has one.
pub fn password(cluster: &Cluster) -> Option<Password> {
    cluster.superuser_password().map(Password::new)
}

/// A replication connection as the superuser.
pub async fn replication(cluster: &Cluster) -> Result<ReplicationConnection, WireError> {
    ReplicationConnection::connect(
        &endpoint(cluster),
        password(cluster).as_ref(),
        &ConnectOptions::default(),
    )
    .await
}

/// A CA and a server certificate for `names`, written as `server.crt`/`server.key` into the
/// data directory (owned by the server user) and `root.crt` into `dir`; returns the root's
/// path. Turn TLS on with `ssl = on` afterwards.
pub fn install_server_certificate(cluster: &Cluster, names: &[&str], dir: &Path) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pgrelocate test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

    let data = cluster.data_dir();
    for (file, text, mode) in [
        ("server.crt", server_cert.pem(), 0o644),
        ("server.key", server_key.serialize_pem(), 0o600),
    ] {
        let path = data.join(file);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        cluster.server_user().chown(&path).unwrap();
    }
    let root = dir.join("root.crt");
    std::fs::write(&root, ca.pem()).unwrap();
    root
}

/// A free loopback TCP port (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory the server user can traverse (tempdirs are 0700 root-owned).
pub fn work_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("pgrelocate-backup-test-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The owner the engine must give the copy: the server user when the tests run as root.
pub fn owner() -> Option<pgrelocate_engine::backup::Owner> {
    let user = pgrelocate_testkit::server_user::ServerUser::get().unwrap();
    user.switches.then_some(pgrelocate_engine::backup::Owner {
        uid: user.uid,
        gid: user.gid,
    })
}

/// A copy started as a standby of its source; stopped (immediate) on drop.
pub struct Standby {
    pub data_dir: PathBuf,
    pub port: u16,
    bin_dir: PathBuf,
    log: PathBuf,
}

impl Standby {
    /// Writes the standby settings the way the version wants them and starts the server.
    pub fn start(source: &Cluster, data_dir: &Path, slot: &str) -> Standby {
        let port = free_port();
        let conninfo = format!(
            "host=127.0.0.1 port={} user={} password={} application_name=copy_test",
            source.port(),
            source.superuser(),
            source.superuser_password().unwrap_or("")
        );
        let mut auto =
            std::fs::read_to_string(data_dir.join("postgresql.auto.conf")).unwrap_or_default();
        auto.push_str(&format!("\nport = {port}\nhot_standby = on\n"));
        let standby = format!(
            "primary_conninfo = {}\nprimary_slot_name = '{slot}'\n",
            pgrelocate_engine::quote::conf::value(&conninfo)
        );
        if source.major() < 12 {
            let recovery =
                format!("standby_mode = 'on'\n{standby}recovery_target_timeline = 'latest'\n");
            write_as_server(source, &data_dir.join("recovery.conf"), &recovery);
        } else {
            auto.push_str(&standby);
            write_as_server(source, &data_dir.join("standby.signal"), "");
        }
        write_as_server(source, &data_dir.join("postgresql.auto.conf"), &auto);
        let log = data_dir
            .parent()
            .unwrap()
            .join(format!("standby-{port}.log"));
        write_as_server(source, &log, "");
        let s = Standby {
            data_dir: data_dir.to_path_buf(),
            port,
            bin_dir: source.bin_dir().to_path_buf(),
            log,
        };
        s.pg_ctl(&["start", "-w", "-t", "120", "-l", s.log.to_str().unwrap()])
            .unwrap_or_else(|e| panic!("standby did not start: {e}\n{}", s.log()));
        s
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let mut cmd = std::process::Command::new(self.bin_dir.join("pg_ctl"));
        cmd.args(args).arg("-D").arg(&self.data_dir);
        pgrelocate_testkit::server_user::ServerUser::get()
            .unwrap()
            .apply_std(&mut cmd);
        let out = cmd.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The server log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Connection parameters of the copy, as the source's superuser.
    pub fn params(&self, source: &Cluster) -> pgrelocate_testkit::ConnParams {
        let mut p = source.params();
        p.port = self.port;
        p
    }

    /// Ends recovery (pg_ctl promote works on every major).
    pub fn promote(&self) {
        self.pg_ctl(&["promote", "-w", "-t", "120"])
            .unwrap_or_else(|e| panic!("promote failed: {e}\n{}", self.log()));
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }
}

fn write_as_server(cluster: &Cluster, path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    cluster.server_user().chown(path).unwrap();
}
