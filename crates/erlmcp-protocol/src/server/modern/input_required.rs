//! Multi-round-trip requests in the stateless era: a handler asks for sampling,
//! elicitation or roots through its [`RequestContext`](crate::RequestContext) exactly as
//! in the handshake era; here the ask does not travel as a request but ends the round.
//!
//! ```text
//!  round 1: tools/call ──▶ handler asks (key "elicitation-1") ──▶ not answered yet
//!           ◀── {resultType: "input_required", inputRequests: {"elicitation-1": …},
//!                requestState: seal(method, params digest, asked keys, answers so far)}
//!  round 2: tools/call + inputResponses {"elicitation-1": …} + requestState
//!           ──▶ open(requestState) ──▶ handler runs again from the start; its ask
//!               "elicitation-1" is answered from the responses ──▶ result (or round 3)
//! ```
//!
//! Keys are the kind and the position of the ask in the handler's run, so a handler
//! that asks in the same order every time (any deterministic handler) meets its earlier
//! answers on every retry. Earlier rounds' answers travel inside the sealed state, so
//! the client cannot rewrite them; a retry may only answer the keys the last round asked.
//!
//! `requestState` is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`
//! with a random per-server key: a state that does not verify, was issued for another
//! method or other params, or is older than the configured maximum age is refused with
//! -32602 before any handler runs ([`StateError`] says which, in the server's log only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use erlmcp_codec::schema::modern::{InputRequest, InputRequests, InputResponses, RequestMeta};
use erlmcp_codec::schema::{InputRequiredResult, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::RequestError;

type HmacSha256 = Hmac<Sha256>;

/// Longest a `requestState` stays valid by default (ten minutes: a user answering an
/// elicitation may take a while, but a state should not live forever).
pub const DEFAULT_STATE_MAX_AGE: Duration = Duration::from_secs(600);

/// Why a `requestState` was refused. All of them answer -32602 on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not two Base64 parts, or the payload is not the expected JSON.
    #[error("requestState is malformed")]
    Malformed,
    /// The MAC does not verify: the state was forged or altered.
    #[error("requestState failed verification")]
    BadSignature,
    /// The state was issued for another method or other params.
    #[error("requestState was issued for a different request")]
    WrongRequest,
    /// The state is older than the maximum age.
    #[error("requestState has expired")]
    Expired,
}

impl StateError {
    /// The one error sent for every refusal (the reason stays in the server's log).
    pub fn to_error_object(self) -> ErrorObject {
        ErrorObject::new(ErrorCode::INVALID_PARAMS, "invalid requestState")
    }
}

/// What the sealed state holds.
#[derive(Debug, Serialize, Deserialize)]
struct StatePayload {
    /// Format version.
    v: u8,
    /// The method the state was issued for.
    m: String,
    /// SHA-256 (hex) of the request's params without `_meta`, `inputResponses`,
    /// `requestState`.
    d: String,
    /// Issued at, seconds since the Unix epoch.
    t: u64,
    /// Keys the last round asked (the only ones a retry may answer).
    a: Vec<String>,
    /// Answers collected in earlier rounds.
    r: InputResponses,
}

/// The per-server key that seals `requestState`.
pub(crate) struct StateKey {
    key: [u8; 32],
    max_age: Duration,
}

