//! Newline-delimited framing (the MCP stdio and erlmcp TCP wire format) as a tokio-util
//! [`Decoder`] / [`Encoder`].
//!
//! Contract, as in tokio-util: `decode` returns `Ok(Some(frame))` for a whole line,
//! `Ok(None)` when more bytes are needed, and `Err` only when the stream is dead (I/O).
//!
//! Untrusted peers can send a line of any length, so the decoder takes a maximum frame
//! size. The limit is checked while scanning, before the line is buffered further: once a
//! line passes it, the decoder switches to a discarding state, drops bytes up to
//! the next newline, and then yields one [`Frame::Oversized`] so the caller can answer
//! with a JSON-RPC error. The stream goes on with the next line. Blank lines are skipped
//! and a trailing `\r` is removed (peers on Windows write CRLF).
//!
//! ```text
//!            line > max                       '\n' found
//!  Reading ─────────────▶ Discarding{len} ──────────────▶ Reading  (+ yields Oversized)
//!     ▲  │ '\n' found
//!     └──┘ yields Message(line)
//! ```

use bytes::{Buf, BufMut, BytesMut};
use memchr::memchr;
use tokio_util::codec::{Decoder, Encoder};

use crate::error::FrameError;

/// Default maximum frame size: 4 MiB. Large enough for embedded resources, small enough
/// that one peer cannot make the server buffer without bound.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// One decoded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line without its terminator.
    Message(BytesMut),
    /// A line longer than the maximum was discarded; `len` is how many bytes it had.
    Oversized {
        /// Bytes discarded (at least the maximum plus one).
        len: usize,
    },
}

/// Where the decoder is inside the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// Accumulating a line; `scanned` bytes of the buffer are known to hold no newline.
    Reading { scanned: usize },
    /// Dropping an oversized line; `len` bytes dropped so far.
    Discarding { len: usize },
}

/// Newline-delimited JSON framing with a maximum frame size.
#[derive(Debug, Clone)]
pub struct LineCodec {
    max_frame_bytes: usize,
    state: DecodeState,
}

impl LineCodec {
    /// A codec that refuses lines longer than `max_frame_bytes` (terminator excluded).
    pub fn new(max_frame_bytes: usize) -> Self {
        LineCodec {
            max_frame_bytes,
            state: DecodeState::Reading { scanned: 0 },
        }
    }

    /// The configured maximum frame size.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }
}

