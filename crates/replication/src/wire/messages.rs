//! Decoding backend message bodies into typed messages, including the ones
//! `postgres_protocol` does not parse (CopyBothResponse `W`, NegotiateProtocolVersion `v`).
//!
//! Pure functions over a [`Frame`]; every length is checked, so arbitrary bytes give an
//! error, never a panic.

use bytes::{Buf, Bytes};

use super::error::ServerError;
use super::frame::Frame;

/// What the server asks for during authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRequest {
    /// Authentication succeeded.
    Ok,
    /// Send the password in clear (only sensible over TLS).
    CleartextPassword,
    /// Send `md5(md5(password + user) + salt)`.
    Md5Password { salt: [u8; 4] },
    /// Start a SASL exchange with one of these mechanisms.
    Sasl { mechanisms: Vec<String> },
    /// A SASL server-first (or later) message.
    SaslContinue(Bytes),
    /// The SASL server-final message.
    SaslFinal(Bytes),
    /// A method pgrelocate does not speak (Kerberos, GSSAPI, SSPI, …), by its code.
    Unsupported(i32),
}

/// One column of a RowDescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type OID.
    pub type_oid: u32,
}

/// A decoded backend message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendMessage {
    /// `R`: an authentication step.
    Authentication(AuthRequest),
    /// `S`: a run-time parameter's value, e.g. `server_version`.
    ParameterStatus { name: String, value: String },
    /// `K`: the key for cancel requests.
    BackendKeyData { process_id: i32, secret_key: i32 },
    /// `Z`: the server waits for the next query; `status` is `I`, `T` or `E`.
    ReadyForQuery { status: u8 },
    /// `T`: the columns of the rows that follow.
    RowDescription(Vec<Column>),
    /// `D`: one row, in text format; `None` is SQL NULL.
    DataRow(Vec<Option<Bytes>>),
    /// `C`: a command finished, with its tag.
    CommandComplete(String),
    /// `I`: the query string was empty.
    EmptyQueryResponse,
    /// `E`: an error.
    ErrorResponse(ServerError),
    /// `N`: a notice (warning, information).
    NoticeResponse(ServerError),
    /// `H`: a COPY TO STDOUT stream starts.
    CopyOutResponse,
    /// `G`: the server waits for COPY FROM STDIN data.
    CopyInResponse,
    /// `W`: a bidirectional COPY (replication streaming) starts.
    CopyBothResponse,
    /// `d`: COPY payload.
    CopyData(Bytes),
    /// `c`: the COPY stream ended.
    CopyDone,
    /// `v`: the server speaks an older protocol minor or ignored some startup options.
    NegotiateProtocolVersion {
        newest_minor: i32,
        unrecognized: Vec<String>,
    },
    /// Any other tag; callers treat it as a protocol violation.
    Other(u8),
}

impl BackendMessage {
    /// The message's protocol name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            BackendMessage::Authentication(_) => "Authentication",
            BackendMessage::ParameterStatus { .. } => "ParameterStatus",
            BackendMessage::BackendKeyData { .. } => "BackendKeyData",
            BackendMessage::ReadyForQuery { .. } => "ReadyForQuery",
            BackendMessage::RowDescription(_) => "RowDescription",
            BackendMessage::DataRow(_) => "DataRow",
            BackendMessage::CommandComplete(_) => "CommandComplete",
            BackendMessage::EmptyQueryResponse => "EmptyQueryResponse",
            BackendMessage::ErrorResponse(_) => "ErrorResponse",
            BackendMessage::NoticeResponse(_) => "NoticeResponse",
            BackendMessage::CopyOutResponse => "CopyOutResponse",
            BackendMessage::CopyInResponse => "CopyInResponse",
            BackendMessage::CopyBothResponse => "CopyBothResponse",
            BackendMessage::CopyData(_) => "CopyData",
            BackendMessage::CopyDone => "CopyDone",
            BackendMessage::NegotiateProtocolVersion { .. } => "NegotiateProtocolVersion",
            BackendMessage::Other(_) => "an unknown message",
        }
    }
}

