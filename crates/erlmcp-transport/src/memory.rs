//! In-memory transports: two connected ends of a [`tokio::io::duplex`] pipe.
//!
//! Used by tests, benchmarks and in-process peers (a client and a server in one process),
//! including the 100K-session scale harness — so an idle end is kept small: its read
//! buffer starts at [`MEMORY_READ_CAPACITY`] and the pipe's buffers are allocated only as
//! bytes flow. The bytes on the pipe are exactly what a socket would carry (newline
//! framing, the same size limits), so behaviour seen here carries over to TCP and stdio.

use tokio::io::{DuplexStream, ReadHalf, WriteHalf};

use crate::contract::{Transport, TransportInfo, TransportKind};
use crate::stream::{StreamReader, StreamTransport, StreamWriter};

/// Initial read-buffer capacity of each end of a [`memory_pair`]: enough for a typical
/// request; larger frames grow the buffer as they arrive.
pub const MEMORY_READ_CAPACITY: usize = 1024;

/// The reading half of a [`MemoryTransport`].
pub type MemoryReader = StreamReader<ReadHalf<DuplexStream>>;

/// The writing half of a [`MemoryTransport`].
pub type MemoryWriter = StreamWriter<WriteHalf<DuplexStream>>;

/// One end of an in-memory pipe; see [`memory_pair`].
pub struct MemoryTransport {
    inner: StreamTransport<ReadHalf<DuplexStream>, WriteHalf<DuplexStream>>,
}

impl MemoryTransport {
    /// Sets the initial capacity of the read buffer (see
    /// [`StreamTransport::with_read_capacity`]).
    pub fn with_read_capacity(self, bytes: usize) -> Self {
        MemoryTransport {
            inner: self.inner.with_read_capacity(bytes),
        }
    }
}

/// Two connected in-memory transports: frames written to one are read from the other.
///
/// `max_frame_bytes` bounds inbound (and outbound) frames at both ends. `buffer_bytes` is
/// how many bytes each direction holds before a writer waits for the reader (backpressure,
/// like a socket's send buffer); 0 is taken as 1.
///
/// Closing one end's writer, or dropping both halves of that end, gives the other end's
/// reader `None` (dropping only the writer half does not: unlike a socket, the pipe stays
/// open while the end's reader lives). Writing to an end whose peer was dropped fails with
/// a broken pipe ([`is_disconnect`](crate::TransportError::is_disconnect)).
pub fn memory_pair(
    max_frame_bytes: usize,
    buffer_bytes: usize,
) -> (MemoryTransport, MemoryTransport) {
    let (a, b) = tokio::io::duplex(buffer_bytes.max(1));
    // Each end names the other as its peer.
    (
        end(a, "memory:b", max_frame_bytes),
        end(b, "memory:a", max_frame_bytes),
    )
}

fn end(stream: DuplexStream, peer: &'static str, max_frame_bytes: usize) -> MemoryTransport {
    let (reader, writer) = tokio::io::split(stream);
    let info = TransportInfo::new(TransportKind::Memory, peer, max_frame_bytes);
    MemoryTransport {
        inner: StreamTransport::new(reader, writer, info).with_read_capacity(MEMORY_READ_CAPACITY),
    }
}

impl Transport for MemoryTransport {
    type Reader = MemoryReader;
    type Writer = MemoryWriter;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (MemoryReader, MemoryWriter) {
        self.inner.split()
    }
}
