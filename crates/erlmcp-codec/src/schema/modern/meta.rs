//! The reserved `_meta` keys of 2026-07-28. Every modern request describes itself in
//! its `_meta` (`RequestMetaObject`): the protocol version and client capabilities are
//! required, client info and log level optional. Results name the server
//! (`ResultMetaObject`), notifications delivered on a `subscriptions/listen` stream name
//! their subscription (`NotificationMetaObject`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::common::Implementation;
use crate::schema::common::{Meta, ProgressToken};
use crate::schema::lifecycle::ClientCapabilities;
use crate::schema::logging::LoggingLevel;

/// `_meta` key: the protocol version of this request (required on every request).
pub const PROTOCOL_VERSION_META_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key: the client's capabilities for this request (required).
pub const CLIENT_CAPABILITIES_META_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key: the client software (should be on every request).
pub const CLIENT_INFO_META_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key: the log level wanted for this request; absent means no
/// `notifications/message` at all for it.
pub const LOG_LEVEL_META_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key of results: the server software.
pub const SERVER_INFO_META_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// The identifier of the tasks extension (2026-07-28 form), declared under
/// `capabilities.extensions` by clients (per request) and servers (`server/discover`).
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// `_meta` key of notifications on a `subscriptions/listen` stream, and of the listen
/// result: the JSON-RPC id of the `subscriptions/listen` request.
pub const SUBSCRIPTION_ID_META_KEY: &str = "io.modelcontextprotocol/subscriptionId";

/// The `_meta` of a 2026-07-28 request (`RequestMetaObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// The protocol version used for this request.
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub protocol_version: String,
    /// The client's capabilities for this request; servers must not infer them from
    /// earlier requests.
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub client_capabilities: ClientCapabilities,
    /// The client software, self-reported (for display and logs only).
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_info: Option<Implementation>,
    /// The log level wanted for this request.
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub log_level: Option<LoggingLevel>,
    /// Out-of-band progress for this request.
    #[serde(
        rename = "progressToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_token: Option<ProgressToken>,
    /// Other keys, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RequestMeta {
    /// A request `_meta` for `version` with `capabilities`.
    pub fn new(version: impl Into<String>, capabilities: ClientCapabilities) -> Self {
        RequestMeta {
            protocol_version: version.into(),
            client_capabilities: capabilities,
            client_info: None,
            log_level: None,
            progress_token: None,
            extra: Map::new(),
        }
    }

    /// True when `meta` carries the modern protocol-version key: the request means to
    /// be handled statelessly.
    pub fn is_modern(meta: Option<&Meta>) -> bool {
        meta.is_some_and(|m| m.contains_key(PROTOCOL_VERSION_META_KEY))
    }
}