impl Default for LineCodec {
    fn default() -> Self {
        LineCodec::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

fn strip_cr(mut line: BytesMut) -> BytesMut {
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    line
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

impl Decoder for LineCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            match self.state {
                DecodeState::Reading { scanned } => {
                    // Only scan as far as one byte past the limit: a line that long is
                    // oversized whatever follows, so there is no reason to look further.
                    let limit = self.max_frame_bytes.saturating_add(1).min(buf.len());
                    let start = scanned.min(limit);
                    match memchr(b'\n', &buf[start..limit]) {
                        Some(offset) => {
                            let newline = start + offset;
                            let line = buf.split_to(newline);
                            buf.advance(1);
                            self.state = DecodeState::Reading { scanned: 0 };
                            if is_blank(&line) {
                                continue;
                            }
                            let line = strip_cr(line);
                            if line.len() > self.max_frame_bytes {
                                return Ok(Some(Frame::Oversized { len: line.len() }));
                            }
                            return Ok(Some(Frame::Message(line)));
                        }
                        None if buf.len() > self.max_frame_bytes => {
                            // No newline within the limit: the line is oversized. The
                            // discarding state finds its end (possibly later in `buf`).
                            self.state = DecodeState::Discarding { len: 0 };
                        }
                        None => {
                            self.state = DecodeState::Reading { scanned: buf.len() };
                            return Ok(None);
                        }
                    }
                }
                DecodeState::Discarding { len } => match memchr(b'\n', buf) {
                    Some(newline) => {
                        buf.advance(newline + 1);
                        self.state = DecodeState::Reading { scanned: 0 };
                        return Ok(Some(Frame::Oversized {
                            len: len.saturating_add(newline),
                        }));
                    }
                    None => {
                        let dropped = buf.len();
                        buf.clear();
                        self.state = DecodeState::Discarding {
                            len: len.saturating_add(dropped),
                        };
                        return Ok(None);
                    }
                },
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        // The peer closed without a final newline: what is left is the last frame.
        match self.state {
            DecodeState::Discarding { len } => {
                self.state = DecodeState::Reading { scanned: 0 };
                Ok(Some(Frame::Oversized { len }))
            }
            DecodeState::Reading { .. } => {
                self.state = DecodeState::Reading { scanned: 0 };
                if buf.is_empty() || is_blank(buf) {
                    buf.clear();
                    return Ok(None);
                }
                let line = strip_cr(buf.split());
                Ok(Some(Frame::Message(line)))
            }
        }
    }
}

/// Encodes a frame by appending it and a newline. The frame must not contain a raw
/// newline (compact JSON never does); the maximum size applies outbound too.
impl<T: AsRef<[u8]>> Encoder<T> for LineCodec {
    type Error = FrameError;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), FrameError> {
        let bytes = item.as_ref();
        if bytes.len() > self.max_frame_bytes {
            return Err(FrameError::TooLarge {
                len: bytes.len(),
                max: self.max_frame_bytes,
            });
        }
        if memchr(b'\n', bytes).is_some() {
            return Err(FrameError::EmbeddedNewline);
        }
        dst.reserve(bytes.len() + 1);
        dst.put_slice(bytes);
        dst.put_u8(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut LineCodec, input: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            out.push(frame);
        }
        while let Some(frame) = codec.decode_eof(&mut buf).unwrap() {
            out.push(frame);
        }
        out
    }

    fn msg(s: &str) -> Frame {
        Frame::Message(BytesMut::from(s.as_bytes()))
    }

    #[test]
    fn splits_lines_and_strips_cr() {
        let mut codec = LineCodec::new(64);
        let frames = decode_all(&mut codec, b"{\"a\":1}\n{\"b\":2}\r\n\n  \n{\"c\":3}");
        assert_eq!(
            frames,
            vec![msg("{\"a\":1}"), msg("{\"b\":2}"), msg("{\"c\":3}")]
        );
    }

    #[test]
    fn oversized_line_is_discarded_and_stream_goes_on() {
        let mut codec = LineCodec::new(8);
        let frames = decode_all(&mut codec, b"0123456789abcdef\nok\n");
        assert_eq!(frames, vec![Frame::Oversized { len: 16 }, msg("ok")]);
    }

    #[test]
    fn oversized_line_split_across_reads() {
        let mut codec = LineCodec::new(4);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(b"abcdefgh");
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.is_empty(), "discarded bytes are not kept");
        buf.extend_from_slice(b"ijkl\nxy\n");
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Frame::Oversized { len: 12 })
        );
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(msg("xy")));
    }

    #[test]
    fn oversized_line_followed_by_more_in_same_buffer() {
        let mut codec = LineCodec::new(4);
        let frames = decode_all(
            &mut codec,
            b"abcdefghij
ok
abcdefghijklmnop",
        );
        assert_eq!(
            frames,
            vec![
                Frame::Oversized { len: 10 },
                msg("ok"),
                Frame::Oversized { len: 16 }
            ]
        );
    }

    #[test]
    fn line_exactly_at_limit_passes() {
        let mut codec = LineCodec::new(4);
        let frames = decode_all(&mut codec, b"abcd\nabcde\n");
        assert_eq!(frames, vec![msg("abcd"), Frame::Oversized { len: 5 }]);
    }

    #[test]
    fn partial_line_waits_for_more() {
        let mut codec = LineCodec::new(64);
        let mut buf = BytesMut::from(&b"{\"a\""[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b":1}\n");
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(msg("{\"a\":1}")));
    }

    #[test]
    fn encoder_appends_newline_and_refuses_bad_frames() {
        let mut codec = LineCodec::new(8);
        let mut dst = BytesMut::new();
        codec.encode(b"{}".as_slice(), &mut dst).unwrap();
        assert_eq!(&dst[..], b"{}\n");
        assert!(matches!(
            codec.encode(b"{\n}".as_slice(), &mut dst),
            Err(FrameError::EmbeddedNewline)
        ));
        assert!(matches!(
            codec.encode(b"0123456789".as_slice(), &mut dst),
            Err(FrameError::TooLarge { len: 10, max: 8 })
        ));
    }
}
