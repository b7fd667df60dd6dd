//! A light look at a JSON-RPC frame: its kind and id, without building the whole value.
//!
//! Streamable HTTP routes by JSON-RPC id (an answer goes to the HTTP exchange that carried
//! its request) and must notice the `initialize` exchange (it starts a session; its result
//! names the protocol version). That is all the transport reads of a message: params and
//! results are skipped (`IgnoredAny`), and no method other than `initialize` means
//! anything here.

use erlmcp_codec::RequestId;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// The method that opens a session.
pub(crate) const INITIALIZE: &str = "initialize";

/// What kind of JSON-RPC message a frame is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// A request: it will be answered with the same id.
    Request {
        /// Its id.
        id: RequestId,
        /// True for `initialize`.
        initialize: bool,
    },
    /// A notification.
    Notification,
    /// A result or an error answering the request with this id (`None`: an error whose
    /// request could not be identified).
    Answer(Option<RequestId>),
    /// Not a JSON-RPC message this transport can route.
    Unknown,
}

#[derive(Deserialize)]
struct Peek {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    result: Option<IgnoredAny>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

/// Classifies a frame.
pub(crate) fn peek(frame: &[u8]) -> Envelope {
    let Ok(peek) = serde_json::from_slice::<Peek>(frame) else {
        return Envelope::Unknown;
    };
    let id = peek.id.as_ref().and_then(RequestId::from_value);
    match (peek.method, id) {
        (Some(method), Some(id)) => Envelope::Request {
            id,
            initialize: method == INITIALIZE,
        },
        (Some(_), None) => Envelope::Notification,
        (None, id) if peek.result.is_some() || peek.error.is_some() => Envelope::Answer(id),
        _ => Envelope::Unknown,
    }
}

#[derive(Deserialize)]
struct InitializeAnswer {
    result: InitializeResultPeek,
}

#[derive(Deserialize)]
struct InitializeResultPeek {
    #[serde(rename = "protocolVersion")]
    protocol_version: String,
}

/// The `protocolVersion` of an `initialize` result, if `frame` is one.
pub(crate) fn negotiated_version(frame: &[u8]) -> Option<String> {
    serde_json::from_slice::<InitializeAnswer>(frame)
        .ok()
        .map(|a| a.result.protocol_version)
}

#[derive(Deserialize)]
struct ErrorPeek {
    error: ErrorCodePeek,
}

#[derive(Deserialize)]
struct ErrorCodePeek {
    code: i64,
}

/// The `error.code` of an error response, if `frame` is one.
pub(crate) fn error_code(frame: &[u8]) -> Option<i64> {
    serde_json::from_slice::<ErrorPeek>(frame)
        .ok()
        .map(|e| e.error.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_kind() {
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#),
            Envelope::Request {
                id: RequestId::Number(1),
                initialize: true
            }
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":"a","method":"tools/call"}"#),
            Envelope::Request {
                id: RequestId::from("a"),
                initialize: false
            }
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"x":[1,2]}}"#),
            Envelope::Notification
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":7,"result":{"deep":{"a":[{}]}}}"#),
            Envelope::Answer(Some(RequestId::Number(7)))
        );
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Envelope::Answer(None)
        );
        assert_eq!(peek(b"[1]"), Envelope::Unknown);
        assert_eq!(peek(b"not json"), Envelope::Unknown);
    }

    #[test]
    fn reads_error_codes() {
        assert_eq!(
            error_code(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}"#),
            Some(-32601)
        );
        assert_eq!(error_code(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#), None);
    }

    #[test]
    fn reads_the_negotiated_version() {
        let frame = br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}"#;
        assert_eq!(negotiated_version(frame).as_deref(), Some("2025-11-25"));
        assert_eq!(
            negotiated_version(br#"{"jsonrpc":"2.0","id":0,"error":{}}"#),
            None
        );
    }
}
