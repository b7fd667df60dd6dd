//! The Streamable HTTP server: one endpoint, POST / GET / DELETE, sessions handed to the
//! protocol engine as transports.
//!
//! [`HttpListener::bind`] starts serving connections (hyper, HTTP/1.1) at once; each
//! `initialize` POST without a session id creates a session, which
//! [`accept`](HttpListener::accept) yields as an [`HttpSessionTransport`] for
//! `erlmcp_protocol::Server::serve`. Later POSTs with the session's `Mcp-Session-Id` feed
//! its reader; what the engine writes is routed back by JSON-RPC id (see
//! the session module).
//!
//! Every request passes the same gate, in this order (the first failure answers):
//!
//! | check | failure |
//! |---|---|
//! | listener shutting down (new sessions, requests, GET streams) | 503 |
//! | a header `erlmcp-security` refuses (CR, LF, NUL, other control bytes; sizes) | 400 |
//! | `Host` missing / not allowed; `Origin` present and not allowed | 400 / 403 |
//! | path is not the endpoint | 404 |
//! | method is not POST, GET or DELETE | 405 + `Allow` |
//! | POST `Accept` lacks `application/json` or `text/event-stream`; GET lacks the latter | 406 |
//! | POST `Content-Type` is not `application/json` | 415 |
//! | body larger than `max_body_bytes` | 413 |
//! | body not JSON (-32700) or not a JSON-RPC message (-32600) | 400 + JSON-RPC error |
//! | no `Mcp-Session-Id` on anything but an `initialize` POST | 400 |
//! | unknown or ended session | 404 |
//! | `MCP-Protocol-Version` not supported (absent = `2025-03-26`) | 400 |
//! | a request id already in flight in the session | 400 + JSON-RPC error |
//!
//! A POST of the 2026-07-28 era (see [`modern`]) takes another path after
//! the body is parsed: no session; its mirrored headers must match the body (400 +
//! -32020); `max_exchanges` in flight at most (503); then the engine's answer decides the
//! status (404 for -32601, 400 for -32600/-32602/-32020/-32021/-32022, else 200). With
//! [`EraPolicy::ModernOnly`] every method but POST gets 405 (`Allow: POST`).
//!
//! A POST carrying a notification or an answer gets 202 with no body once the session
//! queued it; a POST carrying a request gets its answer as JSON or as an SSE stream
//! ([`ResponseMode`]).
//!
//! Sessions are routed by `Mcp-Session-Id` through an `erlmcp-registry` [`Registry`]
//! (kind `http_session`, capped at `max_sessions`). The entry's guard is owned by the
//! session's [`HttpSessionWriter`], which the protocol engine holds: when the engine ends
//! by any path (closed, panicked, aborted) the session ends and its entry goes with it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use erlmcp_codec::{ErrorCode, ErrorResponse, Frame, Message, RequestId};
use erlmcp_registry::{Kind, Registration, Registry, RegistryError, RegistryMetrics};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderValue,
    ORIGIN,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use parking_lot::Mutex;
use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::contract::{FrameReader, FrameWriter, Transport, TransportInfo, TransportKind};
use crate::error::TransportError;
use crate::http::body::{ServerBody, SseBody};
use crate::http::config::{EraPolicy, Guards, HttpServerConfig, ResponseMode};
use crate::http::envelope::{self, INITIALIZE};
use crate::http::exchange::{ExchangeShared, First, HttpExchangeTransport};
use crate::http::guard;
use crate::http::modern::{self, ParamHeaderSource};
use crate::http::session::{EndReason, InFlight, Limits, Pending, SessionShared, UnknownStream};
use crate::http::sse::EventId;

/// The session header.
pub const MCP_SESSION_ID: &str = "mcp-session-id";
/// The protocol version header.
pub const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// The SSE resumption header.
pub const LAST_EVENT_ID: &str = "last-event-id";
/// The version assumed when a request carries no `MCP-Protocol-Version`.
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-03-26";

/// Sessions created but not yet accepted, before `initialize` POSTs wait.
const ACCEPT_BACKLOG: usize = 64;

type HttpResponse = Response<ServerBody>;

struct ListenerShared {
    config: HttpServerConfig,
    guards: Guards,
    local_addr: SocketAddr,
    /// `Mcp-Session-Id` → session (kind `http_session`), capped at `max_sessions`.
    sessions: HttpSessions,
    /// Stateless (2026-07-28) exchanges, for their cap and for shutdown; ended ones are
    /// pruned when one is added.
    exchanges: Mutex<Vec<Weak<ExchangeShared>>>,
    /// Where `tools/call` requests find the `x-mcp-header` annotations of their tool.
    param_headers: parking_lot::RwLock<Option<Arc<dyn ParamHeaderSource>>>,
    new_sessions: mpsc::Sender<HttpIncoming>,
    stop_accepting: CancellationToken,
    draining: AtomicBool,
    in_flight: Arc<InFlight>,
    graceful: Mutex<Option<GracefulShutdown>>,
    /// Cancelled once the accept loop has dropped the listening socket, so `shutdown`
    /// returns only when the address can be bound again.
    socket_closed: CancellationToken,
    stopped: CancellationToken,
}

