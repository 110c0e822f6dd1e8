//! Message framing: splitting the byte stream a server sends into `(tag, body)` frames.
//!
//! Pure functions over buffers, no I/O, so they can be tested (and fuzzed) on byte slices.

use bytes::{Buf, Bytes, BytesMut};

/// Largest message body accepted. A base backup's CopyData messages are tens of kilobytes;
/// a bound keeps a broken or hostile server from making us buffer gigabytes.
pub const MAX_MESSAGE_LEN: usize = 64 << 20;

/// One backend message: its type byte and its body (without the length word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message type byte, e.g. `b'd'` for CopyData.
    pub tag: u8,
    /// The message body.
    pub body: Bytes,
}

/// A frame header that cannot be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("message {tag:?} declares length {len}, below the minimum of 4")]
    LengthTooShort { tag: char, len: u32 },
    #[error("message {tag:?} declares {len} bytes, more than the {MAX_MESSAGE_LEN} accepted")]
    TooLong { tag: char, len: u32 },
}

/// Takes the next complete frame off the front of `buf`, or `None` when more bytes are
/// needed. The body shares `buf`'s allocation (no copy).
pub fn split_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let tag = buf[0];
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    if len < 4 {
        return Err(FrameError::LengthTooShort {
            tag: tag as char,
            len,
        });
    }
    let body_len = len as usize - 4;
    if body_len > MAX_MESSAGE_LEN {
        return Err(FrameError::TooLong {
            tag: tag as char,
            len,
        });
    }
    if buf.len() < 5 + body_len {
        // Make room for the rest at once rather than growing in small steps.
        buf.reserve(5 + body_len - buf.len());
        return Ok(None);
    }
    buf.advance(5);
    let body = buf.split_to(body_len).freeze();
    Ok(Some(Frame { tag, body }))
}

impl crate::Coded for FrameError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::Replication
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_back_to_back_frames_and_waits_for_partial_ones() {
        let mut buf = BytesMut::from(&b"d\0\0\0\x07abcZ\0\0\0\x05I"[..]);
        buf.extend_from_slice(b"c\0\0");
        let f = split_frame(&mut buf).unwrap().unwrap();
        assert_eq!((f.tag, &f.body[..]), (b'd', &b"abc"[..]));
        let f = split_frame(&mut buf).unwrap().unwrap();
        assert_eq!((f.tag, &f.body[..]), (b'Z', &b"I"[..]));
        assert_eq!(split_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\0\x04");
        let f = split_frame(&mut buf).unwrap().unwrap();
        assert_eq!((f.tag, f.body.len()), (b'c', 0));
        assert!(buf.is_empty());
    }

    #[test]
    fn refuses_impossible_lengths() {
        let mut buf = BytesMut::from(&b"d\0\0\0\x03"[..]);
        assert!(matches!(
            split_frame(&mut buf),
            Err(FrameError::LengthTooShort { .. })
        ));
        let mut buf = BytesMut::from(&b"d\x7f\xff\xff\xff"[..]);
        assert!(matches!(
            split_frame(&mut buf),
            Err(FrameError::TooLong { .. })
        ));
    }
}
