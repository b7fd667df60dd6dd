#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`contract`]: the [`Transport`] / [`FrameReader`] / [`FrameWriter`] traits.
//! - [`stream`]: newline framing over any `AsyncRead` + `AsyncWrite` pair; every transport
//!   below is a [`StreamTransport`] with particular reader and writer types.
//! - [`stdio`](mod@stdio): a server on its own stdin/stdout.
//! - [`child`]: a client running its server as a child process.
//! - [`tcp`]: TCP connections, client and listener.
//! - [`memory`]: in-memory pipes for tests, benchmarks and in-process peers.
//! - [`http`]: Streamable HTTP (MCP 2025-11-25): a server yielding one transport per
//!   session, and a client transport (hyper).
//!
//! It leaves MCP method semantics, sessions and dispatch to `erlmcp-protocol`.

pub mod child;
pub mod contract;
pub mod error;
pub mod http;
pub mod memory;
pub mod stdio;
mod stdio_threads;
pub mod stream;
pub mod tcp;

pub use child::{
    ChildExit, ChildOptions, ChildProcessTransport, ChildReader, ChildWriter, StderrMode,
};
pub use contract::{FrameReader, FrameWriter, Transport, TransportInfo, TransportKind};
pub use erlmcp_codec::{DEFAULT_MAX_FRAME_BYTES, Frame};
pub use error::TransportError;
pub use http::{
    EraPolicy, HttpClientOptions, HttpClientTransport, HttpExchangeTransport, HttpIncoming,
    HttpListener, HttpServerConfig, HttpServerHandle, HttpSessionHandle, HttpSessionTransport,
    ResponseMode,
};
pub use memory::{MemoryReader, MemoryTransport, MemoryWriter, memory_pair};
pub use stdio::{StdioReader, StdioTransport, StdioWriter, stdio};
pub use stream::{DEFAULT_READ_CAPACITY, StreamReader, StreamTransport, StreamWriter};
pub use tcp::{TcpAcceptor, TcpReader, TcpTransport, TcpWriter};