type HttpSessions = Registry<Arc<str>, Arc<SessionShared>>;

impl ListenerShared {
    fn session(&self, id: &str) -> Option<Arc<SessionShared>> {
        self.sessions.get(id)
    }

    fn all_sessions(&self) -> Vec<Arc<SessionShared>> {
        self.sessions.values_kind(Kind::HTTP_SESSION)
    }

    fn end_session(&self, session: &SessionShared, reason: EndReason) {
        session.end(reason);
        self.sessions.remove(&*session.id);
    }

    /// Registers a new exchange unless `max_exchanges` are live.
    fn add_exchange(&self, exchange: &Arc<ExchangeShared>) -> bool {
        let mut list = self.exchanges.lock();
        list.retain(|e| e.upgrade().is_some_and(|e| !e.is_over()));
        if list.len() >= self.config.max_exchanges {
            return false;
        }
        list.push(Arc::downgrade(exchange));
        true
    }

    fn live_exchanges(&self) -> Vec<Arc<ExchangeShared>> {
        self.exchanges
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    fn limits(&self) -> Limits {
        Limits {
            retry_ms: u64::try_from(self.config.sse_retry.as_millis()).unwrap_or(u64::MAX),
            sse_buffer: self.config.sse_buffer,
            store_capacity: self.config.event_store_capacity,
            store_max_bytes: self.config.event_store_max_bytes,
        }
    }
}

/// Every listener of this process (for [`close_request_stream`]); dead entries are pruned
/// when the list is used.
fn listeners() -> parking_lot::MutexGuard<'static, Vec<Weak<ListenerShared>>> {
    static LISTENERS: std::sync::OnceLock<Mutex<Vec<Weak<ListenerShared>>>> =
        std::sync::OnceLock::new();
    let mut list = LISTENERS.get_or_init(|| Mutex::new(Vec::new())).lock();
    list.retain(|l| l.strong_count() > 0);
    list
}

/// Closes the SSE stream carrying the in-flight request `id`, wherever it runs in this
/// process (SEP-1699 polling: the client resumes the stream with `Last-Event-ID` and gets
/// the rest of it, the answer included). For request handlers, which know their request id
/// but not the HTTP session behind it.
///
/// Request ids are chosen by clients, so every session of every live listener is searched;
/// the stream is closed only when exactly one session has a request with this id in
/// flight, never on a guess. Returns whether a stream was closed (`false` also when the
/// request is not served over HTTP, or answers with JSON).
pub fn close_request_stream(id: &RequestId) -> bool {
    let live: Vec<Arc<ListenerShared>> = listeners().iter().filter_map(Weak::upgrade).collect();
    let mut found: Vec<Arc<SessionShared>> = live
        .iter()
        .flat_map(|l| l.all_sessions())
        .filter(|s| s.has_request(id))
        .collect();
    match found.len() {
        1 => found.pop().is_some_and(|s| s.close_request_stream(id)),
        0 => false,
        n => {
            tracing::debug!(%id, sessions = n, "request id in flight in several sessions; stream left open");
            false
        }
    }
}

/// A Streamable HTTP server that yields one [`HttpSessionTransport`] per session.
pub struct HttpListener {
    handle: HttpServerHandle,
    accepted: tokio::sync::Mutex<mpsc::Receiver<HttpIncoming>>,
}

impl std::fmt::Debug for HttpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpListener")
            .field("local_addr", &self.handle.shared.local_addr)
            .finish()
    }
}

impl HttpListener {
    /// Validates `config`, binds its address and starts serving connections.
    ///
    /// A configuration that cannot work (bad allow-list entry, zero limit, endpoint not
    /// starting with `/`) fails with an [`std::io::ErrorKind::InvalidInput`] error whose
    /// inner error is an [`InvalidHttpConfig`](super::InvalidHttpConfig).
    pub async fn bind(config: HttpServerConfig) -> Result<HttpListener, TransportError> {
        let guards = config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let tcp = TcpListener::bind(config.bind).await?;
        let local_addr = tcp.local_addr()?;
        let (new_sessions, accepted) = mpsc::channel(ACCEPT_BACKLOG);
        let idle = config.session_idle_timeout;
        let sessions = Registry::builder()
            .max_entries(config.max_sessions)
            .build()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(ListenerShared {
            config,
            guards,
            local_addr,
            sessions,
            exchanges: Mutex::new(Vec::new()),
            param_headers: parking_lot::RwLock::new(None),
            new_sessions,
            stop_accepting: CancellationToken::new(),
            draining: AtomicBool::new(false),
            in_flight: Arc::new(InFlight::default()),
            graceful: Mutex::new(Some(GracefulShutdown::new())),
            socket_closed: CancellationToken::new(),
            stopped: CancellationToken::new(),
        });
        listeners().push(Arc::downgrade(&shared));
        tokio::spawn(accept_loop(shared.clone(), tcp));
        if let Some(idle) = idle {
            tokio::spawn(reap_idle(Arc::downgrade(&shared), idle));
        }
        tracing::info!(%local_addr, endpoint = %shared.config.endpoint, "Streamable HTTP listening");
        Ok(HttpListener {
            handle: HttpServerHandle { shared },
            accepted: tokio::sync::Mutex::new(accepted),
        })
    }

