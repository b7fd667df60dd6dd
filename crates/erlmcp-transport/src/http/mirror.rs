//! Request metadata headers of MCP 2026-07-28 Streamable HTTP: body fields mirrored into
//! HTTP headers so that intermediaries can route without parsing the body.
//!
//! - `Mcp-Method` mirrors `method` (every request); `Mcp-Name` mirrors `params.name`
//!   (`tools/call`, `prompts/get`), `params.uri` (`resources/read`) or `params.taskId`
//!   (`tasks/get`, `tasks/update`, `tasks/cancel`, from the tasks extension).
//! - `Mcp-Param-{token}` mirrors a `tools/call` argument whose property in the tool's
//!   `inputSchema` carries `"x-mcp-header": "{token}"` ([`param_headers`]).
//! - A value that is not plain printable ASCII without edge whitespace (or that looks like
//!   the sentinel itself) travels as `=?base64?{standard Base64 of its UTF-8}?=`
//!   ([`encode_value`], [`decode_value`]). The markers are case-sensitive.
//!
//! Both ends use this module: the server compares headers with the body, the client
//! writes them. Everything here is pure.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// The header mirroring the JSON-RPC method.
pub const MCP_METHOD: &str = "mcp-method";
/// The header mirroring the request's name-shaped parameter.
pub const MCP_NAME: &str = "mcp-name";
/// The prefix of the headers mirroring annotated tool arguments.
pub const MCP_PARAM_PREFIX: &str = "mcp-param-";
/// The schema annotation naming an argument's `Mcp-Param-*` header.
pub const X_MCP_HEADER: &str = "x-mcp-header";

const SENTINEL_START: &str = "=?base64?";
const SENTINEL_END: &str = "?=";

/// JavaScript's safe integer bound (2^53 − 1): mirrored integers must stay within it.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The body field `Mcp-Name` mirrors for `method`, if it has one.
pub fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// The header value for `value`: itself when it is printable ASCII without leading or
/// trailing whitespace and does not look like the sentinel, else the Base64 sentinel form.
pub fn encode_value(value: &str) -> String {
    let printable = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let edge = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    let looks_encoded = value.starts_with(SENTINEL_START) && value.ends_with(SENTINEL_END);
    if printable && !edge && !looks_encoded {
        value.to_owned()
    } else {
        format!(
            "{SENTINEL_START}{}{SENTINEL_END}",
            STANDARD.encode(value.as_bytes())
        )
    }
}

/// Why a header value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadHeaderValue {
    /// A byte outside visible ASCII, space and tab (the value should have been encoded).
    #[error("the value has bytes outside printable ASCII")]
    NotAscii,
    /// The sentinel's payload is not canonical, padded standard Base64.
    #[error("the Base64 payload is malformed")]
    Base64,
    /// The decoded payload is not UTF-8.
    #[error("the decoded value is not UTF-8")]
    Utf8,
}

/// Reads a header value: optional whitespace around it is dropped (RFC 9110 §5.5), then a
/// sentinel-wrapped value is decoded. A value without both markers is taken literally.
pub fn decode_value(raw: &[u8]) -> Result<String, BadHeaderValue> {
    let trimmed = trim_ows(raw);
    if !trimmed
        .iter()
        .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b))
    {
        return Err(BadHeaderValue::NotAscii);
    }
    // Visible ASCII only, so this cannot fail.
    let text = std::str::from_utf8(trimmed).map_err(|_| BadHeaderValue::NotAscii)?;
    let Some(payload) = text
        .strip_prefix(SENTINEL_START)
        .and_then(|rest| rest.strip_suffix(SENTINEL_END))
    else {
        return Ok(text.to_owned());
    };
    let bytes = STANDARD
        .decode(payload)
        .map_err(|_| BadHeaderValue::Base64)?;
    // The decoder accepts non-zero trailing bits; the encoder never writes them.
    if STANDARD.encode(&bytes) != payload {
        return Err(BadHeaderValue::Base64);
    }
    String::from_utf8(bytes).map_err(|_| BadHeaderValue::Utf8)
}

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// The JSON type of an annotated argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `"type": "string"`.
    String,
    /// `"type": "integer"` (compared numerically).
    Integer,
    /// `"type": "boolean"` (`true` / `false`).
    Boolean,
}

