//! Basic building blocks shared by every spec area: `_meta`, [`Implementation`],
//! [`BaseMetadata`], [`Icon`], [`Annotations`], [`Role`], request ids and progress tokens,
//! cursors, and the generic result shapes ([`EmptyResult`], [`PaginatedResult`]) and
//! generic parameter shapes ([`RequestParams`], [`NotificationParams`],
//! [`PaginatedRequestParams`]).
//!
//! ## Conventions used by every type in [`crate::schema`]
//! - Field names are snake_case in Rust and camelCase on the wire.
//! - Optional fields are `Option<T>` and are omitted when `None`.
//! - `_meta` is an explicit `meta: Option<Meta>` field wherever the schema has it.
//! - Unknown members are kept in `extra` and written back unchanged, so a value that goes
//!   through these types comes out as the same JSON (`serde_json::Value` equality).
//! - JSON numbers typed `number` in the schema are kept as [`serde_json::Number`] so that
//!   `50` and `50.0` both come back exactly as they were sent; use [`json_number`] to make
//!   one from an `f64`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

pub use crate::jsonrpc::RequestId;

/// The `_meta` object: reserved metadata attached to requests, results, notifications
/// and many data types. Keys are free-form; `progressToken` is the one the protocol
/// itself reads (see [`progress_token`]).
pub type Meta = Map<String, Value>;

/// A free-form JSON object, used for open capability objects (`{}` with
/// `additionalProperties: true`), tool arguments and JSON Schema documents.
pub type JsonObject = Map<String, Value>;

/// An opaque pagination position: pass a result's `nextCursor` back as `cursor`.
pub type Cursor = String;

/// A progress token (a string or an integer), chosen by the requester and echoed in
/// every `notifications/progress` for that request. Same shape as a request id.
pub type ProgressToken = RequestId;

/// The `_meta` key under which a request carries its progress token.
pub const PROGRESS_TOKEN_META_KEY: &str = "progressToken";

/// Reads `_meta.progressToken` out of a request's `_meta`, if present and well-formed.
pub fn progress_token(meta: Option<&Meta>) -> Option<ProgressToken> {
    meta?
        .get(PROGRESS_TOKEN_META_KEY)
        .and_then(RequestId::from_value)
}

/// Makes a JSON number from an `f64`: integral values become JSON integers (as a
/// JavaScript peer would write them), other finite values stay floats, and non-finite
/// values (which JSON cannot carry) become `0`.
pub fn json_number(value: f64) -> Number {
    const MAX_SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() <= MAX_SAFE {
        // In range and integral: the cast is exact.
        return Number::from(value as i64);
    }
    Number::from_f64(value).unwrap_or_else(|| Number::from(0))
}

/// Defines a zero-sized type that (de)serialises as one fixed string: the `const`
/// discriminators of the schema (`"type": "string"`, `"mode": "url"`, `"type": "ref/prompt"`).
macro_rules! const_tag {
    ($(#[$attr:meta])* $name:ident = $value:literal) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The string this tag stands for on the wire.
            pub const VALUE: &'static str = $value;
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($value)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                if s == $value {
                    Ok($name)
                } else {
                    Err(<D::Error as ::serde::de::Error>::invalid_value(
                        ::serde::de::Unexpected::Str(&s),
                        &$value,
                    ))
                }
            }
        }
    };
}
pub(crate) use const_tag;

/// The sender or recipient of messages and data in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human side of the conversation.
    User,
    /// The model side of the conversation.
    Assistant,
}

/// Base shape for anything with a programmatic `name` and a display `title`.
///
/// Rust types with these fields (tools, prompts, resources, implementations) carry them
/// directly rather than embedding this struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseMetadata {
    /// Programmatic identifier (also the display fallback when `title` is absent).
    pub name: String,
    /// Human-readable display name (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The background an [`Icon`] is designed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IconTheme {
    /// For light backgrounds.
    Light,
    /// For dark backgrounds.
    Dark,
}

/// An optionally sized icon a user interface can display (2025-11-25 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// URI of the icon: an `https:` URL or a `data:` URI.
    pub src: String,
    /// MIME type override, e.g. `image/png`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes the icon can be used at, `WxH` or `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// The background the icon is designed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Icon {
    /// An icon with just a source URI.
    pub fn new(src: impl Into<String>) -> Self {
        Icon {
            src: src.into(),
            mime_type: None,
            sizes: None,
            theme: None,
            extra: Map::new(),
        }
    }
}

/// Base shape for anything that carries `icons` (2025-11-25 and later).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icons {
    /// The icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Name and version of an MCP implementation (`clientInfo` / `serverInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Display name (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Version string.
    pub version: String,
    /// What this implementation does (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Website of the implementation (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Implementation {
    /// An implementation with a name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Implementation {
            name: name.into(),
            title: None,
            version: version.into(),
            description: None,
            icons: None,
            website_url: None,
            extra: Map::new(),
        }
    }

    /// Sets the display title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// Hints to the client about how an object or piece of data is used or displayed.
///
/// 2024-11-05 carried `audience` and `priority` (as `Annotated.annotations`);
/// `lastModified` was added in 2025-06-18.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Who the data is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// Importance from 0 (optional) to 1 (effectively required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Number>,
    /// ISO 8601 time of the last modification (2025-06-18 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of a request that has nothing but `_meta` (e.g. `ping`, `roots/list`).
/// Absent `params` are equivalent to `RequestParams::default()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParams {
    /// Request metadata; `progressToken` asks for progress notifications.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of a notification that has nothing but `_meta` (e.g. the `list_changed`
/// notifications and `notifications/initialized`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parameters of a paginated list request (`tools/list`, `resources/list`, …).
/// Absent `params` are equivalent to `PaginatedRequestParams::default()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Where to continue; `None` for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PaginatedRequestParams {
    /// Parameters asking for the page at `cursor`.
    pub fn at(cursor: impl Into<Cursor>) -> Self {
        PaginatedRequestParams {
            cursor: Some(cursor.into()),
            ..Default::default()
        }
    }
}

/// Base shape of a paginated result: `nextCursor` and `_meta`. The concrete list
/// results ([`ListToolsResult`](super::ListToolsResult), …) repeat these fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Present when more results exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A result with no fields of its own (`ping`, `resources/subscribe`,
/// `logging/setLevel`, …). Also the shape of the schema's generic `Result`: any other
/// members are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmptyResult {
    /// The empty result `{}`.
    pub fn new() -> Self {
        EmptyResult::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_number_keeps_integers_integral() {
        assert_eq!(Value::from(json_number(50.0)), serde_json::json!(50));
        assert_eq!(Value::from(json_number(0.5)), serde_json::json!(0.5));
        assert_eq!(Value::from(json_number(f64::NAN)), serde_json::json!(0));
    }

    #[test]
    fn progress_token_reads_meta() {
        let mut meta = Meta::new();
        meta.insert("progressToken".into(), Value::from("abc"));
        assert_eq!(progress_token(Some(&meta)), Some(RequestId::from("abc")));
        assert_eq!(progress_token(None), None);
    }
}
