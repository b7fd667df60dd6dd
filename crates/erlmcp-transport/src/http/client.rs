//! The Streamable HTTP client transport.
//!
//! Each frame the engine writes is POSTed on its own (a task per POST, so a long request
//! never holds up the next frame, e.g. the answer to a sampling request the server sends
//! while that request runs). `write_batch` returns once each frame's body has been handed
//! to its connection, which keeps the server's view of the order close to the engine's.
//!
//! What comes back feeds the reader: a JSON body, or the events of an SSE body. An SSE
//! stream that ends before the answer to its request is resumed with a GET carrying
//! `Last-Event-ID` (after the server's `retry:` delay). Once the `initialize` answer
//! passes by, the transport sends `Mcp-Session-Id` (from the answer's headers) and
//! `MCP-Protocol-Version` (from its result) on every later request, and opens the GET
//! stream for server-initiated messages (405 means the server has none; that is fine).
//!
//! A 404 for a known session means the server forgot it (restarted, deleted the session,
//! idle timeout): the transport initializes a new session itself and replays the request
//! that got the 404, once (`http/renew.rs`); the engine does not notice. Only when
//! that is off or the replay gets 404 again does the reader yield
//! [`TransportError::SessionExpired`], so the session ends with a typed reason.
//!
//! Every POST goes through the transport's [`CircuitBreaker`] (one per transport unless
//! [`HttpClientOptions::breaker`] shares one): a connection failure or a 5xx counts
//! against it, and while it is open a request fails at once with a JSON-RPC error
//! ([`UNREACHABLE`] in its `data`) without touching the network, so a dead server sees a
//! bounded number of attempts however often the caller retries. `close` sends DELETE.
//!
//! ## MCP 2026-07-28 requests
//! A request whose `params._meta` carries `io.modelcontextprotocol/protocolVersion` is
//! sent the 2026-07-28 way: no session id, `MCP-Protocol-Version` from its `_meta`,
//! `Mcp-Method`, `Mcp-Name` for the methods that have a name-shaped parameter, and
//! `Mcp-Param-*` for the `tools/call` arguments the tool's schema marks with
//! `x-mcp-header` (learnt from the `tools/list` answers that pass by; a listed tool with
//! invalid annotations is removed from the answer, as the transport rules require).
//! Values that are not plain ASCII go in the Base64 sentinel form. Its SSE answer is not
//! resumed, and `notifications/cancelled` for it is not sent: the transport closes the
//! request's response instead, which is the era's cancellation signal.
//!
//! Plain `http://` only: TLS is out of scope for this transport.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use erlmcp_flow::{BreakerConfig, CircuitBreaker, RetryPolicy};

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{ErrorCode, ErrorObject, ErrorResponse, Frame, Message, RequestId};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo, TransportKind};
use crate::error::TransportError;
use crate::http::body::ClientBody;
use crate::http::envelope::{self, Envelope};
use crate::http::mirror::{self, ParamHeader};
use crate::http::modern::META_PROTOCOL_VERSION;
use crate::http::server::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::http::sse::{SseItem, SseParser};

/// Frames received but not yet read by the engine before receiving waits.
const INBOUND_QUEUE: usize = 256;

/// The `data.transport` value of the JSON-RPC error a request gets when the server could
/// not be reached (connection failed, or the circuit breaker is open): `{"httpStatus": 0,
/// "transport": "unreachable"}`. See [`is_unreachable`].
pub const UNREACHABLE: &str = "unreachable";

/// True for the error a request gets when the server could not be reached at all (as
/// opposed to an answer from the server): worth retrying later.
pub fn is_unreachable(error: &ErrorObject) -> bool {
    error
        .data
        .as_ref()
        .and_then(|d| d.get("transport"))
        .and_then(|t| t.as_str())
        == Some(UNREACHABLE)
}