impl StateKey {
    /// A fresh random key.
    pub(crate) fn random(max_age: Duration) -> Self {
        StateKey {
            key: rand::random(),
            max_age,
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    fn seal(&self, payload: &StatePayload) -> String {
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    fn open(&self, state: &str, method: &str, digest: &str) -> Result<StatePayload, StateError> {
        let (body, tag) = state.split_once('.').ok_or(StateError::Malformed)?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| StateError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StateError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&body);
        // Constant-time comparison.
        mac.verify_slice(&tag)
            .map_err(|_| StateError::BadSignature)?;
        let payload: StatePayload =
            serde_json::from_slice(&body).map_err(|_| StateError::Malformed)?;
        if payload.v != 1 || payload.m != method || payload.d != digest {
            return Err(StateError::WrongRequest);
        }
        let age = now_secs().saturating_sub(payload.t);
        if age > self.max_age.as_secs() {
            return Err(StateError::Expired);
        }
        Ok(payload)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes `value` with object keys sorted, whatever map type serde_json was built with.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The digest binding a state to its request: the params the handler sees.
fn params_digest(params: &Map<String, Value>) -> String {
    let mut text = String::new();
    canonical(&Value::Object(params.clone()), &mut text);
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The per-request half of a modern request: its validated `_meta`, the answers it
/// arrived with, and what its handler asked that nobody has answered yet.
pub(crate) struct ModernScope {
    pub(crate) meta: RequestMeta,
    method: String,
    digest: String,
    answers: InputResponses,
    asked: Mutex<InputRequests>,
    missing_capability: Mutex<Option<&'static str>>,
    next_key: AtomicUsize,
}

impl std::fmt::Debug for ModernScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModernScope")
            .field("method", &self.method)
            .field("answers", &self.answers.len())
            .finish()
    }
}

impl ModernScope {
    /// Takes `inputResponses` and `requestState` out of `params` (the handler sees the
    /// params without them) and opens the state. A state that does not open refuses
    /// the request; `inputResponses` without a state are ignored (nothing was asked).
    pub(crate) fn begin(
        key: &StateKey,
        method: &str,
        meta: RequestMeta,
        params: &mut Map<String, Value>,
    ) -> Result<Self, StateError> {
        let state = params.remove("requestState");
        let responses = params.remove("inputResponses");
        let mut bound = params.clone();
        bound.remove("_meta");
        let digest = params_digest(&bound);
        let mut answers = InputResponses::new();
        if let Some(state) = state {
            let state = state.as_str().ok_or(StateError::Malformed)?;
            let payload = key.open(state, method, &digest)?;
            answers = payload.r;
            if let Some(Value::Object(responses)) = responses {
                for (k, v) in responses {
                    if payload.a.contains(&k) {
                        answers.insert(k, v);
                    }
                }
            }
        }
        Ok(ModernScope {
            meta,
            method: method.to_owned(),
            digest,
            answers,
            asked: Mutex::new(InputRequests::new()),
            missing_capability: Mutex::new(None),
            next_key: AtomicUsize::new(0),
        })
    }

    /// A handler's ask. Answered from this round's responses when the client already
    /// answered it; otherwise recorded (the request then ends input-required) and
    /// failed with [`RequestError::InputRequired`]. A capability the request did not
    /// declare fails with [`RequestError::CapabilityMissing`] and is remembered: the
    /// request then ends with -32021.
    pub(crate) fn ask(
        &self,
        capability: &'static str,
        declared: bool,
        method: &str,
        params: Value,
    ) -> Result<Value, RequestError> {
        if !declared {
            *self.missing_capability.lock() = Some(capability);
            return Err(RequestError::CapabilityMissing(capability));
        }
        let n = self.next_key.fetch_add(1, Ordering::Relaxed) + 1;
        let key = format!("{capability}-{n}");
        if let Some(answer) = self.answers.get(&key) {
            return Ok(answer.clone());
        }
        let params = match params {
            Value::Object(map) if !map.is_empty() => Some(map),
            _ => None,
        };
        self.asked
            .lock()
            .insert(key, InputRequest::new(method, params));
        Err(RequestError::InputRequired)
    }

    /// The input-required result to send when the handler asked something unanswered.
    pub(crate) fn input_required(&self, key: &StateKey) -> Option<Value> {
        let asked = std::mem::take(&mut *self.asked.lock());
        if asked.is_empty() {
            return None;
        }
        let payload = StatePayload {
            v: 1,
            m: self.method.clone(),
            d: self.digest.clone(),
            t: now_secs(),
            a: asked.keys().cloned().collect(),
            r: self.answers.clone(),
        };
        let result = InputRequiredResult::new(asked, Some(key.seal(&payload)));
        serde_json::to_value(result).ok()
    }

    /// -32021 when the handler asked for a capability the request lacked.
    pub(crate) fn missing_capability(&self) -> Option<ErrorObject> {
        let capability = (*self.missing_capability.lock())?;
        Some(
            ErrorObject::new(
                ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                format!("this request requires the client's `{capability}` capability"),
            )
            .with_data(json!({ "requiredCapabilities": { capability: {} } })),
        )
    }
}

/// The method of the request each capability's ask travels as.
pub(crate) fn method_of(capability: &str) -> &'static str {
    match capability {
        "sampling" => methods::SAMPLING_CREATE_MESSAGE,
        "elicitation" => methods::ELICITATION_CREATE,
        _ => methods::ROOTS_LIST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use erlmcp_codec::schema::ClientCapabilities;

    fn meta() -> RequestMeta {
        RequestMeta::new("2026-07-28", ClientCapabilities::default())
    }

    fn params(extra: Value) -> Map<String, Value> {
        let mut p = json!({"name": "t", "arguments": {"b": 1, "a": 2}});
        if let (Value::Object(p), Value::Object(extra)) = (&mut p, extra) {
            p.extend(extra);
        }
        match p {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn ask_seal_and_resume() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        assert!(matches!(
            scope.ask(
                "elicitation",
                true,
                methods::ELICITATION_CREATE,
                json!({"message": "?"})
            ),
            Err(RequestError::InputRequired)
        ));
        let result = scope.input_required(&key).expect("input required");
        assert_eq!(result["resultType"], "input_required");
        let state = result["requestState"].as_str().expect("state").to_owned();
        assert!(result["inputRequests"]["elicitation-1"].is_object());

        // The retry answers and the ask is met; keys reordered in the params are the same request.
        let mut p = params(json!({
            "requestState": state,
            "inputResponses": {"elicitation-1": {"action": "accept"}, "sampling-9": {"x": 1}},
        }));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("opens");
        assert!(!p.contains_key("requestState") && !p.contains_key("inputResponses"));
        let answer = scope
            .ask("elicitation", true, methods::ELICITATION_CREATE, json!({}))
            .expect("answered");
        assert_eq!(answer, json!({"action": "accept"}));
        // A key the last round did not ask was not accepted.
        assert!(
            scope
                .ask("sampling", true, "sampling/createMessage", json!({}))
                .is_err()
        );
        assert!(scope.input_required(&key).is_some());
    }

    #[test]
    fn forged_tampered_foreign_and_expired_states_are_refused() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        let _ = scope.ask("roots", true, methods::ROOTS_LIST, json!({}));
        let state = scope.input_required(&key).expect("asked")["requestState"]
            .as_str()
            .expect("state")
            .to_owned();
        let open = |state: &str, method: &str, args: Value| {
            let mut p = params(json!({"requestState": state}));
            p.insert("arguments".into(), args);
            ModernScope::begin(&key, method, meta(), &mut p).map(|_| ())
        };
        let args = json!({"b": 1, "a": 2});
        assert_eq!(open(&state, "tools/call", args.clone()), Ok(()));
        // Another server's key: forged.
        let other = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({"requestState": state}));
        assert_eq!(
            ModernScope::begin(&other, "tools/call", meta(), &mut p).map(|_| ()),
            Err(StateError::BadSignature)
        );
        // Payload altered (answers injected), MAC kept.
        let (body, tag) = state.split_once('.').expect("two parts");
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("b64")).expect("json");
        payload["r"] = json!({"roots-1": {"roots": []}});
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("json"))
        );
        assert_eq!(
            open(&forged, "tools/call", args.clone()),
            Err(StateError::BadSignature)
        );
        assert_eq!(
            open("garbage", "tools/call", args.clone()),
            Err(StateError::Malformed)
        );
        assert_eq!(
            open(&state, "prompts/get", args.clone()),
            Err(StateError::WrongRequest)
        );
        assert_eq!(
            open(&state, "tools/call", json!({"a": 3})),
            Err(StateError::WrongRequest)
        );
        let expired = StateKey {
            key: key.key,
            max_age: Duration::ZERO,
        };
        let mut old: StatePayload =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("b64")).expect("json");
        old.t = now_secs().saturating_sub(5);
        let stale = expired.seal(&old);
        let mut p = params(json!({"requestState": stale}));
        assert_eq!(
            ModernScope::begin(&expired, "tools/call", meta(), &mut p).map(|_| ()),
            Err(StateError::Expired)
        );
        assert_eq!(StateError::Expired.to_error_object().code.code(), -32602);
    }

    #[test]
    fn undeclared_capability_becomes_32021() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        assert!(matches!(
            scope.ask(
                "sampling",
                false,
                methods::SAMPLING_CREATE_MESSAGE,
                json!({})
            ),
            Err(RequestError::CapabilityMissing("sampling"))
        ));
        let err = scope.missing_capability().expect("remembered");
        assert_eq!(err.code.code(), -32021);
        assert_eq!(
            err.data,
            Some(json!({"requiredCapabilities": {"sampling": {}}}))
        );
        assert!(scope.input_required(&key).is_none());
    }
}
