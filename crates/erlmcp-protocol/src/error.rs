//! Errors of the protocol engines.
//!
//! - [`RequestError`]: an outbound request did not produce a result (the peer answered
//!   with a JSON-RPC error, it timed out, the session ended, the result was malformed).
//! - [`HandlerError`]: what a server or client handler returns to fail a request; the one
//!   mapping to a JSON-RPC error object is [`HandlerError::to_error_object`].
//! - [`SessionError`]: why a whole session ended abnormally.

use std::time::Duration;

use erlmcp_codec::{ErrorCode, ErrorObject};
use erlmcp_transport::TransportError;
use serde_json::Value;

/// An outbound request that produced no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The peer answered with a JSON-RPC error.
    #[error("peer answered with error {}: {}", .0.code, .0.message)]
    Rpc(ErrorObject),
    /// No answer within the timeout; `notifications/cancelled` was sent.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The session ended before the answer arrived.
    #[error("the session is closed")]
    SessionClosed,
    /// The parameters could not be serialised.
    #[error("request parameters could not be serialised")]
    InvalidParams(#[source] serde_json::Error),
    /// The peer's result does not have the expected shape.
    #[error("the peer's result does not match the expected type")]
    InvalidResult(#[source] serde_json::Error),
    /// The transport failed while connecting.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// The peer does not support this operation (capability not advertised).
    #[error("the peer did not advertise the `{0}` capability")]
    CapabilityMissing(&'static str),
    /// Stateless era: the client has not answered this yet; the request ends with an
    /// input-required result and the handler runs again when the client retries.
    #[error("input required from the client; the request will be retried with it")]
    InputRequired,
    /// Stateless era: the handler used the same input-request key twice in one run
    /// (each key names one ask; a second ask under it would get the first one's answer).
    #[error("input-request key `{0}` is already used by another ask of this request")]
    DuplicateInputKey(String),
    /// Stateless era: only `tools/call`, `prompts/get` and `resources/read` may answer
    /// with an input-required result; a handler of another method cannot ask the client.
    #[error("a `{0}` request cannot ask the client for input in the stateless era")]
    InputNotAllowed(String),
    /// The method does not exist in the era this client speaks (e.g.
    /// `resources/subscribe` in the stateless era).
    #[error("`{0}` does not exist in the protocol era of this session")]
    NotInEra(&'static str),
}

impl RequestError {
    /// The JSON-RPC error object, when the peer answered with one.
    pub fn rpc_error(&self) -> Option<&ErrorObject> {
        match self {
            RequestError::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// True for [`RequestError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, RequestError::Timeout(_))
    }
}

/// How a handler fails a request. Converted to a JSON-RPC error in one place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// The parameters are wrong (-32602).
    #[error("invalid params: {message}")]
    InvalidParams {
        /// What is wrong.
        message: String,
        /// Optional structured detail.
        data: Option<Value>,
    },
    /// The method exists in MCP but this endpoint does not offer it (-32601).
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// The named resource does not exist (-32002).
    #[error("resource not found: {uri}")]
    ResourceNotFound {
        /// The URI asked for.
        uri: String,
    },
    /// Something failed inside the handler (-32603).
    #[error("internal error: {0}")]
    Internal(String),
    /// A complete JSON-RPC error chosen by the handler.
    #[error("{0}")]
    Rpc(ErrorObject),
}

impl HandlerError {
    /// Invalid params with a message.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        HandlerError::InvalidParams {
            message: message.into(),
            data: None,
        }
    }

    /// An internal error with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        HandlerError::Internal(message.into())
    }

    /// The JSON-RPC error object sent to the peer.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            HandlerError::InvalidParams { message, data } => ErrorObject {
                code: ErrorCode::INVALID_PARAMS,
                message: message.clone(),
                data: data.clone(),
            },
            HandlerError::MethodNotFound(method) => ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("method not found: {method}"),
            ),
            HandlerError::ResourceNotFound { uri } => {
                ErrorObject::new(ErrorCode::RESOURCE_NOT_FOUND, "resource not found")
                    .with_data(serde_json::json!({ "uri": uri }))
            }
            HandlerError::Internal(message) => {
                ErrorObject::new(ErrorCode::INTERNAL_ERROR, message.clone())
            }
            HandlerError::Rpc(error) => error.clone(),
        }
    }
}

impl From<ErrorObject> for HandlerError {
    fn from(error: ErrorObject) -> Self {
        HandlerError::Rpc(error)
    }
}

impl From<RequestError> for HandlerError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Rpc(e) => HandlerError::Rpc(e),
            other => HandlerError::Internal(other.to_string()),
        }
    }
}

/// Why a session ended abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The transport failed.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// No `initialize` arrived within the init timeout.
    #[error("no initialize request within {0:?}")]
    InitTimeout(Duration),
    /// The peer let its outbound queue sit above the high watermark past the grace and
    /// was disconnected per the slow-consumer policy.
    #[error("slow consumer disconnected")]
    SlowConsumer,
    /// The flow-control configuration is invalid.
    #[error("invalid flow-control configuration")]
    InvalidConfig(#[source] erlmcp_flow::InvalidConfig),
    /// The client's `initialize` was answered with an error.
    #[error("initialization failed")]
    Initialize(#[source] RequestError),
    /// The server's session registry refused the session (the `max_sessions` limit); the
    /// connection was closed without being served.
    #[error("session refused by the registry")]
    Registry(#[source] erlmcp_registry::RegistryError),
}
