//! A replication connection: socket, TLS, startup, authentication, simple queries and the
//! raw message stream that COPY-based commands (BASE_BACKUP) read from.

use std::collections::HashMap;
use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use postgres_protocol::message::frontend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{ServerError, WireError};
use super::frame::split_frame;
use super::messages::{decode, AuthRequest, BackendMessage, Column};
use crate::dial::{self, Socket};
use crate::endpoint::{Endpoint, SslMode};
use crate::require_auth::{self, AuthMethod};
use crate::tls;
use crate::version::ServerVersion;
use crate::Password;

/// Bytes asked of the socket per read: large reads keep a fast base backup cheap.
const READ_CHUNK: usize = 256 * 1024;
/// Notices kept for the caller; older ones are only logged.
const MAX_KEPT_NOTICES: usize = 100;

trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// How to open a replication connection, beyond the endpoint itself.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Shown in `pg_stat_replication.application_name` on the source.
    pub application_name: String,
    /// Limit for the TCP connect, TLS handshake and authentication together.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            application_name: "pgrelocate".into(),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// The rows of one statement's result, in text format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    /// Column descriptions.
    pub columns: Vec<Column>,
    /// Rows; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// The value of `column` in row `row`, `None` when absent or NULL.
    pub fn get(&self, row: usize, column: &str) -> Option<&str> {
        let idx = self.columns.iter().position(|c| c.name == column)?;
        self.rows.get(row)?.get(idx)?.as_deref()
    }
}

/// An open connection with `replication=true` (a physical WAL sender on the server).
pub struct ReplicationConnection {
    stream: Box<dyn Transport>,
    read_buf: BytesMut,
    write_buf: BytesMut,
    parameters: HashMap<String, String>,
    version: ServerVersion,
    tls: bool,
    unix_socket: bool,
    auth_method: AuthMethod,
    process_id: i32,
    notices: Vec<ServerError>,
}

impl std::fmt::Debug for ReplicationConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicationConnection")
            .field("version", &self.version)
            .field("tls", &self.tls)
            .field("auth_method", &self.auth_method)
            .field("process_id", &self.process_id)
            .finish_non_exhaustive()
    }
}

impl ReplicationConnection {
    /// Connects, negotiates TLS per the endpoint's sslmode, and authenticates.
    pub async fn connect(
        endpoint: &Endpoint,
        password: Option<&Password>,
        options: &ConnectOptions,
    ) -> Result<Self, WireError> {
        let address = endpoint.address();
        tokio::time::timeout(
            options.connect_timeout,
            Self::connect_inner(endpoint, password, options),
        )
        .await
        .map_err(|_| WireError::ConnectTimeout(address))?
    }

