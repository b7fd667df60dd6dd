//! The server's HTTP rules for MCP 2026-07-28 (stateless) requests: which POSTs belong to
//! that era, the check of the mirrored headers against the body (-32020 `HeaderMismatch`,
//! HTTP 400), and the HTTP status of an answer.
//!
//! ## Era of a POST
//! `initialize` opens a handshake-era session unless its `_meta` carries the per-request
//! keys (a modern client's `initialize` gets 404 and -32601: the method does not exist in
//! 2026-07-28). A POST carrying `Mcp-Session-Id` belongs to its session unless its
//! `_meta` says otherwise. A sessionless request is modern when its `params._meta` carries one of
//! the per-request keys (`io.modelcontextprotocol/protocolVersion`, `clientCapabilities`,
//! `clientInfo`), when it is `server/discover`, or when its `MCP-Protocol-Version` names
//! no handshake-era version. A modern-only deployment takes every POST as modern.
//!
//! ## Header checks, in order; the first failure answers
//! 1. `params._meta` without `io.modelcontextprotocol/protocolVersion` or
//!    `clientCapabilities`: no header check; the engine refuses the envelope (-32602,
//!    HTTP 400).
//! 2. `MCP-Protocol-Version` present once and equal to the `_meta` version.
//! 3. `Mcp-Method` present once and equal to `method` (values are case-sensitive).
//! 4. `Mcp-Name`, for methods with a name-shaped parameter
//!    ([`name_field`](super::mirror::name_field)) that the body carries: present once and
//!    equal after Base64 decoding.
//! 5. `Mcp-Param-*`, for `tools/call` of a tool whose schema annotates arguments: each
//!    annotated argument present in the body has its header (once), equal after decoding
//!    (integers numerically); a header whose argument is absent is refused too. Other
//!    `Mcp-Param-*` headers are ignored.
//!
//! Optional whitespace around a header value is not part of it (RFC 9110 §5.5).

use std::sync::Arc;

use erlmcp_codec::ErrorCode;
use hyper::StatusCode;
use hyper::header::HeaderMap;
use serde_json::Value;

use crate::http::mirror::{self, BadHeaderValue, MCP_METHOD, MCP_NAME, ParamHeader};
use crate::http::server::MCP_PROTOCOL_VERSION;

/// `HeaderMismatch`: the HTTP headers do not match the body, or a required one is missing
/// or malformed.
pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
/// `MissingRequiredClientCapability`.
pub const MISSING_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
/// `UnsupportedProtocolVersion`.
pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);

/// The `_meta` key carrying a modern request's protocol version.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key carrying a modern request's client capabilities.
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The `_meta` key carrying a modern request's client identity.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";

/// The request that asks a modern server what it supports.
pub const DISCOVER: &str = "server/discover";

/// Where a server finds the `x-mcp-header` annotations of its tools, to check the
/// `Mcp-Param-*` headers of `tools/call` requests. The HTTP layer knows no tools; the
/// facade answers from the server's tool registry.
pub trait ParamHeaderSource: Send + Sync + 'static {
    /// The validated annotations of the tool `name`'s `inputSchema`: `None` when there is
    /// no such tool or its annotations are invalid (then nothing is enforced, as clients
    /// drop such tools), an empty list when it annotates nothing.
    fn param_headers(&self, tool: &str) -> Option<Arc<[ParamHeader]>>;
}

/// The `_meta` object of `params`, if any.
fn meta(params: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
    params?.get("_meta")?.as_object()
}

/// True when `params._meta` carries one of the 2026-07-28 per-request keys.
pub(crate) fn has_modern_meta(params: Option<&Value>) -> bool {
    meta(params).is_some_and(|m| {
        [
            META_PROTOCOL_VERSION,
            META_CLIENT_CAPABILITIES,
            META_CLIENT_INFO,
        ]
        .iter()
        .any(|k| m.contains_key(*k))
    })
}

/// True when a sessionless POST belongs to the 2026-07-28 era (see the module doc).
pub(crate) fn is_modern(
    method: &str,
    params: Option<&Value>,
    version_header: Option<&[u8]>,
    handshake_versions: &[String],
) -> bool {
    if method == DISCOVER {
        return true;
    }
    if has_modern_meta(params) {
        return true;
    }
    version_header.is_some_and(|v| {
        let v = trim(v);
        !handshake_versions.iter().any(|h| h.as_bytes() == v)
    })
}