/// A message body that does not match its type's layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {tag:?} message: {what}")]
pub struct DecodeError {
    /// The message type byte.
    pub tag: char,
    /// What was wrong.
    pub what: &'static str,
}

/// Decodes one frame.
pub fn decode(frame: Frame) -> Result<BackendMessage, DecodeError> {
    let tag = frame.tag;
    let mut r = Reader {
        buf: frame.body,
        tag,
    };
    let msg = match tag {
        b'd' => return Ok(BackendMessage::CopyData(r.buf)),
        b'c' => BackendMessage::CopyDone,
        b'R' => BackendMessage::Authentication(decode_auth(&mut r)?),
        b'S' => BackendMessage::ParameterStatus {
            name: r.cstr()?,
            value: r.cstr()?,
        },
        b'K' => BackendMessage::BackendKeyData {
            process_id: r.i32()?,
            secret_key: r.i32()?,
        },
        b'Z' => BackendMessage::ReadyForQuery { status: r.u8()? },
        b'T' => {
            let n = r.i16()?;
            if n < 0 {
                return Err(r.err("negative column count"));
            }
            let mut columns = Vec::with_capacity((n as usize).min(r.buf.len() / 19 + 1));
            for _ in 0..n {
                let name = r.cstr()?;
                let _table_oid = r.i32()?;
                let _attnum = r.i16()?;
                let type_oid = r.i32()? as u32;
                let _typlen = r.i16()?;
                let _typmod = r.i32()?;
                let _format = r.i16()?;
                columns.push(Column { name, type_oid });
            }
            BackendMessage::RowDescription(columns)
        }
        b'D' => {
            let n = r.i16()?;
            if n < 0 {
                return Err(r.err("negative field count"));
            }
            let mut fields = Vec::with_capacity((n as usize).min(r.buf.len() / 4 + 1));
            for _ in 0..n {
                let len = r.i32()?;
                if len == -1 {
                    fields.push(None);
                } else if len < 0 {
                    return Err(r.err("negative field length"));
                } else {
                    fields.push(Some(r.take(len as usize)?));
                }
            }
            BackendMessage::DataRow(fields)
        }
        b'C' => BackendMessage::CommandComplete(r.cstr()?),
        b'I' => BackendMessage::EmptyQueryResponse,
        b'E' => BackendMessage::ErrorResponse(decode_fields(&mut r)?),
        b'N' => BackendMessage::NoticeResponse(decode_fields(&mut r)?),
        // Copy responses carry a format and per-column formats we do not need: replication
        // streams are always binary.
        b'H' => BackendMessage::CopyOutResponse,
        b'G' => BackendMessage::CopyInResponse,
        b'W' => BackendMessage::CopyBothResponse,
        b'v' => {
            let newest_minor = r.i32()?;
            let n = r.i32()?;
            if n < 0 {
                return Err(r.err("negative option count"));
            }
            let mut unrecognized = Vec::new();
            for _ in 0..n {
                unrecognized.push(r.cstr()?);
            }
            BackendMessage::NegotiateProtocolVersion {
                newest_minor,
                unrecognized,
            }
        }
        other => BackendMessage::Other(other),
    };
    Ok(msg)
}

fn decode_auth(r: &mut Reader) -> Result<AuthRequest, DecodeError> {
    Ok(match r.i32()? {
        0 => AuthRequest::Ok,
        3 => AuthRequest::CleartextPassword,
        5 => {
            let s = r.take(4)?;
            AuthRequest::Md5Password {
                salt: [s[0], s[1], s[2], s[3]],
            }
        }
        10 => {
            let mut mechanisms = Vec::new();
            loop {
                let m = r.cstr()?;
                if m.is_empty() {
                    break;
                }
                mechanisms.push(m);
            }
            AuthRequest::Sasl { mechanisms }
        }
        11 => AuthRequest::SaslContinue(std::mem::take(&mut r.buf)),
        12 => AuthRequest::SaslFinal(std::mem::take(&mut r.buf)),
        code => AuthRequest::Unsupported(code),
    })
}

