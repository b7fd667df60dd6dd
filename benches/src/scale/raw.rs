//! A minimal MCP client that speaks the wire directly: the `initialize` handshake and
//! `ping`, nothing else. It holds no engine, no queues and no buffers between calls (one
//! byte stream and a counter), so what a session costs is what the *server* holds — the
//! in-memory run keeps 100,000 of these next to the sessions they talk to.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version the handshake asks for.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// Longest answer accepted (the `initialize` result is well under 4 KiB).
const MAX_LINE: usize = 64 * 1024;

/// One client connection: the stream and the next request id.
pub struct RawClient<S> {
    io: S,
    next_id: u32,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// The `initialize` request line (with its newline).
pub fn initialize_line() -> Vec<u8> {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{{\
         \"protocolVersion\":\"{PROTOCOL_VERSION}\",\"capabilities\":{{}},\
         \"clientInfo\":{{\"name\":\"erlmcp-scale\",\"version\":\"0.1.0\"}}}}}}\n"
    )
    .into_bytes()
}

/// The `notifications/initialized` line.
pub const INITIALIZED_LINE: &[u8] =
    b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    /// Wraps a connected stream; call [`handshake`](Self::handshake) next.
    pub fn new(io: S) -> Self {
        RawClient { io, next_id: 1 }
    }

    /// The stream inside.
    pub fn io_ref(&self) -> &S {
        &self.io
    }

    /// Reads one line; the server sends nothing unasked, so nothing is read past it.
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            line.extend_from_slice(&chunk[..n]);
            if let Some(end) = memchr::memchr(b'\n', &line) {
                if end + 1 != line.len() {
                    return Err(bad("server sent more than one line unasked"));
                }
                line.truncate(end);
                return Ok(line);
            }
            if line.len() > MAX_LINE {
                return Err(bad("answer too long"));
            }
        }
    }

    /// Reads answers until the one for `id` (skipping notifications).
    async fn answer_to(&mut self, id: u32) -> io::Result<Vec<u8>> {
        let needle = format!("\"id\":{id}");
        loop {
            let line = self.read_line().await?;
            if memchr::memmem::find(&line, needle.as_bytes()).is_some() {
                if memchr::memmem::find(&line, b"\"result\"").is_none() {
                    return Err(bad("error answer"));
                }
                return Ok(line);
            }
        }
    }

    /// `initialize` → result → `notifications/initialized`. Returns the result's length.
    pub async fn handshake(&mut self) -> io::Result<usize> {
        self.io.write_all(&initialize_line()).await?;
        let answer = self.answer_to(0).await?;
        if memchr::memmem::find(&answer, b"protocolVersion").is_none() {
            return Err(bad("initialize answer without protocolVersion"));
        }
        self.io.write_all(INITIALIZED_LINE).await?;
        Ok(answer.len())
    }

    /// One `ping` round trip; returns its duration.
    pub async fn ping(&mut self) -> io::Result<Duration> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let line = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n");
        let start = Instant::now();
        self.io.write_all(line.as_bytes()).await?;
        self.answer_to(id).await?;
        Ok(start.elapsed())
    }
}
