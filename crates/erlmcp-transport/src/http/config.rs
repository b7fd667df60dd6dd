//! Configuration of the Streamable HTTP server, every limit named in one place.

use std::net::SocketAddr;
use std::time::Duration;

use erlmcp_codec::schema::versions::SUPPORTED_HANDSHAKE;

use erlmcp_security::{HeaderLimits, HostAllowList, OriginAllowList};

use crate::http::guard::{self, LOOPBACK};

/// How the server answers a POST that carries a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// An SSE stream (`text/event-stream`): a priming event, any server messages sent
    /// while the request runs, then the answer, then the stream closes. Needed for the
    /// server to send requests (sampling, elicitation) on the request's own stream.
    #[default]
    Sse,
    /// One JSON body (`application/json`) with the answer. Server messages sent while the
    /// request runs go to the session's GET stream (or wait for one).
    Json,
}

/// Which protocol eras an HTTP endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EraPolicy {
    /// Both (default): `initialize` and `Mcp-Session-Id` requests are the handshake era
    /// (2024-11-05 … 2025-11-25, sessions, GET streams); a sessionless request carrying
    /// the 2026-07-28 per-request metadata is served statelessly.
    #[default]
    Both,
    /// The handshake era only: every request needs a session.
    HandshakeOnly,
    /// 2026-07-28 only: every POST is served statelessly, `Mcp-Session-Id` and
    /// `Last-Event-ID` are ignored, and GET and DELETE get 405 (`Allow: POST`).
    ModernOnly,
}

/// Limits and policy of an [`HttpListener`](crate::http::HttpListener).
///
/// Every field has a documented default ([`Default`]); override with struct update syntax:
/// `HttpServerConfig { bind: addr, ..HttpServerConfig::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// Address to listen on (default `127.0.0.1:0`: loopback only, OS-assigned port).
    pub bind: SocketAddr,
    /// The one MCP endpoint path (default `/mcp`). Other paths get 404.
    pub endpoint: String,
    /// Allowed `Host` header values (default `localhost`, `127.0.0.1`, `[::1]`, any port).
    /// Entries: `host` or `host:*` (any port), `host:port`. Anything else gets 403.
    pub allowed_hosts: Vec<String>,
    /// Allowed `Origin` header values when one is sent (default `http`/`https` on the
    /// loopback names, any port). Entries: `scheme://host[:port|:*]`. A request without
    /// `Origin` (not from a browser) is not refused for that.
    pub allowed_origins: Vec<String>,
    /// Limits on request headers (size of a name, of a value, count, total), checked with
    /// `erlmcp-security` together with the ban on control bytes (default: its defaults,
    /// 8 KiB per value, 100 headers, 64 KiB in all). Past them, 400.
    pub header_limits: HeaderLimits,
    /// Largest request body accepted, in bytes (default 4 MiB); past it, 413. Also the
    /// frame limit reported in [`TransportInfo`](crate::TransportInfo).
    pub max_body_bytes: usize,
    /// How requests are answered (default [`ResponseMode::Sse`]).
    pub response_mode: ResponseMode,
    /// The `retry:` delay sent to SSE clients (default 1 s): how long they wait before
    /// reconnecting a dropped stream.
    pub sse_retry: Duration,
    /// Interval of keep-alive comments on idle SSE streams (default 15 s; `None`: never).
    pub sse_keepalive: Option<Duration>,
    /// Events queued for one SSE connection before it counts as a slow consumer (default
    /// 256). A slow connection is closed; its events stay in the event store, so the
    /// client can resume with `Last-Event-ID`.
    pub sse_buffer: usize,
    /// Events each session keeps for `Last-Event-ID` replay (default 1024). The oldest
    /// are dropped first. Also bounds messages waiting for a GET stream.
    pub event_store_capacity: usize,
    /// Bytes of message data each session keeps for replay at most (default 16 MiB), on
    /// top of the event count; the oldest events are dropped first. Messages waiting for a
    /// GET stream have the same budget of their own.
    pub event_store_max_bytes: usize,
    /// A session with no HTTP activity, no open stream and no request in flight for this
    /// long is ended (default 30 min; `None`: only DELETE or shutdown end sessions).
    pub session_idle_timeout: Option<Duration>,
    /// Inbound frames queued per session before POSTs wait (default 64): backpressure
    /// from a busy session reaches its clients.
    pub inbound_queue: usize,
    /// Live sessions at most (default 10 000); an `initialize` past it gets 503.
    pub max_sessions: usize,
    /// Accepted `MCP-Protocol-Version` header values (default: every handshake-era
    /// version). A request without the header is taken as `2025-03-26`.
    pub protocol_versions: Vec<String>,
    /// The eras served (default [`EraPolicy::Both`]).
    pub eras: EraPolicy,
    /// Stateless (2026-07-28) requests in flight at most, `subscriptions/listen` streams
    /// included (default 10 000); past it, 503.
    pub max_exchanges: usize,
    /// How long [`shutdown`](crate::http::HttpServerHandle::shutdown) waits for requests
    /// in flight before ending sessions anyway (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            endpoint: "/mcp".to_owned(),
            allowed_hosts: LOOPBACK.iter().map(|h| (*h).to_owned()).collect(),
            allowed_origins: ["http", "https"]
                .iter()
                .flat_map(|scheme| {
                    LOOPBACK
                        .iter()
                        .map(move |host| format!("{scheme}://{host}:*"))
                })
                .collect(),
            header_limits: HeaderLimits::default(),
            max_body_bytes: erlmcp_codec::DEFAULT_MAX_FRAME_BYTES,
            response_mode: ResponseMode::Sse,
            sse_retry: Duration::from_secs(1),
            sse_keepalive: Some(Duration::from_secs(15)),
            sse_buffer: 256,
            event_store_capacity: 1024,
            event_store_max_bytes: 16 * 1024 * 1024,
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            inbound_queue: 64,
            max_sessions: 10_000,
            protocol_versions: SUPPORTED_HANDSHAKE
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect(),
            eras: EraPolicy::Both,
            max_exchanges: 10_000,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// A configuration the server cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidHttpConfig {
    /// The endpoint is not an absolute path.
    #[error("endpoint must start with `/`")]
    Endpoint,
    /// An `allowed_hosts` entry does not parse.
    #[error("allowed_hosts entry does not parse: {0:?}")]
    Host(String),
    /// An `allowed_origins` entry does not parse.
    #[error("allowed_origins entry does not parse: {0:?}")]
    Origin(String),
    /// A size or count that must be positive is zero.
    #[error("`{0}` must be greater than zero")]
    Zero(&'static str),
}