    /// The next new session or stateless exchange, each a [`Transport`] for the protocol
    /// engine. Fails with [`TransportError::Closed`] once the listener shut down.
    pub async fn accept(&self) -> Result<HttpIncoming, TransportError> {
        let mut accepted = self.accepted.lock().await;
        tokio::select! {
            biased;
            transport = accepted.recv() => transport.ok_or(TransportError::Closed),
            () = self.handle.shared.stop_accepting.cancelled() => Err(TransportError::Closed),
        }
    }

    /// Sets where `tools/call` requests of the 2026-07-28 era find the `x-mcp-header`
    /// annotations of their tool, so that their `Mcp-Param-*` headers are checked. Until
    /// set, those headers are not checked.
    pub fn set_param_headers(&self, source: Arc<dyn ParamHeaderSource>) {
        *self.handle.shared.param_headers.write() = Some(source);
    }

    /// A cloneable handle for shutdown, counts and stream control.
    pub fn handle(&self) -> HttpServerHandle {
        self.handle.clone()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.shared.local_addr
    }

    /// Graceful shutdown; see [`HttpServerHandle::shutdown`].
    pub async fn shutdown(&self) {
        self.handle.shutdown().await;
    }
}

impl Drop for HttpListener {
    fn drop(&mut self) {
        // Nobody accepts sessions any more: stop taking connections. Sessions already
        // served keep running until they end.
        self.handle.shared.stop_accepting.cancel();
    }
}

/// A cloneable handle on a running [`HttpListener`].
#[derive(Clone)]
pub struct HttpServerHandle {
    shared: Arc<ListenerShared>,
}

impl std::fmt::Debug for HttpServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServerHandle")
            .field("local_addr", &self.shared.local_addr)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl HttpServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Live HTTP sessions.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.count_kind(Kind::HTTP_SESSION)
    }

    /// The session registry's figures: entries, inserts, owner removals, refusals at
    /// `max_sessions`, sampled `Mcp-Session-Id` lookup latency, lock contention.
    pub fn registry_metrics(&self) -> RegistryMetrics {
        self.shared.sessions.metrics()
    }

    /// Stateless (2026-07-28) requests in flight, open `subscriptions/listen` streams
    /// included.
    pub fn exchange_count(&self) -> usize {
        self.shared
            .live_exchanges()
            .iter()
            .filter(|e| !e.is_over())
            .count()
    }

    /// The ids of every live session.
    pub fn session_ids(&self) -> Vec<String> {
        let mut ids = Vec::with_capacity(self.session_count());
        self.shared
            .sessions
            .for_each_kind(Kind::HTTP_SESSION, |id, _| ids.push(id.to_string()));
        ids
    }

    /// The live session with this id.
    pub fn session(&self, id: &str) -> Option<HttpSessionHandle> {
        self.shared.session(id).map(|session| HttpSessionHandle {
            session,
            listener: Arc::downgrade(&self.shared),
        })
    }

    /// Every live session with a request of this id in flight (ids are chosen by clients,
    /// so several sessions can have the same one).
    pub fn sessions_with_request(&self, id: &RequestId) -> Vec<HttpSessionHandle> {
        self.shared
            .all_sessions()
            .into_iter()
            .filter(|s| s.has_request(id))
            .map(|session| HttpSessionHandle {
                session,
                listener: Arc::downgrade(&self.shared),
            })
            .collect()
    }

    /// Graceful shutdown: stops accepting connections and new sessions, requests and GET
    /// streams (503), closes GET streams, waits up to `shutdown_grace` for the requests in
    /// flight to be answered (answers and notifications POSTed by clients are still taken,
    /// so a request waiting on sampling can finish), then ends every session (their
    /// readers see the end) and closes the connections. The listening socket is closed
    /// before it returns, so the address can be bound again at once. Idempotent.
    pub async fn shutdown(&self) {
        let shared = &self.shared;
        if shared.draining.swap(true, Ordering::SeqCst) {
            shared.stopped.cancelled().await;
            return;
        }
        shared.stop_accepting.cancel();
        // The accept loop drops the listening socket when it sees the cancellation;
        // waiting for it means that a caller may bind the address again at once.
        let _ =
            tokio::time::timeout(Duration::from_secs(2), shared.socket_closed.cancelled()).await;
        for session in &shared.all_sessions() {
            session.close_standalone_streams();
        }
        // Listen streams are open until closed: like GET streams, they end first.
        for exchange in shared.live_exchanges() {
            if exchange.long_lived {
                exchange.end();
            }
        }
        let grace = shared.config.shutdown_grace;
        if tokio::time::timeout(grace, shared.in_flight.wait_idle())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "requests still in flight after the shutdown grace");
        }
        for session in shared.all_sessions() {
            shared.end_session(&session, EndReason::Shutdown);
        }
        for exchange in shared.live_exchanges() {
            exchange.end();
        }
        let graceful = shared.graceful.lock().take();
        if let Some(graceful) = graceful {
            let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
        }
        shared.stopped.cancel();
        tracing::info!(local_addr = %shared.local_addr, "Streamable HTTP listener stopped");
    }
}

