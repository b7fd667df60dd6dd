//! The validation ladder of a 2026-07-28 request's self-description, first failure wins:
//!
//! 1. `params._meta` is an object holding `io.modelcontextprotocol/protocolVersion` and
//!    `io.modelcontextprotocol/clientCapabilities` → else -32602 naming what is missing;
//! 2. when the transport claimed values in headers (HTTP), they equal the body's version,
//!    method and name → else -32020 (checked before the version, so a client that
//!    disagrees with itself is told that rather than "unsupported");
//! 3. the version is a string → else -32602; and one this server speaks → else -32022
//!    with `data.supported` and `data.requested`;
//! 4. the capabilities, client info and log level have their schema shapes → else -32602.

use erlmcp_codec::schema::modern::{
    CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY, RequestMeta,
};
use erlmcp_codec::schema::{ProtocolVersion, methods};
use erlmcp_codec::{ErrorCode, ErrorObject};
use serde_json::{Value, json};

/// What an HTTP transport read from the request's headers (`MCP-Protocol-Version`,
/// `Mcp-Method`, `Mcp-Name`, already decoded from their Base64 form). `None` means the
/// transport has no such header to compare (stdio, TCP, memory) — not "header missing":
/// a transport that requires a header checks its presence itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimedHeaders {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name`: the tool or prompt name, or the resource URI.
    pub name: Option<String>,
}

/// Why a modern request's self-description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// `params` or `params._meta` is not an object, or a required key is missing (-32602).
    #[error("params._meta is missing the required key(s): {}", .missing.join(", "))]
    Missing {
        /// The keys (or `params._meta` itself) that are missing.
        missing: Vec<&'static str>,
    },
    /// A header the transport read disagrees with the body (-32020).
    #[error("the {header} header does not match the request body")]
    HeaderMismatch {
        /// The header's name.
        header: &'static str,
    },
    /// The protocol version is not a string (-32602).
    #[error("io.modelcontextprotocol/protocolVersion must be a string")]
    VersionNotString,
    /// The protocol version is not one this server speaks statelessly (-32022).
    #[error("unsupported protocol version {requested}")]
    UnsupportedVersion {
        /// The version asked for.
        requested: String,
    },
    /// A reserved key does not have its schema shape (-32602).
    #[error("params._meta is malformed: {0}")]
    Malformed(String),
}

impl MetaError {
    /// The JSON-RPC error sent for this refusal; `supported` lists the modern versions.
    pub fn to_error_object(&self, supported: &[ProtocolVersion]) -> ErrorObject {
        let message = self.to_string();
        match self {
            MetaError::HeaderMismatch { header } => {
                ErrorObject::new(ErrorCode::HEADER_MISMATCH, message)
                    .with_data(json!({ "header": header }))
            }
            MetaError::UnsupportedVersion { requested } => {
                unsupported_version(requested, supported)
            }
            MetaError::Missing { .. } | MetaError::VersionNotString | MetaError::Malformed(_) => {
                ErrorObject::new(ErrorCode::INVALID_PARAMS, message)
            }
        }
    }
}

/// -32022 naming the versions served and the one requested.
pub fn unsupported_version(requested: &str, supported: &[ProtocolVersion]) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
    )
    .with_data(json!({
        "supported": supported.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "requested": requested,
    }))
}

/// True when `params._meta` carries the modern protocol-version key: the signal that a
/// request means to be handled statelessly (legacy requests may carry `_meta` too, with
/// `progressToken`, but never this reserved key).
pub fn has_modern_envelope(params: Option<&Value>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(PROTOCOL_VERSION_META_KEY))
}

/// The body parameter `Mcp-Name` mirrors for `method`, if any.
fn name_param(method: &str) -> Option<&'static str> {
    match method {
        methods::TOOLS_CALL | methods::PROMPTS_GET => Some("name"),
        methods::RESOURCES_READ => Some("uri"),
        _ => None,
    }
}

