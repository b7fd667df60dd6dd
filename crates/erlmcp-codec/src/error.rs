//! Errors of the codec, and the one place that maps them onto JSON-RPC error codes.
//!
//! Errors are grouped by who is at fault: the peer sent bytes that are not JSON
//! ([`ParseErrorKind::InvalidJson`] → -32700), or JSON that is not a JSON-RPC message
//! (every other [`ParseErrorKind`] → -32600), or a frame past the size limit
//! ([`FrameError::TooLarge`]). I/O failures of the underlying stream are
//! [`FrameError::Io`] and end the stream.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jsonrpc::RequestId;

/// A JSON-RPC error code. The standard codes are associated constants; MCP and erlmcp
/// codes live in the implementation-defined range (-32000..=-32099).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: ErrorCode = ErrorCode(-32700);
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(-32600);
    /// The method does not exist or is not available (in this phase).
    pub const METHOD_NOT_FOUND: ErrorCode = ErrorCode(-32601);
    /// Invalid method parameters.
    pub const INVALID_PARAMS: ErrorCode = ErrorCode(-32602);
    /// Internal error (including a handler that panicked).
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(-32603);
    /// MCP: a resource was not found (2024-11-05 … 2025-11-25 convention).
    pub const RESOURCE_NOT_FOUND: ErrorCode = ErrorCode(-32002);
    /// MCP 2025-11-25: URL-mode elicitation is required before the request can proceed.
    pub const URL_ELICITATION_REQUIRED: ErrorCode = ErrorCode(-32042);
    /// MCP 2026-07-28: HTTP headers disagree with the body, or a required header is
    /// missing or malformed (HTTP 400).
    pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
    /// MCP 2026-07-28: the request needs a client capability the request's
    /// `clientCapabilities` did not declare (`data.requiredCapabilities`).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
    /// MCP 2026-07-28: the request's protocol version is not supported
    /// (`data.supported`, `data.requested`).
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);
    /// erlmcp client side: the request was cancelled or timed out locally (the LSP code;
    /// never sent on the wire by erlmcp).
    pub const REQUEST_CANCELLED: ErrorCode = ErrorCode(-32800);
    /// erlmcp: the server is overloaded (queue or memory budget exhausted).
    pub const OVERLOADED: ErrorCode = ErrorCode(-32010);

    /// The code as a plain integer.
    pub const fn code(self) -> i32 {
        self.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The `error` member of a JSON-RPC error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Extra structured information, e.g. `{"phase": "awaiting_initialize"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error object without data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds structured data.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON-RPC error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for ErrorObject {}

/// Why a frame could not be read as a JSON-RPC message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The bytes are not valid JSON (or not UTF-8).
    InvalidJson,
    /// The JSON is not an object.
    NotAnObject,
    /// A JSON array: batches were removed from MCP in 2025-06-18.
    BatchNotSupported,
    /// `jsonrpc` is missing or is not `"2.0"`.
    BadVersion,
    /// `id` is present but not an integer or a string (or is `null` on a request).
    BadId,
    /// `method` is not a string.
    BadMethod,
    /// `params` is neither an object nor an array.
    BadParams,
    /// `error` is not a valid error object.
    BadErrorObject,
    /// None of `method`, `result`, `error` is present.
    NotAMessage,
}

impl ParseErrorKind {
    /// The JSON-RPC code this kind of failure is answered with.
    pub fn code(self) -> ErrorCode {
        match self {
            ParseErrorKind::InvalidJson => ErrorCode::PARSE_ERROR,
            _ => ErrorCode::INVALID_REQUEST,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ParseErrorKind::InvalidJson => "parse error: invalid JSON",
            ParseErrorKind::NotAnObject => "invalid request: message must be a JSON object",
            ParseErrorKind::BatchNotSupported => {
                "invalid request: JSON-RPC batches are not supported"
            }
            ParseErrorKind::BadVersion => "invalid request: \"jsonrpc\" must be \"2.0\"",
            ParseErrorKind::BadId => "invalid request: \"id\" must be an integer or a string",
            ParseErrorKind::BadMethod => "invalid request: \"method\" must be a string",
            ParseErrorKind::BadParams => {
                "invalid request: \"params\" must be an object or an array"
            }
            ParseErrorKind::BadErrorObject => "invalid response: malformed \"error\" object",
            ParseErrorKind::NotAMessage => {
                "invalid request: no \"method\", \"result\" or \"error\" member"
            }
        }
    }
}

/// A frame that is not a JSON-RPC message. Carries the id when it could be read, so
/// the error response can be addressed to the right request.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    kind: ParseErrorKind,
    id: Option<RequestId>,
}

impl ParseError {
    /// Invalid JSON.
    pub fn invalid_json() -> Self {
        ParseError {
            kind: ParseErrorKind::InvalidJson,
            id: None,
        }
    }

    pub(crate) fn invalid(kind: ParseErrorKind, id: Option<RequestId>) -> Self {
        ParseError { kind, id }
    }

    /// What was wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The request id, when it could be read.
    pub fn id(&self) -> Option<&RequestId> {
        self.id.as_ref()
    }

    /// The JSON-RPC error object this failure is answered with.
    pub fn to_error_object(&self) -> ErrorObject {
        ErrorObject::new(self.kind.code(), self.kind.describe())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())
    }
}

impl std::error::Error for ParseError {}

/// Errors of the newline framing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The underlying stream failed; the stream is finished.
    #[error("I/O error on the framed stream")]
    Io(#[from] std::io::Error),
    /// An outbound frame is larger than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Size of the frame.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// An outbound frame contains a raw newline, which would split it on the wire.
    #[error("frame contains a raw newline")]
    EmbeddedNewline,
}
