//! The client's side of the stateless era (MCP 2026-07-28).
//!
//! ```text
//!  ClientMode::Legacy ─▶ initialize / notifications/initialized (handshake era)
//!  ClientMode::Modern ─▶ server/discover ─▶ must list 2026-07-28, else the connect fails
//!  ClientMode::Auto   ─▶ server/discover ─┬─ lists 2026-07-28 ─▶ stateless
//!                                        └─ any error, timeout, unusable answer ─▶ initialize
//! ```
//!
//! In the stateless era every request carries the client's `_meta` (version,
//! capabilities, client info, the log level if one was set), and a result with
//! `resultType: "input_required"` is answered with the same sampling, elicitation and
//! roots handlers the handshake era uses, then the request is retried with
//! `inputResponses` and the server's `requestState`, up to [`MAX_INPUT_ROUNDS`] times.

use erlmcp_codec::schema::modern::{
    DiscoverResult, InputRequests, InputRequiredResult, InputResponses, RequestMeta,
};
use erlmcp_codec::schema::{
    ClientCapabilities, Implementation, LoggingLevel, ProtocolVersion, methods,
};
use erlmcp_codec::{ErrorCode, ErrorObject};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::ClientRole;
use crate::error::{HandlerError, RequestError};

/// How a client picks the protocol era when it connects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientMode {
    /// The `initialize` handshake (2024-11-05 … 2025-11-25). The default.
    #[default]
    Legacy,
    /// Stateless 2026-07-28 only: `server/discover` must succeed and list it.
    Modern,
    /// Probe with `server/discover`; use the stateless era when the server lists a
    /// version this client speaks, fall back to `initialize` on anything else (any
    /// error code, a timeout, an unusable answer) — as the MCP SDKs' `auto` does.
    Auto,
}

/// Input-required rounds one request may take before the client gives up.
pub const MAX_INPUT_ROUNDS: usize = 8;

/// What a stateless client stamps on each request.
pub(crate) struct ModernState {
    pub(crate) version: ProtocolVersion,
    pub(crate) capabilities: ClientCapabilities,
    pub(crate) info: Implementation,
    pub(crate) log_level: Mutex<Option<LoggingLevel>>,
    pub(crate) discover: DiscoverResult,
}

/// The `_meta` of a stateless request at `version`.
pub(crate) fn request_meta(
    version: ProtocolVersion,
    capabilities: &ClientCapabilities,
    info: &Implementation,
    log_level: Option<LoggingLevel>,
) -> Value {
    let mut meta = RequestMeta::new(version.as_str(), capabilities.clone());
    meta.client_info = Some(info.clone());
    meta.log_level = log_level;
    serde_json::to_value(meta).unwrap_or_else(|_| json!({}))
}

/// Merges the stateless `_meta` keys into `params` (keeping keys already there, such
/// as a progress token).
pub(crate) fn stamp(params: Value, meta: &Value) -> Value {
    let mut params = match params {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let slot = params
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let (Value::Object(slot), Value::Object(meta)) = (slot, meta) {
        for (k, v) in meta {
            slot.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Value::Object(params)
}

/// Whether `result` asks for input.
pub(crate) fn is_input_required(result: &Value) -> bool {
    result.get("resultType").and_then(Value::as_str) == Some("input_required")
}

fn handler_error(error: HandlerError) -> RequestError {
    RequestError::Rpc(error.to_error_object())
}

/// Answers every request of an input-required result with the client's handlers.
pub(crate) async fn answer(
    role: &ClientRole,
    result: Value,
) -> Result<(InputResponses, Option<String>), RequestError> {
    let pending: InputRequiredResult =
        serde_json::from_value(result).map_err(RequestError::InvalidResult)?;
    let responses = answer_requests(role, pending.input_requests.unwrap_or_default()).await?;
    Ok((responses, pending.request_state))
}

/// Runs the client's handler for each input request (an input-required result's, or an
/// `input_required` task's) and collects the answers under the requests' keys.
pub(crate) async fn answer_requests(
    role: &ClientRole,
    requests: InputRequests,
) -> Result<InputResponses, RequestError> {
    let mut responses = InputResponses::new();
    for (key, request) in requests {
        let params = Value::Object(request.params.unwrap_or_default());
        let answer = match request.method.as_str() {
            methods::SAMPLING_CREATE_MESSAGE => {
                let Some(handler) = &role.sampling else {
                    return Err(RequestError::CapabilityMissing("sampling"));
                };
                let params = serde_json::from_value(params).map_err(RequestError::InvalidResult)?;
                let result = handler(params).await.map_err(handler_error)?;
                serde_json::to_value(result).map_err(RequestError::InvalidParams)?
            }
            methods::ELICITATION_CREATE => {
                let Some(handler) = &role.elicitation else {
                    return Err(RequestError::CapabilityMissing("elicitation"));
                };
                let params = serde_json::from_value(params).map_err(RequestError::InvalidResult)?;
                let result = handler(params).await.map_err(handler_error)?;
                serde_json::to_value(result).map_err(RequestError::InvalidParams)?
            }
            methods::ROOTS_LIST => {
                let Some(roots) = &role.roots else {
                    return Err(RequestError::CapabilityMissing("roots"));
                };
                let roots = roots.read().clone();
                json!({ "roots": roots })
            }
            other => {
                return Err(RequestError::Rpc(ErrorObject::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("the server asked for unknown input `{other}`"),
                )));
            }
        };
        responses.insert(key, answer);
    }
    Ok(responses)
}

/// Params of the retry: the original ones plus the answers and the echoed state.
pub(crate) fn retry_params(
    original: &Value,
    responses: InputResponses,
    state: Option<String>,
) -> Value {
    let mut params = original.clone();
    if let Value::Object(map) = &mut params {
        map.insert("inputResponses".into(), json!(responses));
        match state {
            Some(state) => {
                map.insert("requestState".into(), Value::String(state));
            }
            None => {
                map.remove("requestState");
            }
        }
    }
    params
}
