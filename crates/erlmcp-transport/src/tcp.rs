//! The TCP transport: newline-delimited JSON over a TCP connection.
//!
//! A client calls [`TcpTransport::connect`]; a server binds a [`TcpAcceptor`] and calls
//! [`accept`](TcpAcceptor::accept) in a loop, giving each connection to a session.
//! The connection is split with [`TcpStream::into_split`], so the reader and writer
//! halves are owned and need no lock between them.
//!
//! Every connection gets `TCP_NODELAY`: the writer already coalesces a session's queued
//! frames into one write, so Nagle's algorithm would only add latency to replies. Setting
//! it is best effort (a failure is logged at debug level, not returned).
//!
//! The peer closing its side (FIN) ends the reader with `None`; a reset or a write to a
//! closed peer is an error for which [`is_disconnect`](crate::TransportError::is_disconnect)
//! is true.

use std::net::SocketAddr;

use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use crate::contract::{Transport, TransportInfo, TransportKind};
use crate::error::TransportError;
use crate::stream::{StreamReader, StreamTransport, StreamWriter};

/// The reading half of a [`TcpTransport`].
pub type TcpReader = StreamReader<OwnedReadHalf>;

/// The writing half of a [`TcpTransport`].
pub type TcpWriter = StreamWriter<OwnedWriteHalf>;

/// A transport over one TCP connection.
pub struct TcpTransport {
    inner: StreamTransport<OwnedReadHalf, OwnedWriteHalf>,
    peer_addr: SocketAddr,
    local_addr: SocketAddr,
}

impl TcpTransport {
    /// Connects to `addr` (trying each resolved address in turn, as
    /// [`TcpStream::connect`] does) and refuses inbound frames longer than
    /// `max_frame_bytes`.
    pub async fn connect(
        addr: impl ToSocketAddrs,
        max_frame_bytes: usize,
    ) -> Result<Self, TransportError> {
        let stream = TcpStream::connect(addr).await?;
        TcpTransport::from_stream(stream, max_frame_bytes)
    }

    /// Wraps a connected stream (sets `TCP_NODELAY`). Fails only when the stream has no
    /// peer address any more (it was already disconnected).
    pub fn from_stream(stream: TcpStream, max_frame_bytes: usize) -> Result<Self, TransportError> {
        let peer_addr = stream.peer_addr()?;
        TcpTransport::from_parts(stream, peer_addr, max_frame_bytes)
    }

    fn from_parts(
        stream: TcpStream,
        peer_addr: SocketAddr,
        max_frame_bytes: usize,
    ) -> Result<Self, TransportError> {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer_addr, error = %err, "could not set TCP_NODELAY");
        }
        let local_addr = stream.local_addr()?;
        let info = TransportInfo::new(TransportKind::Tcp, peer_addr.to_string(), max_frame_bytes);
        let (reader, writer) = stream.into_split();
        Ok(TcpTransport {
            inner: StreamTransport::new(reader, writer, info),
            peer_addr,
            local_addr,
        })
    }

    /// Sets the initial capacity of the read buffer (see
    /// [`StreamTransport::with_read_capacity`]).
    pub fn with_read_capacity(self, bytes: usize) -> Self {
        TcpTransport {
            inner: self.inner.with_read_capacity(bytes),
            ..self
        }
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// The address of this end.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Transport for TcpTransport {
    type Reader = TcpReader;
    type Writer = TcpWriter;

    fn info(&self) -> TransportInfo {
        self.inner.info()
    }

    fn split(self) -> (TcpReader, TcpWriter) {
        self.inner.split()
    }
}

/// A listening TCP socket that yields one [`TcpTransport`] per accepted connection.
pub struct TcpAcceptor {
    listener: TcpListener,
    max_frame_bytes: usize,
    read_capacity: Option<usize>,
}

impl TcpAcceptor {
    /// Binds `addr` (use port 0 for an OS-assigned port; see
    /// [`local_addr`](Self::local_addr)). Accepted connections refuse inbound frames longer
    /// than `max_frame_bytes`.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        max_frame_bytes: usize,
    ) -> Result<Self, TransportError> {
        let listener = TcpListener::bind(addr).await?;
        Ok(TcpAcceptor::from_listener(listener, max_frame_bytes))
    }

    /// Wraps a bound listener (for sockets configured by the caller or handed over by a
    /// supervisor).
    pub fn from_listener(listener: TcpListener, max_frame_bytes: usize) -> Self {
        TcpAcceptor {
            listener,
            max_frame_bytes,
            read_capacity: None,
        }
    }

    /// Sets the initial read-buffer capacity of every accepted connection (see
    /// [`StreamTransport::with_read_capacity`]).
    pub fn with_read_capacity(mut self, bytes: usize) -> Self {
        self.read_capacity = Some(bytes);
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.listener.local_addr()?)
    }

    /// Waits for the next connection, sets `TCP_NODELAY` on it and records its peer
    /// address in [`TransportInfo::peer`].
    ///
    /// An error here usually concerns one connection or a passing resource shortage
    /// (a connection aborted before it was accepted, too many open files), not the
    /// listener: an accept loop should log it, pause briefly and accept again.
    pub async fn accept(&self) -> Result<TcpTransport, TransportError> {
        let (stream, peer_addr) = self.listener.accept().await?;
        let transport = TcpTransport::from_parts(stream, peer_addr, self.max_frame_bytes)?;
        Ok(match self.read_capacity {
            Some(bytes) => transport.with_read_capacity(bytes),
            None => transport,
        })
    }

    /// The listener inside.
    pub fn into_inner(self) -> TcpListener {
        self.listener
    }
}
