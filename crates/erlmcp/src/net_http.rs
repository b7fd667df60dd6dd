//! Serving a [`Server`] over Streamable HTTP, and connecting clients to an HTTP endpoint.
//! Thin glue: each handshake-era HTTP session, and each stateless (2026-07-28) request, is
//! one engine session task; the server's tool registry tells the listener which
//! `tools/call` arguments are mirrored in `Mcp-Param-*` headers.
//!
//! ```no_run
//! # async fn run() -> Result<(), erlmcp::transport::TransportError> {
//! use erlmcp::transport::http::{HttpListener, HttpServerConfig};
//!
//! let server = erlmcp::demo::server();
//! let listener = HttpListener::bind(HttpServerConfig::default()).await?;
//! println!("MCP endpoint: http://{}/mcp", listener.local_addr());
//! erlmcp::net_http::serve_http(&server, listener).await
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use erlmcp_codec::{ErrorResponse, Frame, Message, Response};
use erlmcp_flow::{CircuitBreaker, Retry, RetryError};
use erlmcp_protocol::{ClaimedHeaders, Client, ClientBuilder, RequestError, Server, SessionError};
use erlmcp_transport::http::{
    HttpClientOptions, HttpClientTransport, HttpExchangeTransport, HttpIncoming, HttpListener,
    HttpServerConfig, ParamHeader, ParamHeaderSource, is_unreachable, mirror,
};
use erlmcp_transport::{FrameReader, FrameWriter, Transport, TransportError};

/// The `x-mcp-header` annotations of a server's tools, read from its registry on each
/// `tools/call` (tools can change at runtime).
struct ToolParamHeaders(Server);

impl ParamHeaderSource for ToolParamHeaders {
    fn param_headers(&self, tool: &str) -> Option<Arc<[ParamHeader]>> {
        let definition = self.0.tool_definition(tool)?;
        let schema = serde_json::Value::Object(definition.input_schema);
        match mirror::param_headers(&schema) {
            Ok(headers) => Some(headers.into()),
            Err(err) => {
                tracing::warn!(tool, error = %err, "tool has invalid x-mcp-header annotations; not enforced");
                None
            }
        }
    }
}

/// The source of `x-mcp-header` annotations for an HTTP listener serving `server`.
pub(crate) fn tool_param_headers(server: &Server) -> Arc<dyn ParamHeaderSource> {
    Arc::new(ToolParamHeaders(server.clone()))
}

