#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`contract`]: the [`Transport`] / [`FrameReader`] / [`FrameWriter`] traits.
//! - [`stream`]: newline framing over any `AsyncRead` + `AsyncWrite` pair.
//!
//! It leaves MCP method semantics, sessions and dispatch to `erlmcp-protocol`.

pub mod contract;
pub mod error;
pub mod stream;

pub use contract::{FrameReader, FrameWriter, Transport, TransportInfo, TransportKind};
pub use error::TransportError;
pub use stream::{StreamReader, StreamTransport, StreamWriter};