/// A handle on one server-side session.
#[derive(Clone)]
pub struct HttpSessionHandle {
    session: Arc<SessionShared>,
    listener: Weak<ListenerShared>,
}

impl std::fmt::Debug for HttpSessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSessionHandle")
            .field("id", &self.session.id)
            .finish()
    }
}

impl HttpSessionHandle {
    /// The session id (the `Mcp-Session-Id` value).
    pub fn session_id(&self) -> &str {
        &self.session.id
    }

    /// Closes the SSE connection of the in-flight request `id` without ending the request
    /// (SEP-1699 polling): the client reconnects with `Last-Event-ID` and gets the stream's
    /// later events, the answer included. `false` if that request is not in flight on an
    /// SSE stream.
    pub fn close_request_stream(&self, id: &RequestId) -> bool {
        self.session.close_request_stream(id)
    }

    /// True if a request with this id is in flight.
    pub fn has_request(&self, id: &RequestId) -> bool {
        self.session.has_request(id)
    }

    /// Ends the session as DELETE would.
    pub fn terminate(&self) {
        match self.listener.upgrade() {
            Some(listener) => listener.end_session(&self.session, EndReason::Deleted),
            None => {
                self.session.end(EndReason::Deleted);
            }
        }
    }

    /// True once the session ended.
    pub fn is_ended(&self) -> bool {
        self.session.is_ended()
    }
}

/// One server-side session as a [`Transport`]: frames POSTed by the client come out of its
/// reader; frames written to its writer are routed to the client.
pub struct HttpSessionTransport {
    reader: HttpSessionReader,
    writer: HttpSessionWriter,
    info: TransportInfo,
}

impl std::fmt::Debug for HttpSessionTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSessionTransport")
            .field("id", &self.writer.session.id)
            .field("peer", &self.info.peer)
            .finish()
    }
}

impl HttpSessionTransport {
    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.writer.session.id
    }

    /// A handle on the session (stream control, termination).
    pub fn handle(&self) -> HttpSessionHandle {
        HttpSessionHandle {
            session: self.writer.session.clone(),
            listener: self.writer.listener.clone(),
        }
    }
}

impl Transport for HttpSessionTransport {
    type Reader = HttpSessionReader;
    type Writer = HttpSessionWriter;

    fn info(&self) -> TransportInfo {
        self.info.clone()
    }

    fn split(self) -> (HttpSessionReader, HttpSessionWriter) {
        (self.reader, self.writer)
    }
}

/// What an [`HttpListener`] yields: a handshake-era session, or one stateless 2026-07-28
/// request. Both are [`Transport`]s, so an engine can serve either with the same call.
#[derive(Debug)]
pub enum HttpIncoming {
    /// A session opened by `initialize`.
    Session(HttpSessionTransport),
    /// One sessionless request and its answer.
    Exchange(HttpExchangeTransport),
}

impl HttpIncoming {
    /// The session id, for a session.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            HttpIncoming::Session(s) => Some(s.session_id()),
            HttpIncoming::Exchange(_) => None,
        }
    }

    /// The session, if this is one.
    pub fn into_session(self) -> Option<HttpSessionTransport> {
        match self {
            HttpIncoming::Session(s) => Some(s),
            HttpIncoming::Exchange(_) => None,
        }
    }
}

impl Transport for HttpIncoming {
    type Reader = HttpIncomingReader;
    type Writer = HttpIncomingWriter;

    fn info(&self) -> TransportInfo {
        match self {
            HttpIncoming::Session(s) => s.info(),
            HttpIncoming::Exchange(e) => e.info(),
        }
    }

    fn split(self) -> (HttpIncomingReader, HttpIncomingWriter) {
        match self {
            HttpIncoming::Session(s) => {
                let (r, w) = s.split();
                (
                    HttpIncomingReader::Session(r),
                    HttpIncomingWriter::Session(w),
                )
            }
            HttpIncoming::Exchange(e) => {
                let (r, w) = e.split();
                (
                    HttpIncomingReader::Exchange(r),
                    HttpIncomingWriter::Exchange(w),
                )
            }
        }
    }
}

/// The reading half of an [`HttpIncoming`].
pub enum HttpIncomingReader {
    /// Of a session.
    Session(HttpSessionReader),
    /// Of a stateless exchange.
    Exchange(crate::http::exchange::HttpExchangeReader),
}

impl FrameReader for HttpIncomingReader {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        match self {
            HttpIncomingReader::Session(r) => r.next_frame().await,
            HttpIncomingReader::Exchange(r) => r.next_frame().await,
        }
    }
}

