#![doc = include_str!("../README.md")]
//!
//! ## What this crate owns
//! - [`jsonrpc`]: the JSON-RPC 2.0 envelope and its classification rules.
//! - [`error`]: codec errors and the one mapping onto JSON-RPC error codes.
//! - [`framing`]: newline framing with a maximum frame size.
//! - [`schema`]: MCP schema types, split by spec area.
//! - [`json`]: the JSON back end (serde_json or simd-json).
//!
//! It never does I/O and never decides policy: sessions, transports and limits other than
//! the frame size belong to the crates above it.

pub mod error;
pub mod framing;
pub mod json;
pub mod jsonrpc;
pub mod schema;

pub use error::{ErrorCode, ErrorObject, FrameError, ParseError, ParseErrorKind};
pub use framing::{DEFAULT_MAX_FRAME_BYTES, Frame, LineCodec};
pub use jsonrpc::{ErrorResponse, Message, Notification, Request, RequestId, Response};
