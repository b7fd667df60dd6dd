//! Multi-round-trip requests in the stateless era: a handler asks for sampling,
//! elicitation or roots through its [`RequestContext`](crate::RequestContext) exactly as
//! in the handshake era; here the ask does not travel as a request but ends the round.
//!
//! ```text
//!  round 1: tools/call ──▶ handler asks (key "user_name") ──▶ not answered yet
//!           ◀── {resultType: "input_required", inputRequests: {"user_name": …},
//!                requestState: seal(method, params digest, asked keys, answers so far)}
//!  round 2: tools/call + inputResponses {"user_name": …} + requestState
//!           ──▶ open(requestState) ──▶ handler runs again from the start; its ask
//!               "user_name" is answered from the responses ──▶ result (or round 3)
//! ```
//!
//! ## Keys
//!
//! Each ask has a key, the name its request and its answer travel under:
//! - a named ask (`ctx.elicit_as("user_name", …)`, `create_message_as`, `list_roots_as`)
//!   uses the handler's name — what a client or a test suite expecting fixed names sees;
//! - an unnamed ask (`ctx.elicit(…)`) gets the kind and the position of the ask among the
//!   handler's unnamed asks (`elicitation-1`, `sampling-2`, …), so a handler that asks in
//!   the same order every time (any deterministic handler) meets its earlier answers on
//!   every retry.
//!
//! A key may be used once per run: a second ask under the same key fails with
//! [`RequestError::DuplicateInputKey`]. Several asks in one round: make them all before
//! propagating the first `InputRequired` (`let a = ctx.elicit_as(..).await; let b =
//! ctx.list_roots_as(..).await; let (a, b) = (a?, b?);`) — every unanswered ask of the
//! run goes into the same input-required result. Later rounds (`step1`, then `step2`
//! asked once `step1` is answered) need nothing more: the handler simply asks again.
//!
//! ## Answers
//!
//! Earlier rounds' answers travel inside the sealed state, so the client cannot rewrite
//! them while keeping the state; a retry carrying a state may only answer the keys the
//! last round asked (other keys are ignored). A retry without a state is a fresh start
//! whose `inputResponses` answer whichever asks they name — the spec lets a server omit
//! `requestState`, and answering before being asked gives a client nothing it could not
//! get by answering each round. Keys nobody asks for are ignored. `inputResponses` that
//! is not an object, an answer that is not an object, or an answer that does not parse
//! as the result of its ask (an `ElicitResult` for an elicitation, …) refuses the
//! request with -32602 ([`ResponseError`]), whatever the handler made of it.
//!
//! Only `tools/call`, `prompts/get` and `resources/read` may end input-required; an ask
//! from any other handler fails with [`RequestError::InputNotAllowed`].
//!
//! ## The state
//!
//! `requestState` is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`
//! with a random per-server key: a state that does not verify, was issued for another
//! method or other params, or is older than the configured maximum age is refused with
//! -32602 before any handler runs ([`StateError`] says which, in the server's log only).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use erlmcp_codec::schema::modern::{InputRequest, InputRequests, InputResponses, RequestMeta};
use erlmcp_codec::schema::{InputRequiredResult, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
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

/// Why a request's `inputResponses` were refused. All of them answer -32602 on the wire,
/// with the offending key (if any) in `data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// `inputResponses` is present but not an object (e.g. `null`).
    #[error("inputResponses must be an object")]
    NotAnObject,
    /// The answer under this key is not an object (every input response is a result).
    #[error("inputResponses[{0:?}] must be an object")]
    AnswerNotAnObject(String),
    /// The answer under this key is not the result its ask expects.
    #[error("inputResponses[{key:?}] is not a {expected} result")]
    WrongShape {
        /// The key of the ask.
        key: String,
        /// The method the ask travels as (`elicitation/create`, …).
        expected: &'static str,
    },
}

impl ResponseError {
    /// The JSON-RPC error sent for this refusal.
    pub fn to_error_object(&self) -> ErrorObject {
        let error = ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("invalid {self}"));
        match self {
            ResponseError::NotAnObject => error,
            ResponseError::AnswerNotAnObject(key) | ResponseError::WrongShape { key, .. } => {
                error.with_data(json!({ "inputResponse": key }))
            }
        }
    }
}

/// Why a modern request was refused before its handler ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BeginError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Responses(#[from] ResponseError),
}

impl BeginError {
    pub(crate) fn to_error_object(&self) -> ErrorObject {
        match self {
            BeginError::State(e) => e.to_error_object(),
            BeginError::Responses(e) => e.to_error_object(),
        }
    }
}

/// The methods whose results may be input-required (2026-07-28, MRTR).
const INPUT_METHODS: &[&str] = &[
    methods::TOOLS_CALL,
    methods::PROMPTS_GET,
    methods::RESOURCES_READ,
];

