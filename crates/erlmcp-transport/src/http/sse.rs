//! Server-Sent Events: encoding events (server) and an incremental parser (client).
//!
//! Event ids name their stream: `<streamId>:<seq>`, where `seq` comes from one counter per
//! session, so every id is unique within its session and tells the server which stream a
//! `Last-Event-ID` resumes.
//!
//! The parser follows the WHATWG event-stream rules that matter to MCP: lines end in LF,
//! CRLF or CR; `data` lines accumulate (joined by LF), `id` and `retry` are remembered,
//! comments (`:`) and unknown fields are ignored, a blank line dispatches. An event whose
//! data grows past the configured maximum is discarded up to its blank line and reported
//! once as [`SseItem::Oversized`], so one hostile event cannot make the client buffer
//! without bound; the stream goes on with the next event.

use bytes::{BufMut, Bytes, BytesMut};

/// An event id: the stream it belongs to and its sequence number within the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EventId {
    pub(crate) stream: u64,
    pub(crate) seq: u64,
}

impl EventId {
    /// Parses `<stream>:<seq>`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<EventId> {
        let (stream, seq) = text.split_once(':')?;
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(stream) || !digits(seq) {
            return None;
        }
        Some(EventId {
            stream: stream.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.stream, self.seq)
    }
}

/// Encodes one event carrying `data` (a JSON-RPC message). Every line of the data gets its
/// own `data:` field, so even a frame with embedded newlines arrives intact.
pub(crate) fn encode_event(id: EventId, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 48);
    out.put_slice(b"id: ");
    out.put_slice(id.to_string().as_bytes());
    out.put_u8(b'\n');
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.put_slice(b"data: ");
        out.put_slice(line);
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// Encodes one event without an id (2026-07-28 streams are not resumable).
pub(crate) fn encode_data(data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 16);
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.put_slice(b"data: ");
        out.put_slice(line);
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// The priming event that opens a stream: an id to resume from, the reconnection delay,
/// and empty data.
pub(crate) fn encode_priming(id: EventId, retry_ms: u64) -> Bytes {
    Bytes::from(format!("id: {id}\nretry: {retry_ms}\ndata: \n\n"))
}

/// A `retry:`-only block: sets the client's reconnection delay without dispatching an event
/// (sent first on a resumed stream, where a fresh priming id would skip the replay).
pub(crate) fn encode_retry(retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

/// A comment line that keeps an idle connection (and the proxies on its path) alive.
pub(crate) const KEEPALIVE: &[u8] = b": keepalive\n\n";

/// What the parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseItem {
    /// A dispatched event. `data` is empty for priming events.
    Event {
        /// The event's `id` field, if it had one.
        id: Option<String>,
        /// The data lines joined with LF.
        data: Bytes,
    },
    /// The server set the reconnection delay (milliseconds).
    Retry(u64),
    /// An event was larger than the maximum and was dropped; `len` bytes were seen.
    Oversized {
        /// Bytes of data discarded (at least the maximum plus one).
        len: usize,
    },
}

/// Incremental event-stream parser with a maximum event size.
#[derive(Debug)]
pub(crate) struct SseParser {
    max_event_bytes: usize,
    buf: BytesMut,
    /// How far `buf` is known to hold no line terminator.
    scanned: usize,
    data: BytesMut,
    has_data: bool,
    id: Option<String>,
    /// Bytes dropped from the current event once it passed the maximum.
    discarding: Option<usize>,
    /// The rest of the current line belongs to a line already dropped for its length.
    skip_line: bool,
}

impl SseParser {
    /// A parser that drops events whose data exceeds `max_event_bytes`.
    pub(crate) fn new(max_event_bytes: usize) -> Self {
        SseParser {
            max_event_bytes,
            buf: BytesMut::new(),
            scanned: 0,
            data: BytesMut::new(),
            has_data: false,
            id: None,
            discarding: None,
            skip_line: false,
        }
    }