fn decode_fields(r: &mut Reader) -> Result<ServerError, DecodeError> {
    let mut e = ServerError::default();
    let mut localized_severity = None;
    loop {
        let field = r.u8()?;
        if field == 0 {
            break;
        }
        let value = r.cstr()?;
        match field {
            b'S' => localized_severity = Some(value),
            b'V' => e.severity = value,
            b'C' => e.code = value,
            b'M' => e.message = value,
            b'D' => e.detail = Some(value),
            b'H' => e.hint = Some(value),
            _ => {}
        }
    }
    // `V` (never localised) exists from 9.6; fall back to `S` just in case.
    if e.severity.is_empty() {
        e.severity = localized_severity.unwrap_or_default();
    }
    Ok(e)
}

/// A bounds-checked cursor over a message body.
struct Reader {
    buf: Bytes,
    tag: u8,
}

impl Reader {
    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError {
            tag: self.tag as char,
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        if self.buf.len() < n {
            return Err(self.err("body shorter than its fields"));
        }
        Ok(self.buf.split_to(n))
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.buf.is_empty() {
            return Err(self.err("body shorter than its fields"));
        }
        Ok(self.buf.get_u8())
    }

    fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn cstr(&mut self) -> Result<String, DecodeError> {
        let end = self
            .buf
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.err("string without its terminating NUL"))?;
        let s = self.buf.split_to(end);
        self.buf.advance(1);
        // Servers send the client encoding we asked for (UTF8); stay lenient anyway.
        Ok(String::from_utf8_lossy(&s).into_owned())
    }
}

impl crate::Coded for DecodeError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::Replication
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tag: u8, body: &[u8]) -> Frame {
        Frame {
            tag,
            body: Bytes::copy_from_slice(body),
        }
    }

    #[test]
    fn decodes_an_error_with_its_sqlstate() {
        let body = b"SFATAL\0VFATAL\0C42501\0Mmust be superuser or replication role to start walsender\0\0";
        let BackendMessage::ErrorResponse(e) = decode(frame(b'E', body)).unwrap() else {
            panic!("not an error");
        };
        assert_eq!(e.code, "42501");
        assert_eq!(e.severity, "FATAL");
        assert!(e.message.starts_with("must be superuser"));
    }

    #[test]
    fn decodes_rows_with_nulls() {
        let body = b"\0\x02\0\0\0\x0216\xff\xff\xff\xff";
        assert_eq!(
            decode(frame(b'D', body)).unwrap(),
            BackendMessage::DataRow(vec![Some(Bytes::from_static(b"16")), None])
        );
    }

    #[test]
    fn decodes_tags_postgres_protocol_does_not() {
        assert_eq!(
            decode(frame(b'W', b"\0\0\0")).unwrap(),
            BackendMessage::CopyBothResponse
        );
        assert_eq!(
            decode(frame(b'v', b"\0\0\0\0\0\0\0\x01_pq_.x\0")).unwrap(),
            BackendMessage::NegotiateProtocolVersion {
                newest_minor: 0,
                unrecognized: vec!["_pq_.x".into()]
            }
        );
    }

    #[test]
    fn decodes_sasl_mechanisms() {
        assert_eq!(
            decode(frame(
                b'R',
                b"\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"
            ))
            .unwrap(),
            BackendMessage::Authentication(AuthRequest::Sasl {
                mechanisms: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()]
            })
        );
    }

    #[test]
    fn truncated_bodies_are_errors() {
        for (tag, body) in [
            (b'D', &b"\0\x01\0\0\0\x09ab"[..]),
            (b'T', b"\0\x01name"),
            (b'R', b"\0\0\0\x05ab"),
            (b'E', b"Mno terminator"),
            (b'Z', b""),
        ] {
            assert!(decode(frame(tag, body)).is_err(), "{}", tag as char);
        }
    }
}