/// Options of an [`HttpClientTransport`].
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Largest inbound message (JSON body or SSE event) accepted (default 4 MiB); larger
    /// ones are reported as [`Frame::Oversized`].
    pub max_frame_bytes: usize,
    /// Open the GET stream for server-initiated messages after initialization (default
    /// true).
    pub open_get_stream: bool,
    /// Reconnection attempts for a dropped SSE stream before giving up (default 5).
    pub max_reconnect_attempts: u32,
    /// Reconnection delay when the server sent no `retry:` (default 1 s).
    pub default_retry: Duration,
    /// TCP connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Extra headers sent on every request (e.g. `Authorization`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Send DELETE for the session on close (default true).
    pub delete_on_close: bool,
    /// On a 404 for the session, initialize a new one and replay the request once
    /// (default true); when false the session ends with
    /// [`TransportError::SessionExpired`].
    pub reinitialize: bool,
    /// The circuit breaker every POST and renewal goes through; `None` (default): one of
    /// this transport's own with [`BreakerConfig::default`] (5 failures in 30 s).
    pub breaker: Option<CircuitBreaker>,
    /// Attempts and backoff of one session renewal (default 5 attempts, full jitter).
    pub retry: RetryPolicy,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        HttpClientOptions {
            max_frame_bytes: erlmcp_codec::DEFAULT_MAX_FRAME_BYTES,
            open_get_stream: true,
            max_reconnect_attempts: 5,
            default_retry: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            delete_on_close: true,
            reinitialize: true,
            breaker: None,
            retry: RetryPolicy::default(),
        }
    }
}

#[derive(Default)]
pub(crate) struct ClientState {
    pub(crate) session_id: Option<HeaderValue>,
    pub(crate) protocol_version: Option<HeaderValue>,
    initialize_id: Option<RequestId>,
    get_stream_started: bool,
    pub(crate) expired: bool,
    /// The task that opens the GET stream when told is running.
    get_waiter_spawned: bool,
    /// The GET stream loop is running now.
    pub(crate) get_stream_running: bool,
    /// The engine's `initialize` request, repeated to renew a forgotten session.
    pub(crate) initialize_frame: Option<Bytes>,
    /// Which session this is: bumped by every new handshake, so a 404 from an older
    /// session does not renew a newer one.
    pub(crate) generation: u64,
}

/// What the client keeps for 2026-07-28 requests.
#[derive(Default)]
struct ModernState {
    /// Each modern request in flight, cancelled to close its response.
    in_flight: HashMap<RequestId, CancellationToken>,
    /// Modern `tools/list` requests in flight: their answers teach `tool_headers`.
    tool_lists: HashSet<RequestId>,
    /// The `x-mcp-header` annotations of each tool listed so far.
    tool_headers: HashMap<String, Vec<ParamHeader>>,
}

/// A request to be sent the 2026-07-28 way.
struct ModernPost {
    id: RequestId,
    headers: Vec<(HeaderName, HeaderValue)>,
    cancel: CancellationToken,
}

pub(crate) struct ClientShared {
    pub(crate) http: Client<HttpConnector, ClientBody>,
    uri: Uri,
    pub(crate) options: HttpClientOptions,
    pub(crate) state: Mutex<ClientState>,
    modern: Mutex<ModernState>,
    inbound: mpsc::Sender<Result<Frame, TransportError>>,
    pub(crate) closed: CancellationToken,
    /// Tells the GET-stream task that the session is initialized.
    pub(crate) start_get: Notify,
    /// Guards every POST and renewal.
    pub(crate) breaker: CircuitBreaker,
    /// Held while a session is being renewed, so one 404 renews and the rest replay.
    pub(crate) renewing: tokio::sync::Mutex<()>,
}

/// A client transport speaking Streamable HTTP to one MCP endpoint.
pub struct HttpClientTransport {
    reader: HttpClientReader,
    writer: HttpClientWriter,
    info: TransportInfo,
}

impl std::fmt::Debug for HttpClientTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientTransport")
            .field("url", &self.info.peer)
            .finish()
    }
}

impl HttpClientTransport {
    /// A transport for the endpoint `url` (`http://host[:port]/path`). Nothing is sent
    /// until the engine writes its first frame.
    pub fn connect(url: &str, options: HttpClientOptions) -> Result<Self, TransportError> {
        let uri: Uri = url.parse().map_err(|_| TransportError::InvalidUrl {
            reason: "not a URL",
        })?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(TransportError::InvalidUrl {
                    reason: "https is not supported (no TLS in this transport)",
                });
            }
            _ => {
                return Err(TransportError::InvalidUrl {
                    reason: "scheme must be http",
                });
            }
        }
        if uri.authority().is_none() {
            return Err(TransportError::InvalidUrl { reason: "no host" });
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(options.connect_timeout));
        let http = Client::builder(TokioExecutor::new()).build(connector);
        let breaker = match &options.breaker {
            Some(shared) => shared.clone(),
            None => CircuitBreaker::new(format!("http {url}"), &BreakerConfig::default())
                .map_err(|e| TransportError::Io(std::io::Error::other(e.to_string())))?,
        };
        let (inbound, frames) = mpsc::channel(INBOUND_QUEUE);
        let closed = CancellationToken::new();
        let info = TransportInfo::new(TransportKind::Http, url, options.max_frame_bytes);
        let shared = Arc::new(ClientShared {
            http,
            uri,
            options,
            state: Mutex::new(ClientState::default()),
            modern: Mutex::new(ModernState::default()),
            inbound,
            closed: closed.clone(),
            start_get: Notify::new(),
            breaker,
            renewing: tokio::sync::Mutex::new(()),
        });
        Ok(HttpClientTransport {
            reader: HttpClientReader { frames, closed },
            writer: HttpClientWriter { shared },
            info,
        })
    }

    /// The session id the server issued, once initialized.
    pub fn session_id(&self) -> Option<String> {
        self.writer.shared.session_id()
    }

    /// The circuit breaker guarding this transport's requests.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.writer.shared.breaker
    }
}

