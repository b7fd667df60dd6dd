//! Serving a [`Server`] over Streamable HTTP, and connecting clients to an HTTP endpoint.
//! Thin glue: each HTTP session is one engine session task.
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
use std::time::Duration;

use erlmcp_flow::{CircuitBreaker, Retry, RetryError};
use erlmcp_protocol::{Client, ClientBuilder, RequestError, Server, SessionError};
use erlmcp_transport::TransportError;
use erlmcp_transport::http::{
    HttpClientOptions, HttpClientTransport, HttpListener, HttpServerConfig, is_unreachable,
};

/// Accepts HTTP sessions on `listener` until it shuts down, serving each as its own
/// session task. Returns `Ok` after
/// [`HttpServerHandle::shutdown`](erlmcp_transport::http::HttpServerHandle::shutdown) (take
/// a handle with [`HttpListener::handle`] before calling this).
pub async fn serve_http(server: &Server, listener: HttpListener) -> Result<(), TransportError> {
    loop {
        match listener.accept().await {
            Ok(transport) => {
                let peer = transport.session_id().to_owned();
                let session = server.serve(transport);
                tokio::spawn(async move {
                    if let Err(err) = session.await {
                        tracing::debug!(session = %peer, error = %err, "HTTP session ended with an error");
                    }
                });
            }
            Err(TransportError::Closed) => return Ok(()),
            Err(err) => {
                tracing::warn!(error = %err, "HTTP accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
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
