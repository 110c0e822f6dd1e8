//! pgbench on a test-kit cluster: initialise, write in the background, checksum the tables.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pgrelocate_testkit::{Cluster, Installation};
use tokio_postgres::Client;

fn pgbench(cluster: &Cluster) -> Command {
    let bin = Installation::debian(15).unwrap().bin("pgbench");
    let mut cmd = Command::new(bin);
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port().to_string(),
        "-U",
        cluster.superuser(),
    ])
    .env("PGPASSWORD", cluster.superuser_password().unwrap_or(""))
    .env("PGDATABASE", "postgres")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// `pgbench -i` at `scale` (100 000 accounts per unit).
pub fn pgbench_init(cluster: &Cluster, scale: u32) {
    let out = pgbench(cluster)
        .args(["-i", "-q", "-s", &scale.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A rate-limited pgbench run in the background: continuous writes until stopped.
pub struct Load(Option<Child>);

impl Load {
    pub fn start(cluster: &Cluster) -> Load {
        let child = pgbench(cluster)
            .args(["-n", "-c", "2", "-T", "900", "-R", "100"])
            .spawn()
            .unwrap();
        Load(Some(child))
    }

    /// Stops the writers (pauses the load) and checks they were running. Returns once no
    /// pgbench session is left on the server (a killed client's last commit may still land).
    pub async fn stop(&mut self, cluster: &Cluster) {
        if let Some(mut child) = self.0.take() {
            assert!(child.try_wait().unwrap().is_none(), "pgbench stopped early");
            let _ = child.kill();
            let _ = child.wait();
        }
        let started = Instant::now();
        loop {
            let left: i64 = cluster
                .query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'",
                )
                .await
                .unwrap();
            if left == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "pgbench sessions linger"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An ordered checksum of each pgbench table, and the number of history rows.
pub async fn pgbench_checksums(client: &Client) -> (Vec<String>, i64) {
    // One snapshot for every table.
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .unwrap();
    let mut sums = Vec::new();
    for (table, key) in [
        ("pgbench_accounts", "aid"),
        ("pgbench_branches", "bid"),
        ("pgbench_tellers", "tid"),
        ("pgbench_history", "mtime, tid, aid, delta"),
    ] {
        let sum: String = client
            .query_one(&format!("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY {key})), '') FROM {table} t"), &[])
            .await
            .unwrap()
            .get(0);
        sums.push(format!("{table}:{sum}"));
    }
    let history: i64 = client
        .query_one("SELECT count(*) FROM pgbench_history", &[])
        .await
        .unwrap()
        .get(0);
    client.batch_execute("COMMIT").await.unwrap();
    (sums, history)
}
