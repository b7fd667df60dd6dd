//! `server/discover`: the server's versions, capabilities and instructions, asked for
//! without any handshake. Servers must implement it; clients may skip it and negotiate
//! inline through each request's `_meta`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::results::{CacheScope, ResultType};
use crate::schema::common::Meta;
use crate::schema::lifecycle::ServerCapabilities;

/// The result of `server/discover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// Always [`ResultType::Complete`] from a 2026-07-28 server.
    pub result_type: ResultType,
    /// The protocol versions the server speaks; the client picks one of them.
    pub supported_versions: Vec<String>,
    /// What the server offers.
    pub capabilities: ServerCapabilities,
    /// Guidance for the model using this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// How long the client may cache this result, in milliseconds.
    pub ttl_ms: u64,
    /// Who may reuse the cached result.
    pub cache_scope: CacheScope,
    /// Result metadata (`io.modelcontextprotocol/serverInfo`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Members not described by the schema, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