impl Transport for HttpClientTransport {
    type Reader = HttpClientReader;
    type Writer = HttpClientWriter;

    fn info(&self) -> TransportInfo {
        self.info.clone()
    }

    fn split(self) -> (HttpClientReader, HttpClientWriter) {
        (self.reader, self.writer)
    }
}

/// The reading half of an [`HttpClientTransport`].
pub struct HttpClientReader {
    frames: mpsc::Receiver<Result<Frame, TransportError>>,
    closed: CancellationToken,
}

impl FrameReader for HttpClientReader {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        tokio::select! {
            biased;
            frame = self.frames.recv() => frame,
            () = self.closed.cancelled() => None,
        }
    }
}

/// The writing half of an [`HttpClientTransport`].
pub struct HttpClientWriter {
    shared: Arc<ClientShared>,
}

impl FrameWriter for HttpClientWriter {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        for frame in batch {
            self.shared.clone().post(frame.clone()).await?;
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        let shared = &self.shared;
        if shared.closed.is_cancelled() {
            return Ok(());
        }
        shared.closed.cancel();
        let session = shared.state.lock().session_id.clone();
        if let (true, Some(_)) = (shared.options.delete_on_close, session) {
            let request = shared.request(Method::DELETE, ClientBody::empty(), None);
            match tokio::time::timeout(Duration::from_secs(2), shared.http.request(request)).await {
                Ok(Ok(response)) if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
                    tracing::debug!("server does not allow session termination");
                }
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::debug!(error = %err, "DELETE failed"),
                Err(_) => tracing::debug!("DELETE timed out"),
            }
        }
        Ok(())
    }
}

/// Where an SSE stream is: the last event id seen and the server's retry delay.
#[derive(Default)]
struct Cursor {
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

pub(crate) fn hyper_error(err: impl std::error::Error + Send + Sync + 'static) -> TransportError {
    // Keep the kind of an I/O error in the chain (refused, reset, …) so
    // `is_disconnect` keeps meaning something.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return TransportError::Io(std::io::Error::new(io.kind(), err.to_string()));
        }
        source = cause.source();
    }
    TransportError::Io(std::io::Error::other(err))
}

/// One POSTed frame and what the transport needs to replay it after a renewal.
struct Outgoing {
    frame: Bytes,
    request_id: Option<RequestId>,
    /// The session generation it was sent under.
    generation: u64,
    /// A 2026-07-28 request: sent without the session id, with these mirrored headers,
    /// and never renewed (it belongs to no session).
    modern_headers: Option<Vec<(HeaderName, HeaderValue)>>,
}

impl ClientShared {
    pub(crate) fn session_id(&self) -> Option<String> {
        let state = self.state.lock();
        state
            .session_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// A request to the endpoint with the session headers known so far.
    pub(crate) fn request(
        &self,
        method: Method,
        body: ClientBody,
        last_event_id: Option<&str>,
    ) -> Request<ClientBody> {
        let mut request = Request::new(body);
        *request.method_mut() = method.clone();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        for (name, value) in &self.options.headers {
            headers.insert(name.clone(), value.clone());
        }
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(
                ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            );
        } else {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        {
            let state = self.state.lock();
            if let Some(id) = &state.session_id {
                headers.insert(MCP_SESSION_ID, id.clone());
            }
            if let Some(version) = &state.protocol_version {
                headers.insert(MCP_PROTOCOL_VERSION, version.clone());
            }
        }
        if let Some(value) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert(LAST_EVENT_ID, value);
        }
        request
    }

