//! The JSON-RPC 2.0 envelope: requests, notifications, responses and error responses.
//!
//! Classification follows the JSON-RPC 2.0 specification as MCP profiles it:
//!
//! | object has            | it is                                   |
//! |-----------------------|-----------------------------------------|
//! | `method` + `id`       | [`Request`] (id is a number or a string) |
//! | `method`, no `id`     | [`Notification`]                         |
//! | `result` + `id`       | [`Response`]                             |
//! | `error`               | [`ErrorResponse`] (`id` may be `null`)   |
//!
//! Anything else is an invalid request (-32600); bytes that are not JSON are a parse
//! error (-32700). [`Message::parse`] never panics on any input: the failure is a
//! [`ParseError`] that already knows the JSON-RPC error it must be answered with.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, ErrorObject, ParseError, ParseErrorKind};

/// The only JSON-RPC version string erlmcp speaks.
pub const JSONRPC_VERSION: &str = "2.0";

/// A request id: JSON-RPC allows numbers and strings (MCP forbids `null` on requests).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id (the form erlmcp allocates itself).
    Number(i64),
    /// A string id, kept exactly as the peer sent it.
    String(Arc<str>),
}

impl RequestId {
    /// Reads an id out of a JSON value; `None` for `null`, floats, booleans, objects, arrays.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(RequestId::Number),
            Value::String(s) => Some(RequestId::String(Arc::from(s.as_str()))),
            _ => None,
        }
    }

    /// The id as a JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            RequestId::Number(n) => Value::from(*n),
            RequestId::String(s) => Value::from(s.as_ref()),
        }
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(Arc::from(s))
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Number(n) => serializer.serialize_i64(*n),
            RequestId::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        RequestId::from_value(&value)
            .ok_or_else(|| de::Error::custom("request id must be an integer or a string"))
    }
}

/// A request: the peer expects exactly one [`Response`] or [`ErrorResponse`] with this id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the answer must carry.
    pub id: RequestId,
    /// The method name, e.g. `tools/call`.
    pub method: String,
    /// The parameters; MCP always uses an object when present.
    pub params: Option<Value>,
}

/// A notification: no answer is ever sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name, e.g. `notifications/progress`.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

/// A successful answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result object.
    pub result: Value,
}

/// A failed answer to a request. `id` is `None` (`null` on the wire) only when the
/// request's id could not be read, i.e. on parse errors and unreadable envelopes.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    /// The id of the request this answers, if it could be read.
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

