//! Streamable HTTP (MCP 2025-11-25 transport rules), server and client, on hyper 1.x.
//!
//! ## Server
//! [`HttpListener::bind`] serves one endpoint (default `/mcp`) on `127.0.0.1`:
//! - `POST` carries one JSON-RPC message. An `initialize` request without
//!   `Mcp-Session-Id` creates a session: a cryptographically random id, returned in the
//!   `Mcp-Session-Id` header of its answer, and an [`HttpSessionTransport`] from
//!   [`HttpListener::accept`] for the protocol engine to serve. A notification or an answer
//!   gets 202; a request gets its answer as JSON or on an SSE stream ([`ResponseMode`]).
//! - `GET` opens an SSE stream for server-initiated messages; several may be open at once.
//!   Every stream starts with a priming event (an id, `retry:`, empty data); every event id
//!   is `<streamId>:<seq>`, and `Last-Event-ID` replays exactly that stream's missed events
//!   from the session's bounded event store.
//! - `DELETE` ends the session: its reader yields `None`, the engine releases everything,
//!   and later requests with the id get 404. So does the idle timeout.
//!
//! Server-initiated messages go to the newest open SSE stream of a request in flight, else
//! to the newest GET stream, else they wait (bounded) for the next GET stream. Headers,
//! Host and Origin are checked with `erlmcp-security` (allow-lists: loopback by default)
//! before anything else; see [`server`] for the full order of checks and their status
//! codes.
//!
//! ```no_run
//! use erlmcp_transport::http::{HttpListener, HttpServerConfig};
//!
//! # async fn run() -> Result<(), erlmcp_transport::TransportError> {
//! let listener = HttpListener::bind(HttpServerConfig::default()).await?;
//! println!("serving on http://{}/mcp", listener.local_addr());
//! while let Ok(session) = listener.accept().await {
//!     // hand `session` to the protocol engine: `server.serve(session)`
//!     # drop(session);
//! }
//! # Ok(()) }
//! ```
//!
//! ## Client
//! [`HttpClientTransport::connect`] gives a [`Transport`](crate::Transport) for a client
//! engine: it POSTs each frame, reads JSON or SSE answers, opens the GET stream after
//! initialization, resumes dropped streams with `Last-Event-ID`, re-initializes a session
//! the server forgot (404) and replays the request once (`renew.rs`), sends every POST
//! through a circuit breaker (`erlmcp-flow`), and sends DELETE on close. `http://` only:
//! TLS is out of scope.
//!
//! ## MCP 2026-07-28 (stateless) requests
//! The same endpoint serves the 2026-07-28 era, chosen per request ([`EraPolicy`]): a
//! sessionless POST carrying the per-request `_meta` keys (or `server/discover`, or a
//! modern `MCP-Protocol-Version`) is checked against its mirrored headers
//! (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`; see [`modern`] and
//! [`mirror`]), then handed to the engine as its own [`HttpExchangeTransport`] through
//! [`HttpListener::accept`] (which yields [`HttpIncoming`]). Its answer comes back on the
//! same response — JSON whose status follows the error code, or an SSE stream when
//! notifications come first — and closing that response cancels the request. A
//! modern-only deployment answers GET and DELETE with 405. The client sends the mirrored
//! headers for requests that carry the modern `_meta`.
//!
//! ## What this module does not do
//! It reads JSON-RPC envelopes (kind and id) to route answers, recognises `initialize` to
//! start a session (and, renewing one, sends `notifications/initialized`), and reads the
//! fields the 2026-07-28 headers mirror; it knows no other MCP semantics (the engine
//! validates `_meta`, versions and capabilities).

mod body;
pub mod client;
pub mod config;
mod envelope;
pub mod exchange;
mod guard;
pub mod mirror;
pub mod modern;
mod renew;
pub mod server;
mod session;
mod sse;

pub use client::{
    HttpClientOptions, HttpClientReader, HttpClientTransport, HttpClientWriter, UNREACHABLE,
    is_unreachable,
};
pub use config::{EraPolicy, HttpServerConfig, InvalidHttpConfig, ResponseMode};
pub use exchange::{HttpExchangeReader, HttpExchangeTransport, HttpExchangeWriter};
pub use mirror::{ParamHeader, ParamKind};
pub use modern::ParamHeaderSource;
pub use server::{
    DEFAULT_PROTOCOL_VERSION, HttpIncoming, HttpIncomingReader, HttpIncomingWriter, HttpListener,
    HttpServerHandle, HttpSessionHandle, HttpSessionReader, HttpSessionTransport,
    HttpSessionWriter, LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, close_request_stream,
};
