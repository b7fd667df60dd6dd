//! A transport over any byte stream pair (`AsyncRead` + `AsyncWrite`) with newline framing.
//!
//! stdio, TCP, child processes and in-memory pipes are all this transport with different
//! reader and writer types.
//!
//! ## Memory per connection
//! erlmcp runs up to 100K sessions in one process, so a connection starts small and grows
//! only when its traffic needs it:
//! - the read buffer starts at [`DEFAULT_READ_CAPACITY`] (8 KiB; set it with
//!   [`StreamTransport::with_read_capacity`]) and doubles while a frame does not fit, up to
//!   the frame limit;
//! - the write buffer starts empty, grows to the largest batch, and is given back after a
//!   batch larger than [`WRITE_BUF_RETAIN`].

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{Frame, LineCodec};
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Encoder, FramedRead};

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo};
use crate::error::TransportError;

/// Default initial capacity of the read buffer: a couple of typical MCP messages. The
/// buffer grows on demand, so this only sets the cost of an idle connection.
pub const DEFAULT_READ_CAPACITY: usize = 8 * 1024;

/// The smallest initial read capacity accepted; smaller requests are rounded up so that
/// a frame does not need many doublings to fit.
pub const MIN_READ_CAPACITY: usize = 256;

/// A write buffer that grew past this many bytes is freed after its batch is written, so
/// one burst of large messages does not pin memory for the life of the connection.
pub const WRITE_BUF_RETAIN: usize = 64 * 1024;

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

    /// Sets the initial capacity of the read buffer (at least [`MIN_READ_CAPACITY`]).
    /// The buffer still grows as large frames need; this is the memory an idle
    /// connection holds.
    pub fn with_read_capacity(mut self, bytes: usize) -> Self {
        self.read_capacity = bytes.max(MIN_READ_CAPACITY);
        self
    }

    /// The initial capacity of the read buffer.
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
                frames: FramedRead::with_capacity(self.reader, codec.clone(), self.read_capacity),
            },
            StreamWriter {
                writer: Some(self.writer),
                codec,
                buf: BytesMut::new(),
            },
        )
    }
}

/// The reading half of a [`StreamTransport`].
pub struct StreamReader<R> {
    frames: FramedRead<R, LineCodec>,
}

impl<R: AsyncRead + Send + Unpin + 'static> FrameReader for StreamReader<R> {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        self.frames
            .next()
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
    buf: BytesMut,
}

impl<W: AsyncWrite + Send + Unpin + 'static> FrameWriter for StreamWriter<W> {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(TransportError::Closed);
        };
        self.buf.clear();
        for frame in batch {
            self.codec.encode(frame.as_ref(), &mut self.buf)?;
        }
        writer.write_all(&self.buf).await?;
        writer.flush().await?;
        if self.buf.capacity() > WRITE_BUF_RETAIN {
            self.buf = BytesMut::new();
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        // Taken first: the writer is dropped (and its handle closed) even if flushing fails.
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        self.buf = BytesMut::new();
        writer.flush().await?;
        writer.shutdown().await?;
        Ok(())
    }
}