/// Any JSON-RPC 2.0 message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Message {
    /// Parses one frame (one JSON text) with the crate's JSON back end
    /// (serde_json, or simd-json with the `simd` feature).
    ///
    /// The buffer is mutable because simd-json parses in place; with serde_json it is only read.
    pub fn parse(frame: &mut [u8]) -> Result<Message, ParseError> {
        let value = crate::json::parse_value(frame)?;
        Message::from_value(value)
    }

    /// Classifies an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Message, ParseError> {
        let mut object = match value {
            Value::Object(object) => object,
            Value::Array(_) => {
                return Err(ParseError::invalid(ParseErrorKind::BatchNotSupported, None));
            }
            _ => return Err(ParseError::invalid(ParseErrorKind::NotAnObject, None)),
        };
        // Read the id first so that every later complaint can be addressed to it.
        let raw_id = object.remove("id");
        let id = match &raw_id {
            None | Some(Value::Null) => None,
            Some(v) => match RequestId::from_value(v) {
                Some(id) => Some(id),
                None => return Err(ParseError::invalid(ParseErrorKind::BadId, None)),
            },
        };
        match object.remove("jsonrpc") {
            Some(Value::String(v)) if v == JSONRPC_VERSION => {}
            _ => return Err(ParseError::invalid(ParseErrorKind::BadVersion, id)),
        }
        if let Some(method) = object.remove("method") {
            let Value::String(method) = method else {
                return Err(ParseError::invalid(ParseErrorKind::BadMethod, id));
            };
            let params = match object.remove("params") {
                None => None,
                Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
                Some(_) => return Err(ParseError::invalid(ParseErrorKind::BadParams, id)),
            };
            return Ok(match (raw_id, id) {
                (None, _) => Message::Notification(Notification { method, params }),
                (Some(_), Some(id)) => Message::Request(Request { id, method, params }),
                // `"id": null` on a request: MCP forbids it.
                (Some(_), None) => {
                    return Err(ParseError::invalid(ParseErrorKind::BadId, None));
                }
            });
        }
        if let Some(error) = object.remove("error") {
            let error: ErrorObject = serde_json::from_value(error)
                .map_err(|_| ParseError::invalid(ParseErrorKind::BadErrorObject, id.clone()))?;
            return Ok(Message::Error(ErrorResponse { id, error }));
        }
        if let Some(result) = object.remove("result") {
            let Some(id) = id else {
                return Err(ParseError::invalid(ParseErrorKind::BadId, None));
            };
            return Ok(Message::Response(Response { id, result }));
        }
        Err(ParseError::invalid(ParseErrorKind::NotAMessage, id))
    }

    /// Serialises the message as one compact JSON text (no trailing newline).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write_to(&mut out);
        out
    }

    /// Writes the message as compact JSON onto the end of `out`.
    ///
    /// The same bytes as its `Serialize` impl through serde_json; requests, notifications
    /// and results are written by [`json::write_value`](crate::json::write_value), which
    /// escapes the (often large) strings inside them much faster than serde_json.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        use crate::json::{write_str, write_value};
        out.extend_from_slice(br#"{"jsonrpc":"2.0","#);
        match self {
            Message::Request(r) => {
                out.extend_from_slice(br#""id":"#);
                write_id(out, &r.id);
                out.extend_from_slice(br#","method":"#);
                write_str(out, &r.method);
                if let Some(params) = &r.params {
                    out.extend_from_slice(br#","params":"#);
                    write_value(out, params);
                }
            }
            Message::Notification(n) => {
                out.extend_from_slice(br#""method":"#);
                write_str(out, &n.method);
                if let Some(params) = &n.params {
                    out.extend_from_slice(br#","params":"#);
                    write_value(out, params);
                }
            }
            Message::Response(r) => {
                out.extend_from_slice(br#""id":"#);
                write_id(out, &r.id);
                out.extend_from_slice(br#","result":"#);
                write_value(out, &r.result);
            }
            Message::Error(e) => {
                out.extend_from_slice(br#""id":"#);
                match &e.id {
                    Some(id) => write_id(out, id),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(br#","error":"#);
                // Writing into a Vec never fails and the error object has only string keys.
                let _ = serde_json::to_writer(&mut *out, &e.error);
            }
        }
        out.push(b'}');
    }
}

fn write_id(out: &mut Vec<u8>, id: &RequestId) {
    match id {
        // Writing an integer into a Vec cannot fail.
        RequestId::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        RequestId::String(s) => crate::json::write_str(out, s),
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(r) => r.serialize(serializer),
            Message::Notification(n) => n.serialize(serializer),
            Message::Response(r) => r.serialize(serializer),
            Message::Error(e) => e.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Message::from_value(value).map_err(de::Error::custom)
    }
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("method", &self.method)?;
        if let Some(params) = &self.params {
            map.serialize_entry("params", params)?;
        }
        map.end()
    }
}

impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("method", &self.method)?;
        if let Some(params) = &self.params {
            map.serialize_entry("params", params)?;
        }
        map.end()
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("result", &self.result)?;
        map.end()
    }
}

impl Serialize for ErrorResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

impl ErrorResponse {
    /// An error response for `id` with the given code and message.
    pub fn new(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorResponse {
            id,
            error: ErrorObject::new(code, message),
        }
    }
}

impl From<ParseError> for ErrorResponse {
    fn from(err: ParseError) -> Self {
        ErrorResponse {
            id: err.id().cloned(),
            error: err.to_error_object(),
        }
    }
}

impl Request {
    /// The params as an object map (MCP params are always objects); `None` when absent.
    pub fn params_object(&self) -> Option<&Map<String, Value>> {
        self.params.as_ref().and_then(Value::as_object)
    }
}
