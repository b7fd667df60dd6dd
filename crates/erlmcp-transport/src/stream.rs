//! A transport over any byte stream pair (`AsyncRead` + `AsyncWrite`) with newline framing.
//!
//! stdio, TCP, child processes and in-memory pipes are all this transport with different
//! reader and writer types.
//!
//! ## Memory per connection
//! erlmcp runs up to 100K sessions in one process, so a connection starts small and grows
//! only when its traffic needs it:
//! - the read buffer is allocated at [`DEFAULT_READ_CAPACITY`] (8 KiB; set it with
//!   [`StreamTransport::with_read_capacity`]) when bytes arrive, and doubles while a frame
//!   does not fit, up to the frame limit;
//! - an idle connection holds no read buffer: when a read would block and no partial
//!   frame is waiting, the buffer is given back (frames already handed out keep their own
//!   share of it), and the next readiness allocates a fresh one. Under load a partial frame
//!   is usually waiting, so the buffer stays; when it is not, the cost is one allocation
//!   per wake-up, not per message;
//! - there is no write buffer between batches: each batch is encoded into one allocation
//!   of exactly its size, written with one `write_all`, and freed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{Frame, FrameError, LineCodec};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder};

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo};
use crate::error::TransportError;

/// Default capacity of a fresh read buffer: a couple of typical MCP messages. The buffer
/// grows on demand and is given back while the connection is idle, so this sets the cost
/// of a connection that is receiving, not of an idle one.
pub const DEFAULT_READ_CAPACITY: usize = 8 * 1024;

/// The smallest initial read capacity accepted; smaller requests are rounded up so that
/// a frame does not need many doublings to fit.
pub const MIN_READ_CAPACITY: usize = 256;

/// A newline-framed transport over a reader and a writer.
pub struct StreamTransport<R, W> {
    reader: R,
    writer: W,
    info: TransportInfo,
    read_capacity: usize,
}

impl<R, W> StreamTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    /// A transport reading frames from `reader` and writing them to `writer`, with the
    /// default initial read capacity ([`DEFAULT_READ_CAPACITY`]).
    pub fn new(reader: R, writer: W, info: TransportInfo) -> Self {
        StreamTransport {
            reader,
            writer,
            info,
            read_capacity: DEFAULT_READ_CAPACITY,
        }
    }

    /// Sets the capacity of a fresh read buffer (at least [`MIN_READ_CAPACITY`]). The
    /// buffer still grows as large frames need, and an idle connection holds none.
    pub fn with_read_capacity(mut self, bytes: usize) -> Self {
        self.read_capacity = bytes.max(MIN_READ_CAPACITY);
        self
    }

    /// The capacity of a fresh read buffer.
    pub fn read_capacity(&self) -> usize {
        self.read_capacity
    }
}

impl<R, W> Transport for StreamTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    type Reader = StreamReader<R>;
    type Writer = StreamWriter<W>;

    fn info(&self) -> TransportInfo {
        self.info.clone()
    }

    fn split(self) -> (StreamReader<R>, StreamWriter<W>) {
        let codec = LineCodec::new(self.info.max_frame_bytes);
        (
            StreamReader {
                reader: self.reader,
                codec: codec.clone(),
                buf: BytesMut::new(),
                read_capacity: self.read_capacity,
                eof: false,
            },
            StreamWriter {
                writer: Some(self.writer),
                codec,
            },
        )
    }
}

/// The reading half of a [`StreamTransport`]: frames decoded from one read buffer that
/// exists only while bytes are waiting (see the module doc).
pub struct StreamReader<R> {
    reader: R,
    codec: LineCodec,
    /// Bytes read and not yet framed; capacity 0 while the connection is idle.
    buf: BytesMut,
    read_capacity: usize,
    /// The peer closed its side; what is left in `buf` is the last frame.
    eof: bool,
}

impl<R> StreamReader<R> {
    /// Bytes the read buffer holds allocated right now (0 while idle): what this
    /// connection's reading half costs beyond its fixed size.
    pub fn buffered_capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<R: AsyncRead + Unpin> StreamReader<R> {
    fn poll_next_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame, FrameError>>> {
        loop {
            if self.eof {
                return Poll::Ready(self.codec.decode_eof(&mut self.buf).transpose());
            }
            if let Some(frame) = self.codec.decode(&mut self.buf)? {
                return Poll::Ready(Some(Ok(frame)));
            }
            self.make_room();
            match tokio_util::io::poll_read_buf(Pin::new(&mut self.reader), cx, &mut self.buf) {
                Poll::Ready(Ok(0)) => self.eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(FrameError::Io(e)))),
                Poll::Pending => {
                    if self.buf.is_empty() {
                        // Idle with nothing half-read: give the buffer back. Frames handed
                        // out earlier keep their share of the allocation alive on their own.
                        self.buf = BytesMut::new();
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Makes sure the next read has room: a fresh buffer when none is held (or the one
    /// held has no spare room and no partial frame), twice the partial frame otherwise.
    fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() >= MIN_READ_CAPACITY {
            return;
        }
        if self.buf.is_empty() {
            self.buf = BytesMut::with_capacity(self.read_capacity);
        } else {
            self.buf.reserve(self.buf.len().max(self.read_capacity));
        }
    }
}

impl<R: AsyncRead + Send + Unpin + 'static> FrameReader for StreamReader<R> {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        std::future::poll_fn(|cx| self.poll_next_frame(cx))
            .await
            .map(|r| r.map_err(TransportError::from))
    }
}

/// The writing half of a [`StreamTransport`].
///
/// [`close`](FrameWriter::close) flushes, shuts the writer down and then drops it, so the
/// underlying handle (a pipe, a socket half) is released even when its `shutdown` does
/// nothing — as for a child's stdin pipe.
pub struct StreamWriter<W> {
    /// `None` once closed.
    writer: Option<W>,
    codec: LineCodec,
}

impl<W: AsyncWrite + Send + Unpin + 'static> FrameWriter for StreamWriter<W> {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(TransportError::Closed);
        };
        // One allocation of exactly the batch's size, freed when it is written: an idle
        // connection holds no write buffer, and a large batch never regrows one.
        let bytes = batch.iter().fold(0usize, |n, frame| {
            n.saturating_add(frame.len()).saturating_add(1)
        });
        let mut buf = BytesMut::with_capacity(bytes);
        for frame in batch {
            self.codec.encode(frame.as_ref(), &mut buf)?;
        }
        writer.write_all(&buf).await?;
        writer.flush().await?;
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        // Taken first: the writer is dropped (and its handle closed) even if flushing fails.
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        writer.flush().await?;
        writer.shutdown().await?;
        Ok(())
    }
}
