//! Per-session limits and timeouts, with documented defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits and timeouts of one session. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Inbound requests handled concurrently per session (default 64). Past it the session
    /// stops reading from the peer until a handler finishes.
    pub max_concurrent_requests: usize,
    /// Default timeout of outbound requests (default 60 s).
    #[serde(with = "duration_ms")]
    pub request_timeout: Duration,
    /// How long a server session waits for `initialize` (default 30 s).
    #[serde(with = "duration_ms")]
    pub init_timeout: Duration,
    /// Largest inbound frame in bytes (default 4 MiB). Enforced by the transport; kept
    /// here so error messages can name it.
    pub max_frame_bytes: usize,
    /// Items per page of every `*/list` result (default 100).
    pub page_size: usize,
    /// Task retention and limits.
    pub tasks: crate::server::tasks::TaskLimits,
    /// Flow control (erlmcp-flow): the per-session outbound queue (1000 messages / 8 MiB,
    /// watermarks 80 %/50 %), the slow-consumer policy (5 s grace, then shed droppable
    /// notifications, then disconnect), the server-wide memory budget (256 MiB; above it
    /// new requests get -32010), and the client's circuit breaker and retry policy.
    pub flow: erlmcp_flow::FlowConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_concurrent_requests: 64,
            request_timeout: Duration::from_secs(60),
            init_timeout: Duration::from_secs(30),
            max_frame_bytes: erlmcp_codec::DEFAULT_MAX_FRAME_BYTES,
            page_size: 100,
            tasks: crate::server::tasks::TaskLimits::default(),
            flow: erlmcp_flow::FlowConfig::default(),
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