/// The writing half of an [`HttpIncoming`].
pub enum HttpIncomingWriter {
    /// Of a session.
    Session(HttpSessionWriter),
    /// Of a stateless exchange.
    Exchange(crate::http::exchange::HttpExchangeWriter),
}

impl FrameWriter for HttpIncomingWriter {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        match self {
            HttpIncomingWriter::Session(w) => w.write_batch(batch).await,
            HttpIncomingWriter::Exchange(w) => w.write_batch(batch).await,
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        match self {
            HttpIncomingWriter::Session(w) => w.close().await,
            HttpIncomingWriter::Exchange(w) => w.close().await,
        }
    }
}

/// The reading half of an [`HttpSessionTransport`]: `None` once the session ended
/// (DELETE, idle timeout, shutdown).
pub struct HttpSessionReader {
    frames: mpsc::Receiver<Frame>,
    ended: CancellationToken,
}

impl FrameReader for HttpSessionReader {
    async fn next_frame(&mut self) -> Option<Result<Frame, TransportError>> {
        tokio::select! {
            biased;
            () = self.ended.cancelled() => None,
            frame = self.frames.recv() => frame.map(Ok),
        }
    }
}

/// The writing half of an [`HttpSessionTransport`]: routes each frame to the exchange or
/// stream it belongs to. It never waits on a client.
///
/// It owns the session's registry entry (the monitor): dropped — the engine ended, even
/// by a panic or an abort, without closing it — the session ends and the entry goes.
pub struct HttpSessionWriter {
    session: Arc<SessionShared>,
    listener: Weak<ListenerShared>,
    registration: Option<Registration<Arc<str>, Arc<SessionShared>>>,
}

impl Drop for HttpSessionWriter {
    fn drop(&mut self) {
        self.session.end(EndReason::EngineClosed);
        drop(self.registration.take());
    }
}

impl FrameWriter for HttpSessionWriter {
    async fn write_batch(&mut self, batch: &[Bytes]) -> Result<(), TransportError> {
        if self.session.is_ended() {
            return Err(TransportError::Closed);
        }
        for frame in batch {
            self.session.route(frame.clone());
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        match self.listener.upgrade() {
            Some(listener) => listener.end_session(&self.session, EndReason::EngineClosed),
            None => {
                self.session.end(EndReason::EngineClosed);
            }
        }
        Ok(())
    }
}

async fn accept_loop(shared: Arc<ListenerShared>, tcp: TcpListener) {
    // Locals drop in reverse order: the socket (rebound below) first, then the guard that
    // tells `shutdown` the address is free — also when this task panics or is aborted.
    let _socket_closed = shared.socket_closed.clone().drop_guard();
    let tcp = tcp;
    loop {
        let accepted = tokio::select! {
            () = shared.stop_accepting.cancelled() => break,
            accepted = tcp.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(error = %err, "HTTP accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "could not set TCP_NODELAY");
        }
        let for_service = shared.clone();
        let service = service_fn(move |request| {
            let shared = for_service.clone();
            async move { Ok::<_, Infallible>(handle(shared, peer, request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service);
        let watcher = shared
            .graceful
            .lock()
            .as_ref()
            .map(GracefulShutdown::watcher);
        match watcher {
            Some(watcher) => {
                tokio::spawn(async move {
                    if let Err(err) = watcher.watch(connection).await {
                        tracing::debug!(%peer, error = %err, "HTTP connection ended with an error");
                    }
                });
            }
            None => break,
        }
    }
}

async fn reap_idle(listener: Weak<ListenerShared>, idle: Duration) {
    let tick = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
    loop {
        tokio::time::sleep(tick).await;
        let Some(shared) = listener.upgrade() else {
            return;
        };
        if shared.stopped.is_cancelled() {
            return;
        }
        let now = Instant::now();
        let idle_sessions: Vec<Arc<SessionShared>> = shared
            .all_sessions()
            .into_iter()
            .filter(|s| s.is_idle(now, idle))
            .collect();
        for session in idle_sessions {
            tracing::debug!(session = %session.id, "HTTP session idle; ending it");
            shared.end_session(&session, EndReason::Idle);
        }
    }
}

fn plain(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(ServerBody::empty());
    *response.status_mut() = status;
    response
}

/// A status with a JSON-RPC error body (clients surface it as the request's error).
fn rpc_error(status: StatusCode, error: ErrorResponse) -> HttpResponse {
    let body = Message::Error(error).to_vec();
    let mut response = Response::new(ServerBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A transport-level refusal: `code` -32000 (server-defined range) unless given.
fn refuse(status: StatusCode, message: &str) -> HttpResponse {
    rpc_error(status, ErrorResponse::new(None, ErrorCode(-32000), message))
}

async fn handle(
    shared: Arc<ListenerShared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> HttpResponse {
    let headers = request.headers();
    if !guard::headers_are_clean(headers, &shared.config.header_limits) {
        // A 2026-07-28 routing header that carries bytes it may not is a HeaderMismatch.
        if let Some(name) = guard::bad_mcp_header(headers, &shared.config.header_limits) {
            let message = format!("Header mismatch: header {name} has invalid characters");
            return rpc_error(
                StatusCode::BAD_REQUEST,
                ErrorResponse::new(None, modern::HEADER_MISMATCH, message),
            );
        }
        return refuse(
            StatusCode::BAD_REQUEST,
            "header refused (control bytes or size)",
        );
    }
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        None => return refuse(StatusCode::BAD_REQUEST, "Host header required"),
        Some(host) if shared.guards.hosts.check(host).is_err() => {
            return refuse(StatusCode::FORBIDDEN, "Host not allowed");
        }
        Some(_) => {}
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let allowed = origin
            .to_str()
            .is_ok_and(|o| shared.guards.origins.check(o).is_ok());
        if !allowed {
            return refuse(StatusCode::FORBIDDEN, "Origin not allowed");
        }
    }
    if request.uri().path() != shared.config.endpoint {
        return plain(StatusCode::NOT_FOUND);
    }
    let modern_only = shared.config.eras == EraPolicy::ModernOnly;
    match *request.method() {
        Method::POST => post(shared, peer, request).await,
        _ if modern_only => {
            // 2026-07-28 has no GET stream and no session to DELETE.
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Method::GET => get(shared, request),
        Method::DELETE => delete(shared, request),
        _ => {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            response
        }
    }
}

/// The `Mcp-Session-Id` value: `Ok(None)` when absent, `Err` (400) when malformed.
fn session_header(headers: &HeaderMap) -> Result<Option<&str>, Box<HttpResponse>> {
    let Some(value) = headers.get(MCP_SESSION_ID) else {
        return Ok(None);
    };
    if !guard::is_session_id(value.as_bytes()) {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "malformed Mcp-Session-Id",
        )));
    }
    Ok(value.to_str().ok())
}

/// The session a GET or DELETE (or a non-initialize POST) names: 400 if none, 404 if
/// unknown, 400 if its protocol version header is not supported.
fn existing_session(
    shared: &ListenerShared,
    headers: &HeaderMap,
) -> Result<Arc<SessionShared>, Box<HttpResponse>> {
    let Some(id) = session_header(headers)? else {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "Mcp-Session-Id header required",
        )));
    };
    let Some(session) = shared.session(id) else {
        return Err(Box::new(session_not_found()));
    };
    check_version(shared, headers)?;
    Ok(session)
}

fn session_not_found() -> HttpResponse {
    rpc_error(
        StatusCode::NOT_FOUND,
        ErrorResponse::new(None, ErrorCode(-32001), "session not found"),
    )
}

fn check_version(shared: &ListenerShared, headers: &HeaderMap) -> Result<(), Box<HttpResponse>> {
    let version = match headers.get(MCP_PROTOCOL_VERSION) {
        None => DEFAULT_PROTOCOL_VERSION,
        Some(v) => v.to_str().unwrap_or(""),
    };
    if shared.config.protocol_versions.iter().any(|v| v == version) {
        Ok(())
    } else {
        Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "unsupported MCP-Protocol-Version",
        )))
    }
}