/// Checks the shape of `inputResponses`: an object of objects.
pub(crate) fn checked_responses(
    responses: Option<Value>,
) -> Result<Map<String, Value>, ResponseError> {
    let responses = match responses {
        None => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(ResponseError::NotAnObject),
    };
    if let Some((key, _)) = responses.iter().find(|(_, answer)| !answer.is_object()) {
        return Err(ResponseError::AnswerNotAnObject(key.clone()));
    }
    Ok(responses)
}

/// The per-request half of a modern request: its validated `_meta`, the answers it
/// arrived with, and what its handler asked that nobody has answered yet.
pub(crate) struct ModernScope {
    pub(crate) meta: RequestMeta,
    method: String,
    digest: String,
    answers: InputResponses,
    /// Whether the request carried a `requestState` that verified.
    pub(crate) resumed: bool,
    asked: Mutex<InputRequests>,
    /// Keys this run of the handler used (named and generated).
    used: Mutex<BTreeSet<String>>,
    missing_capability: Mutex<Option<&'static str>>,
    bad_answer: Mutex<Option<ResponseError>>,
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

/// One ask of a handler, as [`ModernScope::ask`] takes it.
pub(crate) struct Ask<'a> {
    /// `sampling`, `elicitation` or `roots`.
    pub(crate) capability: &'static str,
    /// Whether this request declared that capability.
    pub(crate) declared: bool,
    /// The handler's name for the ask; `None` for a generated key.
    pub(crate) key: Option<&'a str>,
    /// The params of the request the ask travels as.
    pub(crate) params: Value,
}

impl ModernScope {
    /// Takes `inputResponses` and `requestState` out of `params` (the handler sees the
    /// params without them), checks the responses' shape and opens the state. A state
    /// that does not open, or malformed responses, refuse the request.
    pub(crate) fn begin(
        key: &StateKey,
        method: &str,
        meta: RequestMeta,
        params: &mut Map<String, Value>,
    ) -> Result<Self, BeginError> {
        let state = params.remove("requestState");
        let responses = checked_responses(params.remove("inputResponses"))?;
        let mut bound = params.clone();
        bound.remove("_meta");
        let digest = params_digest(&bound);
        let resumed = state.is_some();
        let answers = match state {
            Some(state) => {
                let state = state.as_str().ok_or(StateError::Malformed)?;
                let payload = key.open(state, method, &digest)?;
                let mut answers = payload.r;
                for (k, v) in responses {
                    if payload.a.contains(&k) {
                        answers.insert(k, v);
                    }
                }
                answers
            }
            // No state: a fresh start; the responses answer whatever asks they name.
            None => responses.into_iter().collect(),
        };
        Ok(ModernScope {
            meta,
            method: method.to_owned(),
            digest,
            answers,
            resumed,
            asked: Mutex::new(InputRequests::new()),
            used: Mutex::new(BTreeSet::new()),
            missing_capability: Mutex::new(None),
            bad_answer: Mutex::new(None),
            next_key: AtomicUsize::new(0),
        })
    }