    async fn connect_inner(
        endpoint: &Endpoint,
        password: Option<&Password>,
        options: &ConnectOptions,
    ) -> Result<Self, WireError> {
        // A peer that closes before its first answer (the TLS reply or the authentication
        // request) is no PostgreSQL server: often a proxy standing in for an unreachable host.
        let said_nothing = |e: WireError| match e {
            WireError::Closed => closed_at_startup(endpoint),
            WireError::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                closed_at_startup(endpoint)
            }
            other => other,
        };
        let (stream, tls) = open_transport(endpoint).await.map_err(said_nothing)?;
        let mut conn = ReplicationConnection {
            stream,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: BytesMut::with_capacity(1024),
            parameters: HashMap::new(),
            version: ServerVersion::new(0, 0),
            tls,
            unix_socket: endpoint.is_unix_socket(),
            auth_method: AuthMethod::None,
            process_id: 0,
            notices: Vec::new(),
        };
        frontend::startup_message(
            [
                ("user", endpoint.user.as_str()),
                ("database", endpoint.dbname.as_str()),
                ("replication", "true"),
                ("application_name", options.application_name.as_str()),
                ("client_encoding", "UTF8"),
            ],
            &mut conn.write_buf,
        )
        .map_err(|e| WireError::Protocol(format!("cannot encode the startup message: {e}")))?;
        conn.flush().await.map_err(said_nothing)?;
        let first = conn.recv().await.map_err(said_nothing)?;
        conn.authenticate(endpoint, password, Some(first)).await?;
        conn.finish_startup().await?;
        Ok(conn)
    }

    /// Answers the server's authentication requests. The instance's `require_auth` (or
    /// the default policy) is checked on the first request, before anything is sent.
    async fn authenticate(
        &mut self,
        endpoint: &Endpoint,
        password: Option<&Password>,
        mut first: Option<BackendMessage>,
    ) -> Result<(), WireError> {
        let user = endpoint.user.as_str();
        let need_password = || password.ok_or(WireError::PasswordRequired);
        let mut asked = None;
        loop {
            let message = match first.take() {
                Some(m) => m,
                None => self.recv().await?,
            };
            if let BackendMessage::Authentication(request) = &message {
                if asked.is_none() {
                    let method = match request {
                        AuthRequest::Ok => Some(AuthMethod::None),
                        AuthRequest::CleartextPassword => Some(AuthMethod::Password),
                        AuthRequest::Md5Password { .. } => Some(AuthMethod::Md5),
                        AuthRequest::Sasl { .. } => Some(AuthMethod::ScramSha256),
                        AuthRequest::Unsupported(code) => require_auth::method_of_request(*code),
                        _ => None,
                    };
                    if let Some(method) = method {
                        require_auth::check(
                            endpoint.require_auth.as_ref(),
                            method,
                            self.tls || self.unix_socket,
                            &endpoint.address(),
                        )?;
                        self.auth_method = method;
                        asked = Some(method);
                    }
                }
            }
            match message {
                BackendMessage::Authentication(AuthRequest::Ok) => return Ok(()),
                BackendMessage::Authentication(AuthRequest::CleartextPassword) => {
                    let pw = need_password()?;
                    self.send_password(pw.expose().as_bytes())?;
                    self.flush().await?;
                }
                BackendMessage::Authentication(AuthRequest::Md5Password { salt }) => {
                    let pw = need_password()?;
                    let hash = md5_hash(user.as_bytes(), pw.expose().as_bytes(), salt);
                    self.send_password(hash.as_bytes())?;
                    self.flush().await?;
                }
                BackendMessage::Authentication(AuthRequest::Sasl { mechanisms }) => {
                    let pw = need_password()?;
                    if !mechanisms.iter().any(|m| m == "SCRAM-SHA-256") {
                        return Err(WireError::UnsupportedAuth(format!(
                            "SASL {}",
                            mechanisms.join(", ")
                        )));
                    }
                    self.scram(pw).await?;
                }
                BackendMessage::Authentication(AuthRequest::Unsupported(code)) => {
                    return Err(WireError::UnsupportedAuth(auth_method_name(code)));
                }
                BackendMessage::ErrorResponse(e) => return Err(WireError::Server(Box::new(e))),
                other => {
                    return Err(WireError::Protocol(format!(
                        "unexpected {} during authentication",
                        other.name()
                    )))
                }
            }
        }
    }

    /// SCRAM-SHA-256 without channel binding (`n,,`), as libpq with `channel_binding=disable`.
    async fn scram(&mut self, password: &Password) -> Result<(), WireError> {
        let mut scram =
            ScramSha256::new(password.expose().as_bytes(), ChannelBinding::unsupported());
        frontend::sasl_initial_response("SCRAM-SHA-256", scram.message(), &mut self.write_buf)
            .map_err(|e| WireError::Protocol(e.to_string()))?;
        self.flush().await?;
        let server_first = match self.recv().await? {
            BackendMessage::Authentication(AuthRequest::SaslContinue(data)) => data,
            BackendMessage::ErrorResponse(e) => return Err(WireError::Server(Box::new(e))),
            other => {
                return Err(WireError::Protocol(format!(
                    "expected a SASL continue message, got {}",
                    other.name()
                )))
            }
        };
        scram.update(&server_first).map_err(WireError::Scram)?;
        frontend::sasl_response(scram.message(), &mut self.write_buf)
            .map_err(|e| WireError::Protocol(e.to_string()))?;
        self.flush().await?;
        let server_final = match self.recv().await? {
            BackendMessage::Authentication(AuthRequest::SaslFinal(data)) => data,
            BackendMessage::ErrorResponse(e) => return Err(WireError::Server(Box::new(e))),
            other => {
                return Err(WireError::Protocol(format!(
                    "expected a SASL final message, got {}",
                    other.name()
                )))
            }
        };
        scram.finish(&server_final).map_err(WireError::Scram)
    }

    fn send_password(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        frontend::password_message(bytes, &mut self.write_buf)
            .map_err(|e| WireError::Protocol(e.to_string()))
    }

    async fn finish_startup(&mut self) -> Result<(), WireError> {
        loop {
            match self.recv().await? {
                BackendMessage::BackendKeyData { process_id, .. } => self.process_id = process_id,
                BackendMessage::ReadyForQuery { .. } => break,
                BackendMessage::NegotiateProtocolVersion { .. } => {}
                BackendMessage::ErrorResponse(e) => return Err(WireError::Server(Box::new(e))),
                other => {
                    return Err(WireError::Protocol(format!(
                        "unexpected {} during startup",
                        other.name()
                    )))
                }
            }
        }
        let reported = self.parameters.get("server_version").ok_or_else(|| {
            WireError::Protocol("the server did not report server_version".into())
        })?;
        self.version =
            ServerVersion::parse(reported).map_err(|_| WireError::Version(reported.clone()))?;
        Ok(())
    }

    /// The server's version, from the `server_version` it reported at startup.
    pub fn server_version(&self) -> ServerVersion {
        self.version
    }

    /// A parameter the server reported (ParameterStatus), e.g. `server_version`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// How the server authenticated this connection (`none` for trust).
    pub fn auth_method(&self) -> AuthMethod {
        self.auth_method
    }

    /// The server process id of this WAL sender.
    pub fn process_id(&self) -> i32 {
        self.process_id
    }

    /// Notices received so far (warnings, information), oldest first; clears the list.
    pub fn take_notices(&mut self) -> Vec<ServerError> {
        std::mem::take(&mut self.notices)
    }

    /// Runs one simple query and collects every result set; fails on an ErrorResponse or
    /// if the command starts a COPY stream (use [`send_query`](Self::send_query) for those).
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<ResultSet>, WireError> {
        self.send_query(sql).await?;
        let mut sets = Vec::new();
        let mut current: Option<ResultSet> = None;
        let mut error = None;
        loop {
            match self.recv().await? {
                BackendMessage::RowDescription(columns) => {
                    current = Some(ResultSet {
                        columns,
                        rows: Vec::new(),
                    })
                }
                BackendMessage::DataRow(fields) => {
                    let set = current.as_mut().ok_or_else(|| {
                        WireError::Protocol("a data row arrived before its row description".into())
                    })?;
                    set.rows.push(
                        fields
                            .into_iter()
                            .map(|f| f.map(|b| String::from_utf8_lossy(&b).into_owned()))
                            .collect(),
                    );
                }
                BackendMessage::CommandComplete(_) | BackendMessage::EmptyQueryResponse => {
                    sets.extend(current.take());
                }
                BackendMessage::ErrorResponse(e) => error = Some(e),
                BackendMessage::ReadyForQuery { .. } => break,
                other => {
                    return Err(WireError::Protocol(format!(
                        "unexpected {} in the reply to a simple query",
                        other.name()
                    )))
                }
            }
        }
        match error {
            Some(e) => Err(WireError::Server(Box::new(e))),
            None => Ok(sets),
        }
    }

    /// Sends a simple query without reading the reply; read it with [`recv`](Self::recv).
    pub async fn send_query(&mut self, sql: &str) -> Result<(), WireError> {
        frontend::query(sql, &mut self.write_buf)
            .map_err(|e| WireError::Protocol(format!("cannot encode the query: {e}")))?;
        self.flush().await
    }

    /// The next message from the server. Notices are logged and kept (see
    /// [`take_notices`](Self::take_notices)); parameter changes are recorded; neither is
    /// returned.
    pub async fn recv(&mut self) -> Result<BackendMessage, WireError> {
        loop {
            let frame = loop {
                if let Some(frame) = split_frame(&mut self.read_buf)? {
                    break frame;
                }
                if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 4 {
                    self.read_buf.reserve(READ_CHUNK);
                }
                if self.stream.read_buf(&mut self.read_buf).await? == 0 {
                    return Err(WireError::Closed);
                }
            };
            match decode(frame)? {
                BackendMessage::NoticeResponse(notice) => {
                    tracing::info!(severity = %notice.severity, code = %notice.code, "server notice: {}", notice.message);
                    if self.notices.len() < MAX_KEPT_NOTICES {
                        self.notices.push(notice);
                    }
                }
                BackendMessage::ParameterStatus { name, value } => {
                    self.parameters.insert(name, value);
                }
                other => return Ok(other),
            }
        }
    }

    /// Says goodbye (Terminate) and closes the socket.
    pub async fn close(mut self) -> Result<(), WireError> {
        frontend::terminate(&mut self.write_buf);
        self.flush().await?;
        self.stream.shutdown().await?;
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        self.stream.write_all(&self.write_buf).await?;
        self.write_buf.clear();
        self.stream.flush().await?;
        Ok(())
    }
}