/// Accepts HTTP sessions on `listener` until it shuts down, serving each as its own
/// session task. Returns `Ok` after
/// [`HttpServerHandle::shutdown`](erlmcp_transport::http::HttpServerHandle::shutdown) (take
/// a handle with [`HttpListener::handle`] before calling this).
pub async fn serve_http(server: &Server, listener: HttpListener) -> Result<(), TransportError> {
    listener.set_param_headers(tool_param_headers(server));
    loop {
        match listener.accept().await {
            Ok(HttpIncoming::Session(transport)) => {
                let peer = transport.session_id().to_owned();
                let session = server.serve(transport);
                tokio::spawn(async move {
                    if let Err(err) = session.await {
                        tracing::debug!(session = %peer, error = %err, "HTTP session ended with an error");
                    }
                });
            }
            Ok(HttpIncoming::Exchange(exchange)) => {
                tokio::spawn(serve_exchange(server.clone(), exchange));
            }
            Err(TransportError::Closed) => return Ok(()),
            Err(err) => {
                tracing::warn!(error = %err, "HTTP accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one stateless (2026-07-28) HTTP request with the engine's per-request entry
/// point: its notifications go out as they come, then its answer; the client closing the
/// response (the reader ends) drops the request's future, which cancels it. The transport
/// has already checked the mirrored headers against the body, so no claims are passed on.
pub(crate) async fn serve_exchange(server: Server, exchange: HttpExchangeTransport) {
    let (mut reader, mut writer) = exchange.split();
    let Some(Ok(Frame::Message(mut bytes))) = reader.next_frame().await else {
        return;
    };
    let Ok(Message::Request(request)) = Message::parse(&mut bytes) else {
        // The transport only hands over requests it parsed.
        return;
    };
    let id = request.id.clone();
    let (output, mut notifications) = server.modern_output();
    let answer = server.handle_modern(request, ClaimedHeaders::default(), &output);
    drop(output);
    tokio::pin!(answer);
    let outcome = loop {
        tokio::select! {
            biased;
            outcome = &mut answer => break Some(outcome),
            Some(note) = notifications.next() => {
                if writer.write_batch(&[note]).await.is_err() {
                    break None;
                }
            }
            // The client went away: dropping `answer` cancels the request.
            None = reader.next_frame() => break None,
        }
    };
    let Some(outcome) = outcome else {
        return;
    };
    let mut batch: Vec<Bytes> = std::iter::from_fn(|| notifications.try_next()).collect();
    let message = match outcome {
        Ok(result) => Message::Response(Response { id, result }),
        Err(error) => Message::Error(ErrorResponse {
            id: Some(id),
            error,
        }),
    };
    batch.push(Bytes::from(message.to_vec()));
    let _ = writer.write_batch(&batch).await;
    let _ = writer.close().await;
}

/// Binds a listener with `config` and serves forever (see [`serve_http`]).
pub async fn bind_and_serve_http(
    server: &Server,
    config: HttpServerConfig,
) -> Result<(), TransportError> {
    let listener = HttpListener::bind(config).await?;
    serve_http(server, listener).await
}

/// The default configuration listening on `addr`.
pub fn config_for(addr: SocketAddr) -> HttpServerConfig {
    HttpServerConfig {
        bind: addr,
        ..HttpServerConfig::default()
    }
}

/// Connects a client to a Streamable HTTP endpoint (`http://host:port/mcp`).
///
/// The transport re-initializes a session the server forgot (404) and replays the request
/// once, and sends every request through its own circuit breaker; see
/// [`HttpClientTransport`].
pub async fn connect_http(builder: ClientBuilder, url: &str) -> Result<Client, SessionError> {
    connect_http_with(builder, url, HttpClientOptions::default()).await
}

/// [`connect_http`] with explicit transport options.
pub async fn connect_http_with(
    builder: ClientBuilder,
    url: &str,
    options: HttpClientOptions,
) -> Result<Client, SessionError> {
    let transport = HttpClientTransport::connect(url, options).map_err(SessionError::Transport)?;
    builder.connect(transport).await
}

/// True when connecting failed because the server could not be reached (worth another
/// attempt), not because it refused the handshake.
pub fn is_unreachable_failure(err: &SessionError) -> bool {
    match err {
        SessionError::Transport(_) => true,
        SessionError::Initialize(RequestError::Rpc(error)) => is_unreachable(error),
        _ => false,
    }
}

/// Connects through `breaker`, as [`crate::net::connect_tcp_resilient`] does for TCP: up
/// to `retry.max_attempts()` handshakes with full-jitter backoff between them (at least
/// the breaker's remaining open time), retried only while the server is unreachable.
///
/// The breaker goes into the transport ([`HttpClientOptions::breaker`]): every POST of
/// this client, the handshake and later session renewals included, is counted by it, and
/// while it is open nothing is sent at all, so a dead server sees a bounded number of
/// attempts however often the caller retries. (The attempts here do not take a permit of
/// their own: the handshake's POST does, and a half-open breaker's single probe must go
/// to that POST.)
pub async fn connect_http_resilient(
    builder: impl Fn() -> ClientBuilder,
    url: &str,
    options: HttpClientOptions,
    breaker: &CircuitBreaker,
    retry: &Retry,
) -> Result<Client, RetryError<SessionError>> {
    let options = HttpClientOptions {
        breaker: Some(breaker.clone()),
        ..options
    };
    let mut attempt = 0;
    loop {
        match connect_http_with(builder(), url, options.clone()).await {
            Ok(client) => return Ok(client),
            Err(err) if !is_unreachable_failure(&err) || attempt + 1 >= retry.max_attempts() => {
                return Err(RetryError::Failed {
                    attempts: attempt + 1,
                    last: err,
                });
            }
            Err(err) => {
                tracing::debug!(error = %err, attempt, "HTTP connect failed; retrying");
            }
        }
        let jitter = retry.backoff().delay(attempt, &mut rand::rng());
        tokio::time::sleep(jitter.max(breaker.retry_after().unwrap_or_default())).await;
        attempt += 1;
    }
}