/// One `x-mcp-header` annotation of a tool's `inputSchema`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// The token: the header is `Mcp-Param-{token}`.
    pub token: String,
    /// The chain of `properties` keys from the schema root to the argument.
    pub path: Vec<String>,
    /// The argument's type.
    pub kind: ParamKind,
}

impl ParamHeader {
    /// The header name, lowercase (`mcp-param-{token}`).
    pub fn header_name(&self) -> String {
        format!("{MCP_PARAM_PREFIX}{}", self.token.to_ascii_lowercase())
    }

    /// The argument's value in `arguments`, if present and not `null`.
    pub fn value_in<'a>(&self, arguments: &'a Value) -> Option<&'a Value> {
        let mut node = arguments;
        for key in &self.path {
            node = node.as_object()?.get(key)?;
        }
        (!node.is_null()).then_some(node)
    }

    /// The header text for an argument value (before encoding); `None` if the value is
    /// not of a kind that can be mirrored.
    pub fn render(&self, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// True if the decoded header text agrees with the argument value. Integers compare
    /// numerically (`42` matches `42.0` either way round).
    pub fn matches(&self, value: &Value, decoded: &str) -> bool {
        if self.kind == ParamKind::Integer
            && let Some(body) = integral(value)
        {
            return parse_integral(decoded) == Some(body);
        }
        self.render(value).is_some_and(|r| r == decoded)
    }
}

/// An integral JSON number as `i128` (so `u64` and `-2^63` fit).
fn integral(value: &Value) -> Option<i128> {
    let n = value.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    let f = n.as_f64()?;
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() < 1e18).then_some(f as i128)
}

/// A canonical decimal (`-?digits(.digits)?`) whose fraction is all zeros, as an integer.
fn parse_integral(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty()
        || digits.len() > 30
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b == b'0')
        || (text.contains('.') && fraction.is_empty())
    {
        return None;
    }
    whole.parse().ok()
}

/// Why a tool's `x-mcp-header` annotations are invalid (the whole tool is then refused by
/// clients, and its annotations are not enforced by servers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAnnotation {
    /// An annotation sits where no chain of `properties` keys from the root leads.
    #[error("x-mcp-header on a position not reachable through `properties` only")]
    Unreachable,
    /// The annotation is not a string or not an RFC 9110 token.
    #[error("x-mcp-header on {path:?} is not an HTTP token")]
    NotToken {
        /// The property path.
        path: String,
    },
    /// The annotated property is not a string, integer or boolean.
    #[error("x-mcp-header on {path:?} is on a property that is not string, integer or boolean")]
    NotPrimitive {
        /// The property path.
        path: String,
    },
    /// Two annotations use the same token (case-insensitively).
    #[error("x-mcp-header token {token:?} is used twice")]
    Duplicate {
        /// The token.
        token: String,
    },
}

/// Keywords whose values are subschemas off the pure-`properties` chain.
const SUBSCHEMA_ONE: &[&str] = &[
    "items",
    "contains",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
];
const SUBSCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAP: &[&str] = &[
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];

/// Deepest schema nesting walked; deeper schemas are refused as unreachable rather than
/// walked without bound.
const MAX_SCHEMA_DEPTH: usize = 64;

