//! `require_auth` for tokio-postgres, which has no hook between the server's
//! authentication request and its answer: a stream adapter reads the server's bytes on
//! their way to the driver, and when the first `AuthenticationRequest` names a method the
//! policy refuses, the read fails instead — so the driver never learns what was asked and
//! never sends the password. After `AuthenticationOk` (or any other message) it steps aside.
//!
//! Under TLS the adapter sits twice: on the socket, where it sees the one-byte answer to
//! the TLS request ('S' → step aside: the bytes that follow are encrypted), and on the TLS
//! stream (via [`GuardedTls`]), where it sees the plain protocol.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsConnect, TlsStream};

use crate::require_auth::{self, AuthMethod, RequireAuth};

/// What the guard needs to decide, and where it records what the server asked for.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    pub require_auth: Option<RequireAuth>,
    pub address: String,
    /// The method the server asked for first (`None` until it asked).
    pub observed: Arc<Mutex<Option<AuthMethod>>>,
    /// Set once the TLS handshake has completed.
    pub tls: Arc<AtomicBool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// The client sends a TLS request first; the first byte read is its answer.
    AfterTlsAnswer,
    /// Protocol messages from the first byte on.
    Messages,
}

#[derive(Debug)]
enum State {
    TlsAnswer,
    /// Collecting a message's type, length and (for 'R') request code; then skipping its
    /// remaining `skip` bytes.
    Header {
        bytes: Vec<u8>,
        skip: usize,
    },
    Done,
}

/// A stream that checks the server's authentication request before the driver sees it.
#[derive(Debug)]
pub(super) struct AuthGuard<S> {
    inner: S,
    state: State,
    policy: Policy,
    protected: bool,
}

impl<S> AuthGuard<S> {
    /// `protected`: the bytes travel encrypted or over a Unix socket.
    pub fn new(inner: S, start: Start, policy: Policy, protected: bool) -> Self {
        let state = match start {
            Start::AfterTlsAnswer => State::TlsAnswer,
            Start::Messages => State::Header {
                bytes: Vec::with_capacity(9),
                skip: 0,
            },
        };
        AuthGuard {
            inner,
            state,
            policy,
            protected,
        }
    }

    /// Looks at bytes the server sent; an error means: do not hand them over.
    fn inspect(&mut self, mut data: &[u8]) -> Result<(), require_auth::AuthRefused> {
        while !data.is_empty() {
            match &mut self.state {
                State::Done => return Ok(()),
                State::TlsAnswer => {
                    // 'S': TLS follows, and the guard on the TLS stream takes over. 'N':
                    // the server declined; plain messages follow on this socket.
                    self.state = if data[0] == b'N' {
                        State::Header {
                            bytes: Vec::with_capacity(9),
                            skip: 0,
                        }
                    } else {
                        State::Done
                    };
                    data = &data[1..];
                }
                State::Header { skip, .. } if *skip > 0 => {
                    let n = (*skip).min(data.len());
                    *skip -= n;
                    data = &data[n..];
                }
                State::Header { bytes, skip } => {
                    bytes.push(data[0]);
                    data = &data[1..];
                    if bytes.len() == 5 && bytes[0] != b'R' {
                        // An error or the end of authentication: the driver handles it.
                        self.state = State::Done;
                        continue;
                    }
                    if bytes.len() < 9 {
                        continue;
                    }
                    let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
                    let code = i32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
                    let mut observed = self.policy.observed.lock().expect("auth guard lock");
                    if observed.is_none() {
                        if let Some(method) = require_auth::method_of_request(code) {
                            require_auth::check(
                                self.policy.require_auth.as_ref(),
                                method,
                                self.protected,
                                &self.policy.address,
                            )?;
                            *observed = Some(method);
                        }
                    }
                    drop(observed);
                    if code == 0 || len < 8 {
                        self.state = State::Done;
                    } else {
                        bytes.clear();
                        *skip = len - 8;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for AuthGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let start = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        if matches!(this.state, State::Done) {
            return Poll::Ready(Ok(()));
        }
        let fresh = buf.filled()[start..].to_vec();
        match this.inspect(&fresh) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(refused) => {
                buf.set_filled(start);
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    refused,
                )))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for AuthGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: TlsStream + Unpin> TlsStream for AuthGuard<S> {
    fn channel_binding(&self) -> ChannelBinding {
        self.inner.channel_binding()
    }
}

/// A TLS connector whose stream is guarded (see the module comment).
pub(super) struct GuardedTls<T> {
    pub inner: T,
    pub policy: Policy,
}

impl<S, T> TlsConnect<S> for GuardedTls<T>
where
    T: TlsConnect<S>,
    T::Future: Send + 'static,
    T::Stream: Send + 'static,
{
    type Stream = AuthGuard<T::Stream>;
    type Error = T::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Stream, T::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let handshake = self.inner.connect(stream);
        let policy = self.policy;
        Box::pin(async move {
            let tls = handshake.await?;
            policy.tls.store(true, Ordering::SeqCst);
            Ok(AuthGuard::new(tls, Start::Messages, policy, true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(start: Start, protected: bool) -> AuthGuard<()> {
        AuthGuard::new(
            (),
            start,
            Policy {
                require_auth: None,
                address: "h:1".into(),
                observed: Arc::default(),
                tls: Arc::default(),
            },
            protected,
        )
    }

    fn request(code: i32, extra: &[u8]) -> Vec<u8> {
        let mut m = vec![b'R'];
        m.extend_from_slice(&((8 + extra.len()) as u32).to_be_bytes());
        m.extend_from_slice(&code.to_be_bytes());
        m.extend_from_slice(extra);
        m
    }

    #[test]
    fn refuses_cleartext_after_a_declined_tls_request_even_split_byte_by_byte() {
        let mut g = guard(Start::AfterTlsAnswer, false);
        let mut bytes = vec![b'N'];
        bytes.extend(request(3, &[]));
        let mut refused = false;
        for b in bytes {
            refused |= g.inspect(&[b]).is_err();
        }
        assert!(refused);
    }

    #[test]
    fn records_scram_and_steps_aside_after_ok() {
        let mut g = guard(Start::Messages, false);
        let mut bytes = request(10, b"SCRAM-SHA-256\0\0");
        bytes.extend(request(11, b"r=abc"));
        bytes.extend(request(12, b"v=xyz"));
        bytes.extend(request(0, &[]));
        bytes.extend(request(3, &[])); // after Ok: not an auth request any more
        g.inspect(&bytes).unwrap();
        assert_eq!(
            *g.policy.observed.lock().unwrap(),
            Some(AuthMethod::ScramSha256)
        );
        assert!(matches!(g.state, State::Done));
    }

    #[test]
    fn tls_answer_s_hands_over_to_the_inner_guard() {
        let mut g = guard(Start::AfterTlsAnswer, false);
        g.inspect(b"S\x16\x03\x01garbage").unwrap();
        assert!(matches!(g.state, State::Done));
    }
}