    /// A handler's ask. Answered from this round's responses when the client already
    /// answered it; otherwise recorded (the request then ends input-required) and
    /// failed with [`RequestError::InputRequired`]. A capability the request did not
    /// declare fails with [`RequestError::CapabilityMissing`] and is remembered: the
    /// request then ends with -32021. An answer that does not parse as `R` fails with
    /// [`RequestError::InvalidResult`] and is remembered: the request ends with -32602.
    pub(crate) fn ask<R: DeserializeOwned>(&self, ask: Ask<'_>) -> Result<R, RequestError> {
        if !INPUT_METHODS.contains(&self.method.as_str()) {
            return Err(RequestError::InputNotAllowed(self.method.clone()));
        }
        if !ask.declared {
            *self.missing_capability.lock() = Some(ask.capability);
            return Err(RequestError::CapabilityMissing(ask.capability));
        }
        let key = match ask.key {
            Some(key) => key.to_owned(),
            None => {
                let n = self.next_key.fetch_add(1, Ordering::Relaxed) + 1;
                format!("{}-{n}", ask.capability)
            }
        };
        if !self.used.lock().insert(key.clone()) {
            return Err(RequestError::DuplicateInputKey(key));
        }
        let method = method_of(ask.capability);
        if let Some(answer) = self.answers.get(&key) {
            return serde_json::from_value(answer.clone()).map_err(|e| {
                self.bad_answer
                    .lock()
                    .get_or_insert(ResponseError::WrongShape {
                        key,
                        expected: method,
                    });
                RequestError::InvalidResult(e)
            });
        }
        let params = match ask.params {
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

    /// -32602 when an answer the handler met was not the result its ask expects.
    pub(crate) fn bad_answer(&self) -> Option<ErrorObject> {
        self.bad_answer.lock().as_ref().map(|e| e.to_error_object())
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

    fn ask<'a>(capability: &'static str, declared: bool, key: Option<&'a str>) -> Ask<'a> {
        Ask {
            capability,
            declared,
            key,
            params: json!({"message": "?"}),
        }
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
            scope.ask::<Value>(ask("elicitation", true, None)),
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
        let answer: Value = scope.ask(ask("elicitation", true, None)).expect("answered");
        assert_eq!(answer, json!({"action": "accept"}));
        // A key the last round did not ask was not accepted.
        assert!(scope.ask::<Value>(ask("sampling", true, None)).is_err());
        assert!(scope.input_required(&key).is_some());
    }

    #[test]
    fn forged_tampered_foreign_and_expired_states_are_refused() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        let _ = scope.ask::<Value>(ask("roots", true, None));
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
            Err(BeginError::State(StateError::BadSignature))
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
            Err(BeginError::State(StateError::BadSignature))
        );
        assert_eq!(
            open("garbage", "tools/call", args.clone()),
            Err(BeginError::State(StateError::Malformed))
        );
        assert_eq!(
            open(&state, "prompts/get", args.clone()),
            Err(BeginError::State(StateError::WrongRequest))
        );
        assert_eq!(
            open(&state, "tools/call", json!({"a": 3})),
            Err(BeginError::State(StateError::WrongRequest))
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
            Err(BeginError::State(StateError::Expired))
        );
        assert_eq!(StateError::Expired.to_error_object().code.code(), -32602);
    }

    #[test]
    fn undeclared_capability_becomes_32021() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        assert!(matches!(
            scope.ask::<Value>(ask("sampling", false, None)),
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

    #[test]
    fn named_keys_duplicates_and_methods_that_cannot_ask() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        // A named ask does not move the generated keys.
        let _ = scope.ask::<Value>(ask("elicitation", true, Some("user_name")));
        let _ = scope.ask::<Value>(ask("elicitation", true, None));
        assert!(matches!(
            scope.ask::<Value>(ask("roots", true, Some("user_name"))),
            Err(RequestError::DuplicateInputKey(k)) if k == "user_name"
        ));
        // A name that collides with a generated key is a duplicate too.
        assert!(matches!(
            scope.ask::<Value>(ask("sampling", true, Some("elicitation-1"))),
            Err(RequestError::DuplicateInputKey(_))
        ));
        let result = scope.input_required(&key).expect("asked");
        let keys: Vec<&String> = result["inputRequests"]
            .as_object()
            .expect("map")
            .keys()
            .collect();
        assert_eq!(keys, ["elicitation-1", "user_name"]);

        let mut p = params(json!({}));
        let scope =
            ModernScope::begin(&key, "completion/complete", meta(), &mut p).expect("no state");
        assert!(matches!(
            scope.ask::<Value>(ask("elicitation", true, Some("x"))),
            Err(RequestError::InputNotAllowed(m)) if m == "completion/complete"
        ));
        assert!(scope.input_required(&key).is_none());
    }

    #[test]
    fn responses_without_state_answer_and_malformed_ones_are_refused() {
        let key = StateKey::random(DEFAULT_STATE_MAX_AGE);
        let mut p = params(json!({"inputResponses": {
            "user_name": {"action": "accept", "content": {"name": "Ada"}},
            "unasked": {"anything": true},
        }}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("no state");
        let answer: erlmcp_codec::schema::ElicitResult = scope
            .ask(ask("elicitation", true, Some("user_name")))
            .expect("answered without a state");
        assert_eq!(
            answer.content.expect("content")["name"],
            erlmcp_codec::schema::ElicitValue::String("Ada".into())
        );
        assert!(scope.input_required(&key).is_none() && scope.bad_answer().is_none());

        let refused = |responses: Value| {
            let mut p = params(json!({ "inputResponses": responses }));
            ModernScope::begin(&key, "tools/call", meta(), &mut p).map(|_| ())
        };
        assert_eq!(
            refused(Value::Null),
            Err(BeginError::Responses(ResponseError::NotAnObject))
        );
        assert_eq!(
            refused(json!({"user_name": 12345})),
            Err(BeginError::Responses(ResponseError::AnswerNotAnObject(
                "user_name".into()
            )))
        );
        let err = ResponseError::AnswerNotAnObject("user_name".into()).to_error_object();
        assert_eq!(err.code.code(), -32602);
        assert_eq!(err.data, Some(json!({"inputResponse": "user_name"})));

        // An object that is not the result its ask expects: the handler gets an error
        // and the request is refused with -32602 naming the key.
        let mut p = params(json!({"inputResponses": {"roots": {"roots": "nope"}}}));
        let scope = ModernScope::begin(&key, "tools/call", meta(), &mut p).expect("shape ok");
        assert!(matches!(
            scope.ask::<erlmcp_codec::schema::ListRootsResult>(ask("roots", true, Some("roots"))),
            Err(RequestError::InvalidResult(_))
        ));
        let err = scope.bad_answer().expect("remembered");
        assert_eq!(err.code.code(), -32602);
        assert_eq!(err.data, Some(json!({"inputResponse": "roots"})));
    }
}