/// The `x-mcp-header` annotations of an `inputSchema`, validated: each on a property
/// reachable from the root through `properties` keys only, a token, on a string, integer
/// or boolean property, and unique ignoring case.
pub fn param_headers(input_schema: &Value) -> Result<Vec<ParamHeader>, InvalidAnnotation> {
    let mut found = Vec::new();
    // (path, schema); a `None` path: reached through a keyword other than `properties`.
    let mut stack: Vec<(Option<Vec<String>>, &Value, usize)> =
        vec![(Some(Vec::new()), input_schema, 0)];
    while let Some((path, node, depth)) = stack.pop() {
        let Some(schema) = node.as_object() else {
            continue;
        };
        if depth > MAX_SCHEMA_DEPTH {
            return Err(InvalidAnnotation::Unreachable);
        }
        if let Some(annotation) = schema.get(X_MCP_HEADER) {
            let path = match &path {
                Some(p) if !p.is_empty() => p.clone(),
                _ => return Err(InvalidAnnotation::Unreachable),
            };
            let shown = path.join(".");
            let token = annotation
                .as_str()
                .filter(|t| !t.is_empty() && t.bytes().all(is_tchar))
                .ok_or_else(|| InvalidAnnotation::NotToken {
                    path: shown.clone(),
                })?;
            let kind = match schema.get("type").and_then(Value::as_str) {
                Some("string") => ParamKind::String,
                Some("integer") => ParamKind::Integer,
                Some("boolean") => ParamKind::Boolean,
                _ => return Err(InvalidAnnotation::NotPrimitive { path: shown }),
            };
            found.push(ParamHeader {
                token: token.to_owned(),
                path,
                kind,
            });
        }
        for (keyword, value) in schema {
            let keyword = keyword.as_str();
            if keyword == "properties"
                && let Some(properties) = value.as_object()
            {
                for (name, sub) in properties {
                    let sub_path = path.as_ref().map(|p| {
                        let mut p = p.clone();
                        p.push(name.clone());
                        p
                    });
                    stack.push((sub_path, sub, depth + 1));
                }
            } else if SUBSCHEMA_ONE.contains(&keyword) {
                stack.push((None, value, depth + 1));
            } else if SUBSCHEMA_LIST.contains(&keyword) {
                if let Some(list) = value.as_array() {
                    stack.extend(list.iter().map(|sub| (None, sub, depth + 1)));
                }
            } else if SUBSCHEMA_MAP.contains(&keyword)
                && let Some(map) = value.as_object()
            {
                stack.extend(map.values().map(|sub| (None, sub, depth + 1)));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for header in &found {
        if !seen.insert(header.token.to_ascii_lowercase()) {
            return Err(InvalidAnnotation::Duplicate {
                token: header.token.clone(),
            });
        }
    }
    Ok(found)
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The `Mcp-Param-*` headers (name, encoded value) a `tools/call` with `arguments` sends.
/// Values that cannot be mirrored (objects, arrays, integers past 2^53) are left out.
pub fn param_header_values(headers: &[ParamHeader], arguments: &Value) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|h| {
            let value = h.value_in(arguments)?;
            if h.kind == ParamKind::Integer
                && integral(value).is_some_and(|i| i.abs() > i128::from(MAX_SAFE_INTEGER))
            {
                return None;
            }
            let rendered = h.render(value)?;
            Some((format!("Mcp-Param-{}", h.token), encode_value(&rendered)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encoding_follows_the_spec_examples() {
        assert_eq!(encode_value("us-west1"), "us-west1");
        assert_eq!(
            encode_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(encode_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(encode_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(
            encode_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
        for original in [
            "us-west1",
            "Hello, 世界",
            " padded ",
            "line1\nline2",
            "=?base64?literal?=",
        ] {
            assert_eq!(
                decode_value(encode_value(original).as_bytes()).as_deref(),
                Ok(original)
            );
        }
    }

    #[test]
    fn decoding_is_strict_about_the_payload_and_literal_without_both_markers() {
        assert_eq!(
            decode_value(b"  get_weather \t").as_deref(),
            Ok("get_weather")
        );
        assert_eq!(
            decode_value(b"=?base64?SGVsbG8?=").unwrap_err(),
            BadHeaderValue::Base64
        );
        assert_eq!(
            decode_value(b"=?base64?SGVs!!!bG8=?=").unwrap_err(),
            BadHeaderValue::Base64
        );
        // Non-zero trailing bits: "SGVsbG9=" decodes, but is not what an encoder writes.
        assert_eq!(
            decode_value(b"=?base64?SGVsbG9=?=").unwrap_err(),
            BadHeaderValue::Base64
        );
        assert_eq!(
            decode_value(b"=?base64?/w==?=").unwrap_err(),
            BadHeaderValue::Utf8
        );
        assert_eq!(decode_value(b"SGVsbG8=").as_deref(), Ok("SGVsbG8="));
        assert_eq!(
            decode_value(b"=?base64?SGVsbG8=").as_deref(),
            Ok("=?base64?SGVsbG8=")
        );
        assert_eq!(
            decode_value(b"=?BASE64?SGVsbG8=?=").as_deref(),
            Ok("=?BASE64?SGVsbG8=?=")
        );
        assert_eq!(
            decode_value("caf\u{e9}".as_bytes()).unwrap_err(),
            BadHeaderValue::NotAscii
        );
    }

    #[test]
    fn name_fields() {
        assert_eq!(name_field("tools/call"), Some("name"));
        assert_eq!(name_field("prompts/get"), Some("name"));
        assert_eq!(name_field("resources/read"), Some("uri"));
        assert_eq!(name_field("tasks/get"), Some("taskId"));
        assert_eq!(name_field("tools/list"), None);
    }

    #[test]
    fn annotations_are_found_on_the_properties_chain_only() {
        let schema = json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "query": {"type": "string"},
                "opts": {"type": "object", "properties": {
                    "shard": {"type": "integer", "x-mcp-header": "Shard"},
                    "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"}
                }}
            }
        });
        let mut found = param_headers(&schema).unwrap();
        found.sort_by(|a, b| a.token.cmp(&b.token));
        let tokens: Vec<_> = found
            .iter()
            .map(|h| (h.token.as_str(), h.path.join("."), h.kind))
            .collect();
        assert_eq!(
            tokens,
            [
                ("Dry-Run", "opts.dry".to_owned(), ParamKind::Boolean),
                ("Region", "region".to_owned(), ParamKind::String),
                ("Shard", "opts.shard".to_owned(), ParamKind::Integer),
            ]
        );
        let args = json!({"region": "us-west1", "opts": {"shard": 7, "dry": false}, "query": "x"});
        let mut headers = param_header_values(&found, &args);
        headers.sort();
        assert_eq!(
            headers,
            [
                ("Mcp-Param-Dry-Run".to_owned(), "false".to_owned()),
                ("Mcp-Param-Region".to_owned(), "us-west1".to_owned()),
                ("Mcp-Param-Shard".to_owned(), "7".to_owned()),
            ]
        );
        assert!(param_header_values(&found, &json!({"region": null})).is_empty());
    }

    #[test]
    fn invalid_annotations_are_refused() {
        let bad = |schema: Value| param_headers(&schema).unwrap_err();
        assert_eq!(
            bad(
                json!({"properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}})
            ),
            InvalidAnnotation::Unreachable
        );
        assert_eq!(
            bad(json!({"x-mcp-header": "Root", "type": "string"})),
            InvalidAnnotation::Unreachable
        );
        assert_eq!(
            bad(json!({"anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]})),
            InvalidAnnotation::Unreachable
        );
        assert!(matches!(
            bad(json!({"properties": {"a": {"type": "string", "x-mcp-header": "has space"}}})),
            InvalidAnnotation::NotToken { .. }
        ));
        assert!(matches!(
            bad(json!({"properties": {"a": {"type": "string", "x-mcp-header": ""}}})),
            InvalidAnnotation::NotToken { .. }
        ));
        assert!(matches!(
            bad(json!({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}})),
            InvalidAnnotation::NotPrimitive { .. }
        ));
        assert!(matches!(
            bad(json!({"properties": {
                "a": {"type": "string", "x-mcp-header": "Tenant"},
                "b": {"type": "string", "x-mcp-header": "tenant"}
            }})),
            InvalidAnnotation::Duplicate { .. }
        ));
    }

    #[test]
    fn values_compare_by_kind() {
        let int = ParamHeader {
            token: "N".into(),
            path: vec!["n".into()],
            kind: ParamKind::Integer,
        };
        assert!(int.matches(&json!(42), "42"));
        assert!(int.matches(&json!(42), "42.0"));
        assert!(int.matches(&json!(42.0), "42"));
        assert!(!int.matches(&json!(42), "42.5"));
        assert!(!int.matches(&json!(42), "4e1"));
        assert!(!int.matches(&json!(42), "42."));
        assert!(int.matches(&json!(-7), "-7"));
        let flag = ParamHeader {
            token: "F".into(),
            path: vec!["f".into()],
            kind: ParamKind::Boolean,
        };
        assert!(flag.matches(&json!(true), "true"));
        assert!(!flag.matches(&json!(true), "True"));
        let text = ParamHeader {
            token: "T".into(),
            path: vec!["t".into()],
            kind: ParamKind::String,
        };
        assert!(text.matches(&json!("Hello"), "Hello"));
        assert!(!text.matches(&json!("Hello"), "hello"));
        assert!(!text.matches(&json!({"a": 1}), "{}"));
    }
}
