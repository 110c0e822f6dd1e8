//! How to reach a test cluster: the parameters a test hands to the engine's own endpoint type.

use std::fmt;
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use crate::error::{Error, Result};

/// Host, port, role, password and database of a connection to a test cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnParams {
    /// Host name or address (`127.0.0.1` for test clusters).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Its password, if the cluster asks for one.
    pub password: Option<String>,
    /// Database name.
    pub dbname: String,
}

impl fmt::Debug for ConnParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnParams")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .finish()
    }
}

impl ConnParams {
    /// The same, for another database.
    pub fn with_dbname(mut self, dbname: impl Into<String>) -> Self {
        self.dbname = dbname.into();
        self
    }

    /// The same, as another role.
    pub fn with_user(mut self, user: impl Into<String>, password: Option<&str>) -> Self {
        self.user = user.into();
        self.password = password.map(str::to_owned);
        self
    }

    /// A tokio-postgres configuration (no TLS).
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("pgrelocate-testkit")
            .connect_timeout(Duration::from_secs(30));
        if let Some(password) = &self.password {
            config.password(password);
        }
        config
    }

    /// Connects from the local address `from`, so the server sees the client there: e.g.
    /// the loopback alias `127.0.0.2` (on Linux all of 127/8 is this host), to test a
    /// `pg_hba.conf` rule for another client network. Drives the connection on a task.
    pub async fn connect_from(&self, from: std::net::IpAddr) -> Result<Client> {
        let io = |source: std::io::Error| Error::Io {
            action: "connect from",
            path: format!("{from} to {}:{}", self.host, self.port).into(),
            source,
        };
        let target = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(io)?
            .find(|a| a.is_ipv4() == from.is_ipv4())
            .ok_or_else(|| io(std::io::Error::other("no address of that family")))?;
        let socket = if from.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .map_err(io)?;
        socket
            .bind(std::net::SocketAddr::new(from, 0))
            .map_err(io)?;
        let stream = socket.connect(target).await.map_err(io)?;
        let (client, connection) =
            self.config()
                .connect_raw(stream, NoTls)
                .await
                .map_err(|source| Error::Connect {
                    host: self.host.clone(),
                    port: self.port,
                    user: self.user.clone(),
                    source,
                })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Connects, driving the connection on a spawned task.
    pub async fn connect(&self) -> Result<Client> {
        let (client, connection) =
            self.config()
                .connect(NoTls)
                .await
                .map_err(|source| Error::Connect {
                    host: self.host.clone(),
                    port: self.port,
                    user: self.user.clone(),
                    source,
                })?;
        tokio::spawn(async move {
            // The error surfaces on the client's next call; nothing to do with it here.
            let _ = connection.await;
        });
        Ok(client)
    }
}
