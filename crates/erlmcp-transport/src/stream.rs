//! A transport over any byte stream pair (`AsyncRead` + `AsyncWrite`) with newline framing.
//!
//! stdio, TCP, child processes and in-memory pipes are all this transport with different
//! reader and writer types.

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{Frame, LineCodec};
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Encoder, FramedRead};

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo};
use crate::error::TransportError;

/// Initial capacity of the read buffer: one 4 KiB message and its neighbours.
const READ_CAPACITY: usize = 64 * 1024;

/// A newline-framed transport over a reader and a writer.
pub struct StreamTransport<R, W> {
    reader: R,
    writer: W,
    info: TransportInfo,
}

impl<R, W> StreamTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    /// A transport reading frames from `reader` and writing them to `writer`.
    pub fn new(reader: R, writer: W, info: TransportInfo) -> Self {
        StreamTransport {
            reader,
            writer,
            info,
        }
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
                frames: FramedRead::with_capacity(self.reader, codec.clone(), READ_CAPACITY),
            },
            StreamWriter {
                writer: self.writer,
                codec,
                buf: BytesMut::new(),
                closed: false,
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
pub struct StreamWriter<W> {
    writer: W,
    codec: LineCodec,
    buf: BytesMut,
    closed: bool,
}

impl<W: AsyncWrite + Send + Unpin + 'static> FrameWriter for StreamWriter<W> {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        if self.closed {
            return Err(TransportError::Closed);
        }
        self.buf.clear();
        for frame in batch {
            self.codec.encode(frame.as_ref(), &mut self.buf)?;
        }
        self.writer.write_all(&self.buf).await?;
        self.writer.flush().await?;
        // Don't keep a huge buffer alive after one burst of large messages.
        if self.buf.capacity() > 4 * READ_CAPACITY {
            self.buf = BytesMut::new();
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.writer.flush().await?;
        self.writer.shutdown().await?;
        Ok(())
    }
}
