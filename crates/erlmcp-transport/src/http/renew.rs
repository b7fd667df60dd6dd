//! Re-initializing a Streamable HTTP session the server forgot (404), through the
//! transport's circuit breaker.
//!
//! MCP 2025-11-25 (transports, session management): a client that gets 404 for a request
//! carrying `Mcp-Session-Id` "MUST start a new session by sending a new
//! `InitializeRequest` without a session ID attached". The transport does that on the
//! engine's behalf, so a server restart or a deleted session costs the caller nothing:
//!
//! 1. the first 404 of a session *generation* wins the renewal (others wait on a mutex,
//!    then see the generation moved on and just replay);
//! 2. the `initialize` request the engine sent at the start is POSTed again without the
//!    session headers, through [`Retry`] and the transport's [`CircuitBreaker`] (a dead
//!    server sees at most `retry.max_attempts` POSTs per renewal, none while the breaker
//!    is open); its answer is read here (JSON or SSE) and never reaches the engine;
//! 3. the new `Mcp-Session-Id` and negotiated `MCP-Protocol-Version` replace the old ones,
//!    and `notifications/initialized` is POSTed, as the engine did the first time;
//! 4. the caller replays the request that got the 404, once.
//!
//! The engine keeps the server's first `initialize` result: a restarted server is assumed
//! to be the same server. Whatever lived in the old session on the server (subscriptions,
//! log level, tasks) is gone, as the spec says; the GET stream is reopened for the new one.
//!
//! This is the one place besides `initialize` where the transport speaks an MCP method
//! (`notifications/initialized`): the handshake has two steps and both must be redone.

use std::sync::Arc;

use bytes::Bytes;
use erlmcp_codec::{Message, RequestId};
use erlmcp_flow::{Retry, RetryError};
use http_body_util::BodyExt;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, StatusCode};

use crate::error::TransportError;
use crate::http::body::ClientBody;
use crate::http::client::ClientShared;
use crate::http::envelope::{self, Envelope};
use crate::http::server::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::http::sse::{SseItem, SseParser};

/// The second half of the handshake, sent after the renewed `initialize` succeeded.
const INITIALIZED: &[u8] = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Why a session could not be renewed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenewError {
    /// The engine never sent `initialize` on this transport: there is nothing to redo.
    #[error("no initialize request to repeat")]
    NoHandshake,
    /// The server could not be reached (connection refused, reset, timed out).
    #[error("server unreachable: {0}")]
    Unreachable(TransportError),
    /// The server answered, but not with a usable session (error status, no session id,
    /// a JSON-RPC error, no answer on the stream).
    #[error("server refused the new session: {0}")]
    Refused(String),
    /// The breaker refused the attempt(s) or they ran out.
    #[error("renewal gave up after {attempts} attempt(s): {last}")]
    GaveUp {
        /// Attempts made, refused ones included.
        attempts: u32,
        /// What the last one said.
        last: String,
    },
}

impl RenewError {
    /// Worth another attempt: the server may come back.
    fn is_transient(&self) -> bool {
        match self {
            RenewError::Unreachable(_) => true,
            RenewError::Refused(why) => why.starts_with("HTTP 5"),
            RenewError::NoHandshake | RenewError::GaveUp { .. } => false,
        }
    }
}

/// What a successful handshake brought back.
struct NewSession {
    session_id: HeaderValue,
    protocol_version: Option<HeaderValue>,
}

impl ClientShared {
    /// Makes sure the session that was current at `generation` has been replaced by a new
    /// one (renewing it unless another caller already did). `Ok` means: replay now.
    pub(crate) async fn renew(self: &Arc<Self>, generation: u64) -> Result<(), RenewError> {
        let _only_one = self.renewing.lock().await;
        let initialize = {
            let state = self.state.lock();
            if state.generation != generation {
                return Ok(()); // renewed while we waited
            }
            state.initialize_frame.clone()
        }
        .ok_or(RenewError::NoHandshake)?;
        let id = match envelope::peek(&initialize) {
            Envelope::Request { id, .. } => id,
            _ => return Err(RenewError::NoHandshake),
        };
        tracing::info!("HTTP session unknown to the server (404); initializing a new one");
        let retry = Retry::new(&self.options.retry)
            .map_err(|e| RenewError::Refused(format!("invalid retry policy: {e}")))?;
        let outcome = retry
            .run(
                &self.breaker,
                |_attempt| self.handshake(&initialize, &id),
                RenewError::is_transient,
            )
            .await;
        let new = match outcome {
            Ok(new) => new,
            Err(RetryError::Failed { last, .. }) => return Err(last),
            Err(RetryError::CircuitOpen { attempts, last }) => {
                return Err(RenewError::GaveUp {
                    attempts,
                    last: last.map_or_else(|| "circuit breaker open".to_owned(), |e| e.to_string()),
                });
            }
            Err(other) => {
                return Err(RenewError::GaveUp {
                    attempts: other.attempts(),
                    last: other.to_string(),
                });
            }
        };
        let start_get = {
            let mut state = self.state.lock();
            state.session_id = Some(new.session_id);
            state.protocol_version = new.protocol_version;
            state.generation += 1;
            state.expired = false;
            self.options.open_get_stream && !state.get_stream_running
        };
        self.post_initialized().await?;
        if start_get {
            self.start_get.notify_one();
        }
        tracing::info!(session = ?self.session_id(), "HTTP session re-initialized");
        Ok(())
    }

