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
use erlmcp_protocol::{ClaimedHeaders, Client, ClientBuilder, Server, SessionError};
use erlmcp_transport::http::{
    HttpClientOptions, HttpClientTransport, HttpExchangeTransport, HttpIncoming, HttpListener,
    HttpServerConfig, ParamHeader, ParamHeaderSource, mirror,
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

/// Accepts HTTP sessions on `listener` until it shuts down, serving each as its own
/// session task. Returns `Ok` after
/// [`HttpServerHandle::shutdown`](erlmcp_transport::http::HttpServerHandle::shutdown) (take
/// a handle with [`HttpListener::handle`] before calling this).
pub async fn serve_http(server: &Server, listener: HttpListener) -> Result<(), TransportError> {
    listener.set_param_headers(Arc::new(ToolParamHeaders(server.clone())));
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
async fn serve_exchange(server: Server, exchange: HttpExchangeTransport) {
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
pub async fn connect_http(builder: ClientBuilder, url: &str) -> Result<Client, SessionError> {
    let transport = HttpClientTransport::connect(url, HttpClientOptions::default())
        .map_err(SessionError::Transport)?;
    builder.connect(transport).await
}