    /// POSTs one frame; returns once its body is on the way (or the POST failed).
    async fn post(self: Arc<Self>, frame: Bytes) -> Result<(), TransportError> {
        if self.closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        match self.classify_modern(&frame) {
            Modern::No => {}
            Modern::Swallow => return Ok(()),
            Modern::Request(post) => return self.post_modern(frame, post).await,
        }
        let envelope = envelope::peek(&frame);
        let (spawn_waiter, generation) = {
            let mut state = self.state.lock();
            if state.expired {
                return Err(TransportError::SessionExpired);
            }
            if let Envelope::Request {
                id,
                initialize: true,
            } = &envelope
            {
                // A new handshake starts a new session.
                *state = ClientState {
                    initialize_id: Some(id.clone()),
                    get_waiter_spawned: state.get_waiter_spawned,
                    get_stream_running: state.get_stream_running,
                    initialize_frame: Some(frame.clone()),
                    generation: state.generation + 1,
                    ..ClientState::default()
                };
            }
            (
                !std::mem::replace(&mut state.get_waiter_spawned, true),
                state.generation,
            )
        };
        if spawn_waiter && self.options.open_get_stream {
            // Spawned from here, not from where the initialize answer is seen: that code
            // runs inside the GET stream's own future.
            let shared = self.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = shared.start_get.notified() => shared.clone().standalone_stream().await,
                        () = shared.closed.cancelled() => return,
                    }
                }
            });
        }
        let request_id = match envelope {
            Envelope::Request { id, .. } => Some(id),
            _ => None,
        };
        let (ack_tx, ack_rx) = oneshot::channel();
        let outgoing = Outgoing {
            frame,
            request_id,
            generation,
            modern_headers: None,
        };
        tokio::spawn(self.clone().exchange(outgoing, ack_tx));
        let _ = ack_rx.await;
        Ok(())
    }

    /// Decides whether a frame is sent the 2026-07-28 way (see the module doc).
    fn classify_modern(&self, frame: &[u8]) -> Modern {
        #[derive(serde::Deserialize)]
        struct Peek {
            #[serde(default)]
            id: Option<serde_json::Value>,
            method: String,
            #[serde(default)]
            params: Option<serde_json::Value>,
        }
        let Ok(peek) = serde_json::from_slice::<Peek>(frame) else {
            return Modern::No;
        };
        let params = peek.params.as_ref();
        let version = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(META_PROTOCOL_VERSION))
            .and_then(serde_json::Value::as_str);
        let Some(id) = peek.id.as_ref().and_then(RequestId::from_value) else {
            // A notification: `notifications/cancelled` for a modern request closes its
            // response instead of being sent; other modern notifications are sent as is.
            if peek.method == "notifications/cancelled"
                && let Some(target) = params
                    .and_then(|p| p.get("requestId"))
                    .and_then(RequestId::from_value)
            {
                let cancel = self.modern.lock().in_flight.get(&target).cloned();
                if let Some(cancel) = cancel {
                    tracing::debug!(id = %target, "cancelled: closing the request's response");
                    cancel.cancel();
                    return Modern::Swallow;
                }
            }
            return Modern::No;
        };
        let Some(version) = version else {
            return Modern::No;
        };
        let mut headers: Vec<(String, String)> = vec![
            (MCP_PROTOCOL_VERSION.to_owned(), version.to_owned()),
            (mirror::MCP_METHOD.to_owned(), peek.method.clone()),
        ];
        if let Some(field) = mirror::name_field(&peek.method)
            && let Some(name) = params
                .and_then(|p| p.get(field))
                .and_then(serde_json::Value::as_str)
        {
            headers.push((mirror::MCP_NAME.to_owned(), mirror::encode_value(name)));
        }
        let mut modern = self.modern.lock();
        if peek.method == "tools/call"
            && let Some(tool) = params
                .and_then(|p| p.get("name"))
                .and_then(serde_json::Value::as_str)
            && let Some(annotated) = modern.tool_headers.get(tool)
        {
            let arguments = params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or_default();
            headers.extend(mirror::param_header_values(annotated, &arguments));
        }
        if peek.method == "tools/list" {
            modern.tool_lists.insert(id.clone());
        }
        let cancel = CancellationToken::new();
        modern.in_flight.insert(id.clone(), cancel.clone());
        let headers = headers
            .into_iter()
            .filter_map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                let value = HeaderValue::from_str(&value).ok()?;
                Some((name, value))
            })
            .collect();
        Modern::Request(ModernPost {
            id,
            headers,
            cancel,
        })
    }

    /// POSTs one 2026-07-28 request (see the module doc): without the session id, with the
    /// mirrored headers; cancelling its token closes the response, which cancels the
    /// request at the server.
    async fn post_modern(
        self: Arc<Self>,
        frame: Bytes,
        post: ModernPost,
    ) -> Result<(), TransportError> {
        let (ack_tx, ack_rx) = oneshot::channel();
        let ModernPost {
            id,
            headers,
            cancel,
        } = post;
        let outgoing = Outgoing {
            frame,
            request_id: Some(id.clone()),
            generation: self.state.lock().generation,
            modern_headers: Some(headers),
        };
        let shared = self.clone();
        tokio::spawn(async move {
            // Cancelling drops the request future and so its connection: the server sees
            // the response closed, which cancels the request there.
            tokio::select! {
                () = shared.clone().exchange(outgoing, ack_tx) => {}
                () = cancel.cancelled() => {}
            }
            shared.modern_done(&id);
        });
        let _ = ack_rx.await;
        Ok(())
    }

    /// Forgets a finished modern request.
    fn modern_done(&self, id: &RequestId) {
        let mut modern = self.modern.lock();
        modern.in_flight.remove(id);
        modern.tool_lists.remove(id);
    }

    /// Learns the `x-mcp-header` annotations from a modern `tools/list` answer, and
    /// removes the tools whose annotations are invalid. Returns the frame to deliver.
    fn learn_tools(&self, frame: Bytes) -> Bytes {
        let Envelope::Answer(Some(id)) = envelope::peek(&frame) else {
            return frame;
        };
        if !self.modern.lock().tool_lists.remove(&id) {
            return frame;
        }
        let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(&frame) else {
            return frame;
        };
        let Some(tools) = answer
            .get_mut("result")
            .and_then(|r| r.get_mut("tools"))
            .and_then(serde_json::Value::as_array_mut)
        else {
            return frame;
        };
        let before = tools.len();
        let mut learnt = Vec::new();
        tools.retain(|tool| {
            let name = tool.get("name").and_then(serde_json::Value::as_str).unwrap_or("");
            let schema = tool.get("inputSchema").cloned().unwrap_or_default();
            match mirror::param_headers(&schema) {
                Ok(headers) => {
                    learnt.push((name.to_owned(), headers));
                    true
                }
                Err(err) => {
                    tracing::warn!(tool = name, error = %err, "tool refused: invalid x-mcp-header annotation");
                    false
                }
            }
        });
        let removed = before - tools.len();
        {
            let mut modern = self.modern.lock();
            for (name, headers) in learnt {
                if headers.is_empty() {
                    modern.tool_headers.remove(&name);
                } else {
                    modern.tool_headers.insert(name, headers);
                }
            }
        }
        if removed == 0 {
            return frame;
        }
        serde_json::to_vec(&answer).map_or(frame, Bytes::from)
    }

    /// Runs one POST to its end: acknowledges the send, then reads the answer. A 404 for
    /// the session renews it and replays the frame once.
    async fn exchange(self: Arc<Self>, outgoing: Outgoing, ack: oneshot::Sender<()>) {
        let mut ack = Some(ack);
        let mut replayed = false;
        loop {
            let Some(response) = self.send(&outgoing, &mut ack).await else {
                return;
            };
            let is_initialize = outgoing.request_id.is_some()
                && outgoing.request_id == self.state.lock().initialize_id;
            let modern = outgoing.modern_headers.is_some();
            let forgotten = response.status() == StatusCode::NOT_FOUND
                && !modern
                && !is_initialize
                && self.state.lock().session_id.is_some();
            if forgotten && self.options.reinitialize && !replayed {
                drop(response);
                match self.renew(outgoing.generation).await {
                    Ok(()) => {
                        replayed = true;
                        continue;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "could not renew the HTTP session");
                        if let Some(id) = outgoing.request_id.clone() {
                            let why = format!("HTTP session lost and not renewed: {err}");
                            self.push_unreachable(id, &why).await;
                        }
                        return;
                    }
                }
            }
            self.handle_response(response, outgoing.request_id.clone(), modern)
                .await;
            return;
        }
    }

    /// POSTs `outgoing` through the breaker. `None` when there is no response to read:
    /// the breaker refused, the POST failed (the request got its error) or the transport
    /// closed. `ack` fires once the body is on the wire or the POST is over.
    async fn send(
        self: &Arc<Self>,
        outgoing: &Outgoing,
        ack: &mut Option<oneshot::Sender<()>>,
    ) -> Option<Response<Incoming>> {
        let permit = match self.breaker.acquire() {
            Ok(permit) => permit,
            Err(refused) => {
                if let Some(ack) = ack.take() {
                    let _ = ack.send(());
                }
                match outgoing.request_id.clone() {
                    Some(id) => {
                        let why = format!("server unreachable: {refused}");
                        self.push_unreachable(id, &why).await;
                    }
                    None => {
                        tracing::warn!(error = %refused, "notification or answer not sent: circuit open")
                    }
                }
                return None;
            }
        };
        let (sent_tx, mut sent) = oneshot::channel();
        let body = ClientBody::signalled(outgoing.frame.clone(), sent_tx);
        let mut request = self.request(Method::POST, body, None);
        if let Some(mirrored) = &outgoing.modern_headers {
            let headers = request.headers_mut();
            headers.remove(MCP_SESSION_ID);
            for (name, value) in mirrored {
                headers.insert(name.clone(), value.clone());
            }
        }
        let request_id = outgoing.request_id.clone();
        let response = self.http.request(request);
        tokio::pin!(response);
        let mut sent_done = false;
        let response = loop {
            tokio::select! {
                result = &mut response => break result,
                on_wire = &mut sent, if !sent_done => {
                    sent_done = true;
                    if on_wire.unwrap_or(false)
                        && let Some(ack) = ack.take()
                    {
                        let _ = ack.send(());
                    }
                }
                () = self.closed.cancelled() => return None,
            }
        };
        let response = match response {
            Ok(response) => {
                if response.status().is_server_error() {
                    permit.failure();
                } else {
                    permit.success();
                }
                response
            }
            Err(err) => {
                permit.failure();
                // HTTP has no connection to lose: a failed POST fails its own request (with
                // a JSON-RPC error the engine hands to the caller) and the session goes on,
                // so a server that comes back is usable again. A lost notification or
                // answer is only logged.
                let err = hyper_error(err);
                if let Some(ack) = ack.take() {
                    let _ = ack.send(());
                }
                match request_id {
                    Some(id) => {
                        tracing::debug!(error = %err, %id, "POST failed");
                        let why = format!("HTTP request failed: {err}");
                        self.push_unreachable(id, &why).await;
                    }
                    None => {
                        tracing::warn!(error = %err, "POST of a notification or answer failed; it is lost")
                    }
                }
                return None;
            }
        };
        if let Some(ack) = ack.take() {
            let _ = ack.send(());
        }
        Some(response)
    }

    async fn handle_response(
        self: &Arc<Self>,
        response: Response<Incoming>,
        request_id: Option<RequestId>,
        modern: bool,
    ) {
        let status = response.status();
        let is_initialize = request_id.is_some() && request_id == self.state.lock().initialize_id;
        if is_initialize
            && let Some(id) = response.headers().get(MCP_SESSION_ID)
            && crate::http::guard::is_session_id(id.as_bytes())
        {
            self.state.lock().session_id = Some(id.clone());
        }
        if status == StatusCode::NOT_FOUND
            && !modern
            && self.state.lock().session_id.is_some()
            && !is_initialize
        {
            self.expire().await;
            return;
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let Some(id) = request_id else {
            if status != StatusCode::ACCEPTED && !status.is_success() {
                tracing::warn!(%status, "server refused a notification or answer");
            }
            return;
        };
        if status.is_success() && content_type.starts_with("text/event-stream") {
            if modern {
                // 2026-07-28 streams are not resumable.
                let mut cursor = Cursor::default();
                if !self
                    .read_events(response.into_body(), Some(&id), &mut cursor)
                    .await
                {
                    self.fail_request(id, "the SSE stream ended without an answer")
                        .await;
                }
            } else {
                self.read_request_stream(response.into_body(), id).await;
            }
            return;
        }
        let body = match self.read_body(response.into_body()).await {
            Ok(body) => body,
            Err(()) => {
                self.fail_request(id, "could not read the answer body")
                    .await;
                return;
            }
        };
        if status == StatusCode::OK && content_type.starts_with("application/json") {
            self.receive(body).await;
            return;
        }
        // An error status: pass on the JSON-RPC error in the body if there is one,
        // addressed to this request; otherwise make one from the status.
        let mut scratch = body.to_vec();
        if let Ok(Message::Error(mut error)) = Message::parse(&mut scratch) {
            error.id = Some(id);
            self.push(Bytes::from(Message::Error(error).to_vec())).await;
            return;
        }
        let message = format!("HTTP {status} from the server");
        self.push_error(id, ErrorCode::INTERNAL_ERROR, &message, status.as_u16())
            .await;
    }

    async fn read_body(&self, body: Incoming) -> Result<Bytes, ()> {
        let limited =
            http_body_util::Limited::new(body, self.options.max_frame_bytes.saturating_add(1));
        match limited.collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) => {
                tracing::debug!(error = %err, "answer body not read");
                Err(())
            }
        }
    }

    /// Reads a request's SSE answer stream, resuming it with `Last-Event-ID` until the
    /// answer arrives or resuming is no longer possible.
    async fn read_request_stream(self: &Arc<Self>, body: Incoming, id: RequestId) {
        let mut cursor = Cursor::default();
        if self.read_events(body, Some(&id), &mut cursor).await {
            return;
        }
        let mut attempts = 0;
        while attempts < self.options.max_reconnect_attempts {
            let Some(last) = cursor.last_event_id.clone() else {
                break;
            };
            attempts += 1;
            self.pause(&cursor).await;
            if self.closed.is_cancelled() {
                return;
            }
            match self.open_get(Some(&last)).await {
                GetOutcome::Stream(body) => {
                    attempts = 0;
                    if self.read_events(body, Some(&id), &mut cursor).await {
                        return;
                    }
                }
                GetOutcome::Expired(generation) => {
                    // The answer died with the old session; it may have run, so it is
                    // not replayed. The session is renewed for what comes next.
                    self.renew_or_expire(generation).await;
                    self.fail_request(id, "the HTTP session was lost while the answer streamed")
                        .await;
                    return;
                }
                GetOutcome::Unsupported => break,
                GetOutcome::Failed => {}
            }
        }
        if !self.closed.is_cancelled() {
            self.fail_request(id, "the SSE stream ended without an answer")
                .await;
        }
    }

    async fn pause(&self, cursor: &Cursor) {
        let delay = cursor.retry.unwrap_or(self.options.default_retry);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = self.closed.cancelled() => {}
        }
    }

    /// Feeds every event of `body` to the reader; `true` once the answer to `waiting_for`
    /// arrived (the stream is then done).
    async fn read_events(
        self: &Arc<Self>,
        mut body: Incoming,
        waiting_for: Option<&RequestId>,
        cursor: &mut Cursor,
    ) -> bool {
        let mut parser = SseParser::new(self.options.max_frame_bytes);
        let mut items = Vec::new();
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                () = self.closed.cancelled() => return true,
            };
            let chunk = match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
                Some(Err(err)) => {
                    tracing::debug!(error = %err, "SSE stream broke");
                    return false;
                }
                None => return false,
            };
            parser.feed(&chunk, &mut items);
            let mut answered = false;
            for item in items.drain(..) {
                match item {
                    SseItem::Retry(ms) => cursor.retry = Some(Duration::from_millis(ms)),
                    SseItem::Oversized { len } => {
                        let _ = self.inbound.send(Ok(Frame::Oversized { len })).await;
                    }
                    SseItem::Event { id, data } => {
                        if id.is_some() {
                            cursor.last_event_id = id;
                        }
                        if data.is_empty() {
                            continue; // a priming event
                        }
                        let is_answer = waiting_for.is_some_and(|wanted| {
                            matches!(envelope::peek(&data), Envelope::Answer(Some(got)) if &got == wanted)
                        });
                        self.receive(data).await;
                        answered |= is_answer;
                    }
                }
            }
            if answered {
                return true;
            }
        }
    }

    /// One message from the server: noted if it answers `initialize` (or a modern
    /// `tools/list`), then queued.
    async fn receive(self: &Arc<Self>, frame: Bytes) {
        let frame = self.learn_tools(frame);
        let start_get = {
            let mut state = self.state.lock();
            let answers_initialize = state.initialize_id.is_some()
                && matches!(envelope::peek(&frame), Envelope::Answer(Some(ref id)) if Some(id) == state.initialize_id.as_ref());
            if answers_initialize {
                state.initialize_id = None;
                if let Some(version) = envelope::negotiated_version(&frame)
                    .and_then(|v| HeaderValue::from_str(&v).ok())
                {
                    state.protocol_version = Some(version);
                    let start = self.options.open_get_stream
                        && !state.get_stream_started
                        && state.session_id.is_some();
                    state.get_stream_started |= start;
                    start
                } else {
                    false
                }
            } else {
                false
            }
        };
        self.push(frame).await;
        if start_get {
            self.start_get.notify_one();
        }
    }

    async fn push(&self, frame: Bytes) {
        let item = if frame.len() > self.options.max_frame_bytes {
            Frame::Oversized { len: frame.len() }
        } else {
            Frame::Message(BytesMut::from(&frame[..]))
        };
        let _ = self.inbound.send(Ok(item)).await;
    }

    async fn push_error(&self, id: RequestId, code: ErrorCode, message: &str, status: u16) {
        let error = ErrorResponse {
            id: Some(id),
            error: ErrorObject::new(code, message)
                .with_data(serde_json::json!({ "httpStatus": status })),
        };
        self.push(Bytes::from(Message::Error(error).to_vec())).await;
    }

    async fn fail_request(&self, id: RequestId, why: &str) {
        self.push_error(id, ErrorCode::INTERNAL_ERROR, why, 0).await;
    }

    /// The request could not reach the server: an error the caller can recognise with
    /// [`is_unreachable`].
    async fn push_unreachable(&self, id: RequestId, why: &str) {
        let error = ErrorResponse {
            id: Some(id),
            error: ErrorObject::new(ErrorCode::INTERNAL_ERROR, why)
                .with_data(serde_json::json!({ "httpStatus": 0, "transport": UNREACHABLE })),
        };
        self.push(Bytes::from(Message::Error(error).to_vec())).await;
    }

    /// After a 404 on a stream: renews the session of `generation` if allowed (true when
    /// renewed); when not allowed, ends the session with
    /// [`TransportError::SessionExpired`]. A failed renewal leaves the session as it is:
    /// the next request's 404 tries again.
    async fn renew_or_expire(self: &Arc<Self>, generation: u64) -> bool {
        if !self.options.reinitialize {
            self.expire().await;
            return false;
        }
        match self.renew(generation).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(error = %err, "could not renew the HTTP session");
                false
            }
        }
    }

    /// The server no longer knows the session.
    async fn expire(&self) {
        {
            let mut state = self.state.lock();
            if state.expired {
                return;
            }
            state.expired = true;
            state.session_id = None;
        }
        tracing::info!("HTTP session expired (404)");
        let _ = self.inbound.send(Err(TransportError::SessionExpired)).await;
    }

    async fn open_get(&self, last_event_id: Option<&str>) -> GetOutcome {
        let generation = self.state.lock().generation;
        let Ok(permit) = self.breaker.acquire() else {
            return GetOutcome::Failed; // circuit open: not even tried
        };
        let request = self.request(Method::GET, ClientBody::empty(), last_event_id);
        let response = tokio::select! {
            response = self.http.request(request) => response,
            () = self.closed.cancelled() => return GetOutcome::Failed,
        };
        match response {
            Ok(response) => {
                let status = response.status();
                if status.is_server_error() {
                    permit.failure();
                } else {
                    permit.success();
                }
                let sse = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"));
                if status == StatusCode::OK && sse {
                    GetOutcome::Stream(response.into_body())
                } else if status == StatusCode::METHOD_NOT_ALLOWED {
                    GetOutcome::Unsupported
                } else if status == StatusCode::NOT_FOUND {
                    GetOutcome::Expired(generation)
                } else {
                    tracing::debug!(%status, "GET stream refused");
                    GetOutcome::Failed
                }
            }
            Err(err) => {
                permit.failure();
                tracing::debug!(error = %hyper_error(err), "GET stream failed");
                GetOutcome::Failed
            }
        }
    }

    /// The GET stream for server-initiated messages, reconnected (resuming) while the
    /// transport is open.
    async fn standalone_stream(self: Arc<Self>) {
        self.state.lock().get_stream_running = true;
        self.clone().standalone_stream_loop().await;
        self.state.lock().get_stream_running = false;
    }

    async fn standalone_stream_loop(self: Arc<Self>) {
        let mut cursor = Cursor::default();
        let mut failures = 0;
        while !self.closed.is_cancelled() {
            match self.open_get(cursor.last_event_id.clone().as_deref()).await {
                GetOutcome::Stream(body) => {
                    failures = 0;
                    if self.read_events(body, None, &mut cursor).await && self.closed.is_cancelled()
                    {
                        return;
                    }
                }
                GetOutcome::Unsupported => {
                    tracing::debug!("server offers no GET stream (405)");
                    return;
                }
                GetOutcome::Expired(generation) => {
                    if !self.renew_or_expire(generation).await {
                        return;
                    }
                    // A new session: its stream starts from the beginning.
                    cursor = Cursor::default();
                    continue;
                }
                GetOutcome::Failed => {
                    failures += 1;
                    if failures > self.options.max_reconnect_attempts {
                        tracing::debug!("GET stream given up");
                        return;
                    }
                }
            }
            self.pause(&cursor).await;
        }
    }
}

/// How a frame is sent.
enum Modern {
    /// The handshake-era way.
    No,
    /// Not at all (a cancellation that closed a modern request's response instead).
    Swallow,
    /// The 2026-07-28 way.
    Request(ModernPost),
}

enum GetOutcome {
    Stream(Incoming),
    Unsupported,
    /// 404: the server forgot the session of this generation.
    Expired(u64),
    Failed,
}