/// Runs the ladder over one request's `method` and `params`.
pub fn validate(
    method: &str,
    params: Option<&Value>,
    claimed: &ClaimedHeaders,
    supported: &[ProtocolVersion],
) -> Result<(RequestMeta, ProtocolVersion), MetaError> {
    let Some(meta) = params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
    else {
        return Err(MetaError::Missing {
            missing: vec!["params._meta"],
        });
    };
    let missing: Vec<&'static str> = [PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY]
        .into_iter()
        .filter(|k| !meta.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(MetaError::Missing { missing });
    }
    let version = &meta[PROTOCOL_VERSION_META_KEY];
    if let Some(header) = &claimed.protocol_version
        && version.as_str() != Some(header.as_str())
    {
        return Err(MetaError::HeaderMismatch {
            header: "MCP-Protocol-Version",
        });
    }
    if let Some(header) = &claimed.method
        && header != method
    {
        return Err(MetaError::HeaderMismatch {
            header: "Mcp-Method",
        });
    }
    if let (Some(header), Some(key)) = (&claimed.name, name_param(method)) {
        let body = params.and_then(|p| p.get(key)).and_then(Value::as_str);
        if body != Some(header.as_str()) {
            return Err(MetaError::HeaderMismatch { header: "Mcp-Name" });
        }
    }
    let Some(requested) = version.as_str() else {
        return Err(MetaError::VersionNotString);
    };
    let Some(version) = supported.iter().copied().find(|v| v.as_str() == requested) else {
        return Err(MetaError::UnsupportedVersion {
            requested: requested.to_owned(),
        });
    };
    let parsed: RequestMeta = serde_json::from_value(Value::Object(meta.clone()))
        .map_err(|e| MetaError::Malformed(e.to_string()))?;
    Ok((parsed, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODERN: &[ProtocolVersion] = &[ProtocolVersion::V2026_07_28];

    fn params(meta: Value) -> Value {
        json!({"_meta": meta, "name": "echo"})
    }

    fn code(e: MetaError) -> i32 {
        e.to_error_object(MODERN).code.code()
    }

    #[test]
    fn ladder_order_and_codes() {
        let none = ClaimedHeaders::default();
        let ok = params(json!({
            PROTOCOL_VERSION_META_KEY: "2026-07-28",
            CLIENT_CAPABILITIES_META_KEY: {},
        }));
        let (meta, v) = validate("tools/call", Some(&ok), &none, MODERN).expect("valid");
        assert_eq!(v, ProtocolVersion::V2026_07_28);
        assert_eq!(meta.log_level, None);

        let no_meta = json!({"name": "echo"});
        assert_eq!(
            code(validate("tools/call", Some(&no_meta), &none, MODERN).unwrap_err()),
            -32602
        );
        let no_caps = params(json!({PROTOCOL_VERSION_META_KEY: "2026-07-28"}));
        let err = validate("tools/call", Some(&no_caps), &none, MODERN).unwrap_err();
        assert_eq!(
            err,
            MetaError::Missing {
                missing: vec![CLIENT_CAPABILITIES_META_KEY]
            }
        );
        let old = params(json!({
            PROTOCOL_VERSION_META_KEY: "1900-01-01",
            CLIENT_CAPABILITIES_META_KEY: {},
        }));
        let err = validate("tools/call", Some(&old), &none, MODERN).unwrap_err();
        let obj = err.to_error_object(MODERN);
        assert_eq!(obj.code.code(), -32022);
        assert_eq!(
            obj.data,
            Some(json!({"supported": ["2026-07-28"], "requested": "1900-01-01"}))
        );
        // The header rung runs before the version rung.
        let claimed = ClaimedHeaders {
            protocol_version: Some("2026-07-28".into()),
            ..ClaimedHeaders::default()
        };
        assert_eq!(
            code(validate("tools/call", Some(&old), &claimed, MODERN).unwrap_err()),
            -32020
        );
        let wrong_name = ClaimedHeaders {
            name: Some("other".into()),
            ..ClaimedHeaders::default()
        };
        assert_eq!(
            code(validate("tools/call", Some(&ok), &wrong_name, MODERN).unwrap_err()),
            -32020
        );
        let number = params(json!({
            PROTOCOL_VERSION_META_KEY: 20260728,
            CLIENT_CAPABILITIES_META_KEY: {},
        }));
        assert_eq!(
            validate("tools/call", Some(&number), &none, MODERN).unwrap_err(),
            MetaError::VersionNotString
        );
        let bad_caps = params(json!({
            PROTOCOL_VERSION_META_KEY: "2026-07-28",
            CLIENT_CAPABILITIES_META_KEY: "all",
        }));
        assert!(matches!(
            validate("tools/call", Some(&bad_caps), &none, MODERN).unwrap_err(),
            MetaError::Malformed(_)
        ));
    }

    #[test]
    fn envelope_detection() {
        assert!(has_modern_envelope(Some(
            &json!({"_meta": {PROTOCOL_VERSION_META_KEY: "x"}})
        )));
        assert!(!has_modern_envelope(Some(
            &json!({"_meta": {"progressToken": 1}})
        )));
        assert!(!has_modern_envelope(None));
    }
}