/// A request whose headers do not match its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderMismatch {
    /// A required header is absent.
    #[error("Header mismatch: required header {0} is missing")]
    Missing(String),
    /// A header the check reads appears more than once.
    #[error("Header mismatch: header {0} appears more than once")]
    Repeated(String),
    /// A header value has characters it may not carry, or a malformed Base64 sentinel.
    #[error("Header mismatch: header {header} is malformed ({why})")]
    Malformed {
        /// The header.
        header: String,
        /// What is wrong with it.
        why: BadHeaderValue,
    },
    /// A header's value differs from the body's.
    #[error(
        "Header mismatch: {header} header value {header_value:?} does not match body value {body_value:?}"
    )]
    Differs {
        /// The header.
        header: String,
        /// Its (decoded) value.
        header_value: String,
        /// The body's value.
        body_value: String,
    },
    /// A header mirrors an argument the body does not carry.
    #[error("Header mismatch: header {0} is present but the body has no such argument")]
    Unexpected(String),
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// The one value of header `name`: `Ok(None)` if absent, an error if repeated.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a [u8]>, HeaderMismatch> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(HeaderMismatch::Repeated(display_name(name)));
    }
    Ok(first.map(|v| v.as_bytes()))
}

fn required<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a [u8], HeaderMismatch> {
    single(headers, name)?.ok_or_else(|| HeaderMismatch::Missing(display_name(name)))
}

/// `mcp-param-region` → `Mcp-Param-Region`, for messages.
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
        .replace("Mcp-Protocol-Version", "MCP-Protocol-Version")
}

fn literal(value: &[u8]) -> String {
    String::from_utf8_lossy(trim(value)).into_owned()
}

/// Checks the mirrored headers of a modern request against its body (see the module doc).
/// `tool_headers` is what the server's [`ParamHeaderSource`] says about the called tool.
pub(crate) fn check_headers(
    headers: &HeaderMap,
    method: &str,
    params: Option<&Value>,
    tool_headers: Option<&[ParamHeader]>,
) -> Result<(), HeaderMismatch> {
    // An incomplete envelope is the engine's to refuse (-32602), before any header.
    let Some(body_version) = meta(params)
        .filter(|m| m.contains_key(META_CLIENT_CAPABILITIES))
        .and_then(|m| m.get(META_PROTOCOL_VERSION))
    else {
        return Ok(());
    };
    let header = required(headers, MCP_PROTOCOL_VERSION)?;
    if body_version.as_str().map(str::as_bytes) != Some(trim(header)) {
        return Err(HeaderMismatch::Differs {
            header: display_name(MCP_PROTOCOL_VERSION),
            header_value: literal(header),
            body_value: body_version.to_string(),
        });
    }
    let header = required(headers, MCP_METHOD)?;
    if trim(header) != method.as_bytes() {
        return Err(HeaderMismatch::Differs {
            header: display_name(MCP_METHOD),
            header_value: literal(header),
            body_value: method.to_owned(),
        });
    }
    if let Some(field) = mirror::name_field(method)
        && let Some(body_name) = params.and_then(|p| p.get(field)).and_then(Value::as_str)
    {
        let header = required(headers, MCP_NAME)?;
        let decoded = decode(MCP_NAME, header)?;
        if decoded != body_name {
            return Err(HeaderMismatch::Differs {
                header: display_name(MCP_NAME),
                header_value: decoded,
                body_value: body_name.to_owned(),
            });
        }
    }
    if let Some(annotated) = tool_headers {
        let no_arguments = Value::Null;
        let arguments = params
            .and_then(|p| p.get("arguments"))
            .unwrap_or(&no_arguments);
        for param in annotated {
            check_param(headers, param, arguments)?;
        }
    }
    Ok(())
}

fn decode(name: &str, value: &[u8]) -> Result<String, HeaderMismatch> {
    mirror::decode_value(value).map_err(|why| HeaderMismatch::Malformed {
        header: display_name(name),
        why,
    })
}

fn check_param(
    headers: &HeaderMap,
    param: &ParamHeader,
    arguments: &Value,
) -> Result<(), HeaderMismatch> {
    let name = param.header_name();
    let header = single(headers, &name)?;
    let value = param.value_in(arguments);
    match (value, header) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(HeaderMismatch::Unexpected(display_name(&name))),
        (Some(value), header) => {
            if param.render(value).is_none() {
                // Not mirrorable (an object where the schema says string): a conforming
                // client sends no header, so one that claims a value cannot match it.
                return match header {
                    None => Ok(()),
                    Some(_) => Err(HeaderMismatch::Unexpected(display_name(&name))),
                };
            }
            let header = header.ok_or_else(|| HeaderMismatch::Missing(display_name(&name)))?;
            let decoded = decode(&name, header)?;
            if param.matches(value, &decoded) {
                Ok(())
            } else {
                Err(HeaderMismatch::Differs {
                    header: display_name(&name),
                    header_value: decoded,
                    body_value: value.to_string(),
                })
            }
        }
    }
}