    /// Feeds a chunk and appends every complete item to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseItem>) {
        self.buf.extend_from_slice(chunk);
        loop {
            let Some((end, terminator)) = self.find_line_end() else {
                // A single line longer than the limit cannot be buffered: drop it as it comes.
                if self.buf.len() > self.max_event_bytes.saturating_add(16) {
                    let dropped = self.buf.len();
                    self.buf.clear();
                    self.scanned = 0;
                    let seen = self.discarding.unwrap_or(self.data.len());
                    self.discarding = Some(seen.saturating_add(dropped));
                    self.data.clear();
                    self.skip_line = true;
                }
                return;
            };
            let line = self.buf.split_to(end);
            let _ = self.buf.split_to(terminator);
            self.scanned = 0;
            if std::mem::take(&mut self.skip_line) {
                if let Some(dropped) = &mut self.discarding {
                    *dropped = dropped.saturating_add(line.len());
                }
                continue;
            }
            self.line(&line, out);
        }
    }

    /// Finds the end of the next line: `(index, terminator length)`. A CR at the very end
    /// of the buffer waits for the next byte (it may be the first half of CRLF).
    fn find_line_end(&mut self) -> Option<(usize, usize)> {
        let start = self.scanned;
        for (offset, &b) in self.buf[start..].iter().enumerate() {
            let i = start + offset;
            match b {
                b'\n' => return Some((i, 1)),
                b'\r' => {
                    return match self.buf.get(i + 1) {
                        Some(b'\n') => Some((i, 2)),
                        Some(_) => Some((i, 1)),
                        None => {
                            self.scanned = i;
                            None
                        }
                    };
                }
                _ => {}
            }
        }
        self.scanned = self.buf.len();
        None
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                self.has_data = true;
                if let Some(dropped) = &mut self.discarding {
                    *dropped = dropped.saturating_add(value.len() + 1);
                    return;
                }
                if self.data.len() + value.len() + 1 > self.max_event_bytes.saturating_add(1) {
                    self.discarding = Some(self.data.len() + value.len() + 1);
                    self.data.clear();
                    return;
                }
                self.data.extend_from_slice(value);
                self.data.put_u8(b'\n');
            }
            b"id" if !value.contains(&0) => {
                self.id = std::str::from_utf8(value).ok().map(str::to_owned);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    out.push(SseItem::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if let Some(len) = self.discarding.take() {
            self.has_data = false;
            self.data.clear();
            out.push(SseItem::Oversized { len });
            return;
        }
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        if data.last() == Some(&b'\n') {
            data.truncate(data.len() - 1);
        }
        out.push(SseItem::Event {
            id: self.id.clone(),
            data: data.freeze(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]], max: usize) -> Vec<SseItem> {
        let mut parser = SseParser::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn event_ids_round_trip() {
        let id = EventId { stream: 3, seq: 17 };
        assert_eq!(EventId::parse(&id.to_string()), Some(id));
        for bad in ["", "3", "3:", ":4", "a:1", "1:2:3", "-1:2", "1 :2"] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn priming_then_message_byte_by_byte() {
        let mut wire = encode_priming(EventId { stream: 1, seq: 1 }, 1500).to_vec();
        wire.extend_from_slice(&encode_event(EventId { stream: 1, seq: 2 }, br#"{"a":1}"#));
        let chunks: Vec<&[u8]> = wire.chunks(1).collect();
        let items = parse_all(&chunks, 1024);
        assert_eq!(
            items,
            vec![
                SseItem::Retry(1500),
                SseItem::Event {
                    id: Some("1:1".into()),
                    data: Bytes::new()
                },
                SseItem::Event {
                    id: Some("1:2".into()),
                    data: Bytes::from_static(br#"{"a":1}"#)
                },
            ]
        );
    }

    #[test]
    fn crlf_cr_comments_and_multiline_data() {
        let items = parse_all(
            &[b": hello\r\nid: 7:1\r\ndata: a\rdata: b\r\n\r\nevent: x\ndata:c\n\n"],
            1024,
        );
        assert_eq!(
            items,
            vec![
                SseItem::Event {
                    id: Some("7:1".into()),
                    data: Bytes::from_static(b"a\nb")
                },
                SseItem::Event {
                    id: Some("7:1".into()),
                    data: Bytes::from_static(b"c")
                },
            ]
        );
    }

    #[test]
    fn oversized_events_are_dropped_and_the_stream_goes_on() {
        let big = format!("data: {}\n\n", "x".repeat(100));
        let wire = format!("{big}data: ok\n\n");
        let items = parse_all(&[wire.as_bytes()], 32);
        assert!(matches!(items[0], SseItem::Oversized { len } if len > 32));
        assert_eq!(
            items[1],
            SseItem::Event {
                id: None,
                data: Bytes::from_static(b"ok")
            }
        );
        // The same with the long line arriving in small pieces.
        let chunks: Vec<&[u8]> = wire.as_bytes().chunks(7).collect();
        let items = parse_all(&chunks, 32);
        assert!(matches!(items[0], SseItem::Oversized { .. }));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn encoded_events_split_embedded_newlines() {
        let wire = encode_event(EventId { stream: 2, seq: 9 }, b"line1\nline2");
        assert_eq!(&wire[..], b"id: 2:9\ndata: line1\ndata: line2\n\n");
    }
}
