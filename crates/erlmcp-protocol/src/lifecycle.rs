//! The handshake-era initialization state machine (server side) and version negotiation.
//!
//! ```text
//!                 initialize (ok)                notifications/initialized
//!  AwaitingInitialize ─────────────▶ Initializing ─────────────────────────▶ Operational
//!        │  ▲ initialize (bad params: stays)          │ (any request: the client has the
//!        │  │                                          │  result, so it may already send)
//!        └──┘                                          ▼
//!                              transport closed / init timeout ──▶ Closed
//!
//!  AwaitingInitialize ── a request (not initialize) with the modern `_meta` ──▶ Stateless
//! ```
//!
//! Before `initialize` completes only `ping` and `initialize` are served; every other
//! known request gets -32600 and unknown methods (clients probe with `server/discover`)
//! get -32601 — both with `data.phase`, and the connection stays open. A second
//! `initialize` is refused with -32600.

use erlmcp_codec::schema::ProtocolVersion;
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::json;

/// Where a server session is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the client's `initialize` request.
    AwaitingInitialize,
    /// `initialize` answered; waiting for `notifications/initialized`.
    Initializing,
    /// Normal operation.
    Operational,
    /// The first request was a 2026-07-28 one (it carried the modern `_meta` keys —
    /// `server/discover` from a modern client does): every request is self-describing and handled statelessly;
    /// `initialize` is refused with -32022.
    Stateless,
    /// The session is over.
    Closed,
}

impl Phase {
    /// The phase as it appears in error data.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::AwaitingInitialize => "awaiting_initialize",
            Phase::Initializing => "initializing",
            Phase::Operational => "operational",
            Phase::Stateless => "stateless",
            Phase::Closed => "closed",
        }
    }

    /// True once `initialize` has been answered successfully.
    pub fn is_initialized(self) -> bool {
        matches!(self, Phase::Initializing | Phase::Operational)
    }
}

/// The error for a request that is not allowed in `phase`.
pub fn phase_error(phase: Phase, method: &str) -> ErrorObject {
    let message = match phase {
        Phase::AwaitingInitialize => format!("`{method}` is not allowed before initialize"),
        Phase::Initializing | Phase::Operational if method == "initialize" => {
            "the session is already initialized".to_owned()
        }
        _ => format!("`{method}` is not allowed in phase {}", phase.as_str()),
    };
    ErrorObject::new(ErrorCode::INVALID_REQUEST, message)
        .with_data(json!({"phase": phase.as_str(), "method": method}))
}

/// The error for an unknown method, naming the phase.
pub fn method_not_found(phase: Phase, method: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!("method not found: {method}"),
    )
    .with_data(json!({"phase": phase.as_str(), "method": method}))
}

/// The outcome of version negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// The client's version is supported: echo it.
    Echo(ProtocolVersion),
    /// A well-formed version we don't speak: answer with our newest.
    Counter(ProtocolVersion),
}

impl Negotiated {
    /// The version the server answers with.
    pub fn version(self) -> ProtocolVersion {
        match self {
            Negotiated::Echo(v) | Negotiated::Counter(v) => v,
        }
    }
}

/// Negotiates the protocol version per the spec: echo a supported version, otherwise
/// answer with the newest supported one. A malformed version string (not `YYYY-MM-DD`)
/// is -32602 with `data: {supported, requested}`.
pub fn negotiate(
    requested: &str,
    supported: &[ProtocolVersion],
) -> Result<Negotiated, ErrorObject> {
    if !is_version_shaped(requested) {
        return Err(ErrorObject::new(
            ErrorCode::INVALID_PARAMS,
            "unsupported or malformed protocol version",
        )
        .with_data(json!({
            "supported": supported.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
            "requested": requested,
        })));
    }
    if let Some(v) = supported.iter().copied().find(|v| v.as_str() == requested) {
        return Ok(Negotiated::Echo(v));
    }
    let newest = supported
        .iter()
        .copied()
        .max_by_key(|v| v.as_str())
        .unwrap_or(erlmcp_codec::schema::versions::LATEST_HANDSHAKE);
    Ok(Negotiated::Counter(newest))
}

/// `YYYY-MM-DD` with plausible month and day.
fn is_version_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let month = (b[5] - b'0') * 10 + (b[6] - b'0');
    let day = (b[8] - b'0') * 10 + (b[9] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORTED: &[ProtocolVersion] = &[
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
    ];

    #[test]
    fn echoes_supported_versions() {
        for v in SUPPORTED {
            assert_eq!(negotiate(v.as_str(), SUPPORTED), Ok(Negotiated::Echo(*v)));
        }
    }

    #[test]
    fn counters_unknown_well_formed_versions_with_newest() {
        for requested in ["2030-01-01", "2024-01-01", "2026-07-28"] {
            assert_eq!(
                negotiate(requested, SUPPORTED),
                Ok(Negotiated::Counter(ProtocolVersion::V2025_11_25))
            );
        }
    }

    #[test]
    fn malformed_versions_are_invalid_params_with_data() {
        for requested in [
            "",
            "latest",
            "2025-13-01",
            "2025-11-25x",
            "2025/11/25",
            "２０２５-11-25",
        ] {
            let err = negotiate(requested, SUPPORTED).unwrap_err();
            assert_eq!(err.code, ErrorCode::INVALID_PARAMS);
            let data = err.data.unwrap();
            assert_eq!(data["requested"], requested);
            assert_eq!(data["supported"].as_array().unwrap().len(), 4);
        }
    }
}