async fn open_transport(endpoint: &Endpoint) -> Result<(Box<dyn Transport>, bool), WireError> {
    let address = endpoint.address();
    let mut tcp = match dial::dial(endpoint).await? {
        // libpq ignores sslmode for Unix sockets: there is nothing to encrypt against.
        Socket::Unix(stream) => return Ok((Box::new(stream), false)),
        Socket::Tcp(stream) => stream,
    };
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let Some(config) = tls::client_config(endpoint.sslmode, endpoint.ssl_root_cert.as_deref())?
    else {
        return Ok((Box::new(tcp), false));
    };
    let mut request = BytesMut::new();
    frontend::ssl_request(&mut request);
    tcp.write_all(&request).await?;
    let answer = tcp.read_u8().await?;
    match answer {
        b'S' => {
            let name = tls::server_name(host)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|source| WireError::TlsHandshake { address, source })?;
            Ok((Box::new(tls), true))
        }
        b'N' if endpoint.sslmode == SslMode::Prefer => Ok((Box::new(tcp), false)),
        b'N' => Err(WireError::TlsRefused(endpoint.sslmode.as_str())),
        other => Err(WireError::Protocol(format!(
            "unexpected answer {:?} to the TLS request",
            other as char
        ))),
    }
}

fn closed_at_startup(endpoint: &Endpoint) -> WireError {
    WireError::Connect(dial::DialError::ClosedAtStartup {
        address: endpoint.address(),
    })
}

fn auth_method_name(code: i32) -> String {
    match code {
        2 => "Kerberos V5".into(),
        6 => "SCM credentials".into(),
        7 => "GSSAPI".into(),
        9 => "SSPI".into(),
        other => format!("method {other}"),
    }
}
