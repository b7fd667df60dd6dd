//! Multi-round-trip requests (2026-07-28 replaces server → client requests with them).
//!
//! A server that needs sampling, elicitation or the client's roots to finish a request
//! answers with an [`InputRequiredResult`]: the requests it needs answered
//! ([`InputRequests`], keyed by server-chosen ids) and an opaque `requestState`. The
//! client runs each embedded request, then retries the original request with the same
//! params plus `inputResponses` (same keys, each value the result of that request) and
//! the `requestState` echoed unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::results::ResultType;
use crate::schema::common::{JsonObject, Meta};
use crate::schema::methods;

/// One request the server needs the client to fulfil: `sampling/createMessage`,
/// `elicitation/create` or `roots/list`, without the JSON-RPC envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRequest {
    /// The method (one of the three above).
    pub method: String,
    /// Its params (absent for a plain `roots/list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<JsonObject>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InputRequest {
    /// An input request for `method` with `params`.
    pub fn new(method: impl Into<String>, params: Option<JsonObject>) -> Self {
        InputRequest {
            method: method.into(),
            params,
            extra: Map::new(),
        }
    }

    /// True for the three methods 2026-07-28 allows in `inputRequests`.
    pub fn is_known_method(&self) -> bool {
        matches!(
            self.method.as_str(),
            methods::SAMPLING_CREATE_MESSAGE | methods::ELICITATION_CREATE | methods::ROOTS_LIST
        )
    }
}

/// `inputRequests`: server-chosen key → request.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// `inputResponses`: the same keys → the client's result for each request
/// (`CreateMessageResult`, `ElicitResult` or `ListRootsResult`).
pub type InputResponses = BTreeMap<String, Value>;

/// A result saying the request needs more input before it can complete.
/// At least one of `inputRequests` and `requestState` is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// [`ResultType::InputRequired`].
    pub result_type: ResultType,
    /// What the client must answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque server state to echo on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InputRequiredResult {
    /// An input-required result asking `requests`, with `state` to echo.
    pub fn new(requests: InputRequests, state: Option<String>) -> Self {
        InputRequiredResult {
            result_type: ResultType::InputRequired,
            input_requests: (!requests.is_empty()).then_some(requests),
            request_state: state,
            meta: None,
            extra: Map::new(),
        }
    }
}