fn sse_response(events: mpsc::Receiver<Bytes>, shared: &ListenerShared) -> HttpResponse {
    let mut response = Response::new(ServerBody::Sse(SseBody::new(
        events,
        shared.config.sse_keepalive,
    )));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn with_session_header(mut response: HttpResponse, id: Option<&str>) -> HttpResponse {
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(id).ok()) {
        response.headers_mut().insert(MCP_SESSION_ID, value);
    }
    response
}

async fn post(
    shared: Arc<ListenerShared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let accept = || headers.get_all(ACCEPT).iter().map(HeaderValue::as_bytes);
    if !guard::accepts(accept(), "application/json")
        || !guard::accepts(accept(), "text/event-stream")
    {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must include application/json and text/event-stream",
        );
    }
    let json_body = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| guard::is_media_type(v.as_bytes(), "application/json"));
    if !json_body {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let max = shared.config.max_body_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    }
    let eras = shared.config.eras;
    // A modern-only server ignores session ids (2026-07-28 has none).
    let session_id = if eras == EraPolicy::ModernOnly {
        None
    } else {
        match session_header(headers) {
            Ok(id) => id.map(str::to_owned),
            Err(response) => return *response,
        }
    };
    let body = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        Err(err) => {
            tracing::debug!(error = %err, "could not read request body");
            return refuse(StatusCode::BAD_REQUEST, "could not read request body");
        }
    };
    // Parse a copy: the JSON back end may parse in place, and the engine gets the original.
    let mut scratch = body.to_vec();
    let message = match Message::parse(&mut scratch) {
        Ok(message) => message,
        Err(err) => return rpc_error(StatusCode::BAD_REQUEST, ErrorResponse::from(err)),
    };
    if is_modern_post(&shared, headers, session_id.is_some(), &message) {
        return post_modern(shared, peer, headers, message, body).await;
    }
    let version_ok = check_version(&shared, headers);
    let draining = shared.draining.load(Ordering::SeqCst);
    let (session, created) = match session_id {
        Some(id) => match shared.session(&id) {
            Some(session) => (session, false),
            None => return session_not_found(),
        },
        None => match &message {
            Message::Request(r) if r.method == INITIALIZE => {
                if draining {
                    return refuse(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
                }
                match create_session(&shared, peer).await {
                    Ok(session) => (session, true),
                    Err(response) => return *response,
                }
            }
            _ => return refuse(StatusCode::BAD_REQUEST, "Mcp-Session-Id header required"),
        },
    };
    if !created && let Err(response) = version_ok {
        return *response;
    }
    session.touch();
    let frame = BytesMut::from(&body[..]);
    let Message::Request(request) = message else {
        return if session.deliver(frame).await {
            plain(StatusCode::ACCEPTED)
        } else {
            session_not_found()
        };
    };
    if draining {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let id = request.id;
    let sse = shared.config.response_mode == ResponseMode::Sse;
    let Ok(pending) = session.begin_exchange(id.clone(), sse) else {
        let error = ErrorResponse::new(
            Some(id),
            ErrorCode::INVALID_REQUEST,
            "a request with this id is already in flight in this session",
        );
        return rpc_error(StatusCode::BAD_REQUEST, error);
    };
    let issued = created.then(|| session.id.clone());
    // Dropped with the exchange still open (the client went away): forget it.
    let _abandon = AbandonJson {
        session: session.clone(),
        id: id.clone(),
    };
    if !session.deliver(frame).await {
        return session_not_found();
    }
    match pending {
        Pending::Sse(events) => {
            with_session_header(sse_response(events, &shared), issued.as_deref())
        }
        Pending::Json(answer) => match answer.await {
            Ok(answer) => {
                let mut response = Response::new(ServerBody::full(answer));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                with_session_header(response, issued.as_deref())
            }
            Err(_) => session_not_found(),
        },
    }
}

/// The era of a POST (see [`modern`]): `initialize` and session requests are the handshake
/// era unless their `_meta` says otherwise; a modern-only server takes everything as modern.
fn is_modern_post(
    shared: &ListenerShared,
    headers: &HeaderMap,
    has_session: bool,
    message: &Message,
) -> bool {
    let (method, params) = match message {
        Message::Request(r) => (r.method.as_str(), r.params.as_ref()),
        Message::Notification(n) => (n.method.as_str(), n.params.as_ref()),
        // Answers belong to sessions; a modern client sends none.
        _ => return shared.config.eras == EraPolicy::ModernOnly,
    };
    match shared.config.eras {
        EraPolicy::ModernOnly => true,
        EraPolicy::HandshakeOnly => false,
        EraPolicy::Both if method == INITIALIZE || has_session => modern::has_modern_meta(params),
        EraPolicy::Both => modern::is_modern(
            method,
            params,
            headers.get(MCP_PROTOCOL_VERSION).map(HeaderValue::as_bytes),
            &shared.config.protocol_versions,
        ),
    }
}

/// Serves a 2026-07-28 POST: the mirrored headers are checked against the body, then the
/// request goes to the engine as its own [`HttpExchangeTransport`] and the answer comes
/// back on this response (see the exchange module).
async fn post_modern(
    shared: Arc<ListenerShared>,
    peer: SocketAddr,
    headers: &HeaderMap,
    message: Message,
    body: Bytes,
) -> HttpResponse {
    let request = match message {
        Message::Request(request) => request,
        // No client notification means anything over 2026-07-28 HTTP (closing a response
        // stream is the cancellation): accepted and dropped.
        Message::Notification(_) => return plain(StatusCode::ACCEPTED),
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "a 2026-07-28 client sends requests and notifications only",
            );
        }
    };
    let tool_headers = if request.method == "tools/call" {
        let source = shared.param_headers.read().clone();
        let tool = request
            .params
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(serde_json::Value::as_str);
        match (source, tool) {
            (Some(source), Some(tool)) => source.param_headers(tool),
            _ => None,
        }
    } else {
        None
    };
    if let Err(mismatch) = modern::check_headers(
        headers,
        &request.method,
        request.params.as_ref(),
        tool_headers.as_deref(),
    ) {
        tracing::debug!(method = %request.method, %mismatch, "request headers refused");
        let error = ErrorResponse::new(
            Some(request.id),
            modern::HEADER_MISMATCH,
            mismatch.to_string(),
        );
        return rpc_error(StatusCode::BAD_REQUEST, error);
    }
    if request.method == INITIALIZE {
        // 2026-07-28 has no handshake: the method does not exist in this era.
        let error = ErrorResponse::new(
            Some(request.id),
            ErrorCode::METHOD_NOT_FOUND,
            "method not found: initialize (2026-07-28 has no handshake; use server/discover)",
        );
        return rpc_error(StatusCode::NOT_FOUND, error);
    }
    if shared.draining.load(Ordering::SeqCst) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let long_lived = request.method == "subscriptions/listen";
    let (exchange, first) = ExchangeShared::new(
        request.id.clone(),
        long_lived,
        shared.config.sse_buffer,
        shared.in_flight.clone(),
    );
    // Dropped before the answer or stream is handed over (the client went away, or a
    // refusal below): the exchange ends, which cancels the request in the engine.
    let _abandon = AbandonExchange(exchange.clone());
    if !shared.add_exchange(&exchange) {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests in flight",
        );
    }
    let info = TransportInfo::new(
        TransportKind::Http,
        format!("{peer} request {}", request.id),
        shared.config.max_body_bytes,
    );
    let transport = HttpExchangeTransport::new(exchange.clone(), BytesMut::from(&body[..]), info);
    if shared
        .new_sessions
        .send(HttpIncoming::Exchange(transport))
        .await
        .is_err()
    {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is not accepting requests",
        );
    }
    match first.await {
        Ok(First::Answer(answer)) => {
            let status = envelope::error_code(&answer)
                .and_then(|code| i32::try_from(code).ok())
                .map_or(StatusCode::OK, |code| {
                    modern::status_for_error(ErrorCode(code))
                });
            let mut response = Response::new(ServerBody::full(answer));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Ok(First::Stream(events)) => {
            let body = SseBody::new(events, shared.config.sse_keepalive).ending(exchange.clone());
            let mut response = Response::new(ServerBody::Sse(body));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            response
        }
        // The engine ended the exchange without answering (it shut down).
        Err(_) => rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorResponse::new(
                Some(request.id),
                ErrorCode::INTERNAL_ERROR,
                "the server ended without answering the request",
            ),
        ),
    }
}