/// The parsed allow-lists of a validated configuration.
pub(crate) struct Guards {
    pub(crate) hosts: HostAllowList,
    pub(crate) origins: OriginAllowList,
}

impl HttpServerConfig {
    /// Checks the configuration and parses its allow-lists.
    pub(crate) fn validate(&self) -> Result<Guards, InvalidHttpConfig> {
        if !self.endpoint.starts_with('/') {
            return Err(InvalidHttpConfig::Endpoint);
        }
        for (value, name) in [
            (self.max_body_bytes, "max_body_bytes"),
            (self.sse_buffer, "sse_buffer"),
            (self.event_store_capacity, "event_store_capacity"),
            (self.event_store_max_bytes, "event_store_max_bytes"),
            (self.inbound_queue, "inbound_queue"),
            (self.max_sessions, "max_sessions"),
            (self.max_exchanges, "max_exchanges"),
        ] {
            if value == 0 {
                return Err(InvalidHttpConfig::Zero(name));
            }
        }
        let hosts = guard::host_list(&self.allowed_hosts).map_err(InvalidHttpConfig::Host)?;
        let origins =
            guard::origin_list(&self.allowed_origins).map_err(InvalidHttpConfig::Origin)?;
        Ok(Guards { hosts, origins })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_valid() {
        let config = HttpServerConfig::default();
        assert!(config.bind.ip().is_loopback());
        let guards = config.validate().unwrap();
        assert!(guards.hosts.is_allowed("localhost:1234"));
        assert!(guards.origins.is_allowed("http://127.0.0.1:9"));
        assert!(!guards.origins.is_allowed("http://evil.example"));
        assert!(config.protocol_versions.iter().any(|v| v == "2025-03-26"));
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad = |f: fn(&mut HttpServerConfig)| {
            let mut c = HttpServerConfig::default();
            f(&mut c);
            c.validate().err()
        };
        assert_eq!(
            bad(|c| c.endpoint = "mcp".into()),
            Some(InvalidHttpConfig::Endpoint)
        );
        assert!(matches!(
            bad(|c| c.allowed_hosts = vec!["http://x".into()]),
            Some(InvalidHttpConfig::Host(_))
        ));
        assert!(matches!(
            bad(|c| c.allowed_origins = vec!["localhost".into()]),
            Some(InvalidHttpConfig::Origin(_))
        ));
        assert_eq!(
            bad(|c| c.sse_buffer = 0),
            Some(InvalidHttpConfig::Zero("sse_buffer"))
        );
    }
}
