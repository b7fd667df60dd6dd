//! The stdio transport: an MCP server talking to its client over its own stdin and stdout.
//!
//! This is how a server runs when a client (an IDE, an agent) spawns it as a child process.
//! Frames are newline-delimited JSON, read from stdin and written to stdout.
//!
//! **stdout carries protocol and nothing else.** One stray `println!` or a logger writing
//! to stdout corrupts the stream for the client. Send logs to stderr (for example
//! `tracing_subscriber::fmt().with_writer(std::io::stderr)`), which the client shows or
//! discards but never parses.
//!
//! EOF on stdin — the client closed the pipe or went away — ends the reader: `next_frame`
//! returns `None`, and the server should finish its work and exit.
//!
//! stdin and stdout are served by one dedicated thread each (see [`StdinPipe`] and
//! [`StdoutPipe`]), which read and write many frames per system call under load.
//!
//! Two limits come from the platform, not from erlmcp:
//! - The stdin thread blocks in a read that cannot be cancelled; it ends at EOF or at the
//!   first read after the reader was dropped. It does not hold the process open.
//! - [`close`](crate::FrameWriter::close) on the writer flushes stdout but does not close
//!   file descriptor 1; the client sees EOF when the process exits.

pub use crate::stdio_threads::{StdinPipe, StdoutPipe};

use crate::contract::{Transport, TransportInfo, TransportKind};
use crate::stream::{StreamReader, StreamTransport, StreamWriter};

/// The reading half of a [`StdioTransport`].
pub type StdioReader = StreamReader<StdinPipe>;

/// The writing half of a [`StdioTransport`].
pub type StdioWriter = StreamWriter<StdoutPipe>;

/// A transport over this process's stdin and stdout.
///
/// Create one per process: two readers of stdin would steal each other's bytes.
pub struct StdioTransport {
    inner: StreamTransport<StdinPipe, StdoutPipe>,
}

impl StdioTransport {
    /// A transport over stdin/stdout refusing inbound frames longer than
    /// `max_frame_bytes`. Its threads start on the first read and the first write.
    pub fn new(max_frame_bytes: usize) -> Self {
        let info = TransportInfo::new(TransportKind::Stdio, "stdio", max_frame_bytes);
        StdioTransport {
            inner: StreamTransport::new(StdinPipe::new(), StdoutPipe::new(), info),
        }
    }

    /// Sets the initial capacity of the read buffer (see
    /// [`StreamTransport::with_read_capacity`]).
    pub fn with_read_capacity(self, bytes: usize) -> Self {
        StdioTransport {
            inner: self.inner.with_read_capacity(bytes),
        }
    }
}

/// A stdio transport with the default maximum frame size
/// ([`DEFAULT_MAX_FRAME_BYTES`](erlmcp_codec::DEFAULT_MAX_FRAME_BYTES)).
pub fn stdio() -> StdioTransport {
    StdioTransport::new(erlmcp_codec::DEFAULT_MAX_FRAME_BYTES)
}

impl Transport for StdioTransport {
    type Reader = StdioReader;
    type Writer = StdioWriter;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (StdioReader, StdioWriter) {
        self.inner.split()
    }
}