/// Ends a stateless exchange whose POST is dropped while it still waits for its first
/// frame (the client went away).
struct AbandonExchange(Arc<ExchangeShared>);

impl Drop for AbandonExchange {
    fn drop(&mut self) {
        self.0.abandon_if_waiting();
    }
}

struct AbandonJson {
    session: Arc<SessionShared>,
    id: RequestId,
}

impl Drop for AbandonJson {
    fn drop(&mut self) {
        self.session.abandon_json(&self.id);
    }
}

async fn create_session(
    shared: &Arc<ListenerShared>,
    peer: SocketAddr,
) -> Result<Arc<SessionShared>, Box<HttpResponse>> {
    // 128 bits from the thread-local CSPRNG (ChaCha, seeded from the OS).
    let id: Arc<str> = Arc::from(format!("{:032x}", rand::rng().random::<u128>()));
    let (session, frames) = SessionShared::new(
        id.clone(),
        shared.config.inbound_queue,
        shared.limits(),
        shared.in_flight.clone(),
    );
    let registration = match shared
        .sessions
        .insert(id.clone(), session.clone(), Kind::HTTP_SESSION)
    {
        Ok(registration) => registration,
        Err(RegistryError::Full { .. }) => {
            return Err(Box::new(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many sessions",
            )));
        }
        Err(err) => {
            tracing::warn!(session = %id, error = %err, "HTTP session not registered");
            return Err(Box::new(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "session not registered",
            )));
        }
    };
    let info = TransportInfo::new(
        TransportKind::Http,
        format!("{peer} session {id}"),
        shared.config.max_body_bytes,
    );
    let transport = HttpSessionTransport {
        reader: HttpSessionReader {
            frames,
            ended: session.ended.clone(),
        },
        writer: HttpSessionWriter {
            session: session.clone(),
            listener: Arc::downgrade(shared),
            registration: Some(registration),
        },
        info,
    };
    if shared
        .new_sessions
        .send(HttpIncoming::Session(transport))
        .await
        .is_err()
    {
        shared.end_session(&session, EndReason::Shutdown);
        return Err(Box::new(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is not accepting sessions",
        )));
    }
    tracing::debug!(session = %id, %peer, "HTTP session created");
    Ok(session)
}

fn get(shared: Arc<ListenerShared>, request: Request<Incoming>) -> HttpResponse {
    let headers = request.headers();
    let accept = headers.get_all(ACCEPT).iter().map(HeaderValue::as_bytes);
    if !guard::accepts(accept, "text/event-stream") {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must include text/event-stream",
        );
    }
    let session = match existing_session(&shared, headers) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if shared.draining.load(Ordering::SeqCst) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let resume = match headers.get(LAST_EVENT_ID) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(EventId::parse) {
            Some(id) => Some(id),
            None => return refuse(StatusCode::BAD_REQUEST, "malformed Last-Event-ID"),
        },
    };
    session.touch();
    match session.open_stream(resume) {
        Ok(events) => sse_response(events, &shared),
        Err(UnknownStream) => refuse(
            StatusCode::BAD_REQUEST,
            "Last-Event-ID names no stream of this session",
        ),
    }
}

fn delete(shared: Arc<ListenerShared>, request: Request<Incoming>) -> HttpResponse {
    let session = match existing_session(&shared, request.headers()) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    shared.end_session(&session, EndReason::Deleted);
    plain(StatusCode::OK)
}