/// The HTTP status for a modern answer: 404 for an unknown method, 400 for malformed
/// requests, bad parameters and the 2026-07-28 negotiation errors, 200 for results and
/// every other error.
pub(crate) fn status_for_error(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::PARSE_ERROR
        | ErrorCode::INVALID_REQUEST
        | ErrorCode::INVALID_PARAMS
        | HEADER_MISMATCH
        | MISSING_CLIENT_CAPABILITY
        | UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn params(extra: Value) -> Value {
        let mut p =
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}}});
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        p
    }

    const HANDSHAKE: &[&str] = &["2025-06-18", "2025-11-25"];

    fn handshake() -> Vec<String> {
        HANDSHAKE.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn era_of_a_sessionless_post() {
        let hs = handshake();
        assert!(is_modern("tools/list", Some(&params(json!({}))), None, &hs));
        assert!(is_modern(DISCOVER, Some(&json!({})), None, &hs));
        assert!(is_modern("tools/list", None, Some(b"2026-07-28"), &hs));
        assert!(is_modern(
            "tools/list",
            Some(&json!({"_meta": {META_CLIENT_INFO: {}}})),
            Some(b"2025-11-25"),
            &hs
        ));
        assert!(!is_modern("tools/list", None, Some(b"2025-11-25"), &hs));
        assert!(!is_modern(
            "tools/list",
            Some(&json!({"_meta": {"progressToken": 1}})),
            None,
            &hs
        ));
    }

    #[test]
    fn standard_headers_must_match_the_body() {
        let p = params(json!({"name": "get_weather", "arguments": {}}));
        let ok = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get_weather"),
        ]);
        assert_eq!(check_headers(&ok, "tools/call", Some(&p), None), Ok(()));
        let check = |pairs: &[(&'static str, &str)]| {
            check_headers(&headers(pairs), "tools/call", Some(&p), None)
        };
        assert!(matches!(
            check(&[("mcp-method", "tools/call"), ("mcp-name", "get_weather")]),
            Err(HeaderMismatch::Missing(h)) if h == "MCP-Protocol-Version"
        ));
        assert!(matches!(
            check(&[
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "get_weather")
            ]),
            Err(HeaderMismatch::Differs { .. })
        ));
        assert!(matches!(
            check(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "TOOLS/CALL"),
                ("mcp-name", "get_weather")
            ]),
            Err(HeaderMismatch::Differs { .. })
        ));
        assert!(matches!(
            check(&[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call")]),
            Err(HeaderMismatch::Missing(h)) if h == "Mcp-Name"
        ));
        assert!(matches!(
            check(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "other")
            ]),
            Err(HeaderMismatch::Differs { .. })
        ));
        assert!(matches!(
            check(&[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "get_weather")
            ]),
            Err(HeaderMismatch::Repeated(_))
        ));
        // Base64 form of the name.
        let named = params(json!({"name": "wetter-künftig"}));
        let encoded = mirror::encode_value("wetter-künftig");
        let with = headers(&[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", &encoded),
        ]);
        assert_eq!(
            check_headers(&with, "tools/call", Some(&named), None),
            Ok(())
        );
        // No _meta version: the engine answers (-32602), not the header check.
        assert_eq!(
            check_headers(&HeaderMap::new(), "tools/list", Some(&json!({})), None),
            Ok(())
        );
    }

    #[test]
    fn param_headers_follow_the_annotations() {
        let annotated = mirror::param_headers(&json!({
            "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}
        }))
        .unwrap();
        let base = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "q"),
        ];
        let check = |args: Value, extra: &[(&'static str, &str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            check_headers(
                &headers(&pairs),
                "tools/call",
                Some(&params(json!({"name": "q", "arguments": args}))),
                Some(&annotated),
            )
        };
        assert_eq!(
            check(
                json!({"region": "us-west1"}),
                &[("mcp-param-region", "us-west1")]
            ),
            Ok(())
        );
        assert_eq!(
            check(
                json!({"region": "Hello"}),
                &[("Mcp-Param-Region", "=?base64?SGVsbG8=?=")]
            ),
            Ok(())
        );
        assert!(matches!(
            check(
                json!({"region": "Hello"}),
                &[("mcp-param-region", "=?base64?SGVsbG8?=")]
            ),
            Err(HeaderMismatch::Malformed { .. })
        ));
        assert!(matches!(
            check(json!({"region": "x"}), &[]),
            Err(HeaderMismatch::Missing(_))
        ));
        assert!(matches!(
            check(json!({}), &[("mcp-param-region", "x")]),
            Err(HeaderMismatch::Unexpected(_))
        ));
        assert_eq!(check(json!({"region": null}), &[]), Ok(()));
        assert!(matches!(
            check(json!({"region": "a"}), &[("mcp-param-region", "b")]),
            Err(HeaderMismatch::Differs { .. })
        ));
        // Unannotated Mcp-Param-* headers are someone else's.
        assert_eq!(
            check(
                json!({"region": "a"}),
                &[("mcp-param-region", "a"), ("mcp-param-other", "z")]
            ),
            Ok(())
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(
            status_for_error(ErrorCode::METHOD_NOT_FOUND),
            StatusCode::NOT_FOUND
        );
        assert_eq!(status_for_error(HEADER_MISMATCH), StatusCode::BAD_REQUEST);
        assert_eq!(
            status_for_error(UNSUPPORTED_PROTOCOL_VERSION),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_for_error(ErrorCode::INVALID_PARAMS),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_for_error(ErrorCode::INTERNAL_ERROR), StatusCode::OK);
    }
}