    /// One `initialize` exchange with no session headers; reads its answer here.
    async fn handshake(
        &self,
        initialize: &Bytes,
        id: &RequestId,
    ) -> Result<NewSession, RenewError> {
        let mut request = self.request(Method::POST, ClientBody::full(initialize.clone()), None);
        // A new session starts without the old one's headers. (They stay in the state
        // meanwhile: requests sent during the renewal get 404 and replay after it.)
        request.headers_mut().remove(MCP_SESSION_ID);
        request.headers_mut().remove(MCP_PROTOCOL_VERSION);
        let response = tokio::select! {
            response = self.http.request(request) => response,
            () = self.closed.cancelled() => return Err(RenewError::Refused("transport closed".to_owned())),
        }
        .map_err(|e| RenewError::Unreachable(crate::http::client::hyper_error(e)))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(RenewError::Refused(format!("HTTP {status} to initialize")));
        }
        let session_id = response
            .headers()
            .get(MCP_SESSION_ID)
            .filter(|v| crate::http::guard::is_session_id(v.as_bytes()))
            .cloned()
            .ok_or_else(|| {
                RenewError::Refused("no valid Mcp-Session-Id on the answer".to_owned())
            })?;
        let sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"));
        let answer = if sse {
            self.answer_on_stream(response.into_body(), id).await?
        } else {
            let limited = http_body_util::Limited::new(
                response.into_body(),
                self.options.max_frame_bytes.saturating_add(1),
            );
            limited
                .collect()
                .await
                .map_err(|e| RenewError::Refused(format!("answer not read: {e}")))?
                .to_bytes()
        };
        let mut scratch = answer.to_vec();
        match Message::parse(&mut scratch) {
            Ok(Message::Response(_)) => {}
            Ok(Message::Error(error)) => {
                return Err(RenewError::Refused(format!(
                    "initialize answered with error {}: {}",
                    error.error.code, error.error.message
                )));
            }
            _ => {
                return Err(RenewError::Refused(
                    "initialize answer unreadable".to_owned(),
                ));
            }
        }
        let protocol_version =
            envelope::negotiated_version(&answer).and_then(|v| HeaderValue::from_str(&v).ok());
        Ok(NewSession {
            session_id,
            protocol_version,
        })
    }

    /// Reads an SSE answer stream until the event answering `id`.
    async fn answer_on_stream(
        &self,
        mut body: hyper::body::Incoming,
        id: &RequestId,
    ) -> Result<Bytes, RenewError> {
        let mut parser = SseParser::new(self.options.max_frame_bytes);
        let mut items = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| RenewError::Unreachable(crate::http::client::hyper_error(e)))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            parser.feed(&chunk, &mut items);
            for item in items.drain(..) {
                if let SseItem::Event { data, .. } = item
                    && matches!(envelope::peek(&data), Envelope::Answer(Some(ref got)) if got == id)
                {
                    return Ok(data);
                }
            }
        }
        Err(RenewError::Refused(
            "the initialize stream ended without an answer".to_owned(),
        ))
    }

    /// `notifications/initialized` on the new session.
    async fn post_initialized(&self) -> Result<(), RenewError> {
        let request = self.request(
            Method::POST,
            ClientBody::full(Bytes::from_static(INITIALIZED)),
            None,
        );
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| RenewError::Unreachable(crate::http::client::hyper_error(e)))?;
        if !response.status().is_success() {
            return Err(RenewError::Refused(format!(
                "HTTP {} to notifications/initialized",
                response.status()
            )));
        }
        Ok(())
    }
}
