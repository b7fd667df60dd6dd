//! The `Transport` contract: what every transport gives the protocol engine.
//!
//! A transport moves *frames* — one JSON-RPC message text each — and knows nothing of
//! MCP methods. It splits into a [`FrameReader`] (read by the session's reader task) and a
//! [`FrameWriter`] (owned by the session's writer task), so reading and writing never
//! wait on each other.
//!
//! The writer takes a *batch*: everything the session has queued since the last write. A
//! byte-stream transport encodes the whole batch into one buffer and writes it with one
//! `write_all` + `flush`, so a busy session pays one syscall per batch, not per message.

use std::future::Future;

use bytes::Bytes;
use erlmcp_codec::Frame;

use crate::error::TransportError;

/// What kind of transport a session runs on (for logs, metrics and the registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// The process's own stdin/stdout.
    Stdio,
    /// A child process's stdin/stdout.
    ChildProcess,
    /// A TCP connection.
    Tcp,
    /// An in-memory duplex pipe (tests, benchmarks, in-process peers).
    Memory,
    /// Streamable HTTP.
    Http,
}

impl TransportKind {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::ChildProcess => "child_process",
            TransportKind::Tcp => "tcp",
            TransportKind::Memory => "memory",
            TransportKind::Http => "http",
        }
    }
}

/// Facts about one transport instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportInfo {
    /// The kind of transport.
    pub kind: TransportKind,
    /// The peer, as text (`127.0.0.1:5000`, `pid 4242`, `stdio`, …).
    pub peer: String,
    /// The maximum inbound frame size this transport enforces.
    pub max_frame_bytes: usize,
}

impl TransportInfo {
    /// Facts about a transport of `kind` talking to `peer`, refusing inbound frames longer
    /// than `max_frame_bytes`.
    pub fn new(kind: TransportKind, peer: impl Into<String>, max_frame_bytes: usize) -> Self {
        TransportInfo {
            kind,
            peer: peer.into(),
            max_frame_bytes,
        }
    }
}

/// The inbound half of a transport.
pub trait FrameReader: Send + 'static {
    /// The next inbound frame. `None` means the peer closed the stream (EOF).
    /// `Some(Ok(Frame::Oversized{..}))` is not fatal: the session answers it and reads on.
    /// `Some(Err(_))` means the stream is dead.
    fn next_frame(&mut self) -> impl Future<Output = Option<Result<Frame, TransportError>>> + Send;
}

/// The outbound half of a transport.
pub trait FrameWriter: Send + 'static {
    /// Writes every frame of `batch` in order (each one JSON text without a newline) and
    /// flushes. Implementations should use as few syscalls as they can.
    fn write_batch(
        &mut self,
        batch: &[Bytes],
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Flushes and closes the outbound direction (the peer sees EOF).
    fn close(&mut self) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// A bidirectional message transport.
pub trait Transport: Send + 'static {
    /// The inbound half.
    type Reader: FrameReader;
    /// The outbound half.
    type Writer: FrameWriter;

    /// Facts about this transport.
    fn info(&self) -> TransportInfo;

    /// Splits into independently owned halves.
    fn split(self) -> (Self::Reader, Self::Writer);
}
