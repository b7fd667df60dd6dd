//! Serving a [`Server`] on stdio or a TCP listener, and connecting clients to a TCP
//! address or a child process. Thin glue: each accepted connection is one session task.

use std::net::SocketAddr;
use std::time::Duration;

use erlmcp_flow::{CircuitBreaker, Retry, RetryError};
use erlmcp_protocol::{Client, ClientBuilder, Server, SessionError};
use erlmcp_transport::{
    ChildProcessTransport, StdioTransport, TcpAcceptor, TcpTransport, TransportError,
};
use tokio::process::Command;

/// Serves one session on this process's stdin/stdout; returns when stdin reaches EOF.
pub async fn serve_stdio(server: &Server) -> Result<(), SessionError> {
    let max = erlmcp_codec::DEFAULT_MAX_FRAME_BYTES;
    server.serve(StdioTransport::new(max)).await
}

/// Accepts connections on `acceptor` forever, serving each as its own session.
/// Accept errors (e.g. out of file descriptors) are logged and retried after a pause,
/// never fatal: established sessions keep running.
pub async fn serve_tcp(server: &Server, acceptor: TcpAcceptor) -> Result<(), TransportError> {
    loop {
        match acceptor.accept().await {
            Ok(transport) => {
                let peer = transport.peer_addr();
                let session = server.serve(transport);
                tokio::spawn(async move {
                    if let Err(err) = session.await {
                        tracing::debug!(%peer, error = %err, "session ended with an error");
                    }
                });
            }
            Err(err) => {
                tracing::warn!(error = %err, "accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Binds `addr` and serves forever (see [`serve_tcp`]).
pub async fn bind_and_serve_tcp(server: &Server, addr: SocketAddr) -> Result<(), TransportError> {
    let acceptor = TcpAcceptor::bind(addr, erlmcp_codec::DEFAULT_MAX_FRAME_BYTES).await?;
    if let Ok(local) = acceptor.local_addr() {
        tracing::info!(%local, "listening");
    }
    serve_tcp(server, acceptor).await
}

/// Connects a client to a TCP address.
pub async fn connect_tcp(builder: ClientBuilder, addr: SocketAddr) -> Result<Client, SessionError> {
    let transport = TcpTransport::connect(addr, erlmcp_codec::DEFAULT_MAX_FRAME_BYTES)
        .await
        .map_err(SessionError::Transport)?;
    builder.connect(transport).await
}

/// Connects a client to a TCP address through a circuit breaker: each call makes at most
/// `retry.max_attempts()` attempts with exponential backoff and full jitter, and while the
/// breaker is open no connection is attempted at all, so a dead server sees a bounded
/// number of attempts however often the caller retries. `builder` makes a fresh
/// [`ClientBuilder`] per attempt.
pub async fn connect_tcp_resilient(
    builder: impl Fn() -> ClientBuilder,
    addr: SocketAddr,
    breaker: &CircuitBreaker,
    retry: &Retry,
) -> Result<Client, RetryError<SessionError>> {
    retry
        .run(
            breaker,
            |_attempt| connect_tcp(builder(), addr),
            // Transport failures (refused, reset, unreachable) are worth retrying; a server
            // that answers `initialize` with an error is not.
            |err: &SessionError| matches!(err, SessionError::Transport(_)),
        )
        .await
}

/// Spawns `command` as a child process speaking MCP on stdio and connects to it.
/// The child is killed when the client's session ends.
pub async fn connect_child(
    builder: ClientBuilder,
    command: &mut Command,
) -> Result<Client, SessionError> {
    let transport = ChildProcessTransport::spawn(command, erlmcp_codec::DEFAULT_MAX_FRAME_BYTES)?;
    builder.connect(transport).await
}
